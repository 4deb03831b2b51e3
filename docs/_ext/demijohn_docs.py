"""Sphinx helpers for the demijohn docs.

- ``.. config-key:: NAME`` documents one configuration key as ``py:data``
  (so ``:data:`SECRET_KEY``` in a docstring links to it), with its default
  read from :data:`demijohn.config.DEFAULT_CONFIG`, never written by hand.
- ``.. config-table::`` renders every key of ``DEFAULT_CONFIG`` with its
  default. The build warns (and so fails under ``-W``) when a key has no
  ``config-key`` entry, or an entry names a key that does not exist.
- ``.. sourced-data:: NAME`` documents module data with the ``#:`` comment
  written above it in the module it comes from. For the context-local
  proxies (``request``, ``g``, ...), which autodoc cannot document (it calls
  the proxy while introspecting it, which raises "working outside of
  request context"), and for constants a package re-exports.
- A class attribute whose value is a class (``request_class = Request``)
  keeps its ``#:`` comment where autodoc would show only "alias of
  Request" (see :func:`_share_class_attribute_comments`).
- References to a name that is documented under another path resolve to
  it: ``demijohn.helpers.url_for`` links to ``demijohn.url_for`` and
  ``demijohn.lifecycle.Lifecycle.run_sync`` to ``demijohn.Demijohn.run_sync``,
  because they are the same object.
"""

from __future__ import annotations

import importlib
import typing as t
from datetime import timedelta

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from demijohn.config import DEFAULT_CONFIG

logger = logging.getLogger(__name__)

_MISSING = object()


def format_default(value: t.Any) -> str:
    """The default of a config key as Python source a reader can copy."""
    if isinstance(value, timedelta):
        return f"timedelta(days={value.days})" if not value.seconds else repr(value)
    return repr(value)


def _documented_keys(env: BuildEnvironment) -> dict[str, set[str]]:
    if not hasattr(env, "demijohn_config_keys"):
        env.demijohn_config_keys = {}  # type: ignore[attr-defined]
    return env.demijohn_config_keys  # type: ignore[attr-defined,no-any-return]


class ConfigKeyDirective(SphinxDirective):
    """``.. config-key:: NAME``: one configuration key and what it does."""

    required_arguments = 1
    has_content = True

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        value = DEFAULT_CONFIG.get(name, _MISSING)
        if value is _MISSING:
            logger.warning(
                "config-key %r is not a key of demijohn.config.DEFAULT_CONFIG",
                name,
                location=self.get_location(),
            )
            default = "(not a default key)"
        else:
            default = format_default(value)
        _documented_keys(self.env).setdefault(self.env.docname, set()).add(name)
        body = "\n".join(f"   {line}" for line in self.content)
        text = f".. py:data:: {name}\n   :value: {default}\n\n{body}\n"
        return self.parse_text_to_nodes(text)


class ConfigTableDirective(SphinxDirective):
    """``.. config-table::``: every default configuration key and its value."""

    def run(self) -> list[nodes.Node]:
        rows = ["   * - Key", "     - Default"]
        for name, value in DEFAULT_CONFIG.items():
            rows.append(f"   * - :data:`{name}`")
            rows.append(f"     - ``{format_default(value)}``")
        text = ".. list-table::\n   :header-rows: 1\n\n" + "\n".join(rows) + "\n"
        return self.parse_text_to_nodes(text)


class SourcedDataDirective(SphinxDirective):
    """``.. sourced-data:: NAME`` with ``:source: MODULE``, the module whose
    ``#:`` comment documents ``NAME`` (default: the current module)."""

    required_arguments = 1
    option_spec: t.ClassVar[dict[str, t.Any]] = {"source": str}

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        current = self.env.ref_context.get("py:module", "")
        source = self.options.get("source", current)
        attr_docs = ModuleAnalyzer.for_module(source).find_attr_docs()
        doc = attr_docs.get(("", name))
        if not doc:
            logger.warning(
                "%s.%s has no '#:' documentation comment",
                source,
                name,
                location=self.get_location(),
            )
            doc = []
        body = "\n".join(f"   {line}" for line in doc)
        return self.parse_text_to_nodes(f".. py:data:: {name}\n\n{body}\n")


