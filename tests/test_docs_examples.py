"""Every code example in the guides works: the guides include these files
from ``docs/examples`` with ``literalinclude``, and here each one is imported
and its application exercised, under WSGI and ASGI where it serves HTTP."""

from __future__ import annotations

import importlib
import runpy
import sqlite3
import subprocess
import sys
import time
import types
import typing as t
import weakref
from pathlib import Path

import pytest
from blinker import NamedSignal
from werkzeug.test import Client, EnvironBuilder

import demijohn.signals
from demijohn import Demijohn
from demijohn.testing import DemijohnClient
from demijohn.testing_transport import WebsocketDenied, call_asgi_with_environ

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"

MakeClient = t.Callable[..., DemijohnClient]


def _demijohn_signals() -> list[NamedSignal]:
    return [s for s in vars(demijohn.signals).values() if isinstance(s, NamedSignal)]


@pytest.fixture
def examples(
    monkeypatch: pytest.MonkeyPatch,
) -> t.Iterator[t.Callable[[str], types.ModuleType]]:
    """Import an example module by name, as ``demijohn --app NAME`` would.

    Each test gets fresh modules, and the receivers the examples connect to
    demijohn's signals at import time are disconnected afterwards, so no
    example's state reaches another test.
    """
    monkeypatch.syspath_prepend(str(EXAMPLES))
    receivers_before = {s: set(s.receivers) for s in _demijohn_signals()}
    yield importlib.import_module
    for name, module in list(sys.modules.items()):
        if Path(getattr(module, "__file__", None) or "/").parent == EXAMPLES:
            del sys.modules[name]
    for signal, before in receivers_before.items():
        for key in set(signal.receivers) - before:
            receiver = signal.receivers[key]
            signal.disconnect(
                receiver() if isinstance(receiver, weakref.ref) else receiver
            )


def test_every_example_is_tested() -> None:
    source = Path(__file__).read_text("utf-8")
    untested = [
        path.stem
        for path in EXAMPLES.glob("*.py")
        if f'examples("{path.stem}")' not in source and path.stem != "testing_guide"
    ]
    assert not untested, f"docs examples without a test here: {untested}"


def test_every_example_is_shown_in_the_docs() -> None:
    pages = "".join(p.read_text("utf-8") for p in EXAMPLES.parent.glob("*.md"))
    unused = [
        path.name
        for path in EXAMPLES.glob("*.py")
        if f"examples/{path.name}" not in pages
    ]
    assert not unused, f"docs examples no page includes: {unused}"


# -- quickstart ---------------------------------------------------------------


