"""The opt-in Flask import shim (:mod:`demijohn.compat`).

Activating the shim changes what ``import flask`` means for the whole
process, and this test process uses the real Flask (for cookie and API
parity tests). So every test that activates it runs in a fresh interpreter;
the tests here that stay in-process only check the refusals, which leave
the import system untouched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import typing as t
from pathlib import Path

import flask  # the real one: this process must never activate the shim
import pytest
from click.testing import CliRunner

import demijohn.compat
from demijohn.cli import cli
from demijohn.compat import MODULE_MAP


def run_python(
    code: str, *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with warnings as errors; the
    shim's environment variable is only set when ``env`` sets it."""
    environ = {k: v for k, v in os.environ.items() if k != "DEMIJOHN_FLASK_SHIM"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
        cwd=cwd,
    )


def run_ok(code: str, **kwargs: t.Any) -> t.Any:
    """Run ``code``, which prints one JSON value last, and return it."""
    result = run_python(code, **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


#: Run once, with the shim active, in a fresh interpreter; each test below
#: checks one part of the report.
SHIM_REPORT = """
import importlib, importlib.metadata as md, json, os, sys, warnings
import demijohn.compat.flask_shim
import flask, flask.app, flask.cli, flask.globals, flask.testing
from flask import Flask, request
from flask.sansio.app import App
from flask.sansio.blueprints import Blueprint
from flask.sansio.scaffold import Scaffold
import demijohn, demijohn.app, demijohn.compat, demijohn.scaffold

def foreign_host(filtered_module):
    # A host outside SERVER_NAME, with only the warning from that module
    # silenced: the status, or the warning that escaped as an error.
    app = Flask("hosts", subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    app.route("/")(lambda: "root")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings(
            "ignore", "Current server name", UserWarning, filtered_module
        )
        try:
            return app.test_client().get("/", "http://other.test").status_code
        except UserWarning as e:
            return str(e)

def error_of(code):
    try:
        exec(code, {})
    except Exception as e:
        return f"{type(e).__name__}: {e}"

star = {}
exec("from flask import *", star)
demijohn.compat.activate_flask_shim()
print(json.dumps({
    "Flask": Flask is flask.app.Flask is demijohn.Demijohn,
    "request": request is flask.globals.request is demijohn.request,
    "client": flask.testing.FlaskClient is demijohn.testing.DemijohnClient,
    "one module": sys.modules["flask.app"] is demijohn.app,
    "own spec": demijohn.app.__spec__.name,
    "version": flask.__version__,
    "dir": "Flask" in dir(flask) and "__version__" in dir(flask),
    "modules": {
        name: importlib.import_module(name).__name__
        for name in demijohn.compat.MODULE_MAP
    },
    "sansio": [
        App is demijohn.Demijohn,
        Blueprint is demijohn.Blueprint,
        Scaffold is demijohn.scaffold.Scaffold,
        isinstance(demijohn.Demijohn("x"), App),
    ],
    "metadata": [
        md.version("flask"),
        md.version("FLASK"),
        md.metadata("flask")["Name"],
        sum(d.metadata["Name"].lower() == "flask" for d in md.distributions()),
    ],
    "unknown module": error_of("import flask.asgi"),
    "unknown name": error_of("import flask; flask.no_such_name"),
    "star": [star["Flask"].__name__, star["render_template"].__module__],
    "finders": sum(type(f).__name__ == "FlaskAliasFinder" for f in sys.meta_path),
    "g": (lambda ctx: (ctx.push(), repr(flask.g), ctx.pop())[1])(
        Flask("shimmed").app_context()
    ),
    "server name warning": [foreign_host("flask.app"), foreign_host("demijohn")],
    "run from cli": (
        flask.cli.FlaskGroup().make_context("flask", ["--help"], resilient_parsing=True)
        and sorted(k for k in os.environ if k.endswith("_RUN_FROM_CLI"))
    ),
}))
"""


@pytest.fixture(scope="module")
def shim_report() -> dict[str, t.Any]:
    report: dict[str, t.Any] = run_ok(SHIM_REPORT)
    return report


def test_flask_names_are_demijohn_objects(shim_report: dict[str, t.Any]) -> None:
    assert shim_report["Flask"] is True
    assert shim_report["request"] is True
    assert shim_report["client"] is True


def test_demijohn_modules_are_reused_not_loaded_twice(
    shim_report: dict[str, t.Any],
) -> None:
    assert shim_report["one module"] is True
    # The alias did not leave its name on the demijohn module.
    assert shim_report["own spec"] == "demijohn.app"


def test_reprs_name_demijohn_through_the_shim(
    shim_report: dict[str, t.Any],
) -> None:
    # As docs/migration.md says: the objects are demijohn's, and say so.
    assert shim_report["g"] == "<demijohn.g of 'shimmed'>"


def test_the_server_name_warning_comes_from_flask_app(
    shim_report: dict[str, t.Any],
) -> None:
    # Flask's warning filters name flask.app; through the shim they match.
    assert shim_report["server name warning"] == [
        404,
        "Current server name 'other.test' doesn't match configured"
        " server name 'example.test'",
    ]


def test_flask_submodules_are_attributes_after_import_flask_alone() -> None:
    # Importing Flask imports its modules, so extensions use flask.cli
    # after a bare "import flask" (Flask-Smorest does).
    report = run_ok(
        """
        import json, sys
        import demijohn.compat.flask_shim
        import flask
        assert "demijohn.cli" not in sys.modules
        group, sansio = flask.cli.AppGroup, flask.sansio
        import demijohn.cli, demijohn.app, demijohn.scaffold

        def error_of(code):
            try:
                exec(code, {"flask": flask})
            except AttributeError as e:
                return str(e)

        print(json.dumps([
            group is demijohn.cli.AppGroup,
            sansio.app is demijohn.app,
            flask.sansio.scaffold.Scaffold is demijohn.scaffold.Scaffold,
            error_of("flask.no_such_module"),
            error_of("flask.sansio.no_such_module"),
        ]))
        """
    )
    assert report == [
        True,
        True,
        True,
        "module 'flask' (demijohn's Flask shim) has no attribute 'no_such_module'",
        "module 'flask.sansio' (demijohn's Flask shim) has no attribute"
        " 'no_such_module'",
    ]


def test_the_cli_marks_the_environment_as_flask_does(
    shim_report: dict[str, t.Any],
) -> None:
    # So a fixture restoring Flask's variables also clears this one.
    assert shim_report["run from cli"] == ["FLASK_RUN_FROM_CLI"]


def test_flask_reports_the_flask_api_version(shim_report: dict[str, t.Any]) -> None:
    assert shim_report["version"] == demijohn.compat.FLASK_VERSION == "3.1.3"
    assert shim_report["dir"] is True


def test_the_map_covers_every_module_of_flask() -> None:
    root = Path(flask.__file__).parent
    flask_modules = set()
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        flask_modules.add(".".join(("flask", *parts)).removesuffix(".__init__"))
    # flask.__main__ runs Flask's CLI; it is no API. flask.sansio is a
    # namespace package, with no file, that the shim creates.
    assert flask_modules - {"flask.__main__"} == set(MODULE_MAP) | {"flask"}


def test_every_flask_module_imports_as_its_demijohn_module(
    shim_report: dict[str, t.Any],
) -> None:
    assert shim_report["modules"] == MODULE_MAP


def test_sansio_names_are_the_classes_for_both_protocols(
    shim_report: dict[str, t.Any],
) -> None:
    assert shim_report["sansio"] == [True, True, True, True]


def test_package_metadata_reports_the_flask_api_version(
    shim_report: dict[str, t.Any],
) -> None:
    # Listing installed packages is left alone: only the real Flask shows.
    assert shim_report["metadata"] == ["3.1.3", "3.1.3", "Flask", 1]


def test_a_module_flask_does_not_have_is_not_found(
    shim_report: dict[str, t.Any],
) -> None:
    # demijohn.asgi exists, but Flask has no flask.asgi.
    assert shim_report["unknown module"] == (
        "ModuleNotFoundError: No module named 'flask.asgi'"
    )


def test_a_missing_name_names_the_shim(shim_report: dict[str, t.Any]) -> None:
    assert shim_report["unknown name"] == (
        "AttributeError: module 'flask' (demijohn's Flask shim) has no"
        " attribute 'no_such_name'"
    )


def test_star_import_gives_the_public_names(shim_report: dict[str, t.Any]) -> None:
    assert shim_report["star"] == ["Demijohn", "demijohn.templating"]


def test_activating_twice_is_harmless(shim_report: dict[str, t.Any]) -> None:
    assert shim_report["finders"] == 1


def test_activating_after_the_real_flask_explains_the_order() -> None:
    result = run_python(
        """
        import flask
        try:
            import demijohn.compat.flask_shim
        except ImportError as e:
            print(e)
        import demijohn.compat
        import flask
        assert not demijohn.compat.flask_shim_active()
        assert flask.Flask is not demijohn.Demijohn
        """
    )
    assert result.returncode == 0, result.stderr
    assert "activated after the real Flask was imported" in result.stdout
    assert "import demijohn.compat.flask_shim" in result.stdout
    assert "DEMIJOHN_FLASK_SHIM=1" in result.stdout


def test_in_this_process_activation_is_refused() -> None:
    # The real Flask is imported here, so activation must refuse without
    # touching the import system.
    with pytest.raises(ImportError, match="before any Flask extension"):
        demijohn.compat.activate_flask_shim()
    assert not demijohn.compat.flask_shim_active()
    assert sys.modules["flask"] is flask


def test_environment_variable_activates_on_import() -> None:
    same = run_ok(
        """
        import json
        import demijohn
        import flask
        print(json.dumps(flask.Flask is demijohn.Demijohn))
        """,
        env={"DEMIJOHN_FLASK_SHIM": "1"},
    )
    assert same is True


@pytest.mark.parametrize("value", [None, "0"])
def test_without_opting_in_demijohn_never_touches_flask(value: str | None) -> None:
    checks = run_ok(
        """
        import json, sys
        import demijohn, demijohn.cli, demijohn.testing
        loaded = "flask" in sys.modules
        import flask
        print(json.dumps([loaded, flask.Flask is demijohn.Demijohn]))
        """,
        env={} if value is None else {"DEMIJOHN_FLASK_SHIM": value},
    )
    assert checks == [False, False]


def test_environment_variable_after_the_real_flask_fails_the_import() -> None:
    result = run_python(
        "import flask\nimport demijohn\n", env={"DEMIJOHN_FLASK_SHIM": "1"}
    )
    assert result.returncode != 0
    assert "activated after the real Flask was imported" in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        ("yes", True),
        ("", False),
        ("0", False),
        ("false", False),
        ("No", False),
    ],
)
def test_flask_shim_requested_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("DEMIJOHN_FLASK_SHIM", value)
    assert demijohn.compat.flask_shim_requested() is expected


