"""The WSGI lane (in ``Demijohn.wsgi_app``, with ``demijohn.lane``) must be
invisible, as the ASGI lane is: ``test_plain_lane`` compares it with the
general path for every kind of value and error; these cases cover what a
view can change while it runs (written as the lane of each protocol calls
it, and as the other), and the WSGI lane's own context handling.
"""

from __future__ import annotations

import functools
import typing as t

import pytest
from werkzeug.routing import BaseConverter

from demijohn import Demijohn, Response, current_app, g, session
from demijohn.signals import request_finished, request_tearing_down
from demijohn.testing import DemijohnClient


def _written_as(kind: str, view: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """``view`` as a plain function or as an ``async def`` calling it: the
    WSGI lane calls the first itself, the ASGI lane the second."""
    if kind == "def":
        return view

    @functools.wraps(view)
    async def async_view(**kwargs: t.Any) -> t.Any:
        return view(**kwargs)

    return async_view


VIEW_KINDS = pytest.mark.parametrize("kind", ["def", "async def"])


def test_a_bound_application_context_is_the_requests(app: Demijohn) -> None:
    @app.get("/g")
    def read_g() -> str:
        g.seen_by_view = True
        return str(g.get("before"))

    client = app.test_client()
    with app.app_context():
        g.before = "set outside"
        assert client.get("/g").get_data() == b"set outside"
        # As with the general path, the request used the bound context.
        assert g.get("seen_by_view") is True
    # Without one, each request gets its own.
    assert client.get("/g").get_data() == b"None"


@VIEW_KINDS
def test_converters_match_with_the_application_context_bound(
    app: Demijohn, client: DemijohnClient, kind: str
) -> None:
    class Scaled(BaseConverter):
        def to_python(self, value: str) -> int:
            return int(value) * current_app.config["SCALE"]

    app.url_map.converters["scaled"] = Scaled
    app.config["SCALE"] = 3

    def number(n: int) -> str:
        return str(n)

    app.add_url_rule("/n/<scaled:n>", view_func=_written_as(kind, number))

    assert client.get("/n/14").get_data() == b"42"


@VIEW_KINDS
def test_receivers_connected_by_the_view_see_its_request(
    app: Demijohn, client: DemijohnClient, kind: str
) -> None:
    seen: list[str] = []

    def finished(sender: Demijohn, response: Response, **extra: t.Any) -> None:
        seen.append(f"finished {response.status_code}")

    def tearing_down(sender: Demijohn, **extra: t.Any) -> None:
        seen.append("tearing down")

    def connect() -> str:
        request_finished.connect(finished, app)
        request_tearing_down.connect(tearing_down, app)
        return "connected"

    app.add_url_rule("/connect", view_func=_written_as(kind, connect))

    try:
        assert client.get("/connect").get_data() == b"connected"
    finally:
        request_finished.disconnect(finished)
        request_tearing_down.disconnect(tearing_down)
    assert seen == ["finished 200", "tearing down"]


@VIEW_KINDS
def test_a_permanent_session_cookie_is_refreshed_by_untouched_views(
    app: Demijohn, client: DemijohnClient, kind: str
) -> None:
    @app.get("/login")
    def login() -> str:
        session.permanent = True
        session["user"] = "ann"
        return "in"

    def plain() -> dict[str, str]:
        return {"view": "untouched"}

    app.add_url_rule("/plain", view_func=_written_as(kind, plain))

    client.get("/login")
    response = client.get("/plain")
    assert response.get_json() == {"view": "untouched"}
    assert "session=" in response.headers.get("Set-Cookie", "")
    # A request without the cookie sets none.
    client.delete_cookie("session")
    assert "Set-Cookie" not in client.get("/plain").headers
