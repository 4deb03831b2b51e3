"""Flask-Login, unmodified, on demijohn; and logins that cross between a
real Flask application and a demijohn one sharing the SECRET_KEY."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import flask
import flask_login
import pytest
from flask_login import FlaskLoginClient, user_loaded_from_cookie, user_logged_in

import demijohn
from demijohn.testing import ASGIClient, DemijohnClient

from .login_app import User, create_app

LOGIN = {"name": "ada", "password": "lovelace"}
Client = t.Callable[..., DemijohnClient]


@pytest.fixture
def login_app() -> demijohn.Demijohn:
    app = create_app()
    assert isinstance(app, demijohn.Demijohn)  # the shim is really active
    return app


@pytest.fixture
def client(login_app: demijohn.Demijohn, make_client: Client) -> DemijohnClient:
    return make_client(login_app)


def test_the_extension_sees_demijohn() -> None:
    assert flask.Flask is demijohn.Demijohn
    assert flask_login.utils.current_app is demijohn.current_app
    assert issubclass(FlaskLoginClient, demijohn.testing.DemijohnClient)


def test_login_makes_current_user_the_user(client: DemijohnClient) -> None:
    response = client.post("/login", data=LOGIN)
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"
    assert client.get("/me").get_json() == {"user": "ada", "fresh": True}
    assert client.get("/greeting").text == "hello ada"


def test_wrong_password_logs_nobody_in(client: DemijohnClient) -> None:
    response = client.post("/login", data={"name": "ada", "password": "babbage"})
    assert response.status_code == 401
    assert client.get("/greeting").text == "hello stranger"


def test_login_required_redirects_to_the_login_view(client: DemijohnClient) -> None:
    response = client.get("/me?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fme%3Fpage%3D2"
    followed = client.post(response.headers["Location"], data=LOGIN)
    assert followed.headers["Location"] == "/me?page=2"


def test_login_required_wraps_async_views(
    login_app: demijohn.Demijohn, client: DemijohnClient
) -> None:
    # Flask-Login runs the view through current_app.ensure_sync.
    @login_app.get("/async-me")
    @flask_login.login_required
    async def async_me() -> str:
        return f"async {flask_login.current_user.id}"

    assert client.get("/async-me").status_code == 302
    client.post("/login", data=LOGIN)
    assert client.get("/async-me").text == "async ada"


def test_logout_forgets_the_user(client: DemijohnClient) -> None:
    client.post("/login", data=LOGIN)
    assert client.post("/logout").text == "bye"
    assert client.get("/me").status_code == 302
    assert client.get("/greeting").text == "hello stranger"


def test_login_sends_the_extension_signal(
    login_app: demijohn.Demijohn, client: DemijohnClient
) -> None:
    received: list[tuple[t.Any, str]] = []

    def record(sender: t.Any, user: User, **extra: t.Any) -> None:
        received.append((sender, user.id))

    with user_logged_in.connected_to(record):
        client.post("/login", data=LOGIN)
    assert received == [(login_app, "ada")]


def test_remember_cookie_logs_in_without_a_session(
    login_app: demijohn.Demijohn, make_client: Client
) -> None:
    first = make_client(login_app)
    first.post("/login", data={**LOGIN, "remember": "yes"})
    cookie = first.get_cookie("remember_token")
    assert cookie is not None
    assert cookie.value.startswith("ada|")

    loaded: list[str] = []

    def record(sender: t.Any, user: User, **extra: t.Any) -> None:
        loaded.append(user.id)

    fresh_browser = make_client(login_app)
    fresh_browser.set_cookie("remember_token", cookie.value)
    with user_loaded_from_cookie.connected_to(record):
        response = fresh_browser.get("/me")
    # A login restored from the cookie works but is not "fresh".
    assert response.get_json() == {"user": "ada", "fresh": False}
    assert loaded == ["ada"]


def test_a_forged_remember_cookie_is_ignored(
    login_app: demijohn.Demijohn, make_client: Client
) -> None:
    client = make_client(login_app)
    client.set_cookie("remember_token", "ada|" + "0" * 128)
    assert client.get("/me").status_code == 302


def test_flask_login_test_client_logs_a_user_in(login_app: demijohn.Demijohn) -> None:
    # FlaskLoginClient subclasses Flask's test client; under the shim that
    # is demijohn's (WSGI) client, and its session_transaction works.
    login_app.test_client_class = FlaskLoginClient
    client = login_app.test_client(user=User("alan"))
    assert client.get("/me").get_json()["user"] == "alan"


# -- the same login across a real Flask app and a demijohn app -----------

HERE = Path(__file__).parent


def _real_flask(*args: str) -> t.Any:
    """Run login_app.py in a plain interpreter, where it is a real Flask
    application, and return what it printed."""
    environ = {k: v for k, v in os.environ.items() if k != "DEMIJOHN_FLASK_SHIM"}
    result = subprocess.run(
        [sys.executable, str(HERE / "login_app.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _asgi_client_for(app: demijohn.Demijohn) -> t.Callable[[], DemijohnClient]:
    return lambda: ASGIClient(app, app.response_class)


@pytest.fixture(scope="module")
def flask_cookies() -> dict[str, str]:
    cookies: dict[str, str] = _real_flask("login")
    return cookies


def test_a_login_on_real_flask_holds_on_demijohn(
    flask_cookies: dict[str, str], client: DemijohnClient
) -> None:
    client.set_cookie("session", flask_cookies["session"])
    assert client.get("/me").get_json() == {"user": "ada", "fresh": True}


def test_a_real_flask_remember_cookie_logs_in_on_demijohn(
    flask_cookies: dict[str, str], client: DemijohnClient
) -> None:
    client.set_cookie("remember_token", flask_cookies["remember_token"])
    assert client.get("/me").get_json() == {"user": "ada", "fresh": False}


def test_a_login_on_demijohn_holds_on_real_flask(login_app: demijohn.Demijohn) -> None:
    # Both protocols' cookies are checked by one real Flask process.
    cookie_sets = []
    for new_client in (login_app.test_client, _asgi_client_for(login_app)):
        client = new_client()
        client.post("/login", data=LOGIN)
        session = client.get_cookie("session")
        assert session is not None
        remembered = new_client()
        remembered.post("/login", data={**LOGIN, "remember": "yes"})
        remember_token = remembered.get_cookie("remember_token")
        assert remember_token is not None
        cookie_sets += [
            {"session": session.value},
            {"remember_token": remember_token.value},
        ]
    cookie_sets.append({"session": "forged"})
    results = _real_flask("check", json.dumps(cookie_sets))
    assert results == [{"status": 200, "user": "ada"}] * 4 + [
        {"status": 302, "user": None}
    ]
