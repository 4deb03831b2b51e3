"""The WSGI environ of an ASGI request, built the first time it is read.

What the request path reads before the environ is built must be exactly
what the built environ holds, and once built, the environ is the one source
of every value, under both protocols.
"""

from __future__ import annotations

import asyncio
import io
import json
import typing as t

import pytest
from asgi_scopes import http_scope
from hypothesis import given
from hypothesis import strategies as st

from demijohn import Demijohn, Request, request, session
from demijohn.asgi_environ import (
    EXTRA_ENVIRON_KEY,
    ScopeEnviron,
    build_environ,
    header_table,
    path_info,
)
from demijohn.testing import DemijohnClient
from demijohn.wrappers import KNOWN_ENVIRON_KEYS

Message = dict[str, t.Any]


def serve(app: Demijohn, scope: dict[str, t.Any]) -> list[Message]:
    """One request through the ASGI edge; returns the messages sent."""
    sent: list[Message] = []
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        if incoming:
            return incoming.pop()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))
    return sent


# -- what is known before building matches what building gives -------------

header_names = st.sampled_from(
    [
        b"cookie",
        b"Cookie",
        b"upgrade",
        b"UPGRADE",
        b"x-answer",
        b"x_answer",
        b"content-type",
        b"accept",
    ]
)
header_values = st.binary(max_size=12).map(lambda b: b.replace(b"\n", b""))
paths = st.sampled_from(
    [b"/", b"/a/b", b"/caf%C3%A9", b"/x%2Fy", b"/app/inner", b"/q?x=1", b"/%ff"]
)


@given(
    headers=st.lists(st.tuples(header_names, header_values), max_size=6),
    raw_path=paths,
    root_path=st.sampled_from(["", "/app"]),
    method=st.sampled_from(["GET", "POST", "OPTIONS", "HEAD"]),
    scheme=st.sampled_from(["http", "https"]),
    use_raw_path=st.booleans(),
    extra=st.sampled_from(
        [
            None,
            {},
            {"werkzeug.debug.preserve_context": print},
            {"REQUEST_METHOD": "PATCH", "HTTP_COOKIE": "from=extra"},
        ]
    ),
)
def test_known_values_are_the_built_environs(
    headers: list[tuple[bytes, bytes]],
    raw_path: bytes,
    root_path: str,
    method: str,
    scheme: str,
    use_raw_path: bool,
    extra: dict[str, t.Any] | None,
) -> None:
    scope = http_scope(
        headers=headers,
        root_path=root_path,
        method=method,
        scheme=scheme,
        path=raw_path.decode("latin-1"),
    )
    if use_raw_path:
        scope["raw_path"] = raw_path
    else:
        del scope["raw_path"]
    if extra is not None:
        scope[EXTRA_ENVIRON_KEY] = extra
    body = io.BytesIO(b"")
    source = ScopeEnviron(scope, body, None, header_table(scope))
    environ = build_environ(scope, body, None)
    assert set(source.known) >= KNOWN_ENVIRON_KEYS
    for key in KNOWN_ENVIRON_KEYS:
        assert source.known[key] == environ.get(key), key
    assert source.build() == environ


@pytest.mark.parametrize(
    ("raw_path", "root_path", "expected"),
    [
        (b"/plain", "", "/plain"),
        # Some servers leave the query string in raw_path.
        (b"/with?query=1", "", "/with"),
        (b"/caf%C3%A9", "", "/café".encode().decode("latin-1")),
        (b"/a%2Fb", "", "/a/b"),
        (b"/app/inner", "/app", "/inner"),
        (b"/other", "/app", "/other"),
    ],
)
def test_path_info_is_the_raw_path_less_the_root_path(
    raw_path: bytes, root_path: str, expected: str
) -> None:
    scope = http_scope(raw_path=raw_path, root_path=root_path)
    assert path_info(scope) == expected
    assert build_environ(scope, io.BytesIO(), None)["PATH_INFO"] == expected


def test_header_table_stands_in_only_for_unique_lower_case_names() -> None:
    assert header_table(http_scope(headers=[(b"a", b"1"), (b"b", b"2")])) == {
        b"a": b"1",
        b"b": b"2",
    }
    assert header_table(http_scope(headers=[])) == {}
    # A repeated name is joined in the environ; a dict would keep one value.
    assert header_table(http_scope(headers=[(b"a", b"1"), (b"a", b"2")])) is None
    # The environ folds case; a lookup by the lower-case name would miss.
    assert header_table(http_scope(headers=[(b"Cookie", b"a=1")])) is None


# -- the environ is built only when read, and then is the one source --------


def test_a_view_that_reads_nothing_leaves_the_environ_unbuilt(app: Demijohn) -> None:
    seen: list[bool] = []

    @app.route("/")
    async def index() -> str:
        seen.append("environ" in vars(request._get_current_object()))
        return "hi"

    sent = serve(app, http_scope("/"))
    assert sent[1]["body"] == b"hi"
    assert seen == [False]


