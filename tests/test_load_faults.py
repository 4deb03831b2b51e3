"""Load and fault tests against real servers on loopback.

``tests.apps.mixed:app`` runs under gunicorn (sync and gthread workers) and
uvicorn in subprocesses, as a user would start it, and a threaded client
drives it. The tests prove what an in-process driver cannot:

- under concurrent load every request is answered, none fails, none carries
  another request's data, teardown runs once per request, and the workers'
  memory stays flat;
- when a gunicorn worker is killed mid-load, only the request in flight on
  it fails, with a connection error, and gunicorn replaces the worker;
- on ``SIGTERM`` the servers finish requests in flight, run their teardown
  and the ``after_serving`` hooks (ASGI lifespan under uvicorn, gunicorn's
  worker hooks under WSGI), and exit cleanly.

Request counts are modest so the file stays well under two minutes on a
small, busy machine. Run it with ``-s`` to see the figures; see
docs/reliability.md for what they mean.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import typing as t
import urllib.parse
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "tests" / "apps"
APP = "tests.apps.mixed:app"
CONF = str(APPS / "gunicorn_mixed.conf.py")
# Matches graceful_timeout in the gunicorn config and uvicorn's flag below.
GRACEFUL_TIMEOUT = 10.0
KINDS = ("json", "form", "template", "session", "stream", "async")
KIB_PER_MIB = 1024.0

# Each server and the number of worker processes it runs.
SERVERS = {
    "gunicorn-sync": 2,
    "gunicorn-gthread": 1,
    "uvicorn": 1,
}
# The exit status after a complete graceful shutdown on SIGTERM. gunicorn's
# master exits 0. uvicorn, once it has shut down, restores the default
# handler and raises the signal it caught again, so that whoever started it
# sees it ended by SIGTERM: the status is -SIGTERM by design. That the
# shutdown was graceful is shown by the after_serving line it wrote first.
CLEAN_EXIT = {"gunicorn-sync": 0, "gunicorn-gthread": 0, "uvicorn": -signal.SIGTERM}


def _load_mixed_app() -> t.Any:
    # Loaded by path: the test process does not have the repository root on
    # sys.path the way the servers' PYTHONPATH does.
    spec = importlib.util.spec_from_file_location("mixed_app", APPS / "mixed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


MIXED = _load_mixed_app()


# -- processes -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stat(pid: int) -> tuple[str, int] | None:
    """The state letter and parent pid of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces.
    fields = text.rpartition(")")[2].split()
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] not in ("Z", "X"):
                found.add(int(entry.name))
    return found


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def _command(name: str, port: int) -> list[str]:
    python = sys.executable
    bind = f"127.0.0.1:{port}"
    gunicorn = [python, "-m", "gunicorn", "-c", CONF, "-b", bind]
    commands = {
        "gunicorn-sync": [*gunicorn, "-k", "sync", "-w", "2", APP],
        "gunicorn-gthread": [
            *gunicorn, "-k", "gthread", "-w", "1", "--threads", "8", APP,
        ],
        "uvicorn": [
            python, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
            "--lifespan", "on", "--log-level", "warning",
            "--timeout-graceful-shutdown", str(int(GRACEFUL_TIMEOUT)), APP,
        ],
    }  # fmt: skip
    return commands[name]


