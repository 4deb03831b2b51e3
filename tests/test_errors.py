"""Error handling: error handler registration and lookup, ``abort`` and
``redirect``, unhandled exceptions and 500 responses, the propagation and
trapping settings, logging and the ``got_request_exception`` signal."""

from __future__ import annotations

import logging
import typing as t

import pytest
from werkzeug.exceptions import (
    BadRequest,
    BadRequestKeyError,
    Forbidden,
    HTTPException,
    InternalServerError,
    NotFound,
)

from demijohn import (
    Demijohn,
    Response,
    abort,
    got_request_exception,
    redirect,
    request,
)
from demijohn.testing import DemijohnClient


class ParentError(Exception):
    pass


class ChildError(ParentError):
    pass


class GrandchildError(ChildError):
    pass


class Teapot(HTTPException):
    code = 418
    description = "short and stout"


def _raise(exc: BaseException) -> t.Callable[..., t.NoReturn]:
    def view(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise exc

    return view


def _add(
    app: Demijohn, rule: str, view: t.Callable[..., t.Any], **options: t.Any
) -> None:
    """Route ``rule`` to ``view`` with the rule as endpoint name, so several
    lambdas can be registered."""
    app.add_url_rule(rule, endpoint=rule, view_func=view, **options)


# -- registration ------------------------------------------------------------------


def test_errorhandler_by_code(app: Demijohn, client: DemijohnClient) -> None:
    @app.errorhandler(404)
    def not_found(e: NotFound) -> tuple[str, int]:
        assert isinstance(e, NotFound)
        return f"custom 404 for {request.path}", 404

    @app.route("/gone")
    def gone() -> str:
        abort(404)

    response = client.get("/missing")
    assert response.status_code == 404
    assert response.text == "custom 404 for /missing"
    assert client.get("/gone").text == "custom 404 for /gone"


def test_errorhandler_by_class(app: Demijohn, client: DemijohnClient) -> None:
    @app.errorhandler(Forbidden)
    def forbidden(e: Forbidden) -> tuple[str, int]:
        return "no entry", 403

    @app.errorhandler(KeyError)
    def key_error(e: KeyError) -> tuple[str, int]:
        return f"missing {e.args[0]}", 400

    _add(app, "/forbidden", _raise(Forbidden()))
    _add(app, "/key", _raise(KeyError("name")))

    assert client.get("/forbidden").text == "no entry"
    response = client.get("/key")
    assert response.status_code == 400
    assert response.text == "missing name"


def test_code_and_class_registrations_share_a_slot(app: Demijohn) -> None:
    def first(e: Exception) -> str:
        return "first"

    def second(e: Exception) -> str:
        return "second"

    app.register_error_handler(404, first)
    app.register_error_handler(NotFound, second)
    assert app.error_handler_spec[None][404] == {NotFound: second}


def test_most_specific_class_in_mro_wins(app: Demijohn, client: DemijohnClient) -> None:
    app.register_error_handler(Exception, lambda e: "exception")
    app.register_error_handler(ParentError, lambda e: "parent")
    app.register_error_handler(ChildError, lambda e: "child")
    _add(app, "/parent", _raise(ParentError()))
    _add(app, "/child", _raise(ChildError()))
    _add(app, "/grandchild", _raise(GrandchildError()))
    _add(app, "/other", _raise(ValueError()))

    assert client.get("/parent").text == "parent"
    assert client.get("/child").text == "child"
    assert client.get("/grandchild").text == "child"
    assert client.get("/other").text == "exception"


def test_code_handler_beats_http_exception_handler(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.register_error_handler(HTTPException, lambda e: ("generic", e.code))
    app.register_error_handler(404, lambda e: ("specific", 404))
    assert client.get("/missing").text == "specific"


def test_http_exception_handler_catches_all_http_errors(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.errorhandler(HTTPException)
    def any_http(e: HTTPException) -> tuple[str, int]:
        return f"{e.code} {e.name}", t.cast(int, e.code)

    _add(app, "/bad", _raise(BadRequest()))
    _add(app, "/teapot", _raise(Teapot()))
    _add(app, "/post-only", lambda: "ok", methods=["POST"])

    assert client.get("/missing").text == "404 Not Found"
    assert client.get("/bad").text == "400 Bad Request"
    assert client.get("/teapot").text == "418 I'm a teapot"
    response = client.get("/post-only")
    assert response.status_code == 405
    assert response.text == "405 Method Not Allowed"


def test_http_exception_handler_skips_routing_redirects(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.register_error_handler(HTTPException, lambda e: ("handled", 500))
    _add(app, "/folder/", lambda: "folder")
    response = client.get("/folder")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/folder/")


def test_exception_handler_also_catches_http_exceptions(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.register_error_handler(Exception, lambda e: (type(e).__name__, 299))
    response = client.get("/missing")
    assert response.status_code == 299
    assert response.text == "NotFound"


def test_custom_http_exception_class(app: Demijohn, client: DemijohnClient) -> None:
    _add(app, "/", _raise(Teapot()))
    response = client.get("/")
    assert response.status_code == 418
    assert "short and stout" in response.text

    app2 = Demijohn("teapot_app", root_path="/nonexistent-root")
    app2.register_error_handler(Teapot, lambda e: ("handled teapot", 418))
    _add(app2, "/", _raise(Teapot()))
    assert app2.test_client().get("/").text == "handled teapot"


def test_errorhandler_decorator_returns_function(app: Demijohn) -> None:
    def handler(e: Exception) -> str:
        return "x"

    assert app.errorhandler(500)(handler) is handler


@pytest.mark.parametrize(
    ("key", "error", "message"),
    [
        (999, ValueError, "'999' is not a recognized HTTP error code"),
        (499, ValueError, "not a recognized HTTP error code"),
        (ValueError(), TypeError, "is an instance, not a class"),
        (NotFound(), TypeError, "is an instance, not a class"),
        (str, ValueError, "'str' is not a subclass of Exception"),
        (KeyboardInterrupt, ValueError, "not a subclass of Exception"),
        ("404", ValueError, "not a subclass of Exception"),
    ],
)
def test_invalid_error_handler_registration(
    app: Demijohn, key: t.Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        app.register_error_handler(key, lambda e: "x")
    with pytest.raises(error, match=message):
        app.errorhandler(key)(lambda e: "x")


# -- abort and redirect ------------------------------------------------------------


def test_abort_raises_http_exceptions() -> None:
    with pytest.raises(NotFound):
        abort(404)
    with pytest.raises(BadRequest) as info:
        abort(400, "you sent nonsense")
    assert info.value.description == "you sent nonsense"
    with pytest.raises(Forbidden) as forbidden:
        abort(403, description="keep out")
    assert forbidden.value.description == "keep out"
    with pytest.raises(LookupError):
        abort(299)


def test_abort_in_view_with_description(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/")
    def index() -> str:
        abort(400, description="the name field is required")

    response = client.get("/")
    assert response.status_code == 400
    assert "the name field is required" in response.text


def test_abort_with_a_response(app: Demijohn, client: DemijohnClient) -> None:
    app.register_error_handler(HTTPException, lambda e: ("not used", 500))

    @app.route("/")
    def index() -> str:
        abort(Response("custom body", status=418, headers={"X-Reason": "tea"}))

    response = client.get("/")
    assert response.status_code == 418
    assert response.text == "custom body"
    assert response.headers["X-Reason"] == "tea"


def test_abort_uses_the_app_aborter(app: Demijohn, client: DemijohnClient) -> None:
    class ClientClosed(HTTPException):
        code = 499
        description = "client closed request"

    app.aborter.mapping[499] = ClientClosed
    _add(app, "/", lambda: abort(499))
    response = client.get("/")
    assert response.status_code == 499
    assert "client closed request" in response.text
    # Outside the application, Werkzeug's default aborter does not know 499.
    with pytest.raises(LookupError):
        abort(499)


def test_redirect(app: Demijohn, client: DemijohnClient) -> None:
    _add(app, "/old", lambda: redirect("/new"))
    _add(app, "/moved", lambda: redirect("/new", code=301))
    _add(app, "/new", lambda: "new page")

    response = client.get("/old")
    assert response.status_code == 302
    assert response.headers["Location"] == "/new"
    assert client.get("/moved").status_code == 301
    assert client.get("/old", follow_redirects=True).text == "new page"


def test_redirect_outside_app_context() -> None:
    response = redirect("https://example.org/", 307)
    assert response.status_code == 307
    assert response.headers["Location"] == "https://example.org/"


def test_redirect_uses_app_response_class_and_override(app: Demijohn) -> None:
    class MyResponse(Response):
        pass

    app.response_class = MyResponse
    with app.app_context():
        assert isinstance(redirect("/x"), MyResponse)


@pytest.mark.parametrize("location", ["/a\r\nSet-Cookie: x=1", "/a\nX: y", "/a\rb"])
def test_redirect_refuses_newlines(app: Demijohn, location: str) -> None:
    with pytest.raises(ValueError, match="newline"):
        redirect(location)
    with app.app_context(), pytest.raises(ValueError, match="newline"):
        redirect(location)


# -- unhandled exceptions ---------------------------------------------------------


def test_unhandled_exception_becomes_500(
    app: Demijohn, client: DemijohnClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    _add(app, "/", _raise(ZeroDivisionError("secret detail")))

    with caplog.at_level(logging.ERROR, logger=app.name):
        response = client.get("/")
    assert response.status_code == 500
    assert "Internal Server Error" in response.text
    # Nothing of the exception reaches the client.
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text
    assert "ZeroDivisionError" not in response.text
    # It is logged, with the traceback.
    [record] = [r for r in caplog.records if r.name == app.name]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "Exception on / [GET]"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ZeroDivisionError)


def test_500_handler_receives_internal_server_error(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    received: list[InternalServerError] = []

    @app.errorhandler(500)
    def server_error(e: InternalServerError) -> tuple[str, int]:
        received.append(e)
        return f"sorry: {type(e.original_exception).__name__}", 500

    error = KeyError("oops")
    _add(app, "/", _raise(error))

    response = client.get("/")
    assert response.status_code == 500
    assert response.text == "sorry: KeyError"
    [e] = received
    assert isinstance(e, InternalServerError)
    assert e.original_exception is error


def test_500_handler_by_class(app: Demijohn, client: DemijohnClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.register_error_handler(InternalServerError, lambda e: ("by class", 500))
    _add(app, "/", _raise(ValueError()))
    assert client.get("/").text == "by class"


def test_500_handler_for_explicit_abort_500(
    app: Demijohn, client: DemijohnClient
) -> None:
    # abort(500) is an HTTP exception like any other: the handler gets it
    # even in testing mode, and it wraps no original exception.
    seen: list[BaseException | None] = []

    @app.errorhandler(500)
    def server_error(e: InternalServerError) -> tuple[str, int]:
        seen.append(e.original_exception)
        return "aborted", 500

    _add(app, "/", lambda: abort(500))
    assert client.get("/").text == "aborted"
    assert seen == [None]


def test_error_inside_an_error_handler(
    app: Demijohn, client: DemijohnClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    originals: list[BaseException | None] = []

    @app.errorhandler(KeyError)
    def broken(e: KeyError) -> str:
        raise RuntimeError("handler failed")

    @app.errorhandler(500)
    def server_error(e: InternalServerError) -> tuple[str, int]:
        originals.append(e.original_exception)
        return "500 page", 500

    _add(app, "/", _raise(KeyError("x")))
    response = client.get("/")
    assert response.status_code == 500
    assert response.text == "500 page"
    [original] = originals
    assert isinstance(original, RuntimeError)
    assert "handler failed" in caplog.text


def test_error_inside_error_handler_propagates_in_testing(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.register_error_handler(KeyError, _raise(RuntimeError("handler failed")))
    _add(app, "/", _raise(KeyError("x")))
    with pytest.raises(RuntimeError, match="handler failed"):
        client.get("/")


def test_error_inside_500_handler_reaches_the_server(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.register_error_handler(500, _raise(OSError("500 page broken")))
    _add(app, "/", _raise(KeyError("x")))
    with pytest.raises(OSError, match="500 page broken"):
        client.get("/")


def test_after_request_failing_while_handling_an_error(
    app: Demijohn, client: DemijohnClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    calls: list[int] = []

    @app.after_request
    def broken(response: Response) -> Response:
        calls.append(response.status_code)
        raise RuntimeError("after_request failed")

    _add(app, "/", lambda: "ok")
    response = client.get("/")
    assert response.status_code == 500
    # Once for the view's response, once for the 500 response.
    assert calls == [200, 500]
    assert "Request finalizing failed with an error while handling an error" in (
        caplog.text
    )
    assert "after_request failed" in caplog.text


def test_error_handler_return_value_is_a_full_response(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.register_error_handler(
        ParentError, lambda e: ({"error": "parent"}, 409, {"X-Err": "1"})
    )
    _add(app, "/", _raise(ParentError()))
    response = client.get("/")
    assert response.status_code == 409
    assert response.json == {"error": "parent"}
    assert response.headers["X-Err"] == "1"


# -- PROPAGATE_EXCEPTIONS ------------------------------------------------------


@pytest.mark.parametrize(
    ("propagate", "testing", "debug", "raises"),
    [
        (None, True, False, True),
        (None, False, True, True),
        (None, False, False, False),
        (True, False, False, True),
        (False, True, False, False),
        (False, False, True, False),
    ],
)
def test_propagate_exceptions(
    app: Demijohn,
    make_client: t.Callable[[Demijohn], DemijohnClient],
    propagate: bool | None,
    testing: bool,
    debug: bool,
    raises: bool,
) -> None:
    app.config.update(PROPAGATE_EXCEPTIONS=propagate, TESTING=testing, DEBUG=debug)
    _add(app, "/", _raise(ZeroDivisionError()))
    client = make_client(app)
    if raises:
        with pytest.raises(ZeroDivisionError):
            client.get("/")
    else:
        assert client.get("/").status_code == 500


def test_propagated_exception_is_the_original(
    app: Demijohn, client: DemijohnClient
) -> None:
    error = ValueError("original")
    _add(app, "/", _raise(error))
    with pytest.raises(ValueError) as info:
        client.get("/")
    assert info.value is error


def test_http_exceptions_are_not_propagated(
    app: Demijohn, client: DemijohnClient
) -> None:
    # Even in testing mode, an HTTP error is a response, not an exception.
    _add(app, "/", lambda: abort(403))
    assert client.get("/").status_code == 403


# -- trapping ----------------------------------------------------------------------


def test_trap_http_exceptions(app: Demijohn, client: DemijohnClient) -> None:
    app.config["TRAP_HTTP_EXCEPTIONS"] = True
    _add(app, "/", lambda: abort(404))
    with pytest.raises(NotFound):
        client.get("/")
    with pytest.raises(NotFound):
        client.get("/no-such-route")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/").status_code == 500


def test_trapped_http_exception_still_reaches_its_handler(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.config["TRAP_HTTP_EXCEPTIONS"] = True
    app.register_error_handler(NotFound, lambda e: ("handled", 404))
    assert client.get("/missing").text == "handled"


def _key_and_abort_routes(app: Demijohn) -> None:
    @app.route("/key")
    def key() -> str:
        return request.form["missing_key"]

    @app.route("/abort")
    def bad() -> str:
        abort(400)


def test_bad_request_key_error_default(app: Demijohn, client: DemijohnClient) -> None:
    _key_and_abort_routes(app)
    response = client.get("/key")
    assert response.status_code == 400
    # Without debug, the key name is not revealed.
    assert "missing_key" not in response.text
    assert client.get("/abort").status_code == 400


def test_bad_request_key_error_trapped_in_debug(
    app: Demijohn, client: DemijohnClient
) -> None:
    _key_and_abort_routes(app)
    app.debug = True
    with pytest.raises(BadRequestKeyError) as info:
        client.get("/key")
    assert isinstance(info.value, KeyError)
    assert "missing_key" in info.value.get_description()
    # Only key errors are trapped in debug mode.
    assert client.get("/abort").status_code == 400


def test_bad_request_key_error_shown_in_debug_when_not_trapped(
    app: Demijohn, client: DemijohnClient
) -> None:
    _key_and_abort_routes(app)
    app.debug = True
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False
    response = client.get("/key")
    assert response.status_code == 400
    assert "missing_key" in response.text


def test_trap_bad_request_errors(app: Demijohn, client: DemijohnClient) -> None:
    _key_and_abort_routes(app)
    app.config["TRAP_BAD_REQUEST_ERRORS"] = True
    with pytest.raises(BadRequestKeyError):
        client.get("/key")
    with pytest.raises(BadRequest):
        client.get("/abort")
    # Other HTTP errors are not affected.
    assert client.get("/missing").status_code == 404


def test_trap_bad_request_errors_false_in_debug(
    app: Demijohn, client: DemijohnClient
) -> None:
    _key_and_abort_routes(app)
    app.config.update(DEBUG=True, TRAP_BAD_REQUEST_ERRORS=False)
    assert client.get("/key").status_code == 400


# -- logging and signals -----------------------------------------------------------


def test_log_exception_is_called_with_exc_info(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    logged: list[t.Any] = []
    app.log_exception = logged.append  # type: ignore[method-assign]
    error = TypeError("x")
    _add(app, "/", _raise(error))
    client.get("/")
    [(exc_type, exc_value, tb)] = logged
    assert exc_type is TypeError
    assert exc_value is error
    assert tb is not None


def test_log_exception_not_called_when_propagating(
    app: Demijohn, client: DemijohnClient, caplog: pytest.LogCaptureFixture
) -> None:
    _add(app, "/", _raise(TypeError("x")))
    with pytest.raises(TypeError):
        client.get("/")
    assert not [r for r in caplog.records if r.name == app.name]


@pytest.mark.parametrize("propagate", [True, False])
def test_got_request_exception_signal(
    app: Demijohn, client: DemijohnClient, propagate: bool
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = propagate
    received: list[tuple[object, BaseException]] = []

    def receiver(sender: object, exception: BaseException, **kwargs: t.Any) -> None:
        received.append((sender, exception))

    error = ChildError("boom")
    _add(app, "/", _raise(error))
    with got_request_exception.connected_to(receiver, app):
        if propagate:
            with pytest.raises(ChildError):
                client.get("/")
        else:
            assert client.get("/").status_code == 500
    assert received == [(app, error)]


def test_got_request_exception_not_sent_for_handled_errors(
    app: Demijohn, client: DemijohnClient
) -> None:
    received: list[object] = []
    app.register_error_handler(ChildError, lambda e: ("ok", 400))
    _add(app, "/", _raise(ChildError()))
    with got_request_exception.connected_to(
        lambda sender, **kw: received.append(kw), app
    ):
        assert client.get("/").status_code == 400
        assert client.get("/missing").status_code == 404
    assert received == []
