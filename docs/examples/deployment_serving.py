"""Startup and shutdown: a database pool opened once per process.

The same functions run through the lifespan protocol under an ASGI server
(``uvicorn deployment_serving:app --lifespan on``), through gunicorn's
worker hooks in ``deploy/gunicorn.conf.py`` under gunicorn, and through
``app.serving()`` or ``run_coroutine`` anywhere else. Run
``python deployment_serving.py`` for the development server.
"""

from __future__ import annotations

import asyncio

from werkzeug.serving import BaseWSGIServer

from demijohn import Demijohn, current_app
from demijohn.concurrency import run_coroutine


class Pool:
    """Stands in for an async database pool, such as the one
    ``asyncpg.create_pool`` returns."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.closed = False

    async def fetch_value(self, query: str) -> str:
        if self.closed:
            raise RuntimeError("the pool is closed")
        await asyncio.sleep(0)  # a real pool waits for the database here
        return f"{query} on {self.url}"

    async def close(self) -> None:
        await asyncio.sleep(0)
        self.closed = True


async def create_pool(url: str) -> Pool:
    await asyncio.sleep(0)  # a real pool connects here
    return Pool(url)


app = Demijohn(__name__)
app.config["DATABASE_URL"] = "postgresql://db.internal/myproject"


@app.before_serving
async def open_pool() -> None:
    app.extensions["db"] = await create_pool(app.config["DATABASE_URL"])


@app.after_serving
async def close_pool() -> None:
    await app.extensions["db"].close()


@app.get("/version")
async def version() -> dict[str, str]:
    db: Pool = current_app.extensions["db"]
    return {"version": await db.fetch_value("select version()")}


def serve_forever(server: BaseWSGIServer) -> None:
    """Serve with a WSGI server that has no startup or shutdown hooks, such
    as ``werkzeug.serving.make_server("127.0.0.1", 8000, app)``."""
    run_coroutine(app.startup())
    try:
        server.serve_forever()
    finally:
        run_coroutine(app.shutdown())


if __name__ == "__main__":
    with app.serving():
        app.run()
