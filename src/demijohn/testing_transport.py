"""Drive an ASGI application from synchronous test code.

The test client builds a WSGI environ for every request, as Werkzeug's does.
:func:`call_asgi_with_environ` turns that environ into an ASGI ``http``
scope and body, runs the application's ASGI callable on a background event
loop, and returns what Werkzeug's ``run_wsgi_app`` would: the body chunks,
the status line and the headers. So the same client API tests both
protocols.

:class:`WebsocketSession` is the client side of a WebSocket connection for
tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import typing as t
from http import HTTPStatus

from werkzeug.datastructures import Headers

from .concurrency import wait_serving_sync_calls

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from _typeshed.wsgi import WSGIEnvironment

    from .asgi import Message, Scope

#: An ASGI 3 application, ``app(scope, receive, send)``: what
#: :func:`call_asgi_with_environ` and :class:`WebsocketSession` drive.
ASGIApp = t.Callable[..., t.Awaitable[None]]

# Standard CGI and WSGI keys that the scope carries itself; every other
# non-header key is handed through to the application's environ, and so is
# ``wsgi.errors`` (a test's ``errors_stream``), the one ``wsgi.`` key a
# test chooses and the edge would otherwise set to ``sys.stderr``.
_SCOPE_KEYS = {
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "REQUEST_URI",
    "RAW_URI",
}

_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_thread: threading.Thread | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """The event loop test requests run on, started on first use in a
    daemon thread and shared by all ASGI test clients; started again if
    its thread ended (a ``KeyboardInterrupt`` or ``SystemExit`` let out of
    a task stops the loop that runs it)."""
    global _loop, _loop_thread
    with _loop_lock:
        if (
            _loop is None
            or _loop.is_closed()
            or _loop_thread is None
            or not _loop_thread.is_alive()
        ):
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="demijohn-asgi-test-loop", daemon=True
            )
            thread.start()
            _loop, _loop_thread = loop, thread
        return _loop


#: What asyncio lets out of the event loop instead of into the awaiting
#: future, stopping the loop.
_INTERRUPTS = (KeyboardInterrupt, SystemExit)


async def _interrupt_returned(
    coro: t.Coroutine[t.Any, t.Any, t.Any],
) -> tuple[t.Any, BaseException | None]:
    """Await ``coro``; return ``(result, None)``, or ``(None, error)`` for
    a ``KeyboardInterrupt`` or ``SystemExit`` it raised, which asyncio
    would otherwise raise out of the shared loop, leaving the waiting test
    blocked forever."""
    try:
        return await coro, None
    except _INTERRUPTS as e:
        return None, e


def _refuse_on_loop_thread(
    coro: t.Coroutine[t.Any, t.Any, t.Any] | None = None,
) -> None:
    """Raise when called on :func:`background_loop`'s own thread (from an
    ``async def`` view or hook of a request a client is serving), where
    waiting for the loop would wait forever; ``coro``, which then never
    runs, is closed first."""
    if threading.current_thread() is not _loop_thread:
        return
    if coro is not None:
        coro.close()
    raise RuntimeError(
        "The ASGI test client was called from code running on its own"
        " event loop (an async view or hook of a request it is serving),"
        " which would wait for itself forever. Make that view or hook a"
        " plain 'def' function (it then runs on a worker thread), or use"
        " the WSGI test client (app.test_client()) for nested requests."
    )


def run_on_background_loop(coro: t.Coroutine[t.Any, t.Any, t.Any]) -> t.Any:
    """Run ``coro`` on :func:`background_loop` and wait for its result.
    Whatever it raises is raised here, ``KeyboardInterrupt`` and
    ``SystemExit`` included, as a WSGI test client raises them.

    :raises RuntimeError: when called on the loop's own thread (from an
        ``async def`` view or hook of a request the client is serving),
        which would wait for itself forever.
    """
    _refuse_on_loop_thread(coro)
    # The request's sync calls run on this thread while it waits, as the
    # WSGI client runs them, and so do those of a request made from one of
    # its sync views (nested, as under WSGI). From a sync view served by a
    # server's worker thread, that thread runs its own request's sync calls
    # meanwhile and the new request takes a worker thread of its own.
    result, interrupt = wait_serving_sync_calls(
        _interrupt_returned(coro), background_loop()
    )
    if interrupt is not None:
        raise interrupt
    return result


def scope_from_environ(environ: WSGIEnvironment, scope_type: str = "http") -> Scope:
    """The ASGI scope an ASGI server would build for the request that
    ``environ`` describes."""
    path_bytes = environ.get("PATH_INFO", "").encode("latin-1")
    script_name = environ.get("SCRIPT_NAME", "").encode("latin-1")
    headers: list[tuple[bytes, bytes]] = []
    extra: dict[str, t.Any] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
            headers.append((name.encode("latin-1"), str(value).encode("latin-1")))
        elif key in {"CONTENT_TYPE", "CONTENT_LENGTH"}:
            if value:
                name = key.replace("_", "-").lower()
                headers.append((name.encode("latin-1"), str(value).encode("latin-1")))
        elif key == "wsgi.errors" or (
            key not in _SCOPE_KEYS and not key.startswith(("wsgi.", "asgi."))
        ):
            extra[key] = value
    scheme = environ.get("wsgi.url_scheme", "http")
    if scope_type == "websocket":
        scheme = "wss" if scheme == "https" else "ws"
    server_port = environ.get("SERVER_PORT")
    client_addr = environ.get("REMOTE_ADDR")
    full_path = script_name + path_bytes
    scope: dict[str, t.Any] = {
        "type": scope_type,
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": environ.get("SERVER_PROTOCOL", "HTTP/1.1").partition("/")[2]
        or "1.1",
        "scheme": scheme,
        "path": full_path.decode("utf-8", "replace"),
        "raw_path": _quote_path(full_path),
        "root_path": script_name.decode("utf-8", "replace"),
        "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
        "headers": headers,
        "server": (
            environ.get("SERVER_NAME", "localhost"),
            int(server_port) if server_port else None,
        ),
        "client": (client_addr, int(environ.get("REMOTE_PORT", 0) or 0))
        if client_addr
        else None,
        "extensions": {"websocket.http.response": {}}
        if scope_type == "websocket"
        else {},
        "demijohn.environ": extra,
    }
    if scope_type == "http":
        scope["method"] = environ.get("REQUEST_METHOD", "GET")
    else:
        scope["subprotocols"] = [
            item.strip()
            for item in environ.get("HTTP_SEC_WEBSOCKET_PROTOCOL", "").split(",")
            if item.strip()
        ]
    return scope


def _quote_path(path: bytes) -> bytes:
    # Re-encode the decoded path the way a client would send it on the wire.
    safe = b"/-._~!$&'()*+,;=:@%"
    out = bytearray()
    for byte in path:
        if (
            48 <= byte <= 57
            or 65 <= byte <= 90
            or 97 <= byte <= 122
            or bytes([byte]) in safe
        ):
            out.append(byte)
        else:
            out.extend(f"%{byte:02X}".encode("ascii"))
    return bytes(out)


async def _exchange(
    app: ASGIApp, scope: Scope, body: bytes, chunk_size: int = 65536
) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
    chunks = [body[i : i + chunk_size] for i in range(0, len(body), chunk_size)] or [
        b""
    ]
    sent_request = 0
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = []
    body_parts: list[bytes] = []
    finished = asyncio.Event()

    async def receive() -> Message:
        nonlocal sent_request
        if sent_request < len(chunks):
            index = sent_request
            sent_request += 1
            return {
                "type": "http.request",
                "body": chunks[index],
                "more_body": sent_request < len(chunks),
            }
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            body_parts.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                finished.set()

    try:
        await app(scope, receive, send)
    finally:
        finished.set()
    if status is None:
        raise RuntimeError("The ASGI application finished without sending a response.")
    return status, headers, body_parts


def call_asgi_with_environ(
    app: ASGIApp, environ: WSGIEnvironment
) -> tuple[list[bytes], str, Headers]:
    """Serve the request in ``environ`` through ``app``'s ASGI interface and
    return ``(body_chunks, status_line, headers)`` like Werkzeug's
    ``run_wsgi_app``."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    start = stream.tell() if stream.seekable() else None
    body = stream.read(int(length)) if length else stream.read()
    if start is not None:
        # A 307/308 redirect followed by the client re-sends this body.
        stream.seek(start)
    scope = scope_from_environ(environ)
    status, raw_headers, chunks = run_on_background_loop(_exchange(app, scope, body))
    try:
        reason = HTTPStatus(status).phrase.upper()
    except ValueError:
        reason = "UNKNOWN"
    headers = Headers(
        [
            (name.decode("latin-1").title(), value.decode("latin-1"))
            for name, value in raw_headers
        ]
    )
    return chunks, f"{status} {reason}", headers


