"""The same application object served by real WSGI and ASGI servers.

Each server runs in a subprocess on a free loopback port, serving
``tests.apps.served:app`` exactly as a user would start it. These tests prove
the things an in-process driver cannot: that uvicorn and hypercorn detect
an ASGI 3 application, that gunicorn and waitress get a WSGI callable, that
lifespan hooks run, and that contexts stay isolated under each concurrency
model (threads, greenlets, asyncio).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = "tests.apps.served:app"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(server: str, port: int) -> list[str]:
    bind = f"127.0.0.1:{port}"
    python = sys.executable
    commands = {
        "gunicorn-sync": [python, "-m", "gunicorn", "-w", "1", "-b", bind, APP],
        "gunicorn-gthread": [
            python, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "8",
            "-b", bind, APP,
        ],
        "gunicorn-gevent": [
            python, "-m", "gunicorn", "-w", "1", "-k", "gevent", "-b", bind, APP,
        ],
        "waitress": [python, "-m", "waitress", f"--listen={bind}", "--threads=8", APP],
        "uvicorn": [
            python, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
            "--lifespan", "on", "--log-level", "warning", APP,
        ],
        "hypercorn": [python, "-m", "hypercorn", "-b", bind, APP],
    }  # fmt: skip
    return commands[server]


class Server:
    """A server subprocess and the loopback port it listens on."""

    def __init__(self, name: str, marker: Path) -> None:
        self.name = name
        self.port = _free_port()
        self.marker = marker
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DEMIJOHN_TEST_MARKER": str(marker),
        }
        self.process = subprocess.Popen(
            _command(name, self.port),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_listening()

    def _wait_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.stop()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not listen within {timeout} s")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is None:
            return ""
        with self.process.stderr:
            return self.process.stderr.read().decode()


WSGI_SERVERS = ["gunicorn-sync", "gunicorn-gthread", "gunicorn-gevent", "waitress"]
ASGI_SERVERS = ["uvicorn", "hypercorn"]


@pytest.fixture(scope="module", params=WSGI_SERVERS + ASGI_SERVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> t.Iterator[Server]:
    marker = tmp_path_factory.mktemp("marker") / "events.txt"
    running = Server(request.param, marker)
    yield running
    running.stop()


def test_plain_get(server: Server) -> None:
    status, headers, body = server.request("GET", "/")
    assert (status, body) == (200, b"hello")
    assert headers["Content-Type"].startswith("text/html")


def test_json_post_round_trip(server: Server) -> None:
    status, _, body = server.request(
        "POST", "/echo", json.dumps({"a": [1, 2]}).encode(),
        {"Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 200
    assert json.loads(body) == {"json": {"a": [1, 2]}, "path": "/echo"}


def test_invalid_json_is_a_400(server: Server) -> None:
    status, _, body = server.request(
        "POST", "/echo", b"{not json", {"Content-Type": "application/json"}
    )
    assert status == 400
    assert b"not valid JSON" in body


def test_body_over_the_limit_is_a_413(server: Server) -> None:
    status, _, _ = server.request(
        "POST", "/echo", b"x" * (1024 * 1024 + 10), {"Content-Type": "application/json"}
    )
    assert status == 413


def test_unknown_url_and_method(server: Server) -> None:
    assert server.request("GET", "/missing")[0] == 404
    status, headers, _ = server.request("DELETE", "/")
    assert status == 405
    assert set(headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_async_view(server: Server) -> None:
    status, _, body = server.request("GET", "/async?token=abc")
    assert status == 200
    assert json.loads(body) == {"token": "abc", "arg": "abc"}


def test_streamed_responses(server: Server) -> None:
    assert server.request("GET", "/stream?p=x")[2] == b"x0;x1;x2;"
    assert server.request("GET", "/astream")[2] == b"a0;a1;a2;"


def test_websocket_route_over_http_is_426(server: Server) -> None:
    status, _, body = server.request("GET", "/ws")
    assert status == 426
    assert b"WebSocket" in body


def test_contexts_are_isolated_under_concurrency(server: Server) -> None:
    """Hundreds of overlapping requests each set ``g`` and the session, wait,
    and read them back: none ever sees another request's values."""

    def fetch(n: int) -> dict[str, t.Any]:
        status, headers, body = server.request("GET", f"/session?token=t{n}")
        assert status == 200
        return {"n": n, **json.loads(body)}

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(fetch, range(300)))
    mixed = [
        r for r in results if not (r["g"] == r["session"] == r["arg"] == f"t{r['n']}")
    ]
    assert mixed == []


@pytest.mark.parametrize("name", ASGI_SERVERS)
def test_lifespan_hooks_run(name: str, tmp_path: Path) -> None:
    marker = tmp_path / "events.txt"
    running = Server(name, marker)
    try:
        assert running.request("GET", "/")[0] == 200
        assert marker.read_text() == "startup\n"
    finally:
        running.stop()
    assert marker.read_text() == "startup\nshutdown\n"


@pytest.mark.parametrize("name", ASGI_SERVERS)
def test_websocket_echo(name: str, tmp_path: Path) -> None:
    from websockets.sync.client import connect

    running = Server(name, tmp_path / "events.txt")
    try:
        with connect(f"ws://127.0.0.1:{running.port}/ws", open_timeout=10) as ws:
            ws.send("ping")
            assert ws.recv(timeout=10) == "echo:ping"
            ws.send(b"bytes")
            assert ws.recv(timeout=10) == "echo:b'bytes'"
    finally:
        running.stop()


async def _get(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_thousand_concurrent_async_requests_on_one_uvicorn_worker(
    tmp_path: Path,
) -> None:
    """1,000 requests to an async view that sleeps 0.5 s complete together
    in well under 5 s, and the server does not grow a thread per request."""
    running = Server("uvicorn", tmp_path / "events.txt")
    try:

        async def burst() -> list[tuple[int, bytes]]:
            return await asyncio.gather(
                *(
                    _get(running.port, f"/async?delay=0.5&token=r{i}")
                    for i in range(1000)
                )
            )

        started = time.monotonic()
        results = asyncio.run(burst())
        elapsed = time.monotonic() - started
        _, _, body = running.request("GET", "/threads")
        threads = json.loads(body)["threads"]
    finally:
        running.stop()
    print(
        f"\n1000 concurrent async requests: {elapsed:.2f} s,"
        f" server threads after: {threads}"
    )
    assert [status for status, _ in results] == [200] * 1000
    assert all(
        json.loads(body)["token"] == f"r{i}" for i, (_, body) in enumerate(results)
    )
    assert elapsed < 5.0
    assert threads < 60
