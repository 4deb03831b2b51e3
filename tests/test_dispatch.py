"""Dispatching between applications under WSGI and ASGI, the Werkzeug
middleware the deployment docs recommend, and the deploy/ recipes served by
real servers."""

from __future__ import annotations

import asyncio
import http.client
import inspect
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import typing as t
from pathlib import Path

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.test import Client, TestResponse

from demijohn import Demijohn, request, url_for
from demijohn.asgi import Message, Receive, Scope, Send
from demijohn.contrib.dispatch import Dispatcher, speaks_asgi, speaks_wsgi
from demijohn.testing_transport import (
    WebsocketSession,
    call_asgi_with_environ,
    run_on_background_loop,
    scope_from_environ,
)

ROOT = Path(__file__).resolve().parent.parent


class ASGITestClient(Client):
    """A Werkzeug client that sends its requests through the ASGI interface
    of the application it wraps."""

    def run_wsgi_app(
        self, environ: dict[str, t.Any], buffered: bool = False
    ) -> tuple[t.Iterable[bytes], str, t.Any]:
        return call_asgi_with_environ(self.application, dict(environ))


@pytest.fixture
def make_dclient(protocol: str) -> t.Callable[[t.Any], Client]:
    """Build a client for a dispatcher, under each protocol in turn."""

    def build(application: t.Any) -> Client:
        if protocol == "asgi":
            return ASGITestClient(application)
        return Client(application)

    return build


def make_app(name: str) -> Demijohn:
    """An app that reports where a request landed and what URLs it builds."""
    app = Demijohn(name, root_path="/nonexistent-root")
    app.config["TESTING"] = True

    @app.get("/")
    def index() -> dict[str, str]:
        return {"app": name, "root": request.script_root, "path": request.path}

    @app.get("/where/<part>")
    def where(part: str) -> dict[str, str]:
        return {
            "app": name,
            "root": request.script_root,
            "path": request.path,
            "url": url_for("where", part="x"),
            "external": url_for("index", _external=True),
        }

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return f"{name}: {request.path}", 404

    return app


