"""Measure how throughput grows with the number of app processes.

``measure`` serves ``session_app.py`` with 1, then 2 (or the counts given)
gunicorn processes (sync worker, one each, each on its own loopback port),
puts nginx in front of them as a load balancer, keeps the sessions in a
private redis-server, and drives nginx with wrk for a fixed time. Every
request reads and writes its visitor's session. It writes the results as
JSON. ``plot`` turns that JSON into a PNG (it needs matplotlib, which
``run`` installs in a separate virtualenv).

Everything runs on this machine, on 127.0.0.1, in a temporary directory:
no system configuration is read or changed, and every process started here
is stopped at the end. Use ``benchmarks/scaling/run``, which does both steps.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
LUA_SCRIPT = HERE / "session.lua"
SECRET_KEY = "scaling benchmark key"

NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

    upstream app {{
{servers}
    }}

    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


@dataclass
class Run:
    """One measurement: the numbers wrk reported and where the CPU went."""

    processes: int
    requests_per_sec: float
    requests: int
    seconds: float
    latency_ms: dict[str, float]
    errors: dict[str, int]
    cpu_seconds: dict[str, float] = field(default_factory=dict)


def free_port() -> int:
    """Return a TCP port nobody listens on now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    """Wait until ``port`` accepts connections, or fail if ``process`` died."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within 20 s")


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop one process this script started, and wait for it."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def descendants(pid: int) -> list[int]:
    """Return ``pid`` and all its descendants, from ``/proc``."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def cpu_seconds(pids: t.Iterable[int]) -> float:
    """Return the user + system CPU time used so far by ``pids``."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def get(port: int, cookie: str | None = None) -> tuple[dict[str, int], str | None]:
    """GET / through nginx; return the JSON body and the session cookie."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/", headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET / answered {response.status}: {body[:200]!r}")
        set_cookie = response.getheader("Set-Cookie")
        new_cookie = set_cookie.split(";", 1)[0] if set_cookie else cookie
        return json.loads(body), new_cookie
    finally:
        conn.close()


def check_sessions_are_shared(port: int, processes: int) -> None:
    """Send one visitor's requests in a row and check that every process
    served some and the visit count never skipped: the session followed the
    visitor from process to process through Redis."""
    body, cookie = get(port)
    pids = {body["pid"]}
    for expected in range(2, 4 * processes + 2):
        body, cookie = get(port, cookie)
        if body["visits"] != expected:
            raise RuntimeError(f"session lost: {body['visits']} visits, not {expected}")
        pids.add(body["pid"])
    if len(pids) != processes:
        raise RuntimeError(f"{len(pids)} of {processes} processes served requests")


