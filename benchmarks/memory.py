"""Startup and memory benchmark: import time, RSS after import, first-request
latency, RSS after many requests and tracemalloc growth, for demijohn and
Flask side by side (and the import cost of the other peers).

Every figure comes from a fresh interpreter running
:mod:`benchmarks.memory_probe`. Timing probes run one at a time,
interleaving the packages round by round; the request-count probes measure
memory, not time, so two run at once, one per core.

Run from the repository root: ``python -m benchmarks.memory [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from benchmarks.report import ROOT, header, progress, table, verdict, versions_line

SUBJECTS = ("demijohn", "flask")
PEERS = ("bottle", "falcon", "starlette", "quart")
LABELS = {
    "demijohn": "demijohn",
    "flask": "Flask",
    "bottle": "Bottle",
    "falcon": "Falcon",
    "starlette": "Starlette",
    "quart": "Quart",
}
#: What an app imports, where the package itself is nearly empty.
APP_MODULES = {"starlette": "starlette.applications"}
#: demijohn's RSS after import may exceed Flask's by this share.
RSS_ALLOWANCE = 0.10
#: Growth below one byte per traced request is noise, not a leak: leaking
#: even one small object per request costs fifty bytes or more.
GROWTH_PER_REQUEST = 1.0
MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """How many probes and requests."""

    startups: int
    total: int
    mark: int
    packages: tuple[str, ...]


@dataclass
class Startup:
    """Every startup probe's figures for one package."""

    import_ms: list[float] = field(default_factory=list)
    rss_before: list[int] = field(default_factory=list)
    rss_import: list[int] = field(default_factory=list)
    first_request_ms: list[float] = field(default_factory=list)
    second_request_ms: list[float] = field(default_factory=list)


def probe(
    args: Sequence[str], *, importtime: bool = False
) -> tuple[dict[str, Any], str]:
    """Run one probe in a fresh interpreter: its JSON result and stderr."""
    flags = ["-X", "importtime"] if importtime else []
    command = [sys.executable, *flags, "-m", "benchmarks.memory_probe", *args]
    # Imports are measured from the bytecode cache, as a deployed app has it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout), done.stderr