def landed(response: TestResponse) -> dict[str, str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return t.cast(dict[str, str], response.json)


# -- path prefixes -------------------------------------------------------------


@pytest.fixture
def site() -> Dispatcher:
    front, api, v2 = make_app("front"), make_app("api"), make_app("v2")
    return Dispatcher(front, {"/api": api, "/api/v2/": v2})


def test_default_app_gets_unmounted_paths(
    make_dclient: t.Callable[[t.Any], Client], site: Dispatcher
) -> None:
    client = make_dclient(site)
    assert landed(client.get("/where/a")) == {
        "app": "front",
        "root": "",
        "path": "/where/a",
        "url": "/where/x",
        "external": "http://localhost/",
    }


def test_mounted_app_sees_prefix_as_script_root(
    make_dclient: t.Callable[[t.Any], Client], site: Dispatcher
) -> None:
    client = make_dclient(site)
    assert landed(client.get("/api/where/a")) == {
        "app": "api",
        "root": "/api",
        "path": "/where/a",
        "url": "/api/where/x",
        "external": "http://localhost/api/",
    }


def test_longest_prefix_wins(
    make_dclient: t.Callable[[t.Any], Client], site: Dispatcher
) -> None:
    client = make_dclient(site)
    data = landed(client.get("/api/v2/where/a"))
    assert (data["app"], data["root"], data["path"]) == ("v2", "/api/v2", "/where/a")


def test_prefix_matches_whole_segments_only(
    make_dclient: t.Callable[[t.Any], Client], site: Dispatcher
) -> None:
    client = make_dclient(site)
    # "/apix" is not under "/api", and "/api/v2x" not under "/api/v2".
    missing = client.get("/apix/where/a")
    assert (missing.status_code, missing.text) == (404, "front: /apix/where/a")
    missing = client.get("/api/v2x/where/a")
    assert (missing.status_code, missing.text) == (404, "api: /v2x/where/a")


def test_bare_prefix_reaches_mounted_root(
    make_dclient: t.Callable[[t.Any], Client], site: Dispatcher
) -> None:
    client = make_dclient(site)
    assert landed(client.get("/api/")) == {"app": "api", "root": "/api", "path": "/"}
    # The mounted app's URL map redirects its empty path to its root.
    redirect = client.get("/api")
    assert redirect.status_code == 308
    assert redirect.headers["Location"] in {"/api/", "http://localhost/api/"}


def test_existing_script_name_is_kept(site: Dispatcher) -> None:
    client = Client(site)
    response = client.get("/api/where/a", environ_overrides={"SCRIPT_NAME": "/site"})
    data = landed(response)
    assert (data["root"], data["url"]) == ("/site/api", "/site/api/where/x")


def test_asgi_root_path_is_extended(site: Dispatcher) -> None:
    """An ASGI server mounted under /site (uvicorn --root-path /site) sends
    the full path and the root path; the mounted app's root is both."""
    scope = scope_from_environ(
        {"PATH_INFO": "/api/where/a", "SCRIPT_NAME": "/site", "SERVER_NAME": "h"}
    )
    data = _asgi_get(site, scope)
    assert (data["root"], data["path"], data["url"]) == (
        "/site/api",
        "/where/a",
        "/site/api/where/x",
    )


def test_asgi_path_without_root_path(site: Dispatcher) -> None:
    """An older server's path without the root path still lands right."""
    scope = scope_from_environ({"PATH_INFO": "/api/where/a", "SERVER_NAME": "h"})
    scope["root_path"] = "/site"
    data = _asgi_get(site, scope)
    assert (data["root"], data["path"]) == ("/site/api", "/where/a")


def _asgi_get(app: t.Any, scope: Scope) -> dict[str, str]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    run_on_background_loop(app(scope, receive, send))
    assert sent[0]["status"] == 200
    return t.cast(dict[str, str], json.loads(b"".join(m["body"] for m in sent[1:])))


def test_non_ascii_prefix(make_dclient: t.Callable[[t.Any], Client]) -> None:
    site = Dispatcher(make_app("front"), {"/caf\u00e9": make_app("cafe")})
    data = landed(make_dclient(site).get("/caf\u00e9/where/a"))
    assert (data["app"], data["root"], data["path"]) == (
        "cafe",
        "/caf\u00e9",
        "/where/a",
    )


@pytest.mark.parametrize("prefix", ["api", "/", "", "//"])
def test_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="start with '/'"):
        Dispatcher(make_app("front"), {prefix: make_app("x")})


# -- hosts -----------------------------------------------------------------------


def test_host_dispatch(make_dclient: t.Callable[[t.Any], Client]) -> None:
    api, docs = make_app("api"), make_app("docs")
    site = Dispatcher(
        make_app("front"),
        {"/docs": docs},
        hosts={"API.example.com": api, "docs.example.com:8443": docs},
    )
    client = make_dclient(site)
    assert landed(client.get("/", base_url="http://api.example.com"))["app"] == "api"
    # The port is ignored unless the host was registered with one.
    on_port = client.get("/where/a", base_url="http://api.example.com:8080")
    assert landed(on_port)["app"] == "api"
    assert landed(client.get("/", base_url="https://docs.example.com:8443")) == {
        "app": "docs",
        "root": "",
        "path": "/",
    }
    other = client.get("/", base_url="http://docs.example.com")
    assert landed(other)["app"] == "front"
    # Other hosts go through the path mounts ...
    data = landed(client.get("/docs/", base_url="http://other.test"))
    assert (data["app"], data["root"]) == ("docs", "/docs")
    # ... but a host's app gets every path, unchanged.
    missing = client.get("/docs/", base_url="http://api.example.com")
    assert (missing.status_code, missing.text) == (404, "api: /docs/")


