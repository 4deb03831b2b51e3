"""Sessions kept in Redis, shared by every process, and a login that moves
the session to a new id. Set ``DEMIJOHN_SECRET_KEY`` and serve it with
``gunicorn deployment_sessions:app``."""

from __future__ import annotations

import hmac
import typing as t
from dataclasses import dataclass

from werkzeug.wrappers import Response

from demijohn import Demijohn, abort, redirect, request, session, url_for
from demijohn.contrib.redis_session import RedisSessionInterface, regenerate

app = Demijohn(__name__)
app.config.from_prefixed_env()
app.config["SESSION_REDIS_URL"] = "redis://10.0.0.5:6379/0"
app.session_interface = RedisSessionInterface()


@dataclass
class User:
    id: int
    name: str


#: Stands in for a user table (which would hold password hashes).
USERS = {"ada": (User(1, "ada"), "correct horse")}


def check_password(form: t.Mapping[str, str]) -> User:
    """Return the user ``form`` names if its password is right; else 401."""
    user, password = USERS.get(form.get("username", ""), (None, ""))
    if user is None or not hmac.compare_digest(form.get("password", ""), password):
        abort(401)
    return user


@app.get("/")
def index() -> dict[str, t.Any]:
    return {"user_id": session.get("user_id"), "cart": session.get("cart", [])}


@app.post("/cart/<item>")
def add_to_cart(item: str) -> dict[str, list[str]]:
    session["cart"] = [*session.get("cart", []), item]
    return {"cart": session["cart"]}


@app.post("/login")
def login() -> Response:
    user = check_password(request.form)
    regenerate()
    session["user_id"] = user.id
    return redirect(url_for("index"))


@app.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("index"))
