"""Error responses: JSON under ``/api``, an HTML page with the site layout
everywhere else.

One handler for every :class:`~werkzeug.exceptions.HTTPException`, so
``abort(404)``, an unknown URL and a wrong method all answer in the format
the client speaks. Unexpected exceptions reach it as a 500 when not in
debug mode; in debug mode they go to the debugger instead.
"""

from __future__ import annotations

import typing as t

from werkzeug.exceptions import HTTPException, ServiceUnavailable

from demijohn import jsonify, render_template, request

from .db import SchemaMissing

if t.TYPE_CHECKING:
    from demijohn import Demijohn


def wants_json() -> bool:
    """Whether the failed request was an API call."""
    return request.blueprint == "api" or request.path.startswith("/api/")


def handle_http_error(error: HTTPException) -> t.Any:
    """Render ``error`` as JSON or HTML, keeping its status and headers
    (``Allow`` of a 405, say)."""
    headers = [
        (name, value)
        for name, value in error.get_headers()
        if name.lower() != "content-type"
    ]
    if wants_json():
        body = jsonify(error=error.name, message=error.description)
        return body, error.code, headers
    return render_template("error.html", error=error), error.code, headers


def handle_schema_missing(error: SchemaMissing) -> t.Any:
    """Answer 503 with the fix, rather than a bare 500, when the database
    has no tables: the usual first-run mistake."""
    return handle_http_error(
        ServiceUnavailable(
            "The database has no tables yet. Create them with:"
            " demijohn --app blog init-db"
        )
    )


def init_app(app: Demijohn) -> None:
    """Install the handlers above."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(SchemaMissing, handle_schema_missing)
