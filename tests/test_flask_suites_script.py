"""The maintainers' compatibility report (``scripts/flask_suites.py``) must
find each project's sources and read pytest's outcomes right, or it reports
differences that are not there (or hides real ones). Running the suites
needs PyPI, so only these parts are tested here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "flask_suites.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("flask_suites", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up while the class is made.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.mark.parametrize(
    ("file_name", "project", "expected"),
    [
        ("flask-3.1.3", "flask", True),
        ("flask-3.1.3.tar.gz", "flask", True),
        ("Flask-Login-0.6.3", "flask-login", True),
        ("flask_sqlalchemy-3.1.1.tar.gz", "flask-sqlalchemy", True),
        # Another project whose name starts with the same words.
        ("flask_cors-6.0.5", "flask", False),
        ("Flask-Login-0.6.3", "flask", False),
        ("flask-caching-2.5.1", "flask-cors", False),
    ],
)
def test_a_source_tree_is_matched_to_its_own_project(
    script: ModuleType, file_name: str, project: str, expected: bool
) -> None:
    assert script._is_release_of(file_name, project) is expected


def test_outcomes_are_read_from_the_junit_report(
    script: ModuleType, tmp_path: Path
) -> None:
    report = tmp_path / "report.xml"
    report.write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4">
<testcase classname="tests.test_a" name="test_ok" time="0.001"/>
<testcase classname="tests.test_a" name="test_bad" time="0.001">
<failure message="assert 1 == 2&#10;second line">trace</failure></testcase>
<testcase classname="tests.test_b" name="test_ok" time="0.001">
<error message="fixture 'redis' failed">trace</error></testcase>
<testcase classname="tests.test_b" name="test_skip" time="0.001">
<skipped type="pytest.skip" message="needs flask_uploads"/></testcase>
</testsuite></testsuites>
"""
    )
    outcomes = script.read_junit(report)
    assert outcomes.kind == {
        "tests.test_a::test_ok": "passed",
        "tests.test_a::test_bad": "failure",
        "tests.test_b::test_ok": "error",
        "tests.test_b::test_skip": "skipped",
    }
    assert outcomes.describe("tests.test_a::test_bad") == "failure: assert 1 == 2"
    assert outcomes.describe("tests.test_a::test_ok") == "passed"
    assert outcomes.describe("tests.test_c::test_gone") == "absent"
    assert outcomes.count("passed") == 1
