"""An application factory: every call builds a new, independently
configured application. Run it with ``demijohn --app factory run``."""

from __future__ import annotations

import typing as t

from demijohn import Blueprint, Demijohn, current_app

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> dict[str, t.Any]:
    return {"greeting": current_app.config["GREETING"]}


def create_app(test_config: dict[str, t.Any] | None = None) -> Demijohn:
    app = Demijohn(__name__, instance_relative_config=True)
    # Defaults first, so every later source may override them.
    app.config.from_mapping(SECRET_KEY="dev", GREETING="hello")
    if test_config is None:
        # Deployment settings live outside the code: an optional file in
        # the instance folder, then DEMIJOHN_* environment variables.
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env()
    else:
        app.config.from_mapping(test_config)
    app.register_blueprint(bp)
    return app
