"""The benchmark app on demijohn with ``async def`` views, measured through
ASGI, to match Starlette's and Quart's async endpoints."""

import demijohn
from benchmarks.apps.flask_api import build

app = build(demijohn, async_views=True)
keyed_app = build(demijohn, async_views=True, keyed=True)
hooked_app = build(demijohn, async_views=True, hooked=True)
UNSUPPORTED: dict[str, str] = {}
