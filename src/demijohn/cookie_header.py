"""Setting a cookie on a response without re-formatting its attributes.

:func:`set_cookie` adds the ``Set-Cookie`` header that
``response.set_cookie(...)`` adds, byte for byte. The session interface
sets its cookie through it on every request that writes the session.

PERF: Werkzeug's ``dump_cookie`` quotes the path, encodes the domain,
checks ``SameSite`` and joins the attributes on every call: about a tenth
of a request that writes the session. Here everything but the value and
the expiry date is formatted once per distinct set of attributes, by
``dump_cookie`` itself, so the text cannot differ; the value is spliced in
when it needs no quoting, and the date is formatted once per second.
Anything out of the ordinary (a response class or headers class with its
own ``set_cookie`` or ``add``, a value that needs quoting, a cookie over
the size limit, which warns) goes through ``response.set_cookie``.
"""

from __future__ import annotations

import re
import typing as t
from datetime import datetime

from werkzeug.datastructures import Headers
from werkzeug.http import dump_cookie, http_date
from werkzeug.sansio import response as _sansio_response

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from werkzeug.sansio.response import Response

__all__ = ["set_cookie"]

#: A value ``dump_cookie`` sends as it is: a subset of the characters it
#: leaves unquoted (all of a signed session cookie's).
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.\-]*")

# Stand-ins formatted into the cached text where the value and the expiry
# date go. They are left unquoted and unchanged by ``dump_cookie``.
_VALUE_MARK = "demijohn-cookie-value"
_EXPIRES_MARK = "demijohn-cookie-expires"

#: The formatted attributes, by (key, path, domain, secure, httponly,
#: samesite, partitioned, has expiry): the text before the value, and the
#: text after it split where the expiry date goes (the second part is
#: ``None`` for a cookie without one). Bounded: an application sets few
#: distinct session cookies.
_FORMATS: dict[tuple[t.Any, ...], tuple[str, str, str | None]] = {}
_MAX_FORMATS = 64

_STOCK_SET_COOKIE = _sansio_response.Response.set_cookie
_STOCK_HEADERS_ADD = Headers.add

# The last expiry date formatted: a permanent session's cookie expires a
# fixed time from now, so consecutive requests share the second.
_last_expiry: tuple[datetime, str] | None = None


def set_cookie(
    response: Response,
    key: str,
    value: str,
    *,
    expires: datetime | None,
    path: str | None,
    domain: str | None,
    secure: bool,
    httponly: bool,
    samesite: str | None,
    partitioned: bool,
) -> None:
    """Add the header ``response.set_cookie(key, value, expires=expires,
    ...)`` would add, with the same warnings and errors.

    Called by :meth:`SecureCookieSessionInterface.save_session
    <demijohn.sessions.SecureCookieSessionInterface.save_session>`.
    """
    header = None
    if (
        type(response).set_cookie is _STOCK_SET_COOKIE
        # What Response.set_cookie formats with, where it looks it up.
        and getattr(_sansio_response, "dump_cookie", None) is dump_cookie
        and type(response.headers) is Headers
        and Headers.add is _STOCK_HEADERS_ADD
        and _PLAIN_VALUE.fullmatch(value)
        and (expires is None or type(expires) is datetime)
    ):
        cache_key = (key, path, domain, secure, httponly, samesite, partitioned)
        parts = _FORMATS.get((*cache_key, expires is not None))
        if parts is None:
            parts = _format(cache_key, expires is not None)
        if parts is not None:
            before, after, after_expiry = parts
            if expires is None or after_expiry is None:
                header = f"{before}{value}{after}"
            else:
                header = f"{before}{value}{after}{_expiry(expires)}{after_expiry}"
            limit = response.max_cookie_size
            if limit and len(header) > limit:
                header = None  # Werkzeug's path warns about it
    if header is None:
        attributes = _attributes(
            (key, path, domain, secure, httponly, samesite, partitioned)
        )
        response.set_cookie(key, value, expires=expires, **attributes)
        return
    # The cached text held no CR or LF when it was made, and the value is
    # plain, so the checks of ``Headers.add`` would pass.
    response.headers._list.append(("Set-Cookie", header))


def _attributes(cache_key: tuple[t.Any, ...]) -> dict[str, t.Any]:
    """The keyword arguments of ``set_cookie`` a cache key stands for."""
    _, path, domain, secure, httponly, samesite, partitioned = cache_key
    return {
        "path": path,
        "domain": domain,
        "secure": secure,
        "httponly": httponly,
        "samesite": samesite,
        "partitioned": partitioned,
    }


def _format(
    cache_key: tuple[t.Any, ...], has_expiry: bool
) -> tuple[str, str, str | None] | None:
    """Format the attributes with ``dump_cookie`` around the stand-ins and
    cache the pieces; ``None`` (nothing cached) when they cannot be cut
    cleanly, or ``dump_cookie`` refuses them (the regular path then
    raises the same error)."""
    key, attributes = cache_key[0], _attributes(cache_key)
    expires = _EXPIRES_MARK if has_expiry else None
    try:
        text = dump_cookie(key, _VALUE_MARK, expires=expires, max_size=0, **attributes)
    except Exception:
        return None
    if "\r" in text or "\n" in text or text.count(_VALUE_MARK) != 1:
        return None
    before, _, after = text.partition(_VALUE_MARK)
    after_expiry: str | None = None
    if has_expiry:
        if after.count(_EXPIRES_MARK) != 1 or _EXPIRES_MARK in before:
            return None
        after, _, after_expiry = after.partition(_EXPIRES_MARK)
    parts = (before, after, after_expiry)
    if len(_FORMATS) < _MAX_FORMATS:
        _FORMATS[cache_key + (has_expiry,)] = parts
    return parts


def _expiry(expires: datetime) -> str:
    """``http_date(expires)``, reused while the second is the same."""
    global _last_expiry
    second = expires.replace(microsecond=0)
    last = _last_expiry
    if last is not None and last[0] == second:
        return last[1]
    text = http_date(second)
    _last_expiry = (second, text)
    return text