def import_time_ms(report: str, module: str) -> float:
    """The cumulative time of ``import module`` from ``-X importtime``'s
    report: its top-level line (which includes its parent packages), not a
    nested import of the same name."""
    pattern = rf"^import time:\s+\d+ \|\s+(\d+) \| {re.escape(module)}$"
    found = re.search(pattern, report, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no import time for {module} in -X importtime output")
    return int(found.group(1)) / 1000


def measure_startups(settings: Settings) -> dict[str, Startup]:
    """``settings.startups`` startup probes per package, interleaved."""
    startups = {package: Startup() for package in settings.packages}
    modules = {name: APP_MODULES.get(name, name) for name in settings.packages}
    for module in modules.values():
        probe(["startup", module])  # writes the bytecode cache; not counted
    for number in range(settings.startups):
        progress(f"memory: startup round {number + 1}/{settings.startups}")
        for package in settings.packages:
            module = modules[package]
            result, report = probe(["startup", module], importtime=True)
            startup = startups[package]
            startup.import_ms.append(import_time_ms(report, module))
            startup.rss_before.append(result["rss_before"])
            startup.rss_import.append(result["rss_import"])
            if "first_request_s" in result:
                startup.first_request_ms.append(result["first_request_s"] * 1000)
                startup.second_request_ms.append(result["second_request_s"] * 1000)
    return startups


def measure_requests(settings: Settings) -> dict[tuple[str, str], dict[str, Any]]:
    """The RSS and tracemalloc probes for demijohn and Flask, two at once."""
    counts = ["--total", str(settings.total), "--mark", str(settings.mark)]
    jobs = [(kind, package) for kind in ("trace", "requests") for package in SUBJECTS]
    progress(f"memory: {settings.total:,} requests, RSS and tracemalloc")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {job: pool.submit(probe, [job[0], job[1], *counts]) for job in jobs}
        return {job: future.result()[0] for job, future in futures.items()}


# -- reporting ---------------------------------------------------------------


def subject_figures(
    startups: dict[str, Startup], loads: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Demijohn's and Flask's figures, by name."""
    median = statistics.median
    return {
        package: {
            "import_ms": median(startups[package].import_ms),
            "rss_import": median(startups[package].rss_import),
            "first_ms": median(startups[package].first_request_ms),
            "second_ms": median(startups[package].second_request_ms),
            "rss_mark": loads[("requests", package)]["rss_mark"],
            "rss_total": loads[("requests", package)]["rss_total"],
            "growth": loads[("trace", package)]["growth"],
        }
        for package in SUBJECTS
    }


def render_subjects(figures: dict[str, dict[str, float]], settings: Settings) -> str:
    """Demijohn against Flask, one measure per row, with the targets."""
    demijohn, flask = figures["demijohn"], figures["flask"]
    rss_ratio = demijohn["rss_import"] / flask["rss_import"]
    limit = (settings.total - settings.mark) * GROWTH_PER_REQUEST

    def row(measure: str, key: str, scale: float, digits: int) -> list[str]:
        cells = [f"{figures[p][key] / scale:.{digits}f}" for p in SUBJECTS]
        return [measure, *cells, "—"]

    growth = [
        verdict(f"{figures[p]['growth'] / 1024:.1f}", figures[p]["growth"] < limit)
        for p in SUBJECTS
    ]
    rss_target = verdict(
        f"demijohn ÷ Flask = {rss_ratio:.2f}, ≤ {1 + RSS_ALLOWANCE:.2f}",
        rss_ratio <= 1 + RSS_ALLOWANCE,
    )
    rss_row = row("RSS after import, MiB", "rss_import", MIB, 1)
    rows = [
        row("import time, ms", "import_ms", 1, 1),
        [*rss_row[:-1], rss_target],
        row("first request, ms", "first_ms", 1, 2),
        row("second request, ms", "second_ms", 1, 2),
        row(f"RSS after {settings.mark:,} requests, MiB", "rss_mark", MIB, 1),
        row(f"RSS after {settings.total:,} requests, MiB", "rss_total", MIB, 1),
        [
            f"tracemalloc growth, requests {settings.mark:,} to {settings.total:,},"
            " KiB",
            *growth,
            f"< {limit / 1024:.0f} KiB (1 byte per request)",
        ],
    ]
    return table(["measure", "demijohn", "Flask", "target"], rows)


def render_imports(startups: dict[str, Startup], settings: Settings) -> str:
    """Every package's import time and RSS."""
    median = statistics.median
    rows = []
    for package in settings.packages:
        startup = startups[package]
        rss = median(startup.rss_import)
        added = rss - median(startup.rss_before)
        module = APP_MODULES.get(package)
        rows.append(
            [
                LABELS[package] + (f" (`{module}`)" if module else ""),
                f"{median(startup.import_ms):.1f}",
                f"{rss / MIB:.1f}",
                f"{added / MIB:.1f}",
            ]
        )
    columns = [
        "framework",
        "import ms",
        "RSS after import, MiB",
        "import adds, MiB",
    ]
    return table(columns, rows)


def render(
    startups: dict[str, Startup],
    loads: dict[tuple[str, str], dict[str, Any]],
    settings: Settings,
) -> str:
    """The markdown report: demijohn against Flask, then import costs."""
    figures = subject_figures(startups, loads)
    limit = (settings.total - settings.mark) * GROWTH_PER_REQUEST
    lines = [
        "## Startup and memory (lower is better)",
        "",
        render_subjects(figures, settings),
        "",
        "### Import cost",
        "",
        render_imports(startups, settings),
        "",
        f"Method: startup figures are medians over {settings.startups} fresh"
        " interpreters per package, packages interleaved, after one uncounted"
        " run that fills the bytecode cache. Import time is"
        " `-X importtime`'s cumulative figure for the package; RSS is read from"
        " /proc after a garbage collection and includes the interpreter itself"
        ' ("import adds" is the difference). First and second request: a'
        " one-route plaintext app in Flask's API, called in-process through"
        " WSGI right after it is built. The request counts use the same app;"
        f" tracemalloc starts at request {settings.mark:,} and reports what is"
        f" still allocated at request {settings.total:,}, after a garbage"
        " collection.",
    ]
    for package in SUBJECTS:
        trace = loads[("trace", package)]
        if trace["growth"] >= limit:
            lines += ["", f"Largest growth for {LABELS[package]}:", ""]
            lines += [f"- `{line}`" for line in trace["top"]]
    lines += ["", f"Versions: {versions_line(settings.packages)}."]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The options; ``--quick`` makes fewer probes and requests."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="3 probes, 5k requests, no peers"
    )
    parser.add_argument("--startups", type=int, help="probes per package (5)")
    parser.add_argument("--total", type=int, help="requests (100000)")
    parser.add_argument("--mark", type=int, help="request where tracing starts")
    parser.add_argument(
        "--no-header", action="store_true", help="omit the machine header"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Probe, then print the markdown report."""
    args = parse_args(argv)
    total = args.total or (5_000 if args.quick else 100_000)
    settings = Settings(
        startups=args.startups or (3 if args.quick else 5),
        total=total,
        mark=args.mark or total // 10,
        packages=SUBJECTS if args.quick else SUBJECTS + PEERS,
    )
    startups = measure_startups(settings)
    loads = measure_requests(settings)
    if not args.no_header:
        print(header("demijohn benchmarks", quick=args.quick))
    print(render(startups, loads, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
