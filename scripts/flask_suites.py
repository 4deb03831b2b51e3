#!/usr/bin/env python3
"""Run Flask's own test suite, and those of popular Flask extensions,
against the real Flask and against demijohn through its Flask shim (with
the WSGI and with the ASGI test client), and list every test whose outcome
differs.

    scripts/flask_suites.py                 # every suite
    scripts/flask_suites.py flask-login     # the named ones

The tests come from the projects' source distributions on PyPI, so this
needs network access; it is a maintainer's tool, not part of CI. Everything
it makes lives in ``.flask-suites/`` at the repository root (git-ignored):
a virtual environment with demijohn (editable), the pinned Flask and
extensions and their test dependencies, the unpacked sources and each run's
JUnit report. Every run of a suite uses the same environment and the same
files; they differ only in pytest plugins (see ``RUNS``):
``-p demijohn.compat.flask_shim`` makes ``import flask`` give demijohn,
and a third run also makes ``app.test_client()`` demijohn's ASGI test
client, so the same tests go through the application's ASGI interface.

A test that fails under all runs is a problem of the suite on this machine (a
Redis server it expects, a library newer than it knows), not of demijohn;
the report counts those but lists only the differences. Exits 1 when a
test passes with Flask and not with demijohn.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import venv
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".flask-suites"
VENV = WORK / "venv"
PYTHON = VENV / "bin" / "python"


@dataclass(frozen=True)
class Suite:
    """One test suite: the pinned distribution whose source tree holds it,
    the directory in that tree it runs from, where its tests are from
    there, and what else they import."""

    name: str
    requirement: str
    test_dependencies: tuple[str, ...] = ()
    tests: str = "tests"
    directory: str = "."
    #: More pytest arguments, e.g. to leave out tests that need a server.
    options: tuple[str, ...] = ()
    #: Whether its tests use the pytest-flask plugin, which is otherwise
    #: kept off: its autouse fixture pushes a request context around every
    #: test of a suite with an ``app`` fixture, which changes what they test.
    uses_pytest_flask: bool = False

    @property
    def project(self) -> str:
        """The distribution's name, as in :attr:`requirement`."""
        return self.requirement.partition("==")[0]


SUITES = {
    suite.name: suite
    for suite in (
        Suite("flask", "flask==3.1.3", ("asgiref", "greenlet", "python-dotenv")),
        # The example applications in Flask's repository, with their tests.
        Suite("flask-tutorial", "flask==3.1.3", directory="examples/tutorial"),
        Suite("flask-javascript", "flask==3.1.3", directory="examples/javascript"),
        Suite("flask-login", "flask-login==0.6.3", ("semantic_version",)),
        Suite("flask-wtf", "flask-wtf==1.3.0", ("email_validator", "flask-babel")),
        Suite("flask-cors", "flask-cors==6.0.5"),
        # Flask-SQLAlchemy 3.1 predates SQLAlchemy 2.1, whose dataclass
        # checks fail most of its tests under Flask too.
        Suite("flask-sqlalchemy", "flask-sqlalchemy==3.1.1", ("sqlalchemy<2.1",)),
        Suite(
            "flask-caching",
            "flask-caching==2.5.1",
            ("cachelib", "redis", "pytest-xprocess", "asgiref"),
        ),
        Suite("flask-httpauth", "flask-httpauth==4.8.1"),
        Suite(
            "flask-marshmallow", "flask-marshmallow==1.5.0", ("marshmallow-sqlalchemy",)
        ),
        Suite("flask-compress", "flask-compress==1.25", ("brotli", "zstandard")),
        Suite(
            "flask-smorest",
            "flask-smorest==0.47.0",
            ("webargs", "apispec", "PyYAML", "asgiref", "packaging"),
        ),
        # Its tests live in the package.
        Suite("flask-talisman", "flask-talisman==1.1.0", tests="flask_talisman"),
        Suite(
            "flask-jwt-extended",
            "flask-jwt-extended==4.7.4",
            ("cryptography", "python-dateutil"),
        ),
        Suite("flask-openapi3", "flask-openapi3==4.3.2", ("pyyaml",)),
        Suite("flask-socketio", "flask-socketio==5.7.0", tests="test_socketio.py"),
        Suite(
            "flask-migrate",
            "flask-migrate==4.1.0",
            ("flask-sqlalchemy", "sqlalchemy<2.1"),
        ),
        Suite(
            "flask-restx",
            "flask-restx==1.3.2",
            ("pytest-flask", "Faker", "pytest-mock", "pytest-benchmark", "mock"),
            uses_pytest_flask=True,
            # The source distribution lacks the JSON schema it reads.
            options=("--ignore=tests/test_postman.py",),
        ),
        # Without the tests for PostgreSQL and MongoDB, which need servers
        # (sqla/test_postgres.py is still collected, so its libraries are
        # installed); the Azure storage tests need one too and fail in every
        # run, the S3 ones run against moto's stand-in.
        Suite(
            "flask-admin",
            "flask-admin==2.2.1",
            (
                *("flask-sqlalchemy", "flask-sqlalchemy-lite", "sqlalchemy<2.1"),
                *("sqlalchemy-utils", "sqlalchemy-citext", "colour", "arrow"),
                *("wtforms<3.3", "flask-babel", "peewee", "wtf-peewee", "pillow"),
                *("beautifulsoup4", "asgiref", "boto3", "moto", "azure-storage-blob"),
                *("psycopg2-binary", "geoalchemy2", "shapely"),
            ),
            tests="flask_admin/tests",
            options=(
                "--ignore=flask_admin/tests/geoa",
                "--ignore=flask_admin/tests/pymongo",
                "--ignore=flask_admin/tests/mongoengine",
                "-k",
                "not Postgres and not postgres",
            ),
        ),
    )
}

