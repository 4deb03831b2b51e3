"""Server-side sessions in a real Redis server.

A ``redis-server`` started for this module on a free loopback port (no
persistence, in a temporary directory) stores the sessions; every
request-handling test runs under WSGI and ASGI through ``client`` /
``make_client``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import typing as t
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from demijohn import Demijohn, session
from demijohn.contrib.redis_session import (
    RedisSession,
    RedisSessionInterface,
    regenerate,
)
from demijohn.sessions import SecureCookieSession
from demijohn.testing import DemijohnClient


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[str]:
    """Start a throwaway redis-server for the test run and stop it after."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail(
            "redis-server is not installed, and the Redis session tests need a"
            " real server. Install it (Debian: apt-get install -y redis-server);"
            " .ci/run installs it in CI."
        )
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--daemonize",
            "no",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    probe = redis.Redis.from_url(url)
    deadline = time.monotonic() + 15
    try:
        while True:
            try:
                probe.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    output = process.communicate()[0].decode(errors="replace")
                    pytest.fail(f"redis-server did not start:\n{output}")
                time.sleep(0.05)
        yield url
    finally:
        probe.close()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def store(redis_url: str) -> t.Iterator[redis.Redis]:
    """A client of the test server, emptied before each test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def app(app: Demijohn, store: redis.Redis) -> Demijohn:
    """The suite's app with its sessions in the test Redis server."""
    app.session_interface = RedisSessionInterface(store)

    @app.post("/set/<key>/<value>")
    def set_value(key: str, value: str) -> str:
        session[key] = value
        return "ok"

    @app.get("/get/<key>")
    def get_value(key: str) -> str:
        return str(session.get(key))

    @app.get("/dump")
    def dump() -> dict[str, t.Any]:
        assert isinstance(session, RedisSession)
        return {"data": dict(session), "new": session.new}

    @app.post("/permanent")
    def make_permanent() -> str:
        session.permanent = True
        session["user"] = "ada"
        return "ok"

    @app.post("/clear")
    def clear() -> str:
        session.clear()
        return "ok"

    @app.post("/login")
    def login() -> str:
        regenerate()
        session["user"] = "ada"
        return "ok"

    @app.get("/nothing")
    def nothing() -> str:
        return "untouched"

    return app


def _sid(client: DemijohnClient, name: str = "session") -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name!r} cookie"
    sid, _, signature = cookie.value.rpartition(".")
    assert sid and signature
    return sid


# -- storing and reading ---------------------------------------------------


def test_round_trip_across_requests(client: DemijohnClient, store: redis.Redis) -> None:
    assert client.post("/set/colour/blue").text == "ok"
    assert client.post("/set/size/9").text == "ok"
    response = client.get("/dump")
    assert response.json == {"data": {"colour": "blue", "size": "9"}, "new": False}
    sid = _sid(client)
    assert store.keys() == [f"session:{sid}".encode()]
    # The cookie holds the id only; the data is in Redis.
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert "blue" not in cookie.value


def test_tagged_types_round_trip(app: Demijohn, client: DemijohnClient) -> None:
    @app.post("/typed")
    def typed() -> str:
        session["when"] = timedelta(seconds=1).total_seconds()
        session["pair"] = (1, 2)
        session["raw"] = b"\x00\xff"
        return "ok"

    @app.get("/typed")
    def read_typed() -> str:
        return repr((session["pair"], session["raw"]))

    client.post("/typed")
    assert client.get("/typed").text == repr(((1, 2), b"\x00\xff"))


def test_session_id_is_random_and_long(
    make_client: t.Callable[..., DemijohnClient], app: Demijohn
) -> None:
    first, second = make_client(app), make_client(app)
    first.post("/set/a/1")
    second.post("/set/a/1")
    assert _sid(first) != _sid(second)
    # 32 random bytes in URL-safe base64.
    assert len(_sid(first)) == 43


def test_empty_session_writes_nothing(
    client: DemijohnClient, store: redis.Redis
) -> None:
    response = client.get("/get/missing")
    assert response.text == "None"
    assert "Set-Cookie" not in response.headers
    assert response.headers["Vary"] == "Cookie"
    assert store.dbsize() == 0


def test_untouched_session_adds_no_vary(client: DemijohnClient) -> None:
    client.post("/set/a/1")
    response = client.get("/nothing")
    assert "Vary" not in response.headers


