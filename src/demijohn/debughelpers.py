"""Explanations that help during development: which template loaders were
tried, why a form-data redirect would lose the body, and why a file is
missing from ``request.files``.
"""

from __future__ import annotations

import typing as t

from jinja2 import BaseLoader as BaseLoader
from werkzeug.routing import RequestRedirect

# This module is only imported once a request needs an explanation, after
# the application module has loaded, so importing it here makes no cycle.
from .app import App as App
from .app import Demijohn
from .blueprints import Blueprint as Blueprint
from .globals import _cv_request
from .globals import request_ctx as request_ctx

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .scaffold import Scaffold
    from .wrappers import Request


class UnexpectedUnicodeError(AssertionError, UnicodeError):
    """Raised in debug mode when unexpected text or bytes were given."""


class DebugFilesKeyError(KeyError, AssertionError):
    """Raised in debug mode by ``request.files[key]`` when the key is
    missing but the form has a field of that name: the browser sent the
    file's name instead of its content because the form lacks
    ``enctype="multipart/form-data"``.

    It is an :exc:`AssertionError`, not a 400, so the debugger shows the
    message; the message names the fix and the file names that arrived.
    """

    def __init__(self, request: Request, key: str) -> None:
        message = (
            f"request.files has no file {key!r}: the request's content type"
            f" is {request.mimetype!r}, not 'multipart/form-data', so no"
            " file contents were transmitted. Add"
            ' enctype="multipart/form-data" to the form.'
        )
        sent = request.form.getlist(key)
        if sent:
            # The wording Flask's message uses, which tests match.
            names = ", ".join(repr(name) for name in sent)
            message += (
                "\n\nThe browser sent file names in their place."
                f" This was submitted: {names}"
            )
        super().__init__(message)
        self.msg = message

    def __str__(self) -> str:
        # KeyError's own __str__ would show the message quoted as a key.
        return self.msg


def attach_enctype_error_multidict(request: Request) -> None:
    """Make ``request.files[key]`` raise :exc:`DebugFilesKeyError` instead
    of a plain :exc:`KeyError` when ``key`` is a form field.

    Called in debug mode when a request's form is parsed from a body that
    is not ``multipart/form-data`` and so has no files. Keys that are not
    form fields still raise the usual :exc:`KeyError` (a 400).
    """
    files = request.files
    base = type(files)

    def getitem(self: t.Any, key: str) -> t.Any:
        try:
            return base.__getitem__(self, key)
        except KeyError:
            if key not in request.form:
                raise
            raise DebugFilesKeyError(request, key) from None

    # Swapping the instance's class is the only way to change what
    # ``files[key]`` does on an object that already exists; the subclass
    # keeps the name and module so it reads the same in reprs and tracebacks.
    explaining = type(
        base.__name__, (base,), {"__getitem__": getitem, "__module__": base.__module__}
    )
    files.__class__ = explaining


class FormDataRoutingRedirect(AssertionError):
    """Raised in debug mode when routing redirects a request that carries a
    body with a code (301, 302) that browsers replay without the body.

    The message names the canonical URL so the form's ``action`` can be
    fixed, instead of the form data silently disappearing.
    """

    def __init__(self, request: Request) -> None:
        exc = request.routing_exception
        assert isinstance(exc, RequestRedirect)
        message = [
            f"A request was sent to {request.url!r}, but routing issued a"
            f" redirect to the canonical URL {exc.new_url!r}."
        ]
        if f"{request.base_url}/" == exc.new_url.partition("?")[0]:
            message.append(
                " The URL was defined with a trailing slash. demijohn"
                " redirects to the URL with the slash when it is requested"
                " without one."
            )
        message.append(
            " Send requests to the canonical URL, or use 307 or 308 for"
            " routing redirects. Otherwise, browsers drop the form data."
            "\n\nThis exception is only raised in debug mode."
        )
        super().__init__("".join(message))


def _describe_owner(app: Demijohn, owner: Scaffold) -> str:
    if owner is app:
        return f"application {owner.import_name!r}"
    # Anything else the dispatching loader yields is a blueprint; checking
    # by identity keeps this module from importing the blueprints module.
    return f"blueprint {owner.name!r} ({owner.import_name})"


def _describe_loader(loader: BaseLoader) -> list[str]:
    """The lines that say where a loader looks: its class, and the folders
    or package it searches when it has them.
    """
    lines = [f"class: {type(loader).__module__}.{type(loader).__name__}"]
    searchpath = getattr(loader, "searchpath", None)
    if isinstance(searchpath, (list, tuple)):
        lines.append("searchpath:")
        lines.extend(f"  - {folder}" for folder in searchpath)
    package_name = getattr(loader, "package_name", None)
    if isinstance(package_name, str):
        lines.append(f"package: {package_name!r}")
        package_path = getattr(loader, "package_path", None)
        if isinstance(package_path, str):
            lines.append(f"package path: {package_path!r}")
    return lines


def explain_template_loading_attempts(
    app: Demijohn,
    template: str,
    attempts: list[tuple[BaseLoader, Scaffold, t.Any]],
) -> None:
    """Log, at info level on ``app.logger``, every loader tried for
    ``template``: whose it is, where it searched and what it found.

    Called by the template loader for every lookup while
    :data:`EXPLAIN_TEMPLATE_LOADING` is on. The log ends with an error when
    no loader had the template, and with a warning when several had it
    (the first one wins, which may hide the one you edited).

    :param attempts: ``(loader, owner, source)`` for each loader tried, in
        order; ``source`` is what :meth:`~jinja2.BaseLoader.get_source`
        returned, or ``None`` when it did not find the template.
    """
    lines = [f"Locating template {template!r}:"]
    found = 0
    for index, (loader, owner, source) in enumerate(attempts, start=1):
        lines.append(f"{index:5}: trying loader of {_describe_owner(app, owner)}")
        lines.extend(f"       {line}" for line in _describe_loader(loader))
        if source is None:
            lines.append("       -> no match")
            continue
        found += 1
        lines.append(f"       -> found ({source[1] or '<string>'!r})")
    if not attempts:
        lines.append("  No loader was tried: no template folder is configured.")
    if found == 0:
        lines.append("Error: the template could not be found.")
        ctx = _cv_request.get(None)
        blueprint = ctx.request.blueprint if ctx is not None else None
        if blueprint is not None:
            lines.append(
                "  The template was looked up from an endpoint that belongs"
                f" to the blueprint {blueprint!r}. Is the template in that"
                " blueprint's template_folder, or the application's?"
                # The rules are Flask's; its page on them is the one users
                # (and tools matching Flask's message) know.
                " See https://flask.palletsprojects.com/blueprints/#templates"
                " (and 'Templates and static files' in demijohn's"
                " docs/blueprints.md)."
            )
    elif found > 1:
        lines.append(
            "Warning: multiple loaders returned a match for the template;"
            " the first one is used."
        )
    app.logger.info("\n".join(lines))
