"""Turning view return values into responses: ``Demijohn.make_response``
and the ``make_response`` helper."""

from __future__ import annotations

import typing as t

import pytest
from werkzeug.datastructures import Headers
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response as WerkzeugResponse

from demijohn import Demijohn, Response, make_response
from demijohn.testing import DemijohnClient

View = t.Callable[[], t.Any]


def _serve(app: Demijohn, client: DemijohnClient, value: t.Any) -> t.Any:
    """Serve ``value`` from a view at ``/`` and return the test response."""

    @app.route("/")
    def index() -> t.Any:
        return value

    return client.get("/")


def test_str_is_utf8_html(app: Demijohn, client: DemijohnClient) -> None:
    rv = _serve(app, client, "h\u00e9llo")
    assert rv.status_code == 200
    assert rv.data == "h\u00e9llo".encode()
    assert rv.mimetype == "text/html"
    assert rv.headers["Content-Type"] == "text/html; charset=utf-8"


def test_bytes_body(app: Demijohn, client: DemijohnClient) -> None:
    rv = _serve(app, client, b"\x00\xffraw")
    assert rv.data == b"\x00\xffraw"
    assert rv.mimetype == "text/html"


def test_bytearray_body(app: Demijohn, client: DemijohnClient) -> None:
    assert _serve(app, client, bytearray(b"abc")).data == b"abc"


def test_dict_is_json(app: Demijohn, client: DemijohnClient) -> None:
    rv = _serve(app, client, {"b": 1, "a": [1, 2]})
    assert rv.status_code == 200
    assert rv.mimetype == "application/json"
    assert rv.get_json() == {"b": 1, "a": [1, 2]}
    # The app's JSON provider sorts keys by default.
    assert rv.data.index(b'"a"') < rv.data.index(b'"b"')


def test_list_is_json(app: Demijohn, client: DemijohnClient) -> None:
    rv = _serve(app, client, [1, "two", None])
    assert rv.mimetype == "application/json"
    assert rv.get_json() == [1, "two", None]


def test_json_uses_the_app_provider(app: Demijohn, client: DemijohnClient) -> None:
    app.json.mimetype = "application/vnd.api+json"  # type: ignore[attr-defined]
    rv = _serve(app, client, {"a": 1})
    assert rv.mimetype == "application/vnd.api+json"


def test_generator_is_streamed(app: Demijohn, client: DemijohnClient) -> None:
    produced: list[str] = []

    def chunks() -> t.Iterator[str]:
        for part in ("a", "b", "c"):
            produced.append(part)
            yield part

    with app.test_request_context():
        response = app.make_response(chunks())
        assert response.is_streamed
        # Nothing is produced until the server iterates the body.
        assert produced == []
        assert response.content_length is None
        response.close()

    @app.route("/")
    def index() -> t.Any:
        return chunks()

    rv = client.get("/")
    assert rv.status_code == 200
    assert rv.data == b"abc"
    assert produced == ["a", "b", "c"]


def test_iterator_of_bytes(app: Demijohn, client: DemijohnClient) -> None:
    rv = _serve(app, client, iter([b"x", b"y"]))
    assert rv.data == b"xy"


def test_body_and_int_status(app: Demijohn, client: DemijohnClient) -> None:
    rv = _serve(app, client, ("created", 201))
    assert rv.status_code == 201
    assert rv.status == "201 CREATED"
    assert rv.data == b"created"


def test_status_as_string(app: Demijohn, client: DemijohnClient) -> None:
    rv = _serve(app, client, ("tea", "418 I'M A TEAPOT"))
    assert rv.status_code == 418
    assert rv.status == "418 I'M A TEAPOT"


def test_status_as_string_with_custom_reason(
    app: Demijohn, client: DemijohnClient
) -> None:
    with app.test_request_context():
        response = app.make_response(("", "299 Custom Reason"))
        assert response.status_code == 299
        assert response.status == "299 Custom Reason"
    # ASGI carries only the code, so only that is checked end to end.
    assert _serve(app, client, ("", "299 Custom Reason")).status_code == 299