def test_paths_within_a_host(make_dclient: t.Callable[[t.Any], Client]) -> None:
    api_site = Dispatcher(make_app("api"), {"/v2": make_app("v2")})
    site = Dispatcher(make_app("front"), hosts={"api.example.com": api_site})
    client = make_dclient(site)
    data = landed(client.get("/v2/where/a", base_url="http://api.example.com"))
    assert (data["app"], data["root"], data["url"]) == ("v2", "/v2", "/v2/where/x")


# -- foreign applications ------------------------------------------------------


def wsgi_only(environ: dict[str, t.Any], start_response: t.Any) -> t.Iterable[bytes]:
    body = f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


async def asgi_only(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    body = f"{scope['root_path']}|{scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_plain_wsgi_app_under_wsgi() -> None:
    site = Dispatcher(make_app("front"), {"/legacy": wsgi_only})
    response = Client(site).get("/legacy/page")
    assert response.get_data() == b"/legacy|/page"


def test_plain_wsgi_app_under_asgi_is_refused() -> None:
    site = Dispatcher(make_app("front"), {"/legacy": wsgi_only})
    with pytest.raises(RuntimeError, match="WSGI-only"):
        ASGITestClient(site).get("/legacy/page")
    # The rest of the site still works.
    assert ASGITestClient(site).get("/").status_code == 200


def test_plain_asgi_app_under_asgi() -> None:
    site = Dispatcher(make_app("front"), {"/live": asgi_only})
    response = ASGITestClient(site).get("/live/feed")
    assert response.get_data() == b"/live|/live/feed"


def test_plain_asgi_app_under_wsgi_is_refused() -> None:
    site = Dispatcher(make_app("front"), {"/live": asgi_only})
    with pytest.raises(RuntimeError, match="ASGI-only"):
        Client(site).get("/live/feed")


def test_protocol_detection() -> None:
    app = make_app("a")
    assert speaks_asgi(app) and speaks_wsgi(app)
    assert speaks_asgi(Dispatcher(app)) and speaks_wsgi(Dispatcher(app))
    assert not speaks_asgi(wsgi_only) and speaks_wsgi(wsgi_only)
    assert speaks_asgi(asgi_only) and not speaks_wsgi(asgi_only)


def test_dispatcher_passes_server_probes() -> None:
    site = Dispatcher(make_app("front"))
    # uvicorn and hypercorn pick ASGI 3 from this ...
    assert inspect.iscoroutinefunction(site.__call__)
    # ... and uvicorn's factory probe must get a TypeError.
    with pytest.raises(TypeError, match="app\\(scope, receive, send\\)"):
        site()


def test_websocket_is_routed() -> None:
    api = make_app("api")

    @api.websocket("/echo")
    async def echo() -> None:
        from demijohn import websocket

        await websocket.accept()
        await websocket.send(f"{request.script_root} {request.path}")

    site = Dispatcher(make_app("front"), {"/api": api})
    scope = scope_from_environ(
        {"PATH_INFO": "/api/echo", "SERVER_NAME": "localhost"}, "websocket"
    )
    with WebsocketSession(site, scope) as ws:
        assert ws.receive() == "/api /echo"


# -- lifespan ----------------------------------------------------------------------


class LifespanDriver:
    """Plays the server's side of the lifespan protocol."""

    def __init__(self, app: t.Any) -> None:
        self.app = app
        self.state: dict[str, t.Any] = {}

    async def run(self, events: list[str]) -> list[Message]:
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        for event in events:
            inbox.put_nowait({"type": f"lifespan.{event}"})
        replies: list[Message] = []

        async def send(message: Message) -> None:
            replies.append(message)

        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        await asyncio.wait_for(self.app(scope, inbox.get, send), 5)
        return replies


def recording_app(name: str, log: list[str], fail: str | None = None) -> Demijohn:
    app = make_app(name)

    @app.before_serving
    async def up() -> None:
        if fail == "startup":
            raise LookupError(f"{name} cannot start")
        log.append(f"start {name}")

    @app.after_serving
    def down() -> None:
        log.append(f"stop {name}")
        if fail == "shutdown":
            raise LookupError(f"{name} cannot stop")

    return app


async def no_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        raise RuntimeError("lifespan not supported")  # as the ASGI spec allows


def test_lifespan_reaches_every_asgi_app() -> None:
    log: list[str] = []
    front, api = recording_app("front", log), recording_app("api", log)
    site = Dispatcher(
        front,
        {"/api": api, "/api2": api, "/legacy": wsgi_only, "/plain": no_lifespan},
    )
    replies = run_on_background_loop(LifespanDriver(site).run(["startup", "shutdown"]))
    assert [m["type"] for m in replies] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    # Each app once, started in order and stopped in reverse.
    assert log == ["start front", "start api", "stop api", "stop front"]


def test_lifespan_state_is_shared() -> None:
    async def stateful(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        scope["state"]["pool"] = "ready"
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})

    driver = LifespanDriver(Dispatcher(make_app("front"), {"/s": stateful}))
    run_on_background_loop(driver.run(["startup", "shutdown"]))
    assert driver.state == {"pool": "ready"}


