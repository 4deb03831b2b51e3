"""The ASGI edge at the protocol level: scopes, bodies, disconnects, lifespan,
WebSockets and how servers detect the application.

Request-handling behaviour is covered by every other test file through the
``client`` fixture under both protocols; these tests drive
``app(scope, receive, send)`` directly to reach what only raw ASGI can
express.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import threading
import typing as t

import pytest
from asgi_scopes import http_scope
from test_test_client import finished_within
from werkzeug.test import EnvironBuilder

from demijohn import (
    Blueprint,
    Demijohn,
    abort,
    g,
    request,
    session,
    websocket,
)
from demijohn.asgi import SPOOL_MAX_SIZE, build_environ
from demijohn.globals import _cv_app, _cv_request
from demijohn.testing import ASGIClient
from demijohn.testing_transport import WebsocketDenied, WebsocketDisconnected

Message = dict[str, t.Any]


class Exchange:
    """Feeds an app scripted receive messages and records what it sends."""

    def __init__(self, messages: list[Message]) -> None:
        self.incoming = list(messages)
        self.sent: list[Message] = []
        self.received = 0

    async def receive(self) -> Message:
        self.received += 1
        if self.incoming:
            return self.incoming.pop(0)
        await asyncio.sleep(3600)  # a client that sends nothing more
        raise AssertionError("unreachable")

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])


def run(app: t.Any, scope: dict[str, t.Any], messages: list[Message]) -> Exchange:
    exchange = Exchange(messages)
    asyncio.run(asyncio.wait_for(app(scope, exchange.receive, exchange.send), 10))
    return exchange


def body_messages(*chunks: bytes) -> list[Message]:
    return [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]


@pytest.fixture
def echo_app(app: Demijohn) -> Demijohn:
    @app.route("/echo", methods=["GET", "POST"])
    def echo() -> dict[str, t.Any]:
        return {
            "data": request.get_data(as_text=True),
            "path": request.path,
            "script_root": request.script_root,
            "remote_addr": request.remote_addr,
            "host": request.host,
            "cookies": dict(request.cookies),
            "accept": request.headers.getlist("Accept"),
        }

    return app


# -- detection by servers ----------------------------------------------------


def test_app_passes_both_asgi3_probes(app: Demijohn) -> None:
    # uvicorn asks asyncio (before Python 3.14), hypercorn asks inspect.
    assert asyncio.iscoroutinefunction(app.__call__)
    assert inspect.iscoroutinefunction(app.__call__)


def test_calling_without_arguments_is_a_type_error(app: Demijohn) -> None:
    # uvicorn calls app() to find out whether it is a factory.
    with pytest.raises(TypeError, match="app\\(environ, start_response\\)"):
        app()  # type: ignore[call-arg]


def test_wsgi_middleware_on_wsgi_app_is_used_for_wsgi_calls(app: Demijohn) -> None:
    @app.route("/")
    def index() -> str:
        return "inner"

    inner = app.wsgi_app

    def middleware(environ: t.Any, start_response: t.Any) -> t.Any:
        environ["PATH_INFO"] = "/"
        return inner(environ, start_response)

    app.wsgi_app = middleware  # type: ignore[method-assign]
    assert app.test_client().get("/elsewhere").data == b"inner"


def test_asgi_middleware_on_asgi_app_is_used_for_asgi_calls(app: Demijohn) -> None:
    @app.route("/")
    def index() -> str:
        return "inner"

    inner = app.asgi_app
    seen: list[str] = []

    async def middleware(scope: t.Any, receive: t.Any, send: t.Any) -> None:
        seen.append(scope["path"])
        await inner(scope, receive, send)

    app.asgi_app = middleware  # type: ignore[method-assign]
    exchange = run(app, http_scope("/"), body_messages(b""))
    assert (exchange.status, exchange.body, seen) == (200, b"inner", ["/"])


def test_unknown_scope_type_is_refused(app: Demijohn) -> None:
    with pytest.raises(RuntimeError, match="scope type 'other'"):
        run(app, {"type": "other"}, [])


# -- scope to environ ----------------------------------------------------------


def test_environ_matches_what_a_wsgi_server_builds() -> None:
    scope = http_scope(
        "/app/caf%C3%A9/x",
        raw_path=b"/app/caf%C3%A9/x",
        root_path="/app",
        query_string=b"a=1&b=%20",
        headers=[
            (b"host", b"example.test:8080"),
            (b"content-type", b"text/plain"),
            (b"x-multi", b"one"),
            (b"x-multi", b"two"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
        ],
        server=("10.0.0.1", 8080),
        scheme="https",
    )
    environ = build_environ(scope, io.BytesIO(b"hi"), 2)
    assert environ["SCRIPT_NAME"] == "/app"
    # PEP 3333: the raw bytes, carried as latin-1 text.
    assert environ["PATH_INFO"] == "/café/x".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "a=1&b=%20"
    assert environ["HTTP_HOST"] == "example.test:8080"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "2"
    assert environ["HTTP_X_MULTI"] == "one,two"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["wsgi.url_scheme"] == "https"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("10.0.0.1", "8080")
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("10.1.2.3", "5555")
    assert environ["asgi.scope"] is scope


def test_scope_without_optional_keys_still_serves(echo_app: Demijohn) -> None:
    scope = {"type": "http", "method": "GET", "path": "/echo"}
    exchange = run(echo_app, scope, body_messages(b""))
    assert exchange.status == 200
    data = json.loads(exchange.body)
    assert data["path"] == "/echo"
    assert data["remote_addr"] is None
    assert data["host"] == "localhost"


def test_request_sees_root_path_client_and_cookies(echo_app: Demijohn) -> None:
    scope = http_scope(
        "/mount/echo",
        raw_path=b"/mount/echo",
        root_path="/mount",
        headers=[
            (b"host", b"example.test"),
            (b"cookie", b"x=1"),
            (b"accept", b"a/b"),
            (b"accept", b"c/d"),
        ],
    )
    data = json.loads(run(echo_app, scope, body_messages(b"")).body)
    assert data["path"] == "/echo"
    assert data["script_root"] == "/mount"
    assert data["remote_addr"] == "10.1.2.3"
    assert data["cookies"] == {"x": "1"}


# -- request bodies -----------------------------------------------------------


def test_body_in_several_messages_is_joined(echo_app: Demijohn) -> None:
    scope = http_scope("/echo", "POST")
    exchange = run(echo_app, scope, body_messages(b"ab", b"", b"cd"))
    assert json.loads(exchange.body)["data"] == "abcd"


def test_large_body_spills_to_disk_and_is_read_whole(echo_app: Demijohn) -> None:
    payload = b"x" * (SPOOL_MAX_SIZE + 1000)
    chunks = [payload[i : i + 65536] for i in range(0, len(payload), 65536)]
    exchange = run(echo_app, http_scope("/echo", "POST"), body_messages(*chunks))
    assert exchange.status == 200
    assert len(json.loads(exchange.body)["data"]) == len(payload)


def test_declared_length_over_the_limit_is_413_without_reading(
    echo_app: Demijohn,
) -> None:
    echo_app.config["MAX_CONTENT_LENGTH"] = 10
    scope = http_scope("/echo", "POST", headers=[(b"content-length", b"1000")])
    exchange = run(echo_app, scope, body_messages(b"x" * 1000))
    assert exchange.status == 413
    assert exchange.received == 0  # not one body message was read


@pytest.mark.parametrize(
    ("method", "http_version", "headers", "received"),
    [
        # HTTP/1 framing: no Content-Length, no Transfer-Encoding, no body.
        ("GET", "1.1", [], 0),
        ("HEAD", "1.0", [], 0),
        # Anything that may carry a body is read.
        ("GET", "1.1", [(b"content-length", b"4")], 1),
        ("GET", "1.1", [(b"transfer-encoding", b"chunked")], 1),
        ("GET", "2", [], 1),
        ("POST", "1.1", [], 1),
    ],
)
def test_a_request_without_a_body_by_its_framing_is_not_received(
    echo_app: Demijohn,
    method: str,
    http_version: str,
    headers: list[tuple[bytes, bytes]],
    received: int,
) -> None:
    scope = http_scope("/echo", method, http_version=http_version, headers=headers)
    exchange = run(echo_app, scope, body_messages(b"body"))
    assert exchange.status == 200
    assert exchange.received == received
    if received and method != "HEAD":
        assert json.loads(exchange.body)["data"] == "body"


def test_an_overridden_read_body_serves_bodiless_requests_too(app: Demijohn) -> None:
    from demijohn.asgi import ASGIHTTPConnection

    seen: list[str] = []

    class CountingConnection(ASGIHTTPConnection):
        async def read_body(self, receive: t.Any) -> t.Any:
            seen.append(self.scope["method"])
            return await super().read_body(receive)

    app.asgi_http_class = CountingConnection
    app.add_url_rule("/", "index", lambda: "ok")
    exchange = run(app, http_scope("/"), body_messages(b""))
    assert (exchange.body, exchange.received) == (b"ok", 0)
    assert seen == ["GET"]


def test_chunked_body_over_the_limit_stops_reading_at_the_limit(
    echo_app: Demijohn,
) -> None:
    echo_app.config["MAX_CONTENT_LENGTH"] = 10
    chunks = [b"12345678"] * 100
    exchange = run(echo_app, http_scope("/echo", "POST"), body_messages(*chunks))
    assert exchange.status == 413
    assert exchange.received == 2  # 16 bytes seen, then it stopped


def test_over_limit_body_reaches_the_apps_413_handler(echo_app: Demijohn) -> None:
    echo_app.config["MAX_CONTENT_LENGTH"] = 4

    @echo_app.errorhandler(413)
    def too_large(e: Exception) -> tuple[str, int]:
        return "custom 413", 413

    exchange = run(echo_app, http_scope("/echo", "POST"), body_messages(b"123456"))
    assert (exchange.status, exchange.body) == (413, b"custom 413")


def test_view_that_ignores_an_oversized_body_still_answers(app: Demijohn) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 4

    @app.post("/ignore")
    def ignore() -> str:
        return "fine"

    exchange = run(app, http_scope("/ignore", "POST"), body_messages(b"123456789"))
    assert (exchange.status, exchange.body) == (200, b"fine")


@pytest.mark.parametrize("sent", [b"abc", b"abcdefghij"])
def test_body_not_matching_its_content_length_is_400(
    echo_app: Demijohn, sent: bytes
) -> None:
    scope = http_scope("/echo", "POST", headers=[(b"content-length", b"5")])
    exchange = run(echo_app, scope, body_messages(sent))
    assert exchange.status == 400
    assert b"Content-Length" in exchange.body


def test_invalid_content_length_is_400(echo_app: Demijohn) -> None:
    scope = http_scope("/echo", "POST", headers=[(b"content-length", b"ten")])
    exchange = run(echo_app, scope, body_messages(b"x"))
    assert exchange.status == 400


def test_disconnect_mid_body_runs_nothing_and_leaks_nothing(app: Demijohn) -> None:
    calls: list[str] = []

    @app.post("/upload")
    def upload() -> str:
        calls.append("view")
        return "done"

    @app.route("/next")
    def next_request() -> str:
        return "next"

    messages = [
        {"type": "http.request", "body": b"part", "more_body": True},
        {"type": "http.disconnect"},
    ]
    exchange = run(app, http_scope("/upload", "POST"), messages)
    assert exchange.sent == []
    assert calls == []
    assert _cv_request.get(None) is None and _cv_app.get(None) is None
    assert run(app, http_scope("/next"), body_messages(b"")).body == b"next"


# -- responses ------------------------------------------------------------------


def test_head_sends_headers_without_body(app: Demijohn) -> None:
    @app.route("/")
    def index() -> str:
        return "hello"

    exchange = run(app, http_scope("/", "HEAD"), body_messages(b""))
    assert exchange.status == 200
    assert exchange.headers[b"content-length"] == b"5"
    assert exchange.body == b""


def test_sync_generator_body_is_streamed_in_chunks(app: Demijohn) -> None:
    @app.route("/")
    def index() -> t.Any:
        def generate() -> t.Iterator[str]:
            yield "a"
            yield "b"

        return generate()

    exchange = run(app, http_scope("/"), body_messages(b""))
    assert [m.get("body") for m in exchange.sent[1:]] == [b"a", b"b", b""]


def test_async_generator_body_keeps_the_request_context(app: Demijohn) -> None:
    @app.route("/")
    async def index() -> t.Any:
        async def generate() -> t.AsyncIterator[str]:
            yield request.args["x"]
            await asyncio.sleep(0)
            yield "!"

        return generate()

    scope = http_scope("/", query_string=b"x=hi")
    assert run(app, scope, body_messages(b"")).body == b"hi!"


def test_async_generator_body_under_wsgi_keeps_the_request_context(
    app: Demijohn,
) -> None:
    @app.route("/")
    async def index() -> t.Any:
        async def generate() -> t.AsyncIterator[str]:
            yield request.args["x"]
            yield "!"

        return generate()

    assert app.test_client().get("/?x=hi").data == b"hi!"


# -- native async ---------------------------------------------------------------


def test_async_view_runs_on_the_servers_loop(app: Demijohn) -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    @app.route("/")
    async def index() -> str:
        loops.append(asyncio.get_running_loop())
        return "ok"

    async def serve() -> asyncio.AbstractEventLoop:
        exchange = Exchange(body_messages(b""))
        await app(http_scope("/"), exchange.receive, exchange.send)
        return asyncio.get_running_loop()

    server_loop = asyncio.run(serve())
    assert loops == [server_loop]


def test_sync_view_runs_in_a_worker_thread_with_the_context(app: Demijohn) -> None:
    import threading

    threads: list[str] = []

    @app.before_request
    async def mark() -> None:
        g.marked = True

    @app.route("/")
    def index() -> str:
        threads.append(threading.current_thread().name)
        return f"{g.marked}-{request.path}"

    exchange = run(app, http_scope("/"), body_messages(b""))
    assert exchange.body == b"True-/"
    assert threads[0].startswith("demijohn-sync")


def test_many_slow_async_views_overlap(app: Demijohn) -> None:
    @app.route("/")
    async def index() -> str:
        await asyncio.sleep(0.2)
        return request.args["n"]

    async def serve_all() -> list[bytes]:
        async def one(n: int) -> bytes:
            exchange = Exchange(body_messages(b""))
            await app(
                http_scope("/", query_string=f"n={n}".encode()),
                exchange.receive,
                exchange.send,
            )
            return exchange.body

        return await asyncio.gather(*(one(n) for n in range(50)))

    loop = asyncio.new_event_loop()
    try:
        started = loop.time()
        bodies = loop.run_until_complete(serve_all())
        elapsed = loop.time() - started
    finally:
        loop.close()
    assert bodies == [str(n).encode() for n in range(50)]
    # 50 sequential sleeps would take 10 s.
    assert elapsed < 5


def test_sync_override_of_a_lifecycle_step_is_used_under_asgi() -> None:
    class Custom(Demijohn):
        def dispatch_request(self) -> t.Any:
            return "overridden " + str(super().dispatch_request())

    app = Custom("custom")

    @app.route("/")
    async def index() -> str:
        return "view"

    assert run(app, http_scope("/"), body_messages(b"")).body == b"overridden view"


# -- lifespan ---------------------------------------------------------------------


def lifespan_messages() -> list[Message]:
    return [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]


def test_lifespan_runs_startup_and_shutdown_hooks_in_an_app_context(
    app: Demijohn,
) -> None:
    events: list[str] = []

    @app.before_serving
    async def start() -> None:
        events.append(f"start:{g.__class__.__name__}")

    @app.before_serving
    def start_sync() -> None:
        events.append("start-sync")

    @app.while_serving
    async def around() -> t.AsyncGenerator[None, None]:
        events.append("around-start")
        yield
        events.append("around-end")

    @app.after_serving
    async def stop() -> None:
        events.append("stop")

    exchange = run(app, {"type": "lifespan"}, lifespan_messages())
    assert [m["type"] for m in exchange.sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert events == [
        "start:_AppCtxGlobals",
        "start-sync",
        "around-start",
        "around-end",
        "stop",
    ]


def test_failing_startup_reports_startup_failed_with_the_error(app: Demijohn) -> None:
    @app.before_serving
    def broken() -> None:
        raise RuntimeError("database unreachable")

    exchange = run(app, {"type": "lifespan"}, lifespan_messages())
    assert [m["type"] for m in exchange.sent] == ["lifespan.startup.failed"]
    assert "database unreachable" in exchange.sent[0]["message"]


def test_failing_shutdown_reports_shutdown_failed(app: Demijohn) -> None:
    @app.after_serving
    def broken() -> None:
        raise RuntimeError("flush failed")

    exchange = run(app, {"type": "lifespan"}, lifespan_messages())
    assert exchange.sent[-1]["type"] == "lifespan.shutdown.failed"
    assert "flush failed" in exchange.sent[-1]["message"]


def test_while_serving_generator_yielding_twice_is_an_error(app: Demijohn) -> None:
    @app.while_serving
    async def twice() -> t.AsyncGenerator[None, None]:
        yield
        yield

    exchange = run(app, {"type": "lifespan"}, lifespan_messages())
    assert exchange.sent[-1]["type"] == "lifespan.shutdown.failed"
    assert "yielded more than once" in exchange.sent[-1]["message"]


def test_lifespan_as_async_context_manager_and_sync_serving(app: Demijohn) -> None:
    events: list[str] = []
    app.before_serving(lambda: events.append("start"))
    app.after_serving(lambda: events.append("stop"))

    async def use() -> None:
        async with app.lifespan() as served:
            assert served is app
            events.append("serving")

    asyncio.run(use())
    with app.serving():
        events.append("wsgi serving")
    assert events == ["start", "serving", "stop", "start", "wsgi serving", "stop"]


def test_before_serving_is_a_setup_method(app: Demijohn, client: t.Any) -> None:
    @app.route("/")
    def index() -> str:
        return "x"

    client.get("/")
    with pytest.raises(AssertionError, match="before_serving"):
        app.before_serving(lambda: None)


# -- websockets -----------------------------------------------------------------


@pytest.fixture
def ws_client(app: Demijohn) -> ASGIClient:
    return ASGIClient(app, app.response_class)


def test_websocket_echo_with_args_query_and_session(
    app: Demijohn, ws_client: ASGIClient
) -> None:
    @app.route("/login")
    def login() -> str:
        session["user"] = "ada"
        return "ok"

    @app.websocket("/ws/<room>")
    async def chat(room: str) -> None:
        await websocket.accept()
        greeting = f"{room}:{request.args['name']}:{session.get('user')}"
        await websocket.send(greeting)
        while True:
            message = await websocket.receive()
            if message == "bye":
                await websocket.close(1000)
                return
            await websocket.send(message)

    ws_client.get("/login")
    with ws_client.websocket("/ws/lobby", query_string={"name": "bob"}) as ws:
        assert ws.receive() == "lobby:bob:ada"
        ws.send(b"\x00\x01")
        assert ws.receive() == b"\x00\x01"
        ws.send("bye")
        with pytest.raises(WebsocketDisconnected) as closed:
            ws.receive()
        assert closed.value.code == 1000


def test_an_interrupt_from_a_websocket_handler_reaches_the_test(
    app: Demijohn, ws_client: ASGIClient
) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        await websocket.receive()
        raise KeyboardInterrupt

    @app.route("/")
    def index() -> str:
        return "still serving"

    def converse() -> None:
        with ws_client.websocket("/ws") as ws:
            ws.send("stop")
            with pytest.raises(KeyboardInterrupt):
                ws.receive()

    finished_within(10, converse)
    # The client's event loop still runs.
    reply = finished_within(10, lambda: ws_client.get("/"))
    assert reply.data == b"still serving"


def test_the_client_refuses_a_request_from_its_own_event_loop(
    app: Demijohn, ws_client: ASGIClient
) -> None:
    # An async view runs on the loop the client waits on: a nested request
    # from there would wait for itself. A sync view runs on the thread that
    # made the request, where a nested request works (and runs its own sync
    # code on that thread too, as under WSGI).
    @app.route("/inner")
    def inner() -> str:
        return threading.current_thread().name

    @app.route("/nested-async")
    async def nested_async() -> str:
        return ws_client.get("/inner").text

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()

    @app.route("/nested-ws")
    async def nested_ws() -> str:
        with ws_client.websocket("/ws"):
            return "connected"

    @app.route("/nested-sync")
    def nested_sync() -> str:
        return threading.current_thread().name + "+" + ws_client.get("/inner").text

    for path in ("/nested-async", "/nested-ws"):
        with pytest.raises(RuntimeError, match="would wait for itself forever"):
            finished_within(10, lambda path=path: ws_client.get(path))

    def nested() -> tuple[str, str]:
        text = ws_client.get("/nested-sync").text
        return threading.current_thread().name, text

    caller, text = finished_within(10, nested)
    assert text == f"{caller}+{caller}"


def test_websocket_subprotocol_and_headers(
    app: Demijohn, ws_client: ASGIClient
) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        assert websocket.requested_subprotocols == ["v2", "v1"]
        await websocket.accept(subprotocol="v1", headers={"X-Server": "demijohn"})
        await websocket.send_json({"ua": websocket.headers.get("User-Agent", "")[:8]})

    with ws_client.websocket("/ws", subprotocols=["v2", "v1"]) as session_:
        assert session_.accepted_subprotocol == "v1"
        assert (b"x-server", b"demijohn") in session_.accepted_headers
        assert session_.receive_json() == {"ua": "Werkzeug"}


def test_websocket_unrequested_subprotocol_is_refused(
    app: Demijohn, ws_client: ASGIClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept(subprotocol="v9")

    with pytest.raises(WebsocketDenied) as denied:
        ws_client.websocket("/ws", subprotocols=["v1"]).__enter__()
    assert denied.value.status == 500


def test_before_websocket_can_refuse_with_an_http_response(
    app: Demijohn, ws_client: ASGIClient
) -> None:
    @app.before_websocket
    def require_token() -> None:
        if request.args.get("token") != "secret":
            abort(403)

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.send("welcome")

    with pytest.raises(WebsocketDenied) as denied:
        ws_client.websocket("/ws").__enter__()
    assert denied.value.status == 403
    with ws_client.websocket("/ws", query_string={"token": "secret"}) as ws:
        assert ws.receive() == "welcome"


def test_websocket_on_a_blueprint_with_its_own_before_websocket(
    app: Demijohn, ws_client: ASGIClient
) -> None:
    bp = Blueprint("live", __name__, url_prefix="/live")
    order: list[str] = []

    @app.before_websocket
    def app_hook() -> None:
        order.append("app")

    @bp.before_websocket
    def bp_hook() -> None:
        order.append("bp")

    @bp.websocket("/feed")
    async def feed() -> None:
        await websocket.send(request.blueprint or "")

    app.register_blueprint(bp)
    with ws_client.websocket("/live/feed") as ws:
        assert ws.receive() == "live"
    assert order == ["app", "bp"]


def test_unknown_websocket_url_is_refused_with_404(ws_client: ASGIClient) -> None:
    with pytest.raises(WebsocketDenied) as denied:
        ws_client.websocket("/nowhere").__enter__()
    assert denied.value.status == 404


def test_error_after_accept_closes_with_1011_and_is_logged(
    app: Demijohn, ws_client: ASGIClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        raise ValueError("handler bug")

    with (
        ws_client.websocket("/ws") as ws,
        pytest.raises(WebsocketDisconnected) as closed,
    ):
        ws.receive()
    assert closed.value.code == 1011
    assert "handler bug" in caplog.text


def test_client_disconnect_ends_the_handler_and_runs_teardown(
    app: Demijohn, ws_client: ASGIClient
) -> None:
    events: list[t.Any] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append(("teardown", exc))

    @app.websocket("/ws")
    async def handler() -> None:
        try:
            while True:
                await websocket.receive()
        finally:
            events.append("handler finished")

    with ws_client.websocket("/ws") as ws:
        ws.send("one")
    assert events == ["handler finished", ("teardown", None)]


def test_websocket_proxy_outside_a_websocket_explains(app: Demijohn) -> None:
    with app.test_request_context(), pytest.raises(RuntimeError, match="WebSocket"):
        websocket.accept  # noqa: B018
    with pytest.raises(RuntimeError, match="outside of request context"):
        websocket.accept  # noqa: B018


def test_websocket_send_rejects_other_types(
    app: Demijohn, ws_client: ASGIClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    errors: list[str] = []

    @app.websocket("/ws")
    async def handler() -> None:
        try:
            await websocket.send(42)  # type: ignore[arg-type]
        except TypeError as e:
            errors.append(str(e))
            await websocket.send("recovered")

    with ws_client.websocket("/ws") as ws:
        assert ws.receive() == "recovered"
    assert "send_json" in errors[0]


def test_websocket_route_rejects_methods_argument(app: Demijohn) -> None:
    with pytest.raises(TypeError, match="methods"):
        app.websocket("/ws", methods=["POST"])


def test_one_requests_sync_code_stays_on_one_thread(app: Demijohn) -> None:
    """Per-thread state (an SQLite connection kept on ``g``, a thread-local
    session) works under ASGI as under a threaded WSGI server."""
    import sqlite3

    def get_db() -> sqlite3.Connection:
        if "db" not in g:
            g.db = sqlite3.connect(":memory:")
        return t.cast(sqlite3.Connection, g.db)

    @app.before_request
    def open_db() -> None:
        get_db().execute("SELECT 1")

    @app.route("/")
    def index() -> str:
        return str(get_db().execute("SELECT 2").fetchone()[0])

    @app.teardown_appcontext
    def close_db(exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    client = ASGIClient(app, app.response_class)
    assert [client.get("/").data for _ in range(20)] == [b"2"] * 20


def test_custom_session_interface_does_its_io_off_the_event_loop(
    app: Demijohn,
) -> None:
    """A session interface that may block (Redis, a database) is opened and
    saved in the request's worker thread, never on the event loop."""
    import threading

    from demijohn.sessions import SecureCookieSession, SessionInterface

    threads: dict[str, str] = {}

    class RecordingInterface(SessionInterface):
        def open_session(self, app: t.Any, request: t.Any) -> SecureCookieSession:
            threads["open"] = threading.current_thread().name
            return SecureCookieSession({"user": "ada"})

        def save_session(self, app: t.Any, session: t.Any, response: t.Any) -> None:
            threads["save"] = threading.current_thread().name
            response.headers["X-Saved"] = session.get("user", "")

    app.session_interface = RecordingInterface()

    @app.route("/")
    async def index() -> str:
        threads["view"] = threading.current_thread().name
        return str(session["user"])

    exchange = run(app, http_scope("/"), body_messages(b""))
    assert exchange.body == b"ada"
    assert exchange.headers[b"x-saved"] == b"ada"
    assert threads["open"].startswith("demijohn-sync")
    assert threads["save"] == threads["open"]
    assert not threads["view"].startswith("demijohn-sync")