def make_visitors(port: int, count: int) -> list[str]:
    """Open ``count`` sessions and return their cookies."""
    cookies = []
    for _ in range(count):
        _, cookie = get(port)
        if cookie is None:
            raise RuntimeError("the app set no session cookie")
        cookies.append(cookie)
    return cookies


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict[str, t.Any]:
    """Pull throughput, latency percentiles and errors out of wrk's report."""
    requests, seconds = re.search(r"(\d+) requests in ([\d.]+)s", output).groups()  # type: ignore[union-attr]
    latency = {
        f"p{pct}": _ms(value)
        for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", output, re.M)
    }
    latency["avg"] = _ms(re.search(r"Latency\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    errors = {"non_2xx_3xx": 0, "socket": 0}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors["non_2xx_3xx"] = int(non_2xx.group(1))
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        errors["socket"] = sum(int(n) for n in re.findall(r"\d+", socket_errors[1]))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return {
        "requests_per_sec": rps,
        "requests": int(requests),
        "seconds": float(seconds),
        "latency_ms": latency,
        "errors": errors,
    }


class Stack:
    """redis-server, N gunicorn processes and nginx, in one temp folder."""

    def __init__(self, workdir: Path, redis_port: int) -> None:
        self.workdir = workdir
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.apps: list[subprocess.Popen[bytes]] = []
        self.nginx: subprocess.Popen[bytes] | None = None
        self.nginx_port = 0

    def start_apps(self, count: int) -> None:
        """Start ``count`` gunicorn processes, one sync worker each."""
        env = {
            **os.environ,
            "BENCH_SECRET_KEY": SECRET_KEY,
            "SESSION_REDIS_URL": self.redis_url,
        }
        self.ports = [free_port() for _ in range(count)]
        for port in self.ports:
            command = [
                sys.executable, "-m", "gunicorn", "--workers", "1",
                "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
                "--pythonpath", str(HERE), "--log-level", "warning",
                "session_app:app",
            ]  # fmt: skip
            process = subprocess.Popen(command, env=env, cwd=self.workdir)
            self.apps.append(process)
            wait_listening(port, process, f"gunicorn on port {port}")

    def start_nginx(self) -> None:
        """Start nginx in the foreground with an upstream of the apps."""
        prefix = self.workdir / "nginx"
        prefix.mkdir(exist_ok=True)
        self.nginx_port = free_port()
        servers = "\n".join(f"        server 127.0.0.1:{p};" for p in self.ports)
        conf = prefix / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(prefix=prefix, servers=servers, port=self.nginx_port)
        )
        self.nginx = subprocess.Popen(
            ["nginx", "-p", str(prefix), "-c", str(conf)], cwd=self.workdir
        )
        wait_listening(self.nginx_port, self.nginx, "nginx")

    def pids(self) -> dict[str, list[int]]:
        """The process ids of each component, workers included."""
        assert self.nginx is not None
        return {
            "app processes": [p for a in self.apps for p in descendants(a.pid)],
            "nginx": descendants(self.nginx.pid),
        }

    def stop(self) -> None:
        """Stop nginx, then the apps."""
        if self.nginx is not None:
            stop(self.nginx, signal.SIGQUIT)  # finish requests, then exit
            self.nginx = None
        for process in self.apps:
            stop(process)
        self.apps.clear()


def run_wrk(
    port: int, cookies: list[str], args: argparse.Namespace, duration: int
) -> tuple[str, float]:
    """Run wrk against nginx; return its report and its CPU seconds."""
    command = [
        "wrk", f"--threads={args.threads}", f"--connections={args.connections}",
        f"--duration={duration:g}s", "--latency", "--timeout=10s",
        f"--script={LUA_SCRIPT}", f"http://127.0.0.1:{port}/", "--", *cookies,
    ]  # fmt: skip
    # wrk is the only child process that ends during the run, so the change
    # in the children's resource usage is exactly what it used.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{result.stdout}")
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result.stdout, used


def measure_one(
    count: int, redis_pid: int, redis_port: int, args: argparse.Namespace
) -> Run:
    """Measure the stack with ``count`` app processes."""
    with tempfile.TemporaryDirectory(prefix="demijohn-scaling-") as tmp:
        stack = Stack(Path(tmp), redis_port)
        try:
            stack.start_apps(count)
            stack.start_nginx()
            check_sessions_are_shared(stack.nginx_port, count)
            cookies = make_visitors(stack.nginx_port, args.visitors)
            run_wrk(stack.nginx_port, cookies, args, args.warmup)
            pids = {**stack.pids(), "redis": [redis_pid]}
            before = {name: cpu_seconds(p) for name, p in pids.items()}
            output, wrk_cpu = run_wrk(stack.nginx_port, cookies, args, args.duration)
            used = {name: cpu_seconds(p) - before[name] for name, p in pids.items()}
            used["wrk"] = wrk_cpu
        finally:
            stack.stop()
    print(output)
    return Run(processes=count, cpu_seconds=used, **parse_wrk(output))


def machine() -> dict[str, t.Any]:
    """Describe the machine and the software versions measured."""

    def version(command: list[str]) -> str:
        result = subprocess.run(command, capture_output=True, text=True)
        text = (result.stdout + result.stderr).strip().splitlines()
        return text[0] if text else "?"

    model = "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.*)", cpuinfo.read_text())
        model = found.group(1) if found else model
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "load_average_before": os.getloadavg(),
        "python": platform.python_version(),
        "gunicorn": version([sys.executable, "-m", "gunicorn", "--version"]),
        "nginx": version(["nginx", "-v"]),
        "redis": version(["redis-server", "--version"]),
        "wrk": version(["wrk", "--version"]),
    }


