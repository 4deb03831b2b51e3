"""The WSGI environ of an ASGI connection scope.

The ASGI edge hands every request to the application as the WSGI
``environ`` a WSGI server would build (:func:`build_environ`), so that
:class:`~demijohn.wrappers.Request`, hooks and Flask extensions see the
same thing under both protocols.

For HTTP requests the environ is built on first use. A
:class:`ScopeEnviron` holds what it is built from, and the request reads
``request.environ`` through it (see :attr:`Request.environ
<demijohn.wrappers.Request.environ>`): once read, the environ is an ordinary
dict and the only source of every value. Until then, the few values the
request path itself needs before any application code runs (the method, the
path, whether there is a ``Cookie`` or ``Upgrade`` header) are answered from
the scope, by the same rules :func:`build_environ` follows
(:attr:`ScopeEnviron.known`).

PERF: turning the scope's headers, server address and path into environ
keys is about a sixth of a minimal ASGI request, and a view that reads none
of them is common (it returns text or JSON and reads its URL arguments).

Rules for this module: it imports nothing from the application side; it
only translates.
"""

from __future__ import annotations

import io
import sys
import typing as t
from urllib.parse import unquote_to_bytes

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from _typeshed.wsgi import WSGIEnvironment

#: An ASGI connection scope.
Scope = t.MutableMapping[str, t.Any]

#: The scope key whose dict of environ keys :func:`build_environ` adds last,
#: overriding what it built. The test client uses it to pass Werkzeug's
#: context-preservation hook through the ASGI edge.
EXTRA_ENVIRON_KEY = "demijohn.environ"

# PERF: the same header names arrive with every request, so the environ key
# of each is worked out once. Bounded, because clients choose the names.
_ENVIRON_KEYS: dict[bytes, str] = {}


def _header_environ_key(raw_name: bytes) -> str:
    key = raw_name.decode("latin-1").upper().replace("-", "_")
    if key not in {"CONTENT_TYPE", "CONTENT_LENGTH"}:
        key = f"HTTP_{key}"
    if len(_ENVIRON_KEYS) < 512:
        _ENVIRON_KEYS[raw_name] = key
    return key


def build_environ(
    scope: Scope, body: t.IO[bytes] | None, content_length: int | None
) -> WSGIEnvironment:
    """Build the WSGI environ a WSGI server would give for ``scope``.

    ``SCRIPT_NAME`` comes from ``root_path``; ``PATH_INFO`` is the raw path
    without the root path, percent-decoded to bytes and carried as latin-1
    text as :pep:`3333` says; headers become ``HTTP_*`` keys (repeated
    headers joined with ``,``, cookies with ``;``). The original scope is
    kept under ``asgi.scope``.

    :param body: The request body, positioned at its start; ``None`` for
        an empty one.
    :param content_length: The body length to declare, or ``None`` to keep
        the client's header.
    """
    environ = _header_environ(scope.get("headers", ()))
    environ.update(_server_environ(scope))
    environ["PATH_INFO"] = path_info(scope)
    environ["REQUEST_METHOD"] = scope.get("method", "GET")
    environ["QUERY_STRING"] = scope.get("query_string", b"").decode("latin-1")
    environ["wsgi.input"] = io.BytesIO() if body is None else body
    environ["wsgi.errors"] = sys.stderr
    environ["asgi.scope"] = scope
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    if content_length is not None:
        environ["CONTENT_LENGTH"] = str(content_length)
    extra = scope.get(EXTRA_ENVIRON_KEY)
    if extra:
        environ.update(extra)
    return environ


def path_info(scope: Scope) -> str:
    """The ``PATH_INFO`` of ``scope``: its raw path (or, without one, its
    path) less the root path, percent-decoded to bytes and carried as
    latin-1 text."""
    root_path: str = scope.get("root_path", "")
    raw_path: bytes | None = scope.get("raw_path")
    if raw_path and not root_path:
        # PERF: the common case. The test is made on the decoded text, which
        # has the same characters: ``b"%" in raw_path`` first tries the
        # operand as an integer, and the TypeError it raises and clears
        # costs more than the rest of this function.
        path = raw_path.decode("latin-1")
        if "%" not in path and "?" not in path:
            return path
    if raw_path:
        path_bytes = raw_path.partition(b"?")[0]
        if b"%" in path_bytes:
            path_bytes = unquote_to_bytes(path_bytes)
        if root_path:
            root_bytes = root_path.encode("utf-8")
            if path_bytes.startswith(root_bytes):
                path_bytes = path_bytes[len(root_bytes) :]
        return path_bytes.decode("latin-1")
    path = scope.get("path") or "/"
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    return path.encode("utf-8").decode("latin-1")


