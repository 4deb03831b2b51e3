"""The ASGI edge: HTTP, WebSocket and lifespan connections.

Each ASGI scope type is handled by one small class, chosen by a class
attribute of the application (:attr:`~demijohn.Demijohn.asgi_http_class`,
:attr:`~demijohn.Demijohn.asgi_websocket_class`,
:attr:`~demijohn.Demijohn.asgi_lifespan_class`), so a subclass can swap one.

The edge only translates. It turns the scope and the received body into the
same WSGI ``environ`` a WSGI server would build (for HTTP requests, the first
time something reads it; see :mod:`demijohn.asgi_environ`), so
:class:`~demijohn.wrappers.Request` behaves identically under both
protocols, and it sends the :class:`~demijohn.wrappers.Response` back. The
request lifecycle itself is the application's, run by
:func:`run_steps_async`: coroutine functions are awaited on the event loop,
plain functions run in the application's worker pool.

Rules for this module: it never imports the application module at runtime,
and it never calls a view or hook except through the application's
lifecycle steps.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import tempfile
import traceback
import typing as t
import weakref
from functools import partial

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from .asgi_environ import (
    ScopeEnviron,
    build_environ,
    header_table,
)
from .globals import _cv_app, _cv_request
from .lifecycle import is_coroutine_function, session_may_do_io
from .output import PlainOutput, asgi_header_list

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from _typeshed.wsgi import WSGIEnvironment

    from .app import Demijohn
    from .ctx import RequestContext
    from .lifecycle import Steps as _Steps
    from .wrappers import Response

#: An ASGI message.
Message = t.MutableMapping[str, t.Any]
#: The ASGI ``receive`` callable.
Receive = t.Callable[[], t.Awaitable[Message]]
#: The ASGI ``send`` callable.
Send = t.Callable[[Message], t.Awaitable[None]]
#: An ASGI connection scope.
Scope = t.MutableMapping[str, t.Any]

#: Request bodies up to this size stay in memory; larger ones spill to a
#: temporary file, so a large upload does not cost its size in RAM.
SPOOL_MAX_SIZE = 1024 * 1024


async def run_steps_async(
    app: Demijohn, steps: _Steps, *, batched: bool = False
) -> t.Any:
    """Run a lifecycle step generator on the event loop.

    Each step the generator yields is a ``(function, args, kwargs)`` call: a
    coroutine function is awaited here, any other callable runs through
    :meth:`Demijohn.run_sync <demijohn.Demijohn.run_sync>`. Its result is
    sent back into the generator, or its exception thrown into it, exactly
    as the synchronous driver does under WSGI.

    With ``batched``, and an application that keeps the built-in
    :meth:`~demijohn.Demijohn.run_sync`, a run of consecutive sync calls
    takes one trip to the request's worker thread: the thread makes a call,
    resumes the generator with its result and makes the next sync call
    itself, until the generator asks for a coroutine function or finishes
    (see :func:`run_sync_calls`). The step code between those calls then
    runs on the worker thread, so only generators that bind and unbind no
    context may be batched (not the pop steps).
    """
    batch = batched and app._batches_sync_calls()
    try:
        func, args, kwargs = next(steps)
        while True:
            coroutine = is_coroutine_function(func)
            if batch and not coroutine:
                # PERF: a hand-off to a thread and back costs more than a
                # whole request on the loop; a sync app's before_request
                # functions, view and after_request functions take one.
                finished, outcome = await app.run_sync(
                    run_sync_calls, steps, func, args, kwargs
                )
                if finished:
                    return outcome
                func, args, kwargs = outcome
                continue
            try:
                if coroutine:
                    value = await func(*args, **kwargs)
                elif kwargs:
                    value = await app.run_sync(partial(func, *args, **kwargs))
                else:
                    value = await app.run_sync(func, *args)
            except Exception as e:
                func, args, kwargs = steps.throw(e)
            else:
                func, args, kwargs = steps.send(value)
    except StopIteration as stop:
        return stop.value


def run_sync_calls(
    steps: _Steps,
    func: t.Callable[..., t.Any],
    args: tuple[t.Any, ...],
    kwargs: t.Mapping[str, t.Any],
) -> tuple[bool, t.Any]:
    """Make the sync call ``func(*args, **kwargs)`` that ``steps`` asked
    for, and then every call it asks for next, until it asks for a
    coroutine function or finishes. Run on the worker thread by
    :func:`run_steps_async` (when batched).

    Returns ``(False, call)`` with the ``(function, args, kwargs)`` to await
    on the loop, or ``(True, result)`` with the generator's return value.
    An exception a call raises is thrown into the generator, as the drivers
    do; one the generator lets out propagates.
    """
    try:
        while True:
            try:
                value = func(*args, **kwargs)
            except Exception as e:
                func, args, kwargs = steps.throw(e)
            else:
                func, args, kwargs = steps.send(value)
            if is_coroutine_function(func):
                return False, (func, args, kwargs)
    except StopIteration as stop:
        return True, stop.value


async def dispatch_plainly(app: Demijohn, ctx: RequestContext) -> t.Any:
    """The ASGI form of the plain lane (see :mod:`demijohn.lifecycle`):
    :meth:`~demijohn.Demijohn.full_dispatch_request` for a request no hook
    observes, or ``None`` when the request cannot take the lane.

    It does what the WSGI form, ``Lifecycle._dispatch_plainly``, does: a
    coroutine-function view is awaited on the loop; otherwise (a sync view,
    or ``before_request`` functions to run first) the lane's steps
    (``Lifecycle._plain_lane_steps``) run batched through
    :func:`run_steps_async`, so a sync request's hooks and view take one
    trip to the worker thread. Returns a
    :class:`~demijohn.output.PlainOutput` or a response.
    """
    target = app._plain_lane_view(ctx)
    if target is None or type(target) is PlainOutput:
        return target
    view, view_args = target  # type: ignore[misc]
    if view is None or not is_coroutine_function(view):
        return await run_steps_async(
            app, app._plain_lane_steps(ctx, view, view_args), batched=True
        )
    try:
        rv = await view(**view_args)
    except Exception as e:
        return await respond_to_view_error(app, e)
    response = app._plain_lane_response(ctx, rv)
    if response is not None:
        return response
    return await run_steps_async(app, app._steps("finalize_request", rv), batched=True)


async def respond_to_view_error(app: Demijohn, error: Exception) -> t.Any:
    """The response for an exception a view (or the hooks run before it)
    raised, as the plain lane makes it: ``handle_user_exception``, then
    ``finalize_request``. An exception from either propagates."""
    return await run_steps_async(app, app._error_response_steps(error), batched=True)


async def dispatch_generally(app: Demijohn, ctx: RequestContext) -> t.Any:
    """:meth:`~demijohn.Demijohn.full_dispatch_request` for the bound
    request ``ctx``, as the ASGI edge runs it: through the plain lane
    (:func:`dispatch_plainly`) when the request can take it, else as the
    regular steps. Returns a response or a
    :class:`~demijohn.output.PlainOutput`."""
    response = await dispatch_plainly(app, ctx)
    if response is None:
        response = await run_steps_async(
            app, app._steps("full_dispatch_request"), batched=True
        )
    return response


def settle_request(
    app: Demijohn,
    ctx: RequestContext,
    source: ScopeEnviron,
    error: BaseException | None,
) -> BaseException | None:
    """What the ASGI edge does for a request after sending its response and
    before popping its context: hand both contexts to a test client that
    preserves them, close the ``stream_with_context`` streams nobody
    finished, and return the error teardown sees (``None`` for one
    :meth:`~demijohn.Demijohn.should_ignore_error` ignores)."""
    preserve = source.get("werkzeug.debug.preserve_context")
    if preserve is not None:
        preserve(_cv_app.get())
        preserve(_cv_request.get())
    if error is not None and app.should_ignore_error(error):
        error = None
    if ctx._streams:
        ctx._close_abandoned_streams()
    return error


async def send_buffered_response(send: Send, response: t.Any, method: str) -> bool:
    """Send ``response`` when its body is a buffered list of bytes with its
    length in ``Content-Length`` and nothing else to adjust (see
    ``Response._plain_wsgi_headers``), and return ``True``; return ``False``
    (having sent nothing) for any other response.

    PERF: the same shortcut as the WSGI path (see ``Response.__call__``),
    in two messages (the start and the whole body) instead of a chunk plus
    an empty closing message, and without the environ, of which only the
    request ``method`` matters here.
    """
    plain_headers = getattr(response, "_plain_wsgi_headers", None)
    pairs = None if plain_headers is None else plain_headers()
    if pairs is None:
        return False
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": asgi_header_list(pairs),
        }
    )
    await send(
        {
            "type": "http.response.body",
            "body": b"" if method == "HEAD" else b"".join(response.response),
            "more_body": False,
        }
    )
    return True


def close_spooled_body(stream: t.IO[bytes] | None) -> None:
    """Close a request body that :meth:`ASGIHTTPConnection.read_body`
    spilled to disk, once the request is over: it holds a file descriptor,
    which nothing else closes (Werkzeug closes uploads, never
    ``wsgi.input``)."""
    # PERF: the type test first spares the common in-memory body the ABC
    # machinery of isinstance on SpooledTemporaryFile.
    if type(stream) is not io.BytesIO and isinstance(
        stream, tempfile.SpooledTemporaryFile
    ):
        stream.close()


class MalformedBody(Exception):
    """The request body does not match its framing (e.g. more or fewer bytes
    than ``Content-Length`` declares). Answered with 400 at the edge,
    before the application sees the request."""


async def send_plain_response(send: Send, status: int, message: str) -> None:
    """Send a complete ``text/plain`` response from the edge itself."""
    status_line = f"{status} {HTTP_STATUS_CODES.get(status, 'Unknown').upper()}"
    body = message.encode()
    await send_plain_output(
        send, PlainOutput(status_line, "text/plain; charset=utf-8", body), "GET"
    )


#: Status codes by status line, for the plain lane's few distinct lines.
_STATUS_CODES: dict[str, int] = {}


async def send_plain_output(send: Send, output: PlainOutput, method: str) -> None:
    """Send a response of the plain lane (without its body for HEAD)."""
    body = output.body
    # PERF: the status line is parsed once per distinct line.
    status_line = output.status
    status = _STATUS_CODES.get(status_line)
    if status is None:
        status = int(status_line[:3])
        if len(_STATUS_CODES) < 64:
            _STATUS_CODES[status_line] = status
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", output.content_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send(
        {
            "type": "http.response.body",
            "body": b"" if method == "HEAD" else body,
            "more_body": False,
        }
    )


class ASGIHTTPConnection:
    """Serves one ASGI ``http`` scope through the application's lifecycle.

    It reads the body (enforcing :data:`MAX_CONTENT_LENGTH` as it reads, and
    spilling large bodies to disk), makes the request context, whose
    environ is built from the scope when it is first read (see
    :mod:`demijohn.asgi_environ`), runs
    :meth:`~demijohn.Demijohn.full_dispatch_request` (or
    :meth:`~demijohn.Demijohn.handle_exception`) as steps, sends the
    response, and pops the request context, which runs teardown even when
    the client went away.
    """

    #: The scope's headers as a dict (see
    #: :func:`~demijohn.asgi_environ.header_table`), set by :meth:`__call__`.
    headers: dict[bytes, bytes] | None = None

    def __init__(self, app: Demijohn, scope: Scope) -> None:
        self.app = app
        self.scope = scope

    async def __call__(self, receive: Receive, send: Send) -> None:
        """Handle the connection until the response is sent.

        The request's synchronous code is pinned to one worker thread (see
        :class:`~demijohn.concurrency.RequestWorker`).
        """
        headers = self.scope.get("headers")
        if headers is not None and type(headers) is not list:
            # Any iterable will do for a server; the environ and the header
            # table each read the headers, so an iterator is listed once.
            self.scope["headers"] = list(headers)
        self.headers = header_table(self.scope)
        body = await self.receive_body(receive, send)
        if body is None:
            return
        stream, length = body
        try:
            await self.handle(
                ScopeEnviron(self.scope, stream, length, self.headers),
                receive,
                send,
            )
        finally:
            close_spooled_body(stream)

    async def receive_body(
        self, receive: Receive, send: Send
    ) -> tuple[t.IO[bytes], int | None] | None:
        """:meth:`read_body`, answering a body that does not match its
        framing with a 400 itself. Returns ``None`` when the request is
        over: answered so, or the client disconnected first."""
        try:
            return await self.read_body(receive)
        except MalformedBody as e:
            await send_plain_response(send, 400, str(e))
            return None

    async def read_body(
        self, receive: Receive
    ) -> tuple[t.IO[bytes], int | None] | None:
        """Receive the whole request body.

        Returns the body as a file positioned at its start and the length to
        declare, or ``None`` when the client disconnected first. A body
        larger than :data:`MAX_CONTENT_LENGTH` is not read any further: the
        body is then a stream whose reading raises 413, so reading
        ``request.data`` or ``request.form`` raises 413 in the view, through
        the application's error handlers, exactly as under WSGI. An HTTP/1
        ``GET`` or ``HEAD`` request with neither ``Content-Length`` nor
        ``Transfer-Encoding`` has no body, and no message is received for it.

        :raises MalformedBody: if the body does not have the length its
            ``Content-Length`` header declares.
        """
        if self._has_no_body():
            return io.BytesIO(), None
        declared = _declared_length(self.scope, self.headers)
        limit: int | None = self.app.config["MAX_CONTENT_LENGTH"]
        if limit is not None and declared is not None and declared > limit:
            return _body_too_large(), declared
        message = await receive()
        # PERF: most bodies arrive whole, in the first message.
        if message["type"] != "http.disconnect" and not message.get("more_body", False):
            data: bytes = message.get("body", b"")
            size = len(data)
            if size <= SPOOL_MAX_SIZE and (limit is None or size <= limit):
                if declared is not None and size != declared:
                    raise _length_mismatch(size, declared)
                return io.BytesIO(data), (None if declared == size else size)
        return await self._read_messages(receive, message, limit, declared)

    def _has_no_body(self) -> bool:
        """Whether the request is an HTTP/1 ``GET`` or ``HEAD`` whose headers
        declare no body: with neither ``Content-Length`` nor
        ``Transfer-Encoding`` it has none (RFC 9112, section 6.3), so no
        message need be received."""
        headers = self.headers
        scope = self.scope
        return (
            headers is not None
            and b"content-length" not in headers
            and b"transfer-encoding" not in headers
            and scope.get("method") in _BODILESS_METHODS
            and scope.get("http_version") in _HTTP_1
        )

    async def _read_messages(
        self,
        receive: Receive,
        message: Message,
        limit: int | None,
        declared: int | None,
    ) -> tuple[t.IO[bytes], int | None] | None:
        """:meth:`read_body` from its first ``message`` on."""
        chunks: list[bytes] = []
        spooled: tempfile.SpooledTemporaryFile[bytes] | None = None
        size = 0
        while True:
            if message["type"] == "http.disconnect":
                if spooled is not None:
                    spooled.close()
                return None
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if limit is not None and size > limit:
                    if spooled is not None:
                        spooled.close()
                    return _body_too_large(), size
                if spooled is None and size > SPOOL_MAX_SIZE:
                    spooled = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by __call__
                        max_size=SPOOL_MAX_SIZE
                    )
                    spooled.writelines(chunks)
                    chunks.clear()
                if spooled is not None:
                    spooled.write(chunk)
                else:
                    chunks.append(chunk)
            if not message.get("more_body", False):
                break
            message = await receive()
        if declared is not None and size != declared:
            if spooled is not None:
                spooled.close()
            raise _length_mismatch(size, declared)
        if spooled is not None:
            spooled.seek(0)
            return spooled, size
        # Keep the client's header when there was one; declare the size
        # when the client sent none (a chunked body).
        return io.BytesIO(b"".join(chunks)), (None if declared == size else size)

    async def handle(self, source: ScopeEnviron, receive: Receive, send: Send) -> None:
        """Run the lifecycle for the request whose environ ``source`` builds,
        and send the response."""
        app = self.app
        ctx = app._request_context_from(source)
        error: BaseException | None = None
        ctx.push()
        try:
            try:
                if session_may_do_io(app.session_interface):
                    # Open a session that may need I/O now, in the worker
                    # thread, as Flask opens it when the context is pushed;
                    # an async view reading it then does not block the loop.
                    await app.run_sync(ctx._get_session)
                response = await dispatch_generally(app, ctx)
            except Exception as e:
                error = e
                response = await run_steps_async(
                    app, app._steps("handle_exception", e), batched=True
                )
            if type(response) is PlainOutput:
                await send_plain_output(send, response, source.get("REQUEST_METHOD"))
            else:
                await self.send_response(response, source.build(), send)
        except BaseException as e:
            if error is None:
                error = e
            raise
        finally:
            error = settle_request(app, ctx, source, error)
            if not ctx._pop_without_teardown(error):
                await run_steps_async(app, ctx._pop_steps(error))

    async def send_response(
        self, response: Response, environ: WSGIEnvironment, send: Send
    ) -> None:
        """Send the status, headers and body of ``response``.

        Bodies from async iterables are iterated on the loop; lists are sent
        as they are; other iterables (generators that may block) are stepped
        in the worker pool. The body iterable is always closed at the end,
        which runs the teardown of ``stream_with_context`` streams.
        """
        if await send_buffered_response(send, response, environ["REQUEST_METHOD"]):
            return
        app = self.app
        body = response.response
        is_async_body = hasattr(body, "__aiter__")
        chunks: t.Any = None
        if is_async_body:
            header_pairs = response.get_wsgi_headers(environ).to_wsgi_list()
            status = response.status_code
        else:
            chunks, status_line, header_pairs = response.get_wsgi_response(environ)
            status = int(status_line.split(" ", 1)[0])
        raw_headers = asgi_header_list(header_pairs)
        await send(
            {"type": "http.response.start", "status": status, "headers": raw_headers}
        )
        try:
            if environ["REQUEST_METHOD"] == "HEAD" or status in {204, 304}:
                pass
            elif is_async_body:
                charset = "utf-8"
                async for item in body:  # type: ignore[union-attr]
                    data = (
                        item.encode(charset) if isinstance(item, str) else bytes(item)
                    )
                    if data:
                        await send(
                            {
                                "type": "http.response.body",
                                "body": data,
                                "more_body": True,
                            }
                        )
            elif isinstance(body, (list, tuple)):
                for data in chunks:
                    if data:
                        await send(
                            {
                                "type": "http.response.body",
                                "body": data,
                                "more_body": True,
                            }
                        )
            else:
                # As under WSGI, where the server iterates the body after
                # the request context was popped, a plain generator runs
                # with no context bound (``stream_with_context`` binds its
                # own); an empty context gives it exactly that.
                iterator = iter(chunks)
                while True:
                    data = await app.run_sync(
                        contextvars.Context().run, next, iterator, _END
                    )
                    if data is _END:
                        break
                    if data:
                        await send(
                            {
                                "type": "http.response.body",
                                "body": data,
                                "more_body": True,
                            }
                        )
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            close = getattr(
                chunks if chunks is not None else body,
                "aclose" if is_async_body else "close",
                None,
            )
            if close is not None:
                if is_async_body:
                    await close()
                else:
                    close()


_END = object()


class _BodyTooLarge(io.RawIOBase):
    """The body of a request the edge stopped reading at
    :data:`MAX_CONTENT_LENGTH`: reading it raises 413.

    An empty body instead would hand a view a silently truncated upload
    when the declared length is unknown (chunked) or when a hook raised
    ``request.max_content_length`` for this request.
    """

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: t.Any) -> int:
        raise RequestEntityTooLarge()


def _body_too_large() -> t.IO[bytes]:
    # A raw stream is all Werkzeug needs; typeshed does not count it as IO.
    return t.cast("t.IO[bytes]", _BodyTooLarge())


# The requests read_body answers without receiving a message when their
# headers declare no body.
_BODILESS_METHODS = frozenset({"GET", "HEAD"})
_HTTP_1 = frozenset({"1.0", "1.1"})


def _declared_length(scope: Scope, headers: dict[bytes, bytes] | None) -> int | None:
    """The body length the ``Content-Length`` header declares, or ``None``
    without one; ``headers`` is the scope's header table, if it has one."""
    if headers is not None:
        value = headers.get(b"content-length")
    else:
        # Servers send names in lower case; the length test spares the
        # others a lower() call.
        value = next(
            (
                value
                for name, value in scope.get("headers", ())
                if len(name) == 14 and name.lower() == b"content-length"
            ),
            None,
        )
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        length = -1
    if length < 0:
        raise MalformedBody("The Content-Length header is not a non-negative integer.")
    return length