def test_sync_code_of_one_request_runs_on_one_thread_to_the_end(
    app: Demijohn,
) -> None:
    """A sync view, a sync teardown_request and a sync teardown_appcontext
    function share a thread, so per-thread resources (an SQLite connection
    on ``g``) can be closed where they were opened."""
    import threading

    threads: dict[str, str] = {}

    @app.route("/")
    def index() -> str:
        threads["view"] = threading.current_thread().name
        return "ok"

    @app.teardown_request
    def end_request(exc: BaseException | None) -> None:
        threads["request"] = threading.current_thread().name

    @app.teardown_appcontext
    def end_app_context(exc: BaseException | None) -> None:
        threads["appcontext"] = threading.current_thread().name

    exchange = run(app, http_scope("/"), body_messages(b""))
    assert exchange.body == b"ok"
    assert threads["view"].startswith("demijohn-sync")
    assert threads["request"] == threads["view"]
    assert threads["appcontext"] == threads["view"]


def test_worker_threads_go_back_to_the_pool_when_contexts_end(
    app: Demijohn,
) -> None:
    """Each application context gives its pinned thread back when it ends,
    including one an async view pushes itself. (A thread never given back
    would make later requests wait for one forever.)"""
    app.sync_worker_count = 2
    other = Demijohn("other")

    @app.route("/sync")
    def sync_view() -> str:
        return "sync"

    @app.route("/nested")
    async def nested() -> str:
        with other.app_context():
            name = await app.run_sync(lambda: "nested")
        return t.cast(str, name)

    for path in ["/sync", "/nested", "/sync", "/nested", "/sync"]:
        exchange = run(app, http_scope(path), body_messages(b""))
        assert exchange.body == path.strip("/").encode()
        pool = app.__dict__["_sync_worker_threads"]
        assert pool._idle.qsize() == pool._created


