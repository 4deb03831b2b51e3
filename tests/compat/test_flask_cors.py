"""Flask-Cors, unmodified, on demijohn: preflight and simple requests, and
CORS headers on error responses (the extension wraps the application's
``handle_exception`` and ``handle_user_exception`` on the instance)."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask, abort
from flask_cors import CORS, cross_origin

from demijohn.testing import DemijohnClient

Client = t.Callable[..., DemijohnClient]

ALLOWED = "https://app.example"


@pytest.fixture
def cors_app() -> Flask:
    app = Flask(__name__)
    app.config["TESTING"] = True
    CORS(app, resources={r"/api/*": {"origins": [ALLOWED]}})

    @app.route("/api/items", methods=["GET", "POST"])
    def items() -> list[str]:
        return ["teapot"]

    @app.get("/api/forbidden")
    def forbidden() -> str:
        abort(403)

    @app.get("/api/broken")
    def broken() -> str:
        raise ValueError("bug")

    @app.get("/private")
    def private() -> str:
        return "same origin only"

    @app.get("/open")
    @cross_origin(origins="*")
    def open_view() -> str:
        return "anyone"

    return app


@pytest.fixture
def client(cors_app: Flask, make_client: Client) -> DemijohnClient:
    return make_client(cors_app)


def test_preflight_allows_the_configured_origin(client: DemijohnClient) -> None:
    response = client.options(
        "/api/items",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "Content-Type"


def test_simple_request_from_the_allowed_origin(client: DemijohnClient) -> None:
    response = client.get("/api/items", headers={"Origin": ALLOWED})
    assert response.get_json() == ["teapot"]
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_other_origins_get_no_cors_headers(client: DemijohnClient) -> None:
    response = client.get("/api/items", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_resources_outside_the_pattern_get_no_cors_headers(
    client: DemijohnClient,
) -> None:
    response = client.get("/private", headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_decorator_configures_one_view(client: DemijohnClient) -> None:
    response = client.get("/open", headers={"Origin": "https://any.example"})
    # Any origin is allowed, and echoed back rather than sent as "*".
    assert response.headers["Access-Control-Allow-Origin"] == "https://any.example"
    assert response.headers["Vary"] == "Origin"


def test_http_errors_carry_cors_headers(client: DemijohnClient) -> None:
    response = client.get("/api/forbidden", headers={"Origin": ALLOWED})
    assert response.status_code == 403
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_unhandled_errors_carry_cors_headers(
    cors_app: Flask, client: DemijohnClient
) -> None:
    cors_app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/api/broken", headers={"Origin": ALLOWED})
    assert response.status_code == 500
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