#: pytest 8 moved the marker Flask's tests import from
#: ``_pytest.monkeypatch.notset`` to ``_pytest.compat.NOTSET``; this plugin
#: puts it back where the tests look, instead of editing their files.
NOTSET_PLUGIN = """\
import _pytest.compat
import _pytest.monkeypatch

if not hasattr(_pytest.monkeypatch, "notset"):
    _pytest.monkeypatch.notset = _pytest.compat.NOTSET
"""

#: Makes every ``app.test_client()`` demijohn's ASGI test client, so the
#: same tests drive the application through its ASGI interface.
ASGI_CLIENT_PLUGIN = """\
import demijohn
from demijohn.testing import ASGIClient

demijohn.Demijohn.test_client_class = ASGIClient
"""

#: Turns the shim on in every Python process a run starts, the pytest one
#: and those its tests start (Flask-Migrate's run the ``flask`` command),
#: when the run sets ``DEMIJOHN_FLASK_SHIM``, which ``import demijohn``
#: honours. On ``PYTHONPATH``, so Python imports it at startup.
SITECUSTOMIZE = """\
import os

if os.environ.get("DEMIJOHN_FLASK_SHIM"):
    import demijohn  # noqa: F401 - activates the shim
"""

#: The runs of every suite: the pytest plugins each adds, by name. The
#: first is the reference the others are compared with.
RUNS = {
    "Flask": (),
    "demijohn": ("demijohn.compat.flask_shim",),
    "demijohn, ASGI client": ("demijohn.compat.flask_shim", "pytest_asgi_client"),
}


@dataclass
class Outcomes:
    """How every test of one run ended (``passed``, ``failure``, ``error``
    or ``skipped``) and the first line of what it reported, by test id."""

    kind: dict[str, str] = field(default_factory=dict)
    message: dict[str, str] = field(default_factory=dict)

    def count(self, kind: str) -> int:
        return sum(1 for value in self.kind.values() if value == kind)

    def describe(self, test: str) -> str:
        kind = self.kind.get(test, "absent")
        message = self.message.get(test)
        return f"{kind}: {message}" if message else kind


def read_junit(report: Path) -> Outcomes:
    """Read the outcomes from a pytest ``--junitxml`` report."""
    outcomes = Outcomes()
    for case in ET.parse(report).iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        outcomes.kind[test] = "passed"
        for child in case:
            if child.tag in {"failure", "error", "skipped"}:
                outcomes.kind[test] = child.tag
                lines = (child.get("message") or "").splitlines()
                if lines:
                    outcomes.message[test] = lines[0][:160]
                break
    return outcomes


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, text=True, check=False, **kwargs)  # type: ignore[call-overload,no-any-return]


def prepare(suites: list[Suite]) -> None:
    """Make the environment and unpack each suite's sources (once)."""
    WORK.mkdir(exist_ok=True)
    if not PYTHON.exists():
        venv.create(VENV, with_pip=True)
    # A suite without pytest settings of its own would otherwise take
    # demijohn's (pyproject.toml, further up), warnings-as-errors included:
    # pytest stops at the first pytest.ini above the tests, even empty.
    (WORK / "pytest.ini").write_text("[pytest]\n")
    plugins = WORK / "plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "pytest_notset.py").write_text(NOTSET_PLUGIN)
    (plugins / "pytest_asgi_client.py").write_text(ASGI_CLIENT_PLUGIN)
    (plugins / "sitecustomize.py").write_text(SITECUSTOMIZE)
    requirements = ["pytest", "-e", str(ROOT)]
    for suite in suites:
        requirements += [suite.requirement, *suite.test_dependencies]
    done = run([str(PYTHON), "-m", "pip", "install", "-q", *requirements])
    if done.returncode:
        sys.exit("could not install the suites' requirements (see above)")
    for suite in suites:
        if source_dir(suite) is None:
            download(suite)


