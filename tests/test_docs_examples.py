"""Every code example in the guides works: the guides include these files
from ``docs/examples`` with ``literalinclude``, and here each one is imported
and its application exercised, under WSGI and ASGI where it serves HTTP.

Examples that turn on the Flask import shim cannot be imported here (this
process uses the real Flask), so they run in a fresh interpreter through
:func:`run_example`. No guide may show Python that is not in an example
file: see :func:`test_no_guide_has_untested_python_blocks`.
"""

from __future__ import annotations

import ast
import asyncio
import http.client
import importlib
import json
import os
import re
import runpy
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import types
import typing as t
import weakref
from pathlib import Path

import flask
import pytest
import redis
import werkzeug.serving
from blinker import NamedSignal
from werkzeug.test import Client, EnvironBuilder

import demijohn.signals
from demijohn import Demijohn
from demijohn.testing import DemijohnClient
from demijohn.testing_transport import WebsocketDenied, call_asgi_with_environ

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"

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


def run_example(name: str, code: str, **env: str) -> t.Any:
    """Import the example ``name`` as ``example`` in a fresh interpreter,
    run ``code`` after it, and return the JSON value it printed last.

    Warnings are errors there too. The shim's environment variable is
    removed, so only the example itself can turn the shim on; ``env`` adds
    variables.
    """
    environ = {k: v for k, v in os.environ.items() if k != "DEMIJOHN_FLASK_SHIM"}
    environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(EXAMPLES), environ.get("PYTHONPATH")])
    )
    environ.update(env)
    script = f"import {name} as example\n" + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
        cwd=EXAMPLES,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_every_example_is_tested() -> None:
    source = Path(__file__).read_text("utf-8")
    untested = [
        path.stem
        for path in EXAMPLES.glob("*.py")
        if f'examples("{path.stem}")' not in source
        and not re.search(rf'run_example\(\s*"{path.stem}"', source)
        and path.stem != "testing_guide"
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
        # The plain view ran on the thread waiting for the request (the
        # test's; a server's worker pool otherwise); the inline hook stayed
        # on the event loop.
        assert threads["view"] == threading.current_thread().name
        assert threads["hook"] != threads["view"]
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


# -- deployment ---------------------------------------------------------------

VERSION = {"version": "select version() on postgresql://db.internal/myproject"}


def _gunicorn_hooks() -> dict[str, t.Any]:
    """The settings and hooks of ``deploy/gunicorn.conf.py``, which the
    deployment guide shows, loaded the way gunicorn loads a config file."""
    return runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))


def test_pool_is_opened_and_closed_by_the_lifespan_protocol(
    examples: t.Callable[[str], types.ModuleType],
) -> None:
    app = examples("deployment_serving").app
    pool_open: list[tuple[str, bool]] = []

    async def serve_lifespan() -> None:
        messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

        async def receive() -> dict[str, t.Any]:
            return messages.pop(0)

        async def send(message: t.MutableMapping[str, t.Any]) -> None:
            pool = app.extensions.get("db")
            pool_open.append((message["type"], pool is not None and not pool.closed))

        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    asyncio.run(serve_lifespan())
    assert pool_open == [
        ("lifespan.startup.complete", True),
        ("lifespan.shutdown.complete", False),
    ]


