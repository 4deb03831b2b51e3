"""An application with every setting the security guide recommends.

Deployment settings come from the environment::

    NEW_SECRET_KEY=... OLD_SECRET_KEY=... gunicorn 'security_guide:create_app()'
"""

from __future__ import annotations

import os
import secrets

from werkzeug.wrappers import Response

from demijohn import Blueprint, Demijohn, jsonify, request, session

account = Blueprint("account", __name__)


@account.post("/login")
def login() -> Response:
    session["user"] = request.form["user"]
    response = jsonify(user=session["user"])
    token = secrets.token_urlsafe()
    response.set_cookie("remember", token, secure=True, httponly=True, samesite="Lax")
    return response


@account.get("/me")
def me() -> dict[str, str | None]:
    return {"user": session.get("user")}


@account.post("/upload")
def upload() -> dict[str, int]:
    return {"received": len(request.get_data())}


def create_app() -> Demijohn:
    app = Demijohn(__name__)

    # The secret key, rotated: cookies signed with the old key still work.
    app.config.update(
        SECRET_KEY=os.environ["NEW_SECRET_KEY"],
        SECRET_KEY_FALLBACKS=[os.environ["OLD_SECRET_KEY"]],
    )

    # The session cookie: only over HTTPS, not sent with cross-site posts.
    app.config.update(
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )

    # Request bodies: anything larger is refused with a 413.
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024  # 16 MiB

    # The Host header: any other host is refused with a 400.
    app.config["TRUSTED_HOSTS"] = ["example.com", ".example.com"]  # and subdomains

    app.register_blueprint(account)
    return app