def test_the_environ_a_view_reads_is_the_whole_environ(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/<name>")
    def show(name: str) -> dict[str, t.Any]:
        environ = request.environ
        return {
            "name": name,
            "path": environ["PATH_INFO"],
            "query": environ["QUERY_STRING"],
            "answer": environ["HTTP_X_ANSWER"],
            "method": environ["REQUEST_METHOD"],
            "bound": environ["werkzeug.request"] is request._get_current_object(),
            "same": request.environ is environ,
        }

    response = client.get("/caf%C3%A9?a=1", headers={"X-Answer": "42"})
    assert response.get_json() == {
        "name": "café",
        "path": "/café".encode().decode("latin-1"),
        "query": "a=1",
        "answer": "42",
        "method": "GET",
        "bound": True,
        "same": True,
    }


def test_an_environ_first_read_after_the_request_holds_no_request(
    app: Demijohn, client: DemijohnClient
) -> None:
    kept: list[Request] = []

    @app.route("/")
    def index() -> str:
        kept.append(request._get_current_object())
        return "ok"

    assert client.get("/").data == b"ok"
    assert kept[0].environ["werkzeug.request"] is None
    assert kept[0].environ["PATH_INFO"] == "/"


def test_a_hook_changing_the_environs_method_changes_the_response(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.before_request
    def make_it_head() -> None:
        request.environ["REQUEST_METHOD"] = "HEAD"

    @app.route("/")
    def index() -> str:
        return "a body"

    response = client.get("/")
    assert response.status_code == 200
    assert response.data == b""


def test_a_request_class_with_its_own_constructor_gets_the_environ(
    app: Demijohn, client: DemijohnClient
) -> None:
    class TracedRequest(Request):
        def __init__(self, environ: t.Any, *args: t.Any, **kwargs: t.Any) -> None:
            super().__init__(environ, *args, **kwargs)
            self.trace = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"

    app.request_class = TracedRequest

    @app.route("/traced")
    def traced() -> str:
        return t.cast(TracedRequest, request._get_current_object()).trace

    assert client.get("/traced").data == b"GET /traced"


def test_an_overridden_request_context_gets_a_real_environ(
    client_for: t.Callable[[Demijohn], DemijohnClient],
) -> None:
    environ_types: list[type] = []

    class RecordingApp(Demijohn):
        def request_context(self, environ: t.Any) -> t.Any:
            environ_types.append(type(environ))
            return super().request_context(environ)

    app = RecordingApp(__name__)

    @app.route("/")
    def index() -> str:
        return "ok"

    assert client_for(app).get("/").data == b"ok"
    assert environ_types == [dict]


@pytest.fixture
def client_for(
    make_client: t.Callable[..., DemijohnClient],
) -> t.Callable[[Demijohn], DemijohnClient]:
    return make_client


def test_a_session_cookie_in_a_repeated_cookie_header_is_refreshed(
    app: Demijohn,
) -> None:
    # The environ joins repeated Cookie headers; the check that decides
    # whether a plain request must refresh its session cookie reads the
    # same joined value before the environ is built.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True

    @app.route("/login")
    def login() -> str:
        session.permanent = True
        session["user"] = "ada"
        return "in"

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    login_response = serve(app, http_scope("/login"))
    set_cookie = dict(login_response[0]["headers"])[b"set-cookie"]
    session_cookie = set_cookie.split(b";", 1)[0]

    sent = serve(
        app,
        http_scope(
            "/plain",
            headers=[
                (b"host", b"example.test"),
                (b"cookie", b"theme=dark"),
                (b"cookie", session_cookie),
            ],
        ),
    )
    assert sent[1]["body"] == b"plain"
    refreshed = [v for k, v in sent[0]["headers"] if k == b"set-cookie"]
    assert len(refreshed) == 1
    assert refreshed[0].startswith(b"session=")


def test_headers_given_as_an_iterator_are_all_seen(app: Demijohn) -> None:
    @app.route("/")
    def index() -> dict[str, t.Any]:
        return {"answer": request.headers.get("X-Answer"), "cookies": request.cookies}

    scope = http_scope(
        "/",
        headers=iter([(b"x-answer", b"42"), (b"cookie", b"a=1")]),
    )
    sent = serve(app, scope)
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"]) == {"answer": "42", "cookies": {"a": "1"}}


def test_an_environ_assigned_to_the_request_leaves_the_servers_alone(
    app: Demijohn, client: DemijohnClient
) -> None:
    # As under WSGI, where the server keeps the environ it made: replacing
    # request.environ (unlike changing it in place) does not change how the
    # response is sent, while the request itself reads the new one.
    @app.before_request
    def replace_environ() -> None:
        request.environ = dict(request.environ, REQUEST_METHOD="HEAD")

    @app.route("/")
    def index() -> str:
        return request.environ["REQUEST_METHOD"]

    response = client.get("/")
    assert response.status_code == 200
    assert response.data == b"HEAD"
