"""Reading request bodies: ``get_data()``, ``get_json()``, ``form``, ``data``
and ``stream`` behave exactly as Werkzeug's request does, although demijohn
reads most bodies straight from ``wsgi.input``.

Request-level tests run under WSGI and ASGI; the comparisons with Werkzeug
build the same environ for a demijohn request and a Werkzeug one.
"""

from __future__ import annotations

import io
import json
import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.test import EnvironBuilder
from werkzeug.utils import cached_property
from werkzeug.wrappers import Request as WerkzeugRequest

from demijohn import Demijohn, request
from demijohn.testing import DemijohnClient
from demijohn.wrappers import Request

MakeClient = t.Callable[..., DemijohnClient]
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def app(app: Demijohn) -> Demijohn:
    # Errors must arrive as responses, so a test can assert their status.
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.post("/json")
    def read_json() -> dict[str, t.Any]:
        return {"value": request.get_json()}

    @app.post("/json-silent")
    def read_json_silent() -> dict[str, t.Any]:
        return {"value": request.get_json(silent=True)}

    @app.post("/json-force")
    def read_json_force() -> dict[str, t.Any]:
        return {"value": request.get_json(force=True)}

    @app.post("/form")
    def read_form() -> dict[str, t.Any]:
        return {"form": request.form.to_dict(flat=False), "files": len(request.files)}

    @app.post("/data")
    def read_data() -> bytes:
        return request.get_data()

    return app


# -- JSON ----------------------------------------------------------------------


def test_json_body_is_parsed(client: DemijohnClient) -> None:
    document = {"name": "demijohn", "items": [1, 2.5, None, "é"]}
    rv = client.post("/json", json=document)
    assert rv.status_code == 200
    assert rv.get_json() == {"value": document}


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "Application/JSON",
        " application/json ;charset=utf-8",
        "application/vnd.api+json",
        "application/problem+json; charset=utf-8",
    ],
)
def test_json_content_types_are_recognised(
    client: DemijohnClient, content_type: str
) -> None:
    rv = client.post("/json", data=b'{"a": 1}', content_type=content_type)
    assert rv.status_code == 200
    assert rv.get_json() == {"value": {"a": 1}}


def test_malformed_json_is_400(client: DemijohnClient) -> None:
    rv = client.post("/json", data=b'{"a": ', content_type="application/json")
    assert rv.status_code == 400
    assert b"not valid JSON" in rv.data


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/jsonx", "text/json", None]
)
def test_json_with_another_content_type_is_415(
    client: DemijohnClient, content_type: str | None
) -> None:
    rv = client.post("/json", data=b'{"a": 1}', content_type=content_type)
    assert rv.status_code == 415


def test_force_parses_whatever_the_content_type(client: DemijohnClient) -> None:
    rv = client.post("/json-force", data=b"[1, 2]", content_type="text/plain")
    assert rv.get_json() == {"value": [1, 2]}
    assert client.post("/json-force", data=b"nope").status_code == 400


def test_silent_returns_none_instead_of_failing(client: DemijohnClient) -> None:
    bad = client.post("/json-silent", data=b"{", content_type="application/json")
    assert bad.get_json() == {"value": None}
    wrong_type = client.post("/json-silent", data=b"{}", content_type="text/plain")
    assert wrong_type.get_json() == {"value": None}


def test_parsed_json_is_cached_per_silent_flag(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.post("/json-cache")
    def json_cache() -> dict[str, t.Any]:
        first = request.get_json()
        return {
            "same": request.get_json() is first,
            "uncached_is_new": request.get_json(cache=False) is not first,
            "silent_shares_success": request.get_json(silent=True) is first,
        }

    rv = client.post("/json-cache", json={"a": [1]})
    assert rv.get_json() == {
        "same": True,
        "uncached_is_new": True,
        "silent_shares_success": True,
    }


def test_a_silent_failure_is_not_cached_for_the_loud_call(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.post("/json-silent-then-loud")
    def silent_then_loud() -> str:
        assert request.get_json(silent=True) is None
        request.get_json()  # parses again, and fails loudly
        return "unreachable"

    rv = client.post(
        "/json-silent-then-loud", data=b"{", content_type="application/json"
    )
    assert rv.status_code == 400


# -- url-encoded forms ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"a=1&b=2", {"a": ["1"], "b": ["2"]}),
        (b"name=J+Doe&city=New%20York", {"name": ["J Doe"], "city": ["New York"]}),
        (b"k=1&k=2&k=3", {"k": ["1", "2", "3"]}),
        (b"empty=&flag&=anonymous", {"empty": [""], "flag": [""], "": ["anonymous"]}),
        (b"&&a=1&&", {"a": ["1"]}),
        (b"amp=%26&eq=%3D&plus=%2B", {"amp": ["&"], "eq": ["="], "plus": ["+"]}),
        (b"e=%C3%A9&bad=%FF&half=%E", {"e": ["é"], "bad": ["%FF"], "half": ["%E"]}),
        (b"a+b=c+d%2Be", {"a b": ["c d+e"]}),
        (b"x=1=2", {"x": ["1=2"]}),
        (b"", {}),
    ],
)
def test_urlencoded_form_fields(
    client: DemijohnClient, body: bytes, expected: dict[str, list[str]]
) -> None:
    rv = client.post("/form", data=body, content_type=FORM)
    assert rv.status_code == 200
    assert rv.get_json() == {"form": expected, "files": 0}


