"""The benchmark app on Quart: Flask's API made async (its request body and
template rendering are awaited)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from quart import Quart, g, render_template, request, session

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
_db = open_fortunes_db()


async def plaintext() -> str:
    return PLAINTEXT


async def json_message() -> dict[str, str]:
    return JSON_MESSAGE


def _route_view(number: int) -> Callable[..., Awaitable[str]]:
    async def view(item_id: int, name: str) -> str:
        return route_text(number, item_id, name)

    return view


async def template() -> str:
    return await render_template("loop.html", title=LOOP_TITLE, items=LOOP_ITEMS)


async def echo_json() -> dict[str, Any]:
    data = await request.get_json()
    return {"echo": data["name"]}


async def echo_form() -> str:
    form = await request.form
    return f"echo={form[FORM_FIELD]}"


async def session_visits() -> str:
    visits = session.get("visits", 0) + 1
    session["visits"] = visits
    return f"visits={visits}"


async def fortunes() -> str:
    return await render_template("fortunes.html", fortunes=load_fortunes(_db))


async def remember_user() -> None:
    g.user = HOOK_USER


async def protect(response: Any) -> Any:
    response.headers[HOOK_HEADER[0]] = HOOK_HEADER[1]
    return response


async def release(error: BaseException | None) -> None:
    pass


def build(*, keyed: bool = False, hooked: bool = False) -> Quart:
    """The Quart app; ``keyed`` gives it the secret key sessions need (see
    ``Scenario.keyed``), ``hooked`` the hooks of ``Scenario.hooked``."""
    app = Quart(__name__, template_folder=str(TEMPLATE_DIR))
    if keyed:
        app.secret_key = SECRET_KEY
    if hooked:
        app.before_request(remember_user)
        app.after_request(protect)
        app.teardown_appcontext(release)
    app.get("/plaintext")(plaintext)
    app.get("/json")(json_message)
    for number in range(1, ROUTE_COUNT + 1):
        app.add_url_rule(
            f"/route{number}/<int:item_id>/<name>",
            f"route{number}",
            _route_view(number),
        )
    app.get("/template")(template)
    app.post("/echo-json")(echo_json)
    app.post("/echo-form")(echo_form)
    app.get("/session")(session_visits)
    app.get("/fortunes")(fortunes)
    return app


app = build()
keyed_app = build(keyed=True)
hooked_app = build(hooked=True)