def test_lifespan_startup_failure_stops_started_apps() -> None:
    log: list[str] = []
    site = Dispatcher(
        recording_app("front", log),
        {
            "/api": recording_app("api", log, fail="startup"),
            "/late": recording_app("late", log),
        },
    )
    replies = run_on_background_loop(LifespanDriver(site).run(["startup"]))
    assert len(replies) == 1
    assert replies[0]["type"] == "lifespan.startup.failed"
    assert "startup of api failed" in replies[0]["message"]
    assert "api cannot start" in replies[0]["message"]
    assert log == ["start front", "stop front"]


def test_lifespan_shutdown_failure_still_stops_others() -> None:
    log: list[str] = []
    site = Dispatcher(
        recording_app("front", log), {"/api": recording_app("api", log, "shutdown")}
    )
    replies = run_on_background_loop(LifespanDriver(site).run(["startup", "shutdown"]))
    assert replies[1]["type"] == "lifespan.shutdown.failed"
    assert "shutdown of api failed" in replies[1]["message"]
    assert log == ["start front", "start api", "stop api", "stop front"]


def test_lifespan_error_after_receive_is_a_failure() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        raise OSError("database unreachable")

    site = Dispatcher(make_app("front"), {"/b": broken})
    replies = run_on_background_loop(LifespanDriver(site).run(["startup"]))
    assert replies[0]["type"] == "lifespan.startup.failed"
    assert "database unreachable" in replies[0]["message"]


def test_serving_runs_every_app_for_wsgi() -> None:
    log: list[str] = []
    site = Dispatcher(
        recording_app("front", log),
        {"/api": recording_app("api", log), "/x": wsgi_only},
    )
    with site.serving() as entered:
        assert entered is site
        assert log == ["start front", "start api"]
    assert log == ["start front", "start api", "stop api", "stop front"]


# -- Werkzeug middleware around app.wsgi_app (WSGI only) ------------------------
# These wrap the WSGI entry point, so they apply when a WSGI server serves the
# app; the docs say so and show the ASGI servers' own options.


def test_proxy_fix_trusts_one_proxy() -> None:
    app = make_app("front")

    @app.get("/who")
    def who() -> dict[str, str]:
        return {
            "addr": t.cast(str, request.remote_addr),
            "scheme": request.scheme,
            "host": request.host,
            "url": url_for("index", _external=True),
        }

    app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
        app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1
    )
    headers = {
        "X-Forwarded-For": "203.0.113.9, 198.51.100.2",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "shop.example.com",
        "X-Forwarded-Prefix": "/store",
    }
    data = app.test_client().get("/who", headers=headers).json
    assert data == {
        # Only the last hop is trusted: the address nginx saw.
        "addr": "198.51.100.2",
        "scheme": "https",
        "host": "shop.example.com",
        "url": "https://shop.example.com/store/",
    }
    # Without the headers, the direct connection is what the app sees.
    plain = app.test_client().get("/who").json
    assert plain["addr"] == "127.0.0.1" and plain["scheme"] == "http"


