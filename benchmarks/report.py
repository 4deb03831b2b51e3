"""What every harness prints: the machine header, markdown tables, verdicts."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASS = "✓"
FAIL = "✗"


def progress(message: str) -> None:
    """Say what is running, on stderr, so stdout stays pure markdown."""
    print(message, file=sys.stderr, flush=True)


def cpu_model() -> str:
    """The CPU's model name as the kernel reports it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> str:
    """The checked-out commit, marked ``+dirty`` when tracked files other
    than the reports in ``benchmarks/results`` differ (a report left by the
    previous run says nothing about the code being measured)."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            [
                *("git", "-C", str(ROOT), "status", "--porcelain"),
                *("--untracked-files=no", "--", ".", ":(exclude)benchmarks/results"),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}+dirty" if changes else commit


def version_of(distribution: str) -> str:
    """The installed version of ``distribution``, or ``-`` if missing."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def header(title: str, *, quick: bool) -> str:
    """A markdown heading plus the facts needed to compare two runs."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick (fewer rounds, shorter runs)" if quick else "full"
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    if os.getloadavg()[0] > 0.5:
        load += " (busy: other processes share the cores)"
    lines = [
        f"# {title}",
        "",
        f"- date: {now}; mode: {mode}",
        f"- Python {platform.python_version()} ({platform.python_implementation()})"
        f" on {platform.system()} {platform.machine()}",
        f"- CPU: {cpu_model()}, {os.cpu_count()} cores",
        f"- load average before the run (1, 5, 15 min): {load}",
        f"- demijohn {version_of('demijohn')} at commit {git_revision()}",
        "",
    ]
    return "\n".join(lines)


def versions_line(distributions: Iterable[str]) -> str:
    """``name version`` for each distribution, comma-separated."""
    return ", ".join(f"{name} {version_of(name)}" for name in distributions)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A markdown table with padded columns, readable as plain text too."""
    rows = [list(row) for row in rows]
    widths = [len(cell) for cell in headers]
    for row in rows:
        widths = [max(pair) for pair in zip(widths, map(len, row), strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(headers), separator, *(line(row) for row in rows)])


def verdict(value: str, ok: bool) -> str:
    """``value`` followed by a pass or fail mark for its target."""
    return f"{value} {PASS if ok else FAIL}"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the machine header; ``benchmarks/run`` puts it on top once."""
    args = sys.argv[1:] if argv is None else list(argv)
    print(header("demijohn benchmarks", quick="--quick" in args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