def test_call_through_the_class_and_from_a_subclass_override(app: Demijohn) -> None:
    @app.route("/")
    def index() -> str:
        return "hi"

    started: list[str] = []

    def start_response(status: str, headers: t.Any, exc_info: t.Any = None) -> t.Any:
        started.append(status)

    environ = app.test_request_context("/").request.environ
    body = b"".join(Demijohn.__call__(app, dict(environ), start_response))
    assert (body, started) == (b"hi", ["200 OK"])

    class Logged(Demijohn):
        def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:
            started.append("logged")
            return super().__call__(environ, start_response)

    logged = Logged("logged")
    logged.route("/")(index)
    assert logged.test_client().get("/").data == b"hi"
    assert started == ["200 OK", "logged"]


def test_a_shallow_copy_of_the_app_calls_its_own_wsgi_app(app: Demijohn) -> None:
    import copy

    @app.route("/")
    def index() -> str:
        return "original"

    assert app.test_client().get("/").data == b"original"
    copied = copy.copy(app)

    def replaced(environ: t.Any, start_response: t.Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"copy"]

    copied.wsgi_app = replaced  # type: ignore[method-assign]
    assert b"".join(copied({"REQUEST_METHOD": "GET"}, lambda *a: None)) == b"copy"
    assert app.test_client().get("/").data == b"original"