def _length_mismatch(size: int, declared: int) -> MalformedBody:
    return MalformedBody(
        f"The request body has {size} bytes, but its Content-Length header"
        f" declares {declared}."
    )


class ASGIWebsocketConnection:
    """Serves one ASGI ``websocket`` scope.

    Builds the environ of the handshake request, pushes the request context
    with a :class:`~demijohn.websockets.Websocket` bound to
    :data:`~demijohn.websocket`, and runs
    :meth:`~demijohn.Demijohn.full_dispatch_websocket` as steps. A response
    value returned before the connection was accepted (an ``abort(403)`` in
    a ``before_websocket`` hook, an unknown URL) is sent as the HTTP
    response refusing the handshake when the server supports that, or as
    a close otherwise. An error after accepting closes with code 1011.
    """

    def __init__(self, app: Demijohn, scope: Scope) -> None:
        self.app = app
        self.scope = scope

    async def __call__(self, receive: Receive, send: Send) -> None:
        """Handle the connection until the handler returns."""
        app = self.app
        environ = build_environ(self.scope, io.BytesIO(), None)
        websocket = app.websocket_class(self.scope, receive, send)
        ctx = app.request_context(environ)
        ctx.websocket = websocket
        error: BaseException | None = None
        ctx.push()
        try:
            try:
                rv = await run_steps_async(app, app._steps("full_dispatch_websocket"))
            except Exception as e:
                error = e
                await self.fail(websocket, e)
                rv = None
            if rv is not None:
                await self.refuse(websocket, rv, environ)
            elif not websocket.closed:
                await websocket.close(1000)
        finally:
            if error is not None and app.should_ignore_error(error):
                error = None
            await run_steps_async(app, ctx._pop_steps(error))

    async def refuse(
        self, websocket: t.Any, rv: t.Any, environ: WSGIEnvironment
    ) -> None:
        """Answer a handler's or hook's response value: as the HTTP
        response refusing the handshake when the connection was not accepted
        yet and the server supports it, else by closing the connection."""
        if websocket.accepted or websocket.closed:
            if not websocket.closed:
                await websocket.close(1000)
            return
        response = self.app.make_response(rv)
        if "websocket.http.response" not in self.scope.get("extensions", {}):
            await websocket.close(1008 if response.status_code < 500 else 1011)
            return
        await websocket._ensure_connected()
        body = response.get_data()
        headers = asgi_header_list(response.get_wsgi_headers(environ).items())
        await websocket._send(
            {
                "type": "websocket.http.response.start",
                "status": response.status_code,
                "headers": headers,
            }
        )
        await websocket._send({"type": "websocket.http.response.body", "body": body})
        websocket.closed = True

    async def fail(self, websocket: t.Any, error: Exception) -> None:
        """Handle an exception no error handler dealt with: log it (or
        re-raise it when exceptions propagate, as in testing) after closing
        the connection with code 1011, or refusing it with a 500."""
        app = self.app
        if not websocket.closed:
            if websocket.accepted:
                await websocket.close(1011)
            else:
                from werkzeug.exceptions import InternalServerError

                await self.refuse(websocket, InternalServerError(), {})
        propagate = app.config["PROPAGATE_EXCEPTIONS"]
        if propagate is None:
            propagate = app.config["TESTING"] or app.config["DEBUG"]
        if propagate:
            raise error
        app.log_exception((type(error), error, error.__traceback__))


