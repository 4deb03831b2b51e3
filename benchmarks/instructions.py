"""Instructions per request, counted by valgrind: a deterministic companion
to the in-process timings.

On a shared machine the in-process timings move by 10–30% from one run to
the next, enough to flip a ratio that sits near a target. The number of
machine instructions the interpreter executes for a request does not depend
on what else the machine is doing, so this part shows the ordering of the
frameworks without that noise.

Each framework runs in fresh interpreters under ``valgrind
--tool=cachegrind``, all of which build the app and check and warm it up on
every scenario the same way; then one stops, and each of the others makes
``--requests`` requests of one scenario. A scenario's count less the
baseline's, divided by the number of requests, is the cost of one request,
with start-up, imports and the app's construction cancelled out.
``PYTHONHASHSEED`` is fixed so that every interpreter hashes alike.

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
    by :func:`measure`; ``-`` for none)."""
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
    if scenario_key != "-":
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

    Every probe of a framework warms all scenarios alike, so one probe
    without counted requests is the baseline of all its cells.
    """
    cells: Cells = {}
    runs: list[tuple[Framework, str]] = []
    for framework in frameworks:
        unsupported = framework.load().UNSUPPORTED
        runs.append((framework, "-"))
        for scenario in scenarios:
            if scenario.key in unsupported:
                cells[(framework.key, scenario.key)] = "n/a"
            else:
                runs.append((framework, scenario.key))
    counted: dict[tuple[str, str], int | str] = {}

    def one(run: tuple[Framework, str]) -> None:
        framework, scenario_key = run
        progress(f"instructions: {framework.label}, {scenario_key}")
        try:
            counted[(framework.key, scenario_key)] = _instructions(
                framework, scenario_key, 0 if scenario_key == "-" else requests
            )
        except RuntimeError as error:
            counted[(framework.key, scenario_key)] = f"FAIL ({error})"

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, runs))
    for framework, scenario_key in runs:
        if scenario_key == "-":
            continue
        base = counted[(framework.key, "-")]
        more = counted[(framework.key, scenario_key)]
        if isinstance(more, str) or isinstance(base, str):
            cells[(framework.key, scenario_key)] = (
                more if isinstance(more, str) else base
            )
        else:
            cells[(framework.key, scenario_key)] = (more - base) / requests
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
        f" {requests} requests of the scenario, less that of one that makes"
        f" none, divided by {requests}; PYTHONHASHSEED=0."
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
        "--requests", type=int, default=200, help="counted requests per cell (200)"
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
