"""One Flask-Login application, written for Flask, used by both sides of
the session interoperability tests.

Imported by the extension suite, where the shim makes ``flask`` demijohn,
it is a demijohn application. Run as a script in a plain interpreter, it is
a real Flask application, and answers on stdout in JSON:

``python login_app.py login``
    Logs ``ada`` in twice, once without and once with "remember me", and
    prints ``{"session": <cookie>, "remember_token": <cookie>}``.
``python login_app.py check '<json list of {cookie name: value}>'``
    Requests ``/me`` with each set of cookies on a fresh client and prints
    ``[{"status": <code>, "user": <user id or null>}, ...]``.
"""

from __future__ import annotations

import json
import sys
import typing as t

from flask import Flask, redirect, render_template_string, request, url_for
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_fresh,
    login_required,
    login_user,
    logout_user,
)

SECRET_KEY = "the key both frameworks share"
PASSWORDS = {"ada": "lovelace", "alan": "turing"}


class User(UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET_KEY, TESTING=True)
    manager = LoginManager(app)
    manager.login_view = "login"

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        return User(user_id) if user_id in PASSWORDS else None

    @app.route("/login", methods=["GET", "POST"])
    def login() -> t.Any:
        if request.method == "GET":
            return "please log in"
        name = request.form["name"]
        if PASSWORDS.get(name) != request.form["password"]:
            return "wrong name or password", 401
        login_user(User(name), remember=request.form.get("remember") == "yes")
        return redirect(request.args.get("next") or url_for("me"))

    @app.get("/me")
    @login_required
    def me() -> dict[str, t.Any]:
        return {"user": current_user.get_id(), "fresh": login_fresh()}

    @app.get("/greeting")
    def greeting() -> str:
        return render_template_string(
            "{% if current_user.is_authenticated %}hello {{ current_user.id }}"
            "{% else %}hello stranger{% endif %}"
        )

    @app.post("/logout")
    @login_required
    def logout() -> str:
        logout_user()
        return "bye"

    return app


def _login(app: Flask, remember: bool) -> dict[str, str | None]:
    client = app.test_client()
    data = {"name": "ada", "password": "lovelace"}
    if remember:
        data["remember"] = "yes"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.status
    cookies = {}
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        cookies[name] = None if cookie is None else cookie.value
    return cookies


def _check(app: Flask, cookie_sets: list[dict[str, str]]) -> list[dict[str, t.Any]]:
    results = []
    for cookies in cookie_sets:
        client = app.test_client()
        for name, value in cookies.items():
            client.set_cookie(name, value)
        response = client.get("/me")
        user = response.get_json()["user"] if response.status_code == 200 else None
        results.append({"status": response.status_code, "user": user})
    return results


def main(argv: list[str]) -> None:
    app = create_app()
    if argv[0] == "login":
        output: t.Any = {
            "session": _login(app, remember=False)["session"],
            "remember_token": _login(app, remember=True)["remember_token"],
        }
    else:
        output = _check(app, json.loads(argv[1]))
    print(json.dumps(output))


if __name__ == "__main__":
    main(sys.argv[1:])
