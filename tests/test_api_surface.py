"""Every public name of Flask 3.1 is importable from the same demijohn module
and means the same thing.

The names are read from the installed Flask (a test-only dependency), so a
name Flask exposes and demijohn lacks fails here rather than in a user's
``from flask.x import y``. "Public" is what a user can import: names not
starting with ``_`` that a Flask module defines or imports from Flask or a
third-party package (extensions rely on such re-exports: Flask-Login does
``from flask.signals import Namespace``). Names a Flask module imports from
the standard library are left out; they are not Flask's API.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import json
import subprocess
import sys
import types
import typing as t

import blinker
import flask
import pytest
from jinja2 import DictLoader
from werkzeug.local import LocalProxy

import demijohn
from demijohn.debughelpers import DebugFilesKeyError

#: Each Flask module and the demijohn module that stands in for it. Flask
#: splits its protocol-independent base classes into ``flask.sansio``;
#: demijohn has one class for both protocols, in the plain modules.
MODULES = {
    "flask": "demijohn",
    **{
        f"flask.{name}": f"demijohn.{name}"
        for name in (
            "app",
            "blueprints",
            "cli",
            "config",
            "ctx",
            "debughelpers",
            "globals",
            "helpers",
            "json",
            "json.provider",
            "json.tag",
            "logging",
            "sessions",
            "signals",
            "templating",
            "testing",
            "typing",
            "views",
            "wrappers",
        )
    },
    "flask.sansio.app": "demijohn.app",
    "flask.sansio.blueprints": "demijohn.blueprints",
    "flask.sansio.scaffold": "demijohn.scaffold",
}

#: Underscore names that extensions import anyway.
PRIVATE_NAMES = [
    ("flask.globals", "_cv_app"),
    ("flask.globals", "_cv_request"),
    ("flask.json.provider", "_default"),
]

#: Packages whose objects Flask re-exports as they are: demijohn must
#: re-export the very same object.
THIRD_PARTY = ("werkzeug", "jinja2", "itsdangerous", "click", "blinker", "markupsafe")

#: Names both ``flask.app`` and ``flask.sansio.app`` define, as different
#: objects; ``demijohn.app`` stands in for both and holds ``flask.app``'s.
#: ``flask.sansio.app.Response`` is Werkzeug's sans-IO response, which
#: demijohn's :class:`~demijohn.Response` subclasses.
SANSIO_SHADOWED = {("flask.sansio.app", "Response")}

#: Method parameters named differently from Flask's, and why that is safe.
KNOWN_SIGNATURE_DIFFERENCES = {
    # click calls get_command(ctx, cmd_name) positionally; demijohn keeps
    # click's parameter name.
    ("FlaskGroup", "get_command"),
    # A hashlib constructor in Flask; itsdangerous only ever calls it with
    # no arguments.
    ("SecureCookieSessionInterface", "digest_method"),
}


def _imported_names(module: types.ModuleType, packages: t.Container[str]) -> set[str]:
    """The names ``module``'s source binds by importing from one of the
    top-level ``packages``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.partition(".")[0]
                if top in packages:
                    names.add(alias.asname or top)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.partition(".")[0] in packages
        ):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


STDLIB = {*sys.stdlib_module_names, "typing_extensions", "__future__"}


def _public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    stdlib = _imported_names(module, STDLIB)
    return [
        name
        for name in dir(module)
        if not name.startswith("_")
        and name not in stdlib
        # Submodule attributes (``flask.app.cli``) only exist because of
        # import order; the modules themselves are listed in MODULES.
        and not isinstance(getattr(module, name), types.ModuleType)
    ]


NAMES = [
    (flask_module, name)
    for flask_module in MODULES
    for name in _public_names(flask_module)
] + PRIVATE_NAMES


def _counterpart(flask_module: str, name: str) -> t.Any:
    module = importlib.import_module(MODULES[flask_module])
    assert hasattr(module, name), f"{MODULES[flask_module]}.{name} is missing"
    return getattr(module, name)


def _package_of(value: t.Any) -> str:
    module = getattr(value, "__module__", None)
    if not isinstance(module, str):
        module = type(value).__module__
    return module.partition(".")[0]


@functools.cache
def _third_party_imports(flask_module: str) -> set[str]:
    return _imported_names(importlib.import_module(flask_module), THIRD_PARTY)


