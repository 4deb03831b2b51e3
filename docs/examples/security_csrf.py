"""CSRF protection by Flask-WTF, unmodified, through the import shim.

Serve it with ``demijohn --app security_csrf run``, with
``DEMIJOHN_SECRET_KEY`` set.
"""

from __future__ import annotations

import demijohn.compat.flask_shim  # noqa: F401  # isort: skip (before any Flask extension)

from flask_wtf.csrf import CSRFProtect, generate_csrf

from demijohn import Demijohn, request

app = Demijohn(__name__)
app.config.from_prefixed_env()
csrf = CSRFProtect(app)


@app.get("/form")
def form() -> str:
    return (
        '<form method="post" action="/notes">'
        f'<input type="hidden" name="csrf_token" value="{generate_csrf()}">'
        '<input name="text"></form>'
    )


@app.post("/notes")
def add_note() -> dict[str, str]:
    return {"saved": request.form["text"]}
