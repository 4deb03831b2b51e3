"""The benchmark app on Flask, with sync views (the Flask way)."""

import flask

from benchmarks.apps.flask_api import build

app = build(flask)
keyed_app = build(flask, keyed=True)
hooked_app = build(flask, hooked=True)
UNSUPPORTED: dict[str, str] = {}
