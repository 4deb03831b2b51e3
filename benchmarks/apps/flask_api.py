"""The benchmark app written once against Flask's API.

Flask and demijohn share that API, so the same function builds both apps:
only the module passed in differs, which is the point of demijohn.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any

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

View = Callable[..., Any]


def _as_async(view: View) -> View:
    """Wrap a view in an ``async def``, so the framework takes its async
    path; the wrapper adds one plain call."""

    @functools.wraps(view)
    async def async_view(**kwargs: Any) -> Any:
        return view(**kwargs)

    return async_view


def _route_view(number: int) -> View:
    def view(item_id: int, name: str) -> str:
        return route_text(number, item_id, name)

    return view


def build(
    framework: ModuleType,
    *,
    async_views: bool = False,
    keyed: bool = False,
    hooked: bool = False,
) -> Any:
    """Build the benchmark app with ``framework`` (``flask`` or ``demijohn``).

    With ``async_views`` every view is an ``async def``, which is how an
    ASGI app is written to match Starlette's async endpoints. With ``keyed``
    the app gets a secret key, which the session scenario needs (see
    ``Scenario.keyed``). With ``hooked`` it gets a ``before_request``, an
    ``after_request`` and a ``teardown_appcontext`` function (see
    ``Scenario.hooked``), ``async def`` ones with ``async_views``.
    """
    app = framework.Flask(__name__, template_folder=str(TEMPLATE_DIR))
    if keyed:
        app.secret_key = SECRET_KEY
    request = framework.request
    session = framework.session
    render_template = framework.render_template
    db = open_fortunes_db()

    def add(rule: str, view: View, endpoint: str, methods: tuple[str, ...]) -> None:
        if async_views:
            view = _as_async(view)
        app.add_url_rule(rule, endpoint, view, methods=list(methods))

    def plaintext() -> str:
        return PLAINTEXT

    def json_message() -> dict[str, str]:
        return JSON_MESSAGE

    def template() -> str:
        return render_template("loop.html", title=LOOP_TITLE, items=LOOP_ITEMS)

    def echo_json() -> dict[str, Any]:
        return {"echo": request.get_json()["name"]}

    def echo_form() -> str:
        return f"echo={request.form[FORM_FIELD]}"

    def session_visits() -> str:
        visits = session.get("visits", 0) + 1
        session["visits"] = visits
        return f"visits={visits}"

    def fortunes() -> str:
        return render_template("fortunes.html", fortunes=load_fortunes(db))

    if hooked:
        _add_hooks(framework, app, async_hooks=async_views)
    add("/plaintext", plaintext, "plaintext", ("GET",))
    add("/json", json_message, "json", ("GET",))
    for number in range(1, ROUTE_COUNT + 1):
        rule = f"/route{number}/<int:item_id>/<name>"
        add(rule, _route_view(number), f"route{number}", ("GET",))
    add("/template", template, "template", ("GET",))
    add("/echo-json", echo_json, "echo_json", ("POST",))
    add("/echo-form", echo_form, "echo_form", ("POST",))
    add("/session", session_visits, "session", ("GET",))
    add("/fortunes", fortunes, "fortunes", ("GET",))
    return app


def _add_hooks(framework: ModuleType, app: Any, *, async_hooks: bool) -> None:
    """The hooks of ``Scenario.hooked``, as a Flask app registers them."""
    g = framework.g
    header, value = HOOK_HEADER

    def remember_user() -> None:
        g.user = HOOK_USER

    def protect(response: Any) -> Any:
        response.headers[header] = value
        return response

    def release(error: BaseException | None) -> None:
        pass

    if async_hooks:
        hooks = [_as_async_hook(hook) for hook in (remember_user, protect, release)]
    else:
        hooks = [remember_user, protect, release]
    app.before_request(hooks[0])
    app.after_request(hooks[1])
    app.teardown_appcontext(hooks[2])


def _as_async_hook(hook: View) -> View:
    """``hook`` as an ``async def`` function, as an async app writes it."""

    @functools.wraps(hook)
    async def async_hook(*args: Any) -> Any:
        return hook(*args)

    return async_hook
