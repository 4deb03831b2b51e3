"""Middleware around the application, and several applications behind one
entry point."""

from __future__ import annotations

import collections.abc as cabc
import typing as t
import uuid

from werkzeug.middleware.proxy_fix import ProxyFix

from demijohn import Demijohn, request
from demijohn.contrib.dispatch import Dispatcher

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from demijohn.asgi import Receive, Scope, Send


class RequestIdMiddleware:
    """WSGI middleware: give every request an ``X-Request-Id``."""

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> cabc.Iterable[bytes]:
        request_id = environ.setdefault("HTTP_X_REQUEST_ID", uuid.uuid4().hex)

        def start(status: str, headers: list[tuple[str, str]], *args: t.Any) -> t.Any:
            return start_response(
                status, [*headers, ("X-Request-Id", request_id)], *args
            )

        return self.wsgi_app(environ, start)


class ASGIRequestIdMiddleware:
    """The same for ASGI: wraps ``send`` to add the header."""

    def __init__(self, asgi_app: t.Callable[..., t.Awaitable[None]]) -> None:
        self.asgi_app = asgi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.asgi_app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id") or uuid.uuid4().hex.encode()
        if b"x-request-id" not in headers:
            scope = {
                **scope,
                "headers": [*scope["headers"], (b"x-request-id", request_id)],
            }

        async def send_with_id(message: t.MutableMapping[str, t.Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id),
                ]
            await send(message)

        await self.asgi_app(scope, receive, send_with_id)


app = Demijohn(__name__)

# Wrap the protocol methods, not the app object: ``app`` stays a Demijohn,
# so ``app.test_client()``, ``app.config`` and ``demijohn run`` still work.
app.wsgi_app = RequestIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]
app.asgi_app = ASGIRequestIdMiddleware(app.asgi_app)  # type: ignore[method-assign]


@app.get("/")
def index() -> dict[str, str | None]:
    return {"request_id": request.headers.get("X-Request-Id")}


# Behind one trusted reverse proxy: take the client address and scheme from
# its X-Forwarded-* headers. Only with a proxy that sets them!
proxied = Demijohn("proxied")
proxied.wsgi_app = ProxyFix(proxied.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]


@proxied.get("/")
def client_address() -> dict[str, str | None]:
    return {"remote_addr": request.remote_addr, "scheme": request.scheme}


# Several applications behind one entry point, for WSGI and ASGI servers
# alike: ``gunicorn middleware:site`` or ``uvicorn middleware:site``.
api = Demijohn("api")


@api.get("/users")
def users() -> dict[str, str]:
    # Mounted at /api: request.script_root is "/api", request.path "/users".
    return {"script_root": request.script_root, "path": request.path}


site = Dispatcher(app, {"/api": api})