def _is_reexport(flask_module: str, name: str) -> bool:
    """Whether Flask's module imports ``name`` from a third-party package."""
    return name in _third_party_imports(flask_module)


def _parameters(func: t.Any) -> list[str] | None:
    try:
        return list(inspect.signature(func).parameters)
    except (TypeError, ValueError):  # builtins without a signature
        return None


def _flask_to_demijohn(text: str) -> str:
    return text.replace("flask", "demijohn")


def _check_class(flask_cls: type, ours: t.Any) -> None:
    assert inspect.isclass(ours), f"{ours!r} is not a class"
    # Flask's third-party and builtin bases (werkzeug's Client, KeyError,
    # click.Group, ...) decide what ``except`` and ``isinstance`` see.
    for base in flask_cls.__mro__:
        if _package_of(base) in (*THIRD_PARTY, "builtins"):
            assert issubclass(ours, base), f"{ours!r} is not a {base!r}"
    for attr in dir(flask_cls):
        if attr.startswith("_") and attr != "__init__":
            continue
        assert hasattr(ours, attr), f"{ours.__name__}.{attr} is missing"
        flask_attr = getattr(flask_cls, attr)
        if (flask_cls.__name__, attr) in KNOWN_SIGNATURE_DIFFERENCES:
            continue
        if callable(flask_attr) and not inspect.isclass(flask_attr):
            expected = _parameters(flask_attr)
            if expected is not None:
                assert _parameters(getattr(ours, attr)) == expected, (
                    f"{ours.__name__}.{attr} takes different parameters"
                )


def _check_same_meaning(flask_value: t.Any, ours: t.Any) -> None:
    if type(flask_value) is LocalProxy:
        # Which object a proxy stands for is checked by test_one_object_*.
        # Ours may be a subclass (demijohn.globals._ContextProxy), which
        # reads the same whether bound or not.
        assert isinstance(ours, LocalProxy)
        assert repr(ours) == repr(flask_value)
    elif isinstance(flask_value, blinker.NamedSignal):
        assert isinstance(ours, blinker.NamedSignal)
        assert ours.name == flask_value.name
    elif isinstance(flask_value, t.TypeVar):
        assert isinstance(ours, t.TypeVar)
        assert repr(ours.__bound__) == _flask_to_demijohn(repr(flask_value.__bound__))
    elif inspect.isclass(flask_value):
        _check_class(flask_value, ours)
    elif inspect.isfunction(flask_value):
        assert callable(ours)
        assert _parameters(ours) == _parameters(flask_value)
    elif t.get_origin(flask_value) is not None:
        # A public type alias: the same union or callable type, spelled
        # with demijohn's classes.
        assert str(ours) == _flask_to_demijohn(str(flask_value))
    elif isinstance(flask_value, (str, int, frozenset, tuple, dict)):
        assert ours == flask_value
    else:
        # An instance (the ``cli`` group, the session serializer, the log
        # handler): an instance of the same class, or of its demijohn twin.
        flask_type = type(flask_value)
        if _package_of(flask_type) == "flask":
            assert isinstance(
                ours, _counterpart(flask_type.__module__, flask_type.__name__)
            )
        else:
            assert isinstance(ours, flask_type)
        # Click commands and options, context variables: the name says
        # which one it is.
        flask_name = getattr(flask_value, "name", None)
        if isinstance(flask_name, str):
            assert ours.name == _flask_to_demijohn(flask_name)


@pytest.mark.parametrize(
    ("flask_module", "name"), NAMES, ids=[f"{m}:{n}" for m, n in NAMES]
)
def test_flask_name_exists_with_the_same_meaning(flask_module: str, name: str) -> None:
    flask_value = getattr(importlib.import_module(flask_module), name)
    ours = _counterpart(flask_module, name)
    if (flask_module, name) in SANSIO_SHADOWED:
        assert issubclass(ours, flask_value)
    elif _is_reexport(flask_module, name):
        assert ours is flask_value, "must re-export the same object"
    else:
        _check_same_meaning(flask_value, ours)


