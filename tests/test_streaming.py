"""Streamed responses: ``stream_with_context`` keeps the request usable while
the body is iterated, and teardown waits until the stream ends, fails or is
closed by the server."""

from __future__ import annotations

import typing as t

import pytest
from werkzeug.test import EnvironBuilder

from demijohn import (
    Demijohn,
    Response,
    abort,
    g,
    has_app_context,
    has_request_context,
    request,
    session,
    stream_with_context,
)
from demijohn.globals import _cv_app, _cv_request
from demijohn.testing import DemijohnClient


def _start_response(
    status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
) -> t.Callable[[bytes], object]:
    return lambda data: None


def _call_wsgi(app: Demijohn, path: str = "/") -> t.Iterable[bytes]:
    """Call the WSGI callable the way a server does, without a test client."""
    environ = EnvironBuilder(path=path).get_environ()
    return app.wsgi_app(environ, _start_response)


def _record_teardown(app: Demijohn, events: list[t.Any]) -> None:
    @app.teardown_request
    def request_down(exc: BaseException | None) -> None:
        events.append(("teardown_request", exc))

    @app.teardown_appcontext
    def app_down(exc: BaseException | None) -> None:
        events.append(("teardown_appcontext", exc))


def test_generator_form_keeps_request_session_and_g(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/")
    def index() -> Response:
        g.user = "ann"
        session["visits"] = 3

        def generate() -> t.Iterator[str]:
            yield request.args["word"]
            yield f"|{g.user}"
            yield f"|{session['visits']}"
            yield f"|{has_request_context()}"

        return Response(stream_with_context(generate()))

    assert client.get("/?word=hello").text == "hello|ann|3|True"


def test_decorator_form(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/")
    def index() -> Response:
        @stream_with_context
        def generate(prefix: str) -> t.Iterator[str]:
            yield prefix
            yield request.path

        return Response(generate("path="))

    assert client.get("/").text == "path=/"


def test_decorator_applied_outside_request_is_lazy(
    app: Demijohn, client: DemijohnClient
) -> None:
    # Decorating at import time is fine; the context is looked up per call.
    @stream_with_context
    def generate() -> t.Iterator[str]:
        yield request.method

    @app.route("/", methods=["POST"])
    def index() -> Response:
        return Response(generate())

    assert client.post("/").text == "POST"
    with pytest.raises(RuntimeError, match="request context"):
        generate()


def test_outside_request_raises(app: Demijohn) -> None:
    with pytest.raises(RuntimeError, match="stream_with_context"):
        stream_with_context(iter(["a"]))
    with app.app_context(), pytest.raises(RuntimeError, match="request context"):
        stream_with_context(iter(["a"]))


def test_teardown_runs_after_the_stream_finishes(
    app: Demijohn, client: DemijohnClient
) -> None:
    events: list[t.Any] = []
    _record_teardown(app, events)

    @app.after_request
    def after(response: Response) -> Response:
        events.append("after_request")
        return response

    @app.route("/")
    def index() -> Response:
        events.append("view")

        def generate() -> t.Iterator[str]:
            try:
                events.append("chunk 1")
                yield "a"
                events.append("chunk 2")
                yield "b"
            finally:
                events.append(f"finally {request.path}")

        return Response(stream_with_context(generate()))

    assert client.get("/").text == "ab"
    assert events == [
        "view",
        "after_request",
        "chunk 1",
        "chunk 2",
        "finally /",
        ("teardown_request", None),
        ("teardown_appcontext", None),
    ]


def test_no_context_bound_between_steps_or_after_stream(app: Demijohn) -> None:
    # The context is bound around each step only, so a stream the server
    # abandons cannot leak it into the next request on the same worker.
    @app.route("/")
    def index() -> Response:
        def generate() -> t.Iterator[str]:
            yield str(has_request_context())
            yield str(has_app_context())

        return Response(stream_with_context(generate()))

    body = _call_wsgi(app)
    assert _cv_request.get(None) is None
    iterator = iter(body)
    assert next(iterator) == b"True"
    assert _cv_request.get(None) is None
    assert _cv_app.get(None) is None
    assert next(iterator) == b"True"
    with pytest.raises(StopIteration):
        next(iterator)
    t.cast(t.Any, body).close()
    assert _cv_app.get(None) is None


def test_client_disconnect_closes_generator_and_tears_down(app: Demijohn) -> None:
    events: list[t.Any] = []
    _record_teardown(app, events)

    @app.route("/stream")
    def index() -> Response:
        g.marker = "from view"

        def generate() -> t.Iterator[str]:
            try:
                yield "first"
                events.append("second chunk")  # never reached
                yield "second"
            finally:
                events.append(f"finally {request.path} {g.marker}")

        return Response(stream_with_context(generate()))

    body = _call_wsgi(app, "/stream")
    assert next(iter(body)) == b"first"
    assert events == []
    t.cast(t.Any, body).close()
    assert events == [
        "finally /stream from view",
        ("teardown_request", None),
        ("teardown_appcontext", None),
    ]
    assert _cv_app.get(None) is None
    assert _cv_request.get(None) is None
    # A second close (servers may call it again) changes nothing.
    t.cast(t.Any, body).close()
    assert len(events) == 3


def test_close_before_first_chunk_tears_down(app: Demijohn) -> None:
    events: list[t.Any] = []
    _record_teardown(app, events)

    @app.route("/")
    def index() -> Response:
        return Response(stream_with_context(iter(["never read"])))

    body = _call_wsgi(app)
    assert events == []
    t.cast(t.Any, body).close()
    assert events == [("teardown_request", None), ("teardown_appcontext", None)]
    assert _cv_app.get(None) is None


def test_exception_mid_stream_still_tears_down(
    app: Demijohn, client: DemijohnClient
) -> None:
    events: list[t.Any] = []
    _record_teardown(app, events)

    @app.route("/")
    def index() -> Response:
        def generate() -> t.Iterator[str]:
            yield "start"
            raise ZeroDivisionError("mid-stream")

        return Response(stream_with_context(generate()))

    with pytest.raises(ZeroDivisionError):
        client.get("/").get_data()
    assert [name for name, _ in events] == ["teardown_request", "teardown_appcontext"]
    for _, exc in events:
        assert isinstance(exc, ZeroDivisionError)
    assert _cv_app.get(None) is None


def test_exception_mid_stream_through_wsgi(app: Demijohn) -> None:
    events: list[t.Any] = []
    _record_teardown(app, events)

    @app.route("/")
    def index() -> Response:
        def generate() -> t.Iterator[str]:
            yield "start"
            raise KeyError("mid-stream")

        return Response(stream_with_context(generate()))

    body = _call_wsgi(app)
    iterator = iter(body)
    assert next(iterator) == b"start"
    with pytest.raises(KeyError):
        next(iterator)
    t.cast(t.Any, body).close()
    assert len(events) == 2
    assert all(isinstance(exc, KeyError) for _, exc in events)
    assert _cv_app.get(None) is None
    assert _cv_request.get(None) is None


def test_plain_generator_has_no_request_context(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/")
    def index() -> Response:
        def generate() -> t.Iterator[str]:
            yield f"request={has_request_context()}"
            try:
                request.path  # noqa: B018
            except RuntimeError:
                yield " unbound"

        return Response(generate())

    assert client.get("/").text == "request=False unbound"


def test_stream_consumed_inside_the_view(app: Demijohn, client: DemijohnClient) -> None:
    events: list[t.Any] = []
    _record_teardown(app, events)

    @app.route("/")
    def index() -> str:
        chunks = list(stream_with_context(iter(["a", "b"])))
        events.append("view done")
        return "".join(chunks)

    assert client.get("/").text == "ab"
    assert events == [
        "view done",
        ("teardown_request", None),
        ("teardown_appcontext", None),
    ]


def test_streamed_response_with_generator_returned_directly(
    app: Demijohn, client: DemijohnClient
) -> None:
    # A view may return the wrapped generator itself; make_response streams it.
    @app.route("/")
    def index() -> t.Iterator[str]:
        def generate() -> t.Iterator[str]:
            yield request.args.get("x", "none")

        return stream_with_context(generate())

    assert client.get("/?x=1").text == "1"


def test_teardown_error_after_stream_propagates(app: Demijohn) -> None:
    @app.teardown_request
    def broken(exc: BaseException | None) -> None:
        raise RuntimeError("teardown failed")

    @app.route("/")
    def index() -> Response:
        return Response(stream_with_context(iter(["x"])))

    body = _call_wsgi(app)
    iterator = iter(body)
    assert next(iterator) == b"x"
    with pytest.raises(RuntimeError, match="teardown failed"):
        next(iterator)
    assert _cv_app.get(None) is None
    assert _cv_request.get(None) is None


def test_stream_created_but_not_sent_still_tears_down(
    app: Demijohn, client: DemijohnClient
) -> None:
    events: list[t.Any] = []
    _record_teardown(app, events)

    @app.route("/")
    def index() -> Response:
        def generate() -> t.Iterator[str]:
            try:
                yield "never sent"
            finally:
                events.append("generator closed")

        stream = stream_with_context(generate())
        next(stream)
        abort(403)

    response = client.get("/")
    assert response.status_code == 403
    # The server is done with the response when it closes it.
    response.close()
    assert events == [
        "generator closed",
        ("teardown_request", None),
        ("teardown_appcontext", None),
    ]
    assert _cv_app.get(None) is None


def test_streamed_response_replaced_by_after_request_tears_down(
    app: Demijohn, client: DemijohnClient
) -> None:
    events: list[t.Any] = []
    _record_teardown(app, events)

    @app.after_request
    def replace(response: Response) -> Response:
        return Response("replaced")

    @app.route("/")
    def index() -> Response:
        return Response(stream_with_context(iter(["streamed"])))

    assert client.get("/").text == "replaced"
    assert [name for name, _ in events] == ["teardown_request", "teardown_appcontext"]


def test_head_request_on_streamed_response_tears_down_on_close(app: Demijohn) -> None:
    events: list[t.Any] = []
    _record_teardown(app, events)

    @app.route("/")
    def index() -> Response:
        return Response(stream_with_context(iter(["body"])))

    environ = EnvironBuilder(path="/", method="HEAD").get_environ()
    body = app.wsgi_app(environ, _start_response)
    assert list(body) == []
    t.cast(t.Any, body).close()
    assert [name for name, _ in events] == ["teardown_request", "teardown_appcontext"]


def test_stream_not_sent_ends_when_server_closes_response(app: Demijohn) -> None:
    events: list[t.Any] = []
    _record_teardown(app, events)
    kept: list[t.Any] = []

    @app.route("/")
    def index() -> str:
        def generate() -> t.Iterator[str]:
            try:
                yield "never sent"
            finally:
                events.append(f"generator closed in {request.path}")

        stream = stream_with_context(generate())
        next(stream)
        # Still referenced, so only the server's close can end it.
        kept.append(stream)
        return "plain body"

    body = _call_wsgi(app)
    assert b"".join(body) == b"plain body"
    assert events == []
    assert _cv_app.get(None) is None
    t.cast(t.Any, body).close()
    assert events == [
        "generator closed in /",
        ("teardown_request", None),
        ("teardown_appcontext", None),
    ]
    assert _cv_app.get(None) is None


class _ClosableChunks:
    """An iterator (not a generator) with its own ``close()``, like a file
    or a database cursor streamed to the client."""

    def __init__(self, chunks: list[str], fail_at: int | None = None) -> None:
        self._chunks = iter(chunks)
        self._fail_at = fail_at
        self._sent = 0
        self.closed_with_request: list[bool] = []

    def __iter__(self) -> _ClosableChunks:
        return self

    def __next__(self) -> str:
        if self._sent == self._fail_at:
            raise ValueError("chunk source broke")
        self._sent += 1
        return next(self._chunks)

    def close(self) -> None:
        self.closed_with_request.append(has_request_context())


def test_wrapped_iterator_is_closed_when_the_stream_is_exhausted(
    app: Demijohn, client: DemijohnClient
) -> None:
    source = _ClosableChunks(["a", "b"])

    @app.route("/")
    def index() -> Response:
        return Response(stream_with_context(source))

    assert client.get("/").text == "ab"
    # Closed exactly once, with the request still bound.
    assert source.closed_with_request == [True]


def test_wrapped_iterator_is_closed_when_the_stream_raises(
    app: Demijohn, client: DemijohnClient
) -> None:
    source = _ClosableChunks(["a", "b"], fail_at=1)

    @app.route("/")
    def index() -> Response:
        return Response(stream_with_context(source))

    with pytest.raises(ValueError, match="chunk source broke"):
        client.get("/").get_data()
    assert source.closed_with_request == [True]
