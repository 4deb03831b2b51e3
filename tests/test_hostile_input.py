"""Hostile requests against an application in production mode.

Every case runs under WSGI and ASGI. Each must get a clean 4xx (or the
documented behaviour, such as an empty form for a malformed multipart body),
must leak no traceback, secret or file path, and must leave the application
healthy: the well-formed request sent right after it gets a 200.
"""

from __future__ import annotations

import io
import json
import re
import time
import typing as t
from pathlib import Path
from unittest import mock

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from demijohn import (
    Demijohn,
    make_response,
    redirect,
    request,
    send_from_directory,
    session,
)
from demijohn.testing import DemijohnClient
from demijohn.testing_transport import run_on_background_loop

MakeClient = t.Callable[..., DemijohnClient]

SECRET_KEY = "hostile-suite-secret-7f3a9c"
SECRET_FILE_TEXT = b"TOP SECRET FILE CONTENTS"
MULTIPART = "multipart/form-data; boundary=XX"


# -- the application under attack ----------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    static.mkdir()
    (static / "public.txt").write_bytes(b"public")
    (tmp_path / "secret.txt").write_bytes(SECRET_FILE_TEXT)
    (tmp_path / "static-private").mkdir()
    (tmp_path / "static-private" / "secret.txt").write_bytes(SECRET_FILE_TEXT)
    return tmp_path


@pytest.fixture
def app(root: Path) -> Demijohn:
    application = Demijohn("hostile_app", root_path=str(root))
    # Production mode: a framework bug shows up as a 500 response, not as an
    # exception raised into the test.
    application.config.update(
        TESTING=False, PROPAGATE_EXCEPTIONS=False, SECRET_KEY=SECRET_KEY
    )
    static = str(root / "static")

    @application.route("/")
    def index() -> str:
        return "ok"

    @application.post("/form")
    def form() -> dict[str, t.Any]:
        return {"form": request.form.to_dict(), "files": sorted(request.files)}

    @application.post("/data")
    def data() -> str:
        return str(len(request.get_data()))

    @application.post("/json")
    def read_json() -> dict[str, t.Any]:
        return {"value": request.get_json()}

    @application.route("/args")
    def args() -> dict[str, t.Any]:
        return {"count": len(request.args), "a": request.args.get("a")}

    @application.route("/headers")
    def headers() -> dict[str, t.Any]:
        return {"count": len(request.headers)}

    @application.route("/cookies")
    def cookies() -> dict[str, t.Any]:
        return dict(request.cookies)

    @application.route("/auth")
    def auth() -> str:
        return repr(request.authorization)

    @application.route("/session")
    def read_session() -> dict[str, t.Any]:
        return dict(session)

    @application.route("/session/set")
    def set_session() -> str:
        session["user"] = "ann"
        return "set"

    @application.route("/p/<name>")
    def echo(name: str) -> str:
        return name

    @application.route("/files/<path:name>")
    def files(name: str) -> t.Any:
        return send_from_directory(static, name)

    @application.route("/download")
    def download() -> t.Any:
        return send_from_directory(static, request.args["name"])

    return application


@pytest.fixture
def leaks(root: Path) -> list[bytes]:
    """Text that must never reach a client."""
    return [
        SECRET_KEY.encode(),
        SECRET_FILE_TEXT,
        b"Traceback",
        b'File "',
        b"site-packages",
        str(root).encode(),
    ]


def assert_clean(
    rv: t.Any, status: int, client: DemijohnClient, leaks: list[bytes]
) -> None:
    """``rv`` has ``status``, leaks nothing, and the app still serves."""
    assert rv.status_code == status, rv.data[:300]
    raw = rv.data + str(rv.headers).encode("latin-1", "replace")
    for secret in leaks:
        assert secret not in raw
    healthy = client.get("/")
    assert healthy.status_code == 200
    assert healthy.data == b"ok"


# -- malformed multipart -------------------------------------------------------


