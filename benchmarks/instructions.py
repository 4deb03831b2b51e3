"""Instructions per request, counted by valgrind: a deterministic companion
to the in-process timings.

On a shared machine the in-process timings move by 10–30% from one run to
the next, enough to flip a ratio that sits near a target. The number of
machine instructions the interpreter executes for a request does not depend
on what else the machine is doing, so this part shows the ordering of the
frameworks without that noise.

Each framework runs in fresh interpreters under ``valgrind
--tool=cachegrind``, all of which build the app and check and warm it up on
every scenario the same way. For each scenario, two of them then make
``--requests`` and twice as many requests of it; the difference of their
counts, divided by ``--requests``, is the cost of one request, with
start-up, imports, the app's construction and the interpreter's shut-down
cancelled out. (Counting against an interpreter that makes no request at
all does not cancel them: the shut-down of one that served requests can
cost millions of instructions more or less, depending even on whether the
modules were loaded from fresh bytecode caches, which skewed a count at 200
requests by a quarter.) ``PYTHONHASHSEED`` is fixed so that every
interpreter hashes alike.

What this does not see is how fast the instructions run: code that touches
more memory, or branches less predictably, takes longer per instruction.
The timings stay the measure the targets are judged by; this table is read
next to them.

Run from the repository root: ``python -m benchmarks.instructions``; it
needs ``valgrind`` (Debian package ``valgrind``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from benchmarks.drivers import check
from benchmarks.frameworks import FRAMEWORKS, FRAMEWORKS_BY_KEY, Framework
from benchmarks.inprocess import TARGETS, Target, make_driver, scenario_app
from benchmarks.report import header, progress, table, verdict
from benchmarks.scenarios import SCENARIOS, SCENARIOS_BY_KEY, Scenario

#: Requests every probe makes before the counted ones: the answer check and
#: the warm-up (templates compiled, regexes built, lazy imports done).
WARM_UP = 20

#: cachegrind's count of executed instructions, ``==pid== I   refs: 1,234,567``.
_COLLECTED = re.compile(r"I\s+refs:\s*([\d,]+)")


# -- the probe: one interpreter, one framework, one scenario -----------------


def probe(framework_key: str, scenario_key: str, requests: int) -> None:
    """Build ``framework_key``'s app, check and warm it on every scenario,
    then make ``requests`` requests of ``scenario_key`` (run under valgrind
    by :func:`measure`)."""
    framework = FRAMEWORKS_BY_KEY[framework_key]
    module = framework.load()
    loop = asyncio.new_event_loop()
    drivers = {}
    for scenario in SCENARIOS:
        if scenario.key in module.UNSUPPORTED:
            continue
        driver = make_driver(framework, scenario_app(module, scenario), scenario, loop)
        problem = check(scenario, driver.once())
        if problem is not None:
            raise SystemExit(f"{framework.label}, {scenario.title}: {problem}")
        driver.run(WARM_UP)
        drivers[scenario.key] = driver
    drivers[scenario_key].run(requests)


# -- the parent: two probes per cell under valgrind ---------------------------


def _instructions(framework: Framework, scenario_key: str, requests: int) -> int:
    """Instructions executed by one probe (see :func:`probe`)."""
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--probe",
        framework.key,
        scenario_key,
        str(requests),
    ]
    environment = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(
        command, capture_output=True, text=True, env=environment, check=False
    )
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        last = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"probe failed: {last[0]}")
    return int(found.group(1).replace(",", ""))


Cells = dict[tuple[str, str], "float | str"]


def measure(
    frameworks: Sequence[Framework],
    scenarios: Sequence[Scenario],
    requests: int,
    jobs: int,
) -> Cells:
    """Count every (framework, scenario) cell, ``jobs`` probes at a time.
    A cell is instructions per request, or the text to show instead.

    Each cell takes two probes, of ``requests`` and ``2 * requests``
    requests, whose difference is ``requests`` requests and nothing else.
    """
    cells: Cells = {}
    runs: list[tuple[Framework, str, int]] = []
    for framework in frameworks:
        unsupported = framework.load().UNSUPPORTED
        for scenario in scenarios:
            if scenario.key in unsupported:
                cells[(framework.key, scenario.key)] = "n/a"
            else:
                runs.append((framework, scenario.key, requests))
                runs.append((framework, scenario.key, 2 * requests))
    counted: dict[tuple[str, str, int], int | str] = {}

    def one(run: tuple[Framework, str, int]) -> None:
        framework, scenario_key, count = run
        progress(f"instructions: {framework.label}, {scenario_key}, {count}")
        try:
            counted[(framework.key, scenario_key, count)] = _instructions(
                framework, scenario_key, count
            )
        except RuntimeError as error:
            counted[(framework.key, scenario_key, count)] = f"FAIL ({error})"

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, runs))
    for framework, scenario_key, count in runs:
        if count != requests:
            continue
        fewer = counted[(framework.key, scenario_key, requests)]
        more = counted[(framework.key, scenario_key, 2 * requests)]
        if isinstance(more, str) or isinstance(fewer, str):
            cells[(framework.key, scenario_key)] = (
                more if isinstance(more, str) else fewer
            )
        else:
            cells[(framework.key, scenario_key)] = (more - fewer) / requests
    return cells


# -- reporting ---------------------------------------------------------------


def _number(cell: float | str | None) -> float | None:
    return cell if isinstance(cell, float) else None


def render(
    cells: Cells,
    frameworks: Sequence[Framework],
    scenarios: Sequence[Scenario],
    requests: int,
) -> str:
    """The markdown report: thousands of instructions per request, and the
    targets' ratios computed from them."""
    labels = ["scenario", *(framework.label for framework in frameworks)]
    rows = []
    for scenario in scenarios:
        row = [scenario.title]
        for framework in frameworks:
            cell = cells.get((framework.key, scenario.key))
            if isinstance(cell, float):
                row.append(f"{cell / 1000:.0f}")
            else:
                row.append("n/a" if cell == "n/a" else "FAIL")
        rows.append(row)
    targets = [target for target in TARGETS if _has(frameworks, target)]
    target_rows = []
    for scenario in scenarios:
        row = [scenario.title]
        for target in targets:
            mine = _number(cells.get((target.subject, scenario.key)))
            theirs = _number(cells.get((target.reference, scenario.key)))
            if not target.applies_to(scenario):
                row.append("—")
            elif mine is None or theirs is None:
                row.append("n/a")
            else:
                ratio = mine / theirs
                row.append(verdict(f"{ratio:.2f}", target.met(ratio)))
        target_rows.append(row)
    failures = [
        f"- {FRAMEWORKS_BY_KEY[key].label}, {SCENARIOS_BY_KEY[scenario].title}: {cell}"
        for (key, scenario), cell in cells.items()
        if isinstance(cell, str) and cell.startswith("FAIL")
    ]
    parts = [
        "## Instructions per request (thousands; lower is better)",
        "",
        table(labels, rows),
        "",
        "### The targets' ratios, in instructions instead of time",
        "",
        table(["scenario", *(target.title for target in targets)], target_rows),
        "",
        "Method: per framework, interpreters run under `valgrind"
        " --tool=cachegrind` build the app and check and warm it on every"
        f" scenario alike; each cell is the count of one that then makes"
        f" {2 * requests} requests of the scenario, less that of one that makes"
        f" {requests}, divided by {requests}; PYTHONHASHSEED=0."
        " Instructions are not time: code that misses the"
        " caches or mispredicts branches more runs fewer instructions per"
        " second, so the in-process timings remain the measure of the targets.",
    ]
    if failures:
        parts += ["", "Not measured:", "", *failures]
    return "\n".join(parts)