def test_dict_with_status(app: Demijohn, client: DemijohnClient) -> None:
    rv = _serve(app, client, ({"error": "gone"}, 410))
    assert rv.status_code == 410
    assert rv.get_json() == {"error": "gone"}


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Test": "1"},
        [("X-Test", "1")],
        (("X-Test", "1"),),
        Headers({"X-Test": "1"}),
    ],
)
def test_body_and_headers(
    app: Demijohn, client: DemijohnClient, headers: t.Any
) -> None:
    rv = _serve(app, client, ("body", headers))
    assert rv.status_code == 200
    assert rv.headers["X-Test"] == "1"
    assert rv.data == b"body"


def test_body_status_and_headers(app: Demijohn, client: DemijohnClient) -> None:
    rv = _serve(
        app, client, ("body", 202, {"X-Test": "2", "Content-Type": "text/plain"})
    )
    assert rv.status_code == 202
    assert rv.headers["X-Test"] == "2"
    assert rv.mimetype == "text/plain"


def test_headers_extend_a_response(app: Demijohn, client: DemijohnClient) -> None:
    base = Response("r", headers={"X-One": "1"})
    rv = _serve(app, client, (base, 203, [("X-Two", "2")]))
    assert rv.status_code == 203
    assert rv.headers["X-One"] == "1"
    assert rv.headers["X-Two"] == "2"


@pytest.mark.parametrize("name", ["Location", "location", "Content-Location"])
def test_location_headers_are_sent_as_uris(
    app: Demijohn, client: DemijohnClient, name: str
) -> None:
    # As Werkzeug sends them: a non-ASCII location is percent-encoded,
    # whatever the case of its name, even after a response with otherwise
    # the same header names went out as it was.
    @app.route("/plain")
    def plain() -> t.Any:
        return "r", 200, {"X-Test": "caf\u00e9"}

    @app.route("/moved")
    def moved() -> t.Any:
        return "r", 200, {"X-Test": "caf\u00e9", name: "/caf\u00e9"}

    assert client.get("/plain").headers["X-Test"] == "caf\u00e9"
    rv = client.get("/moved")
    assert rv.headers[name] == "/caf%C3%A9"
    assert rv.headers["X-Test"] == "caf\u00e9"


def test_dict_status_and_headers(app: Demijohn, client: DemijohnClient) -> None:
    rv = _serve(app, client, ({"a": 1}, 400, {"X-Err": "yes"}))
    assert rv.status_code == 400
    assert rv.headers["X-Err"] == "yes"
    assert rv.mimetype == "application/json"


def test_response_instance_is_returned_as_is(
    app: Demijohn, client: DemijohnClient
) -> None:
    response = Response("made", status=207, mimetype="text/csv")
    rv = _serve(app, client, response)
    assert rv.status_code == 207
    assert rv.mimetype == "text/csv"
    assert rv.data == b"made"


def test_werkzeug_response_is_converted(app: Demijohn, client: DemijohnClient) -> None:
    rv = _serve(app, client, WerkzeugResponse("plain", status=206))
    assert rv.status_code == 206
    assert rv.data == b"plain"


