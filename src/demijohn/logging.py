"""The application logger and its default handler."""

from __future__ import annotations

import logging
import sys
import typing as t

from werkzeug.local import LocalProxy

from .globals import _cv_request
from .globals import request as request

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .app import Demijohn


def _stream_for_request() -> t.TextIO:
    ctx = _cv_request.get(None)
    if ctx is not None:
        return t.cast(t.TextIO, ctx.request.environ["wsgi.errors"])
    return sys.stderr


#: The ``wsgi.errors`` stream of the current request, or ``sys.stderr``
#: outside a request, so log lines land where the server collects them.
wsgi_errors_stream: t.TextIO = LocalProxy(_stream_for_request)  # type: ignore[assignment]


def has_level_handler(logger: logging.Logger) -> bool:
    """Whether a handler for ``logger``'s effective level is attached to it
    or to an ancestor it propagates to.
    """
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


#: The handler demijohn adds to an application's logger when logging is not
#: configured. Remove it with ``app.logger.removeHandler(default_handler)``.
default_handler = logging.StreamHandler(wsgi_errors_stream)
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def create_logger(app: Demijohn) -> logging.Logger:
    """The logger named after ``app.name``, used as ``app.logger``.

    In debug mode its level is set to ``DEBUG`` if it has none. The
    :data:`default_handler` is added only if no handler would otherwise
    receive its records, so configuring logging before creating the app
    (e.g. with :func:`logging.config.dictConfig`) takes precedence.
    """
    logger = logging.getLogger(app.name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
