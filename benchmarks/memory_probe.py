"""The child side of :mod:`benchmarks.memory`: one measurement in a fresh
interpreter, printed as one line of JSON.

It imports nothing but the standard library before the framework under
test, so "RSS after import" is the interpreter plus that framework. The
app is the smallest one: a single plaintext route, written against
Flask's API (so it serves Flask and demijohn alike).

``python -X importtime -m benchmarks.memory_probe startup MODULE``
    RSS before and after importing MODULE; for Flask-style packages also
    the first and second request's latency. The parent reads the import
    time from ``-X importtime``'s report on stderr.
``python -m benchmarks.memory_probe requests PACKAGE --total N --mark M``
    RSS after M and after N plaintext requests.
``python -m benchmarks.memory_probe trace PACKAGE --total N --mark M``
    Memory still allocated after request N that was allocated after
    request M (tracemalloc), with the lines that hold most of it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

#: Packages whose API is Flask's: the probe can build an app with them.
FLASK_STYLE = ("demijohn", "flask")


def rss_bytes() -> int:
    """Resident set size of this process, from /proc (Linux), after a full
    garbage collection so that pending cycles do not count."""
    gc.collect()
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def build_app(framework: Any) -> Any:
    """One plaintext route, in Flask's API."""
    app = framework.Flask("memory_probe")

    def plaintext() -> str:
        return "Hello, World!"

    app.add_url_rule("/plaintext", "plaintext", plaintext)
    return app


def plaintext_driver(app: Any) -> Any:
    """A WSGI driver for the plaintext scenario (imported late, so that
    the harness's own modules are not in the import figure)."""
    from benchmarks.drivers import WSGIDriver
    from benchmarks.scenarios import SCENARIOS_BY_KEY

    return WSGIDriver(app, SCENARIOS_BY_KEY["plaintext"])


def startup(module: str) -> dict[str, Any]:
    """Import cost and, for Flask-style packages, first-request latency."""
    before = rss_bytes()
    begin = time.perf_counter()
    # Not importlib.import_module: -X importtime only reports imports that
    # go through the import statement's machinery, as __import__ does.
    framework = __import__(module)
    package = module.partition(".")[0]
    result: dict[str, Any] = {
        "import_s": time.perf_counter() - begin,
        "rss_before": before,
        "rss_import": rss_bytes(),
    }
    if package in FLASK_STYLE:
        driver = plaintext_driver(build_app(framework))
        for key in ("first_request_s", "second_request_s"):
            begin = time.perf_counter()
            reply = driver.once()
            result[key] = time.perf_counter() - begin
            if reply.status != 200:
                raise RuntimeError(f"{package} answered {reply.status}")
    return result


def requests(package: str, total: int, mark: int) -> dict[str, Any]:
    """RSS after ``mark`` and after ``total`` requests."""
    driver = plaintext_driver(build_app(__import__(package)))
    driver.run(mark)
    rss_mark = rss_bytes()
    driver.run(total - mark)
    return {"rss_mark": rss_mark, "rss_total": rss_bytes()}


def trace(package: str, total: int, mark: int) -> dict[str, Any]:
    """Bytes allocated between request ``mark`` and ``total`` and still
    alive at the end, and where the largest part was allocated."""
    driver = plaintext_driver(build_app(__import__(package)))
    driver.run(mark)
    gc.collect()
    tracemalloc.start()
    driver.run(total - mark)
    # Werkzeug's matcher makes a reference cycle per request; only what
    # survives a collection is growth.
    gc.collect()
    growth, _peak = tracemalloc.get_traced_memory()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    tracemalloc.stop()
    top = [
        f"{stat.traceback[0].filename}:{stat.traceback[0].lineno}"
        f" {stat.size} B in {stat.count} blocks"
        for stat in snapshot.statistics("lineno")[:3]
    ]
    return {"growth": growth, "top": top}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The measurement to make and on which package."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("probe", choices=("startup", "requests", "trace"))
    parser.add_argument("package", help="a package, or a module for startup")
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--mark", type=int, default=10_000)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Make one measurement and print it as JSON."""
    args = parse_args(argv)
    if args.probe == "startup":
        result = startup(args.package)
    elif args.probe == "requests":
        result = requests(args.package, args.total, args.mark)
    else:
        result = trace(args.package, args.total, args.mark)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