def _part(name: bytes, value: bytes) -> bytes:
    return (
        b'--XX\r\nContent-Disposition: form-data; name="'
        + name
        + b'"\r\n\r\n'
        + value
        + b"\r\n"
    )


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("multipart/form-data", _part(b"a", b"1"), id="no-boundary"),
        pytest.param(
            "multipart/form-data; boundary=", _part(b"a", b"1"), id="empty-boundary"
        ),
        pytest.param(
            "multipart/form-data; boundary=\u00e9", _part(b"a", b"1"), id="non-ascii"
        ),
        pytest.param(
            "multipart/form-data; boundary=" + "b" * 500,
            _part(b"a", b"1"),
            id="wrong-long-boundary",
        ),
        pytest.param(
            MULTIPART,
            b'--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue',
            id="unterminated-part",
        ),
        pytest.param(
            MULTIPART,
            b'--XX\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\nab',
            id="unterminated-file",
        ),
        pytest.param(
            MULTIPART,
            b'--XX\r\nContent-Disposition: form-data; name="a"',
            id="unterminated-headers",
        ),
        pytest.param(MULTIPART, b"\x00\xff" * 500, id="binary-garbage"),
        pytest.param(MULTIPART, b"", id="empty-body"),
    ],
)
def test_malformed_multipart_gives_an_empty_form(
    client: DemijohnClient, leaks: list[bytes], content_type: str, body: bytes
) -> None:
    # Werkzeug's form parser is silent by default: a body it cannot parse
    # gives an empty form rather than an error.
    rv = client.post("/form", data=body, content_type=content_type)
    assert_clean(rv, 200, client, leaks)
    assert rv.get_json() == {"form": {}, "files": []}


def test_parts_beyond_max_form_parts_are_413(
    app: Demijohn, client: DemijohnClient, leaks: list[bytes]
) -> None:
    assert app.config["MAX_FORM_PARTS"] == 1000
    body = b"".join(_part(b"f%d" % i, b"v") for i in range(5000)) + b"--XX--\r\n"
    rv = client.post("/form", data=body, content_type=MULTIPART)
    assert_clean(rv, 413, client, leaks)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            b'--XX\r\nContent-Disposition: form-data; name="a"\r\nX-Big: '
            + b"h" * 600_000
            + b"\r\n\r\nv\r\n--XX--\r\n",
            id="one-huge-header",
        ),
        pytest.param(
            b"--XX\r\n"
            + b"X-H: v\r\n" * 80_000
            + b'Content-Disposition: form-data; name="a"\r\n\r\nv\r\n--XX--\r\n',
            id="many-headers",
        ),
        pytest.param(
            b'--XX\r\nContent-Disposition: form-data; name="f"; filename="'
            + b"n" * 600_000
            + b'"\r\n\r\nv\r\n--XX--\r\n',
            id="huge-filename",
        ),
        pytest.param(_part(b"a", b"v" * 600_000) + b"--XX--\r\n", id="huge-field"),
    ],
)
def test_part_headers_and_fields_beyond_max_form_memory_size_are_413(
    app: Demijohn, client: DemijohnClient, leaks: list[bytes], body: bytes
) -> None:
    assert app.config["MAX_FORM_MEMORY_SIZE"] == 500_000
    rv = client.post("/form", data=body, content_type=MULTIPART)
    assert_clean(rv, 413, client, leaks)


# -- bodies beyond MAX_CONTENT_LENGTH ------------------------------------------

LIMIT = 10_000
# Werkzeug checks for one byte past the limit; the ASGI edge stops at the
# first message that crosses it.
SLACK = 1024