def _header_environ(headers: t.Iterable[tuple[bytes, bytes]]) -> dict[str, t.Any]:
    """The ``HTTP_*`` (and ``CONTENT_*``) environ keys of the headers."""
    if type(headers) is not list:
        headers = list(headers)
    # PERF: a comprehension over known header names is the common case; a
    # new name (KeyError) or a repeated header (fewer keys than headers)
    # takes the loop below.
    environ_keys = _ENVIRON_KEYS
    try:
        environ = {
            environ_keys[name]: value.decode("latin-1") for name, value in headers
        }
    except KeyError:
        pass
    else:
        if len(environ) == len(headers):
            return environ
    environ = {}
    for raw_name, raw_value in headers:
        key = environ_keys.get(raw_name) or _header_environ_key(raw_name)
        value = raw_value.decode("latin-1")
        if key in environ:
            separator = "; " if key == "HTTP_COOKIE" else ","
            value = f"{environ[key]}{separator}{value}"
        environ[key] = value
    return environ


# The environ keys that depend only on where the request arrived, by
# (server, scheme, HTTP version, root path); bounded like _ENVIRON_KEYS.
_SERVER_ENVIRONS: dict[tuple[t.Any, ...], dict[str, t.Any]] = {}


def _server_environ(scope: Scope) -> dict[str, t.Any]:
    server = scope.get("server") or ("localhost", None)
    scheme = scope.get("scheme") or ("ws" if scope["type"] == "websocket" else "http")
    http_version = scope.get("http_version", "1.1")
    root_path: str = scope.get("root_path", "")
    try:
        key = (*server, scheme, http_version, root_path)
        cached = _SERVER_ENVIRONS.get(key)
    except TypeError:  # an unhashable value: nothing to cache
        key, cached = None, None
    if cached is not None:
        return cached
    default_port = "443" if scheme in {"https", "wss"} else "80"
    environ = {
        "SCRIPT_NAME": root_path.encode("utf-8").decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]) if server[1] is not None else default_port,
        "SERVER_PROTOCOL": f"HTTP/{http_version}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        # The edge has read the whole body, so the input ends where the body
        # ends. Without this flag Werkzeug reads nothing of a
        # ``Transfer-Encoding: chunked`` body, which has no Content-Length.
        "wsgi.input_terminated": True,
    }
    if key is not None and len(_SERVER_ENVIRONS) < 64:
        _SERVER_ENVIRONS[key] = environ
    return environ


def header_table(scope: Scope) -> dict[bytes, bytes] | None:
    """The scope's headers as a dict from name to value, or ``None`` when a
    dict cannot stand for them: a name comes twice (the environ joins the
    values) or is not in lower case (the environ folds case).

    PERF: built in C; one dict lookup then answers what a loop over the
    headers would.
    """
    headers = scope.get("headers", ())
    try:
        table = dict(headers)
    except (TypeError, ValueError):  # not pairs: let the environ say
        return None
    if len(table) != len(headers) or not (
        _LOWER_CASE_NAMES.issuperset(table) or _all_lower_case(table)
    ):
        return None
    return table


#: Header names seen in lower case. PERF: the same few names arrive with
#: every request; a subset test against them is half the cost of checking
#: each name's case. Bounded, as clients choose the names.
_LOWER_CASE_NAMES: set[bytes] = set()


def _all_lower_case(names: t.Iterable[bytes]) -> bool:
    """Whether every header name is in lower case (every name has a
    letter, so the joined names are lower case exactly when each is);
    remembers them when they are."""
    if not b"".join(names).islower():
        return False
    if len(_LOWER_CASE_NAMES) < 256:
        _LOWER_CASE_NAMES.update(names)
    return True