class WebsocketDenied(Exception):
    """Raised by :class:`WebsocketSession` when the application refused the
    connection, with the HTTP response it sent (if any)."""

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        super().__init__(f"WebSocket connection refused with status {status}")
        self.status = status
        self.headers = headers
        self.body = body


class WebsocketDisconnected(Exception):
    """Raised by :meth:`WebsocketSession.receive` when the application closed
    the connection; ``code`` and ``reason`` are the close frame's."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"WebSocket closed with code {code}")
        self.code = code
        self.reason = reason


class WebsocketSession:
    """The test side of one WebSocket connection to an application.

    Created by ``client.websocket(path)``; use it as a context manager::

        with client.websocket("/echo") as ws:
            ws.send("hi")
            assert ws.receive() == "hi"

    Entering it connects and waits for the application to accept (raising
    :exc:`WebsocketDenied` when it refuses); leaving it disconnects and
    waits for the application's handler to finish.
    """

    def __init__(self, app: ASGIApp, scope: Scope, timeout: float = 5.0) -> None:
        self.app = app
        self.scope = scope
        self.timeout = timeout
        self._to_app: asyncio.Queue[Message] | None = None
        self._from_app: queue.Queue[Message] = queue.Queue()
        self._task: t.Any = None
        #: The subprotocol the application accepted, if any.
        self.accepted_subprotocol: str | None = None
        #: Headers the application sent with its accept message.
        self.accepted_headers: list[tuple[bytes, bytes]] = []
        self.closed = False

    def __enter__(self) -> WebsocketSession:
        _refuse_on_loop_thread()
        loop = background_loop()

        async def start() -> None:
            self._to_app = asyncio.Queue()
            await self._to_app.put({"type": "websocket.connect"})
            self._task = asyncio.ensure_future(self._run())

        asyncio.run_coroutine_threadsafe(start(), loop).result()
        message = self._next_from_app()
        if message["type"] == "websocket.accept":
            self.accepted_subprotocol = message.get("subprotocol")
            self.accepted_headers = list(message.get("headers", []))
            return self
        self._wait_finished()
        if message["type"] == "websocket.http.response.start":
            body = b""
            while True:
                part = self._next_from_app()
                body += part.get("body", b"")
                if not part.get("more_body", False):
                    break
            headers = Headers(
                [
                    (k.decode("latin-1").title(), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                ]
            )
            raise WebsocketDenied(message["status"], headers, body)
        if message["type"] == "websocket.close":
            raise WebsocketDenied(403, Headers(), b"")
        raise RuntimeError(f"Unexpected message before accept: {message!r}")

    async def _run(self) -> None:
        assert self._to_app is not None
        to_app = self._to_app

        async def receive() -> Message:
            return await to_app.get()

        async def send(message: Message) -> None:
            self._from_app.put(message)

        try:
            await self.app(self.scope, receive, send)
        except BaseException as e:  # surfaced to the test by _next_from_app
            self._from_app.put({"type": "demijohn.test.error", "error": e})
            # Raised again, except what would stop the shared loop (see
            # _interrupt_returned): the test gets that one alone.
            if not isinstance(e, _INTERRUPTS):
                raise
        finally:
            self._from_app.put({"type": "demijohn.test.finished"})

    def _next_from_app(self) -> Message:
        try:
            message = self._from_app.get(timeout=self.timeout)
        except queue.Empty:
            raise TimeoutError("The application sent nothing in time.") from None
        if message["type"] == "demijohn.test.error":
            raise message["error"]
        if message["type"] == "demijohn.test.finished":
            raise WebsocketDisconnected(1006, "the handler returned without closing")
        return message

    def _put(self, message: Message) -> None:
        assert self._to_app is not None
        asyncio.run_coroutine_threadsafe(
            self._to_app.put(message), background_loop()
        ).result()

    def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message."""
        if isinstance(data, str):
            self._put({"type": "websocket.receive", "text": data})
        else:
            self._put({"type": "websocket.receive", "bytes": bytes(data)})

    def send_json(self, data: t.Any) -> None:
        """Send ``data`` encoded as JSON text."""
        import json

        self.send(json.dumps(data))

    def receive(self) -> str | bytes:
        """The next message from the application.

        :raises WebsocketDisconnected: when the application closed instead.
        """
        message = self._next_from_app()
        if message["type"] == "websocket.close":
            self.closed = True
            raise WebsocketDisconnected(
                message.get("code", 1000), message.get("reason", "")
            )
        if message.get("text") is not None:
            return t.cast(str, message["text"])
        return t.cast(bytes, message.get("bytes", b""))

    def receive_json(self) -> t.Any:
        """The next message, decoded from JSON."""
        import json

        return json.loads(self.receive())

    def close(self, code: int = 1000) -> None:
        """Disconnect and wait for the handler to finish."""
        if not self.closed:
            self.closed = True
            self._put({"type": "websocket.disconnect", "code": code})
        self._wait_finished()

    def _wait_finished(self) -> None:
        if self._task is None:
            return
        task = self._task

        async def wait() -> None:
            # The handler's error, if any, reached the test already.
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), self.timeout)

        asyncio.run_coroutine_threadsafe(wait(), background_loop()).result()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
