"""The testing guide's tests, run as they are by ``tests/test_docs_examples.py``.

Copy the fixtures into your ``tests/conftest.py``.
"""

from __future__ import annotations

import asyncio
import typing as t

import pytest

from demijohn import Demijohn, request
from demijohn.testing import ASGIClient, DemijohnClient
from demijohn.testing_transport import WebsocketDenied

# -- fixtures ---------------------------------------------------------------


@pytest.fixture
def app() -> Demijohn:
    from factory import create_app

    return create_app({"TESTING": True, "GREETING": "hi"})


@pytest.fixture(params=["wsgi", "asgi"])
def client(app: Demijohn, request: pytest.FixtureRequest) -> DemijohnClient:
    # Every test that uses ``client`` runs twice: through the WSGI
    # interface and through the ASGI one, with the same client API.
    if request.param == "asgi":
        return ASGIClient(app, app.response_class)
    return app.test_client()


# -- requests ---------------------------------------------------------------


def test_index(client: DemijohnClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json == {"greeting": "hi"}


def test_unknown_url(client: DemijohnClient) -> None:
    assert client.get("/nope").status_code == 404


def test_request_context(app: Demijohn) -> None:
    # Code that reads ``request`` outside a view: push a request context.
    with app.test_request_context("/search?q=tea", method="POST"):
        assert request.method == "POST"
        assert request.args["q"] == "tea"


# -- sessions ---------------------------------------------------------------


def test_session() -> None:
    from quickstart import app

    client = app.test_client()
    # Set the session before a request, as if the user had logged in.
    with client.session_transaction() as session:
        session["user"] = "ada"
    assert client.get("/me").json == {"user": "ada"}
    # Or go through the login form, and read the session afterwards.
    client.post("/login", data={"username": "grace"})
    with client.session_transaction() as session:
        assert session["user"] == "grace"


# -- websockets -------------------------------------------------------------


def test_websocket_echo() -> None:
    from websockets_guide import app

    # WebSockets exist only under ASGI; client.websocket always uses it.
    with app.test_client().websocket("/echo") as ws:
        ws.send("hello")
        assert ws.receive() == "hello"


def test_websocket_refused() -> None:
    from websockets_guide import app

    with (
        pytest.raises(WebsocketDenied) as refused,
        app.test_client().websocket("/rooms/tea"),
    ):
        pass
    assert refused.value.status == 403


# -- the command line -------------------------------------------------------


def test_cli_command(app: Demijohn) -> None:
    from extension import Database

    Database(app)
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0
    assert "Initialized" in result.output


# -- startup and shutdown ---------------------------------------------------


def test_serving_runs_startup_and_shutdown() -> None:
    from async_guide import app

    # with app.serving(): runs the before_serving / while_serving code,
    # and the shutdown code at the end of the block.
    with app.serving():
        assert app.test_client().get("/items/tea").json == {
            "key": "tea",
            "value": "TEA",
        }
    assert "pool" not in app.extensions


def test_lifespan_in_async_code() -> None:
    from async_guide import app

    async def scenario() -> t.Any:
        async with app.lifespan():
            return await app.extensions["pool"].fetch("x")

    assert asyncio.run(scenario()) == "X"
