"""Explanations that help during development: which template loaders were
tried, and why a form-data redirect would lose the body.
"""

from __future__ import annotations

import typing as t

from werkzeug.routing import RequestRedirect

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from jinja2 import BaseLoader

    from .app import Demijohn
    from .scaffold import Scaffold
    from .wrappers import Request


class UnexpectedUnicodeError(AssertionError, UnicodeError):
    """Raised in debug mode when unexpected text or bytes were given."""


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


def _describe_owner(owner: Scaffold) -> str:
    from .blueprints import Blueprint

    if isinstance(owner, Blueprint):
        return f"blueprint {owner.name!r} ({owner.import_name})"
    return f"application {owner.import_name!r}"


def explain_template_loading_attempts(
    app: Demijohn,
    template: str,
    attempts: list[tuple[BaseLoader, Scaffold, t.Any]],
) -> None:
    """Log, at info level on ``app.logger``, every loader tried for
    ``template`` and whether it found it; warn when none or several did.
    """
    lines = [f"Locating template {template!r}:"]
    found = 0
    blueprint = None
    from .globals import _cv_request

    ctx = _cv_request.get(None)
    if ctx is not None:
        blueprint = ctx.request.blueprint
    for index, (loader, owner, source) in enumerate(attempts, start=1):
        lines.append(f"{index:5}: trying loader of {_describe_owner(owner)}")
        lines.append(f"       class: {type(loader).__module__}.{type(loader).__name__}")
        if source is None:
            lines.append("       -> no match")
            continue
        found += 1
        lines.append(f"       -> found ({source[1] or '<string>'!r})")
    if found == 0:
        lines.append("Error: the template was looked up in no folder that has it.")
    elif found > 1:
        lines.append("Warning: several loaders have it; the first one is used.")
    if blueprint is not None and found == 0:
        lines.append(
            f"  The request was for blueprint {blueprint!r}; is the template"
            " in that blueprint's template_folder?"
        )
    app.logger.info("\n".join(lines))
