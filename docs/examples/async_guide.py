"""Async views and hooks, startup and shutdown, and a subclass that changes
how sync code runs under ASGI.

Serve it with any of::

    uvicorn async_guide:app
    hypercorn async_guide:app
    gunicorn async_guide:app
"""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import threading
import typing as t

from demijohn import Demijohn, current_app, g

events: list[str] = []


class Pool:
    """Stands in for an async client with connections to close, such as a
    database pool or an HTTP client session."""

    def __init__(self) -> None:
        self.open = False

    async def __aenter__(self) -> Pool:
        self.open = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.open = False

    async def fetch(self, key: str) -> str:
        if not self.open:
            raise RuntimeError("the pool is closed")
        await asyncio.sleep(0)  # a real client would wait for the network
        return key.upper()


def inline(f: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """Mark a cheap sync hook to run on the event loop under ASGI."""
    f.inline = True  # type: ignore[attr-defined]
    return f


class InlineHooksApp(Demijohn):
    async def run_sync(self, func: t.Callable[..., t.Any], *args: t.Any) -> t.Any:
        # Under ASGI every sync view and hook goes through here. A hook that
        # only reads a header needs no thread: skip the pool hop for those.
        if getattr(func, "inline", False):
            return func(*args)
        return await super().run_sync(func, *args)


app = InlineHooksApp(__name__)


@app.before_serving
def announce() -> None:
    events.append("starting")


@app.while_serving
async def pool() -> cabc.AsyncGenerator[None, None]:
    # Code before the yield runs at startup, after it at shutdown: a
    # resource opened with "async with" is closed when the server stops.
    async with Pool() as opened:
        current_app.extensions["pool"] = opened
        yield
    del current_app.extensions["pool"]


@app.after_serving
async def goodbye() -> None:
    events.append("stopped")


@app.before_request
@inline
def where_hooks_run() -> None:
    g.hook_thread = threading.current_thread().name


@app.get("/items/<key>")
async def item(key: str) -> dict[str, str]:
    # Under ASGI this runs on the event loop and holds no thread while it
    # awaits; under WSGI it runs to completion on the worker thread.
    value = await current_app.extensions["pool"].fetch(key)
    return {"key": key, "value": value}


@app.get("/threads")
def threads() -> dict[str, str]:
    # A sync view: in the worker pool under an ASGI server (at most
    # app.sync_worker_count at once), on the server's thread under WSGI,
    # and on the test's thread under either test client.
    return {"hook": g.hook_thread, "view": threading.current_thread().name}


@app.get("/sync-calls-async")
def sync_calls_async() -> dict[str, str]:
    # Sync code calling a coroutine function: ensure_sync runs it to the end.
    fetch = current_app.extensions["pool"].fetch
    return {"value": current_app.ensure_sync(fetch)("abc")}


@app.get("/countdown")
async def countdown() -> t.AsyncIterator[str]:
    # An async generator is a streamed body: each chunk is sent as soon as
    # it is produced, under ASGI from the event loop.
    async def numbers() -> t.AsyncIterator[str]:
        for n in range(3, 0, -1):
            await asyncio.sleep(0)
            yield f"{n}\n"

    return numbers()
