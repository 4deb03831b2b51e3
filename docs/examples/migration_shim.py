"""A Flask application using an unmodified Flask extension, Flask-Login,
running on demijohn through the import shim.

Serve it with ``demijohn --app migration_shim run`` or ``uvicorn
migration_shim:app``, with ``DEMIJOHN_SECRET_KEY`` set.
"""

from __future__ import annotations

import demijohn.compat.flask_shim  # noqa: F401  # isort: skip (must come first)

from flask import Flask, abort, request  # demijohn's, through the shim
from flask_login import LoginManager, UserMixin, current_user, login_user

app = Flask(__name__)
app.config.from_prefixed_env()
login_manager = LoginManager(app)

#: Stands in for a user table.
USERS = {"ada", "grace"}


class User(UserMixin):
    def __init__(self, name: str) -> None:
        self.id = name


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return User(user_id) if user_id in USERS else None


@app.post("/login")
def login() -> dict[str, str]:
    name = request.form.get("name", "")
    if name not in USERS:
        abort(401)
    login_user(User(name))
    return {"logged_in": name}


@app.get("/me")
def me() -> dict[str, str | None]:
    if not current_user.is_authenticated:
        return {"user": None}
    return {"user": current_user.id}