class CountingStream(io.RawIOBase):
    """An endless request body that counts how much of it was read."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: t.Any) -> int:
        size = len(buffer)
        buffer[:size] = b"x" * size
        self.bytes_read += size
        return size


def _wsgi_post(
    app: Demijohn, path: str, content_type: str, environ: dict[str, t.Any]
) -> tuple[int, bytes]:
    builder = EnvironBuilder(path, method="POST", content_type=content_type)
    base = builder.get_environ()
    builder.close()
    base.pop("CONTENT_LENGTH", None)
    base.update(environ)
    app_iter, status, _ = run_wsgi_app(app, base, buffered=True)
    return int(status.split()[0]), b"".join(app_iter)


async def _asgi_post(
    app: Demijohn,
    path: str,
    headers: list[tuple[bytes, bytes]],
    chunks: list[bytes] | None = None,
) -> tuple[int, bytes, int]:
    """POST ``chunks`` (by default an endless body of 1 KiB messages)
    through the ASGI interface, counting the body bytes the application
    received; returns the status, the response body and that count."""
    received = 0
    status = 0
    body = b""

    async def receive() -> dict[str, t.Any]:
        nonlocal received
        chunk = b"x" * 1024 if chunks is None else chunks.pop(0)
        received += len(chunk)
        more = chunks is None or bool(chunks)
        return {"type": "http.request", "body": chunk, "more_body": more}

    async def send(message: t.MutableMapping[str, t.Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            body += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *headers],
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 5000),
    }
    await app(scope, receive, send)
    return status, body, received


BODY_READERS = [
    ("/data", "application/octet-stream"),
    ("/json", "application/json"),
    ("/form", "application/x-www-form-urlencoded"),
    ("/form", MULTIPART),
]


@pytest.mark.parametrize(("path", "content_type"), BODY_READERS)
def test_declared_length_beyond_limit_is_413_without_reading(
    app: Demijohn,
    client: DemijohnClient,
    protocol: str,
    leaks: list[bytes],
    path: str,
    content_type: str,
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = LIMIT
    declared = str(50 * LIMIT)
    if protocol == "wsgi":
        stream = CountingStream()
        status, body = _wsgi_post(
            app,
            path,
            content_type,
            {"wsgi.input": stream, "CONTENT_LENGTH": declared},
        )
        read = stream.bytes_read
    else:
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", declared.encode()),
        ]
        status, body, read = run_on_background_loop(_asgi_post(app, path, headers))
    assert status == 413
    assert read == 0
    assert b"Request Entity Too Large" in body
    assert_clean(client.get("/"), 200, client, leaks)


@pytest.mark.parametrize(("path", "content_type"), BODY_READERS)
def test_chunked_body_beyond_limit_is_413_without_reading_the_rest(
    app: Demijohn,
    client: DemijohnClient,
    protocol: str,
    leaks: list[bytes],
    path: str,
    content_type: str,
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = LIMIT
    if protocol == "wsgi":
        stream = CountingStream()
        # What a server that de-chunks the body (gunicorn, Werkzeug's) gives.
        status, body = _wsgi_post(
            app,
            path,
            content_type,
            {
                "wsgi.input": stream,
                "wsgi.input_terminated": True,
                "HTTP_TRANSFER_ENCODING": "chunked",
            },
        )
        read = stream.bytes_read
    else:
        headers = [
            (b"content-type", content_type.encode()),
            (b"transfer-encoding", b"chunked"),
        ]
        status, body, read = run_on_background_loop(_asgi_post(app, path, headers))
    # Not a truncated body handed to the view: a 413.
    assert status == 413, body
    assert LIMIT <= read <= LIMIT + SLACK
    assert_clean(client.get("/"), 200, client, leaks)


def test_body_without_length_or_chunking_beyond_limit(
    app: Demijohn, client: DemijohnClient, protocol: str, leaks: list[bytes]
) -> None:
    # HTTP/2 requests may carry neither Content-Length nor chunked framing.
    app.config["MAX_CONTENT_LENGTH"] = LIMIT
    if protocol == "wsgi":
        # Without a length and without ``wsgi.input_terminated`` a WSGI body
        # cannot be read safely: Werkzeug reads none of it.
        stream = CountingStream()
        status, body = _wsgi_post(
            app, "/data", "application/octet-stream", {"wsgi.input": stream}
        )
        assert (status, body, stream.bytes_read) == (200, b"0", 0)
    else:
        status, body, read = run_on_background_loop(_asgi_post(app, "/data", []))
        assert status == 413
        assert LIMIT <= read <= LIMIT + SLACK
    assert_clean(client.get("/"), 200, client, leaks)


def test_chunked_body_within_limit_reaches_the_view(
    app: Demijohn, protocol: str
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = LIMIT
    body = b"y" * 3000
    if protocol == "wsgi":
        environ = {
            "wsgi.input": io.BytesIO(body),
            "wsgi.input_terminated": True,
            "HTTP_TRANSFER_ENCODING": "chunked",
        }
        status, data = _wsgi_post(app, "/data", "application/octet-stream", environ)
    else:
        headers = [(b"transfer-encoding", b"chunked")]
        chunks = [body[:1000], body[1000:]]
        status, data, _ = run_on_background_loop(
            _asgi_post(app, "/data", headers, chunks)
        )
    assert (status, data) == (200, b"3000")


@pytest.mark.parametrize(("path", "content_type"), BODY_READERS)
def test_body_beyond_limit_through_the_client_is_413(
    app: Demijohn,
    client: DemijohnClient,
    leaks: list[bytes],
    path: str,
    content_type: str,
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = LIMIT
    body = _part(b"a", b"v" * 2 * LIMIT) if content_type == MULTIPART else None
    body = body or (b'"' + b"v" * 2 * LIMIT + b'"')
    rv = client.post(path, data=body, content_type=content_type)
    assert_clean(rv, 413, client, leaks)


# -- JSON and content types ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"a": "\xff"}', "application/json", 400),
        (b"\x00", "application/json", 400),
        (b"", "application/json", 400),
        (b"[" * 100_000, "application/json", 400),
        (b'{"a":' * 50_000, "application/json", 400),
        (b"1" * 10_000, "application/json", 400),
        (b'{"a": 1}', "text/plain", 415),
        (b'{"a": 1}', "application/x-www-form-urlencoded", 415),
        (b'{"a": 1}', "", 415),
    ],
    ids=[
        "syntax",
        "bad-utf8",
        "nul",
        "empty",
        "deep-array",
        "deep-object",
        "huge-int",
        "text",
        "form",
        "none",
    ],
)
def test_bad_json_is_a_clean_4xx(
    client: DemijohnClient,
    leaks: list[bytes],
    body: bytes,
    content_type: str,
    status: int,
) -> None:
    rv = client.post("/json", data=body, content_type=content_type)
    assert_clean(rv, status, client, leaks)
    # Outside debug mode the parser's message is not echoed.
    assert b"Expecting" not in rv.data
    assert b"recursion" not in rv.data


# -- invalid UTF-8 and bad percent-encoding ------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/p/%ff%fe", "\ufffd\ufffd"),
        ("/p/%zz", "%zz"),
        ("/p/%", "%"),
        ("/p/%c3", "\ufffd"),
        ("/p/a%00b", "a\x00b"),
    ],
)
def test_bad_bytes_in_the_path_are_replaced(
    client: DemijohnClient, leaks: list[bytes], path: str, expected: str
) -> None:
    rv = client.get(path)
    assert_clean(rv, 200, client, leaks)
    assert rv.text == expected


def test_raw_non_utf8_path_bytes(client: DemijohnClient, leaks: list[bytes]) -> None:
    # A server passes raw bytes of the request line through as latin-1.
    rv = client.get("/", environ_overrides={"PATH_INFO": "/p/\xff\xfe"})
    assert_clean(rv, 200, client, leaks)
    assert rv.text == "\ufffd\ufffd"
    rv = client.get("/", environ_overrides={"PATH_INFO": "/\xff\xfe"})
    assert_clean(rv, 404, client, leaks)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a=%ff", "%FF"),
        ("a=%zz", "%zz"),
        ("a=%", "%"),
        ("a=%e2%82", "%E2%82"),
        ("a=\xff\xfe", "%FF%FE"),
        ("a=caf\xc3\xa9", "caf\u00e9"),
        ("a=1&&&=&a", "1"),
    ],
)
def test_bad_bytes_in_the_query_string_stay_percent_encoded(
    client: DemijohnClient, leaks: list[bytes], query: str, expected: str
) -> None:
    # Passed as the raw environ value: the test client would quote it.
    rv = client.get("/args", environ_overrides={"QUERY_STRING": query})
    assert_clean(rv, 200, client, leaks)
    assert rv.get_json()["a"] == expected


def test_raw_non_utf8_query_bytes_in_full_path_and_values(
    app: Demijohn, client: DemijohnClient, leaks: list[bytes]
) -> None:
    @app.route("/full")
    def full() -> dict[str, t.Any]:
        return {"full_path": request.full_path, "values": request.values.to_dict()}

    rv = client.get("/full", environ_overrides={"QUERY_STRING": "q=\xff"})
    assert_clean(rv, 200, client, leaks)
    assert rv.get_json() == {"full_path": "/full?q=%FF", "values": {"q": "%FF"}}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"a=%ff%fe&b=\xff", "application/x-www-form-urlencoded"),
        (b"a=%zz%&b=%", "application/x-www-form-urlencoded"),
        (b"a=1", "application/x-www-form-urlencoded; charset=bogus"),
        (_part(b"\xff", b"\xff\xfe") + b"--XX--\r\n", MULTIPART),
        (
            b'--XX\r\nContent-Disposition: form-data; name="a"\r\n'
            b"Content-Type: text/plain; charset=bogus\r\n\r\nx\r\n--XX--\r\n",
            MULTIPART,
        ),
    ],
    ids=["urlencoded-utf8", "urlencoded-percent", "bogus-charset", "mp-utf8", "mp-cs"],
)
def test_bad_bytes_in_form_fields(
    client: DemijohnClient, leaks: list[bytes], body: bytes, content_type: str
) -> None:
    rv = client.post("/form", data=body, content_type=content_type)
    assert_clean(rv, 200, client, leaks)
    assert isinstance(rv.get_json()["form"], dict)


def test_bad_bytes_and_escapes_in_cookies(
    app: Demijohn, make_client: MakeClient, leaks: list[bytes]
) -> None:
    # Without a cookie jar the client sends the raw header as given.
    client = make_client(app, use_cookies=False)
    cookie = 'a=%ff; b="unterminated; c=\xff\xfe; =; ;;; d=%zz; e="\\777"; f=ok'
    rv = client.get("/cookies", headers={"Cookie": cookie})
    assert_clean(rv, 200, client, leaks)
    cookies = rv.get_json()
    assert cookies["f"] == "ok"
    assert cookies["d"] == "%zz"
    assert cookies["c"] == "\xff\xfe"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Basic \xff\xfe", "None"),
        ("Basic !!!", "None"),
        ("Basic \u00e9\u00e9\u00e9\u00e9", "None"),
        ("Bearer", None),
        ("Digest a=\xff", None),
        ("\xff", None),
    ],
)
def test_malformed_authorization_header(
    client: DemijohnClient, leaks: list[bytes], value: str, expected: str | None
) -> None:
    rv = client.get("/auth", environ_overrides={"HTTP_AUTHORIZATION": value})
    assert_clean(rv, 200, client, leaks)
    if expected is not None:
        assert rv.text == expected


# -- floods ----------------------------------------------------------------------


def test_many_query_parameters(client: DemijohnClient, leaks: list[bytes]) -> None:
    query = "&".join(f"k{i}=v" for i in range(20_000))
    rv = client.get(f"/args?{query}&a=last")
    assert_clean(rv, 200, client, leaks)
    assert rv.get_json() == {"count": 20_001, "a": "last"}


def test_many_headers(client: DemijohnClient, leaks: list[bytes]) -> None:
    rv = client.get("/headers", headers={f"X-H{i}": "v" for i in range(5_000)})
    assert_clean(rv, 200, client, leaks)
    assert rv.get_json()["count"] >= 5_000


def test_many_urlencoded_fields(client: DemijohnClient, leaks: list[bytes]) -> None:
    # MAX_FORM_PARTS counts multipart parts only; url-encoded bodies are
    # bounded by MAX_CONTENT_LENGTH.
    body = "&".join(f"f{i}=v" for i in range(5_000))
    rv = client.post(
        "/form", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert_clean(rv, 200, client, leaks)
    assert len(rv.get_json()["form"]) == 5_000


# -- header injection ----------------------------------------------------------

INJECTION = "a\r\nSet-Cookie: injected=1"


def _raw_header_lines(rv: t.Any) -> list[tuple[str, str]]:
    return list(rv.headers.to_wsgi_list())


def assert_not_injected(rv: t.Any, client: DemijohnClient) -> None:
    for name, value in _raw_header_lines(rv):
        for char in "\r\n\x00":
            assert char not in name and char not in value
        assert "injected" not in name.lower()
    assert client.get_cookie("injected") is None


def _set_header(name: str, value: str) -> t.Callable[[], t.Any]:
    def view() -> t.Any:
        response = make_response("body")
        response.headers[name] = value
        return response

    return view


def _with_status(status: str) -> t.Callable[[], t.Any]:
    def view() -> t.Any:
        return "body", status

    return view


INJECTING_VIEWS: dict[str, t.Callable[[], t.Any]] = {
    "value": _set_header("X-A", INJECTION),
    "value-cr": _set_header("X-A", "a\rSet-Cookie: injected=1"),
    "value-nul": _set_header("X-A", "a\x00b"),
    "name": _set_header("X-A\r\nSet-Cookie: injected", "1"),
    "name-space": _set_header("X A", "1"),
    "location": _set_header("Location", "/x" + INJECTION),
    "redirect": lambda: redirect("/x\r\nSet-Cookie: injected=1"),
    "tuple-headers": lambda: ("body", {"X-A": INJECTION}),
    "tuple-list": lambda: ("body", [("X-A", INJECTION)]),
    "status": _with_status("200 OK\r\nSet-Cookie: injected=1"),
    "content-type": lambda: make_response(
        "b", {"Content-Type": "text/html" + INJECTION}
    ),
    "cookie-name": lambda: _cookie("c\r\nSet-Cookie: injected", "1"),
    "cookie-domain": lambda: _cookie("c", "1", domain="x" + INJECTION),
    "cookie-samesite": lambda: _cookie("c", "1", samesite="Lax" + INJECTION),
}


def _cookie(key: str, value: str, **kwargs: t.Any) -> t.Any:
    response = make_response("body")
    response.set_cookie(key, value, **kwargs)
    return response


@pytest.mark.parametrize("case", sorted(INJECTING_VIEWS))
def test_header_injection_is_refused_with_a_500(
    app: Demijohn,
    client: DemijohnClient,
    leaks: list[bytes],
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app.add_url_rule("/inject", view_func=INJECTING_VIEWS[case])
    rv = client.get("/inject")
    assert_not_injected(rv, client)
    assert_clean(rv, 500, client, leaks)
    assert b"Internal Server Error" in rv.data
    assert b"newline" not in rv.data and b"injected" not in rv.data
    # The refusal is the application's logged error, not the server's.
    assert any(r.name == app.name and r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    "kwargs",
    [{"value": INJECTION}, {"value": "v", "path": "/" + INJECTION}],
    ids=["value", "path"],
)
def test_cookie_value_and_path_with_newlines_are_escaped(
    app: Demijohn, client: DemijohnClient, leaks: list[bytes], kwargs: dict[str, str]
) -> None:
    # Werkzeug quotes a cookie value and percent-encodes its path instead
    # of refusing them; either way no header is split.
    app.add_url_rule("/cookie", view_func=lambda: _cookie("c", **kwargs))
    rv = client.get("/cookie")
    assert_clean(rv, 200, client, leaks)
    assert_not_injected(rv, client)
    assert len(rv.headers.getlist("Set-Cookie")) == 1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("", "v", "header ''"),
        ("X\u00e9", "v", "header 'X\u00e9'"),
        ("X:Y", "v", "header 'X:Y'"),
        ("X-A", "a\x00b", "header 'X-A'"),
    ],
)
def test_check_header_fields_names_the_bad_header(
    name: str, value: str, message: str
) -> None:
    from demijohn.wrappers import Response, check_header_fields

    response = Response("body", headers={"X-Fine": "ok; a=b, c"})
    check_header_fields(response)
    response.headers.add(name, value)
    with pytest.raises(ValueError, match=re.escape(message)):
        check_header_fields(response)


def test_refused_header_set_by_an_error_handler_is_never_sent(
    app: Demijohn, client: DemijohnClient, leaks: list[bytes]
) -> None:
    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("view failed")

    @app.errorhandler(500)
    def injecting_handler(e: Exception) -> t.Any:
        response = make_response("custom 500", 500)
        response.headers["X-A\nSet-Cookie: injected"] = "1"
        return response

    # Nothing is left that could be sent safely: the error reaches the
    # server, which answers with its own 500.
    with pytest.raises(ValueError, match="is not valid"):
        client.get("/boom")
    assert_clean(client.get("/"), 200, client, leaks)


# -- hosts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "evil.test",
        "good.test.evil.test",
        "evilgood.test",
        "good.test@evil.test",
        "evil.test#good.test",
        "[::1]",
        "",
        "g" * 10_000,
    ],
)
def test_host_outside_trusted_hosts_is_400(
    app: Demijohn, client: DemijohnClient, leaks: list[bytes], host: str
) -> None:
    app.config["TRUSTED_HOSTS"] = ["good.test", ".trusted.test"]
    rv = client.get("/", headers={"Host": host})
    assert rv.status_code == 400
    for secret in leaks:
        assert secret not in rv.data
    assert client.get("/", headers={"Host": "good.test"}).data == b"ok"
    assert client.get("/", headers={"Host": "a.trusted.test:8080"}).data == b"ok"


def test_forwarded_host_does_not_bypass_trusted_hosts(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.config["TRUSTED_HOSTS"] = ["good.test"]
    rv = client.get("/", headers={"Host": "evil.test", "X-Forwarded-Host": "good.test"})
    assert rv.status_code == 400


# -- path traversal ------------------------------------------------------------


def _fetch(client: DemijohnClient, url: str) -> bytes:
    response = client.get(url)
    try:
        return response.data
    finally:
        response.close()


TRAVERSALS = [
    "../secret.txt",
    "%2e%2e/secret.txt",
    "..%2fsecret.txt",
    "%2e%2e%2fsecret.txt",
    "..%252fsecret.txt",
    "../static-private/secret.txt",
    "..\\secret.txt",
    "..%5csecret.txt",
    "public.txt%00",
    "public.txt%00.png",
    "C:secret.txt",
    "C:/secret.txt",
    "C:\\secret.txt",
    "C:%5c..%5csecret.txt",
    "a/../../secret.txt",
    "./../secret.txt",
]


@pytest.mark.parametrize("prefix", ["/static/", "/files/"])
@pytest.mark.parametrize("attempt", TRAVERSALS)
def test_path_traversal_is_404(
    client: DemijohnClient, leaks: list[bytes], prefix: str, attempt: str
) -> None:
    rv = client.get(prefix + attempt, follow_redirects=True)
    assert_clean(rv, 404, client, leaks)
    assert _fetch(client, prefix + "public.txt") == b"public"


@pytest.mark.parametrize("prefix", ["/static/", "/files/"])
def test_absolute_path_in_url_is_404(
    root: Path, client: DemijohnClient, leaks: list[bytes], prefix: str
) -> None:
    # The double slash is merged by a redirect; the target is then relative
    # to the folder and does not exist.
    for target in (str(root / "secret.txt"), "/etc/passwd"):
        rv = client.get(prefix.rstrip("/") + "/" + target, follow_redirects=True)
        assert_clean(rv, 404, client, leaks)


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_ABS",
        "/etc/passwd",
        "../secret.txt",
        "..",
        ".",
        "",
        "public.txt\x00",
        "C:\\Windows\\win.ini",
        "\\\\server\\share\\secret.txt",
    ],
)
def test_send_from_directory_refuses_names_outside_the_folder(
    root: Path, client: DemijohnClient, leaks: list[bytes], name: str
) -> None:
    if name == "SECRET_ABS":
        name = str(root / "secret.txt")
    rv = client.get("/download", query_string={"name": name})
    assert_clean(rv, 404, client, leaks)
    assert _fetch(client, "/download?name=public.txt") == b"public"


# -- session cookies -----------------------------------------------------------


def _signed_with(app: Demijohn, key: str, data: t.Any) -> str:
    original = app.secret_key
    app.secret_key = key
    try:
        serializer = app.session_interface.get_signing_serializer(app)
        return str(serializer.dumps(data))
    finally:
        app.secret_key = original


def _flip(value: str, index: int) -> str:
    char = "A" if value[index] != "A" else "B"
    return value[:index] + char + value[index + 1 :]


def _forge(app: Demijohn, tamper: str) -> str:
    cookie = _signed_with(app, SECRET_KEY, {"user": "ann"})
    payload, stamp, signature = cookie.split(".")
    if tamper == "expired":
        with mock.patch("time.time", return_value=time.time() - 120):
            return _signed_with(app, SECRET_KEY, {"user": "ann"})
    return {
        "payload": f"{_flip(payload, 3)}.{stamp}.{signature}",
        "signature": f"{payload}.{stamp}.{_flip(signature, 5)}",
        "timestamp": f"{payload}.{_flip(stamp, 2)}.{signature}",
        "truncated": cookie[: len(cookie) // 2],
        "no-signature": f"{payload}.{stamp}",
        "oversized": cookie + "A" * 100_000,
        "compressed-garbage": ".eJz" + "A" * 5000 + f".{stamp}.{signature}",
        "other-key": _signed_with(app, "some other key", {"user": "mallory"}),
        "not-a-dict": _signed_with(app, SECRET_KEY, ["not", "a", "dict"]),
        "garbage": "\xff\x00;;==",
    }[tamper]


@pytest.mark.parametrize(
    "tamper",
    [
        "payload",
        "signature",
        "timestamp",
        "truncated",
        "no-signature",
        "oversized",
        "compressed-garbage",
        "other-key",
        "not-a-dict",
        "expired",
        "garbage",
    ],
)
def test_bad_session_cookie_gives_an_empty_session(
    app: Demijohn, make_client: MakeClient, leaks: list[bytes], tamper: str
) -> None:
    app.config["PERMANENT_SESSION_LIFETIME"] = 60
    forged = _forge(app, tamper)
    # Without a cookie jar the raw header is sent as a browser would send
    # it (a jar refuses to store an oversized cookie).
    client = make_client(app, use_cookies=False)
    rv = client.get("/session", headers={"Cookie": f"session={forged}"})
    assert_clean(rv, 200, client, leaks)
    assert rv.get_json() == {}
    # The genuine cookie works, so the check above is not vacuous.
    genuine = _signed_with(app, SECRET_KEY, {"user": "ann"})
    rv = client.get("/session", headers={"Cookie": f"session={genuine}"})
    assert rv.get_json() == {"user": "ann"}


# -- error pages leak nothing --------------------------------------------------


def test_unhandled_error_page_leaks_nothing(
    app: Demijohn, client: DemijohnClient, leaks: list[bytes], root: Path
) -> None:
    @app.route("/crash")
    def crash() -> str:
        raise RuntimeError(f"{SECRET_KEY} {root} {SECRET_FILE_TEXT!r}")

    rv = client.get("/crash")
    assert_clean(rv, 500, client, leaks)
    assert json.dumps(SECRET_KEY).encode() not in rv.data


# -- production defaults -------------------------------------------------------


def test_size_limit_defaults(app: Demijohn) -> None:
    # No overall body limit unless the application sets one.
    assert app.config["MAX_CONTENT_LENGTH"] is None
    assert app.config["MAX_FORM_MEMORY_SIZE"] == 500_000
    assert app.config["MAX_FORM_PARTS"] == 1_000


def test_asgi_spills_large_bodies_to_disk(
    app: Demijohn, client: DemijohnClient, protocol: str
) -> None:
    from demijohn.asgi import SPOOL_MAX_SIZE

    @app.post("/where")
    def where() -> dict[str, t.Any]:
        stream = request.environ["wsgi.input"]
        return {
            "size": len(request.get_data()),
            "on_disk": bool(getattr(stream, "_rolled", False)),
        }

    small = client.post("/where", data=b"s" * 1000).get_json()
    large = client.post("/where", data=b"l" * (SPOOL_MAX_SIZE + 1)).get_json()
    assert small == {"size": 1000, "on_disk": False}
    assert large == {"size": SPOOL_MAX_SIZE + 1, "on_disk": protocol == "asgi"}


def test_session_cookie_default_flags(client: DemijohnClient) -> None:
    header = client.get("/session/set").headers["Set-Cookie"]
    attributes = [part.strip().lower() for part in header.split(";")[1:]]
    assert "httponly" in attributes
    assert "secure" not in attributes
    assert not any(a.startswith("samesite") for a in attributes)


@pytest.mark.parametrize("debug", [False, True])
def test_app_run_enables_the_debugger_only_in_debug_mode(
    app: Demijohn, monkeypatch: pytest.MonkeyPatch, debug: bool
) -> None:
    import werkzeug.serving

    calls: list[dict[str, t.Any]] = []
    monkeypatch.delenv("DEMIJOHN_RUN_FROM_CLI", raising=False)
    monkeypatch.setattr(
        werkzeug.serving, "run_simple", lambda *a, **kw: calls.append(kw)
    )
    app.run(debug=debug, load_dotenv=False)
    [options] = calls
    assert options["use_debugger"] is debug
    assert options["use_reloader"] is debug