def test_pool_serves_requests_inside_app_serving(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    app = examples("deployment_serving").app
    with app.serving():
        pool = app.extensions["db"]
        assert make_client(app).get("/version").json == VERSION
        assert not pool.closed
    assert pool.closed


def test_app_run_is_wrapped_in_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[tuple[str, int, bool, t.Any]] = []

    def run_simple(host: str, port: int, app: Demijohn, **options: t.Any) -> None:
        # Stands in for the development server: serve one request.
        pool_open = not app.extensions["db"].closed
        served.append((host, port, pool_open, Client(app).get("/version").json))

    monkeypatch.setattr(werkzeug.serving, "run_simple", run_simple)
    monkeypatch.setenv("DEMIJOHN_SKIP_DOTENV", "1")
    monkeypatch.delenv("DEMIJOHN_RUN_FROM_CLI", raising=False)
    script = runpy.run_path(
        str(EXAMPLES / "deployment_serving.py"), run_name="__main__"
    )
    assert served == [("127.0.0.1", 5000, True, VERSION)]
    assert script["app"].extensions["db"].closed


def test_run_coroutine_around_a_server_without_hooks(
    examples: t.Callable[[str], types.ModuleType],
) -> None:
    serving = examples("deployment_serving")
    server = werkzeug.serving.make_server("127.0.0.1", 0, serving.app)
    thread = threading.Thread(target=serving.serve_forever, args=(server,))
    thread.start()
    try:
        connection = http.client.HTTPConnection(
            "127.0.0.1", server.server_port, timeout=10
        )
        try:
            connection.request("GET", "/version")
            response = connection.getresponse()
            assert (response.status, json.loads(response.read())) == (200, VERSION)
        finally:
            connection.close()
        pool = serving.app.extensions["db"]
        assert not pool.closed
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
    assert pool.closed


def test_gunicorn_hooks_start_and_stop_the_app_in_the_worker(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    hooks = _gunicorn_hooks()
    app = examples("deployment_serving").app
    worker = types.SimpleNamespace(wsgi=app)

    hooks["post_worker_init"](worker)
    pool = app.extensions["db"]
    assert make_client(app).get("/version").json == VERSION
    hooks["worker_exit"](None, worker)
    assert pool.closed
    # A second exit (or the master's call for a dead worker) closes nothing.
    hooks["worker_exit"](None, worker)
    hooks["worker_exit"](None, types.SimpleNamespace(wsgi=app))


def test_gunicorn_hook_fails_the_worker_when_startup_fails(
    examples: t.Callable[[str], types.ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    serving = examples("deployment_serving")

    async def unreachable(url: str) -> None:
        raise ConnectionRefusedError(url)

    monkeypatch.setattr(serving, "create_pool", unreachable)
    worker = types.SimpleNamespace(wsgi=serving.app)
    with pytest.raises(ConnectionRefusedError, match="db.internal"):
        _gunicorn_hooks()["post_worker_init"](worker)
    assert not hasattr(worker, "demijohn_serving")


def test_gunicorn_hooks_serve_a_dispatcher_and_a_plain_wsgi_app(
    examples: t.Callable[[str], types.ModuleType],
) -> None:
    hooks = _gunicorn_hooks()
    apps = examples("deployment_apps")
    worker = types.SimpleNamespace(wsgi=examples("deployment_site").application)
    hooks["post_worker_init"](worker)
    assert apps.events == ["start frontend", "start api", "start admin"]
    hooks["worker_exit"](None, worker)
    assert apps.events[3:] == ["stop admin", "stop api", "stop frontend"]

    def plain_wsgi(environ: t.Any, start_response: t.Any) -> list[bytes]:
        start_response("204 No Content", [])
        return []

    plain = types.SimpleNamespace(wsgi=plain_wsgi)
    hooks["post_worker_init"](plain)
    hooks["worker_exit"](None, plain)
    assert not hasattr(plain, "demijohn_serving")


FORWARDED = {
    # A client-supplied address first, then the one nginx appended.
    "X-Forwarded-For": "198.51.100.1, 203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "example.com",
    "X-Forwarded-Prefix": "/shop",
}


def test_proxy_fix_trusts_one_proxy_under_wsgi(
    examples: t.Callable[[str], types.ModuleType],
    make_client: MakeClient,
    protocol: str,
) -> None:
    response = make_client(examples("deployment_proxy").app).get(
        "/whoami", headers=FORWARDED
    )
    if protocol == "wsgi":
        assert response.json == {
            "remote_addr": "203.0.113.7",
            "scheme": "https",
            "host": "example.com",
            "script_root": "/shop",
            "url": "https://example.com/shop/whoami",
        }
    else:
        # ProxyFix wraps wsgi_app only: under ASGI the server's own proxy
        # options do this, and the headers are ignored here.
        assert response.json == {
            "remote_addr": "127.0.0.1",
            "scheme": "http",
            "host": "localhost",
            "script_root": "",
            "url": "http://localhost/whoami",
        }


def test_shared_data_serves_media_under_wsgi(
    examples: t.Callable[[str], types.ModuleType],
    make_client: MakeClient,
    protocol: str,
    tmp_path: Path,
) -> None:
    (tmp_path / "logo.txt").write_text("a logo")
    client = make_client(examples("deployment_media").create_app(str(tmp_path)))
    missing = client.get("/media/none.txt")
    assert (missing.status_code, missing.json) == (
        404,
        {"error": "no media named none.txt"},
    )
    with client.get("/media/logo.txt") as logo:
        if protocol == "asgi":
            # The middleware wraps wsgi_app only: under ASGI the view answers.
            assert logo.json == {"error": "no media named logo.txt"}
            return
        assert (logo.status_code, logo.text) == (200, "a logo")
        assert "Last-Modified" in logo.headers
        etag = logo.headers["ETag"]
    with client.get("/media/logo.txt", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_redis_sessions_with_regenerate_on_login(
    examples: t.Callable[[str], types.ModuleType],
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeRedis()
    urls: list[str] = []

    def from_url(url: str, **options: t.Any) -> FakeRedis:
        urls.append(url)
        return fake

    monkeypatch.setattr(redis.Redis, "from_url", from_url)
    app = examples("deployment_sessions").app
    app.config["SECRET_KEY"] = "test key"
    client = make_client(app)

    # Reading an empty session stores nothing and sets no cookie.
    assert client.get("/").json == {"user_id": None, "cart": []}
    assert client.get_cookie("session") is None
    assert not fake.data

    client.post("/cart/tea")
    before_login = client.get_cookie("session")
    assert before_login is not None
    assert client.post("/login", data={"username": "ada"}).status_code == 401

    login = client.post("/login", data={"username": "ada", "password": "correct horse"})
    assert (login.status_code, login.headers["Location"]) == (302, "/")
    after_login = client.get_cookie("session")
    assert after_login is not None
    assert after_login.value != before_login.value
    assert client.get("/").json == {"user_id": 1, "cart": ["tea"]}
    assert len(fake.data) == 1  # the old id's data was deleted

    # Whoever held the id from before the login has nothing.
    planted = make_client(app)
    planted.set_cookie("session", before_login.value)
    assert planted.get("/").json == {"user_id": None, "cart": []}

    client.post("/logout")
    assert not fake.data
    assert client.get("/").json == {"user_id": None, "cart": []}
    assert urls == ["redis://10.0.0.5:6379/0"]


class ASGIDispatcherClient(Client):
    """A Werkzeug client that sends its requests through the ASGI interface
    of what it wraps (any ASGI application, not only a demijohn one)."""

    def run_wsgi_app(
        self, environ: t.Any, buffered: bool = False
    ) -> tuple[t.Iterable[bytes], str, t.Any]:
        return call_asgi_with_environ(self.application, dict(environ))


def _dispatcher_client(site: t.Any, protocol: str) -> Client:
    return ASGIDispatcherClient(site) if protocol == "asgi" else Client(site)


def test_dispatcher_by_prefix(
    examples: t.Callable[[str], types.ModuleType], protocol: str
) -> None:
    client = _dispatcher_client(examples("deployment_site").application, protocol)
    assert client.get("/api/users").json == {
        "app": "api",
        "path": "/users",
        "script_root": "/api",
        "home": "/api/",
    }
    assert client.get("/admin/").json["app"] == "admin"
    # Whole path segments only: /apix is the default app's.
    assert client.get("/apix").json == {
        "app": "frontend",
        "path": "/apix",
        "script_root": "",
        "home": "/",
    }
    bare = client.get("/api")
    assert bare.status_code == 308
    assert bare.headers["Location"].endswith("/api/")


def test_dispatcher_by_host_then_prefix(
    examples: t.Callable[[str], types.ModuleType], protocol: str
) -> None:
    client = _dispatcher_client(examples("deployment_hosts").application, protocol)
    api = "http://api.example.com"
    assert client.get("/users", base_url=api).json == {
        "app": "api_v1",
        "path": "/users",
        "script_root": "",
        "home": "/",
    }
    assert client.get("/v2/users", base_url=api).json["app"] == "api_v2"
    assert client.get("/v2/users", base_url="http://example.com").json == {
        "app": "frontend",
        "path": "/v2/users",
        "script_root": "",
        "home": "/",
    }


# -- migration ----------------------------------------------------------------


def _without_imports(path: Path) -> tuple[list[str], set[str]]:
    """The statements of a module apart from its docstring and imports,
    and the names it imports (apart from ``__future__``)."""
    tree = ast.parse(path.read_text("utf-8"))
    code = [
        ast.dump(node) for node in tree.body[1:] if not isinstance(node, ast.ImportFrom)
    ]
    names = {
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for alias in node.names
    }
    return code, names


def test_migration_changes_only_the_imports() -> None:
    flask_code, flask_names = _without_imports(EXAMPLES / "migration_flask.py")
    code, names = _without_imports(EXAMPLES / "migration_demijohn.py")
    assert code == flask_code
    assert names == flask_names


def test_migrated_app_answers_as_the_flask_app(
    examples: t.Callable[[str], types.ModuleType], make_client: MakeClient
) -> None:
    before = examples("migration_flask").app
    after = examples("migration_demijohn").app
    assert isinstance(before, flask.Flask)
    assert type(after) is Demijohn

    def exchange(client: t.Any) -> list[tuple[int, bytes, str | None]]:
        responses = [
            client.get("/notes"),
            client.post("/notes", json={"text": "<tea>"}),
            client.get("/notes"),
            client.post("/notes", data="not json"),
            client.delete("/notes"),
        ]
        return [(r.status_code, r.data, r.mimetype) for r in responses]

    flask_answers = exchange(before.test_client())
    assert flask_answers[2][1] == b"<ul><li>&lt;tea&gt;</li></ul>"
    assert exchange(make_client(after)) == flask_answers


def test_shim_example_refuses_after_the_real_flask(
    examples: t.Callable[[str], types.ModuleType],
) -> None:
    # This process imported the real Flask: the first line refuses.
    with pytest.raises(ImportError, match="before any Flask extension"):
        examples("migration_shim")
    assert sys.modules["flask"] is flask


def test_shim_example_runs_flask_login_on_demijohn() -> None:
    report = run_example(
        "migration_shim",
        """
        import json
        import flask, flask_login.utils
        import demijohn
        from demijohn.testing import ASGIClient

        app = example.app
        report = {
            "flask": flask.Flask is demijohn.Demijohn,
            "app": type(app) is demijohn.Demijohn,
            "current_app": flask_login.utils.current_app is demijohn.current_app,
            "runs": [],
        }
        for client in (app.test_client(), ASGIClient(app, app.response_class)):
            report["runs"].append([
                client.get("/me").json,
                client.post("/login", data={"name": "mallory"}).status_code,
                client.post("/login", data={"name": "ada"}).json,
                client.get("/me").json,
            ])
        print(json.dumps(report))
        """,
        DEMIJOHN_SECRET_KEY="test key",
    )
    login = [{"user": None}, 401, {"logged_in": "ada"}, {"user": "ada"}]
    assert report == {
        "flask": True,
        "app": True,
        "current_app": True,
        "runs": [login, login],
    }


# -- security -----------------------------------------------------------------

HTTPS = "https://example.com"


@pytest.fixture
def make_secure_app(
    examples: t.Callable[[str], types.ModuleType], monkeypatch: pytest.MonkeyPatch
) -> t.Callable[[str, str], Demijohn]:
    """Build the security guide's application with the given new and old
    secret keys in the environment."""
    guide = examples("security_guide")

    def build(new: str, old: str) -> Demijohn:
        monkeypatch.setenv("NEW_SECRET_KEY", new)
        monkeypatch.setenv("OLD_SECRET_KEY", old)
        return t.cast(Demijohn, guide.create_app())

    return build


def _set_cookie(response: t.Any, name: str) -> str:
    [header] = [
        h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")
    ]
    return t.cast(str, header)


def test_cookie_flags(
    make_secure_app: t.Callable[[str, str], Demijohn], make_client: MakeClient
) -> None:
    client = make_client(make_secure_app("new", "old"))
    login = client.post("/login", data={"user": "ada"}, base_url=HTTPS)
    assert login.json == {"user": "ada"}
    for name in ("session", "remember"):
        flags = _set_cookie(login, name).split("; ")[1:]
        assert {"Secure", "HttpOnly", "SameSite=Lax"} <= set(flags), name
    assert len(_set_cookie(login, "remember").split(";")[0]) > len("remember=") + 30
    assert client.get("/me", base_url=HTTPS).json == {"user": "ada"}


def test_secret_key_rotation(
    make_secure_app: t.Callable[[str, str], Demijohn], make_client: MakeClient
) -> None:
    before = make_client(make_secure_app("old", "older"))
    before.post("/login", data={"user": "ada"}, base_url=HTTPS)
    old_cookie = before.get_cookie("session", domain="example.com")
    assert old_cookie is not None

    # The new key in SECRET_KEY, the old one in SECRET_KEY_FALLBACKS.
    rotated = make_client(make_secure_app("new", "old"))
    rotated.set_cookie("session", old_cookie.value, domain="example.com")
    assert rotated.get("/me", base_url=HTTPS).json == {"user": "ada"}
    rotated.post("/login", data={"user": "grace"}, base_url=HTTPS)
    new_cookie = rotated.get_cookie("session", domain="example.com")
    assert new_cookie is not None

    # The updated cookie is signed with the new key only...
    only_old = make_client(make_secure_app("old", "older"))
    only_old.set_cookie("session", new_cookie.value, domain="example.com")
    assert only_old.get("/me", base_url=HTTPS).json == {"user": None}
    # ...and once the old key is dropped, old cookies stop working.
    dropped = make_client(make_secure_app("new", "unrelated"))
    dropped.set_cookie("session", old_cookie.value, domain="example.com")
    assert dropped.get("/me", base_url=HTTPS).json == {"user": None}
    dropped.set_cookie("session", new_cookie.value, domain="example.com")
    assert dropped.get("/me", base_url=HTTPS).json == {"user": "grace"}


def test_max_content_length(
    make_secure_app: t.Callable[[str, str], Demijohn], make_client: MakeClient
) -> None:
    client = make_client(make_secure_app("new", "old"))
    limit = 16 * 1024 * 1024
    ok = client.post("/upload", data=b"x" * limit, base_url=HTTPS)
    assert ok.json == {"received": limit}
    too_large = client.post("/upload", data=b"x" * (limit + 1), base_url=HTTPS)
    assert too_large.status_code == 413


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("example.com", 200),
        ("shop.example.com", 200),
        ("evil.test", 400),
        ("example.com.evil.test", 400),
        ("notexample.com", 400),
    ],
)
def test_trusted_hosts(
    make_secure_app: t.Callable[[str, str], Demijohn],
    make_client: MakeClient,
    host: str,
    status: int,
) -> None:
    client = make_client(make_secure_app("new", "old"))
    assert client.get("/me", base_url=f"https://{host}").status_code == status


def test_csrf_protection_through_the_shim() -> None:
    runs = run_example(
        "security_csrf",
        """
        import json, re
        from demijohn.testing import ASGIClient

        app = example.app
        runs = []
        for client in (app.test_client(), ASGIClient(app, app.response_class)):
            missing = client.post("/notes", data={"text": "hi"}).status_code
            page = client.get("/form").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
            runs.append([
                missing,
                client.post("/notes", data={"text": "a", "csrf_token": token}).json,
                client.post(
                    "/notes", data={"text": "b"}, headers={"X-CSRFToken": token}
                ).json,
                client.post(
                    "/notes", data={"text": "c", "csrf_token": "forged"}
                ).status_code,
            ])
        print(json.dumps(runs))
        """,
        DEMIJOHN_SECRET_KEY="test key",
    )
    expected = [400, {"saved": "a"}, {"saved": "b"}, 400]
    assert runs == [expected, expected]


# -- no untested Python in the guides ------------------------------------------

#: A guide may show a Python block that no test runs only if the line right
#: before its fence says why, in a MyST comment (which is not rendered)::
#:
#:     % untested: deliberately wrong, to show the error message
#:     ```python
#:
#: Anything else belongs in ``docs/examples/``, included with
#: ``literalinclude`` and exercised here.
UNTESTED_MARK = re.compile(r"^\s*% untested: \S")
FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
PYTHON_INFO = re.compile(
    r"^\s*(?:\{(?:code-block|code|sourcecode)\}\s*)?"
    r"(?:python3?|py3?|pycon|ipython3?)(?:\s|$)"
)
# Directives whose body is not Markdown: fences inside them are text.
LITERAL_DIRECTIVES = ("{code-block}", "{code}", "{sourcecode}", "{literalinclude}")


def _closes(fence: re.Match[str], opened: tuple[str, int]) -> bool:
    marks = fence["fence"]
    return (
        marks[0] == opened[0] and len(marks) >= opened[1] and not fence["info"].strip()
    )


def unmarked_python_blocks(markdown: str) -> list[int]:
    """Return the line numbers of the Python code blocks in ``markdown``
    not marked ``% untested: <why>``, including blocks inside directives
    with Markdown bodies (notes, list items) but not fences quoted inside
    another code block."""
    unmarked: list[int] = []
    directives: list[tuple[str, int]] = []
    literal: tuple[str, int] | None = None
    previous = ""
    for number, line in enumerate(markdown.splitlines(), 1):
        fence = FENCE.match(line)
        if literal is not None:
            if fence and _closes(fence, literal):
                literal = None
        elif fence and directives and _closes(fence, directives[-1]):
            directives.pop()
        elif fence:
            marks, info = fence["fence"], fence["info"].strip()
            if info.startswith("{") and not info.startswith(LITERAL_DIRECTIVES):
                directives.append((marks[0], len(marks)))
            else:
                literal = (marks[0], len(marks))
                if PYTHON_INFO.match(info) and not UNTESTED_MARK.match(previous):
                    unmarked.append(number)
        previous = line
    return unmarked


def test_untested_python_blocks_are_found() -> None:
    sample = textwrap.dedent(
        """\
        ```python
        found = 1
        ```

        % untested: shows a syntax error on purpose
        ```python
        def (
        ```

        - in a list:

          ```py
          found = 2
          ```

        ````markdown
        ```python
        quoted, not a block
        ```
        ````

        :::{note}
        ```{code-block} python
        found = 3
        ```
        :::

        ```{literalinclude} examples/hello.py
        :language: python
        ```

        ```sh
        python -c 'print("not python")'
        ```

        ~~~pycon
        >>> found = 4
        ~~~
        """
    )
    assert unmarked_python_blocks(sample) == [1, 12, 23, 36]


def test_no_guide_has_untested_python_blocks() -> None:
    pages = [p for p in sorted(DOCS.rglob("*.md")) if "_build" not in p.parts]
    assert any(p.name == "deployment.md" for p in pages)
    untested = [
        f"{page.relative_to(ROOT)}:{line}"
        for page in pages
        for line in unmarked_python_blocks(page.read_text("utf-8"))
    ]
    assert not untested, (
        f"Python blocks no test runs: {untested}. Move the code into"
        " docs/examples/, show it with literalinclude and test it in"
        " tests/test_docs_examples.py, or put '% untested: <why>' on the"
        " line before the fence."
    )
