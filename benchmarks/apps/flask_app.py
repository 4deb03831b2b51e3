"""The benchmark app on Flask, with sync views (the Flask way)."""

import flask

from benchmarks.apps.flask_api import build

app = build(flask)
UNSUPPORTED: dict[str, str] = {}
