"""Scaling out: every process configured from the environment, sessions in
Redis shared by all of them, and two applications behind one entry point.

Run several copies behind a load balancer, e.g.::

    DEMIJOHN_SECRET_KEY=... gunicorn --workers 4 'scale_out:create_site()'
"""

from __future__ import annotations

import typing as t

from demijohn import Demijohn, session
from demijohn.contrib.dispatch import Dispatcher
from demijohn.contrib.redis_session import RedisClient, RedisSessionInterface


def create_app(redis: RedisClient | None = None, **config: t.Any) -> Demijohn:
    app = Demijohn(__name__)
    # The code holds no deployment settings: DEMIJOHN_SECRET_KEY,
    # DEMIJOHN_SESSION_REDIS_URL, ... come from the environment, identical
    # on every machine.
    app.config.from_prefixed_env()
    app.config.update(config)
    # Session data in Redis: any process can serve any request, and
    # logging out really ends the session everywhere.
    app.session_interface = RedisSessionInterface(redis)

    @app.post("/cart/<item>")
    def add_to_cart(item: str) -> dict[str, list[str]]:
        session["cart"] = [*session.get("cart", []), item]
        return {"cart": session["cart"]}

    @app.get("/cart")
    def show_cart() -> dict[str, list[str]]:
        return {"cart": session.get("cart", [])}

    return app


def create_api() -> Demijohn:
    api = Demijohn("api")

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return api


def create_site(redis: RedisClient | None = None, **config: t.Any) -> Dispatcher:
    # One entry point for WSGI and ASGI servers; split the API out into its
    # own deployment later by changing only this function.
    return Dispatcher(create_app(redis, **config), {"/api": create_api()})
