"""The ASGI lane (``demijohn.asgi_lane``) must be invisible: a request it
serves gets exactly the response, hooks, signals and context behaviour the
general ASGI edge gives, and anything it does not handle itself goes the
general way.

The equivalence cases of ``test_plain_lane`` are served again with
``async def`` views, which are what the lane calls itself; the rest drive
the edge with hand-made scopes, for what a test client never sends.
"""

from __future__ import annotations

import functools
import gc
import io
import typing as t

import pytest
from asgi_scopes import http_scope
from test_asgi import Exchange, run
from test_plain_lane import (
    CASES,
    HOOKED_CASES,
    _build,
    _outcome,
    _serve_with_start_receivers,
    one_second,  # noqa: F401 - a fixture
)

from demijohn import (
    Demijohn,
    Response,
    asgi_lane,
    g,
    request,
    session,
)
from demijohn.asgi import ASGIHTTPConnection
from demijohn.testing import DemijohnClient

Message = dict[str, t.Any]


def _with_async_views(app: Demijohn) -> Demijohn:
    """Make every view of ``app`` an ``async def`` calling the original."""

    def wrap(view: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        @functools.wraps(view)
        async def async_view(**kwargs: t.Any) -> t.Any:
            return view(**kwargs)

        return async_view

    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = wrap(view)
    return app


def _with_async_hooks(app: Demijohn, pick: t.Callable[[int], bool]) -> Demijohn:
    """Make the ``before_request``, ``after_request`` and teardown functions
    of ``app`` (its blueprints' too) whose position in registration order
    ``pick`` chooses ``async def`` functions calling the originals."""

    def wrap(hook: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        @functools.wraps(hook)
        async def async_hook(*args: t.Any) -> t.Any:
            return hook(*args)

        return async_hook

    position = 0
    registries = (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
        {None: app.teardown_appcontext_funcs},
    )
    for registry in registries:
        for funcs in registry.values():
            for index, func in enumerate(funcs):
                if pick(position):
                    funcs[index] = wrap(func)
                position += 1
    return app


#: Which hooks are made ``async def``: none, all, or every other one (so
#: that the lane switches from awaiting them to running steps midway).
HOOK_KINDS = {
    "no-hooks": None,
    "def-hooks": lambda position: False,
    "async-hooks": lambda position: True,
    "mixed-hooks": lambda position: position % 2 == 0,
}


@pytest.mark.usefixtures("one_second")
@pytest.mark.parametrize("hooks", sorted(HOOK_KINDS))
@pytest.mark.parametrize(("method", "path"), CASES + HOOKED_CASES)
def test_async_views_answer_as_the_regular_steps_do(
    make_client: t.Callable[..., DemijohnClient], method: str, path: str, hooks: str
) -> None:
    pick = HOOK_KINDS[hooks]
    apps = []
    for plain in (True, False):
        app = _with_async_views(_build(plain=plain, hooks=pick is not None))
        apps.append(app if pick is None else _with_async_hooks(app, pick))
    lane_app, regular_app = apps
    kwargs = {"data": b"posted body"} if method == "POST" else {}

    lane = _outcome(make_client(lane_app), method, path, **kwargs)
    regular = _outcome(make_client(regular_app), method, path, **kwargs)

    assert lane == regular
    assert lane_app.config["TORN"] == regular_app.config["TORN"]


@pytest.fixture
def lane_count(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many responses the lane made itself (from a view's value)."""
    made = [0]
    original = asgi_lane.plain_body

    def counting(*args: t.Any) -> t.Any:
        plain = original(*args)
        if plain is not None:
            made[0] += 1
        return plain

    monkeypatch.setattr(asgi_lane, "plain_body", counting)
    return made


def _asgi_client(app: Demijohn) -> DemijohnClient:
    from demijohn.testing import ASGIClient

    return ASGIClient(app, app.response_class)


def test_plain_async_requests_take_the_lane_and_the_rest_do_not(
    lane_count: list[int],
) -> None:
    # Receivers other tests disconnected from one sender stay listed in
    # blinker until their functions are collected, and keep the lane shut.
    gc.collect()
    lane_app = _with_async_views(_build(plain=True))
    regular_app = _with_async_views(_build(plain=False))
    hooked_app = _with_async_views(_build(plain=True, hooks=True))
    for app in (lane_app, regular_app, hooked_app):
        client = _asgi_client(app)
        for path in ("/text", "/dict", "/bytes", "/urls/1/a", "/list", "/crash"):
            client.get(path).close()
    # Text, a dict, bytes and text built with url_for and g from the plain
    # app; its list and crash, and every request of the other two, went
    # the general way.
    assert lane_count == [4]


@pytest.fixture
def general(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests the general ASGI edge served."""
    paths: list[str] = []
    original = ASGIHTTPConnection.__call__

    async def recording(self: ASGIHTTPConnection, receive: t.Any, send: t.Any) -> None:
        paths.append(self.scope["path"])
        await original(self, receive, send)

    monkeypatch.setattr(ASGIHTTPConnection, "__call__", recording)
    return paths


@pytest.mark.parametrize("hooks", ["async def", "def"])
def test_an_app_with_hooks_takes_the_lane(
    app: Demijohn, general: list[str], hooks: str
) -> None:
    calls: list[str] = []

    def before() -> None:
        calls.append("before")
        g.user = "amy"

    def after(response: Response) -> Response:
        calls.append("after")
        response.headers["X-User"] = g.user
        return response

    def teardown(error: BaseException | None) -> None:
        calls.append(f"teardown {error!r}")

    for register, hook in (
        (app.before_request, before),
        (app.after_request, after),
        (app.teardown_appcontext, teardown),
    ):
        if hooks == "async def":
            hook = _written_async(hook)
        register(hook)

    @app.get("/<name>")
    async def index(name: str) -> str:
        calls.append("view")
        return f"hi {name}"

    client = _asgi_client(app)
    response = client.get("/ann")
    assert (response.get_data(), response.headers["X-User"]) == (b"hi ann", "amy")
    assert calls == ["before", "view", "after", "teardown None"]
    assert general == []
    response = client.head("/ann")
    assert (response.get_data(), response.headers["Content-Length"]) == (b"", "6")


@pytest.mark.parametrize("kinds", [("async def", "def"), ("def", "async def")])
def test_every_teardown_on_the_lane_runs_and_the_first_error_is_raised(
    app: Demijohn,
    general: list[str],
    kinds: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    def failing(name: str, kind: str) -> t.Callable[[BaseException | None], None]:
        def teardown(error: BaseException | None) -> None:
            ran.append(f"{name} {error!r}")
            raise RuntimeError(name)

        return _written_async(teardown) if kind == "async def" else teardown

    first, second = kinds
    app.teardown_request(failing("request registered first", first))
    app.teardown_request(failing("request registered last", second))
    app.teardown_appcontext(failing("app", first))

    @app.get("/")
    async def index() -> str:
        return "ok"

    # The request's functions ran in reverse order of registration, then
    # the app context's, though each raised. As in Flask, the application
    # context's error leaves the pop, with the first of the request's as
    # its context and the other logged.
    with pytest.raises(RuntimeError, match="app") as raised:
        _asgi_client(app).get("/")
    assert str(raised.value.__context__) == "request registered last"
    assert ran == [
        "request registered last None",
        "request registered first None",
        "app None",
    ]
    assert caplog.text.count("Another teardown function failed") == 1
    assert general == []


def _written_async(func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    @functools.wraps(func)
    async def async_func(*args: t.Any) -> t.Any:
        return func(*args)

    return async_func


def test_a_custom_asgi_http_class_serves_every_request(app: Demijohn) -> None:
    served: list[str] = []

    class Recording(ASGIHTTPConnection):
        async def handle(self, source: t.Any, receive: t.Any, send: t.Any) -> None:
            served.append(source.get("PATH_INFO"))
            await super().handle(source, receive, send)

    app.asgi_http_class = Recording

    @app.get("/")
    async def index() -> str:
        return "hi"

    exchange = _run(app, http_scope("/"))
    assert (exchange.status, exchange.body) == (200, b"hi")
    assert served == ["/"]


# -- scopes a test client does not send ---------------------------------------


def _run(
    app: t.Any, scope: dict[str, t.Any], messages: list[Message] | None = None
) -> Exchange:
    # A server has an empty body to give when asked.
    empty = [{"type": "http.request", "body": b"", "more_body": False}]
    return run(app, scope, empty if messages is None else messages)


@pytest.fixture
def echo(app: Demijohn) -> Demijohn:
    @app.route("/echo", methods=["GET", "HEAD"])
    async def echo_view() -> dict[str, t.Any]:
        return {
            "data": request.get_data(as_text=True),
            "cookies": dict(request.cookies),
            "upgrade": request.headers.get("Upgrade"),
        }

    return app


def test_a_get_with_a_body_has_its_body_read(echo: Demijohn) -> None:
    body = [{"type": "http.request", "body": b"payload", "more_body": False}]
    for name in (b"content-length", b"Content-Length"):
        scope = http_scope("/echo", headers=[(b"host", b"x"), (name, b"7")])
        assert _run(echo, scope, body).body.startswith(
            b'{"cookies":{},"data":"payload"'
        )
    chunked = http_scope("/echo", headers=[(b"transfer-encoding", b"chunked")])
    assert b'"data":"payload"' in _run(echo, chunked, body).body


def test_repeated_and_mixed_case_headers_read_as_the_environ_joins_them(
    echo: Demijohn,
) -> None:
    for headers in (
        [(b"cookie", b"a=1"), (b"cookie", b"b=2")],
        [(b"Cookie", b"a=1; b=2")],
    ):
        exchange = _run(echo, http_scope("/echo", headers=headers))
        assert b'"cookies":{"a":"1","b":"2"}' in exchange.body


def test_headers_in_any_iterable_are_read(echo: Demijohn) -> None:
    headers = ((b"cookie", b"a=1"), (b"upgrade", b"h2c"))
    for given in (headers, iter(headers)):
        exchange = _run(echo, http_scope("/echo", headers=given))
        assert b'"cookies":{"a":"1"}' in exchange.body
        assert b'"upgrade":"h2c"' in exchange.body


def test_head_sends_the_length_of_the_get_without_its_body(echo: Demijohn) -> None:
    get = _run(echo, http_scope("/echo"))
    head = _run(echo, http_scope("/echo", method="HEAD"))
    assert head.status == 200 and head.body == b""
    assert head.headers[b"content-length"] == str(len(get.body)).encode()
    assert head.headers == get.headers


def test_http2_requests_are_served(echo: Demijohn) -> None:
    exchange = _run(echo, http_scope("/echo", http_version="2"))
    assert exchange.status == 200


def test_a_bound_application_context_is_the_requests(app: Demijohn) -> None:
    @app.get("/g")
    async def read_g() -> str:
        g.seen_by_view = True
        return str(g.get("before"))

    with app.app_context():
        g.before = "set outside"
        exchange = _run(app, http_scope("/g"))
        assert exchange.body == b"set outside"
        # As with the general edge, the request used the bound context.
        assert g.get("seen_by_view") is True


# -- registered while a request runs ---------------------------------------------


def test_a_session_the_view_opens_is_saved(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.get("/write")
    async def write() -> str:
        session["n"] = 1
        return "written"

    @app.get("/read")
    async def read() -> dict[str, t.Any]:
        return {"n": session.get("n")}

    response = client.get("/write")
    assert "session=" in response.headers["Set-Cookie"]
    assert client.get("/read").get_json() == {"n": 1}


# -- methods replaced on the instance -------------------------------------------


def test_replacing_and_restoring_a_method_on_the_instance(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.get("/")
    async def index() -> str:
        return "plain"

    original = app.make_response

    def marking(rv: t.Any) -> Response:
        response = original(rv)
        response.headers["X-Marked"] = "yes"
        return response

    app.make_response = marking  # type: ignore[method-assign]
    assert "make_response" in app._replaced_methods
    assert client.get("/").headers.get("X-Marked") == "yes"

    del app.make_response
    assert "make_response" not in app._replaced_methods
    assert "X-Marked" not in client.get("/").headers


def test_only_methods_count_as_replaced(app: Demijohn) -> None:
    app.request_class = type("Custom", (app.request_class,), {})
    app.debug = False
    app.some_extension_state = {"x": 1}  # type: ignore[attr-defined]
    assert app._replaced_methods == frozenset()


def test_requests_with_a_body_take_the_lane(echo: Demijohn, general: list[str]) -> None:
    echo.add_url_rule(
        "/echo-post", "echo_post", echo.view_functions["echo_view"], methods=["POST"]
    )
    scope = http_scope(
        "/echo-post",
        method="POST",
        headers=[(b"host", b"example.test"), (b"content-length", b"5")],
    )
    exchange = _run(echo, scope, [{"type": "http.request", "body": b"hello"}])
    assert exchange.status == 200
    assert b'"data":"hello"' in exchange.body
    # A body shorter than its Content-Length is refused before the view.
    short = _run(echo, dict(scope), [{"type": "http.request", "body": b"hi"}])
    assert short.status == 400
    # The client leaving before its body is sent gets no response at all.
    gone = _run(echo, dict(scope), [{"type": "http.disconnect"}])
    assert gone.sent == []
    assert general == []


@pytest.mark.parametrize("edge", ["lane", "general"])
def test_a_body_spilled_to_disk_is_closed_after_the_request(
    app: Demijohn, edge: str
) -> None:
    from demijohn.asgi import SPOOL_MAX_SIZE

    if edge == "general":

        class General(ASGIHTTPConnection):
            pass

        app.asgi_http_class = General
    streams: list[t.Any] = []

    @app.post("/upload")
    async def upload() -> str:
        streams.append(request.environ["wsgi.input"])
        return str(len(request.get_data()))

    chunk = b"x" * (SPOOL_MAX_SIZE // 2 + 1)
    messages = [
        {"type": "http.request", "body": chunk, "more_body": True},
        {"type": "http.request", "body": chunk, "more_body": False},
    ]
    exchange = _run(app, http_scope("/upload", method="POST"), messages)
    assert (exchange.status, exchange.body) == (200, str(2 * len(chunk)).encode())
    assert not isinstance(streams[0], io.BytesIO)  # it did spill
    assert streams[0].closed


@pytest.mark.parametrize("teardown", [None, "async def", "def"])
def test_uploaded_files_are_closed_after_the_request(
    app: Demijohn, general: list[str], teardown: str | None
) -> None:
    uploads: list[t.Any] = []
    torn: list[bool] = []

    @app.post("/upload")
    async def upload() -> str:
        uploads.append(request.files["f"])
        return uploads[0].read().decode()

    def note(error: BaseException | None) -> None:
        # The teardown functions run before the request is closed.
        torn.append(uploads[0].closed)

    async def async_note(error: BaseException | None) -> None:
        note(error)

    if teardown is not None:
        app.teardown_request(async_note if teardown == "async def" else note)
    rv = _asgi_client(app).post("/upload", data={"f": (io.BytesIO(b"content"), "a")})
    assert rv.get_data() == b"content"
    assert uploads[0].closed
    assert torn == ([] if teardown is None else [False])
    assert general == []


@pytest.mark.parametrize("path", ["/text", "/urls/41/ann", "/text?signal=raise"])
def test_start_signals_keep_async_views_on_the_lane(
    general: list[str], path: str
) -> None:
    outcomes = []
    for plain in (True, False):
        app = _with_async_views(_build(plain=plain, hooks=True))
        exchange, events = _serve_with_start_receivers(
            app, _asgi_client(app), "GET", path
        )
        outcomes.append((exchange, events, app.config["TORN"]))
    assert outcomes[0] == outcomes[1]
    # Only the app kept off the lane (by its replaced method) went the
    # general way.
    assert general == [path.split("?")[0]]