class Server:
    """A server subprocess serving the mixed app on a free loopback port.

    Its output goes to a log file rather than a pipe, so a chatty server can
    never block on a full pipe, and there is no pipe to leak.
    """

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workers = SERVERS[name]
        self.port = _free_port()
        self.marker = workdir / "marker.txt"
        self.log_path = workdir / "server.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed by close()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DEMIJOHN_TEST_MARKER": str(self.marker),
        }
        try:
            self.process = subprocess.Popen(
                _command(name, self.port),
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        except BaseException:
            self._log.close()
            raise

    # The marker file is the server's own account of what it did.

    def events(self) -> list[list[str]]:
        if not self.marker.exists():
            return []
        return [line.split() for line in self.marker.read_text().splitlines()]

    def pids_of(self, event: str) -> list[int]:
        return [int(e[1]) for e in self.events() if e[0] == event]

    def worker_pids(self) -> set[int]:
        """Processes that ran the startup hooks and are still running."""
        started = self.pids_of("before_serving")
        return {pid for pid in started if _alive(pid)}

    def wait_ready(self, timeout: float = 30.0) -> set[int]:
        """Wait until every worker ran its startup hooks and the port
        answers; return the worker pids."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited early:\n{self.log()}")
            pids = self.worker_pids()
            if len(pids) == self.workers and self._answers():
                return pids
            time.sleep(0.05)
        raise AssertionError(f"{self.name} not ready in {timeout} s:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            return fetch(self.port, "/pid", "ready")[0] == 200
        except OSError:
            return False

    def terminate(self) -> tuple[int, float]:
        """Send SIGTERM; return the exit status and the seconds it took."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=GRACEFUL_TIMEOUT + 10)
        return code, time.monotonic() - started

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def _is_ours(self, pid: int) -> bool:
        # Guards against a recycled pid: only a process still running this
        # server's command line is ours to kill.
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
        return APP.encode() in cmdline

    def close(self) -> None:
        """Stop the server whatever state it is in; safe to call twice."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        # gunicorn workers outlive a killed master only briefly (they watch
        # their parent), but never leave one behind for the next test.
        for pid in self.pids_of("before_serving"):
            if _alive(pid) and self._is_ours(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._log.close()


@pytest.fixture
def start_server(tmp_path: Path) -> t.Iterator[t.Callable[[str], Server]]:
    started: list[Server] = []

    def start(name: str) -> Server:
        workdir = tmp_path / name
        workdir.mkdir()
        server = Server(name, workdir)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


# -- the client ------------------------------------------------------------


def fetch(
    port: int,
    path: str,
    rid: str,
    body: bytes | None = None,
    timeout: float = 15.0,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on its own connection, carrying ``rid`` in a header."""
    headers = {"X-Request-Id": rid, "Connection": "close"}
    method = "GET"
    if body is not None:
        method = "POST"
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def _session_rid(headers: http.client.HTTPMessage) -> t.Any:
    cookie = headers.get("Set-Cookie", "")
    value = cookie.partition(";")[0].partition("=")[2]
    serializer = MIXED.session_interface.get_signing_serializer(MIXED)
    return serializer.loads(value)["rid"]


def carries_only(kind: str, rid: str, headers: t.Any, body: bytes) -> bool:
    """Whether every copy of the request id in a response is ``rid``."""
    if kind == "template":
        return body.decode() == f"<p>{rid}|{rid}|{rid}</p>"
    if kind == "stream":
        return body.decode() == f"{rid};{rid};{rid};"
    data = json.loads(body)
    seen = [data["rid"], data["header"], data["g"]]
    if kind == "async":
        before = data["before"]
        seen += [before["rid"], before["header"], before["g"]]
    if kind == "session":
        seen += [data["session"], _session_rid(headers)]
    return all(value == rid for value in seen)


@dataclass
class Outcome:
    kind: str
    rid: str
    started: float
    ended: float = 0.0
    status: int = 0
    error: BaseException | None = None
    crosstalk: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200 and not self.crosstalk


def request_once(port: int, kind: str, rid: str, **args: str) -> Outcome:
    """Send one request to the endpoint ``kind``, with the query ``args``,
    and record how it went, whether the server answered or not."""
    outcome = Outcome(kind, rid, time.monotonic())
    query = urllib.parse.urlencode({"rid": rid, **args})
    try:
        if kind == "form":
            payload = urllib.parse.urlencode({"rid": rid, "payload": "x" * 512})
            status, headers, body = fetch(port, "/form", rid, payload.encode())
        else:
            status, headers, body = fetch(port, f"/{kind}?{query}", rid)
        outcome.status = status
        if status == 200:
            outcome.crosstalk = not carries_only(kind, rid, headers, body)
    except Exception as exc:
        outcome.error = exc
    outcome.ended = time.monotonic()
    return outcome


@dataclass
class Load:
    """A fixed number of requests spread evenly over the endpoints, sent by
    ``concurrency`` threads; ``outcomes`` fills in as they complete."""

    port: int
    total: int
    concurrency: int
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    outcomes: list[Outcome] = field(default_factory=list)
    elapsed: float = 0.0

    def run(self) -> Load:
        plan = [(KINDS[i % len(KINDS)], f"{self.tag}-{i}") for i in range(self.total)]
        random.Random(self.tag).shuffle(plan)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for outcome in pool.map(lambda job: self._one(*job), plan):
                assert outcome is not None
        self.elapsed = time.monotonic() - started
        return self

    def _one(self, kind: str, rid: str) -> Outcome:
        outcome = request_once(self.port, kind, rid)
        self.outcomes.append(outcome)
        return outcome

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None or o.status != 200]

    @property
    def crosstalk(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.crosstalk]

    @property
    def rps(self) -> float:
        return len(self.outcomes) / self.elapsed


