"""The test client and ``test_request_context``: cookies, redirects, request
data, preserved contexts and session transactions."""

from __future__ import annotations

import sqlite3
import threading
import typing as t
from datetime import datetime, timezone

import pytest

from demijohn import Demijohn, g, redirect, request, session
from demijohn.testing import DemijohnClient, EnvironBuilder, FlaskClient

MakeClient = t.Callable[..., DemijohnClient]


def test_client_class(app: Demijohn, client: DemijohnClient) -> None:
    assert isinstance(client, DemijohnClient)
    assert FlaskClient is DemijohnClient
    assert client.application is app


def test_custom_test_client_class(app: Demijohn) -> None:
    class MyClient(DemijohnClient):
        pass

    app.test_client_class = MyClient
    assert isinstance(app.test_client(), MyClient)


# -- cookies and sessions -----------------------------------------------------


@pytest.fixture
def counter_app(app: Demijohn) -> Demijohn:
    @app.route("/count")
    def count() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.route("/set-cookie")
    def set_cookie() -> t.Any:
        response = app.make_response("set")
        response.set_cookie("plain", "value")
        return response

    @app.route("/read-cookie")
    def read_cookie() -> str:
        return request.cookies.get("plain", "missing")

    return app


def test_cookies_persist(counter_app: Demijohn, client: DemijohnClient) -> None:
    assert client.get("/count").data == b"1"
    assert client.get("/count").data == b"2"
    client.get("/set-cookie")
    assert client.get("/read-cookie").data == b"value"
    cookie = client.get_cookie("plain")
    assert cookie is not None
    assert cookie.value == "value"


def test_use_cookies_false(counter_app: Demijohn, make_client: MakeClient) -> None:
    client = make_client(counter_app, use_cookies=False)
    assert client.get("/count").data == b"1"
    assert client.get("/count").data == b"1"
    client.get("/set-cookie")
    assert client.get("/read-cookie").data == b"missing"


def test_set_and_delete_cookie(counter_app: Demijohn, client: DemijohnClient) -> None:
    client.set_cookie("plain", "by test")
    assert client.get("/read-cookie").data == b"by test"
    client.delete_cookie("plain")
    assert client.get("/read-cookie").data == b"missing"


def test_session_transaction_write_then_read(
    counter_app: Demijohn, client: DemijohnClient
) -> None:
    with client.session_transaction() as sess:
        assert "n" not in sess
        sess["n"] = 41
    assert client.get("/count").data == b"42"
    with client.session_transaction() as sess:
        assert sess["n"] == 42


