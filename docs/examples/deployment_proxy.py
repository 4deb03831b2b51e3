"""Behind one reverse proxy (nginx) that sets the ``X-Forwarded-*``
headers: ``gunicorn deployment_proxy:app``."""

from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix

from demijohn import Demijohn, request, url_for

app = Demijohn(__name__)

# One proxy (nginx) in front: trust the last value of each header.
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]


@app.get("/whoami")
def whoami() -> dict[str, str | None]:
    return {
        "remote_addr": request.remote_addr,
        "scheme": request.scheme,
        "host": request.host,
        "script_root": request.script_root,
        "url": url_for("whoami", _external=True),
    }