class ScopeEnviron:
    """What the WSGI environ of an HTTP request is built from, until it is.

    The ASGI edge makes one per request and gives it to the request (see
    :attr:`Request.environ <demijohn.wrappers.Request.environ>`), which calls
    :meth:`build` the first time its environ is read.

    :param scope: The HTTP scope.
    :param body: The request body, positioned at its start; ``None`` for
        an empty one (its stream is made when the environ is built).
    :param content_length: The body length to declare, or ``None`` to keep
        the client's header (as for :func:`build_environ`).
    :param headers: The scope's :func:`header_table`.
    """

    __slots__ = ("scope", "body", "content_length", "known", "ended", "environ")

    def __init__(
        self,
        scope: Scope,
        body: t.IO[bytes] | None,
        content_length: int | None,
        headers: dict[bytes, bytes] | None,
    ) -> None:
        self.scope = scope
        self.body = body
        self.content_length = content_length
        #: The values :meth:`build` will give the environ keys the request
        #: path reads before any application code runs
        #: (:data:`~demijohn.wrappers.KNOWN_ENVIRON_KEYS`), worked out without
        #: building; ``None`` stands for a missing key.
        cookie: str | None
        upgrade: str | None
        host: str | None
        if headers is not None:
            raw_cookie = headers.get(b"cookie")
            raw_upgrade = headers.get(b"upgrade")
            raw_host = headers.get(b"host")
            cookie = None if raw_cookie is None else raw_cookie.decode("latin-1")
            upgrade = None if raw_upgrade is None else raw_upgrade.decode("latin-1")
            host = None if raw_host is None else raw_host.decode("latin-1")
        else:
            # Repeated or mixed-case names: joined and folded as the environ
            # does it.
            header_keys = _header_environ(scope.get("headers", ()))
            cookie = header_keys.get("HTTP_COOKIE")
            upgrade = header_keys.get("HTTP_UPGRADE")
            host = header_keys.get("HTTP_HOST")
        # path_info()'s common case, inlined: a raw path without root path,
        # escapes or query.
        raw_path = scope.get("raw_path")
        path = None
        if raw_path and not scope.get("root_path"):
            path = raw_path.decode("latin-1")
            if "%" in path or "?" in path:
                path = None
        self.known: dict[str, t.Any] = {
            "REQUEST_METHOD": scope.get("method", "GET"),
            "PATH_INFO": path_info(scope) if path is None else path,
            "wsgi.url_scheme": scope.get("scheme") or "http",
            # A cookie, upgrade or host header has a single spelling (no "-"
            # that "_" would share its environ key with).
            "HTTP_COOKIE": cookie,
            "HTTP_UPGRADE": upgrade,
            "HTTP_HOST": host,
            # Only the extra keys below can set it.
            "werkzeug.debug.preserve_context": None,
        }
        extra = scope.get(EXTRA_ENVIRON_KEY)
        if extra:
            self.known.update(extra)
        #: The environ once :meth:`build` built it: what the edge reads, as
        #: a WSGI server reads its own environ, even if the request's
        #: :attr:`~demijohn.wrappers.Request.environ` is replaced.
        self.environ: WSGIEnvironment | None = None
        #: Set when the request context ended before the environ was built:
        #: the environ then holds ``None`` as ``werkzeug.request``, as the
        #: environ of an ended request does.
        self.ended = False

    def build(self) -> WSGIEnvironment:
        """The environ (see :func:`build_environ`), built by the first call
        and kept as :attr:`environ`: every call returns the same dict."""
        if self.environ is None:
            self.environ = build_environ(self.scope, self.body, self.content_length)
        return self.environ

    def get(self, key: str) -> t.Any:
        """``environ.get(key)``: from the built environ, or before it is
        built from :attr:`known`, which holds the
        :data:`~demijohn.wrappers.KNOWN_ENVIRON_KEYS`."""
        environ = self.environ
        return (self.known if environ is None else environ).get(key)


__all__ = [
    "EXTRA_ENVIRON_KEY",
    "ScopeEnviron",
    "build_environ",
    "header_table",
    "path_info",
]
