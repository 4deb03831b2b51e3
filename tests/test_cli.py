"""The ``demijohn`` command: app discovery, dotenv files, the ``run``,
``shell`` and ``routes`` commands, and the click helpers for app commands.
"""

from __future__ import annotations

import importlib
import os
import ssl
import subprocess
import sys
import textwrap
import types
import typing as t
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

import demijohn.cli
from demijohn import Blueprint, Demijohn, current_app, has_app_context
from demijohn.cli import (
    AppGroup,
    CertParamType,
    DemijohnGroup,
    FlaskGroup,
    NoAppException,
    ScriptInfo,
    SeparatedPathType,
    cli,
    find_app_by_string,
    find_best_app,
    load_dotenv,
    locate_app,
    main,
    pass_script_info,
    prepare_import,
    show_server_banner,
    with_appcontext,
)
from demijohn.compat import FLASK_VERSION

# -- isolation ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> t.Iterator[None]:
    """Run each test in an empty directory with no DEMIJOHN_* or FLASK_*
    variables, and undo what the CLI does to the process: the variables it
    sets, the directories it puts on sys.path and the modules it imports
    from them.
    """
    saved_env = dict(os.environ)
    saved_path = list(sys.path)
    for name in list(os.environ):
        if name.startswith(("DEMIJOHN_", "FLASK_")) or name in (
            "PYTHONSTARTUP",
            "WERKZEUG_RUN_MAIN",
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield
    os.environ.clear()
    os.environ.update(saved_env)
    sys.path[:] = saved_path
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        if file.startswith(str(tmp_path)):
            del sys.modules[name]


def write_module(directory: Path, name: str, source: str) -> Path:
    """Write a module file (``pkg/mod.py`` paths create the folders)."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    importlib.invalidate_caches()
    return path


def make_module(name: str = "sample", **attrs: t.Any) -> types.ModuleType:
    module = types.ModuleType(name)
    vars(module).update(attrs)
    return module


def make_app(name: str = "sample") -> Demijohn:
    return Demijohn(name, static_folder=None)


def invoke(*args: str, group: click.Group | None = None, **kwargs: t.Any) -> Result:
    """Run the command line as ``demijohn ARGS`` would, in this process."""
    return CliRunner().invoke(group or cli, list(args), **kwargs)


APP_MODULE = """\
from demijohn import Demijohn

app = Demijohn(__name__, static_folder=None)

@app.route("/")
def index():
    return "index"

@app.cli.command()
def hello():
    print("hello from", app.name, "debug", app.debug)
"""

FACTORY_MODULE = """\
from demijohn import Demijohn
from demijohn.helpers import get_debug_flag

def create_app(name="factory", debug_seen=None):
    app = Demijohn(name, static_folder=None)
    app.config["DEBUG_WHILE_CREATING"] = get_debug_flag()

    @app.cli.command()
    def hello():
        print("hello from", app.name)

    return app
"""


# -- find_best_app -------------------------------------------------------------


@pytest.mark.parametrize("attr", ["app", "application", "anything"])
def test_find_best_app_finds_the_application_by_name_or_alone(attr: str) -> None:
    app = make_app()
    assert find_best_app(make_module(**{attr: app})) is app


def test_find_best_app_prefers_app_over_another_instance() -> None:
    app = make_app()
    module = make_module(other=make_app("other"), app=app)
    assert find_best_app(module) is app


def test_find_best_app_accepts_one_app_under_two_names() -> None:
    app = make_app()
    assert find_best_app(make_module(first=app, second=app)) is app


def test_find_best_app_rejects_several_applications() -> None:
    module = make_module("twoapps", one=make_app(), two=make_app())
    with pytest.raises(NoAppException) as exc_info:
        find_best_app(module)
    assert str(exc_info.value) == (
        "Detected multiple Demijohn applications in module 'twoapps'."
        " Use 'twoapps:name' to specify the correct one."
    )


@pytest.mark.parametrize("factory_name", ["create_app", "make_app"])
def test_find_best_app_calls_a_factory(factory_name: str) -> None:
    app = make_app()

    def factory() -> Demijohn:
        return app

    assert find_best_app(make_module(**{factory_name: factory})) is app


def test_find_best_app_explains_a_factory_that_needs_arguments() -> None:
    def create_app(config: str) -> Demijohn:
        return make_app(config)

    with pytest.raises(NoAppException) as exc_info:
        find_best_app(make_module("facmod", create_app=create_app))
    assert str(exc_info.value) == (
        "Detected factory 'create_app' in module 'facmod', but could not call"
        " it without arguments. Use 'facmod:create_app(args)' to specify"
        " arguments."
    )


def test_find_best_app_lets_a_type_error_inside_the_factory_through() -> None:
    def create_app() -> Demijohn:
        raise TypeError("broken inside the factory")

    with pytest.raises(TypeError, match="broken inside the factory"):
        find_best_app(make_module(create_app=create_app))


def test_find_best_app_ignores_a_factory_returning_something_else() -> None:
    module = make_module("notapp", create_app=lambda: None, make_app=lambda: 42)
    with pytest.raises(NoAppException, match="Failed to find Demijohn application"):
        find_best_app(module)


def test_find_best_app_says_how_to_name_the_app_when_none_is_found() -> None:
    with pytest.raises(NoAppException) as exc_info:
        find_best_app(make_module("empty", app="not an app"))
    assert str(exc_info.value) == (
        "Failed to find Demijohn application or factory in module 'empty'."
        " Use 'empty:name' to specify one."
    )


# -- find_app_by_string ------------------------------------------------------


def test_find_app_by_string_returns_an_attribute() -> None:
    app = make_app()
    assert find_app_by_string(make_module(my_app=app), "my_app") is app


def test_find_app_by_string_calls_a_factory_with_literal_arguments() -> None:
    received: list[t.Any] = []

    def create_app(*args: t.Any, **kwargs: t.Any) -> Demijohn:
        received.append((args, kwargs))
        return make_app()

    module = make_module(create_app=create_app)
    expression = "create_app('dev', 3, [1, None], debug=True, opts={'a': (1, 2)})"
    app = find_app_by_string(module, expression)

    assert isinstance(app, Demijohn)
    assert received == [(("dev", 3, [1, None]), {"debug": True, "opts": {"a": (1, 2)}})]


def test_find_app_by_string_calls_a_factory_named_without_parentheses() -> None:
    app = make_app()
    assert find_app_by_string(make_module(build=lambda: app), " build ") is app


@pytest.mark.parametrize(
    ("app_name", "message"),
    [
        (
            "create_app(",
            "Failed to parse 'create_app(' as an attribute name or function call.",
        ),
        ("a.b", "Failed to parse 'a.b' as an attribute name or function call."),
        ("1 + 2", "Failed to parse '1 + 2' as an attribute name or function call."),
        ("mod.factory()", "Function reference must be a simple name: 'mod.factory()'."),
        (
            "create_app(x)",
            "Failed to parse arguments as literal values: 'create_app(x)'.",
        ),
        ("create_app(**{'a': 1})", "Failed to parse arguments as literal values:"),
        ("create_app(*[1])", "Failed to parse arguments as literal values:"),
        ("create_app({[]: 1})", "Failed to parse arguments as literal values:"),
    ],
)
def test_find_app_by_string_rejects_what_it_cannot_parse(
    app_name: str, message: str
) -> None:
    module = make_module(create_app=make_app)
    with pytest.raises(NoAppException) as exc_info:
        find_app_by_string(module, app_name)
    assert str(exc_info.value).startswith(message)


def test_find_app_by_string_names_a_missing_attribute() -> None:
    with pytest.raises(NoAppException) as exc_info:
        find_app_by_string(make_module("mod"), "x")
    assert str(exc_info.value) == "Failed to find attribute 'x' in 'mod'."


def test_find_app_by_string_explains_arguments_the_factory_rejects() -> None:
    def create_app() -> Demijohn:
        return make_app()

    with pytest.raises(NoAppException) as exc_info:
        find_app_by_string(make_module("mod", create_app=create_app), "create_app(1)")
    assert str(exc_info.value) == (
        "The factory 'create_app(1)' in module 'mod' could not be called with"
        " the specified arguments."
    )


def test_find_app_by_string_lets_a_type_error_inside_the_factory_through() -> None:
    def create_app() -> Demijohn:
        return len(5)  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="has no len"):
        find_app_by_string(make_module(create_app=create_app), "create_app()")


@pytest.mark.parametrize("app_name", ["value", "factory()"])
def test_find_app_by_string_rejects_a_result_that_is_not_an_app(app_name: str) -> None:
    module = make_module("mod", value=object(), factory=lambda: "text")
    with pytest.raises(NoAppException) as exc_info:
        find_app_by_string(module, app_name)
    assert str(exc_info.value) == (
        f"A valid Demijohn application was not obtained from 'mod:{app_name}'."
    )


# -- prepare_import and locate_app --------------------------------------------


def test_prepare_import_of_a_plain_module(tmp_path: Path) -> None:
    write_module(tmp_path / "src", "single.py", "")
    assert prepare_import("src/single.py") == "single"
    assert sys.path[0] == str(tmp_path / "src")


def test_prepare_import_names_a_module_inside_packages(tmp_path: Path) -> None:
    write_module(tmp_path, "outer/__init__.py", "")
    write_module(tmp_path, "outer/inner/__init__.py", "")
    write_module(tmp_path, "outer/inner/mod.py", "")

    assert prepare_import(str(tmp_path / "outer/inner/mod.py")) == "outer.inner.mod"
    assert prepare_import("outer/inner/__init__.py") == "outer.inner"
    assert prepare_import("outer/inner") == "outer.inner"
    assert sys.path[0] == str(tmp_path)


def test_prepare_import_does_not_add_the_same_directory_twice(tmp_path: Path) -> None:
    prepare_import("one.py")
    prepare_import("two.py")
    assert sys.path.count(str(tmp_path)) == 1


def test_locate_app_imports_the_module_and_finds_the_app(tmp_path: Path) -> None:
    write_module(tmp_path, "located.py", APP_MODULE)
    prepare_import("located.py")
    app = locate_app("located", None)
    assert app.name == "located"
    assert locate_app("located", "app") is app


def test_locate_app_reports_a_missing_module() -> None:
    with pytest.raises(NoAppException) as exc_info:
        locate_app("nosuchmodule", None)
    assert str(exc_info.value) == "Could not import 'nosuchmodule'."
    assert locate_app("nosuchmodule", None, raise_if_not_found=False) is None


def test_locate_app_reports_a_missing_submodule(tmp_path: Path) -> None:
    write_module(tmp_path, "pkg/__init__.py", "")
    prepare_import("pkg")
    with pytest.raises(NoAppException, match="Could not import 'pkg.missing'."):
        locate_app("pkg.missing", None)


@pytest.mark.parametrize(
    "source", ["import nosuchdependency\n", "from os import nosuchname\n"]
)
def test_locate_app_shows_the_traceback_of_an_import_error_inside(
    tmp_path: Path, source: str
) -> None:
    write_module(tmp_path, "brokenimport.py", source)
    prepare_import("brokenimport.py")
    with pytest.raises(NoAppException) as exc_info:
        locate_app("brokenimport", None, raise_if_not_found=False)
    message = str(exc_info.value)
    assert message.startswith(
        "While importing 'brokenimport', an ImportError was raised:\n\nTraceback"
    )
    assert "brokenimport.py" in message


def test_locate_app_lets_other_errors_of_the_module_through(tmp_path: Path) -> None:
    write_module(tmp_path, "crashes.py", "1 / 0\n")
    prepare_import("crashes.py")
    with pytest.raises(ZeroDivisionError):
        locate_app("crashes", None)


# -- ScriptInfo ----------------------------------------------------------------


def test_script_info_uses_create_app_once() -> None:
    calls: list[int] = []

    def create_app() -> Demijohn:
        calls.append(1)
        return make_app()

    info = ScriptInfo(create_app=create_app)
    app = info.load_app()
    assert info.load_app() is app
    assert calls == [1]


def test_script_info_loads_an_import_path_with_a_file(tmp_path: Path) -> None:
    write_module(tmp_path, "project/factory.py", FACTORY_MODULE)
    info = ScriptInfo(app_import_path="project/factory.py:create_app('named')")
    assert info.load_app().name == "named"
    assert sys.path[0] == str(tmp_path / "project")


def test_script_info_does_not_split_a_windows_drive_letter() -> None:
    info = ScriptInfo(app_import_path="C:\\project\\app.py:create_app")
    with pytest.raises(NoAppException, match=r"Could not import 'C:\\\\project"):
        info.load_app()


def test_script_info_prefers_wsgi_py_to_app_py(tmp_path: Path) -> None:
    write_module(tmp_path, "app.py", APP_MODULE)
    write_module(tmp_path, "wsgi.py", APP_MODULE)
    assert ScriptInfo().load_app().name == "wsgi"


def test_script_info_falls_back_to_app_py(tmp_path: Path) -> None:
    write_module(tmp_path, "app.py", APP_MODULE)
    assert ScriptInfo().load_app().name == "app"


def test_script_info_explains_how_to_name_the_app_when_none_is_found() -> None:
    with pytest.raises(NoAppException) as exc_info:
        ScriptInfo().load_app()
    assert str(exc_info.value) == (
        "Could not locate a Demijohn application. Use the 'demijohn --app'"
        " option, 'DEMIJOHN_APP' (or 'FLASK_APP') environment variable, or a"
        " 'wsgi.py' or 'app.py' file in the current directory."
    )


@pytest.mark.parametrize(("env", "expected"), [("1", True), ("0", False)])
def test_script_info_sets_debug_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: str, expected: bool
) -> None:
    app = make_app()
    app.debug = not expected
    monkeypatch.setenv("DEMIJOHN_DEBUG", env)
    assert ScriptInfo(create_app=lambda: app).load_app().debug is expected


def test_script_info_can_leave_debug_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    monkeypatch.setenv("DEMIJOHN_DEBUG", "1")
    ScriptInfo(create_app=lambda: app, set_debug_flag=False).load_app()
    assert app.debug is False


def test_script_info_records_skip_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ScriptInfo().load_dotenv_defaults is True
    assert ScriptInfo(load_dotenv_defaults=False).load_dotenv_defaults is False
    monkeypatch.setenv("DEMIJOHN_SKIP_DOTENV", "1")
    assert ScriptInfo().load_dotenv_defaults is False


# -- the demijohn group: finding the app ---------------------------------------


def test_app_option_and_env_var_select_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_module(tmp_path, "first.py", APP_MODULE)
    write_module(tmp_path, "second.py", APP_MODULE)

    assert "hello from first" in invoke("--app", "first", "hello").output
    assert "hello from second" in invoke("-A", "second.py", "hello").output

    monkeypatch.setenv("DEMIJOHN_APP", "first")
    assert "hello from first" in invoke("hello").output
    # The option wins over the variable.
    assert "hello from second" in invoke("--app", "second", "hello").output


def test_app_option_takes_a_factory_with_arguments(tmp_path: Path) -> None:
    write_module(tmp_path, "factory.py", FACTORY_MODULE)
    result = invoke("--app", "factory:create_app('custom')", "hello")
    assert result.exit_code == 0, result.output
    assert result.output == "hello from custom\n"


def test_group_finds_app_py_in_the_working_directory(tmp_path: Path) -> None:
    write_module(tmp_path, "app.py", APP_MODULE)
    result = invoke("hello")
    assert result.exit_code == 0, result.output
    assert result.output == "hello from app debug False\n"


@pytest.mark.parametrize(
    ("app_option", "message"),
    [
        ("nosuchmodule", "Error: Could not import 'nosuchmodule'."),
        ("good:x", "Error: Failed to find attribute 'x' in 'good'."),
        ("good:create(", "Error: Failed to parse 'create(' as an attribute name"),
    ],
)
def test_a_wrong_app_option_is_a_usage_error_without_traceback(
    tmp_path: Path, app_option: str, message: str
) -> None:
    write_module(tmp_path, "good.py", APP_MODULE)
    result = invoke("--app", app_option, "routes")
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_an_app_command_with_a_wrong_app_says_why_it_is_missing() -> None:
    result = invoke("--app", "nosuchmodule", "hello")
    assert result.exit_code == 2
    assert "Error: Could not import 'nosuchmodule'." in result.stderr
    assert "No such command 'hello'" in result.stderr


def test_no_app_at_all_is_explained() -> None:
    result = invoke("routes")
    assert result.exit_code == 2
    assert "Error: Could not locate a Demijohn application." in result.stderr


def test_an_error_raised_by_the_module_propagates(tmp_path: Path) -> None:
    write_module(tmp_path, "crashes.py", "raise RuntimeError('module is broken')\n")
    result = invoke("--app", "crashes", "routes")
    assert isinstance(result.exception, RuntimeError)
    assert str(result.exception) == "module is broken"


def test_help_lists_app_commands_from_the_env_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_module(tmp_path, "listed.py", APP_MODULE)
    monkeypatch.setenv("DEMIJOHN_APP", "listed")
    for args in (["--help"], []):
        result = invoke(*args)
        assert "  hello" in result.output
        assert "  routes" in result.output


def test_help_shows_a_load_error_and_still_lists_commands(tmp_path: Path) -> None:
    write_module(tmp_path, "crashes.py", "raise RuntimeError('module is broken')\n")
    result = invoke("--app", "crashes", "--help")
    assert result.exit_code == 0
    assert "Traceback" in result.stderr
    assert "RuntimeError: module is broken" in result.stderr
    assert "  run" in result.stdout

    result = invoke("--app", "nosuchmodule", "--help")
    assert "Error: Could not import 'nosuchmodule'." in result.stderr
    assert "Traceback" not in result.stderr
    assert "  shell" in result.stdout


def test_module_calling_app_run_does_not_start_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[t.Any] = []
    monkeypatch.setattr(
        "werkzeug.serving.run_simple", lambda *a, **k: started.append(a)
    )
    write_module(tmp_path, "runs.py", APP_MODULE + "\napp.run()\n")

    result = invoke("--app", "runs", "hello")
    assert result.exit_code == 0, result.output
    assert os.environ["DEMIJOHN_RUN_FROM_CLI"] == "true"
    assert started == []


def test_version_option_prints_versions() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("Python ")
    assert lines[1] == (
        f"Demijohn {importlib.metadata.version('demijohn')}"
        f" (the API of Flask {FLASK_VERSION})"
    )
    assert lines[2].startswith("Werkzeug ")


# -- debug flag ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--debug"], None, True),
        (["--no-debug"], "1", False),
        ([], "1", True),
        ([], None, False),
    ],
)
def test_debug_option_sets_app_debug(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: str | None,
    expected: bool,
) -> None:
    write_module(tmp_path, "app.py", APP_MODULE)
    if env is not None:
        monkeypatch.setenv("DEMIJOHN_DEBUG", env)
    result = invoke(*args, "hello")
    assert result.output == f"hello from app debug {expected}\n"


def test_debug_option_is_visible_while_the_factory_runs(tmp_path: Path) -> None:
    write_module(tmp_path, "factory.py", FACTORY_MODULE)

    @click.command()
    @with_appcontext
    def show() -> None:
        click.echo(current_app.config["DEBUG_WHILE_CREATING"])

    group = DemijohnGroup()
    group.add_command(show)
    result = invoke("--app", "factory", "--debug", "show", group=group)
    assert result.output == "True\n"
    assert os.environ["DEMIJOHN_DEBUG"] == "1"
    # As Flask's --debug does, for extensions that read it.
    assert os.environ["FLASK_DEBUG"] == "1"
    invoke("--app", "factory", "--no-debug", "show", group=group)
    assert (os.environ["DEMIJOHN_DEBUG"], os.environ["FLASK_DEBUG"]) == ("0", "0")


# -- dotenv --------------------------------------------------------------------


def write_env(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_load_dotenv_reads_both_default_files_dotenv_winning(tmp_path: Path) -> None:
    write_env(tmp_path, ".demijohnenv", "FROM_DJ=dj\nSHARED=dj\n")
    write_env(tmp_path, ".env", "FROM_ENV=env\nSHARED=env\n")

    assert load_dotenv() is True
    assert os.environ["FROM_DJ"] == "dj"
    assert os.environ["FROM_ENV"] == "env"
    assert os.environ["SHARED"] == "env"


def test_load_dotenv_never_replaces_a_set_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, ".env", "SHARED=env\n")
    monkeypatch.setenv("SHARED", "process")
    assert load_dotenv() is True
    assert os.environ["SHARED"] == "process"


def test_load_dotenv_path_wins_over_default_files(tmp_path: Path) -> None:
    write_env(tmp_path, ".env", "SHARED=env\nFROM_ENV=env\n")
    custom = write_env(tmp_path, "custom.env", "SHARED=custom\n")

    assert load_dotenv(custom) is True
    assert os.environ["SHARED"] == "custom"
    assert os.environ["FROM_ENV"] == "env"


def test_load_dotenv_without_defaults_reads_only_the_path(tmp_path: Path) -> None:
    write_env(tmp_path, ".env", "FROM_ENV=env\n")
    custom = write_env(tmp_path, "custom.env", "FROM_CUSTOM=custom\n")

    assert load_dotenv(str(custom), load_defaults=False) is True
    assert os.environ["FROM_CUSTOM"] == "custom"
    assert "FROM_ENV" not in os.environ


def test_load_dotenv_finds_files_in_parent_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, ".demijohnenv", "FROM_PARENT=yes\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert load_dotenv() is True
    assert os.environ["FROM_PARENT"] == "yes"


def test_load_dotenv_without_files_loads_nothing(tmp_path: Path) -> None:
    assert load_dotenv() is False
    assert load_dotenv(tmp_path / "missing.env") is False


def test_load_dotenv_without_python_dotenv_gives_a_tip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "dotenv", None)
    assert load_dotenv() is False
    assert capsys.readouterr().err == ""

    write_env(tmp_path, ".demijohnenv", "X=1\n")
    assert load_dotenv() is False
    assert "Install python-dotenv to use them." in capsys.readouterr().err
    assert "X" not in os.environ


def test_group_loads_dotenv_before_finding_the_app(tmp_path: Path) -> None:
    write_module(tmp_path, "fromenv.py", APP_MODULE)
    write_env(tmp_path, ".demijohnenv", "DEMIJOHN_APP=fromenv\nDEMIJOHN_DEBUG=1\n")
    result = invoke("hello")
    assert result.output == "hello from fromenv debug True\n"


def test_group_finds_the_app_and_debug_flag_from_flask_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_module(tmp_path, "flaskapp.py", APP_MODULE)
    monkeypatch.setenv("FLASK_APP", "flaskapp")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    result = invoke("hello")
    assert result.exit_code == 0, result.output
    assert result.output == "hello from flaskapp debug True\n"


def test_demijohn_variables_win_over_flask_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_module(tmp_path, "flaskapp.py", APP_MODULE)
    write_module(tmp_path, "ownapp.py", APP_MODULE)
    monkeypatch.setenv("FLASK_APP", "flaskapp")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("DEMIJOHN_APP", "ownapp")
    monkeypatch.setenv("DEMIJOHN_DEBUG", "0")
    assert invoke("hello").output == "hello from ownapp debug False\n"


def test_flaskenv_is_loaded_below_the_other_default_files(tmp_path: Path) -> None:
    write_module(tmp_path, "fromflaskenv.py", APP_MODULE)
    write_env(
        tmp_path,
        ".flaskenv",
        "FLASK_APP=fromflaskenv\nFLASK_DEBUG=1\nSHARED=flaskenv\nONLY_FLASKENV=yes\n",
    )
    write_env(tmp_path, ".demijohnenv", "SHARED=dj\n")
    result = invoke("hello")
    assert result.output == "hello from fromflaskenv debug True\n"
    assert os.environ["SHARED"] == "dj"
    assert os.environ["ONLY_FLASKENV"] == "yes"


def test_flask_skip_dotenv_turns_off_the_default_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, ".env", "FROM_ENV=yes\n")
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")
    invoke("routes")
    assert "FROM_ENV" not in os.environ


def test_flask_commands_entry_points_load_only_with_the_shim(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    @click.command()
    def from_flask() -> None:
        click.echo("flask plugin ran")

    @click.command()
    def from_demijohn() -> None:
        click.echo("demijohn plugin ran")

    by_group = {
        "demijohn.commands": [FakeEntryPoint("db", from_demijohn)],
        "flask.commands": [
            FakeEntryPoint("db", from_flask),
            FakeEntryPoint("migrate", from_flask),
        ],
    }

    def entry_points(*, group: str) -> list[FakeEntryPoint]:
        return by_group[group]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    without_shim = DemijohnGroup()
    assert "No such command 'migrate'" in invoke("migrate", group=without_shim).stderr

    monkeypatch.setattr(demijohn.cli, "flask_shim_active", lambda: True)
    with_shim = DemijohnGroup()
    assert invoke("migrate", group=with_shim).output == "flask plugin ran\n"
    # A demijohn plugin keeps its name.
    assert invoke("db", group=with_shim).output == "demijohn plugin ran\n"
    assert by_group["flask.commands"][0].loads == 0


def test_env_file_option_wins_over_default_files(tmp_path: Path) -> None:
    write_module(tmp_path, "fromenv.py", APP_MODULE)
    write_module(tmp_path, "fromfile.py", APP_MODULE)
    write_env(tmp_path, ".env", "DEMIJOHN_APP=fromenv\n")
    write_env(tmp_path, "custom.env", "DEMIJOHN_APP=fromfile\n")

    assert invoke("hello").output == "hello from fromenv debug False\n"
    del os.environ["DEMIJOHN_APP"]  # set by the first run
    result = invoke("-e", "custom.env", "hello")
    assert result.output == "hello from fromfile debug False\n"


def test_env_file_option_must_exist() -> None:
    result = invoke("--env-file", "missing.env", "routes")
    assert result.exit_code == 2
    assert "Invalid value for '-e' / '--env-file'" in result.stderr
    assert "'missing.env' does not exist" in result.stderr


def test_env_file_option_needs_python_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, "custom.env", "X=1\n")
    monkeypatch.setitem(sys.modules, "dotenv", None)
    result = invoke("-e", "custom.env", "routes")
    assert result.exit_code == 2
    assert "python-dotenv must be installed to load an env file." in result.stderr


def test_skip_dotenv_turns_off_the_default_files_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_module(tmp_path, "fromfile.py", APP_MODULE)
    write_env(tmp_path, ".env", "DEMIJOHN_APP=fromfile\n")
    write_env(tmp_path, "custom.env", "FROM_CUSTOM=yes\n")
    monkeypatch.setenv("DEMIJOHN_SKIP_DOTENV", "1")

    result = invoke("hello")
    assert "Could not locate a Demijohn application" in result.stderr

    invoke("-e", "custom.env", "routes")
    assert os.environ["FROM_CUSTOM"] == "yes"
    assert "DEMIJOHN_APP" not in os.environ


def test_group_can_be_told_not_to_load_dotenv(tmp_path: Path) -> None:
    write_env(tmp_path, ".env", "FROM_ENV=yes\n")
    invoke("routes", group=DemijohnGroup(load_dotenv=False))
    assert "FROM_ENV" not in os.environ


# -- routes --------------------------------------------------------------------


@pytest.fixture
def routes_app() -> Demijohn:
    app = make_app("routes_app")

    @app.route("/")
    def index() -> str:
        return ""

    @app.route("/post", methods=["POST", "PUT"])
    def a_post() -> str:
        return ""

    @app.route("/zzz")
    def b_get() -> str:
        return ""

    return app


def routes_output(app: Demijohn, *args: str) -> str:
    result = app.test_cli_runner().invoke(cli, ["routes", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_routes_prints_a_table_sorted_by_endpoint(routes_app: Demijohn) -> None:
    assert routes_output(routes_app) == (
        "Endpoint  Methods    Rule \n"
        "--------  ---------  -----\n"
        "a_post    POST, PUT  /post\n"
        "b_get     GET        /zzz \n"
        "index     GET        /    \n"
    )


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("endpoint", ["a_post", "b_get", "index"]),
        ("methods", ["index", "b_get", "a_post"]),
        ("rule", ["index", "a_post", "b_get"]),
        ("match", ["index", "a_post", "b_get"]),
        ("domain", ["index", "a_post", "b_get"]),
    ],
)
def test_routes_sort_option(routes_app: Demijohn, sort: str, order: list[str]) -> None:
    for option in ("--sort", "-s"):
        lines = routes_output(routes_app, option, sort).splitlines()[2:]
        assert [line.split()[0] for line in lines] == order


def test_routes_rejects_an_unknown_sort(routes_app: Demijohn) -> None:
    result = routes_app.test_cli_runner().invoke(cli, ["routes", "-s", "size"])
    assert result.exit_code == 2
    assert "Invalid value for '--sort' / '-s'" in result.output


def test_routes_all_methods_shows_head_and_options(routes_app: Demijohn) -> None:
    output = routes_output(routes_app, "--all-methods")
    assert "b_get     GET, HEAD, OPTIONS  /zzz" in output
    assert "a_post    OPTIONS, POST, PUT  /post" in output


def test_routes_shows_a_subdomain_column_when_used() -> None:
    app = make_app()
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/", subdomain="api")
    def api() -> str:
        return ""

    @app.route("/")
    def index() -> str:
        return ""

    assert routes_output(app, "-s", "domain") == (
        "Endpoint  Methods  Subdomain  Rule\n"
        "--------  -------  ---------  ----\n"
        "index     GET                 /   \n"
        "api       GET      api        /   \n"
    )


def test_routes_shows_a_host_column_with_host_matching() -> None:
    app = Demijohn("hosts", host_matching=True, static_folder=None)

    @app.route("/", host="b.test")
    def b() -> str:
        return ""

    @app.route("/", host="a.test")
    def a() -> str:
        return ""

    lines = routes_output(app, "--sort", "domain").splitlines()
    assert lines[0].split() == ["Endpoint", "Methods", "Host", "Rule"]
    assert [line.split()[2] for line in lines[2:]] == ["a.test", "b.test"]


def test_routes_without_routes() -> None:
    assert routes_output(make_app()) == "No routes were registered.\n"


# -- shell ---------------------------------------------------------------------


@pytest.fixture
def interact(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, t.Any]]:
    """Replace the interactive console, recording what it was given."""
    calls: list[dict[str, t.Any]] = []

    def fake_interact(banner: str, local: dict[str, t.Any]) -> None:
        calls.append(
            {"banner": banner, "local": local, "app": current_app._get_current_object()}
        )  # type: ignore[attr-defined]

    monkeypatch.setattr("code.interact", fake_interact)
    monkeypatch.delattr(sys, "__interactivehook__", raising=False)
    return calls


def test_shell_runs_with_the_shell_context(
    app: Demijohn, interact: list[dict[str, t.Any]]
) -> None:
    app.shell_context_processor(lambda: {"answer": 42})
    result = app.test_cli_runner().invoke(cli, ["shell"])

    assert result.exit_code == 0, result.output
    [call] = interact
    assert call["app"] is app
    assert call["local"]["app"] is app
    assert call["local"]["answer"] == 42
    assert "g" in call["local"]
    assert f"App: {app.import_name}\nInstance: {app.instance_path}" in call["banner"]


def test_shell_runs_the_real_console_on_its_input(
    app: Demijohn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # site's hook would read and, at exit, write the user's history file.
    monkeypatch.delattr(sys, "__interactivehook__", raising=False)
    app.shell_context_processor(lambda: {"answer": 42})
    result = app.test_cli_runner().invoke(
        cli, ["shell"], input="print(answer * 2, app.name)\n"
    )
    assert result.exit_code == 0, result.output
    assert f"84 {app.name}" in result.output


def test_shell_runs_pythonstartup_first(
    app: Demijohn,
    interact: list[dict[str, t.Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    startup = write_module(
        tmp_path, "startup.py", "from_startup = 1\napp = 'shadowed'\n"
    )
    monkeypatch.setenv("PYTHONSTARTUP", str(startup))
    app.test_cli_runner().invoke(cli, ["shell"])

    [call] = interact
    assert call["local"]["from_startup"] == 1
    assert call["local"]["app"] is app


def test_shell_calls_the_interactive_hook(
    app: Demijohn, interact: list[dict[str, t.Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    completers: list[t.Any] = []
    hooked: list[bool] = []
    readline = pytest.importorskip("readline")
    monkeypatch.setattr(readline, "set_completer", completers.append)
    monkeypatch.setattr(
        sys, "__interactivehook__", lambda: hooked.append(True), raising=False
    )
    app.shell_context_processor(lambda: {"answer": 42})

    app.test_cli_runner().invoke(cli, ["shell"])
    assert hooked == [True]
    # Importing rlcompleter installs its own completer first.
    assert completers[-1]("answ", 0) == "answer"


# -- run -----------------------------------------------------------------------


@pytest.fixture
def run_simple(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, t.Any]]:
    """Replace Werkzeug's server, recording each call's arguments."""
    calls: list[dict[str, t.Any]] = []

    def fake(host: str, port: int, application: t.Any, **options: t.Any) -> None:
        calls.append({"host": host, "port": port, "app": application, **options})

    monkeypatch.setattr("werkzeug.serving.run_simple", fake)
    return calls


def test_run_serves_the_app_with_defaults(
    tmp_path: Path, run_simple: list[dict[str, t.Any]]
) -> None:
    write_module(tmp_path, "served.py", APP_MODULE)
    result = invoke("--app", "served", "run")
    assert result.exit_code == 0, result.output
    assert result.output == " * Serving Demijohn app 'served'\n * Debug mode: off\n"
    [call] = run_simple
    assert call["app"].name == "served"
    assert call == {
        "host": "127.0.0.1",
        "port": 5000,
        "app": call["app"],
        "use_reloader": False,
        "use_debugger": False,
        "threaded": True,
        "ssl_context": None,
        "extra_files": None,
        "exclude_patterns": None,
    }


@pytest.mark.parametrize("args", [["--debug", "run"], ["run", "--debug"]])
def test_run_in_debug_mode_turns_on_reloader_and_debugger(
    app: Demijohn, run_simple: list[dict[str, t.Any]], args: list[str]
) -> None:
    result = app.test_cli_runner().invoke(cli, args)
    assert " * Debug mode: on" in result.output
    [call] = run_simple
    assert (call["use_reloader"], call["use_debugger"]) == (True, True)
    assert call["app"] is app
    assert app.debug is True


def test_run_options(
    app: Demijohn, run_simple: list[dict[str, t.Any]], tmp_path: Path
) -> None:
    (tmp_path / "a.txt").touch()
    args = [
        "--debug",
        "run",
        "-h",
        "0.0.0.0",
        "-p",
        "8080",
        "--no-reload",
        "--no-debugger",
        "--without-threads",
        "--extra-files",
        os.pathsep.join(["a.txt", "b.txt"]),
        "--exclude-patterns",
        os.pathsep.join(["*.pyc", "tmp/*"]),
    ]
    result = app.test_cli_runner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    [call] = run_simple
    assert (call["host"], call["port"]) == ("0.0.0.0", 8080)
    assert (call["use_reloader"], call["use_debugger"]) == (False, False)
    assert call["threaded"] is False
    assert call["extra_files"] == ["a.txt", "b.txt"]
    assert call["exclude_patterns"] == ["*.pyc", "tmp/*"]


def test_run_options_read_demijohn_run_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_simple: list[dict[str, t.Any]]
) -> None:
    write_module(tmp_path, "app.py", APP_MODULE)
    monkeypatch.setenv("DEMIJOHN_RUN_PORT", "8123")
    monkeypatch.setenv("DEMIJOHN_RUN_HOST", "::1")
    monkeypatch.setenv("DEMIJOHN_RUN_RELOAD", "true")
    result = invoke("run")
    assert result.exit_code == 0, result.output
    [call] = run_simple
    assert (call["host"], call["port"], call["use_reloader"]) == ("::1", 8123, True)


def test_run_options_read_flask_run_variables_when_demijohn_ones_are_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_simple: list[dict[str, t.Any]]
) -> None:
    write_module(tmp_path, "app.py", APP_MODULE)
    monkeypatch.setenv("FLASK_RUN_PORT", "8124")
    monkeypatch.setenv("FLASK_RUN_HOST", "::1")
    monkeypatch.setenv("DEMIJOHN_RUN_HOST", "127.0.0.2")
    result = invoke("run")
    assert result.exit_code == 0, result.output
    [call] = run_simple
    # The demijohn spelling wins where both are set.
    assert (call["host"], call["port"]) == ("127.0.0.2", 8124)


def test_run_rejects_a_bad_port(app: Demijohn, run_simple: list[t.Any]) -> None:
    result = app.test_cli_runner().invoke(cli, ["run", "-p", "http"])
    assert result.exit_code == 2
    assert "'http' is not a valid integer" in result.output
    assert run_simple == []


def test_run_without_an_app_fails(run_simple: list[t.Any]) -> None:
    result = invoke("--app", "nosuchmodule", "run")
    assert result.exit_code == 2
    assert "Error: Could not import 'nosuchmodule'." in result.stderr
    assert run_simple == []


def test_run_in_the_reloader_serves_the_load_error(
    monkeypatch: pytest.MonkeyPatch, run_simple: list[dict[str, t.Any]]
) -> None:
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    result = invoke("--app", "nosuchmodule", "run")
    assert result.exit_code == 0, result.output
    # The banner is for the parent process only.
    assert "Serving" not in result.stdout
    assert "NoAppException" in result.stderr
    [call] = run_simple
    with pytest.raises(NoAppException, match="Could not import 'nosuchmodule'."):
        call["app"]({}, lambda *args: None)


@pytest.fixture
def cert_files(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.touch()
    key.touch()
    return cert, key


def test_run_cert_and_key_become_the_ssl_context(
    app: Demijohn, run_simple: list[dict[str, t.Any]], cert_files: tuple[Path, Path]
) -> None:
    cert, key = cert_files
    result = app.test_cli_runner().invoke(
        cli, ["run", "--key", "key.pem", "--cert", "cert.pem"]
    )
    assert result.exit_code == 0, result.output
    assert run_simple[0]["ssl_context"] == (str(cert), str(key))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--cert", "cert.pem"],
            "Invalid value for '--key': Required when using \"--cert\".",
        ),
        (
            ["--key", "key.pem"],
            "Invalid value for '--key': \"--cert\" must also be specified.",
        ),
        (
            ["--cert", "missing.pem"],
            "Invalid value for '--cert': File 'missing.pem' does not exist.",
        ),
        (
            ["--key", "missing.pem"],
            "Invalid value for '--key': File 'missing.pem' does not exist.",
        ),
    ],
)
def test_run_cert_errors(
    app: Demijohn,
    run_simple: list[t.Any],
    cert_files: tuple[Path, Path],
    args: list[str],
    message: str,
) -> None:
    result = app.test_cli_runner().invoke(cli, ["run", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert run_simple == []


def test_run_adhoc_cert_needs_cryptography(
    app: Demijohn, run_simple: list[t.Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    result = app.test_cli_runner().invoke(cli, ["run", "--cert", "adhoc"])
    assert result.exit_code == 2
    assert (
        "Using ad-hoc certificates requires the cryptography library." in result.output
    )


def test_run_adhoc_cert(
    app: Demijohn,
    run_simple: list[dict[str, t.Any]],
    monkeypatch: pytest.MonkeyPatch,
    cert_files: tuple[Path, Path],
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", types.ModuleType("cryptography"))
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["run", "--cert", "ADHOC"]).exit_code == 0
    assert run_simple[0]["ssl_context"] == "adhoc"

    result = runner.invoke(cli, ["run", "--cert", "adhoc", "--key", "key.pem"])
    assert result.exit_code == 2
    assert 'When "--cert" is "adhoc", "--key" is not used.' in result.output


def test_run_cert_can_import_an_ssl_context(
    app: Demijohn,
    run_simple: list[dict[str, t.Any]],
    tmp_path: Path,
    cert_files: tuple[Path, Path],
) -> None:
    write_module(
        tmp_path,
        "sslconf.py",
        "import ssl\ncontext = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n",
    )
    sys.path.insert(0, str(tmp_path))
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["run", "--cert", "sslconf.context"]).exit_code == 0
    assert isinstance(run_simple[0]["ssl_context"], ssl.SSLContext)

    result = runner.invoke(
        cli, ["run", "--cert", "sslconf.context", "--key", "key.pem"]
    )
    assert result.exit_code == 2
    assert (
        'When "--cert" is an SSLContext object, "--key" is not used.' in result.output
    )

    result = runner.invoke(cli, ["run", "--cert", "sslconf.nothing"])
    assert "File 'sslconf.nothing' does not exist." in result.output


def test_cert_param_type_converts_an_existing_file(
    cert_files: tuple[Path, Path],
) -> None:
    assert CertParamType().convert("cert.pem", None, None) == str(cert_files[0])


def test_separated_path_type_checks_every_path(tmp_path: Path) -> None:
    (tmp_path / "exists").touch()
    path_type = SeparatedPathType(exists=True)
    assert path_type.convert("exists", None, None) == ["exists"]
    with pytest.raises(click.BadParameter, match="'missing' does not exist"):
        path_type.convert(os.pathsep.join(["exists", "missing"]), None, None)


@pytest.mark.parametrize(
    ("debug", "path", "expected"),
    [
        (True, "mod", " * Serving Demijohn app 'mod'\n * Debug mode: on\n"),
        (False, None, " * Debug mode: off\n"),
        (None, "mod", " * Serving Demijohn app 'mod'\n"),
    ],
)
def test_show_server_banner(
    capsys: pytest.CaptureFixture[str],
    debug: bool | None,
    path: str | None,
    expected: str,
) -> None:
    show_server_banner(debug, path)
    assert capsys.readouterr().out == expected


def test_show_server_banner_is_silent_in_the_reloader(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    show_server_banner(True, "mod")
    assert capsys.readouterr().out == ""


# -- with_appcontext, AppGroup, app.cli ---------------------------------------


def test_with_appcontext_loads_the_app_and_pushes_its_context(app: Demijohn) -> None:
    @click.command()
    @with_appcontext
    def command() -> None:
        click.echo(current_app.name)

    result = CliRunner().invoke(command, obj=ScriptInfo(create_app=lambda: app))
    assert result.output == f"{app.name}\n"
    assert not has_app_context()


def test_with_appcontext_uses_a_context_already_pushed(app: Demijohn) -> None:
    def fail() -> Demijohn:
        raise AssertionError("the app should not be loaded again")

    @click.command()
    @with_appcontext
    def command() -> None:
        click.echo(current_app.name)

    with app.app_context():
        result = CliRunner().invoke(command, obj=ScriptInfo(create_app=fail))
    assert result.output == f"{app.name}\n"


def test_with_appcontext_without_an_app_is_a_usage_error() -> None:
    @click.command()
    @with_appcontext
    def command() -> None:
        raise AssertionError("not reached")

    result = CliRunner().invoke(command)
    assert result.exit_code == 2
    assert "Error: Could not locate a Demijohn application." in result.output


def test_app_group_wraps_commands_in_the_app_context(app: Demijohn) -> None:
    group = AppGroup()

    @group.command()
    def inside() -> None:
        click.echo(current_app.name)

    @group.command(with_appcontext=False)
    def outside() -> None:
        click.echo(has_app_context())

    obj = ScriptInfo(create_app=lambda: app)
    assert CliRunner().invoke(group, ["inside"], obj=obj).output == f"{app.name}\n"
    assert CliRunner().invoke(group, ["outside"], obj=obj).output == "False\n"


def test_app_group_makes_app_groups(app: Demijohn) -> None:
    @app.cli.group()
    def db() -> None:
        pass

    @db.command()
    def migrate() -> None:
        click.echo(f"migrating {current_app.name}")

    assert isinstance(db, AppGroup)
    result = app.test_cli_runner().invoke(args=["db", "migrate"])
    assert result.output == f"migrating {app.name}\n"


def test_app_cli_commands_run_through_the_test_runner(app: Demijohn) -> None:
    @app.cli.command("greet")
    @click.argument("name")
    @click.option("--shout", is_flag=True)
    def greet(name: str, shout: bool) -> None:
        message = f"hello {name} from {current_app.name}"
        click.echo(message.upper() if shout else message)

    runner = app.test_cli_runner()
    assert runner.invoke(args=["greet", "you"]).output == f"hello you from {app.name}\n"
    assert runner.invoke(args=["greet", "you", "--shout"]).output == (
        f"HELLO YOU FROM {app.name.upper()}\n"
    )
    result = runner.invoke(args=["greet"])
    assert result.exit_code == 2
    assert "Missing argument 'NAME'" in result.output


def test_blueprint_commands_run_under_the_demijohn_command(app: Demijohn) -> None:
    bp = Blueprint("admin", __name__)

    @bp.cli.command("create-user")
    def create_user() -> None:
        click.echo(f"created in {current_app.name}")

    app.register_blueprint(bp)
    result = app.test_cli_runner().invoke(cli, ["admin", "create-user"])
    assert result.output == f"created in {app.name}\n"


def test_group_pushes_the_context_of_its_own_app(app: Demijohn) -> None:
    @app.cli.command()
    def which() -> None:
        click.echo(current_app.name)

    other = make_app("other_app")
    with other.app_context():
        result = app.test_cli_runner().invoke(cli, ["which"])
    assert result.output == f"{app.name}\n"


def test_pass_script_info_passes_the_group_script_info(app: Demijohn) -> None:
    @click.command()
    @pass_script_info
    def info(script_info: ScriptInfo) -> None:
        click.echo(script_info.load_app() is app)

    group = DemijohnGroup(create_app=lambda: app)
    group.add_command(info)
    assert invoke("info", group=group).output == "True\n"


# -- custom groups and plugins -------------------------------------------------


def test_flask_group_is_demijohn_group() -> None:
    assert FlaskGroup is DemijohnGroup


def test_custom_group_with_create_app(app: Demijohn) -> None:
    @app.cli.command()
    def hello() -> None:
        click.echo("from the app")

    @click.group(cls=DemijohnGroup, create_app=lambda: app)
    def manage() -> None:
        """Manage the app."""

    result = invoke("hello", group=manage)
    assert result.output == "from the app\n"
    assert "routes" in invoke("--help", group=manage).output


def test_custom_group_options(app: Demijohn) -> None:
    group = DemijohnGroup(
        add_default_commands=False,
        add_version_option=False,
        create_app=lambda: app,
        params=[click.Option(["--verbose"], is_flag=True, expose_value=False)],
        context_settings={"help_option_names": ["--aide"]},
    )
    result = invoke("--aide", group=group)
    assert result.exit_code == 0
    assert "--verbose" in result.output
    assert "--app" in result.output
    assert "routes" not in result.output
    assert "No such option '--version'" in invoke("--version", group=group).output
    assert group.context_settings["auto_envvar_prefix"] == "DEMIJOHN"


class FakeEntryPoint:
    def __init__(self, name: str, command: click.Command) -> None:
        self.name = name
        self._command = command
        self.loads = 0

    def load(self) -> click.Command:
        self.loads += 1
        return self._command


def test_plugin_commands_come_from_entry_points(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    @click.command()
    def plugin() -> None:
        click.echo("plugin ran")

    entry_point = FakeEntryPoint("from-plugin", plugin)
    groups: list[str] = []

    def entry_points(*, group: str) -> list[FakeEntryPoint]:
        groups.append(group)
        return [entry_point]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    group = DemijohnGroup()
    # Plugins run even when no app can be found.
    result = invoke("from-plugin", group=group)
    assert result.output == "plugin ran\n"
    assert "from-plugin" in invoke("--help", group=group).output
    assert groups == ["demijohn.commands"]
    assert entry_point.loads == 1


# -- entry points of the program -----------------------------------------------


def test_main_runs_the_demijohn_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["demijohn", "--version"])
    with pytest.raises(SystemExit) as exc_info:
        main()
    assert exc_info.value.code == 0
    assert "Demijohn " in capsys.readouterr().out
    assert demijohn.cli.cli.name == "demijohn"


def test_python_dash_m_demijohn(tmp_path: Path) -> None:
    write_module(tmp_path, "app.py", APP_MODULE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEMIJOHN_")}
    completed = subprocess.run(
        [sys.executable, "-m", "demijohn", "routes"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[2].split() == ["index", "GET", "/"]
