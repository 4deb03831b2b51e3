"""The benchmark app on Bottle.

Templates use Bottle's Jinja2 adapter with autoescaping (as Flask's ``.html``
templates have); the session is Bottle's signed cookie holding a JSON
string (Bottle's own session mechanism; storing a string avoids its
deprecated pickling of arbitrary objects).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bottle import Bottle, Jinja2Template, request, response

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
_lookup = [str(TEMPLATE_DIR)]
_loop_template = Jinja2Template(name="loop.html", lookup=_lookup, autoescape=True)
_fortunes_template = Jinja2Template(
    name="fortunes.html", lookup=_lookup, autoescape=True
)
_db = open_fortunes_db()
app = Bottle()


@app.get("/plaintext")
def plaintext() -> str:
    return PLAINTEXT


@app.get("/json")
def json_message() -> dict[str, str]:
    return JSON_MESSAGE


def _route_view(number: int) -> Callable[..., str]:
    def view(item_id: int, name: str) -> str:
        return route_text(number, item_id, name)

    return view


for _number in range(1, ROUTE_COUNT + 1):
    app.route(f"/route{_number}/<item_id:int>/<name>", "GET", _route_view(_number))


@app.get("/template")
def template() -> str:
    return _loop_template.render(title=LOOP_TITLE, items=LOOP_ITEMS)


@app.post("/echo-json")
def echo_json() -> dict[str, Any]:
    return {"echo": request.json["name"]}


@app.post("/echo-form")
def echo_form() -> str:
    return f"echo={request.forms[FORM_FIELD]}"


@app.get("/session")
def session_visits() -> str:
    cookie = request.get_cookie("session", secret=SECRET_KEY)
    data = json.loads(cookie) if cookie else {}
    data["visits"] = data.get("visits", 0) + 1
    response.set_cookie("session", json.dumps(data), secret=SECRET_KEY)
    return f"visits={data['visits']}"


@app.get("/fortunes")
def fortunes() -> str:
    return _fortunes_template.render(fortunes=load_fortunes(_db))


# The hooked app (see Scenario.hooked): Bottle's request hooks. Bottle has
# no hook at the end of a request besides after_request.
hooked_app = Bottle()
hooked_app.get("/plaintext")(plaintext)


@hooked_app.hook("before_request")
def remember_user() -> None:
    request.environ["benchmark.user"] = HOOK_USER


@hooked_app.hook("after_request")
def protect() -> None:
    response.set_header(*HOOK_HEADER)
