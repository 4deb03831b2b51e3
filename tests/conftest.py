"""Shared fixtures: a fresh application, its test client, and a check that no
test leaves a context bound."""

from __future__ import annotations

import typing as t

import pytest

from demijohn import Demijohn
from demijohn.globals import _cv_app, _cv_request
from demijohn.testing import ASGIClient, DemijohnClient


@pytest.fixture(autouse=True)
def _no_leaked_contexts() -> t.Iterator[None]:
    """Fail a test that leaves an application or request context bound."""
    yield
    leaked = [
        name
        for name, var in (("app", _cv_app), ("request", _cv_request))
        if var.get(None) is not None
    ]
    assert not leaked, f"test left {leaked} context(s) pushed"


@pytest.fixture
def app() -> Demijohn:
    application = Demijohn("demijohn_test_app", root_path="/nonexistent-root")
    application.config.update(TESTING=True, SECRET_KEY="test key")
    return application


@pytest.fixture(params=["wsgi", "asgi"])
def protocol(request: pytest.FixtureRequest) -> str:
    """The protocol request-handling tests are served through: every test
    using ``client`` or ``make_client`` runs once under each."""
    return t.cast(str, request.param)


def _client_for(
    application: Demijohn, protocol: str, **kwargs: t.Any
) -> DemijohnClient:
    if protocol == "asgi":
        return ASGIClient(application, application.response_class, **kwargs)
    return application.test_client(**kwargs)


@pytest.fixture
def client(app: Demijohn, protocol: str) -> DemijohnClient:
    return _client_for(app, protocol)


@pytest.fixture
def make_client(protocol: str) -> t.Callable[..., DemijohnClient]:
    """Build a test client for an application made inside a test.

    Request-handling tests use this (or ``client``) rather than calling
    ``app.test_client()`` themselves, so they run under every protocol the
    suite is parametrized over.
    """

    def build(application: Demijohn, **kwargs: t.Any) -> DemijohnClient:
        return _client_for(application, protocol, **kwargs)

    return build
