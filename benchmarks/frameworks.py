"""The frameworks under test, in the order their columns appear."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Literal


@dataclass(frozen=True)
class Framework:
    """One column of the in-process table: an app module and how it is
    called."""

    key: str
    label: str
    protocol: Literal["wsgi", "asgi"]
    #: The module that builds the app as ``app`` (see :mod:`benchmarks.apps`).
    module: str
    #: How its views are written, printed under the table.
    style: str
    #: The distribution whose version is reported, if any.
    distribution: str | None

    def load(self) -> ModuleType:
        """Import the app module (building the app)."""
        return importlib.import_module(self.module)


FRAMEWORKS = (
    Framework(
        "raw-wsgi",
        "raw WSGI",
        "wsgi",
        "benchmarks.apps.raw_wsgi",
        "plain WSGI functions, dict lookup on the path",
        None,
    ),
    Framework(
        "werkzeug",
        "Werkzeug",
        "wsgi",
        "benchmarks.apps.raw_werkzeug",
        "Request + Map + Response, no app object",
        "werkzeug",
    ),
    Framework(
        "demijohn-wsgi",
        "demijohn WSGI",
        "wsgi",
        "benchmarks.apps.demijohn_wsgi",
        "`def` views (same code as Flask)",
        "demijohn",
    ),
    Framework(
        "flask",
        "Flask",
        "wsgi",
        "benchmarks.apps.flask_app",
        "`def` views",
        "flask",
    ),
    Framework(
        "bottle",
        "Bottle",
        "wsgi",
        "benchmarks.apps.bottle_app",
        "`def` views, Jinja2 adapter, signed-cookie JSON session",
        "bottle",
    ),
    Framework(
        "falcon",
        "Falcon",
        "wsgi",
        "benchmarks.apps.falcon_app",
        "resource classes, Jinja directly, itsdangerous cookie session",
        "falcon",
    ),
    Framework(
        "raw-asgi",
        "raw ASGI",
        "asgi",
        "benchmarks.apps.raw_asgi",
        "plain ASGI coroutines, dict lookup on the path",
        None,
    ),
    Framework(
        "demijohn-asgi",
        "demijohn ASGI",
        "asgi",
        "benchmarks.apps.demijohn_asgi",
        "`async def` views (same code as Flask, wrapped)",
        "demijohn",
    ),
    Framework(
        "starlette",
        "Starlette",
        "asgi",
        "benchmarks.apps.starlette_app",
        "`async def` endpoints, SessionMiddleware on the session route",
        "starlette",
    ),
    Framework(
        "quart",
        "Quart",
        "asgi",
        "benchmarks.apps.quart_app",
        "`async def` views",
        "quart",
    ),
)
FRAMEWORKS_BY_KEY = {framework.key: framework for framework in FRAMEWORKS}