_D = t.TypeVar("_D", bound="ProtocolDispatch")

# Stands for an argument a server did not pass.
_NO_ARG: t.Any = object()


class ProtocolDispatch:
    """The base class of objects that both protocols serve: a
    :class:`~demijohn.Demijohn` application and a
    :class:`~demijohn.contrib.dispatch.Dispatcher`.

    Calling an instance with two arguments (``environ, start_response``)
    runs its ``wsgi_app``; with three (``scope, receive, send``) it returns
    the coroutine of its ``asgi_app``; with any other number it raises
    :exc:`TypeError`, which is how uvicorn tells an application from an
    application factory.

    ASGI servers tell an ASGI 3 application from an ASGI 2 one by asking
    whether ``app.__call__`` is a coroutine function (uvicorn through
    :func:`asyncio.iscoroutinefunction`, hypercorn through
    :func:`inspect.iscoroutinefunction`). So each instance carries, as its
    own ``__call__`` attribute, a callable that answers yes to both: it has
    the code object of an ``async def`` with the ASGI signature and the
    markers :func:`inspect.markcoroutinefunction` sets, and calls the
    instance's methods. A subclass that defines its own ``__call__`` gets no
    such attribute: its method answers for itself.

    PERF: a server's call, ``app(...)``, goes to the class's plain
    ``__call__`` method, which the interpreter calls without a Python-level
    descriptor in between.
    """

    def __new__(cls: type[_D], *args: t.Any, **kwargs: t.Any) -> _D:
        instance = super().__new__(cls)
        if cls.__call__ is ProtocolDispatch.__call__:
            vars(instance)["__call__"] = _BoundDispatch(instance)
        return instance

    def __call__(
        self,
        first: t.Any = _NO_ARG,
        second: t.Any = _NO_ARG,
        third: t.Any = _NO_ARG,
        *more: t.Any,
    ) -> t.Any:
        """Serve a request by the protocol the arguments belong to."""
        # PERF: named parameters rather than ``*args``, which would pack
        # and unpack a tuple for every request.
        if third is not _NO_ARG:
            if not more:
                return self.asgi_app(first, second, third)  # type: ignore[attr-defined]
        elif second is not _NO_ARG:
            return self.wsgi_app(first, second)  # type: ignore[attr-defined]
        given = sum(arg is not _NO_ARG for arg in (first, second, third)) + len(more)
        raise TypeError(
            "A demijohn application is called by a server, as"
            " app(environ, start_response) under WSGI or"
            f" app(scope, receive, send) under ASGI; it got {given}"
            " arguments."
        )

    def __getstate__(self) -> dict[str, t.Any]:
        """The instance's attributes without its ``__call__`` marker, which
        names this instance: a copy (or an unpickled instance) gets its own
        when it is created."""
        state = dict(vars(self))
        state.pop("__call__", None)
        return state