def test_hello(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    assert make_client(examples("hello").app).get("/").json == {"hello": "world"}


def test_quickstart(
    examples: t.Callable[[str], types.ModuleType],
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quickstart = examples("quickstart")
    monkeypatch.setattr(quickstart, "USERS", dict(quickstart.USERS))
    client = make_client(quickstart.app)

    assert client.get("/?name=<b>").text == "<h1>Hello, &lt;b&gt;!</h1>"
    assert client.get("/users/1").json == {"id": 1, "name": "ada"}
    missing = client.get("/users/99")
    assert missing.status_code == 404
    assert missing.json == {"error": "not found"}

    created = client.post("/users", json={"name": "edsger"})
    assert created.status_code == 201
    assert created.headers["Location"] == "/users/3"
    assert client.get("/users/3").json == {"id": 3, "name": "edsger"}

    login = client.post("/login", data={"username": "ada"})
    assert login.status_code == 302
    assert login.headers["Location"] == "/"
    assert client.get("/me").json == {"user": "ada"}


# -- application factories ----------------------------------------------------


def test_factory_builds_independent_apps(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    factory = examples("factory")
    first = factory.create_app({"GREETING": "hey"})
    second = factory.create_app({"GREETING": "ho"})
    assert make_client(first).get("/").json == {"greeting": "hey"}
    assert make_client(second).get("/").json == {"greeting": "ho"}


def test_factory_reads_the_environment(
    examples: t.Callable[[str], types.ModuleType],
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEMIJOHN_GREETING", "bonjour")
    app = examples("factory").create_app()
    assert app.config["SECRET_KEY"] == "dev"
    assert make_client(app).get("/").json == {"greeting": "bonjour"}


# -- blueprints ---------------------------------------------------------------


def test_blueprints(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    client = make_client(examples("blueprints_guide").create_app())

    shop = client.get("/usd/shop/").json
    assert shop == {
        "currency": "usd",
        "links": ["/usd/shop/products/tea", "/usd/shop/products/coffee"],
    }
    # The same views under the second registration build their own URLs.
    outlet = client.get("/eur/outlet/").json
    assert outlet["links"][0] == "/eur/outlet/products/tea"

    assert client.get("/usd/shop/products/tea").json == {
        "name": "tea",
        "price": 3,
        "currency": "usd",
    }
    # The blueprint's handler answers the 404 its own view raised...
    unknown = client.get("/usd/shop/products/cake")
    assert (unknown.status_code, unknown.json) == (404, {"error": "no such product"})
    # ...but not a URL that matched no rule: that is the application's 404.
    no_rule = client.get("/usd/shop/nothing/here")
    assert no_rule.status_code == 404
    assert no_rule.json is None


def test_nested_blueprint_hooks(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    client = make_client(examples("blueprints_guide").create_app())
    assert client.get("/usd/shop/admin/").status_code == 403
    allowed = client.get("/usd/shop/admin/", headers={"X-Admin": "yes"})
    assert allowed.text == "2 products"
    assert (
        client.get("/eur/outlet/admin/", headers={"X-Admin": "yes"}).status_code == 200
    )


# -- writing an extension -----------------------------------------------------


def test_extension(
    examples: t.Callable[[str], types.ModuleType],
    make_client: MakeClient,
    tmp_path: Path,
) -> None:
    extension = examples("extension")
    app = Demijohn("ext_app")
    app.config["DATABASE"] = str(tmp_path / "notes.sqlite")
    db = extension.Database()
    db.init_app(app)
    app.register_blueprint(extension.notes)

    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.connection.execute("insert into note values ('buy tea')")
        db.connection.commit()
        connection = db.connection
        assert db.connection is connection  # one per application context
    # Teardown closed it when the context ended.
    with pytest.raises(sqlite3.ProgrammingError):
        connection.execute("select 1")

    assert make_client(app).get("/notes/").json == {"notes": ["buy tea"]}
    assert app.extensions["database"] is db


def test_extension_in_a_factory(
    examples: t.Callable[[str], types.ModuleType],
    make_client: MakeClient,
    tmp_path: Path,
) -> None:
    extension = examples("extension")
    first = extension.create_app(str(tmp_path / "first.sqlite"))
    second = extension.create_app(str(tmp_path / "second.sqlite"))
    # One extension object, two applications, two databases.
    assert first.extensions["database"] is second.extensions["database"]
    for app in (first, second):
        assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with first.app_context():
        extension.db.connection.execute("insert into note values ('only here')")
        extension.db.connection.commit()
    assert make_client(first).get("/notes/").json == {"notes": ["only here"]}
    assert make_client(second).get("/notes/").json == {"notes": []}


def test_extension_blueprint_sets_up_once(
    examples: t.Callable[[str], types.ModuleType],
    make_client: MakeClient,
    tmp_path: Path,
) -> None:
    extension = examples("extension")
    app = Demijohn("ext_app_2")
    app.config["DATABASE"] = str(tmp_path / "notes.sqlite")
    app.register_blueprint(extension.notes)
    app.register_blueprint(extension.notes, name="more_notes", url_prefix="/more")
    assert isinstance(app.extensions["database"], extension.Database)
    # record_once: one Database, one teardown function, two registrations.
    assert app.teardown_appcontext_funcs.count(app.extensions["database"].close) == 1
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    assert make_client(app).get("/more/").json == {"notes": []}


# -- signals ------------------------------------------------------------------


def test_signal_receivers(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    signals = examples("signals_guide")
    client = make_client(signals.app)
    before = dict(signals.status_counts)
    client.get("/hello")
    client.get("/missing")
    assert signals.status_counts.get(200, 0) == before.get(200, 0) + 1
    assert signals.status_counts.get(404, 0) == before.get(404, 0) + 1


def test_captured_templates(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    signals = examples("signals_guide")
    client = make_client(signals.app)
    with signals.captured_templates(signals.app) as templates:
        client.get("/hello")
    assert len(templates) == 1
    assert templates[0][1]["name"] == "signals"


def test_custom_signal(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    signals = examples("signals_guide")
    orders: list[int] = []

    def on_order(sender: Demijohn, order_id: int) -> None:
        orders.append(order_id)

    with signals.order_placed.connected_to(on_order, signals.app):
        assert make_client(signals.app).post("/orders").status_code == 201
    assert orders == [42]


# -- subclassing --------------------------------------------------------------


def test_subclassing(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    subclassing = examples("subclassing")
    client = make_client(subclassing.app)

    point = client.get("/point")
    # make_response override: a dataclass became compact, unsorted JSON.
    assert point.data == b'{"x":1,"y":2}\n'
    assert point.headers["X-API-Version"] == "1"

    version = client.get("/version", headers={"Accept-Version": "2"})
    assert version.json == {"version": 2}
    assert version.headers["X-API-Version"] == "2"

    missing = client.get("/nope")
    assert (missing.status_code, missing.json) == (
        404,
        {"error": "Not Found", "status": 404},
    )
    with subclassing.app.test_request_context():
        assert subclassing.app.make_response("{}").mimetype == "application/json"


# -- middleware and dispatching -----------------------------------------------


def test_middleware_wraps_both_protocols(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    middleware = examples("middleware")
    client = make_client(middleware.app)
    fresh = client.get("/")
    assert len(fresh.headers["X-Request-Id"]) == 32
    assert fresh.json == {"request_id": fresh.headers["X-Request-Id"]}
    given = client.get("/", headers={"X-Request-Id": "abc"})
    assert given.headers["X-Request-Id"] == "abc"
    assert given.json == {"request_id": "abc"}


def test_proxy_fix(examples: t.Callable[[str], types.ModuleType]) -> None:
    proxied = examples("middleware").proxied
    response = proxied.test_client().get(
        "/", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    )
    assert response.json == {"remote_addr": "203.0.113.7", "scheme": "https"}


def test_dispatcher_serves_both_protocols(
    examples: t.Callable[[str], types.ModuleType],
) -> None:
    site = examples("middleware").site
    wsgi = Client(site).get("/api/users")
    assert wsgi.json == {"script_root": "/api", "path": "/users"}

    environ = EnvironBuilder("/api/users").get_environ()
    body, status, _ = call_asgi_with_environ(site, environ)
    assert status.startswith("200")
    assert b"".join(body) == b'{"path":"/users","script_root":"/api"}\n'


# -- async and ASGI -----------------------------------------------------------


def test_async_views_and_serving(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    guide = examples("async_guide")
    client = make_client(guide.app)
    with guide.app.serving():
        assert guide.events[-1] == "starting"
        assert client.get("/items/tea").json == {"key": "tea", "value": "TEA"}
        assert client.get("/sync-calls-async").json == {"value": "ABC"}
    assert guide.events[-1] == "stopped"
    assert "pool" not in guide.app.extensions


def test_async_generator_body(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    response = make_client(examples("async_guide").app).get("/countdown")
    assert response.text == "3\n2\n1\n"


def test_run_sync_override(
    examples: t.Callable[[str], types.ModuleType],
    make_client: MakeClient,
    protocol: str,
) -> None:
    guide = examples("async_guide")
    threads = make_client(guide.app).get("/threads").json
    if protocol == "asgi":
        # The plain view went to the worker pool; the inline hook did not.
        assert threads["view"].startswith("demijohn-sync")
        assert not threads["hook"].startswith("demijohn-sync")
    else:
        assert threads["view"] == threads["hook"]


# -- websockets ---------------------------------------------------------------


def test_websocket_echo(examples: t.Callable[[str], types.ModuleType]) -> None:
    app = examples("websockets_guide").app
    with app.test_client().websocket("/echo") as ws:
        ws.send("one")
        assert ws.receive() == "one"
        ws.send(b"\x00\x01")
        assert ws.receive() == b"\x00\x01"


def test_websocket_room(examples: t.Callable[[str], types.ModuleType]) -> None:
    app = examples("websockets_guide").app
    client = app.test_client()
    with client.websocket(
        "/rooms/tea",
        subprotocols=["json"],
        query_string={"token": "secret", "as": "ada"},
    ) as ws:
        assert ws.accepted_subprotocol == "json"
        assert ws.receive_json() == {"joined": "tea", "user": "ada"}
        ws.send_json({"text": "hi"})
        assert ws.receive_json() == {"room": "tea", "user": "ada", "said": "hi"}

    with client.session_transaction() as session:
        session["user"] = "grace"
    with client.websocket("/rooms/tea", query_string={"token": "secret"}) as ws:
        assert ws.accepted_subprotocol is None
        assert ws.receive_json() == {"joined": "tea", "user": "grace"}


def test_websocket_refused(examples: t.Callable[[str], types.ModuleType]) -> None:
    app = examples("websockets_guide").app
    with (
        pytest.raises(WebsocketDenied) as refused,
        app.test_client().websocket("/rooms/tea"),
    ):
        pass
    assert refused.value.status == 403
    assert refused.value.body == b"a token is required"


def test_websocket_urls_over_http(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    client = make_client(examples("websockets_guide").app)
    assert client.get("/rooms/tea").text == "room tea: connect with a WebSocket client"
    assert client.get("/echo").status_code == 426


# -- testing ------------------------------------------------------------------


def test_testing_guide_passes() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(EXAMPLES / "testing_guide.py"),
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=EXAMPLES.parent.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


# -- becoming big -------------------------------------------------------------


def test_lifecycle_trace(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    trace = examples("lifecycle_trace")
    app = trace.make_app()
    assert make_client(app).get("/").text == "hello"
    assert app.trace == [
        "full_dispatch_request",
        "preprocess_request",
        "dispatch_request",
        "finalize_request",
        "make_response",
        "process_response",
        "do_teardown_request",
        "do_teardown_appcontext",
    ]


def test_lifecycle_trace_script(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "lifecycle_trace.py"), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["WSGI", "ASGI"]
    assert lines[0].split(": ")[1] == lines[1].split(": ")[1]


def test_hooks(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    hooks = examples("hooks")
    client = make_client(hooks.app)

    page = client.get("/fr/docs/intro")
    assert page.json == {"lang": "fr", "page": "intro"}
    assert page.headers["Server-Timing"].startswith("app;dur=")
    assert "Cache-Control" not in page.headers

    assert client.get("/en/docs/private").headers["Cache-Control"] == "no-store"

    broken = client.get("/en/docs/broken")
    assert (broken.status_code, broken.json) == (500, {"error": "this page is broken"})
    # The error handler's response still went through after_request.
    assert "Server-Timing" in broken.headers


def test_unhandled_error_signal(
    examples: t.Callable[[str], types.ModuleType],
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hooks = examples("hooks")
    seen = len(hooks.errors_seen)
    crash = make_client(hooks.app).get("/crash")
    assert crash.status_code == 500
    assert hooks.errors_seen[seen:] == ["KeyError('unhandled')"]
    assert "Exception on /crash [GET]" in caplog.text


class FakeRedis:
    """Just the four commands the session interface uses."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[str, float]] = {}

    def get(self, name: str) -> str | None:
        value, expires = self.data.get(name, (None, 0.0))
        return value if expires > time.time() else None

    def set(self, name: str, value: str, ex: int) -> None:
        self.data[name] = (value, time.time() + ex)

    def expire(self, name: str, time_: int) -> None:
        if name in self.data:
            self.data[name] = (self.data[name][0], time.time() + time_)

    def delete(self, *names: str) -> None:
        for name in names:
            self.data.pop(name, None)


def test_scale_out_shares_sessions_between_processes(
    examples: t.Callable[[str], types.ModuleType],
) -> None:
    scale_out = examples("scale_out")
    redis = FakeRedis()
    # Two "processes": separate application objects, one Redis.
    first = Client(scale_out.create_site(redis, SECRET_KEY="shared"))
    second = Client(scale_out.create_site(redis, SECRET_KEY="shared"))

    assert first.post("/cart/tea").json == {"cart": ["tea"]}
    cookie = first.get_cookie("session")
    assert cookie is not None
    # The next request lands on the other process, with the same cookie.
    second.set_cookie("session", cookie.value)
    assert second.get("/cart").json == {"cart": ["tea"]}
    assert second.post("/cart/milk").json == {"cart": ["tea", "milk"]}
    assert first.get("/cart").json == {"cart": ["tea", "milk"]}
    assert first.get("/api/health").json == {"status": "ok"}


def test_scale_out_reads_config_from_the_environment(
    examples: t.Callable[[str], types.ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMIJOHN_SECRET_KEY", "from-env")
    app = examples("scale_out").create_app(FakeRedis())
    assert app.config["SECRET_KEY"] == "from-env"
