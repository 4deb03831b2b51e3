"""The benchmark app on Starlette, with async endpoints.

The session scenario uses Starlette's ``SessionMiddleware`` (an
itsdangerous-signed cookie) on its own route only, so the other scenarios
do not pay for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from benchmarks.scenarios import (
    FORM_FIELD,
    HOOK_HEADER,
    HOOK_USER,
    JSON_MESSAGE,
    LOOP_ITEMS,
    LOOP_TITLE,
    PLAINTEXT,
    ROUTE_COUNT,
    SECRET_KEY,
    TEMPLATE_DIR,
    load_fortunes,
    open_fortunes_db,
    route_text,
)

UNSUPPORTED: dict[str, str] = {}
_templates = Jinja2Templates(directory=TEMPLATE_DIR)
_db = open_fortunes_db()
Endpoint = Callable[[Request], Awaitable[Response]]


async def plaintext(request: Request) -> Response:
    return PlainTextResponse(PLAINTEXT)


async def json_message(request: Request) -> Response:
    return JSONResponse(JSON_MESSAGE)


def _route_endpoint(number: int) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        params = request.path_params
        return PlainTextResponse(route_text(number, params["item_id"], params["name"]))

    return endpoint


async def template(request: Request) -> Response:
    context = {"title": LOOP_TITLE, "items": LOOP_ITEMS}
    return _templates.TemplateResponse(request, "loop.html", context)


async def echo_json(request: Request) -> Response:
    data = await request.json()
    return JSONResponse({"echo": data["name"]})


async def echo_form(request: Request) -> Response:
    form = await request.form()
    return PlainTextResponse(f"echo={form[FORM_FIELD]}")


async def session_visits(request: Request) -> Response:
    visits = request.session.get("visits", 0) + 1
    request.session["visits"] = visits
    return PlainTextResponse(f"visits={visits}")


async def fortunes(request: Request) -> Response:
    context = {"fortunes": load_fortunes(_db)}
    return _templates.TemplateResponse(request, "fortunes.html", context)


_routes = [
    Route("/plaintext", plaintext),
    Route("/json", json_message),
    *(
        Route(f"/route{number}/{{item_id:int}}/{{name}}", _route_endpoint(number))
        for number in range(1, ROUTE_COUNT + 1)
    ),
    Route("/template", template),
    Route("/echo-json", echo_json, methods=["POST"]),
    Route("/echo-form", echo_form, methods=["POST"]),
    Route(
        "/session",
        session_visits,
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET_KEY)],
    ),
    Route("/fortunes", fortunes),
]
app = Starlette(routes=_routes)


Message = MutableMapping[str, Any]
_HOOK_HEADER = (HOOK_HEADER[0].lower().encode(), HOOK_HEADER[1].encode())


class Hooks:
    """The hooks of Scenario.hooked as pure ASGI middleware (the fast kind:
    Starlette's ``BaseHTTPMiddleware`` costs more): the user goes into the
    request state, the header into the response start."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["user"] = HOOK_USER

        async def send_protected(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), _HOOK_HEADER]
            await send(message)

        await self.app(scope, receive, send_protected)


hooked_app = Starlette(
    routes=[Route("/plaintext", plaintext)], middleware=[Middleware(Hooks)]
)
