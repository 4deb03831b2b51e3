"""The Werkzeug floor: ``Request`` + ``Map`` + ``Response``, the layer demijohn
and Flask are built on, with no application object, contexts or hooks.

Werkzeug has no session, so that scenario is left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from benchmarks.scenarios import (
    FORM_FIELD,
    JSON_MESSAGE,
    LOOP_ITEMS,
    LOOP_TITLE,
    PLAINTEXT,
    ROUTE_COUNT,
    jinja_environment,
    load_fortunes,
    open_fortunes_db,
    route_text,
)

Handler = Callable[..., Response]

UNSUPPORTED = {
    "session": "Werkzeug has no session",
    "plaintext_hooked": "Werkzeug has no hooks",
}
_jinja = jinja_environment()
_db = open_fortunes_db()


def plaintext(request: Request) -> Response:
    return Response(PLAINTEXT)


def json_message(request: Request) -> Response:
    return Response(json.dumps(JSON_MESSAGE), mimetype="application/json")


def _route_view(number: int) -> Handler:
    def view(request: Request, item_id: int, name: str) -> Response:
        return Response(route_text(number, item_id, name))

    return view


def template(request: Request) -> Response:
    html = _jinja.get_template("loop.html").render(title=LOOP_TITLE, items=LOOP_ITEMS)
    return Response(html, mimetype="text/html")


def echo_json(request: Request) -> Response:
    body = json.dumps({"echo": request.get_json()["name"]})
    return Response(body, mimetype="application/json")


def echo_form(request: Request) -> Response:
    return Response(f"echo={request.form[FORM_FIELD]}")


def fortunes(request: Request) -> Response:
    html = _jinja.get_template("fortunes.html").render(fortunes=load_fortunes(_db))
    return Response(html, mimetype="text/html")


# A rule's endpoint may be any object: here it is the view itself.
_url_map = Map(
    [
        Rule("/plaintext", endpoint=plaintext, methods=["GET"]),
        Rule("/json", endpoint=json_message, methods=["GET"]),
        *(
            Rule(
                f"/route{number}/<int:item_id>/<name>",
                endpoint=_route_view(number),
                methods=["GET"],
            )
            for number in range(1, ROUTE_COUNT + 1)
        ),
        Rule("/template", endpoint=template, methods=["GET"]),
        Rule("/echo-json", endpoint=echo_json, methods=["POST"]),
        Rule("/echo-form", endpoint=echo_form, methods=["POST"]),
        Rule("/fortunes", endpoint=fortunes, methods=["GET"]),
    ]
)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Match the URL, call the view, answer errors with Werkzeug's pages."""
    request = Request(environ)
    try:
        view, values = _url_map.bind_to_environ(environ).match()
        response = view(request, **values)
    except HTTPException as error:
        return error(environ, start_response)
    return response(environ, start_response)
