"""The machinery of the Flask import shim: an import hook that answers
``import flask`` and ``import flask.<module>`` with demijohn's modules.

Importing this module changes nothing; :func:`activate` installs the hook.
:mod:`demijohn.compat.flask_shim`, the ``DEMIJOHN_FLASK_SHIM`` environment
variable and the ``demijohn --flask-shim`` option all call it.

Rules for this module: it may only touch ``sys.meta_path`` and the ``flask``
entries of ``sys.modules``, and only from :func:`activate`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import os
import pathlib
import re
import sys
import types
import typing as t

#: The Flask release whose public API demijohn implements. ``flask.__version__``
#: and ``importlib.metadata.version("flask")`` report it while the shim is
#: active, for extensions that check which Flask they run on.
FLASK_VERSION = "3.1.3"

#: The environment variable that activates the shim when :mod:`demijohn` is
#: imported. ``1``, ``true`` or any value other than ``0``, ``false``,
#: ``no`` or empty turns it on.
SHIM_ENV_VAR = "DEMIJOHN_FLASK_SHIM"

#: Flask 3.1's modules and the demijohn modules that stand in for them.
#: Flask keeps protocol-independent base classes in ``flask.sansio``;
#: demijohn's classes serve both protocols, so those names map to the plain
#: modules.
MODULE_MAP: dict[str, str] = {
    "flask.app": "demijohn.app",
    "flask.blueprints": "demijohn.blueprints",
    "flask.cli": "demijohn.cli",
    "flask.config": "demijohn.config",
    "flask.ctx": "demijohn.ctx",
    "flask.debughelpers": "demijohn.debughelpers",
    "flask.globals": "demijohn.globals",
    "flask.helpers": "demijohn.helpers",
    "flask.json": "demijohn.json",
    "flask.json.provider": "demijohn.json.provider",
    "flask.json.tag": "demijohn.json.tag",
    "flask.logging": "demijohn.logging",
    "flask.sessions": "demijohn.sessions",
    "flask.signals": "demijohn.signals",
    "flask.templating": "demijohn.templating",
    "flask.testing": "demijohn.testing",
    "flask.typing": "demijohn.typing",
    "flask.views": "demijohn.views",
    "flask.wrappers": "demijohn.wrappers",
    "flask.sansio.app": "demijohn.app",
    "flask.sansio.blueprints": "demijohn.blueprints",
    "flask.sansio.scaffold": "demijohn.scaffold",
}

#: The packages the shim creates itself: ``flask`` (demijohn's namespace with
#: Flask's version) and ``flask.sansio``, which holds only submodules.
PACKAGES = frozenset({"flask", "flask.sansio"})

_FLASK_DOC = f"""\
demijohn, imported as ``flask`` by demijohn's Flask import shim.

Every name resolves to demijohn's (``flask.Flask is demijohn.Demijohn``);
``__version__`` is {FLASK_VERSION!r}, the Flask release whose API demijohn
implements. See :mod:`demijohn.compat`.
"""


def _is_flask_name(name: str) -> bool:
    return name == "flask" or name.startswith("flask.")


class _AliasLoader(importlib.abc.Loader):
    """Loads ``flask.<module>`` as the already imported demijohn module, so
    both names give one module object (and one set of classes)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = importlib.import_module(self.target)
        self._target_spec = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system stamped the alias spec onto the module while
        # "creating" it; give the module its own spec back so reloading,
        # pickling and ``python -m`` keep seeing the demijohn module.
        module.__spec__ = self._target_spec