def test_a_form_body_that_is_not_utf8_gives_what_werkzeug_gives(
    client: DemijohnClient,
) -> None:
    body = b"a=1&b=\xff\xfe"
    reference = WerkzeugRequest(_environ(body, FORM)).form.to_dict(flat=False)
    rv = client.post("/form", data=body, content_type=FORM)
    assert rv.status_code == 200
    assert rv.get_json() == {"form": reference, "files": 0}


def test_form_charset_parameter_and_case_are_ignored(client: DemijohnClient) -> None:
    rv = client.post(
        "/form",
        data=b"a=1",
        content_type="Application/X-WWW-Form-Urlencoded; charset=utf-8",
    )
    assert rv.get_json() == {"form": {"a": ["1"]}, "files": 0}


def test_a_non_form_body_gives_an_empty_form(client: DemijohnClient) -> None:
    rv = client.post("/form", data=b"a=1", content_type="text/plain")
    assert rv.get_json() == {"form": {}, "files": 0}


# -- the order of reads ----------------------------------------------------------


def test_get_data_then_form_parses_the_kept_body(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.post("/data-then-form")
    def data_then_form() -> dict[str, t.Any]:
        data = request.get_data(as_text=True)
        return {
            "data": data,
            "form": request.form.to_dict(),
            "data_again": request.get_data(as_text=True),
            "stream": request.stream.read().decode(),
        }

    rv = client.post("/data-then-form", data=b"a=1&b=2", content_type=FORM)
    assert rv.get_json() == {
        "data": "a=1&b=2",
        "form": {"a": "1", "b": "2"},
        "data_again": "a=1&b=2",
        # Werkzeug parses a copy of the kept body, read to its end.
        "stream": "",
    }


def test_form_then_get_data_finds_the_body_consumed(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.post("/form-then-data")
    def form_then_data() -> dict[str, t.Any]:
        form = request.form.to_dict()
        return {"form": form, "data": request.get_data(as_text=True)}

    rv = client.post("/form-then-data", data=b"a=1", content_type=FORM)
    assert rv.get_json() == {"form": {"a": "1"}, "data": ""}


def test_get_data_with_parse_form_data(app: Demijohn, client: DemijohnClient) -> None:
    @app.post("/parse-form-data")
    def parse_form_data() -> dict[str, t.Any]:
        return {
            "data": request.get_data(parse_form_data=True).decode(),
            "form": request.form.to_dict(),
        }

    form = client.post("/parse-form-data", data=b"a=1", content_type=FORM)
    assert form.get_json() == {"data": "", "form": {"a": "1"}}
    other = client.post("/parse-form-data", data=b"a=1", content_type="text/plain")
    assert other.get_json() == {"data": "a=1", "form": {}}


def test_request_data_is_empty_for_forms_only(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.post("/raw")
    def raw() -> dict[str, t.Any]:
        return {"data": request.data.decode(), "form": request.form.to_dict()}

    assert client.post("/raw", data=b"a=1", content_type=FORM).get_json() == {
        "data": "",
        "form": {"a": "1"},
    }
    assert client.post("/raw", json=[1]).get_json() == {"data": "[1]", "form": {}}
    assert client.post("/raw", data=b"xyz").get_json() == {"data": "xyz", "form": {}}


def test_stream_after_get_data_is_at_the_end(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.post("/stream-after")
    def stream_after() -> dict[str, t.Any]:
        data = request.get_data()
        return {"data": len(data), "rest": request.stream.read().decode()}

    rv = client.post("/stream-after", data=b"x" * 100, content_type="text/plain")
    assert rv.get_json() == {"data": 100, "rest": ""}


def test_stream_read_first_leaves_get_data_empty(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.post("/stream-first")
    def stream_first() -> dict[str, t.Any]:
        head = request.stream.read(3)
        rest = request.stream.read()
        return {
            "head": head.decode(),
            "rest": rest.decode(),
            "data": request.data.decode(),
        }

    rv = client.post("/stream-first", data=b"abcdef", content_type="text/plain")
    assert rv.get_json() == {"head": "abc", "rest": "def", "data": ""}


def test_get_data_without_cache_reads_once(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.post("/uncached")
    def uncached() -> dict[str, t.Any]:
        first = request.get_data(cache=False)
        return {"first": first.decode(), "second": request.get_data().decode()}

    rv = client.post("/uncached", data=b"body", content_type="text/plain")
    assert rv.get_json() == {"first": "body", "second": ""}


def test_get_data_as_text_replaces_invalid_utf8(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.post("/text")
    def text() -> str:
        return request.get_data(as_text=True)

    rv = client.post("/text", data=b"ok \xff", content_type="text/plain")
    assert rv.get_data(as_text=True) == "ok \ufffd"


# -- limits -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/data", "text/plain"),
        ("/json", "application/json"),
        ("/form", FORM),
        ("/form", "application/json"),  # a body not parsed is refused too
    ],
)
def test_a_body_declared_over_max_content_length_is_413(
    app: Demijohn, client: DemijohnClient, path: str, content_type: str
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10
    rv = client.post(path, data=b"1" * 11, content_type=content_type)
    assert rv.status_code == 413
    rv = client.post("/data", data=b"1" * 10, content_type=content_type)
    assert rv.status_code == 200


def test_max_content_length_lowered_for_one_request(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.before_request
    def limit() -> None:
        request.max_content_length = 5

    assert client.post("/data", data=b"x" * 6).status_code == 413
    assert client.post("/form", data=b"a=1&b=2", content_type=FORM).status_code == 413
    assert client.post("/data", data=b"x" * 5).data == b"x" * 5


def test_multipart_field_over_max_form_memory_size_is_413(
    app: Demijohn, client: DemijohnClient
) -> None:
    # Werkzeug checks the limit per 64 KiB chunk read, hence the sizes.
    app.config["MAX_FORM_MEMORY_SIZE"] = 100_000
    big = {"f": "x" * 200_000}
    rv = client.post("/form", data=big, content_type="multipart/form-data")
    assert rv.status_code == 413
    rv = client.post("/form", data={"f": "x" * 5}, content_type="multipart/form-data")
    assert rv.get_json() == {"form": {"f": ["xxxxx"]}, "files": 0}


def test_urlencoded_form_over_max_form_memory_size_follows_werkzeug(
    app: Demijohn, client: DemijohnClient
) -> None:
    # Werkzeug releases before 3.1.9 refuse such a form; later ones parse it.
    app.config["MAX_FORM_MEMORY_SIZE"] = 10
    body = b"field=" + b"x" * 20
    reference = WerkzeugRequest(_environ(body, FORM))
    reference.max_form_memory_size = 10
    try:
        expected: dict[str, t.Any] = {
            "form": reference.form.to_dict(flat=False),
            "files": 0,
        }
        status = 200
    except RequestEntityTooLarge:
        status = 413
    rv = client.post("/form", data=body, content_type=FORM)
    assert rv.status_code == status
    if status == 200:
        assert rv.get_json() == expected


def test_the_installed_werkzeug_decides_on_forms_over_the_memory_limit(
    app: Demijohn, client: DemijohnClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Werkzeug releases before 3.1.9 refuse an url-encoded body declared
    # larger than max_form_memory_size; demijohn must not parse it anyway.
    def refuse(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise RequestEntityTooLarge()

    monkeypatch.setattr(FormDataParser, "_parse_urlencoded", refuse)
    app.config["MAX_FORM_MEMORY_SIZE"] = 10
    assert (
        client.post("/form", data=b"a=" + b"x" * 20, content_type=FORM).status_code
        == 413
    )


def test_the_installed_werkzeug_decides_on_forms_that_are_not_utf8(
    client: DemijohnClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse = FormDataParser._parse_urlencoded

    def parse_latin1(self: FormDataParser, stream: t.IO[bytes], *args: t.Any) -> t.Any:
        text = stream.read().decode("latin-1").encode()
        return parse(self, io.BytesIO(text), *args)

    monkeypatch.setattr(FormDataParser, "_parse_urlencoded", parse_latin1)
    rv = client.post("/form", data=b"a=1&b=\xff", content_type=FORM)
    assert rv.get_json() == {"form": {"a": ["1"], "b": ["\u00ff"]}, "files": 0}


# -- bodies without a declared length, and short bodies ------------------------------


def _chunked(client: DemijohnClient, path: str, body: bytes) -> t.Any:
    # With Transfer-Encoding: chunked any Content-Length is ignored; the
    # server (the ASGI edge, or a WSGI server that sets
    # wsgi.input_terminated) ends the stream where the body ends.
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        content_type="text/plain",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_is_read_whole(client: DemijohnClient) -> None:
    rv = _chunked(client, "/data", b"chunk" * 1000)
    assert rv.status_code == 200
    assert rv.data == b"chunk" * 1000


def test_a_chunked_body_over_max_content_length_is_413(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100
    assert _chunked(client, "/data", b"x" * 101).status_code == 413
    rv = _chunked(client, "/data", b"x" * 100)
    assert rv.status_code == 200
    assert rv.data == b"x" * 100


def test_a_chunked_form_is_parsed(client: DemijohnClient) -> None:
    rv = client.post(
        "/form",
        input_stream=io.BytesIO(b"a=1&b=2"),
        content_type=FORM,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert rv.get_json() == {"form": {"a": ["1"], "b": ["2"]}, "files": 0}


def test_a_body_shorter_than_declared_is_400(client: DemijohnClient) -> None:
    rv = client.post(
        "/data",
        input_stream=io.BytesIO(b"abc"),
        content_type="text/plain",
        environ_overrides={"CONTENT_LENGTH": "10"},
    )
    assert rv.status_code == 400


def test_a_client_disconnect_raises_client_disconnected() -> None:
    environ = _environ(b"abc", "text/plain")
    environ["CONTENT_LENGTH"] = "10"
    req = Request(environ)
    with pytest.raises(ClientDisconnected):
        req.get_data()
    # The stream is where the read stopped, and still short.
    assert req.stream.tell() == 3
    with pytest.raises(ClientDisconnected):
        req.stream.read()


def test_a_failing_read_raises_client_disconnected() -> None:
    class Failing(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError("connection reset")

    environ = _environ(b"abc", "text/plain")
    environ["wsgi.input"] = Failing(b"abc")
    with pytest.raises(ClientDisconnected):
        Request(environ).get_data()


def test_a_server_returning_short_reads_is_read_to_the_declared_end() -> None:
    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.source = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: t.Any) -> int:
            chunk = self.source.read(min(len(buffer), 3))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    body = b"a=1&b=2&c=3"
    environ = _environ(body, FORM)
    environ["wsgi.input"] = Trickle(body)
    assert Request(environ).form.to_dict() == {"a": "1", "b": "2", "c": "3"}


def test_shallow_requests_refuse_to_read() -> None:
    for read in (
        lambda r: r.get_data(),
        lambda r: r.form,
        lambda r: r.get_json(),
        lambda r: r.stream,
    ):
        with pytest.raises(RuntimeError, match="shallow"):
            read(Request(_environ(b"a=1", "application/json"), shallow=True))
    with pytest.raises(RuntimeError, match="shallow"):
        _ = Request(_environ(b"a=1", FORM), shallow=True).form


# -- against Werkzeug ------------------------------------------------------------------


def _environ(body: bytes, content_type: str | None, **extra: t.Any) -> dict[str, t.Any]:
    environ = EnvironBuilder(
        method="POST", data=body, content_type=content_type
    ).get_environ()
    environ.update(extra)
    return environ


def _twin_requests(
    body: bytes, content_type: str | None, **extra: t.Any
) -> tuple[Request, WerkzeugRequest]:
    # The same environ for both, each with its own copy of the body.
    environ = _environ(body, content_type, **extra)
    ours = dict(environ, **{"wsgi.input": io.BytesIO(body)})
    theirs = dict(environ, **{"wsgi.input": io.BytesIO(body)})
    return Request(ours), WerkzeugRequest(theirs)


def _outcome(step: t.Callable[[t.Any], t.Any], req: t.Any) -> t.Any:
    try:
        value = step(req)
    except Exception as error:
        return ("raised", type(error))
    if isinstance(value, MultiDict):
        return ("multidict", type(value), list(value.lists()))
    return ("returned", value)


STEPS: dict[str, t.Callable[[t.Any], t.Any]] = {
    "get_data": lambda r: r.get_data(),
    "get_data_uncached": lambda r: r.get_data(cache=False),
    "get_data_text": lambda r: r.get_data(as_text=True),
    "get_data_parse_form": lambda r: r.get_data(parse_form_data=True),
    "data": lambda r: r.data,
    "form": lambda r: r.form,
    "files": lambda r: r.files,
    "values": lambda r: list(r.values.lists()),
    "json": lambda r: r.get_json(silent=True),
    "json_forced": lambda r: r.get_json(force=True, silent=True),
    "stream_read": lambda r: r.stream.read(),
    "stream_read_2": lambda r: r.stream.read(2),
    "stream_position": lambda r: (type(r.stream), r.stream.tell()),
    # demijohn's capped stream for terminated bodies is a LimitedStream subclass.
    "stream_tell": lambda r: (isinstance(r.stream, io.IOBase), r.stream.tell()),
    "mimetype": lambda r: (r.mimetype, r.is_json),
    "input_position": lambda r: r.environ["wsgi.input"].tell(),
}

BODIES = [
    (b"a=1&b=%20+x&b=&c", FORM),
    (b"a=1&b=\xff", FORM),
    (b"", FORM),
    (b'{"a": [1, 2]}', "application/json"),
    (b"{broken", "application/json; charset=utf-8"),
    (b"plain text", "text/plain"),
    (b"a=1", None),
    (
        b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--B--\r\n',
        "multipart/form-data; boundary=B",
    ),
]


@pytest.mark.parametrize(("body", "content_type"), BODIES)
@pytest.mark.parametrize(
    "steps",
    [
        ("get_data", "form", "stream_read", "stream_position"),
        ("form", "get_data", "stream_position", "input_position"),
        ("get_data_parse_form", "form", "get_data", "files"),
        ("data", "json", "values", "stream_read"),
        ("stream_read_2", "get_data", "form", "stream_read"),
        ("get_data_uncached", "get_data_uncached", "stream_position"),
        ("json", "json_forced", "get_data_text", "form"),
        ("mimetype", "files", "data", "input_position"),
    ],
)
@pytest.mark.parametrize(
    "declared", ["exact", "short", "long", "missing", " 4 ", "+4", "-1", "4x", "\u0664"]
)
def test_reads_behave_as_werkzeug_reads(
    body: bytes, content_type: str | None, steps: tuple[str, ...], declared: str
) -> None:
    extra: dict[str, t.Any] = {}
    if declared == "short":
        extra["CONTENT_LENGTH"] = str(max(len(body) - 2, 0))
    elif declared == "long":
        extra["CONTENT_LENGTH"] = str(len(body) + 2)
    elif declared not in ("exact", "missing"):
        extra["CONTENT_LENGTH"] = declared  # odd headers Werkzeug reads as 0
    ours, theirs = _twin_requests(body, content_type, **extra)
    if declared == "missing":
        del ours.environ["CONTENT_LENGTH"], theirs.environ["CONTENT_LENGTH"]
    for name in steps:
        assert _outcome(STEPS[name], ours) == _outcome(STEPS[name], theirs), name


@pytest.mark.parametrize(("body", "content_type"), BODIES)
@pytest.mark.parametrize("limit", [0, 3, 10**6])
def test_max_content_length_behaves_as_in_werkzeug(
    body: bytes, content_type: str | None, limit: int
) -> None:
    for steps in (("get_data", "form"), ("form", "get_data"), ("data", "stream_read")):
        ours, theirs = _twin_requests(body, content_type)
        ours.max_content_length = theirs.max_content_length = limit
        for name in steps:
            assert _outcome(STEPS[name], ours) == _outcome(STEPS[name], theirs), name


def test_a_terminated_stream_without_a_limit_is_read_as_werkzeug_reads_it() -> None:
    # Werkzeug reads such a stream unguarded; demijohn only differs (413
    # instead of a cut body) when a limit is set.
    for body, content_type in BODIES:
        ours, theirs = _twin_requests(
            body, content_type, **{"wsgi.input_terminated": True}
        )
        for name in ("form", "get_data", "stream_position"):
            assert _outcome(STEPS[name], ours) == _outcome(STEPS[name], theirs), name


@pytest.mark.parametrize(("body", "content_type"), BODIES)
@pytest.mark.parametrize("room", [None, 0, 1])
def test_a_terminated_stream_within_its_limit_is_read_as_werkzeug_reads_it(
    body: bytes, content_type: str | None, room: int | None
) -> None:
    # A limit of 0 refuses even an empty body, in Werkzeug as here.
    limit = 0 if room is None else len(body) + room
    for steps in (("get_data", "stream_read", "form"), ("form", "stream_tell")):
        ours, theirs = _twin_requests(
            body, content_type, **{"wsgi.input_terminated": True}
        )
        ours.max_content_length = theirs.max_content_length = limit
        for name in steps:
            assert _outcome(STEPS[name], ours) == _outcome(STEPS[name], theirs), name


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab=&+%20eEfF9 é;")), max_size=40)
    | st.binary(max_size=30)
)
def test_any_urlencoded_body_parses_as_in_werkzeug(body: str | bytes) -> None:
    raw = body.encode() if isinstance(body, str) else body
    ours, theirs = _twin_requests(raw, FORM)
    assert list(ours.form.lists()) == list(theirs.form.lists())
    assert type(ours.form) is type(theirs.form)


# -- extension points ------------------------------------------------------------------


def test_a_custom_form_parser_is_used(make_client: MakeClient) -> None:
    class ShoutingParser(FormDataParser):
        def parse(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            stream, form, files = super().parse(*args, **kwargs)
            shouted = self.cls([(k, v.upper()) for k, v in form.items(multi=True)])
            return stream, shouted, files

    class ShoutingRequest(Request):
        form_data_parser_class = ShoutingParser

    app = Demijohn(__name__)
    app.request_class = ShoutingRequest

    @app.post("/")
    def index() -> dict[str, str]:
        return request.form.to_dict()

    rv = make_client(app).post("/", data=b"a=quiet", content_type=FORM)
    assert rv.get_json() == {"a": "QUIET"}


def test_a_custom_stream_is_used_by_get_data(make_client: MakeClient) -> None:
    class ReversedRequest(Request):
        @cached_property
        def stream(self) -> t.IO[bytes]:
            return io.BytesIO(self.environ["wsgi.input"].read()[::-1])

    app = Demijohn(__name__)
    app.request_class = ReversedRequest

    @app.post("/")
    def index() -> dict[str, t.Any]:
        return {"json": request.get_json(), "data": request.get_data(as_text=True)}

    rv = make_client(app).post("/", data=b"]2 ,1[", content_type="application/json")
    assert rv.get_json() == {"json": [1, 2], "data": "[1, 2]"}


def test_a_custom_parameter_storage_class_holds_the_form(
    make_client: MakeClient,
) -> None:
    class PlainDictRequest(Request):
        parameter_storage_class = MultiDict  # mutable, unlike the default

    app = Demijohn(__name__)
    app.request_class = PlainDictRequest

    @app.post("/")
    def index() -> dict[str, t.Any]:
        request.form.add("added", "yes")  # a MultiDict allows it
        return {"kind": type(request.form).__name__, "form": request.form.to_dict()}

    rv = make_client(app).post("/", data=b"a=1", content_type=FORM)
    assert rv.get_json() == {"kind": "MultiDict", "form": {"a": "1", "added": "yes"}}


def test_headers_replaced_on_the_request_decide_the_mimetype() -> None:
    req = Request(_environ(b"{}", "text/plain"))
    req.headers = EnvironBuilder(content_type="application/json").get_request().headers
    assert req.mimetype == "application/json"
    assert req.get_json() == {}


def test_the_body_is_read_without_building_the_guarded_stream(
    app: Demijohn, client: DemijohnClient
) -> None:
    # A performance guarantee: the common bodies are read from wsgi.input
    # directly, under both protocols, so ``stream`` is never built.
    built: list[bool] = []

    @app.post("/unbuilt")
    def unbuilt() -> str:
        if request.is_json:
            request.get_json()
        else:
            request.form  # noqa: B018 - parsing is the point
        built.append("stream" in request.__dict__)
        return ""

    client.post("/unbuilt", data=json.dumps({"a": 1}), content_type="application/json")
    client.post("/unbuilt", data=b"a=1", content_type=FORM)
    assert built == [False, False]