def _has(frameworks: Sequence[Framework], target: Target) -> bool:
    keys = {framework.key for framework in frameworks}
    return {target.subject, target.reference} <= keys


# -- command line --------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The options; ``--quick`` counts plaintext and JSON only."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="plaintext and JSON GET only"
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=200,
        help=(
            "requests counted per cell, as the difference between probes of"
            " this many and twice as many (200)"
        ),
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="probes run at once"
    )
    parser.add_argument(
        "--no-header", action="store_true", help="omit the machine header"
    )
    parser.add_argument(
        "--probe",
        nargs=3,
        metavar=("FRAMEWORK", "SCENARIO", "REQUESTS"),
        help=argparse.SUPPRESS,
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Count every cell and print the markdown report."""
    args = parse_args(argv)
    if args.probe is not None:
        framework_key, scenario_key, requests = args.probe
        probe(framework_key, scenario_key, int(requests))
        return 0
    if shutil.which("valgrind") is None:
        progress(
            "instructions: valgrind is missing; install it with:"
            " sudo apt-get install -y valgrind"
        )
        return 1
    scenarios = [
        scenario
        for scenario in SCENARIOS
        if not args.quick or scenario.key in {"plaintext", "json"}
    ]
    cells = measure(FRAMEWORKS, scenarios, args.requests, max(1, args.jobs))
    if not args.no_header:
        print(header("demijohn benchmarks", quick=args.quick))
    print(render(cells, FRAMEWORKS, scenarios, args.requests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