def test_session_transaction_with_expiry(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/")
    def index() -> str:
        return f"{session.permanent} {session.get('when')}"

    when = datetime(2020, 1, 2, tzinfo=timezone.utc)
    with client.session_transaction() as sess:
        sess.permanent = True
        sess["when"] = when
    assert client.get("/").data == f"True {when}".encode()


def test_session_transaction_without_cookies(
    counter_app: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(counter_app, use_cookies=False)
    with pytest.raises(TypeError, match="use_cookies"), client.session_transaction():
        pass


def test_session_transaction_without_secret_key(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.secret_key = None
    with (
        pytest.raises(RuntimeError, match="did not open a session"),
        client.session_transaction(),
    ):
        pass


def test_session_transaction_leaves_no_context(
    counter_app: Demijohn, client: DemijohnClient
) -> None:
    from demijohn import has_request_context

    with client.session_transaction():
        assert not has_request_context()


# -- redirects ----------------------------------------------------------------


@pytest.fixture
def redirect_app(app: Demijohn) -> Demijohn:
    @app.route("/start")
    def start() -> t.Any:
        return redirect("/middle")

    @app.route("/middle")
    def middle() -> t.Any:
        return redirect("/end", code=301)

    @app.route("/end")
    def end() -> str:
        return f"end {request.method}"

    @app.route("/post", methods=["POST"])
    def post() -> t.Any:
        return redirect("/end", code=303)

    return app


def test_redirect_not_followed_by_default(
    redirect_app: Demijohn, client: DemijohnClient
) -> None:
    rv = client.get("/start")
    assert rv.status_code == 302
    assert rv.location == "/middle"
    assert rv.history == ()


def test_follow_redirects(redirect_app: Demijohn, client: DemijohnClient) -> None:
    rv = client.get("/start", follow_redirects=True)
    assert rv.status_code == 200
    assert rv.data == b"end GET"
    assert [r.status_code for r in rv.history] == [302, 301]
    assert [r.request.path for r in rv.history] == ["/start", "/middle"]
    assert rv.request.path == "/end"


def test_follow_redirect_303_switches_to_get(
    redirect_app: Demijohn, client: DemijohnClient
) -> None:
    rv = client.post("/post", data={"a": "b"}, follow_redirects=True)
    assert rv.data == b"end GET"


def test_follow_redirects_keeps_request_context_of_last(
    redirect_app: Demijohn, client: DemijohnClient
) -> None:
    with client:
        client.get("/start", follow_redirects=True)
        assert request.path == "/end"


# -- request data -------------------------------------------------------------


@pytest.fixture
def echo_app(app: Demijohn) -> Demijohn:
    @app.route("/echo", methods=["GET", "POST", "PUT"])
    def echo() -> dict[str, t.Any]:
        return {
            "method": request.method,
            "args": request.args.to_dict(flat=False),
            "form": request.form.to_dict(flat=False),
            "json": request.get_json(silent=True),
            "data": request.get_data(as_text=True),
            "content_type": request.content_type,
            "header": request.headers.get("X-Custom"),
            "remote_addr": request.remote_addr,
            "user_agent": request.user_agent.string,
            "files": {k: f.read().decode() for k, f in request.files.items()},
        }

    return app


def test_json_argument(echo_app: Demijohn, client: DemijohnClient) -> None:
    rv = client.post("/echo", json={"a": [1, 2]})
    body = rv.get_json()
    assert body["json"] == {"a": [1, 2]}
    assert body["content_type"] == "application/json"


def test_json_argument_uses_app_json_provider(
    echo_app: Demijohn, client: DemijohnClient
) -> None:
    moment = datetime(2021, 5, 4, 3, 2, 1, tzinfo=timezone.utc)
    rv = client.post("/echo", json={"when": moment})
    # The default provider serialises datetimes as HTTP dates.
    assert rv.get_json()["json"] == {"when": "Tue, 04 May 2021 03:02:01 GMT"}


def test_form_data(echo_app: Demijohn, client: DemijohnClient) -> None:
    rv = client.post("/echo", data={"name": "ann", "tag": ["a", "b"]})
    body = rv.get_json()
    assert body["form"] == {"name": ["ann"], "tag": ["a", "b"]}
    assert body["content_type"] == "application/x-www-form-urlencoded"


def test_file_upload(echo_app: Demijohn, client: DemijohnClient) -> None:
    import io

    rv = client.post(
        "/echo", data={"field": "v", "upload": (io.BytesIO(b"file body"), "a.txt")}
    )
    body = rv.get_json()
    assert body["files"] == {"upload": "file body"}
    assert body["form"] == {"field": ["v"]}
    assert body["content_type"].startswith("multipart/form-data")


def test_raw_data(echo_app: Demijohn, client: DemijohnClient) -> None:
    rv = client.put("/echo", data="raw text", content_type="text/plain")
    body = rv.get_json()
    assert body["data"] == "raw text"
    assert body["method"] == "PUT"
    assert body["json"] is None


def test_query_string(echo_app: Demijohn, client: DemijohnClient) -> None:
    assert client.get("/echo", query_string={"a": "1", "b": ["2", "3"]}).get_json()[
        "args"
    ] == {"a": ["1"], "b": ["2", "3"]}
    assert client.get("/echo?x=y&x=z").get_json()["args"] == {"x": ["y", "z"]}
    assert client.get("/echo", query_string="q=a+b").get_json()["args"] == {
        "q": ["a b"]
    }


def test_headers(echo_app: Demijohn, client: DemijohnClient) -> None:
    rv = client.get("/echo", headers={"X-Custom": "yes"})
    assert rv.get_json()["header"] == "yes"


def test_default_environ(echo_app: Demijohn, client: DemijohnClient) -> None:
    body = client.get("/echo").get_json()
    assert body["remote_addr"] == "127.0.0.1"
    assert body["user_agent"].startswith("Werkzeug/")


def test_environ_base(echo_app: Demijohn, client: DemijohnClient) -> None:
    body = client.get("/echo", environ_base={"REMOTE_ADDR": "10.0.0.9"}).get_json()
    assert body["remote_addr"] == "10.0.0.9"
    client.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    client.environ_base["HTTP_USER_AGENT"] = "tester/1"
    body = client.get("/echo").get_json()
    assert body["remote_addr"] == "10.0.0.1"
    assert body["user_agent"] == "tester/1"


def test_open_with_environ_builder(echo_app: Demijohn, client: DemijohnClient) -> None:
    builder = EnvironBuilder(echo_app, "/echo", method="POST", json={"k": "v"})
    try:
        rv = client.open(builder)
    finally:
        builder.close()
    body = rv.get_json()
    assert body["json"] == {"k": "v"}
    assert body["remote_addr"] == "127.0.0.1"


def test_open_with_environ_dict(echo_app: Demijohn, client: DemijohnClient) -> None:
    builder = EnvironBuilder(echo_app, "/echo?from=dict")
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    assert client.open(environ).get_json()["args"] == {"from": ["dict"]}


def test_response_get_json(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/json")
    def as_json() -> dict[str, int]:
        return {"x": 1}

    @app.route("/text")
    def as_text() -> str:
        return "{}"

    assert client.get("/json").get_json() == {"x": 1}
    assert client.get("/json").json == {"x": 1}
    rv = client.get("/text")
    assert rv.get_json(silent=True) is None
    assert rv.get_json(force=True) == {}


# -- preserved contexts -------------------------------------------------------


def test_with_client_keeps_request_and_session(
    counter_app: Demijohn, client: DemijohnClient
) -> None:
    @counter_app.route("/mark")
    def mark() -> str:
        g.marked = True
        return ""

    with client:
        client.get("/count?x=1")
        assert request.args["x"] == "1"
        assert session["n"] == 1
        client.get("/mark")
        assert request.path == "/mark"
        assert g.marked
    from demijohn import has_request_context

    assert not has_request_context()


def test_with_client_still_tears_down_each_request(
    app: Demijohn, client: DemijohnClient
) -> None:
    # As in Flask, teardown runs when the request ends; ``with client`` only
    # keeps the context bound for inspection afterwards.
    torn_down: list[str] = []

    @app.teardown_request
    def record(exc: BaseException | None) -> None:
        torn_down.append(request.path)

    @app.route("/<name>")
    def page(name: str) -> str:
        return name

    with client:
        client.get("/one")
        assert torn_down == ["/one"]
        assert request.path == "/one"
        client.get("/two")
        assert request.path == "/two"
        assert "/two" in torn_down


def test_nested_with_client_is_an_error(client: DemijohnClient) -> None:
    with client, pytest.raises(RuntimeError, match="nest"), client:
        pass


def test_without_with_no_context_remains(app: Demijohn, client: DemijohnClient) -> None:
    from demijohn import has_request_context

    @app.route("/")
    def index() -> str:
        return ""

    client.get("/")
    assert not has_request_context()


# -- test_request_context -----------------------------------------------------


def test_test_request_context_defaults(app: Demijohn) -> None:
    with app.test_request_context():
        assert request.method == "GET"
        assert request.path == "/"
        assert request.url == "http://localhost/"
        assert request.host == "localhost"


def test_test_request_context_arguments(app: Demijohn) -> None:
    with app.test_request_context(
        "/p?q=1", method="POST", data={"a": "b"}, headers={"X-H": "v"}
    ):
        assert request.method == "POST"
        assert request.path == "/p"
        assert request.args["q"] == "1"
        assert request.form["a"] == "b"
        assert request.headers["X-H"] == "v"


def test_test_request_context_full_url_path(app: Demijohn) -> None:
    with app.test_request_context("https://api.test:8000/x?y=1"):
        assert request.url == "https://api.test:8000/x?y=1"
        assert request.scheme == "https"


def test_test_request_context_base_url(app: Demijohn) -> None:
    with app.test_request_context("/page", base_url="https://site.test/root/"):
        assert request.url == "https://site.test/root/page"
        assert request.script_root == "/root"
        assert request.path == "/page"


def test_test_request_context_subdomain_and_scheme(app: Demijohn) -> None:
    app.config["SERVER_NAME"] = "example.test"
    with app.test_request_context("/", subdomain="api", url_scheme="https"):
        assert request.url == "https://api.example.test/"


@pytest.mark.parametrize("extra", [{"subdomain": "api"}, {"url_scheme": "https"}])
def test_base_url_with_subdomain_or_scheme_is_a_value_error(
    app: Demijohn, extra: dict[str, str]
) -> None:
    with pytest.raises(AssertionError, match="base_url"):
        app.test_request_context("/", base_url="http://x.test", **extra)


def test_config_shapes_the_request_url(app: Demijohn) -> None:
    app.config.update(
        SERVER_NAME="example.test:8080",
        APPLICATION_ROOT="/app",
        PREFERRED_URL_SCHEME="https",
    )
    with app.test_request_context("/page"):
        assert request.url == "https://example.test:8080/app/page"
        assert request.script_root == "/app"


def test_client_respects_server_name_and_application_root(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.config.update(SERVER_NAME="example.test", APPLICATION_ROOT="/app")

    @app.route("/where")
    def where() -> str:
        return request.url

    assert client.get("/where").data == b"http://example.test/app/where"


def test_test_request_context_matches_the_url(app: Demijohn) -> None:
    @app.route("/u/<int:uid>")
    def user(uid: int) -> str:
        return ""

    with app.test_request_context("/u/3"):
        assert request.endpoint == "user"
        assert request.view_args == {"uid": 3}


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_from_a_view_reaches_the_test_and_the_client_goes_on(
    app: Demijohn, client: DemijohnClient, interrupt: type[BaseException]
) -> None:
    # Not handled as an error: it leaves the request, as in Flask. Under
    # ASGI asyncio raises it out of the event loop the client runs on,
    # which must not leave this test, or the next, waiting forever.
    app.testing = False

    @app.route("/stop")
    def stop() -> str:
        raise interrupt()

    @app.route("/")
    def index() -> str:
        return "still serving"

    with pytest.raises(interrupt):
        finished_within(10, lambda: client.get("/stop"))
    assert finished_within(10, lambda: client.get("/")).data == b"still serving"


def finished_within(seconds: float, call: t.Callable[[], t.Any]) -> t.Any:
    """``call()``, made on another thread so that a test client that would
    wait forever fails the test instead of hanging the suite."""
    outcome: dict[str, t.Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as e:
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"the request did not finish in {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_responses_come_back_as_a_wsgi_test_client_gives_them(
    app: Demijohn, client: DemijohnClient
) -> None:
    # Werkzeug's client hands back the app's iterable as an iterator (so the
    # response reports is_streamed), or a list with buffered=True; the ASGI
    # client does the same, so a test reads the same under both.
    app.route("/")(lambda: "hello")
    response = client.get("/")
    assert (response.is_streamed, response.data) == (True, b"hello")
    buffered = client.get("/", buffered=True)
    assert (buffered.is_streamed, buffered.data) == (False, b"hello")


def test_sync_code_runs_on_the_thread_that_made_the_request(
    app: Demijohn, client: DemijohnClient, protocol: str
) -> None:
    # Under both clients the request's sync hooks, view and teardown run on
    # the test's thread, so a connection the test opened (SQLite refuses
    # other threads) works from them; async code runs on the event loop's
    # thread under ASGI, to completion on the calling thread under WSGI.
    db = sqlite3.connect(":memory:")
    db.execute("create table visits (path text)")
    seen: list[str] = []

    @app.before_request
    def record() -> None:
        db.execute("insert into visits values (?)", (request.path,))

    @app.teardown_request
    def count(error: BaseException | None) -> None:
        seen.append(str(db.execute("select count(*) from visits").fetchone()[0]))

    @app.get("/sync")
    def sync_view() -> str:
        return db.execute("select path from visits").fetchone()[0]

    @app.get("/async")
    async def async_view() -> str:
        return threading.current_thread().name

    try:
        assert client.get("/sync").text == "/sync"
        async_thread = client.get("/async").text
        assert (async_thread == threading.current_thread().name) is (protocol == "wsgi")
        # Requests made inside an application context the test pushed use
        # that context (as in Flask), and still run on the test's thread.
        with app.app_context():
            assert client.get("/sync").text == "/sync"
            assert client.get("/sync").text == "/sync"
        assert seen == ["1", "2", "3", "4"]
    finally:
        db.close()