async def _asgi_call(scope: Scope, receive: Receive, send: Send) -> None:
    """The shape of an ASGI 3 callable; only its code object is used."""


class _BoundDispatch:
    # These class attributes make the object look like an ``async def``
    # function to inspect's duck-typing checks (``_signature_is_functionlike``).
    __name__ = "__call__"
    __qualname__ = "Demijohn.__call__"
    __code__ = _asgi_call.__code__
    __defaults__ = None
    __kwdefaults__ = None
    _is_coroutine = getattr(asyncio.coroutines, "_is_coroutine", None)
    _is_coroutine_marker = getattr(__import__("inspect"), "_is_coroutine_mark", None)

    __slots__ = ("_app",)

    def __init__(self, app: t.Any) -> None:
        # Weak: the instance holds this object, and a strong reference back
        # would make every application a reference cycle, freed only by the
        # garbage collector instead of when its last reference goes (as
        # Flask guarantees, pallets/flask#3761).
        self._app = weakref.ref(app)

    def __call__(self, *args: t.Any) -> t.Any:
        app = self._app()
        if app is None:
            raise ReferenceError(
                "The application this __call__ was read from no longer exists;"
                " keep a reference to the application, not to its __call__."
            )
        return ProtocolDispatch.__call__(app, *args)


class ASGILifespan:
    """Runs the ASGI ``lifespan`` protocol: the application's
    :meth:`~demijohn.Demijohn.startup` on ``lifespan.startup`` and
    :meth:`~demijohn.Demijohn.shutdown` on ``lifespan.shutdown``.

    A failing hook is reported as ``lifespan.startup.failed`` (or
    ``shutdown.failed``) with the error's traceback as the message, so the
    server stops with an explanation.
    """

    def __init__(self, app: Demijohn, scope: Scope) -> None:
        self.app = app
        self.scope = scope

    async def __call__(self, receive: Receive, send: Send) -> None:
        """Answer lifespan events until shutdown."""
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "lifespan.startup":
                try:
                    await self.app.startup()
                except Exception:
                    await send(
                        {
                            "type": "lifespan.startup.failed",
                            "message": traceback.format_exc(),
                        }
                    )
                    return
                await send({"type": "lifespan.startup.complete"})
            elif kind == "lifespan.shutdown":
                try:
                    await self.app.shutdown()
                except Exception:
                    await send(
                        {
                            "type": "lifespan.shutdown.failed",
                            "message": traceback.format_exc(),
                        }
                    )
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return


async def serve_asgi(app: Demijohn, scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch one ASGI connection to the application's connection class
    for its scope type."""
    kind = scope["type"]
    if kind == "http":
        await app.asgi_http_class(app, scope)(receive, send)
    elif kind == "websocket":
        await app.asgi_websocket_class(app, scope)(receive, send)
    elif kind == "lifespan":
        await app.asgi_lifespan_class(app, scope)(receive, send)
    else:
        raise RuntimeError(f"demijohn cannot serve ASGI scope type {kind!r}.")


__all__ = [
    "ASGIHTTPConnection",
    "ASGILifespan",
    "ASGIWebsocketConnection",
    "ProtocolDispatch",
    "close_spooled_body",
    "dispatch_generally",
    "dispatch_plainly",
    "respond_to_view_error",
    "run_steps_async",
    "run_sync_calls",
    "send_buffered_response",
    "settle_request",
    "serve_asgi",
]