FLASK_APP = """\
import flask
import demijohn

app = flask.Flask(__name__)


@app.cli.command("which")
def which():
    kind = "demijohn" if flask.Flask is demijohn.Demijohn else "flask"
    print(kind, flask.__version__)
"""


def _run_cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "flaskapp.py").write_text(FLASK_APP)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DEMIJOHN_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "demijohn", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=environ,
    )


def test_cli_option_loads_a_flask_app_through_the_shim(tmp_path: Path) -> None:
    result = _run_cli(tmp_path, "--flask-shim", "--app", "flaskapp", "which")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "demijohn 3.1.3"


def test_cli_option_applies_before_help_lists_app_commands(tmp_path: Path) -> None:
    result = _run_cli(tmp_path, "--flask-shim", "--app", "flaskapp", "--help")
    assert result.returncode == 0, result.stderr
    assert "which" in result.stdout


def test_cli_reads_the_option_from_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DEMIJOHN_FLASK_SHIM=1\n")
    result = _run_cli(tmp_path, "--app", "flaskapp", "which")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "demijohn 3.1.3"


def test_cli_option_reports_the_order_problem_as_a_usage_error() -> None:
    # The real Flask is imported in this process, as it would be by a
    # sitecustomize or a plugin in the user's process.
    result = CliRunner().invoke(cli, ["--flask-shim", "routes"])
    assert result.exit_code == 2
    assert "Invalid value for '--flask-shim'" in result.output
    assert "activated after the real Flask was imported" in result.output
    assert not demijohn.compat.flask_shim_active()