class _FlaskPackageLoader(importlib.abc.Loader):
    """Creates the ``flask`` package itself (a view of :mod:`demijohn` that
    reports Flask's version) and ``flask.sansio`` (an empty package)."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default: a new, empty module

    def __repr__(self) -> str:
        # Shown by ``repr(flask)``, which has no file to name.
        return "demijohn's Flask shim"

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__name__ == "flask":
            _fill_flask_package(module)
        else:
            module.__doc__ = (
                "Flask's sans-IO base classes; under demijohn's shim its"
                " submodules are demijohn's own modules."
            )
            module.__getattr__ = _submodule_getter(module)  # type: ignore[method-assign]


def _submodule_getter(package: types.ModuleType) -> t.Callable[[str], t.Any]:
    """A module ``__getattr__`` for ``package`` that imports its Flask
    submodules on first use. Importing Flask imports most of its modules,
    so code that ran ``import flask`` alone uses ``flask.cli.AppGroup`` or
    ``flask.sansio.app``; the shim gives the same access, importing the
    module the name stands for (which then stays an attribute)."""

    def __getattr__(name: str) -> t.Any:
        fullname = f"{package.__name__}.{name}"
        if fullname in MODULE_MAP or fullname in PACKAGES:
            return importlib.import_module(fullname)
        raise AttributeError(
            f"module {package.__name__!r} (demijohn's Flask shim) has no"
            f" attribute {name!r}"
        )

    return __getattr__


def _fill_flask_package(module: types.ModuleType) -> None:
    import demijohn

    submodule = _submodule_getter(module)

    def __getattr__(name: str) -> t.Any:
        # Everything but the version comes from demijohn, looked up on each
        # access so later changes to demijohn's namespace show through;
        # Flask's submodules are imported on first use (see
        # _submodule_getter).
        try:
            return getattr(demijohn, name)
        except AttributeError:
            return submodule(name)

    def __dir__() -> list[str]:
        return sorted({*dir(demijohn), *vars(module)})

    module.__doc__ = _FLASK_DOC
    module.__version__ = FLASK_VERSION  # type: ignore[attr-defined]
    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    module.__dir__ = __dir__  # type: ignore[method-assign]
    # ``from flask import *`` copies what Flask's package namespace holds.
    module.__all__ = [n for n in vars(demijohn) if not n.startswith("_")]  # type: ignore[attr-defined]


class _FlaskDistribution(importlib.metadata.Distribution):
    """The package metadata ``importlib.metadata`` reports for ``flask``
    while the shim is active: Flask at :data:`FLASK_VERSION`."""

    def read_text(self, filename: str) -> str | None:
        if filename not in ("METADATA", "PKG-INFO"):
            return None
        return (
            "Metadata-Version: 2.1\n"
            "Name: Flask\n"
            f"Version: {FLASK_VERSION}\n"
            "Summary: Provided by demijohn's Flask import shim.\n"
        )

    def locate_file(self, path: str | os.PathLike[str]) -> pathlib.Path:
        # No files belong to this distribution; paths resolve next to
        # demijohn, which provides the code.
        return pathlib.Path(__file__).parent.parent / path


def _names_flask(name: str) -> bool:
    """Whether a distribution name means Flask, normalized as in the
    packaging specifications (case and ``-_.`` runs do not matter)."""
    return re.sub(r"[-_.]+", "-", name).lower() == "flask"


class FlaskAliasFinder(importlib.abc.MetaPathFinder):
    """The import hook: finds ``flask`` and Flask's submodules in demijohn.

    Placed first on :data:`sys.meta_path` by :func:`activate`, so it wins
    over an installed Flask. Names outside :data:`MODULE_MAP` are not found
    (the ``flask`` package it creates has an empty ``__path__``), so a
    module Flask does not have fails to import as it would with Flask.
    """

    def find_spec(
        self,
        fullname: str,
        path: t.Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """Return the spec for one of :data:`PACKAGES` or
        :data:`MODULE_MAP`'s modules; ``None`` for every other name."""
        if fullname in PACKAGES:
            spec = importlib.machinery.ModuleSpec(
                fullname, _FlaskPackageLoader(), is_package=True
            )
            spec.submodule_search_locations = []
            return spec
        target_name = MODULE_MAP.get(fullname)
        if target_name is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name))

    def find_distributions(
        self, context: t.Any = None
    ) -> t.Iterator[importlib.metadata.Distribution]:
        """Report Flask's metadata when it is asked for by name, so
        ``importlib.metadata.version("flask")`` gives :data:`FLASK_VERSION`.

        Listing all distributions (no name asked) is left to the other
        finders: the shim adds no installed package.
        """
        name = getattr(context, "name", None)
        if isinstance(name, str) and _names_flask(name):
            yield _FlaskDistribution()


def is_active() -> bool:
    """Whether the shim's import hook is installed."""
    return any(isinstance(finder, FlaskAliasFinder) for finder in sys.meta_path)


def _explain_real_flask(loaded: list[str]) -> str:
    first = sys.modules.get("flask") or sys.modules[min(loaded)]
    where = getattr(first, "__file__", None) or "an unknown place"
    return (
        "demijohn's Flask import shim was activated after the real Flask was"
        f" imported (from {where})."
        " Code that already ran 'import flask' would keep using Flask while new"
        " imports got demijohn, and the two cannot share an application."
        " Activate the shim first: put 'import demijohn.compat.flask_shim' at"
        " the top of your entry module, before any Flask extension is imported,"
        f" or set {SHIM_ENV_VAR}=1, or run 'demijohn --flask-shim ...'."
    )


def activate() -> None:
    """Make ``import flask`` and ``import flask.<module>`` give demijohn.

    Safe to call more than once. Already imported demijohn modules are
    reused, never loaded a second time.

    :raises ImportError: when the real ``flask`` (or one of its modules)
        is already imported; the message says how to order the imports.
    """
    if is_active():
        return
    loaded = [name for name in sys.modules if _is_flask_name(name)]
    if loaded:
        raise ImportError(_explain_real_flask(loaded), name="flask")
    sys.meta_path.insert(0, FlaskAliasFinder())
