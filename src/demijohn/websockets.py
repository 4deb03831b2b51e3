"""The :class:`Websocket` object a WebSocket handler talks through.

Inside a handler registered with :meth:`Demijohn.websocket
<demijohn.Demijohn.websocket>`, the :data:`~demijohn.websocket` proxy is the
connection. The request context is pushed as for HTTP requests, so
:data:`~demijohn.request` gives the handshake's headers, query string and
cookies, and :data:`~demijohn.session` reads the session.

WebSockets need an ASGI server; under WSGI a WebSocket route answers
``426 Upgrade Required``.
"""

from __future__ import annotations

import json
import typing as t

from werkzeug.datastructures import Headers

from .output import asgi_header_list

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .asgi import Message, Receive, Scope, Send


class WebsocketDisconnect(Exception):
    """Raised by :meth:`Websocket.receive` when the client disconnected.

    Let it propagate out of the handler (demijohn treats it as a normal end
    of the connection) or catch it to clean up.
    """

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        super().__init__(f"The client disconnected with code {code}.")
        #: The close code the client sent (1000 for a normal close).
        self.code = code
        #: The close reason, if any.
        self.reason = reason


class Websocket:
    """One WebSocket connection, as seen by the application.

    Messages are ``str`` (text frames) or ``bytes`` (binary frames).
    :meth:`send` and :meth:`receive` accept the connection first if the
    handler did not call :meth:`accept` itself.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        #: Whether the connection was accepted.
        self.accepted = False
        #: Whether the connection was closed, by either side.
        self.closed = False
        self._connected = False

    @property
    def scope(self) -> Scope:
        """The ASGI scope of the connection."""
        return self._scope

    @property
    def headers(self) -> Headers:
        """The handshake request's headers."""
        return Headers(
            [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in self._scope.get("headers", ())
            ]
        )

    @property
    def path(self) -> str:
        """The requested path."""
        return t.cast(str, self._scope["path"])

    @property
    def requested_subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        return list(self._scope.get("subprotocols", ()))

    async def _ensure_connected(self) -> None:
        if self._connected:
            return
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.closed = True
            raise WebsocketDisconnect(message.get("code", 1000), message.get("reason"))
        if message["type"] != "websocket.connect":
            raise RuntimeError(
                f"Expected 'websocket.connect', got {message['type']!r}."
            )
        self._connected = True

    async def accept(
        self,
        headers: t.Mapping[str, str] | t.Iterable[tuple[str, str]] | None = None,
        subprotocol: str | None = None,
    ) -> None:
        """Accept the connection, optionally choosing one of
        :attr:`requested_subprotocols` and adding response headers.

        Calling it again is a no-op.

        :raises ValueError: if ``subprotocol`` was not offered by the client.
        """
        if self.accepted:
            return
        if subprotocol is not None and subprotocol not in self.requested_subprotocols:
            raise ValueError(
                f"Subprotocol {subprotocol!r} was not requested by the client;"
                f" it offered {self.requested_subprotocols!r}."
            )
        await self._ensure_connected()
        items = headers.items() if isinstance(headers, t.Mapping) else (headers or ())
        message: Message = {
            "type": "websocket.accept",
            "subprotocol": subprotocol,
            "headers": asgi_header_list(items),
        }
        await self._send(message)
        self.accepted = True

    async def receive(self) -> str | bytes:
        """Wait for the next message from the client.

        :raises WebsocketDisconnect: when the client disconnected.
        :raises RuntimeError: after :meth:`close`.
        """
        if self.closed:
            raise RuntimeError("The WebSocket is closed; it cannot receive.")
        await self.accept()
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.closed = True
            raise WebsocketDisconnect(message.get("code", 1000), message.get("reason"))
        text = message.get("text")
        if text is not None:
            return t.cast(str, text)
        return t.cast(bytes, message.get("bytes") or b"")

    async def receive_json(self) -> t.Any:
        """The next message, decoded from JSON."""
        return json.loads(await self.receive())

    async def send(self, data: str | bytes) -> None:
        """Send ``data``: a ``str`` as a text frame, ``bytes`` as binary.

        :raises RuntimeError: after :meth:`close`.
        :raises TypeError: for any other type.
        """
        if self.closed:
            raise RuntimeError("The WebSocket is closed; it cannot send.")
        await self.accept()
        if isinstance(data, str):
            await self._send({"type": "websocket.send", "text": data})
        elif isinstance(data, (bytes, bytearray, memoryview)):
            await self._send({"type": "websocket.send", "bytes": bytes(data)})
        else:
            raise TypeError(
                f"WebSocket messages are str or bytes, not {type(data).__name__};"
                " use send_json for other values."
            )

    async def send_json(self, data: t.Any) -> None:
        """Send ``data`` encoded as JSON text, with the application's JSON
        provider when an application context is bound."""
        from .json import dumps

        await self.send(dumps(data))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection with ``code``. Closing twice is a no-op.

        Before :meth:`accept`, this refuses the connection (the client sees
        HTTP 403).
        """
        if self.closed:
            return
        if not self._connected:
            await self._ensure_connected()
        self.closed = True
        await self._send({"type": "websocket.close", "code": code, "reason": reason})