def test_shared_data_serves_files_before_the_app(tmp_path: Path) -> None:
    (tmp_path / "logo.svg").write_text("<svg/>")
    app = make_app("front")
    app.wsgi_app = SharedDataMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, {"/media": str(tmp_path)}
    )
    client = app.test_client()
    # Closing the response closes the file, as a WSGI server does.
    with client.get("/media/logo.svg") as response:
        assert response.get_data() == b"<svg/>"
        assert response.mimetype == "image/svg+xml"
        assert "ETag" in response.headers
    # Missing files and other paths fall through to the app.
    assert client.get("/media/missing.svg").status_code == 404
    assert landed(client.get("/"))["app"] == "front"


# -- real servers ------------------------------------------------------------------

SITE_MODULE = """
import os
from pathlib import Path
from demijohn import Demijohn, request, url_for
from demijohn.contrib.dispatch import Dispatcher

MARKER = Path(os.environ["DISPATCH_MARKER"])


def make(name):
    app = Demijohn(name)

    @app.get("/where")
    def where():
        return {"app": name, "root": request.script_root, "url": url_for("where")}

    @app.before_serving
    def up():
        with MARKER.open("a") as f:
            f.write(f"start {name} {os.getpid()}\\n")

    @app.after_serving
    def down():
        with MARKER.open("a") as f:
            f.write(f"stop {name} {os.getpid()}\\n")

    return app


application = Dispatcher(make("front"), {"/api": make("api")})
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_command(server: str, port: int) -> list[str]:
    python, bind = sys.executable, f"127.0.0.1:{port}"
    target = "site_module:application"
    if server == "uvicorn":
        return [
            python, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
            "--lifespan", "on", "--log-level", "warning", target,
        ]  # fmt: skip
    if server == "hypercorn":
        return [python, "-m", "hypercorn", "-b", bind, target]
    conf = {
        "gunicorn-sync": "gunicorn.conf.py",
        "gunicorn-gthread": "gunicorn-gthread.conf.py",
        "gunicorn-gevent": "gunicorn-gevent.conf.py",
    }[server]
    return [
        python, "-m", "gunicorn", "-c", str(ROOT / "deploy" / conf),
        "-b", bind, "-w", "1", target,
    ]  # fmt: skip


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "server",
    ["uvicorn", "hypercorn", "gunicorn-sync", "gunicorn-gthread", "gunicorn-gevent"],
)
def test_real_server(server: str, tmp_path: Path) -> None:
    """The dispatcher served as ``module:application`` by each real server:
    routing, root paths, and startup/shutdown hooks of both apps (through
    lifespan under ASGI, through deploy/gunicorn*.conf.py's hooks under
    gunicorn)."""
    (tmp_path / "site_module.py").write_text(textwrap.dedent(SITE_MODULE))
    marker = tmp_path / "events.txt"
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "DISPATCH_MARKER": str(marker),
        "DEMIJOHN_ACCESS_LOG": "/dev/null",
        "DEMIJOHN_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen(
        _server_command(server, port),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, "server exited early"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert time.monotonic() < deadline, "server did not listen"
                time.sleep(0.05)
        status, body = _get(port, "/api/where")
        assert status == 200, body
        assert json.loads(body) == {"app": "api", "root": "/api", "url": "/api/where"}
        assert json.loads(_get(port, "/where")[1])["app"] == "front"
        started = marker.read_text().split()
        assert started[0::3] == ["start", "start"]
        assert started[1::3] == ["front", "api"]
    finally:
        process.terminate()
        try:
            _, stderr = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
    events = [line.split()[:2] for line in marker.read_text().splitlines()]
    assert events == [
        ["start", "front"],
        ["start", "api"],
        ["stop", "api"],
        ["stop", "front"],
    ], stderr.decode(errors="replace")