def _shared_objects() -> list[list[tuple[str, str]]]:
    """Groups of (module, name) that are one object in Flask, for example
    ``flask.request`` and ``flask.templating.request``."""
    places: dict[int, list[tuple[str, str]]] = {}
    for flask_module, name in NAMES:
        value = getattr(importlib.import_module(flask_module), name)
        if _is_reexport(flask_module, name):
            continue  # identity with the third-party object is checked above
        places.setdefault(id(value), []).append((flask_module, name))
    return [group for group in places.values() if len(group) > 1]


SHARED = _shared_objects()


@pytest.mark.parametrize("group", SHARED, ids=[f"{g[0][0]}:{g[0][1]}" for g in SHARED])
def test_one_object_in_flask_is_one_object_in_demijohn(
    group: list[tuple[str, str]],
) -> None:
    ours = {id(_counterpart(module, name)) for module, name in group}
    assert len(ours) == 1, f"{group} are one object in Flask but not here"


def test_the_surface_is_checked_at_all() -> None:
    # Guards the enumeration itself: a filter that dropped everything would
    # make every test above pass vacuously.
    names = set(NAMES)
    assert ("flask", "Flask") in names
    assert ("flask.signals", "Namespace") in names
    assert ("flask.testing", "FlaskClient") in names
    assert ("flask.typing", "ResponseReturnValue") in names
    assert ("flask.ctx", "contextvars") not in names
    assert len(names) > 300
    assert SHARED


def test_flask_aliases_are_the_demijohn_classes() -> None:
    import demijohn.app
    import demijohn.blueprints
    import demijohn.cli
    import demijohn.testing

    assert demijohn.Flask is demijohn.app.Flask is demijohn.Demijohn
    assert demijohn.app.App is demijohn.Demijohn
    assert demijohn.blueprints.SansioBlueprint is demijohn.Blueprint
    assert demijohn.testing.FlaskClient is demijohn.testing.DemijohnClient
    assert demijohn.cli.FlaskGroup is demijohn.cli.DemijohnGroup


def test_cli_is_an_attribute_after_import_demijohn_alone() -> None:
    # Flask code reaches flask.cli after a bare "import flask"; after the one
    # changed import it reaches demijohn.cli, which is imported on first use.
    code = """
import json, sys
import demijohn
before = "demijohn.cli" in sys.modules
group = demijohn.cli.AppGroup
try:
    demijohn.no_such_name
except AttributeError as e:
    error = str(e)
print(json.dumps([before, group is sys.modules["demijohn.cli"].AppGroup, error]))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        False,
        True,
        "module 'demijohn' has no attribute 'no_such_name'",
    ]


# -- names added for Flask parity behave like Flask's ----------------------

MACROS = {"macros.html": "{% macro hello(name) %}Hello {{ name }}!{% endmacro %}"}


@pytest.mark.parametrize("module", [flask, demijohn], ids=["flask", "demijohn"])
def test_get_template_attribute_calls_a_template_macro(module: t.Any) -> None:
    app = module.Flask(__name__)
    app.jinja_loader = DictLoader(MACROS)
    with app.app_context():
        hello = module.get_template_attribute("macros.html", "hello")
        assert str(hello("World")) == "Hello World!"
        with pytest.raises(AttributeError):
            module.get_template_attribute("macros.html", "goodbye")


def test_get_template_attribute_needs_an_app_context() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        demijohn.get_template_attribute("macros.html", "hello")


def _upload_app() -> demijohn.Demijohn:
    app = demijohn.Demijohn(__name__)

    @app.post("/")
    def upload() -> str:
        return demijohn.request.files["report"].filename or ""

    return app


def test_debug_mode_explains_a_file_sent_without_multipart() -> None:
    app = _upload_app()
    app.debug = True
    with pytest.raises(DebugFilesKeyError) as caught:
        app.test_client().post("/", data={"report": "q3.pdf"})
    message = str(caught.value)
    assert 'enctype="multipart/form-data"' in message
    # Flask's phrases, which tests written for Flask look for.
    assert "no file contents were transmitted" in message
    assert "This was submitted: 'q3.pdf'" in message
    assert isinstance(caught.value, KeyError)


def test_debug_mode_keeps_a_plain_400_for_unknown_keys() -> None:
    app = _upload_app()
    app.debug = True
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False
    assert app.test_client().post("/", data={"other": "x"}).status_code == 400


def test_without_debug_a_missing_file_is_a_400() -> None:
    response = _upload_app().test_client().post("/", data={"report": "q3.pdf"})
    assert response.status_code == 400