def teardown_counts(server: Server) -> Counter[str]:
    return Counter(e[1] for e in server.events() if e[0] == "teardown")


# -- load ------------------------------------------------------------------

TOTAL = 900
CONCURRENCY = 16
RSS_GROWTH_BOUND_KIB = 20 * 1024
SUMMARY: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def print_summary() -> t.Iterator[None]:
    yield
    if SUMMARY:
        print("\n" + "\n".join(SUMMARY))


@pytest.mark.parametrize("name", list(SERVERS))
def test_concurrent_mixed_load(
    name: str, start_server: t.Callable[[str], Server]
) -> None:
    """Every request is answered with its own data, teardown runs once for
    each, and the workers' memory does not grow with the load."""
    server = start_server(name)
    workers = server.wait_ready()
    # Warm up every endpoint first: imports, template compilation and the
    # allocator's first arenas are not what this test is about.
    warmup = Load(server.port, 120, CONCURRENCY).run()
    assert warmup.errors == [] and warmup.crosstalk == []
    rss_before = {pid: _rss_kib(pid) for pid in sorted(workers)}

    load = Load(server.port, TOTAL, CONCURRENCY).run()

    rss_after = {pid: _rss_kib(pid) for pid in sorted(workers)}
    assert server.worker_pids() == workers, "a worker died or was replaced"
    code, _ = server.terminate()
    summary = (
        f"{name:17} {len(load.outcomes)} requests, {len(load.errors)} errors,"
        f" {len(load.crosstalk)} cross-talk, {load.rps:.0f} req/s,"
        f" RSS MiB before {_mib(rss_before)} after {_mib(rss_after)}"
    )
    print("\n" + summary)
    SUMMARY.append(summary)

    assert len(load.outcomes) == TOTAL
    assert [(o.kind, o.status, repr(o.error)) for o in load.errors] == []
    assert [(o.kind, o.rid) for o in load.crosstalk] == []
    torn_down = teardown_counts(server)
    assert [o.rid for o in load.outcomes if torn_down[o.rid] != 1] == []
    for pid in workers:
        assert rss_after[pid] - rss_before[pid] < RSS_GROWTH_BOUND_KIB, summary
    assert code == CLEAN_EXIT[name], server.log()
    assert set(server.pids_of("after_serving")) == workers


def _mib(rss: dict[int, int]) -> str:
    return "/".join(f"{kib / KIB_PER_MIB:.1f}" for kib in rss.values())


# -- a worker killed mid-load ----------------------------------------------