def measure(args: argparse.Namespace) -> None:
    """The ``measure`` command: run every process count, write the JSON."""
    missing = [
        tool for tool in ("redis-server", "nginx", "wrk") if not shutil.which(tool)
    ]
    if missing:
        sys.exit(
            f"missing: {', '.join(missing)} (Debian: apt-get install -y"
            " redis-server nginx wrk)"
        )
    info = machine()
    redis_port = free_port()
    with tempfile.TemporaryDirectory(prefix="demijohn-redis-") as redis_dir:
        redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                redis_dir,
                "--loglevel",
                "warning",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_listening(redis_port, redis, "redis-server")
            # Rounds alternate the process counts, so that a change in what
            # else the machine is doing hits every count alike.
            runs = []
            for round_number in range(1, args.rounds + 1):
                for count in args.processes:
                    print(f"--- round {round_number}, {count} process(es)")
                    runs.append(measure_one(count, redis.pid, redis_port, args))
        finally:
            stop(redis)
    results = {
        "machine": info,
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "visitors": args.visitors,
            "rounds": args.rounds,
            "server": "gunicorn, sync worker class, 1 worker per process",
            "balancer": "nginx, 1 worker process, round robin",
        },
        "runs": [asdict(run) for run in runs],
    }
    results["summary"] = summarize(results["runs"])
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    report(results)