def _share_class_attribute_comments(app: Sphinx) -> None:
    """Make the ``#:`` comments of re-exported classes' attributes visible
    under the package, where their classes are documented.

    autodoc reads the comment of an attribute from the module the class is
    documented in (``demijohn`` for ``demijohn.Demijohn``), and for
    attributes whose value is a class it finds nothing there and prints
    only "alias of ...". Copying the comments into the package's analyzer,
    which autodoc caches and reuses, fixes that.
    """
    import demijohn

    package = ModuleAnalyzer.for_module("demijohn")
    package.analyze()
    for name in dir(demijohn):
        cls = getattr(demijohn, name)
        if not isinstance(cls, type) or not cls.__module__.startswith("demijohn."):
            continue
        for klass in cls.__mro__:
            if not klass.__module__.startswith("demijohn"):
                continue
            comments = ModuleAnalyzer.for_module(klass.__module__).find_attr_docs()
            for (owner, attr), lines in comments.items():
                if owner == klass.__qualname__:
                    package.attr_docs.setdefault((name, attr), lines)


def _purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _documented_keys(env).pop(docname, None)


def _merge_info(
    app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
) -> None:
    _documented_keys(env).update(_documented_keys(other))


def _check_config_keys(app: Sphinx, env: BuildEnvironment) -> None:
    documented = set().union(*_documented_keys(env).values())
    for name in DEFAULT_CONFIG:
        if name not in documented:
            logger.warning(
                "config key %r has no '.. config-key::' entry in the docs", name
            )


def _import_object(dotted: str) -> t.Any:
    """The object a dotted name refers to, or ``_MISSING``."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj: t.Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return _MISSING
        return obj
    return _MISSING


class _AliasIndex:
    """Maps an object to the names under which it is documented."""

    def __init__(self, env: BuildEnvironment) -> None:
        self.by_id: dict[int, list[str]] = {}
        # Keep the objects alive so their ids stay unique while we look up.
        self._keep: list[t.Any] = []
        for name in env.get_domain("py").objects:
            if not name.startswith("demijohn"):
                continue
            obj = _import_object(name)
            if obj is _MISSING or isinstance(obj, (int, str, bool, type(None))):
                continue
            self._keep.append(obj)
            self.by_id.setdefault(id(obj), []).append(name)

    def documented_as(self, target: str) -> str | None:
        obj = _import_object(target)
        if obj is _MISSING:
            return None
        last = target.rpartition(".")[2]
        for name in self.by_id.get(id(obj), ()):
            if name.rpartition(".")[2] == last:
                return name
        return None


def _resolve_alias(
    app: Sphinx, env: BuildEnvironment, node: nodes.Element, contnode: nodes.Element
) -> nodes.Element | None:
    if node.get("refdomain") != "py":
        return None
    target: str = node["reftarget"]
    if not target.startswith("demijohn."):
        return None
    index = getattr(env, "_demijohn_alias_index", None)
    if index is None:
        index = env._demijohn_alias_index = _AliasIndex(env)  # type: ignore[attr-defined]
    if isinstance(_import_object(target), t.TypeVar):
        # Type variables in signatures are shown as code, not linked.
        return contnode
    documented = index.documented_as(target)
    if documented is None or documented == target:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], documented, node, contnode
    )


def _drop_alias_index(app: Sphinx, *args: t.Any) -> list[str]:
    # The index holds live objects: never pickle it with the environment,
    # and rebuild it from the objects of each new read.
    if hasattr(app.env, "_demijohn_alias_index"):
        del app.env._demijohn_alias_index
    return []


def setup(app: Sphinx) -> dict[str, t.Any]:
    app.add_directive("config-key", ConfigKeyDirective)
    app.add_directive("config-table", ConfigTableDirective)
    app.add_directive("sourced-data", SourcedDataDirective)
    app.connect("env-purge-doc", _purge_doc)
    app.connect("env-merge-info", _merge_info)
    app.connect("env-check-consistency", _check_config_keys)
    app.connect("env-updated", _drop_alias_index)
    app.connect("build-finished", _drop_alias_index)
    app.connect("missing-reference", _resolve_alias)
    app.connect("builder-inited", _share_class_attribute_comments)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
