"""HTTP benchmark: the plaintext route served by real servers on loopback
and driven by ``wrk``.

Each (server, app) pair runs in its own server process, all started up
front; then, round by round, ``wrk`` drives each pair in turn for a fixed
time. The report gives the median requests per second and p99 latency
over the rounds, and each app's throughput as a share of the raw app on
the same server.

Run from the repository root: ``python -m benchmarks.http [--quick]``.
"""

from __future__ import annotations

if not __package__:
    # Run as a script, this file's folder would go first on sys.path and
    # this module would be imported in place of the standard library's http.
    raise SystemExit(
        "Run this as `python -m benchmarks.http` from the repository root"
        " (as a script, benchmarks/http.py would shadow the stdlib's http)."
    )

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.report import ROOT, header, progress, table, verdict, versions_line
from benchmarks.scenarios import PLAINTEXT

WRK_HINT = "wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu)."
TARGET_SHARE = 0.90


@dataclass(frozen=True)
class Server:
    """A server and the command that serves ``{app}`` on ``{port}``."""

    key: str
    label: str
    command: tuple[str, ...]

    def argv(self, app: str, port: int) -> list[str]:
        """The command line for ``app`` on ``port``."""
        return [part.format(app=app, port=port) for part in self.command]


_GUNICORN = (sys.executable, "-m", "gunicorn", "--workers", "1")
_GUNICORN_TAIL = ("--bind", "127.0.0.1:{port}", "--log-level", "warning", "{app}")
SERVERS = {
    "gunicorn-sync": Server(
        "gunicorn-sync",
        "gunicorn sync, 1 worker",
        (*_GUNICORN, "--worker-class", "sync", *_GUNICORN_TAIL),
    ),
    "gunicorn-gthread": Server(
        "gunicorn-gthread",
        "gunicorn gthread, 1 worker × 4 threads",
        (*_GUNICORN, "--worker-class", "gthread", "--threads", "4", *_GUNICORN_TAIL),
    ),
    "uvicorn": Server(
        "uvicorn",
        "uvicorn, 1 worker",
        (
            *(sys.executable, "-m", "uvicorn", "--workers", "1"),
            *("--host", "127.0.0.1", "--port", "{port}"),
            *("--log-level", "warning", "--no-access-log", "{app}"),
        ),
    ),
}


@dataclass(frozen=True)
class Pairing:
    """One app on one server. ``role`` is ``raw`` (the floor the others are
    compared with), ``demijohn`` or ``peer``."""

    server: Server
    label: str
    app: str
    role: str


def _pairings() -> list[Pairing]:
    wsgi = [
        ("raw WSGI", "benchmarks.apps.raw_wsgi:app", "raw"),
        ("demijohn", "benchmarks.apps.demijohn_wsgi:app", "demijohn"),
        ("Flask", "benchmarks.apps.flask_app:app", "peer"),
    ]
    asgi = [
        ("raw ASGI", "benchmarks.apps.raw_asgi:app", "raw"),
        ("demijohn (async views)", "benchmarks.apps.demijohn_asgi:app", "demijohn"),
        ("Starlette", "benchmarks.apps.starlette_app:app", "peer"),
    ]
    pairings = [
        Pairing(SERVERS[key], *entry)
        for key in ("gunicorn-sync", "gunicorn-gthread")
        for entry in wsgi
    ]
    pairings += [Pairing(SERVERS["uvicorn"], *entry) for entry in asgi]
    return pairings


@dataclass
class WrkResult:
    """What one ``wrk`` run measured."""

    requests_per_second: float
    p99_ms: float
    errors: int


@dataclass
class Running:
    """A started server process and what was measured against it."""

    pairing: Pairing
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    results: list[WrkResult] = field(default_factory=list)
    failure: str | None = None

    def median(self, attribute: str) -> float:
        """The median of one :class:`WrkResult` attribute over the rounds."""
        return statistics.median(getattr(result, attribute) for result in self.results)


# -- servers -----------------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody is listening on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(pairing: Pairing, log_dir: Path) -> Running:
    """Start ``pairing``'s server in its own process group."""
    port = free_port()
    log = log_dir / f"{pairing.server.key}-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            pairing.server.argv(pairing.app, port),
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Running(pairing, port, process, log)


