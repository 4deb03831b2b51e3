"""JSON helpers that follow the current application's settings.

Inside an application context, :func:`dumps`, :func:`dump`, :func:`loads`
and :func:`load` call the app's provider (:attr:`Demijohn.json
<demijohn.Demijohn.json>`), so an app that swaps its provider changes them
too. Outside one they fall back to Python's :mod:`json`, still able to
serialize dates, decimals, UUIDs, dataclasses and ``__html__`` objects.
:func:`jsonify` builds a response, so it needs an application context.
"""

from __future__ import annotations

import json as _json
import typing as t

from .. import globals as _globals
from ..globals import current_app
from .provider import _default

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from ..wrappers import Response
    from .provider import JSONProvider

# PERF: bound by assignment, not imported (see demijohn.globals).
_cv_app = _globals._cv_app

__all__ = ["dump", "dumps", "jsonify", "load", "loads"]


def _app_json() -> JSONProvider | None:
    """The current application's JSON provider, or ``None`` outside an
    application context.

    PERF: read from the context variable rather than through the
    ``current_app`` proxy; sessions serialize through here on every
    request that uses them.
    """
    app_ctx = _cv_app.get(None)
    return None if app_ctx is None else app_ctx.app.json


def dumps(obj: t.Any, **kwargs: t.Any) -> str:
    """Serialize ``obj`` to a JSON string.

    Uses :meth:`current_app.json.dumps
    <demijohn.json.provider.JSONProvider.dumps>` when an application context
    is pushed, else :func:`json.dumps` with the extra types of
    :class:`~demijohn.json.provider.DefaultJSONProvider` supported.

    :param obj: The value to serialize.
    :param kwargs: Passed to the ``dumps`` that is used.
    :return: The JSON text.
    :raise TypeError: When ``obj`` holds a value that cannot be serialized.
    """
    provider = _app_json()
    if provider is not None:
        return provider.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def dump(obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
    """Serialize ``obj`` as JSON and write it to a text file.

    Uses :meth:`current_app.json.dump
    <demijohn.json.provider.JSONProvider.dump>` when an application context
    is pushed, else :func:`json.dump` with the extra types supported.

    :param obj: The value to serialize.
    :param fp: A file opened for writing text; use UTF-8 so the output is
        valid JSON.
    :param kwargs: Passed to the ``dump`` that is used.
    :raise TypeError: When ``obj`` holds a value that cannot be serialized.
    """
    provider = _app_json()
    if provider is not None:
        provider.dump(obj, fp, **kwargs)
        return
    kwargs.setdefault("default", _default)
    _json.dump(obj, fp, **kwargs)


def loads(s: str | bytes, **kwargs: t.Any) -> t.Any:
    """Parse a JSON document.

    Uses :meth:`current_app.json.loads
    <demijohn.json.provider.JSONProvider.loads>` when an application context
    is pushed, else :func:`json.loads`.

    :param s: The document, as text or UTF-8 bytes.
    :param kwargs: Passed to the ``loads`` that is used.
    :return: The parsed value.
    :raise ValueError: When ``s`` is not valid JSON.
    """
    provider = _app_json()
    if provider is not None:
        return provider.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def load(fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
    """Read a whole file and parse it as JSON.

    Uses :meth:`current_app.json.load
    <demijohn.json.provider.JSONProvider.load>` when an application context
    is pushed, else :func:`json.load`.

    :param fp: A file opened for reading text or UTF-8 bytes.
    :param kwargs: Passed to the ``load`` that is used.
    :return: The parsed value.
    :raise ValueError: When the file is not valid JSON.
    """
    provider = _app_json()
    if provider is not None:
        return provider.load(fp, **kwargs)
    return _json.load(fp, **kwargs)


def jsonify(*args: t.Any, **kwargs: t.Any) -> Response:
    """Serialize the arguments and return them as an ``application/json`` response.

    Pass either positional or keyword arguments: one positional argument is
    serialized as is, several as a list, keyword arguments as an object, and
    nothing as ``null``. The output is indented in debug mode. A view can
    also just return a dict or list, which is converted the same way.

    This calls :meth:`current_app.json.response
    <demijohn.json.provider.JSONProvider.response>`, so the app's provider
    decides the format.

    :return: An instance of the app's
        :attr:`~demijohn.Demijohn.response_class`.
    :raise TypeError: If both positional and keyword arguments are given, or
        a value cannot be serialized.
    :raise RuntimeError: If no application context is pushed.
    """
    # The provider is typed to return Werkzeug's Response; the app builds it
    # from its own response_class, which is demijohn's Response.
    return t.cast("Response", current_app.json.response(*args, **kwargs))
