"""Uploaded media served from a folder by Werkzeug, with no proxy in front:
``gunicorn 'deployment_media:create_app()'``."""

from __future__ import annotations

from werkzeug.middleware.shared_data import SharedDataMiddleware

from demijohn import Demijohn


def create_app(media_folder: str = "/srv/myproject/media") -> Demijohn:
    app = Demijohn(__name__)
    app.wsgi_app = SharedDataMiddleware(app.wsgi_app, {"/media": media_folder})  # type: ignore[method-assign]

    @app.get("/media/<path:name>")
    def missing_media(name: str) -> tuple[dict[str, str], int]:
        # Only reached for a path that is not a file in the folder.
        return {"error": f"no media named {name}"}, 404

    return app
