"""Runs the Flask extension suite (tests/compat) in a process of its own.

That suite needs ``import flask`` to give demijohn (the Flask import shim),
this process needs it to give the real Flask, and a process cannot have
both: see tests/compat/conftest.py. The suite is started the way a user
turns the shim on, with ``DEMIJOHN_FLASK_SHIM=1``, so nothing can import
the real Flask before the shim is active.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent

#: How many tests the suite has at least; guards against a suite that
#: silently collects nothing (for example if the shim failed to activate).
MINIMUM_TESTS = 70


def test_flask_extensions_pass_on_demijohn_through_the_shim() -> None:
    environ = {**os.environ, "DEMIJOHN_FLASK_SHIM": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/compat",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env=environ,
    )
    report = f"{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
    assert result.returncode == 0, report
    summary = result.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed is not None, report
    assert int(passed.group(1)) >= MINIMUM_TESTS, summary
    # Every test ran: a skip would hide an extension that no longer works.
    assert not re.search(r"skipped|xfailed|xpassed|deselected", summary), summary


def test_the_extension_suite_is_not_collected_without_the_shim() -> None:
    # Collected here, it would import the extensions against the real Flask
    # and test Flask instead of demijohn.
    environ = {k: v for k, v in os.environ.items() if k != "DEMIJOHN_FLASK_SHIM"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/compat",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=environ,
    )
    assert result.returncode == 5, result.stdout  # pytest: no tests collected
