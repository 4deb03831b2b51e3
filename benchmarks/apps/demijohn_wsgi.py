"""The benchmark app on demijohn with sync views, measured through WSGI."""

import demijohn
from benchmarks.apps.flask_api import build

app = build(demijohn)
keyed_app = build(demijohn, keyed=True)
hooked_app = build(demijohn, hooked=True)
UNSUPPORTED: dict[str, str] = {}