def test_the_call_attribute_of_a_copy_serves_the_copy(app: Demijohn) -> None:
    # Servers inspect app.__call__; calling it directly must reach the
    # object it was looked up on, copy or original.
    import copy

    copied = copy.copy(app)

    def replaced(environ: t.Any, start_response: t.Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"copy"]

    copied.wsgi_app = replaced  # type: ignore[method-assign]
    environ = EnvironBuilder("/").get_environ()
    assert b"".join(copied.__call__(environ, lambda *a: None)) == b"copy"
    assert inspect.iscoroutinefunction(copied.__call__)
    original = app.__call__(EnvironBuilder("/").get_environ(), lambda *a: None)
    assert b"".join(original) != b"copy"


def test_a_subclass_call_method_is_what_call_attribute_gives() -> None:
    calls: list[int] = []

    class Counting(Demijohn):
        def __call__(self, *args: t.Any) -> t.Any:
            calls.append(len(args))
            return super().__call__(*args)

    counting = Counting(__name__)
    counting.route("/")(lambda: "counted")
    started: list[str] = []
    body = counting.__call__(
        EnvironBuilder("/").get_environ(),
        lambda status, headers, exc_info=None: started.append(status),
    )
    assert b"".join(body) == b"counted"
    assert calls == [2]
    assert started == ["200 OK"]


