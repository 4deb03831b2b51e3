"""The WSGI floor: plain functions behind a dict lookup on ``PATH_INFO``.

It does the same work as the framework apps (parse the body, render the
template, query the database) with no framework around it; it has no
router for URL parameters and no session.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterable
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

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Handler = Callable[[Environ, StartResponse], Iterable[bytes]]

UNSUPPORTED = {
    "routing": "no router (dict lookup on the path)",
    "session": "no session",
    "plaintext_hooked": "no hooks",
}
_jinja = jinja_environment()
_db = open_fortunes_db()
_TEXT = "text/plain; charset=utf-8"
_HTML = "text/html; charset=utf-8"
_JSON = "application/json"


def _respond(
    start_response: StartResponse, body: bytes, content_type: str, status: str
) -> list[bytes]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


def _read_body(environ: Environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length)
    return body


def plaintext(environ: Environ, start_response: StartResponse) -> list[bytes]:
    return _respond(start_response, PLAINTEXT.encode(), _TEXT, "200 OK")


def json_message(environ: Environ, start_response: StartResponse) -> list[bytes]:
    return _respond(start_response, json.dumps(JSON_MESSAGE).encode(), _JSON, "200 OK")


def template(environ: Environ, start_response: StartResponse) -> list[bytes]:
    html = _jinja.get_template("loop.html").render(title=LOOP_TITLE, items=LOOP_ITEMS)
    return _respond(start_response, html.encode(), _HTML, "200 OK")


def echo_json(environ: Environ, start_response: StartResponse) -> list[bytes]:
    data = json.loads(_read_body(environ))
    body = json.dumps({"echo": data["name"]}).encode()
    return _respond(start_response, body, _JSON, "200 OK")


def echo_form(environ: Environ, start_response: StartResponse) -> list[bytes]:
    form = urllib.parse.parse_qs(_read_body(environ).decode())
    body = f"echo={form[FORM_FIELD][0]}".encode()
    return _respond(start_response, body, _TEXT, "200 OK")


def fortunes(environ: Environ, start_response: StartResponse) -> list[bytes]:
    html = _jinja.get_template("fortunes.html").render(fortunes=load_fortunes(_db))
    return _respond(start_response, html.encode(), _HTML, "200 OK")


_ROUTES: dict[str, Handler] = {
    "/plaintext": plaintext,
    "/json": json_message,
    "/template": template,
    "/echo-json": echo_json,
    "/echo-form": echo_form,
    "/fortunes": fortunes,
}


def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Dispatch on the exact path; anything else is a 404."""
    handler = _ROUTES.get(environ["PATH_INFO"])
    if handler is None:
        return _respond(start_response, b"Not Found", _TEXT, "404 Not Found")
    return handler(environ, start_response)
