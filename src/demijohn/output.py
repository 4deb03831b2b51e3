"""What the plain lane hands the protocol edges instead of a response
object, the cached ``Content-Type`` values it and
:meth:`Response._from_text <demijohn.wrappers.Response._from_text>` use, and
the header list the ASGI edge sends (:func:`asgi_header_list`).

The plain lane (see :mod:`demijohn.lifecycle`) serves requests that no hook
observes; for their text, bytes and JSON bodies it builds no
:class:`~demijohn.wrappers.Response`, only a :class:`PlainOutput`, which the
WSGI and ASGI edges send directly.
"""

from __future__ import annotations

import re
import typing as t
from functools import partial

from werkzeug.utils import get_content_type

from .overrides import keeps_members

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .wrappers import Response

_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]")

_CONTENT_TYPES: dict[str, str] = {}


def text_content_type(mimetype: str) -> str:
    """The ``Content-Type`` value Werkzeug sends for ``mimetype`` (with
    ``; charset=utf-8`` for text types), checked to hold no CR, LF or NUL.

    PERF: cached, since an application uses a handful of mimetypes for
    most of its responses.

    :raises ValueError: if the value could split the response's headers.
    """
    value = _CONTENT_TYPES.get(mimetype)
    if value is None:
        value = get_content_type(mimetype, "utf-8")
        if _FORBIDDEN_IN_VALUE.search(value):
            raise ValueError(
                f"The mimetype {mimetype!r} contains CR, LF or NUL and cannot"
                " be sent as a Content-Type header."
            )
        if len(_CONTENT_TYPES) < 64:
            _CONTENT_TYPES[mimetype] = value
    return value


class PlainOutput(t.NamedTuple):
    """A finished response with a text body and no headers but
    ``Content-Type`` and ``Content-Length``: what the plain lane hands an
    edge instead of a response object nobody else will see."""

    #: The status line, e.g. ``"200 OK"``, as Werkzeug writes it.
    status: str
    #: The ``Content-Type`` header value.
    content_type: str
    #: The whole body (not sent for ``HEAD``; its length still is).
    body: bytes


#: Make a :class:`PlainOutput` from its ``(status, content_type, body)``
#: tuple. PERF: at C speed; a named tuple's own constructor is a Python
#: function that costs as much as the rest of the plain lane's response.
plain_output: t.Callable[[tuple[str, str, bytes]], PlainOutput] = partial(
    tuple.__new__, PlainOutput
)

_SENDS_PLAINLY: dict[type, bool] = {}


def sends_plainly(response_class: type[Response]) -> bool:
    """Whether ``response_class`` builds and sends a text body exactly as a
    :class:`PlainOutput` with the same body and mimetype is sent.

    True for demijohn's :class:`~demijohn.wrappers.Response` and for
    subclasses that change only attributes such as ``default_mimetype``;
    false once a subclass customises how responses are built (see
    ``Response._builds_plainly``) or sent (``__call__``,
    ``get_wsgi_headers``, ``get_wsgi_response``, ``get_app_iter``).
    """
    plain = _SENDS_PLAINLY.get(response_class)
    if plain is None:
        from .wrappers import Response

        plain = (
            issubclass(response_class, Response)
            and response_class._builds_plainly()
            and keeps_members(
                response_class,
                Response,
                (
                    "__call__",
                    "_plain_wsgi_headers",
                    "get_wsgi_headers",
                    "get_wsgi_response",
                    "get_app_iter",
                ),
            )
        )
        _SENDS_PLAINLY[response_class] = plain
    return plain


def asgi_header_list(pairs: t.Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Response header ``pairs`` as an ASGI message carries them: names in
    lower case, names and values encoded as latin-1.

    PERF: a response's header names come from a small set; each is lowered
    and encoded once, then looked up.

    :raises UnicodeEncodeError: for a name or value outside latin-1.
    """
    names = _ASGI_NAMES
    return [
        (names.get(name) or _asgi_name(name), value.encode("latin-1"))
        for name, value in pairs
    ]


#: Header names as ASGI sends them, by name; bounded, as views may choose
#: names.
_ASGI_NAMES: dict[str, bytes] = {}


def _asgi_name(name: str) -> bytes:
    encoded = name.lower().encode("latin-1")
    if len(_ASGI_NAMES) < 256:
        _ASGI_NAMES[name] = encoded
    return encoded