def test_two_apps_share_sessions_through_redis(
    make_client: t.Callable[..., DemijohnClient], store: redis.Redis
) -> None:
    def server() -> Demijohn:
        # Each call is a separate app object, as on another machine.
        instance = Demijohn("server", root_path="/nonexistent-root")
        instance.config.update(TESTING=True, SECRET_KEY="shared secret")
        instance.session_interface = RedisSessionInterface(store)

        @instance.route("/count", methods=["POST"])
        def count() -> str:
            session["n"] = session.get("n", 0) + 1
            return str(session["n"])

        return instance

    one, two = make_client(server()), make_client(server())
    assert one.post("/count").text == "1"
    cookie = one.get_cookie("session")
    assert cookie is not None
    two.set_cookie("session", cookie.value)
    assert two.post("/count").text == "2"
    assert one.post("/count").text == "3"


def test_config_url_and_prefix(
    app: Demijohn, make_client: t.Callable[..., DemijohnClient], redis_url: str
) -> None:
    app.session_interface = RedisSessionInterface()
    app.config.update(SESSION_REDIS_URL=redis_url, SESSION_REDIS_PREFIX="app1:")
    client = make_client(app)
    client.post("/set/a/1")
    assert client.get("/get/a").text == "1"
    store = redis.Redis.from_url(redis_url)
    try:
        assert store.exists(f"app1:{_sid(client)}") == 1
    finally:
        store.close()


def test_prefix_argument_overrides_config(
    app: Demijohn, client: DemijohnClient, store: redis.Redis
) -> None:
    app.config["SESSION_REDIS_PREFIX"] = "ignored:"
    app.session_interface = RedisSessionInterface(store, prefix="mine:")
    client.post("/set/a/1")
    assert store.keys() == [f"mine:{_sid(client)}".encode()]


def test_session_transaction_uses_redis(
    client: DemijohnClient, store: redis.Redis
) -> None:
    with client.session_transaction() as sess:
        sess["user"] = "grace"
    assert client.get("/get/user").text == "grace"
    assert store.exists(f"session:{_sid(client)}") == 1


# -- expiry ------------------------------------------------------------------


def test_permanent_session_expires_with_lifetime(
    app: Demijohn, client: DemijohnClient, store: redis.Redis
) -> None:
    app.permanent_session_lifetime = timedelta(seconds=30)
    response = client.post("/permanent")
    ttl = store.ttl(f"session:{_sid(client)}")
    assert 25 <= ttl <= 30
    assert "Expires=" in response.headers["Set-Cookie"]


def test_non_permanent_session_uses_redis_ttl(
    app: Demijohn, client: DemijohnClient, store: redis.Redis
) -> None:
    response = client.post("/set/a/1")
    key = f"session:{_sid(client)}"
    assert 86_390 <= store.ttl(key) <= 86_400  # default: one day
    # A browser-session cookie: no Expires attribute.
    assert "Expires=" not in response.headers["Set-Cookie"]
    app.config["SESSION_REDIS_TTL"] = 120
    client.post("/set/a/2")
    assert 115 <= store.ttl(key) <= 120
    app.config["SESSION_REDIS_TTL"] = timedelta(minutes=5)
    client.post("/set/a/3")
    assert 295 <= store.ttl(key) <= 300


def test_expired_session_is_gone(
    app: Demijohn, client: DemijohnClient, store: redis.Redis
) -> None:
    app.permanent_session_lifetime = timedelta(seconds=1)
    client.post("/permanent")
    assert store.exists(f"session:{_sid(client)}") == 1
    time.sleep(1.3)
    assert client.get("/dump").json == {"data": {}, "new": True}


def test_refresh_each_request_pushes_expiry_forward(
    app: Demijohn, client: DemijohnClient, store: redis.Redis
) -> None:
    app.permanent_session_lifetime = timedelta(seconds=60)
    client.post("/permanent")
    key = f"session:{_sid(client)}"
    store.expire(key, 5)
    response = client.get("/nothing")
    assert 55 <= store.ttl(key) <= 60
    assert "Set-Cookie" in response.headers  # the cookie's expiry moves too


def test_refresh_each_request_off(
    app: Demijohn, client: DemijohnClient, store: redis.Redis
) -> None:
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    app.permanent_session_lifetime = timedelta(seconds=60)
    client.post("/permanent")
    key = f"session:{_sid(client)}"
    store.expire(key, 5)
    response = client.get("/get/user")
    assert response.text == "ada"
    assert store.ttl(key) <= 5
    assert "Set-Cookie" not in response.headers


