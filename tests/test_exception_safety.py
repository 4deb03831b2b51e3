"""An exception anywhere in a request is reported once and leaves nothing
behind.

For every place user code runs (hooks, views, error handlers, templates,
streamed bodies) a failure must be logged exactly once, answered with a 500
in production (``PROPAGATE_EXCEPTIONS=False``) or raised to the caller in
testing, run teardown, and unbind the application and request contexts, so
the next request is served normally. Every test runs under WSGI and ASGI.
"""

from __future__ import annotations

import logging
import typing as t

import pytest

from demijohn import (
    Demijohn,
    g,
    render_template_string,
    request,
    stream_template_string,
    stream_with_context,
)
from demijohn.globals import _cv_app, _cv_request
from demijohn.testing import DemijohnClient
from demijohn.testing_transport import run_on_background_loop

MakeClient = t.Callable[..., DemijohnClient]


class Boom(Exception):
    """The failure the tests inject."""


class Recorder:
    """What the teardown callbacks saw."""

    def __init__(self) -> None:
        self.request_teardowns: list[BaseException | None] = []
        self.app_teardowns: list[BaseException | None] = []


def fail_on_fail_path() -> None:
    if request.path == "/fail":
        raise Boom("injected failure")


def _fail_once_per_request() -> None:
    # An after_request function also runs on the 500 response; fail only
    # the first time so there is exactly one failure to report.
    if not g.get("failed_once"):
        g.failed_once = True
        fail_on_fail_path()


# Where user code runs, and how to make it fail there.
POINTS = [
    "before_request",
    "async_before_request",
    "after_request",
    "url_value_preprocessor",
    "context_processor",
    "view",
    "async_view",
    "template",
    "error_handler",
    "async_error_handler",
]

STREAMS = ["generator", "stream_with_context", "async_generator", "stream_template"]


def build_app(point: str, *, testing: bool) -> tuple[Demijohn, Recorder]:
    app = Demijohn(f"exc_{point}", root_path="/nonexistent")
    app.config.update(
        SECRET_KEY="k",
        TESTING=testing,
        PROPAGATE_EXCEPTIONS=None if testing else False,
    )
    seen = Recorder()

    @app.teardown_request
    def record_request_teardown(exc: BaseException | None) -> None:
        seen.request_teardowns.append(exc)

    @app.teardown_appcontext
    def record_app_teardown(exc: BaseException | None) -> None:
        seen.app_teardowns.append(exc)

    _install_failure(app, point)

    @app.route("/ok")
    @app.route("/fail")
    def view() -> t.Any:
        return _view_body(point)

    return app, seen


def _install_failure(app: Demijohn, point: str) -> None:
    if point == "before_request":
        app.before_request(fail_on_fail_path)
    elif point == "async_before_request":

        async def async_before() -> None:
            fail_on_fail_path()

        app.before_request(async_before)
    elif point == "after_request":

        def after(response: t.Any) -> t.Any:
            _fail_once_per_request()
            return response

        app.after_request(after)
    elif point == "url_value_preprocessor":
        app.url_value_preprocessor(lambda endpoint, values: fail_on_fail_path())
    elif point == "context_processor":

        def processor() -> dict[str, t.Any]:
            fail_on_fail_path()
            return {}

        app.context_processor(processor)
    elif point == "error_handler":

        def handler(e: KeyError) -> str:
            fail_on_fail_path()
            return "handled"

        app.register_error_handler(KeyError, handler)
    elif point == "async_error_handler":

        async def async_handler(e: KeyError) -> str:
            fail_on_fail_path()
            return "handled"

        app.register_error_handler(KeyError, async_handler)


def _view_body(point: str) -> t.Any:
    if point == "view":
        fail_on_fail_path()
    elif point == "template":
        return render_template_string("a{{ check() }}b", check=fail_on_fail_path)
    elif point == "context_processor":
        return render_template_string("rendered")
    elif point in {"error_handler", "async_error_handler"}:
        raise KeyError("handled by the error handler")
    elif point in STREAMS:
        return _stream(point, request.path == "/fail")
    return "ok"


def _stream(kind: str, fail: bool) -> t.Any:
    def check() -> str:
        if fail:
            raise Boom("injected failure")
        return ""

    if kind == "generator":

        def generate() -> t.Iterator[str]:
            yield "a"
            yield check()
            yield "b"

        return generate()
    if kind == "stream_with_context":

        @stream_with_context
        def generate_in_context() -> t.Iterator[str]:
            yield "a"
            yield check()
            yield "b"

        return generate_in_context()
    if kind == "async_generator":

        async def agenerate() -> t.AsyncIterator[str]:
            yield "a"
            yield check()
            yield "b"

        return agenerate()
    return stream_template_string("a{{ check() }}b", check=check)


def build(point: str, *, testing: bool) -> tuple[Demijohn, Recorder]:
    if point != "async_view":
        return build_app(point, testing=testing)
    app, seen = build_app("none", testing=testing)

    async def async_view() -> str:
        fail_on_fail_path()
        return "ok"

    # Replace the view of both URLs with an async one.
    app.view_functions["view"] = async_view
    return app, seen


def assert_no_context_bound() -> None:
    assert _cv_app.get(None) is None
    assert _cv_request.get(None) is None

    async def on_the_loop() -> tuple[t.Any, t.Any]:
        return _cv_app.get(None), _cv_request.get(None)

    # Nor on the event loop that serves ASGI test requests.
    assert run_on_background_loop(on_the_loop()) == (None, None)


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def fetch(client: DemijohnClient, path: str) -> bytes:
    """The whole body; a streamed body is read (and may fail) only here
    under WSGI, while the ASGI test client reads it before returning."""
    response = client.get(path)
    try:
        return response.get_data()
    finally:
        response.close()