def test_content_length_header_name_in_any_case_frames_the_body(
    echo_app: Demijohn,
) -> None:
    # The ASGI spec asks servers for lower-case names; one that sends
    # another case still has its Content-Length checked.
    for name in (b"Content-Length", b"CONTENT-LENGTH"):
        good = http_scope("/echo", "POST", headers=[(name, b"4")])
        assert (
            json.loads(run(echo_app, good, body_messages(b"abcd")).body)["data"]
            == "abcd"
        )
        short = http_scope("/echo", "POST", headers=[(name, b"9")])
        exchange = run(echo_app, short, body_messages(b"abcd"))
        assert exchange.status == 400
        assert b"Content-Length" in exchange.body


def test_header_list_is_lower_case_latin_1_in_order() -> None:
    from demijohn.output import asgi_header_list

    pairs = [("Content-Type", "text/plain"), ("X-Name", "caf\u00e9"), ("x-name", "2")]
    expected = [
        (b"content-type", b"text/plain"),
        (b"x-name", b"caf\xe9"),
        (b"x-name", b"2"),
    ]
    # The second time, the names come from what the first one encoded.
    assert asgi_header_list(pairs) == expected
    assert asgi_header_list(pairs) == expected
    with pytest.raises(UnicodeEncodeError):
        asgi_header_list([("X-Price", "10 \u20ac")])
    with pytest.raises(UnicodeEncodeError):
        asgi_header_list([("X-\u20ac", "1")])


def test_an_application_is_freed_when_its_last_reference_goes() -> None:
    # As Flask guarantees: no reference cycle keeps an application (and
    # what it holds) alive until the garbage collector runs.
    import gc
    import weakref

    gc.disable()
    try:
        app = Demijohn(__name__)
        assert app.view_functions["static"]
        assert inspect.iscoroutinefunction(app.__call__)
        gone = weakref.ref(app)
        del app
        assert gone() is None
    finally:
        gc.enable()


def test_the_call_attribute_does_not_keep_the_application() -> None:
    import gc

    app = Demijohn(__name__)
    call = app.__call__
    environ = EnvironBuilder("/missing").get_environ()
    assert b"Not Found" in b"".join(call(environ, lambda *a: None))
    del app
    gc.collect()  # whatever the request left in cycles
    with pytest.raises(ReferenceError, match="keep a reference to the application"):
        call(environ, lambda *a: None)