def summarize(runs: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """The median of each process count's rounds, and its scaling factor
    against the first count's median, per process."""
    by_count: dict[int, list[dict[str, t.Any]]] = {}
    for run in runs:
        by_count.setdefault(run["processes"], []).append(run)
    summary = []
    for count, group in by_count.items():
        summary.append(
            {
                "processes": count,
                "median_requests_per_sec": statistics.median(
                    run["requests_per_sec"] for run in group
                ),
                "all_requests_per_sec": [run["requests_per_sec"] for run in group],
                "median_app_cpu_ms_per_request": statistics.median(
                    app_ms_per_request(run) for run in group
                ),
            }
        )
    first = summary[0]
    per_process = first["median_requests_per_sec"] / first["processes"]
    for row in summary:
        row["scaling_factor"] = row["median_requests_per_sec"] / per_process
    return summary


def report(results: dict[str, t.Any]) -> None:
    """Print every run, then the medians and the scaling factor."""
    runs = results["runs"]
    base = runs[0]["requests_per_sec"] / runs[0]["processes"]
    info = results["machine"]
    print(f"\n{info['cores']} cores ({info['cpu']}); load before: ", end="")
    print(", ".join(f"{x:.2f}" for x in info["load_average_before"]))
    seconds = results["settings"]["duration_s"]
    print(
        "processes  req/s     x1-proc  p50 ms  p99 ms  errors  app CPU ms/req"
        f"  CPU s in {seconds:g} s"
    )
    for run in runs:
        cpu = ", ".join(f"{k} {v:.1f}" for k, v in run["cpu_seconds"].items())
        errors = sum(run["errors"].values())
        print(
            f"{run['processes']:>9}  {run['requests_per_sec']:>8.0f}  "
            f"{run['requests_per_sec'] / base:>7.2f}  "
            f"{run['latency_ms']['p50']:>6.1f}  {run['latency_ms']['p99']:>6.1f}  "
            f"{errors:>6}  {app_ms_per_request(run):>14.2f}  {cpu}"
        )
    print("\nmedians over the rounds:")
    for row in results["summary"]:
        print(
            f"  {row['processes']} process(es): "
            f"{row['median_requests_per_sec']:.0f} req/s"
            f" (runs: {', '.join(f'{x:.0f}' for x in row['all_requests_per_sec'])}),"
            f" scaling factor {row['scaling_factor']:.2f},"
            f" app CPU {row['median_app_cpu_ms_per_request']:.2f} ms/request"
        )


def app_ms_per_request(run: dict[str, t.Any]) -> float:
    """CPU milliseconds the app processes spent per request: what one
    request costs, whatever share of the cores the processes got."""
    return 1000 * run["cpu_seconds"]["app processes"] / run["requests"]


def plot(args: argparse.Namespace) -> None:
    """The ``plot`` command: draw the JSON results as a PNG, throughput on
    the left and the CPU the app processes got on the right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = json.loads(args.results.read_text())
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(9.6, 4.4), dpi=120, width_ratios=[3, 2]
    )
    _plot_throughput(left, results)
    _plot_cores(right, results)
    info = results["machine"]
    fig.suptitle(
        "Session read + write per request: wrk -> nginx -> gunicorn (sync) -> Redis"
        f"\n{info['cores']} cores, shared by wrk, nginx, Redis, the app processes"
        f" and other jobs (load average {info['load_average_before'][0]:.1f}"
        " before the run)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(args.png)
    print(f"wrote {args.png}")


def _plot_throughput(ax: t.Any, results: dict[str, t.Any]) -> None:
    """Median throughput per process count, each run, and linear scaling."""
    summary, runs = results["summary"], results["runs"]
    labels = [str(row["processes"]) for row in summary]
    rps = [row["median_requests_per_sec"] for row in summary]
    per_process = rps[0] / summary[0]["processes"]
    bars = ax.bar(
        labels,
        rps,
        color="#4a7ab5",
        width=0.55,
        label=f"median of {results['settings']['rounds']} runs",
    )
    ax.scatter(
        [str(run["processes"]) for run in runs],
        [run["requests_per_sec"] for run in runs],
        color="#222222",
        marker="_",
        s=300,
        zorder=3,
        label="each run",
    )
    ax.plot(
        labels,
        [per_process * row["processes"] for row in summary],
        color="#c0504d",
        linestyle="--",
        marker="o",
        label="linear scaling from 1 process",
    )
    for bar, value in zip(bars, rps, strict=True):
        # At the foot of the bar, clear of the run markers near its top.
        ax.annotate(
            f"{value:,.0f} req/s\nx{value / per_process:.2f}",
            (bar.get_x() + bar.get_width() / 2, 0),
            ha="center",
            va="bottom",
            fontsize=9,
            color="white",
            fontweight="bold",
            xytext=(0, 6),
            textcoords="offset points",
        )
    highest = max(run["requests_per_sec"] for run in runs)
    ax.set_ylim(0, max(highest, per_process * len(labels)) * 1.3)
    ax.set_xlabel("app processes (1 sync worker each)")
    ax.set_ylabel("requests per second")
    ax.legend(loc="upper left", fontsize=8)


def _plot_cores(ax: t.Any, results: dict[str, t.Any]) -> None:
    """How many cores the app processes used, against how many they could."""
    seconds = results["settings"]["duration_s"]
    by_count: dict[int, list[float]] = {}
    for run in results["runs"]:
        used = run["cpu_seconds"]["app processes"] / seconds
        by_count.setdefault(run["processes"], []).append(used)
    labels = [str(count) for count in by_count]
    ax.bar(
        labels,
        [statistics.median(values) for values in by_count.values()],
        color="#8aa05a",
        width=0.55,
        label="cores used (median)",
    )
    ax.plot(
        labels,
        list(by_count),
        color="#c0504d",
        linestyle="--",
        marker="o",
        label="cores they could use",
    )
    ax.set_ylim(0, max(by_count) * 1.4)
    ax.set_xlabel("app processes")
    ax.set_ylabel("CPU cores used by the app processes")
    ax.legend(loc="upper left", fontsize=8)


def main() -> None:
    """Parse the command line and run ``measure`` or ``plot``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("measure", help="run the benchmark, write JSON")
    run.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    run.add_argument("--duration", type=int, default=10, help="seconds")
    run.add_argument("--warmup", type=int, default=2, help="seconds")
    run.add_argument("--connections", type=int, default=32)
    run.add_argument("--threads", type=int, default=1, help="wrk threads")
    run.add_argument("--visitors", type=int, default=32, help="sessions")
    run.add_argument("--rounds", type=int, default=5, help="runs of each count")
    run.add_argument("--out", type=Path, default=HERE / "results.json")
    draw = commands.add_parser("plot", help="draw the JSON results as a PNG")
    draw.add_argument("results", type=Path)
    draw.add_argument("png", type=Path)
    args = parser.parse_args()
    if args.command == "measure":
        measure(args)
    else:
        plot(args)


if __name__ == "__main__":
    main()