def test_wsgi_callable(app: Demijohn, client: DemijohnClient) -> None:
    def wsgi(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        start_response("202 Accepted", [("Content-Type", "text/plain")])
        return [environ["PATH_INFO"].encode()]

    rv = _serve(app, client, wsgi)
    assert rv.status_code == 202
    assert rv.data == b"/"
    assert rv.mimetype == "text/plain"


def test_http_exception_returned(app: Demijohn, client: DemijohnClient) -> None:
    rv = _serve(app, client, Forbidden("no entry"))
    assert rv.status_code == 403
    assert b"no entry" in rv.data


def test_http_exception_with_status_override(
    app: Demijohn, client: DemijohnClient
) -> None:
    rv = _serve(app, client, (Forbidden(), 401))
    assert rv.status_code == 401


def test_custom_response_class(app: Demijohn, client: DemijohnClient) -> None:
    class JSONishResponse(Response):
        default_mimetype = "text/plain"

    app.response_class = JSONishResponse

    @app.route("/")
    def index() -> str:
        return "text"

    @app.route("/werkzeug")
    def werkzeug_response() -> WerkzeugResponse:
        return WerkzeugResponse("w")

    @app.route("/wrapped")
    def wrapped() -> Response:
        response = make_response("m")
        assert isinstance(response, JSONishResponse)
        return response

    rv = client.get("/")
    assert rv.mimetype == "text/plain"
    assert client.get("/werkzeug").data == b"w"
    assert client.get("/wrapped").mimetype == "text/plain"
    with app.test_request_context():
        assert isinstance(app.make_response(WerkzeugResponse("w")), JSONishResponse)
        assert isinstance(app.make_response("x"), JSONishResponse)


# -- the make_response helper -------------------------------------------------


def test_make_response_without_arguments(app: Demijohn) -> None:
    with app.test_request_context():
        response = make_response()
        assert isinstance(response, Response)
        assert response.status_code == 200
        assert response.data == b""


def test_make_response_with_one_argument(app: Demijohn) -> None:
    with app.test_request_context():
        response = make_response("body")
        assert response.data == b"body"
        response = make_response(("body", 404))
        assert response.status_code == 404
        response = make_response({"a": 1})
        assert response.get_json() == {"a": 1}


def test_make_response_with_several_arguments(app: Demijohn) -> None:
    with app.test_request_context():
        response = make_response("body", 404, {"X-A": "a"})
        assert response.status_code == 404
        assert response.headers["X-A"] == "a"
        response = make_response("body", {"X-B": "b"})
        assert response.status_code == 200
        assert response.headers["X-B"] == "b"


def test_make_response_in_a_view(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/")
    def index() -> Response:
        response = make_response("with cookie")
        response.set_cookie("flavour", "oat")
        return response

    rv = client.get("/")
    assert rv.data == b"with cookie"
    assert "flavour=oat" in rv.headers["Set-Cookie"]


def test_make_response_needs_an_application(app: Demijohn) -> None:
    with pytest.raises(RuntimeError, match="application context"):
        make_response("x")


# -- invalid return values ----------------------------------------------------


def test_none_is_a_type_error(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/")
    def forgot_return() -> None:
        pass

    with pytest.raises(TypeError) as exc_info:
        client.get("/")
    message = str(exc_info.value)
    assert "'forgot_return'" in message
    assert "None" in message


def test_none_body_in_tuple_is_a_type_error(
    app: Demijohn, client: DemijohnClient
) -> None:
    with pytest.raises(TypeError, match="None"):
        _serve(app, client, (None, 200))


@pytest.mark.parametrize("value", [("only",), ("a", 200, {}, "extra"), ()])
def test_bad_tuple_length_is_a_type_error(
    app: Demijohn, client: DemijohnClient, value: tuple[t.Any, ...]
) -> None:
    with pytest.raises(TypeError, match="tuple"):
        _serve(app, client, value)


@pytest.mark.parametrize(
    ("value", "type_name"), [(42, "int"), (object(), "object"), (1.5, "float")]
)
def test_other_types_are_a_type_error(
    app: Demijohn, client: DemijohnClient, value: t.Any, type_name: str
) -> None:
    with pytest.raises(TypeError, match=rf"but it was a {type_name}\."):
        _serve(app, client, value)


def test_callable_that_is_not_wsgi_is_a_type_error(
    app: Demijohn, client: DemijohnClient
) -> None:
    def not_wsgi() -> str:
        return ""

    with pytest.raises(TypeError, match="but it was a function"):
        _serve(app, client, not_wsgi)


def test_bad_return_value_is_a_500_without_propagation(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/")
    def index() -> int:
        return 42

    assert client.get("/").status_code == 500
