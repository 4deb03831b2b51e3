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


def _served_in_lane(app: Demijohn, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each request was answered by the WSGI lane itself."""
    served: list[bool] = []
    original = app._serve_in_lane

    def recording(*args: t.Any) -> t.Any:
        answer = original(*args)
        served.append(answer != (None, None))
        return answer

    monkeypatch.setattr(app, "_serve_in_lane", recording)
    return served


def test_an_app_with_hooks_takes_the_wsgi_lane(
    app: Demijohn, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    @app.before_request
    def before() -> None:
        calls.append("before")
        g.user = "amy"

    @app.after_request
    def after(response: Response) -> Response:
        calls.append("after")
        response.headers["X-User"] = g.user
        return response

    @app.teardown_request
    def teardown_request(error: BaseException | None) -> None:
        calls.append(f"teardown_request {error!r}")

    @app.teardown_appcontext
    def teardown_appcontext(error: BaseException | None) -> None:
        calls.append(f"teardown_appcontext {error!r}")

    @app.get("/")
    def index() -> str:
        calls.append("view")
        return "index"

    served = _served_in_lane(app, monkeypatch)
    response = app.test_client().get("/")
    assert (response.get_data(), response.headers["X-User"]) == (b"index", "amy")
    assert calls == [
        "before",
        "view",
        "after",
        "teardown_request None",
        "teardown_appcontext None",
    ]
    assert served == [True]


def test_a_teardown_signal_receiver_keeps_a_hooked_app_off_the_lane(
    app: Demijohn, monkeypatch: pytest.MonkeyPatch
) -> None:
    @app.before_request
    def before() -> None:
        pass

    @app.get("/")
    def index() -> str:
        return "index"

    served = _served_in_lane(app, monkeypatch)
    client = app.test_client()
    assert client.get("/").get_data() == b"index"

    # A receiver of a signal the steps send keeps requests off the lane.
    def on_tearing_down(sender: Demijohn, **extra: t.Any) -> None:
        pass

    with request_tearing_down.connected_to(on_tearing_down, app):
        assert client.get("/").get_data() == b"index"
    assert served == [True]