def get_plaintext(port: int) -> tuple[int, bytes]:
    """GET /plaintext once; the status and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/plaintext")
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_ready(running: Running, timeout: float = 30.0) -> None:
    """Wait until the server answers, then check its answer once: a wrong
    answer marks it failed, so a broken app cannot look fast."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            running.failure = f"server exited: {_log_tail(running.log)}"
            return
        try:
            status, body = get_plaintext(running.port)
        except OSError:
            time.sleep(0.1)
            continue
        if status != 200 or PLAINTEXT.encode() not in body:
            running.failure = f"wrong answer: {status} {body[:100]!r}"
        return
    running.failure = f"no answer within {timeout:.0f} s: {_log_tail(running.log)}"


def _log_tail(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()
    return " / ".join(lines[-3:]) or "(no output)"


def stop(running: Running) -> None:
    """Stop the server's process group (master and workers) and wait."""
    if running.process.poll() is not None:
        return
    os.killpg(running.process.pid, signal.SIGTERM)
    try:
        running.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(running.process.pid, signal.SIGKILL)
        running.process.wait()


# -- wrk -----------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> WrkResult:
    """Read requests/s, the p99 latency and the error counts from ``wrk
    --latency`` output."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if rate is None or p99 is None:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    errors = 0
    sockets = re.search(r"Socket errors: (.*)", output)
    if sockets is not None:
        errors += sum(int(count) for count in re.findall(r"\d+", sockets.group(1)))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx is not None:
        errors += int(non_2xx.group(1))
    return WrkResult(
        float(rate.group(1)), float(p99.group(1)) * _UNITS_MS[p99.group(2)], errors
    )


def run_wrk(port: int, seconds: float, connections: int) -> WrkResult:
    """Drive /plaintext for ``seconds`` with one wrk thread, leaving the
    other core to the server."""
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{max(1, round(seconds))}s",
        "--latency",
        f"http://127.0.0.1:{port}/plaintext",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def drive(running: Running, seconds: float, connections: int) -> WrkResult | None:
    """One wrk run against ``running``; a failure marks it instead of
    ending the whole benchmark."""
    try:
        return run_wrk(running.port, seconds, connections)
    except (subprocess.CalledProcessError, RuntimeError) as error:
        running.failure = f"wrk failed: {error}"
        return None


# -- the run -------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How long and how hard each pairing is driven."""

    rounds: int
    seconds: float
    warmup: float
    connections: int


def measure(pairings: Sequence[Pairing], settings: Settings) -> list[Running]:
    """Start every server, check it, then drive them in turn, round by
    round; servers are always stopped."""
    log_dir = Path(tempfile.mkdtemp(prefix="demijohn-bench-"))
    servers: list[Running] = []
    try:
        for pairing in pairings:
            progress(f"http: starting {pairing.label} on {pairing.server.label}")
            servers.append(start(pairing, log_dir))
        for running in servers:
            wait_ready(running)
        for running in servers:
            if running.failure is None and settings.warmup > 0:
                progress(f"http: warming up {running.pairing.label}")
                drive(running, settings.warmup, settings.connections)
        for number in range(settings.rounds):
            ready = [running for running in servers if running.failure is None]
            shift = number % max(1, len(ready))
            for running in ready[shift:] + ready[:shift]:
                progress(
                    f"http: round {number + 1}/{settings.rounds}:"
                    f" {running.pairing.label} on {running.pairing.server.label}"
                )
                result = drive(running, settings.seconds, settings.connections)
                if result is not None:
                    running.results.append(result)
    finally:
        for running in servers:
            stop(running)
        shutil.rmtree(log_dir, ignore_errors=True)
    return servers


def share_range(results: Sequence[WrkResult], raw: Sequence[WrkResult]) -> str:
    """The lowest and highest share of the raw app's req/s over the rounds,
    each round's result against the raw app's in the same round (they ran
    within seconds of each other): how far one round's share can stray
    from the median's. "—" without a raw app's rounds to pair with."""
    shares = [
        result.requests_per_second / raw_result.requests_per_second
        for result, raw_result in zip(results, raw, strict=False)
        if raw_result.requests_per_second > 0
    ]
    if not shares:
        return "—"
    return f"{min(shares):.0%}–{max(shares):.0%}"


def render(servers: Sequence[Running], settings: Settings) -> str:
    """The markdown report: throughput, latency, shares of raw, targets."""
    raw_rate = {
        running.pairing.server.key: running.median("requests_per_second")
        for running in servers
        if running.pairing.role == "raw" and running.results
    }
    raw_rounds = {
        running.pairing.server.key: running.results
        for running in servers
        if running.pairing.role == "raw"
    }
    rows, targets = [], []
    for running in servers:
        server = running.pairing.server
        if running.failure is not None or not running.results:
            rows.append([server.label, running.pairing.label, "FAIL", "", "", "", ""])
            if running.pairing.role == "demijohn":
                targets.append([server.label, "FAIL"])
            continue
        rate = running.median("requests_per_second")
        share = rate / raw_rate[server.key] if server.key in raw_rate else None
        errors = sum(result.errors for result in running.results)
        rows.append(
            [
                server.label,
                running.pairing.label,
                f"{rate:,.0f}",
                f"{running.median('p99_ms'):.2f}",
                str(errors),
                "—" if share is None else f"{share:.0%}",
                share_range(running.results, raw_rounds.get(server.key, [])),
            ]
        )
        if running.pairing.role == "demijohn" and share is not None:
            targets.append(
                [server.label, verdict(f"{share:.0%}", share >= TARGET_SHARE)]
            )
    columns = ["server", "app", "req/s", "p99 ms", "errors", "÷ raw", "per round"]
    failures = [
        f"- {running.pairing.label} on {running.pairing.server.label}:"
        f" {running.failure}"
        for running in servers
        if running.failure is not None
    ]
    warmup = (
        f"after a {settings.warmup:g} s warm-up" if settings.warmup else "no warm-up"
    )
    parts = [
        "## HTTP: plaintext over loopback (higher req/s is better)",
        "",
        table(columns, rows),
        "",
        f"### Targets (demijohn's req/s ≥ {TARGET_SHARE:.0%} of the raw app's"
        " on the same server)",
        "",
        table(["server", "demijohn ÷ raw"], targets),
        "",
        f"Method: `wrk --threads 1 --connections {settings.connections}"
        f" --latency` on GET /plaintext, {settings.rounds} round(s) of"
        f" {settings.seconds:g} s per app ({warmup}), apps interleaved; median"
        " req/s and median p99 over the rounds; `÷ raw` divides the medians,"
        " `per round` gives the lowest and highest share over the rounds,"
        " each against the raw app's result in the same round, which shows"
        " how much one round can stray. Every server is started up"
        " front and idles while another is driven; each has one worker"
        " process, so wrk and the server under test have a core each."
        " `errors` counts socket errors and non-2xx answers over all rounds."
        " gunicorn's sync worker closes the connection after every response;"
        " gthread and uvicorn keep it open. uvicorn uses uvloop and httptools"
        " when installed, as here.",
        "",
        f"Versions: {versions_line(_distributions())}.",
    ]
    if failures:
        parts += ["", "Not measured:", "", *failures]
    return "\n".join(parts)


def _distributions() -> list[str]:
    return [
        "demijohn",
        "flask",
        "starlette",
        "gunicorn",
        "uvicorn",
        "httptools",
        "uvloop",
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The options; ``--quick`` runs one short round."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="1 round of 1 s, no warm-up"
    )
    parser.add_argument("--rounds", type=int, help="rounds per app (5)")
    parser.add_argument("--seconds", type=float, help="length of a wrk run (4)")
    parser.add_argument("--connections", type=int, default=32, help="(32)")
    parser.add_argument(
        "--no-header", action="store_true", help="omit the machine header"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve, drive and report; exits 2 with a hint when wrk is missing."""
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print(WRK_HINT, file=sys.stderr)
        return 2
    settings = Settings(
        rounds=args.rounds or (1 if args.quick else 5),
        seconds=args.seconds or (1 if args.quick else 4),
        warmup=0 if args.quick else 1,
        connections=args.connections,
    )
    servers = measure(_pairings(), settings)
    if not args.no_header:
        print(header("demijohn benchmarks", quick=args.quick))
    print(render(servers, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
