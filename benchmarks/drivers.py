"""Call an app in-process the way a server would, once to check the answer
or many times to time it.

WSGI apps get a fresh copy of a prebuilt environ and a no-op
``start_response``, and their body is iterated and closed. ASGI apps get a
fresh copy of a prebuilt scope and an in-memory ``receive``/``send`` pair
that behaves like uvicorn's: the whole body in one message, then
``http.disconnect`` once the response is complete.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from time import perf_counter
from typing import Any

from benchmarks.scenarios import Scenario

Clock = Callable[[], float]

#: Headers a browser-like client sends with every request.
CLIENT_HEADERS = (
    ("Host", "localhost:8000"),
    ("User-Agent", "demijohn-benchmarks/1.0"),
    ("Accept", "*/*"),
    ("Accept-Encoding", "gzip, deflate"),
    ("Connection", "keep-alive"),
)


@dataclass
class Reply:
    """What the app answered to one request."""

    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive)."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


def check(scenario: Scenario, reply: Reply) -> str | None:
    """Why ``reply`` is a wrong answer to ``scenario``, or None if right."""
    if reply.status != scenario.status:
        return f"status {reply.status}, expected {scenario.status}"
    for expected in scenario.expect:
        if expected not in reply.body:
            return f"body lacks {expected!r}: {reply.body[:200]!r}"
    if scenario.expect_header is not None:
        name, value = scenario.expect_header
        if reply.header(name) != value:
            return f"header {name} is {reply.header(name)!r}, expected {value!r}"
    if scenario.session and not reply.header("set-cookie"):
        return "no Set-Cookie header: the session was not saved"
    return None


def session_cookie(reply: Reply) -> str:
    """The ``name=value`` pair of the cookie a response set."""
    value = reply.header("set-cookie") or ""
    return value.split(";", 1)[0]


def _request_headers(scenario: Scenario, cookie: str | None) -> list[tuple[str, str]]:
    headers = list(CLIENT_HEADERS)
    if scenario.content_type is not None:
        headers.append(("Content-Type", scenario.content_type))
    if scenario.body:
        headers.append(("Content-Length", str(len(scenario.body))))
    if cookie:
        headers.append(("Cookie", cookie))
    return headers


# -- WSGI ------------------------------------------------------------------


def make_environ(scenario: Scenario, cookie: str | None = None) -> dict[str, Any]:
    """The environ a WSGI server would build for ``scenario``, minus the
    body stream, which every call gets fresh."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scenario.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": scenario.path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in _request_headers(scenario, cookie):
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = f"HTTP_{key}"
        environ[key] = value
    return environ


def _discard_body(data: bytes) -> None:
    """The ``write`` callable; the apps here never use it."""


def _start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
    return _discard_body


class WSGIDriver:
    """Sends one scenario's request to a WSGI app."""

    def __init__(self, app: Any, scenario: Scenario, cookie: str | None = None):
        self.app = app
        self.body = scenario.body
        self.environ = make_environ(scenario, cookie)

    def once(self) -> Reply:
        """One request, keeping everything the app answered."""
        reply = Reply()

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            reply.status = int(status.split(" ", 1)[0])
            reply.headers = list(headers)
            return _discard_body

        environ = dict(self.environ, **{"wsgi.input": BytesIO(self.body)})
        result = self.app(environ, start_response)
        try:
            reply.body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return reply

    def run(self, count: int, clock: Clock = perf_counter) -> float:
        """``count`` requests back to back; returns the seconds taken, as
        measured by ``clock``."""
        app, base, body = self.app, self.environ, self.body
        begin = clock()
        for _ in range(count):
            environ = base.copy()
            environ["wsgi.input"] = BytesIO(body)
            result = app(environ, _start_response)
            for _chunk in result:
                pass
            if hasattr(result, "close"):
                result.close()
        return clock() - begin

    def run_cold(self, count: int, evict: Callable[[], None]) -> float:
        """``count`` requests, each after ``evict()``; returns the seconds
        the requests alone took (wall time, summed per request)."""
        app, base, body = self.app, self.environ, self.body
        total = 0.0
        for _ in range(count):
            environ = base.copy()
            environ["wsgi.input"] = BytesIO(body)
            evict()
            begin = perf_counter()
            result = app(environ, _start_response)
            for _chunk in result:
                pass
            if hasattr(result, "close"):
                result.close()
            total += perf_counter() - begin
        return total


# -- ASGI ------------------------------------------------------------------


def make_scope(scenario: Scenario, cookie: str | None = None) -> dict[str, Any]:
    """The HTTP scope an ASGI server would build for ``scenario``."""
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in _request_headers(scenario, cookie)
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": scenario.method,
        "scheme": "http",
        "path": scenario.path,
        "raw_path": scenario.path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 8000),
    }


class _Exchange:
    """The ``receive``/``send`` pair of one request."""

    __slots__ = ("body", "body_sent", "complete", "waiter", "reply")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.body_sent = False
        self.complete = False
        self.waiter: asyncio.Future[None] | None = None
        self.reply = Reply()

    async def receive(self) -> dict[str, Any]:
        if not self.body_sent:
            self.body_sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        # Like a real server: the client "disconnects" only once the
        # response is out. Quart, for one, stops the handler on disconnect.
        if not self.complete:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.reply.status = message["status"]
            self.reply.headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers", ())
            ]
        elif kind == "http.response.body":
            self.reply.body += message.get("body", b"")
            if not message.get("more_body", False):
                self.complete = True
                if self.waiter is not None and not self.waiter.done():
                    self.waiter.set_result(None)


class ASGIDriver:
    """Sends one scenario's request to an ASGI app on ``loop``."""

    def __init__(
        self,
        app: Any,
        scenario: Scenario,
        loop: asyncio.AbstractEventLoop,
        cookie: str | None = None,
    ):
        self.app = app
        self.body = scenario.body
        self.scope = make_scope(scenario, cookie)
        self.loop = loop

    def once(self) -> Reply:
        """One request, keeping everything the app answered."""
        exchange = _Exchange(self.body)
        self.loop.run_until_complete(
            self.app(dict(self.scope), exchange.receive, exchange.send)
        )
        return exchange.reply

    def run(self, count: int, clock: Clock = perf_counter) -> float:
        """``count`` requests back to back; returns the seconds taken, as
        measured by ``clock``."""
        return self.loop.run_until_complete(self._run(count, clock))

    async def _run(self, count: int, clock: Clock) -> float:
        app, base, body = self.app, self.scope, self.body
        begin = clock()
        for _ in range(count):
            exchange = _Exchange(body)
            await app(base.copy(), exchange.receive, exchange.send)
        return clock() - begin

    def run_cold(self, count: int, evict: Callable[[], None]) -> float:
        """``count`` requests, each after ``evict()``; returns the seconds
        the requests alone took (wall time, summed per request)."""
        return self.loop.run_until_complete(self._run_cold(count, evict))

    async def _run_cold(self, count: int, evict: Callable[[], None]) -> float:
        app, base, body = self.app, self.scope, self.body
        total = 0.0
        for _ in range(count):
            exchange = _Exchange(body)
            scope = base.copy()
            evict()
            begin = perf_counter()
            await app(scope, exchange.receive, exchange.send)
            total += perf_counter() - begin
        return total


Driver = WSGIDriver | ASGIDriver
