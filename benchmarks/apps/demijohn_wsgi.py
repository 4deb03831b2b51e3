"""The benchmark app on demijohn with sync views, measured through WSGI."""

import demijohn
from benchmarks.apps.flask_api import build

app = build(demijohn)
UNSUPPORTED: dict[str, str] = {}
