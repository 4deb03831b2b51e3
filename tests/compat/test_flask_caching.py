"""Flask-Caching, unmodified, on demijohn, with its in-process SimpleCache."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask, request
from flask_caching import Cache

from demijohn.testing import DemijohnClient

Client = t.Callable[..., DemijohnClient]


class Cached(t.NamedTuple):
    app: Flask
    cache: Cache
    #: How often each view body actually ran.
    calls: dict[str, int]


@pytest.fixture
def cached() -> Cached:
    app = Flask(__name__)
    app.config["TESTING"] = True
    cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    calls = {"report": 0, "search": 0, "square": 0}

    @app.get("/report")
    @cache.cached(timeout=60)
    def report() -> str:
        calls["report"] += 1
        return f"report #{calls['report']}"

    @app.get("/search")
    @cache.cached(timeout=60, query_string=True)
    def search() -> dict[str, t.Any]:
        calls["search"] += 1
        return {"q": request.args.get("q"), "run": calls["search"]}

    @cache.memoize(timeout=60)
    def square(n: int) -> int:
        calls["square"] += 1
        return n * n

    @app.get("/square/<int:n>")
    def square_view(n: int) -> str:
        return str(square(n))

    return Cached(app, cache, calls)


@pytest.fixture
def client(cached: Cached, make_client: Client) -> DemijohnClient:
    return make_client(cached.app)


def test_a_cached_view_runs_once_until_the_cache_is_cleared(
    cached: Cached, client: DemijohnClient
) -> None:
    assert client.get("/report").text == "report #1"  # miss
    assert client.get("/report").text == "report #1"  # hit
    assert cached.calls["report"] == 1
    with cached.app.app_context():
        cached.cache.clear()
    assert client.get("/report").text == "report #2"  # miss again


def test_query_strings_are_cached_apart(cached: Cached, client: DemijohnClient) -> None:
    assert client.get("/search?q=tea").get_json() == {"q": "tea", "run": 1}
    assert client.get("/search?q=cake").get_json() == {"q": "cake", "run": 2}
    assert client.get("/search?q=tea").get_json() == {"q": "tea", "run": 1}
    assert cached.calls["search"] == 2


def test_memoize_caches_per_argument(cached: Cached, client: DemijohnClient) -> None:
    assert client.get("/square/3").text == "9"
    assert client.get("/square/3").text == "9"
    assert client.get("/square/4").text == "16"
    assert cached.calls["square"] == 2


def test_the_cache_is_usable_directly(cached: Cached) -> None:
    with cached.app.app_context():
        cached.cache.set("greeting", "hello", timeout=60)
        assert cached.cache.get("greeting") == "hello"
        assert cached.app.extensions["cache"][cached.cache] is not None
