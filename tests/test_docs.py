"""The documentation builds without warnings and documents every public name.

The docs are built once per test session, exactly as ``scripts/build-docs``
builds them (warnings are errors), into a temporary folder. The completeness
tests read the resulting ``objects.inv``: a public function, class, method,
config key or signal that has no entry in the API reference fails here, with
the list of what is missing.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
import types
import typing as t
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

import demijohn
from demijohn.blueprints import Blueprint
from demijohn.config import DEFAULT_CONFIG
from demijohn.lifecycle import Lifecycle
from demijohn.lifespan import Lifespan
from demijohn.scaffold import Scaffold
from demijohn.urls import URLBuilding

pytest.importorskip("sphinx", reason="the docs extra is not installed")
pytest.importorskip("myst_parser", reason="the docs extra is not installed")
pytest.importorskip("furo", reason="the docs extra is not installed")

DOCS = Path(__file__).resolve().parent.parent / "docs"

# Modules whose names are documented under ``demijohn.<name>`` rather than
# under the module, when the package re-exports them.
TOP = "demijohn"


@dataclass
class Build:
    returncode: int
    output: str
    html: Path


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    out = tmp_path_factory.mktemp("docs")
    html = out / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            # Per-object sidebar entries cost a quarter of the build and
            # change neither the warnings nor objects.inv.
            "-D",
            "toc_object_entries=0",
            "-d",
            str(out / "doctrees"),
            str(DOCS),
            str(html),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Build(result.returncode, result.stdout + result.stderr, html)


def read_inventory(path: Path) -> dict[str, set[str]]:
    """Map each documented name to its roles (``py:function``, ...).

    ``objects.inv`` is four header lines, then zlib-compressed lines of
    ``name domain:role priority uri display-name``.
    """
    with path.open("rb") as f:
        header = [f.readline() for _ in range(4)]
        assert header[0].startswith(b"# Sphinx inventory version 2")
        body = zlib.decompress(f.read()).decode("utf-8")
    entries: dict[str, set[str]] = {}
    for line in body.splitlines():
        match = re.match(r"(.+?)\s+(\S+?:\S+)\s+-?\d+\s", line)
        assert match is not None, line
        entries.setdefault(match.group(1), set()).add(match.group(2))
    return entries


@pytest.fixture(scope="session")
def inventory(docs_build: Build) -> dict[str, set[str]]:
    path = docs_build.html / "objects.inv"
    if not path.exists():
        pytest.fail(f"the docs build wrote no objects.inv:\n{docs_build.output}")
    return read_inventory(path)


#: Public modules that must not be imported here, and why. They are still
#: required to have a ``py:module`` entry.
NOT_IMPORTED = {
    "demijohn.compat.flask_shim": "importing it turns the Flask import shim on",
}


def public_module_names() -> list[str]:
    """``demijohn`` and every submodule whose name has no leading underscore."""
    names = [TOP]
    for info in pkgutil.walk_packages(demijohn.__path__, f"{TOP}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def public_modules() -> list[types.ModuleType]:
    return [
        importlib.import_module(name)
        for name in public_module_names()
        if name not in NOT_IMPORTED
    ]


def defined_names(module: types.ModuleType) -> list[str]:
    """The public names a module defines, or a package re-exports.

    ``__all__`` when the module has one; otherwise its top-level ``def``,
    ``class`` and assignments, and for a package its ``import x as x``
    re-exports. A plain module's ``import x as x`` lines re-export Flask's
    names for compatibility and are documented where ``x`` is defined. Type
    variables, aliases of documented objects (see :func:`is_alias`) and
    names under ``if TYPE_CHECKING`` are not checked.
    """
    explicit = getattr(module, "__all__", None)
    if explicit is not None:
        return list(explicit)
    is_package = hasattr(module, "__path__")
    tree = ast.parse(inspect.getsource(module))
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign) and not is_alias(module, node.value):
            names += [n.id for n in node.targets if isinstance(n, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif isinstance(node, ast.ImportFrom) and is_package:
            names += [a.name for a in node.names if a.asname == a.name]
    return [
        name
        for name in dict.fromkeys(names)
        if not name.startswith("_") and not isinstance(getattr(module, name), t.TypeVar)
    ]


def is_alias(module: types.ModuleType, value: ast.expr) -> bool:
    """Whether an assignment only gives a second name to a class or
    function of demijohn, like ``Flask = Demijohn``; the original is
    checked instead."""
    if not isinstance(value, ast.Name):
        return False
    obj = getattr(module, value.id, None)
    return (
        isinstance(obj, (type, types.FunctionType))
        and obj.__module__.startswith(TOP)
        and obj.__name__ == value.id
    )


def accepted_paths(module: types.ModuleType, name: str) -> list[str]:
    """Where the reference may document ``module.name``: there, or under
    ``demijohn.name`` when the package re-exports the same object."""
    paths = [f"{module.__name__}.{name}"]
    obj = getattr(module, name)
    if module is not demijohn and getattr(demijohn, name, None) is obj:
        paths.append(f"{TOP}.{name}")
    return paths


def public_members(cls: type) -> list[str]:
    """Public attributes ``cls`` itself defines (not inherited).

    Left out: ``__slots__`` entries (documented as constructor parameters)
    and plain values that only override a third-party base class's, such
    as an HTTP exception's ``code``.
    """
    return [
        name
        for name, value in vars(cls).items()
        if not name.startswith("_")
        and not isinstance(value, (t.TypeVar, types.MemberDescriptorType))
        and not (is_plain_value(value) and overrides_foreign(cls, name))
    ]


def is_plain_value(value: object) -> bool:
    return not callable(value) and not hasattr(value, "__get__")


def overrides_foreign(cls: type, name: str) -> bool:
    return any(
        name in vars(base)
        for base in cls.__mro__[1:]
        if not base.__module__.startswith(TOP)
    )


def test_docs_build_without_warnings(docs_build: Build) -> None:
    assert docs_build.returncode == 0, docs_build.output


def test_every_public_module_is_documented(inventory: dict[str, set[str]]) -> None:
    missing = [
        name
        for name in public_module_names()
        if "py:module" not in inventory.get(name, ())
    ]
    assert not missing, f"modules without an automodule entry: {missing}"


def test_every_public_name_is_documented(inventory: dict[str, set[str]]) -> None:
    missing = []
    for module in public_modules():
        for name in defined_names(module):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType):
                if "py:module" not in inventory.get(obj.__name__, ()):
                    missing.append(obj.__name__)
                continue
            paths = accepted_paths(module, name)
            if not any(path in inventory for path in paths):
                missing.append(" or ".join(paths))
    assert not missing, "public names missing from the API reference:\n" + "\n".join(
        missing
    )


def documented_class_path(cls: type, inventory: dict[str, set[str]]) -> str:
    for path in (f"{TOP}.{cls.__name__}", f"{cls.__module__}.{cls.__name__}"):
        if "py:class" in inventory.get(path, ()) or "py:exception" in inventory.get(
            path, ()
        ):
            return path
    raise AssertionError(f"{cls.__module__}.{cls.__name__} is not documented")


def documented_classes() -> list[type]:
    classes = []
    for module in public_modules():
        for name in defined_names(module):
            obj = getattr(module, name)
            if (
                isinstance(obj, type)
                and obj.__module__.startswith(TOP)
                and obj.__name__ == name
                and obj not in classes
            ):
                classes.append(obj)
    return classes


def test_every_public_member_is_documented(inventory: dict[str, set[str]]) -> None:
    # The methods of the application's base classes (the lifecycle, the URL
    # and lifespan methods) and of the scaffold are documented on the classes
    # that users subclass and call them on; the next test checks those.
    inherited_elsewhere = {*demijohn.Demijohn.__mro__[1:], Scaffold}
    missing = []
    for cls in documented_classes():
        if cls in inherited_elsewhere:
            continue
        path = documented_class_path(cls, inventory)
        missing += [
            f"{path}.{name}"
            for name in public_members(cls)
            if f"{path}.{name}" not in inventory
        ]
    assert not missing, "public members missing from the API reference:\n" + "\n".join(
        missing
    )


@pytest.mark.parametrize(
    ("base", "documented_on"),
    [
        (demijohn.Demijohn, ["demijohn.Demijohn"]),
        (Lifecycle, ["demijohn.Demijohn"]),
        (URLBuilding, ["demijohn.Demijohn"]),
        (Lifespan, ["demijohn.Demijohn"]),
        (Scaffold, ["demijohn.Demijohn", "demijohn.Blueprint"]),
        (Blueprint, ["demijohn.Blueprint"]),
    ],
)
def test_overridable_methods_are_documented_on_the_class_users_subclass(
    inventory: dict[str, set[str]], base: type, documented_on: list[str]
) -> None:
    names = [
        name
        for klass in base.__mro__
        if klass.__module__.startswith(TOP)
        for name in public_members(klass)
    ]
    assert "dispatch_request" in names or base in (Scaffold, Blueprint)
    missing = [
        f"{owner}.{name}"
        for owner in documented_on
        for name in dict.fromkeys(names)
        if f"{owner}.{name}" not in inventory
    ]
    assert not missing, "\n".join(missing)


def test_every_config_key_is_documented(
    inventory: dict[str, set[str]], docs_build: Build
) -> None:
    missing = [key for key in DEFAULT_CONFIG if "py:data" not in inventory.get(key, ())]
    assert not missing, f"config keys without a '.. config-key::' entry: {missing}"
    page = (docs_build.html / "api" / "config.html").read_text("utf-8")
    table = page[page.index("<table") : page.index("</table>")]
    for key in DEFAULT_CONFIG:
        assert f">{key}<" in table, f"{key} is not in the config table"


def test_config_table_shows_the_defaults(docs_build: Build) -> None:
    page = (docs_build.html / "api" / "config.html").read_text("utf-8")
    table = page[page.index("<table") : page.index("</table>")]
    rows = re.findall(r"<tr.*?</tr>", table, flags=re.S)
    shown = {}
    for row in rows[1:]:
        cells = [
            re.sub(r"<[^>]+>", "", c)
            for c in re.findall(r"<td.*?</td>", row, flags=re.S)
        ]
        shown[cells[0].strip()] = cells[1].strip().replace("&#39;", "'")
    assert shown["SESSION_COOKIE_NAME"] == "'session'"
    assert shown["PERMANENT_SESSION_LIFETIME"] == "timedelta(days=31)"
    assert shown["MAX_FORM_PARTS"] == repr(DEFAULT_CONFIG["MAX_FORM_PARTS"])
    assert set(shown) == set(DEFAULT_CONFIG)


def test_every_signal_is_documented_with_its_arguments(
    inventory: dict[str, set[str]],
) -> None:
    from blinker import NamedSignal
    from sphinx.pycode import ModuleAnalyzer

    import demijohn.signals as signals

    comments = ModuleAnalyzer.for_module("demijohn.signals").find_attr_docs()
    found = [
        name for name, value in vars(signals).items() if isinstance(value, NamedSignal)
    ]
    assert "request_started" in found
    missing = [
        name
        for name in found
        if not any(p in inventory for p in accepted_paths(signals, name))
    ]
    assert not missing, f"signals missing from the reference: {missing}"
    # Receivers need to know what they are called with.
    vague = [
        name
        for name in found
        if not re.search(
            r"with ``\w+``|No extra arguments", " ".join(comments.get(("", name), []))
        )
    ]
    assert not vague, f"signals whose docs do not name their arguments: {vague}"
