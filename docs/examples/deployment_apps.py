"""The applications ``deployment_site`` and ``deployment_hosts`` put behind
one entry point. In a real project each is its own package."""

from __future__ import annotations

from demijohn import Demijohn, request, url_for

#: What each application's startup and shutdown functions did, in order.
events: list[str] = []


def make_app(name: str) -> Demijohn:
    app = Demijohn(name)

    @app.get("/")
    @app.get("/<path:page>")
    def where(page: str = "") -> dict[str, str]:
        return {
            "app": name,
            "path": request.path,
            "script_root": request.script_root,
            "home": url_for("where"),
        }

    app.before_serving(lambda: events.append(f"start {name}"))
    app.after_serving(lambda: events.append(f"stop {name}"))
    return app


frontend = make_app("frontend")
api = make_app("api")
admin = make_app("admin")
api_v1 = make_app("api_v1")
api_v2 = make_app("api_v2")
