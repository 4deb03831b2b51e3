"""In-process benchmark: every framework's app called directly, no server.

For each scenario the frameworks take turns, round by round: each round
times ``N`` back-to-back requests per framework (``N`` chosen so a round
lasts about ``--round-ms``), and the reported figure is the median over the
rounds of the time per request. Interleaving spreads any drift of the
machine (frequency, noisy neighbours) over all frameworks alike.

With ``--cold``, a stretch of memory is written before each request and
only the request is timed, so each request starts with the framework's code
and data out of the CPU's private caches, as under a real server, whose own
work between two requests displaces them (see :data:`EVICT_BYTES`). The
targets are judged on the warm figures only.

Run from the repository root: ``python -m benchmarks.inprocess [--quick] [--cold]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.drivers import (
    ASGIDriver,
    Clock,
    Driver,
    WSGIDriver,
    check,
    session_cookie,
)
from benchmarks.frameworks import FRAMEWORKS, Framework
from benchmarks.report import header, progress, table, verdict, versions_line
from benchmarks.scenarios import SCENARIOS, Scenario


@dataclass(frozen=True)
class Target:
    """A goal from benchmarks/README.md: ``subject`` µs divided by
    ``reference`` µs must be at most (or, if ``strict``, below) ``limit``."""

    title: str
    subject: str
    reference: str
    limit: float
    strict: bool = False
    scenarios: frozenset[str] | None = None

    def applies_to(self, scenario: Scenario) -> bool:
        """Whether this target is judged on ``scenario``."""
        return self.scenarios is None or scenario.key in self.scenarios

    def met(self, ratio: float) -> bool:
        """Whether a measured ratio meets the target."""
        return ratio < self.limit if self.strict else ratio <= self.limit


TARGETS = (
    Target("demijohn WSGI ÷ Flask ≤ 0.25", "demijohn-wsgi", "flask", 0.25),
    Target("demijohn WSGI ÷ Bottle < 1", "demijohn-wsgi", "bottle", 1.0, True),
    Target(
        "demijohn WSGI ÷ Falcon ≤ 2",
        "demijohn-wsgi",
        "falcon",
        2.0,
        scenarios=frozenset({"plaintext", "json"}),
    ),
    Target("demijohn ASGI ÷ Starlette < 1", "demijohn-asgi", "starlette", 1.0, True),
    Target("demijohn ASGI ÷ Quart ≤ 0.1", "demijohn-asgi", "quart", 0.1),
)


#: What a round is timed with. CPU time of this process is the default: the
#: work is single-threaded and CPU-bound, and on a shared machine the time
#: other processes take the core from us would otherwise count as ours.
CLOCKS: dict[str, Clock] = {"cpu": time.process_time, "wall": time.perf_counter}


#: What ``--cold`` writes before each request: several times the per-core
#: L2 cache of current x86 server CPUs and less than their shared L3. It
#: stands in for what a server does between two requests (reading and
#: parsing the next one, its own bookkeeping), which evicts the framework's
#: code and data from the core's private caches but not from L3.
EVICT_BYTES = 2 * 1024 * 1024


def make_evictor(size: int = EVICT_BYTES) -> Callable[[], None]:
    """A function that writes one byte in each cache line of a ``size``-byte
    buffer, which brings every line of it into the cache."""
    buffer = bytearray(size)
    line = 64
    ones = b"\x01" * (size // line)

    def evict() -> None:
        buffer[::line] = ones

    return evict


@dataclass(frozen=True)
class Settings:
    """How long and with which clock each framework is timed, and whether
    each request starts with cold caches."""

    rounds: int
    round_seconds: float
    clock: str
    cold: bool = False


@dataclass
class Cell:
    """One framework on one scenario: its timings, or why there are none."""

    framework: Framework
    driver: Driver | None = None
    count: int = 0
    samples: list[float] = field(default_factory=list)
    missing: str | None = None
    failure: str | None = None

    @property
    def median_us(self) -> float | None:
        """Median microseconds per request, if it was timed."""
        if self.failure or not self.samples:
            return None
        return statistics.median(self.samples) * 1e6

    def spread(self) -> float:
        """Interquartile range relative to the median: the run's noise
        (needs four samples or more)."""
        q1, _, q3 = statistics.quantiles(self.samples, n=4)
        return (q3 - q1) / statistics.median(self.samples)


def scenario_app(module: Any, scenario: Scenario) -> Any:
    """The app of an app module that serves ``scenario``: its ``hooked_app``
    for a scenario marked ``hooked``, its ``keyed_app`` for one marked
    ``keyed`` when it has one, else its ``app``."""
    if scenario.hooked:
        return module.hooked_app
    if scenario.keyed:
        return getattr(module, "keyed_app", module.app)
    return module.app


def make_driver(
    framework: Framework, app: Any, scenario: Scenario, loop: asyncio.AbstractEventLoop
) -> Driver:
    """A driver for ``scenario``; session scenarios first get a cookie
    from the app itself, so each framework reads its own format."""
    cookie = None
    if scenario.session:
        cookie = session_cookie(_driver(framework, app, scenario, loop, None).once())
    return _driver(framework, app, scenario, loop, cookie)


def _driver(
    framework: Framework,
    app: Any,
    scenario: Scenario,
    loop: asyncio.AbstractEventLoop,
    cookie: str | None,
) -> Driver:
    if framework.protocol == "wsgi":
        return WSGIDriver(app, scenario, cookie)
    return ASGIDriver(app, scenario, loop, cookie)


def prepare(
    cell: Cell,
    module: Any,
    scenario: Scenario,
    loop: asyncio.AbstractEventLoop,
    round_seconds: float,
    clock: Clock,
) -> None:
    """Check the app's answer, warm it up and pick the requests per round.

    A wrong answer marks the cell failed instead of timing it, so a broken
    app cannot look fast.
    """
    if scenario.key in module.UNSUPPORTED:
        cell.missing = module.UNSUPPORTED[scenario.key]
        return
    probe = 20
    try:
        driver = make_driver(
            cell.framework, scenario_app(module, scenario), scenario, loop
        )
        problem = check(scenario, driver.once())
        if problem is None:
            driver.run(probe)  # warm caches: templates, regexes, lazy imports
            problem = check(scenario, driver.once())
        if problem is None:
            per_request = max(driver.run(probe, clock), 1e-9) / probe
    except Exception as error:  # a crash is reported, not propagated
        problem = f"{type(error).__name__}: {error}"
    if problem is not None:
        cell.failure = problem
        return
    cell.driver = driver
    cell.count = max(1, round(round_seconds / per_request))


def measure(
    scenario: Scenario,
    loaded: Sequence[tuple[Framework, Any]],
    loop: asyncio.AbstractEventLoop,
    settings: Settings,
) -> list[Cell]:
    """Time every framework on ``scenario``, interleaved round by round."""
    clock = CLOCKS[settings.clock]
    cells = []
    for framework, module in loaded:
        cell = Cell(framework)
        prepare(cell, module, scenario, loop, settings.round_seconds, clock)
        cells.append(cell)
    timed = [cell for cell in cells if cell.driver is not None]
    evict = make_evictor() if settings.cold else None
    if evict is not None:
        for cell in timed:
            assert cell.driver is not None
            cell.count = _cold_count(cell.driver, evict, settings.round_seconds)
    for number in range(settings.rounds):
        gc.collect()
        # Rotate who goes first, so no framework always follows the same one.
        shift = number % max(1, len(timed))
        for cell in timed[shift:] + timed[:shift]:
            assert cell.driver is not None
            try:
                if evict is not None:
                    elapsed = cell.driver.run_cold(cell.count, evict)
                else:
                    elapsed = cell.driver.run(cell.count, clock)
            except Exception as error:  # reported in the table
                cell.failure = f"{type(error).__name__} while timing: {error}"
                continue
            cell.samples.append(elapsed / cell.count)
    return cells


def _cold_count(driver: Driver, evict: Callable[[], None], round_seconds: float) -> int:
    """Requests per round with cold caches, eviction included in the round."""
    probe = 20
    begin = time.perf_counter()
    driver.run_cold(probe, evict)
    per_request = max(time.perf_counter() - begin, 1e-9) / probe
    return max(1, round(round_seconds / per_request))


# -- reporting ---------------------------------------------------------------


def _cell_text(cell: Cell, value: float | None, fmt: str) -> str:
    if cell.missing is not None:
        return "n/a"
    if cell.failure is not None or value is None:
        return "FAIL"
    return fmt.format(value)


def _ratio(cell: Cell, reference: Cell | None) -> float | None:
    mine = cell.median_us
    theirs = reference.median_us if reference is not None else None
    if mine is None or theirs is None:
        return None
    return mine / theirs


def render(
    results: list[tuple[Scenario, list[Cell]]],
    frameworks: Sequence[Framework],
    settings: Settings,
) -> str:
    """The markdown report: times, ratios, targets and notes."""
    labels = ["scenario", *(framework.label for framework in frameworks)]
    times, to_flask, to_demijohn = [], [], []
    for scenario, cells in results:
        by_key = {cell.framework.key: cell for cell in cells}
        times.append([scenario.title])
        to_flask.append([scenario.title])
        to_demijohn.append([scenario.title])
        for cell in cells:
            flask = by_key.get("flask")
            demijohn = by_key.get(f"demijohn-{cell.framework.protocol}")
            times[-1].append(_cell_text(cell, cell.median_us, "{:.1f}"))
            to_flask[-1].append(_cell_text(cell, _ratio(cell, flask), "{:.2f}×"))
            to_demijohn[-1].append(_cell_text(cell, _ratio(cell, demijohn), "{:.2f}×"))
    kind = "In-process, cold caches" if settings.cold else "In-process"
    parts = [
        f"## {kind}: median µs per request (lower is better)",
        "",
        table(labels, times),
        "",
        "### Relative to Flask (µs ÷ Flask's µs; below 1 is faster than Flask)",
        "",
        table(labels, to_flask),
        "",
        "### Relative to demijohn (µs ÷ demijohn's µs, same protocol:"
        " WSGI columns against demijohn WSGI, ASGI columns against demijohn ASGI)",
        "",
        table(labels, to_demijohn),
        "",
    ]
    if not settings.cold:  # the targets are set on warm caches
        parts += [
            "### Targets (ratio of µs per request; ✓ met, ✗ missed)",
            "",
            render_targets(results),
            "",
        ]
    parts.append(render_notes(results, frameworks, settings))
    return "\n".join(parts)


def render_targets(results: list[tuple[Scenario, list[Cell]]]) -> str:
    """One row per scenario, one column per target."""
    rows = []
    for scenario, cells in results:
        by_key = {cell.framework.key: cell for cell in cells}
        row = [scenario.title]
        for target in TARGETS:
            if not target.applies_to(scenario):
                row.append("—")
                continue
            subject = by_key.get(target.subject)
            ratio = None
            if subject is not None:
                ratio = _ratio(subject, by_key.get(target.reference))
            row.append(
                "n/a" if ratio is None else verdict(f"{ratio:.2f}", target.met(ratio))
            )
        rows.append(row)
    return table(["scenario", *(target.title for target in TARGETS)], rows)


def render_notes(
    results: list[tuple[Scenario, list[Cell]]],
    frameworks: Sequence[Framework],
    settings: Settings,
) -> str:
    """How it was measured, what each column is, and what is missing."""
    clock = "CPU time of the process" if settings.clock == "cpu" else "wall time"
    if settings.cold:
        clock = (
            f"wall time of each request alone, after {EVICT_BYTES // 1024} KiB"
            " were written to push the framework out of the core's private"
            " caches (L1, L2); the targets are judged on the warm figures"
        )
    lines = [
        f"Method: median of {settings.rounds} rounds; in each round every"
        " framework runs N back-to-back requests (N sized for"
        f" ~{settings.round_seconds * 1000:.0f} ms), frameworks interleaved and"
        f" rotated each round; timed by {clock}. WSGI apps are called directly"
        " with a prebuilt environ; ASGI apps run on one asyncio event loop with"
        " a prebuilt scope and in-memory receive/send.",
        "",
        "Columns:",
        "",
    ]
    lines += [f"- {fw.label} ({fw.protocol.upper()}): {fw.style}" for fw in frameworks]
    lines += ["", f"Versions: {versions_line(_distributions(frameworks))}."]
    spreads = [
        (cell.spread(), scenario.title, cell.framework.label)
        for scenario, cells in results
        for cell in cells
        if len(cell.samples) >= 4 and cell.failure is None
    ]
    if spreads:
        worst, title, label = max(spreads)
        lines.append(
            f"Noise: the widest interquartile range over the rounds was"
            f" {worst:.0%} of its median ({label}, {title})."
        )
    missing = [
        f"- {cell.framework.label}, {scenario.title}: n/a ({cell.missing})"
        for scenario, cells in results
        for cell in cells
        if cell.missing is not None
    ]
    failed = [
        f"- {cell.framework.label}, {scenario.title}: FAIL ({cell.failure})"
        for scenario, cells in results
        for cell in cells
        if cell.failure is not None
    ]
    if missing or failed:
        lines += ["", "Not measured:", "", *missing, *failed]
    return "\n".join(lines)


def _distributions(frameworks: Sequence[Framework]) -> list[str]:
    names = [fw.distribution for fw in frameworks if fw.distribution is not None]
    return list(dict.fromkeys(names))


# -- command line --------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The options; ``--quick`` shrinks rounds and round length."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds of ~6 ms")
    parser.add_argument("--rounds", type=int, help="rounds per scenario (15)")
    parser.add_argument("--round-ms", type=float, help="length of a round (30)")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="cpu", help="what times a round"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="evict the CPU caches before each request (see EVICT_BYTES)",
    )
    parser.add_argument(
        "--no-header", action="store_true", help="omit the machine header"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every scenario on every framework and print the markdown report."""
    args = parse_args(argv)
    settings = Settings(
        rounds=args.rounds or (5 if args.quick else 15),
        round_seconds=(args.round_ms or (6 if args.quick else 30)) / 1000,
        clock=args.clock,
        cold=args.cold,
    )
    loop = asyncio.new_event_loop()
    loaded = []
    for framework in FRAMEWORKS:
        progress(f"inprocess: loading {framework.label}")
        loaded.append((framework, framework.load()))
    results = []
    for scenario in SCENARIOS:
        progress(f"inprocess{' (cold)' if args.cold else ''}: {scenario.title}")
        results.append((scenario, measure(scenario, loaded, loop, settings)))
    loop.close()
    if not args.no_header:
        print(header("demijohn benchmarks", quick=args.quick))
    print(render(results, FRAMEWORKS, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
