"""The ASGI floor: plain coroutines behind a dict lookup on the path.

It does the same work as the framework apps with no framework around it;
it has no router for URL parameters and no session. It answers the
lifespan protocol so that servers start it without complaint.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from benchmarks.scenarios import (
    FORM_FIELD,
    JSON_MESSAGE,
    LOOP_ITEMS,
    LOOP_TITLE,
    PLAINTEXT,
    jinja_environment,
    load_fortunes,
    open_fortunes_db,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

UNSUPPORTED = {
    "routing": "no router (dict lookup on the path)",
    "session": "no session",
    "plaintext_hooked": "no hooks",
}
_jinja = jinja_environment()
_db = open_fortunes_db()
_TEXT = b"text/plain; charset=utf-8"
_HTML = b"text/html; charset=utf-8"
_JSON = b"application/json"


async def _respond(send: Send, body: bytes, content_type: bytes, status: int) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def plaintext(receive: Receive, send: Send) -> None:
    await _respond(send, PLAINTEXT.encode(), _TEXT, 200)


async def json_message(receive: Receive, send: Send) -> None:
    await _respond(send, json.dumps(JSON_MESSAGE).encode(), _JSON, 200)


async def template(receive: Receive, send: Send) -> None:
    html = _jinja.get_template("loop.html").render(title=LOOP_TITLE, items=LOOP_ITEMS)
    await _respond(send, html.encode(), _HTML, 200)


async def echo_json(receive: Receive, send: Send) -> None:
    data = json.loads(await _read_body(receive))
    await _respond(send, json.dumps({"echo": data["name"]}).encode(), _JSON, 200)


async def echo_form(receive: Receive, send: Send) -> None:
    form = urllib.parse.parse_qs((await _read_body(receive)).decode())
    await _respond(send, f"echo={form[FORM_FIELD][0]}".encode(), _TEXT, 200)


async def fortunes(receive: Receive, send: Send) -> None:
    html = _jinja.get_template("fortunes.html").render(fortunes=load_fortunes(_db))
    await _respond(send, html.encode(), _HTML, 200)


_ROUTES: dict[str, Callable[[Receive, Send], Awaitable[None]]] = {
    "/plaintext": plaintext,
    "/json": json_message,
    "/template": template,
    "/echo-json": echo_json,
    "/echo-form": echo_form,
    "/fortunes": fortunes,
}


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch on the exact path; anything else is a 404."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    handler = _ROUTES.get(scope["path"])
    if handler is None:
        await _respond(send, b"Not Found", _TEXT, 404)
        return
    await handler(receive, send)
