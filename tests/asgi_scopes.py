"""ASGI scopes for tests that drive the ASGI edge directly."""

from __future__ import annotations

import typing as t


def http_scope(
    path: str = "/", method: str = "GET", **extra: t.Any
) -> dict[str, t.Any]:
    """The HTTP scope a server would send for ``path``; ``extra`` keys
    replace or add scope keys."""
    scope: dict[str, t.Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.test")],
        "server": ("example.test", 80),
        "client": ("10.1.2.3", 5555),
    }
    scope.update(extra)
    return scope