def test_non_permanent_refresh_resets_ttl_without_cookie(
    app: Demijohn, client: DemijohnClient, store: redis.Redis
) -> None:
    app.config["SESSION_REDIS_TTL"] = 100
    client.post("/set/a/1")
    key = f"session:{_sid(client)}"
    store.expire(key, 5)
    response = client.get("/get/a")
    assert 95 <= store.ttl(key) <= 100
    assert "Set-Cookie" not in response.headers


# -- deletion and regeneration ----------------------------------------------


def test_clearing_deletes_key_and_cookie(
    client: DemijohnClient, store: redis.Redis
) -> None:
    client.post("/set/a/1")
    key = f"session:{_sid(client)}"
    response = client.post("/clear")
    assert store.exists(key) == 0
    cookie_header = response.headers["Set-Cookie"]
    assert cookie_header.startswith("session=;")
    assert "Expires=Thu, 01 Jan 1970" in cookie_header
    assert response.headers["Vary"] == "Cookie"
    assert client.get_cookie("session") is None


def test_regenerate_moves_data_to_new_id(
    client: DemijohnClient, store: redis.Redis
) -> None:
    client.post("/set/cart/3")
    old = _sid(client)
    client.post("/login")
    new = _sid(client)
    assert new != old
    assert store.exists(f"session:{old}") == 0
    assert client.get("/dump").json == {
        "data": {"cart": "3", "user": "ada"},
        "new": False,
    }
    assert store.keys() == [f"session:{new}".encode()]


def test_stolen_id_is_useless_after_regenerate(
    app: Demijohn, make_client: t.Callable[..., DemijohnClient]
) -> None:
    victim = make_client(app)
    victim.post("/set/cart/3")
    attacker = make_client(app)
    planted = victim.get_cookie("session")
    assert planted is not None
    attacker.set_cookie("session", planted.value)
    victim.post("/login")
    assert attacker.get("/dump").json == {"data": {}, "new": True}


def test_regenerate_then_clear_deletes_both_keys(
    app: Demijohn, client: DemijohnClient, store: redis.Redis
) -> None:
    @app.post("/logout")
    def logout() -> str:
        regenerate()
        session.clear()
        return "ok"

    client.post("/set/a/1")
    client.post("/logout")
    assert store.dbsize() == 0
    assert client.get_cookie("session") is None


def test_regenerate_needs_redis_session(
    app: Demijohn, make_client: t.Callable[..., DemijohnClient]
) -> None:
    app.session_interface = Demijohn.session_interface  # back to cookies
    with app.test_request_context(), pytest.raises(TypeError, match="RedisSession"):
        regenerate()


# -- hostile and broken input -------------------------------------------------


def test_tampered_cookie_gives_new_session(
    client: DemijohnClient, store: redis.Redis
) -> None:
    client.post("/set/a/1")
    cookie = client.get_cookie("session")
    assert cookie is not None
    sid, _, signature = cookie.value.rpartition(".")
    forged = ("A" if sid[0] != "A" else "B") + sid[1:]
    client.set_cookie("session", f"{forged}.{signature}")
    assert client.get("/dump").json == {"data": {}, "new": True}
    client.set_cookie("session", "no-signature-at-all")
    assert client.get("/dump").json == {"data": {}, "new": True}
    client.set_cookie("session", "\u00e9t\u00e9.sig")
    assert client.get("/dump").json == {"data": {}, "new": True}
    assert store.exists(f"session:{sid}") == 1  # the real session is intact


def test_cookie_from_other_key_is_rejected(
    app: Demijohn, make_client: t.Callable[..., DemijohnClient]
) -> None:
    client = make_client(app)
    client.post("/set/a/1")
    app.config["SECRET_KEY"] = "a different key"
    assert client.get("/dump").json == {"data": {}, "new": True}


def test_fallback_key_still_accepted(
    app: Demijohn, make_client: t.Callable[..., DemijohnClient]
) -> None:
    client = make_client(app)
    client.post("/set/a/1")
    app.config.update(SECRET_KEY="rotated", SECRET_KEY_FALLBACKS=["test key"])
    assert client.get("/get/a").text == "1"
    # Saving re-signs with the new key, which works without the fallback.
    client.post("/set/a/2")
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/get/a").text == "2"