def _wait_for(predicate: t.Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _pid_beside_a_held_worker(server: Server, rid: str) -> tuple[int, int]:
    """Hold one sync worker with a slow request and ask ``/pid`` meanwhile;
    return the held worker's pid and the answering one's. They differ unless
    no other worker accepts, in which case the held one answers after."""
    holder = threading.Thread(
        target=request_once, args=(server.port, "slow", rid), kwargs={"delay": "2"}
    )
    holder.start()
    try:
        _wait_for(
            lambda: any(e[:2] == ["start", rid] for e in server.events()),
            15,
            f"the request {rid} to start",
        )
        [held] = [int(e[2]) for e in server.events() if e[:2] == ["start", rid]]
        status, _, body = fetch(server.port, "/pid", f"{rid}-beside")
    finally:
        holder.join(timeout=30)
    assert status == 200
    return held, json.loads(body)["pid"]


def test_killed_worker_loses_only_its_request_and_is_replaced(
    start_server: t.Callable[[str], Server],
) -> None:
    """SIGKILL a gunicorn sync worker while it serves a slow request in the
    middle of a load: that request, and only that one, fails with a lost
    connection; gunicorn boots a replacement that serves requests."""
    server = start_server("gunicorn-sync")
    workers = server.wait_ready()
    load = Load(server.port, 600, 8)
    driver = threading.Thread(target=load.run)
    victim_result: list[Outcome] = []
    # The victim request: its view writes "start <rid> <pid>" and sleeps, so
    # the test knows which worker holds it, and kills that one mid-request.
    victim_request = threading.Thread(
        target=lambda: victim_result.append(
            request_once(server.port, "slow", "victim-request", delay="10")
        )
    )
    driver.start()
    try:
        _wait_for(lambda: len(load.outcomes) >= 150, 60, "the load to get going")
        victim_request.start()
        _wait_for(
            lambda: any(e[:2] == ["start", "victim-request"] for e in server.events()),
            15,
            "the victim request to start",
        )
        [victim] = [
            int(e[2]) for e in server.events() if e[:2] == ["start", "victim-request"]
        ]
        done_at_kill = len(load.outcomes)
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
    finally:
        driver.join(timeout=120)
        if victim_request.ident is not None:
            victim_request.join(timeout=30)
    assert not driver.is_alive() and not victim_request.is_alive()

    # gunicorn notices the dead worker and boots a replacement, which runs
    # the startup hooks like any worker.
    _wait_for(lambda: len(server.worker_pids()) == 2, 30, "a replacement worker")
    replacement = server.worker_pids() - workers
    assert len(replacement) == 1 and victim not in server.worker_pids()
    assert replacement <= _children(server.process.pid)

    [lost] = victim_result
    print(
        f"\nkilled worker {victim} after {done_at_kill} of {load.total} requests:"
        f" victim request {type(lost.error).__name__},"
        f" {len(load.errors)} load requests failed, replacement worker {replacement}"
    )
    # The request on the killed worker is lost as a connection error, never
    # as a 5xx or someone else's response.
    assert lost.status == 0, "a failure must be a lost connection, not a 5xx"
    assert isinstance(lost.error, ConnectionError | http.client.IncompleteRead)
    # A sync worker holds one request at a time, and the victim held the slow
    # one, so every request of the load succeeds, including those sent while
    # only one worker was left.
    assert len(load.outcomes) == load.total
    assert [(o.kind, o.status, repr(o.error)) for o in load.errors] == []
    assert load.crosstalk == []
    assert sum(o.started > killed_at for o in load.outcomes) > 0

    # The replacement serves requests alongside the surviving worker. Which
    # idle worker wins an accept is up to the kernel (one may win hundreds in
    # a row), so one worker is held busy while the other is asked.
    for attempt in range(5):
        held, answered = _pid_beside_a_held_worker(server, f"after-{attempt}")
        if held != answered:
            break
    assert {held, answered} == (workers - {victim}) | replacement
    assert server.terminate()[0] == 0, server.log()

    # Every answered request was torn down once; the killed worker never
    # ran its shutdown hooks, the survivor and the replacement did.
    torn_down = teardown_counts(server)
    assert [o.rid for o in load.outcomes if torn_down[o.rid] != 1] == []
    assert set(server.pids_of("after_serving")) == (workers - {victim}) | replacement


# -- graceful shutdown -----------------------------------------------------

IN_FLIGHT = {"gunicorn-sync": 2, "gunicorn-gthread": 4, "uvicorn": 4}


@pytest.mark.parametrize("name", list(SERVERS))
def test_sigterm_finishes_requests_in_flight(
    name: str, start_server: t.Callable[[str], Server]
) -> None:
    """SIGTERM while slow requests run: they complete with their own data,
    teardown runs for each, then ``after_serving`` in every worker, and the
    server exits with status 0 within its graceful timeout."""
    server = start_server(name)
    workers = server.wait_ready()
    rids = [f"slow-{i}" for i in range(IN_FLIGHT[name])]
    results: dict[str, tuple[int, bytes] | BaseException] = {}

    def slow(rid: str) -> None:
        try:
            status, _, body = fetch(server.port, f"/slow?rid={rid}&delay=1", rid)
            results[rid] = (status, body)
        except Exception as exc:
            results[rid] = exc

    clients = [threading.Thread(target=slow, args=(rid,)) for rid in rids]
    for client in clients:
        client.start()
    try:
        # Only signal once every slow request is inside its view.
        _wait_for(
            lambda: sum(e[0] == "start" for e in server.events()) == len(rids),
            15,
            "the slow requests to start",
        )
        code, took = server.terminate()
    finally:
        for client in clients:
            client.join(timeout=30)
    print(f"\n{name}: SIGTERM with {len(rids)} in flight, exit {code} in {took:.2f} s")

    assert code == CLEAN_EXIT[name], server.log()
    assert took < GRACEFUL_TIMEOUT
    for rid in rids:
        result = results[rid]
        assert not isinstance(result, BaseException), result
        assert result[0] == 200
        assert json.loads(result[1]) == {"rid": rid, "header": rid, "g": rid}

    events = server.events()
    stopped = {int(e[1]): i for i, e in enumerate(events) if e[0] == "after_serving"}
    assert set(stopped) == workers
    for rid in rids:
        [(line, pid)] = [
            (i, int(e[2])) for i, e in enumerate(events) if e[:2] == ["teardown", rid]
        ]
        assert line < stopped[pid], "after_serving ran before the request finished"