def source_dir(suite: Suite) -> Path | None:
    found = [
        path
        for path in (WORK / "src").glob("*")
        if path.is_dir() and _is_release_of(path.name, suite.project)
    ]
    return found[0] if found else None


def _is_release_of(file_name: str, project: str) -> bool:
    """Whether ``file_name`` (``Flask_Login-0.6.3``, ``flask-0.6.3.tar.gz``)
    names a release of ``project``, not of one whose name starts alike."""
    normal = file_name.lower().replace("_", "-")
    prefix = project.lower() + "-"
    return normal.startswith(prefix) and normal[len(prefix) : len(prefix) + 1].isdigit()


def download(suite: Suite) -> None:
    archives = WORK / "archives"
    done = run(
        [
            *(str(PYTHON), "-m", "pip", "download", "-q", "--no-deps"),
            *("--no-binary", ":all:", "-d", str(archives), suite.requirement),
        ]
    )
    if done.returncode:
        sys.exit(f"could not download {suite.requirement} (is PyPI reachable?)")
    archive = next(
        path
        for path in archives.glob("*.tar.gz")
        if _is_release_of(path.name, suite.project)
    )
    with tarfile.open(archive) as tar:
        tar.extractall(WORK / "src", filter="data")


def run_suite(suite: Suite, run_name: str) -> Outcomes:
    """Run the suite's tests from its source tree (so its own pytest
    settings apply) with the plugins of ``run_name`` (see :data:`RUNS`),
    and read the outcomes from the JUnit report."""
    source = source_dir(suite)
    assert source is not None
    where = source / suite.directory
    slug = run_name.replace(",", "").replace(" ", "-").lower()
    report = WORK / f"{suite.name}--{slug}.xml"
    command = [
        *(str(PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider"),
        *("-p", "pytest_notset", f"--junitxml={report}"),
    ]
    if not suite.uses_pytest_flask:
        command += ["-p", "no:flask"]
    for plugin in RUNS[run_name]:
        command += ["-p", plugin]
    command += suite.options
    report.unlink(missing_ok=True)
    # The shim is on in the demijohn runs only, for the tests' own
    # processes too (see SITECUSTOMIZE), and the virtual environment's
    # commands come first (CLI tests run "flask").
    env = {k: v for k, v in os.environ.items() if k != "DEMIJOHN_FLASK_SHIM"}
    if "demijohn.compat.flask_shim" in RUNS[run_name]:
        env["DEMIJOHN_FLASK_SHIM"] = "1"
    # The example applications import their package from where they run.
    env["PYTHONPATH"] = f"{WORK / 'plugins'}{os.pathsep}{where}"
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    done = run([*command, suite.tests], cwd=where, env=env, capture_output=True)
    if not report.exists():
        sys.exit(f"{suite.name}: pytest did not run\n{done.stdout}{done.stderr}")
    return read_junit(report)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suites", nargs="*", metavar="SUITE", help=", ".join(SUITES))
    names = parser.parse_args().suites or list(SUITES)
    unknown = [name for name in names if name not in SUITES]
    if unknown:
        parser.error(
            f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}"
        )
    suites = [SUITES[name] for name in names]
    prepare(suites)
    rows = []
    regressions = 0
    differences: list[str] = []
    reference, *others = RUNS
    for suite in suites:
        outcomes = {run_name: run_suite(suite, run_name) for run_name in RUNS}
        expected = outcomes[reference]
        differ: set[str] = set()
        for run_name in others:
            got = outcomes[run_name]
            for test in sorted(expected.kind.keys() | got.kind.keys()):
                if expected.kind.get(test) == got.kind.get(test):
                    continue
                differ.add(test)
                if expected.kind.get(test) == "passed":
                    regressions += 1
                differences.append(
                    f"- {suite.name} {test}\n  {reference}: {expected.describe(test)}"
                    f"\n  {run_name}: {got.describe(test)}"
                )
        passed = " | ".join(str(outcomes[name].count("passed")) for name in RUNS)
        rows.append(
            f"| {suite.name} | {len(expected.kind)} | {passed} | {len(differ)} |"
        )
    passes = " | ".join(f"pass with {name}" for name in RUNS)
    print(f"| suite | tests | {passes} | differ |")
    print("|---|---:|" + "---:|" * len(RUNS) + "---:|")
    print("\n".join(rows))
    if differences:
        print("\nTests whose outcome differs:\n")
        print("\n".join(differences))
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