def test_cookie_session_cookie_is_not_a_session_id(
    app: Demijohn, make_client: t.Callable[..., DemijohnClient]
) -> None:
    cookie_app = Demijohn("cookies", root_path="/nonexistent-root")
    cookie_app.config.update(TESTING=True, SECRET_KEY="test key")

    @cookie_app.post("/set")
    def set_cookie_session() -> str:
        session["a"] = "1"
        return "ok"

    cookie_client = make_client(cookie_app)
    cookie_client.post("/set")
    signed = cookie_client.get_cookie("session")
    assert signed is not None
    client = make_client(app)
    client.set_cookie("session", signed.value)
    assert client.get("/dump").json == {"data": {}, "new": True}


def test_unknown_id_gets_a_fresh_id(
    app: Demijohn, client: DemijohnClient, store: redis.Redis
) -> None:
    client.post("/set/a/1")
    old = _sid(client)
    store.delete(f"session:{old}")
    assert client.get("/dump").json == {"data": {}, "new": True}
    client.post("/set/b/2")
    assert _sid(client) != old


@pytest.mark.parametrize(
    "stored",
    [
        b"\xff\xfe not utf-8",
        b"not json",
        b"[1, 2, 3]",
        b'"a string"',
        b'{" b": "!!! not base64"}',
        b'{" t": 5}',
        b'{" d": "not a date"}',
        b'{" u": "not a uuid"}',
        b"[" * 100_000,
    ],
)
def test_garbage_in_redis_gives_new_session(
    client: DemijohnClient, store: redis.Redis, stored: bytes
) -> None:
    client.post("/set/a/1")
    store.set(f"session:{_sid(client)}", stored)
    assert client.get("/dump").json == {"data": {}, "new": True}


def test_no_secret_key_gives_null_session(
    app: Demijohn, client: DemijohnClient, store: redis.Redis
) -> None:
    app.config["SECRET_KEY"] = None
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/get/a")
    assert response.text == "None"  # reading works and finds nothing
    response = client.post("/set/a/1")
    assert response.status_code == 500
    assert store.dbsize() == 0
    assert "Set-Cookie" not in response.headers


def test_no_secret_key_error_explains(app: Demijohn, client: DemijohnClient) -> None:
    app.config["SECRET_KEY"] = None
    with pytest.raises(RuntimeError, match="no secret key was set"):
        client.post("/set/a/1")


def test_unreachable_redis_is_an_error(app: Demijohn, client: DemijohnClient) -> None:
    # Losing sessions silently would log everyone out without a trace.
    app.session_interface = RedisSessionInterface()
    app.config["SESSION_REDIS_URL"] = f"redis://127.0.0.1:{_free_port()}/0"
    with pytest.raises(redis.ConnectionError):
        client.post("/set/a/1")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post("/set/a/1").status_code == 500


# -- cookie settings ------------------------------------------------------------


def test_cookie_settings_are_applied(app: Demijohn, client: DemijohnClient) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.test",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
    )
    header = client.post("/set/a/1").headers["Set-Cookie"]
    name, _, rest = header.partition("=")
    attributes = {part.strip().split("=")[0] for part in rest.split(";")[1:]}
    assert name == "sid"
    assert "Domain=example.test" in header
    assert "Path=/app" in header
    assert "HttpOnly" not in attributes
    assert {"Secure", "SameSite", "Partitioned"} <= attributes
    assert "SameSite=Strict" in header


def test_deleted_cookie_keeps_its_attributes(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.config.update(SESSION_COOKIE_PATH="/", SESSION_COOKIE_DOMAIN="localhost.test")
    client.post("/set/a/1", base_url="http://localhost.test")
    response = client.post("/clear", base_url="http://localhost.test")
    header = response.headers["Set-Cookie"]
    assert "Domain=localhost.test" in header
    assert "Path=/" in header


# -- without the redis package ------------------------------------------------


def test_module_imports_without_redis() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "from demijohn import Demijohn\n"
        "from demijohn.contrib.redis_session import RedisSessionInterface\n"
        "iface = RedisSessionInterface()\n"
        "app = Demijohn('x')\n"
        "try:\n"
        "    iface.get_redis(app)\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    )
    assert "pip install 'demijohn[redis]'" in result.stdout


def test_save_refuses_foreign_session(app: Demijohn) -> None:
    interface = RedisSessionInterface()
    foreign = SecureCookieSession({"a": 1})
    with pytest.raises(TypeError, match="only the sessions it opened"):
        interface.save_session(app, foreign, app.response_class())