def assert_healthy(client: DemijohnClient) -> None:
    rv = client.get("/ok")
    assert rv.status_code == 200
    assert b"injected" not in rv.data


# -- hooks, views, templates and error handlers --------------------------------


@pytest.mark.parametrize("point", POINTS)
def test_failure_in_production_is_one_logged_500(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture, point: str
) -> None:
    app, seen = build(point, testing=False)
    client = make_client(app)
    with caplog.at_level(logging.ERROR):
        rv = client.get("/fail")
    assert rv.status_code == 500
    assert b"Internal Server Error" in rv.data
    assert b"injected" not in rv.data
    [record] = error_records(caplog)
    assert record.name == app.name
    assert record.getMessage() == "Exception on /fail [GET]"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], Boom)
    # Teardown ran once and was told about the failure.
    assert [type(e) for e in seen.request_teardowns] == [Boom]
    assert [type(e) for e in seen.app_teardowns] == [Boom]
    assert_no_context_bound()
    assert_healthy(client)
    assert seen.request_teardowns[-1] is None


@pytest.mark.parametrize("point", POINTS)
def test_failure_in_testing_propagates_and_is_not_logged(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture, point: str
) -> None:
    app, seen = build(point, testing=True)
    client = make_client(app)
    with caplog.at_level(logging.ERROR), pytest.raises(Boom):
        client.get("/fail")
    # The test (or the debugger) gets the error itself; logging it as well
    # would report it twice.
    assert error_records(caplog) == []
    assert [type(e) for e in seen.request_teardowns] == [Boom]
    assert [type(e) for e in seen.app_teardowns] == [Boom]
    assert_no_context_bound()
    assert_healthy(client)


def test_after_request_failing_again_on_the_500_is_logged_per_failure(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app, seen = build_app("none", testing=False)

    @app.after_request
    def always_fails(response: t.Any) -> t.Any:
        fail_on_fail_path()
        return response

    client = make_client(app)
    with caplog.at_level(logging.ERROR):
        rv = client.get("/fail")
    # The 500 still goes out although after_request fails on it too.
    assert rv.status_code == 500
    first, second = error_records(caplog)
    assert first.getMessage() == "Exception on /fail [GET]"
    assert second.getMessage() == (
        "Request finalizing failed with an error while handling an error"
    )
    assert first.exc_info is not None and second.exc_info is not None
    assert first.exc_info[1] is not second.exc_info[1]
    assert_no_context_bound()
    assert_healthy(client)


def test_failing_500_handler_reaches_the_server_after_one_log(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app, seen = build_app("view", testing=False)

    @app.errorhandler(500)
    def broken_handler(e: Exception) -> str:
        raise RuntimeError("the 500 handler is broken")

    client = make_client(app)
    with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError, match="500"):
        client.get("/fail")
    # The original error is logged by the app; the handler's own error
    # goes to the server, which logs it and answers with its own 500.
    [record] = error_records(caplog)
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], Boom)
    assert [type(e) for e in seen.request_teardowns] == [Boom]
    assert_no_context_bound()
    assert_healthy(client)


# -- teardown ------------------------------------------------------------------


@pytest.mark.parametrize("testing", [False, True], ids=["production", "testing"])
@pytest.mark.parametrize("point", ["teardown_request", "teardown_appcontext"])
def test_failing_teardown_reaches_the_server_once_after_all_teardowns_ran(
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    point: str,
    testing: bool,
) -> None:
    app, seen = build_app("none", testing=testing)

    @app.before_request
    def remember_path() -> None:
        g.path = request.path

    def failing_teardown(exc: BaseException | None) -> None:
        # The request context is gone in teardown_appcontext; g is not.
        if g.path == "/fail":
            raise Boom("injected failure")

    getattr(app, point)(failing_teardown)
    client = make_client(app)
    # The response exists already, so a teardown error cannot become a
    # 500: as in Flask, it propagates to the server, which logs it once.
    with caplog.at_level(logging.ERROR), pytest.raises(Boom):
        client.get("/fail")
    assert error_records(caplog) == []
    # The failing function was registered last, so it ran first; the
    # others still ran.
    assert seen.request_teardowns == [None]
    assert seen.app_teardowns == [None]
    assert_no_context_bound()
    assert_healthy(client)


# -- streamed bodies -------------------------------------------------------------


@pytest.mark.parametrize("testing", [False, True], ids=["production", "testing"])
@pytest.mark.parametrize("kind", STREAMS)
def test_failing_stream_reaches_the_server_once(
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    testing: bool,
) -> None:
    app, seen = build_app(kind, testing=testing)
    client = make_client(app)
    # The status line and headers went out before the body failed, so no
    # 500 is possible: the error propagates to the server, which logs it
    # and drops the connection so the client sees an incomplete body.
    with caplog.at_level(logging.ERROR), pytest.raises(Boom):
        fetch(client, "/fail")
    assert error_records(caplog) == []
    # Teardown ran exactly once.
    assert len(seen.request_teardowns) == 1
    assert len(seen.app_teardowns) == 1
    assert_no_context_bound()
    assert fetch(client, "/ok") == b"ab"
    assert len(seen.request_teardowns) == 2


@pytest.mark.parametrize("kind", ["stream_with_context", "async_generator"])
def test_stream_in_context_tells_teardown_about_its_failure(
    make_client: MakeClient, kind: str
) -> None:
    app, seen = build_app(kind, testing=False)
    client = make_client(app)
    with pytest.raises(Boom):
        fetch(client, "/fail")
    [exc] = seen.request_teardowns
    assert isinstance(exc, Boom)
    assert_no_context_bound()
