"""The :class:`Request` and :class:`Response` classes demijohn uses.

Both are Werkzeug's wrappers with a few application-aware additions. To use
your own, subclass them and set :attr:`Demijohn.request_class
<demijohn.Demijohn.request_class>` or :attr:`Demijohn.response_class
<demijohn.Demijohn.response_class>`.
"""

from __future__ import annotations

import re
import typing as t
from io import BytesIO
from urllib.parse import parse_qsl, unquote

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" codec error handler
from werkzeug.datastructures import (
    Authorization,
    EnvironHeaders,
    Headers,
    ImmutableMultiDict,
    MultiDict,
)
from werkzeug.exceptions import (
    BadRequest,
    ClientDisconnected,
    HTTPException,
    RequestEntityTooLarge,
)
from werkzeug.sansio.http import parse_cookie
from werkzeug.utils import cached_property
from werkzeug.wrappers import Request as RequestBase
from werkzeug.wrappers import Response as ResponseBase
from werkzeug.wsgi import LimitedStream, get_content_length, get_input_stream

from . import globals as _globals
from . import json
from .globals import current_app as current_app
from .output import sends_plainly, text_content_type
from .overrides import keeps_members

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from werkzeug.routing import Rule

# PERF: bound by assignment, not imported (see demijohn.globals).
_cv_app = _globals._cv_app


# Werkzeug keeps a Headers object's items in ``_list``, the only state its
# constructor sets; the fast text response makes one without the
# constructor and fills it directly, and is disabled should that change.
_HEADERS_HAVE_LIST = getattr(Headers(), "__dict__", None) == {"_list": []}


def _config_value(key: str) -> t.Any:
    """The current application's config value for ``key``, or ``None``
    outside an application context.
    """
    ctx = _cv_app.get(None)
    return None if ctx is None else ctx.app.config[key]


class _CappedStream(LimitedStream):
    """A streamed (chunked) body capped at ``max_content_length``.

    Werkzeug's :class:`~werkzeug.wsgi.LimitedStream` stops a whole-body read
    (``request.data``, ``get_json()``, url-encoded forms) at the cap and
    returns what it read, so a too-large upload reaches the view silently
    cut short. This one checks for a byte past the cap and raises 413.
    """

    def __init__(self, stream: t.IO[bytes], limit: int) -> None:
        super().__init__(stream, limit, is_max=True)
        self._body = stream

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted and self._body.read(1):
            self.on_exhausted()
        return data


def _declared_length(environ: WSGIEnvironment) -> int | None:
    """The body length the request declares, as Werkzeug's
    :func:`~werkzeug.wsgi.get_content_length` reads it.

    PERF: a plain run of ASCII digits without ``Transfer-Encoding`` is the
    usual header, and for it Werkzeug's answer is just its integer value;
    anything else (signs, spaces, chunked bodies) goes to Werkzeug.
    """
    text = environ.get("CONTENT_LENGTH")
    if (
        type(text) is str
        and text.isdigit()
        and text.isascii()
        and "HTTP_TRANSFER_ENCODING" not in environ
    ):
        return int(text)
    return get_content_length(environ)


def _check_declared_length(environ: WSGIEnvironment, limit: int | None) -> None:
    """Refuse a body declared longer than ``limit`` with 413, as opening
    Werkzeug's :attr:`~werkzeug.wrappers.Request.stream` does."""
    if limit is not None:
        length = _declared_length(environ)
        if length is not None and length > limit:
            raise RequestEntityTooLarge()


def _open_stream(environ: WSGIEnvironment, limit: int | None) -> t.IO[bytes]:
    """The guarded body stream for ``max_content_length`` ``limit``; the
    declared length must already have been checked against the limit."""
    if limit is not None and "wsgi.input_terminated" in environ:
        return t.cast("t.IO[bytes]", _CappedStream(environ["wsgi.input"], limit))
    # Given no limit, Werkzeug's helper skips the check done already.
    return get_input_stream(environ)


# The stream a body read straight from ``wsgi.input`` stands for is rebuilt
# on demand, positioned where the read stopped; that needs this attribute.
_STREAMS_KEEP_POSITION = isinstance(
    getattr(LimitedStream(BytesIO(), 0), "_pos", None), int
)

_URL_QUOTE_ERRORS = "werkzeug.url_quote"


def _parse_urlencoded(text: str) -> list[tuple[str, str]]:
    """The fields of an url-encoded form body, exactly as
    ``parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")``
    (what Werkzeug's form parser calls) returns them.

    PERF: ``parse_qsl`` replaces ``+`` and unquotes each name and value
    separately, about two fifths of a small form request. ``+`` becomes a
    space wherever it is, so one replacement over the whole body gives the
    same fields (neither ``&`` nor ``=`` is touched), and only the pieces
    holding a ``%`` need unquoting. Percent-escapes are never decoded
    before splitting, so an encoded ``&`` or ``=`` stays inside its field.
    """
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return [field.partition("=")[::2] for field in text.split("&") if field]
    fields = []
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            if "%" in name:
                name = unquote(name, errors=_URL_QUOTE_ERRORS)
            if "%" in value:
                value = unquote(value, errors=_URL_QUOTE_ERRORS)
            fields.append((name, value))
    return fields


class _ReadFromEnviron:
    """A request attribute worked out from the WSGI environ on first use.

    PERF: Werkzeug's request constructor decodes the path, script root,
    query string, server address and headers of every request up front,
    about a tenth of a minimal request, although most views read one or two
    of them. This descriptor computes one when it is first read and stores
    it on the instance, where later reads find it directly (it defines no
    ``__set__``, so the instance value wins). Assigning the attribute works
    as with Werkzeug's plain attribute.
    """

    __slots__ = ("name", "compute")

    def __init__(self, compute: t.Callable[[WSGIEnvironment], t.Any]) -> None:
        self.compute = compute
        self.name = compute.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, request: t.Any, owner: type | None = None) -> t.Any:
        if request is None:
            return self
        value = request.__dict__[self.name] = self.compute(request.environ)
        return value


class EnvironSource(t.Protocol):
    """What a request's environ is built from when it is built on first use
    (the ASGI edge's :class:`~demijohn.asgi_environ.ScopeEnviron`)."""

    #: The value of each of :data:`KNOWN_ENVIRON_KEYS` (and maybe more keys)
    #: the built environ will hold, ``None`` for a missing key.
    known: dict[str, t.Any]
    #: Set when the request ended before its environ was built.
    ended: bool

    def build(self) -> WSGIEnvironment:
        """The environ, built by the first call; later calls return the
        same dict."""


class _EnvironOnFirstUse:
    """:attr:`Request.environ` of a request whose environ is built on first
    use (see :meth:`Request._with_environ_source`).

    A request made the usual way stores its environ on the instance, which
    this descriptor (defining no ``__set__``) then never sees: reading
    ``request.environ`` stays a plain attribute read.
    """

    def __get__(self, request: t.Any, owner: type | None = None) -> t.Any:
        if request is None:
            return self
        source = request.__dict__.get("_environ_source")
        if source is None:
            raise AttributeError("environ")
        environ = request.__dict__["environ"] = source.build()
        # From now on the environ is the one source of every value.
        request._known_environ = None
        if not request.shallow:
            environ["werkzeug.request"] = None if source.ended else request
        return environ


#: The environ keys the request path reads before any application code
#: runs, which an :class:`EnvironSource` knows without building the environ.
KNOWN_ENVIRON_KEYS = frozenset(
    {
        "REQUEST_METHOD",
        "PATH_INFO",
        "wsgi.url_scheme",
        "HTTP_COOKIE",
        "HTTP_UPGRADE",
        "HTTP_HOST",
        "werkzeug.debug.preserve_context",
    }
)


def decode_wsgi_text(value: str) -> str:
    """Undo :pep:`3333`'s latin-1 transport of a path or query string: the
    bytes are read as UTF-8, with invalid bytes replaced, as Werkzeug reads
    them. ASCII text, the usual case, is returned as it is."""
    return (
        value if value.isascii() else value.encode("latin-1").decode(errors="replace")
    )


def _environ_method(environ: WSGIEnvironment) -> str:
    return environ.get("REQUEST_METHOD", "GET").upper()  # type: ignore[no-any-return]


def _environ_scheme(environ: WSGIEnvironment) -> str:
    return environ.get("wsgi.url_scheme", "http")  # type: ignore[no-any-return]


def _environ_server(environ: WSGIEnvironment) -> tuple[str, int | None] | None:
    name = environ.get("SERVER_NAME")
    if name is None:
        return None
    try:
        port: int | None = int(environ.get("SERVER_PORT"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        port = None  # a Unix socket has no port
    return name, port


def _environ_root_path(environ: WSGIEnvironment) -> str:
    return decode_wsgi_text(environ.get("SCRIPT_NAME") or "").rstrip("/")


def _environ_path(environ: WSGIEnvironment) -> str:
    return "/" + decode_wsgi_text(environ.get("PATH_INFO") or "").lstrip("/")


def _environ_query_string(environ: WSGIEnvironment) -> bytes:
    return environ.get("QUERY_STRING", "").encode("latin-1")  # type: ignore[no-any-return]


def _environ_headers(environ: WSGIEnvironment) -> EnvironHeaders:
    return EnvironHeaders(environ)


def _environ_remote_addr(environ: WSGIEnvironment) -> str | None:
    return environ.get("REMOTE_ADDR")


class Request(RequestBase):
    """The request object demijohn hands to views as :data:`~demijohn.request`.

    A Werkzeug :class:`~werkzeug.wrappers.Request` that also knows which URL
    rule matched, its view arguments and its blueprints, and whose size
    limits default to the application's ``MAX_*`` config keys.

    :attr:`method`, :attr:`scheme`, :attr:`server`, :attr:`root_path`,
    :attr:`path`, :attr:`query_string`, :attr:`headers` and
    :attr:`remote_addr` hold the same values as Werkzeug's, but each is read
    from :attr:`environ` when first used rather than when the request is
    created (except :attr:`method` of an ASGI request, set when it is
    made). Under ASGI, :attr:`environ` itself is built from the scope when
    first read.
    """

    def __init__(
        self,
        environ: WSGIEnvironment,
        populate_request: bool = True,
        shallow: bool = False,
    ) -> None:
        # Deliberately not calling Werkzeug's constructor: it only computes
        # the attributes that _ReadFromEnviron provides on demand.
        self.environ = environ
        self.shallow = shallow
        if populate_request and not shallow:
            environ["werkzeug.request"] = self

    if t.TYPE_CHECKING:
        environ: WSGIEnvironment
    else:
        #: The WSGI environ. Under ASGI it is built from the scope the first
        #: time it is read (see :mod:`demijohn.asgi_environ`); from then on
        #: it is the one source of every value, as under WSGI.
        environ = _EnvironOnFirstUse()

    # The source of an environ built on first use, and, until it is built,
    # the values the source knows.
    _environ_source: EnvironSource | None = None
    _known_environ: dict[str, t.Any] | None = None

    def _environ_so_far(self) -> t.Mapping[str, t.Any]:
        """The environ, or, until an environ built on first use is built,
        the values its source knows: the request path reads
        :data:`KNOWN_ENVIRON_KEYS` from it, with ``.get()``, to leave the
        environ unbuilt."""
        # Read from the instance: an environ assigned to the request wins
        # over what the source knew.
        environ: t.Mapping[str, t.Any] = self.__dict__.get(  # type: ignore[assignment]
            "environ", self._known_environ
        )
        return environ

    @classmethod
    def _with_environ_source(cls, source: EnvironSource) -> Request:
        """A request whose environ ``source`` builds when it is first read.

        Only for classes that keep this class's constructor and
        :attr:`environ` (see :attr:`_lazy_environ`).
        """
        request = cls.__new__(cls)
        request._environ_source = source
        request._known_environ = source.known
        request.shallow = False
        # Set now, as Werkzeug's constructor does: as cheap as storing it.
        # (_environ_method, inlined: a source knows the method.)
        request.method = source.known["REQUEST_METHOD"].upper()
        return request

    #: Whether requests of this class may be made with
    #: :meth:`_with_environ_source`: the class keeps this class's constructor
    #: and :attr:`environ`, so no code of its own expects the environ when
    #: the request is made. Computed when a subclass is created.
    _lazy_environ: bool = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._lazy_environ = keeps_members(cls, Request, ("__init__", "environ"))

    def _end_environ(self) -> None:
        """Set the environ's ``werkzeug.request`` to ``None`` when the request
        context ends, as Werkzeug's environ of a finished request has it."""
        if "environ" in self.__dict__:
            self.environ["werkzeug.request"] = None
        elif self._environ_source is not None:
            self._environ_source.ended = True

    method = _ReadFromEnviron(_environ_method)
    scheme = _ReadFromEnviron(_environ_scheme)
    server = _ReadFromEnviron(_environ_server)
    root_path = _ReadFromEnviron(_environ_root_path)
    path = _ReadFromEnviron(_environ_path)
    query_string = _ReadFromEnviron(_environ_query_string)
    headers = _ReadFromEnviron(_environ_headers)
    remote_addr = _ReadFromEnviron(_environ_remote_addr)

    #: The module used by :meth:`get_json`. The request context sets it to
    #: the application's :attr:`~demijohn.Demijohn.json` provider.
    json_module: t.Any = json

    #: The :class:`~werkzeug.routing.Rule` that matched, or ``None`` when
    #: matching failed or has not run yet.
    url_rule: Rule | None = None

    #: The keyword arguments the matched rule extracted from the URL, or
    #: ``None`` when matching failed.
    view_args: dict[str, t.Any] | None = None

    #: The exception raised when matching the URL failed (a 404, a 405 or a
    #: slash redirect). The application raises it before dispatch.
    routing_exception: HTTPException | None = None

    _max_content_length: int | None = None
    _max_form_memory_size: int | None = None
    _max_form_parts: int | None = None

    @property
    def max_content_length(self) -> int | None:
        """The most bytes of body data this request will read.

        Defaults to the :data:`MAX_CONTENT_LENGTH` config key. Reading more
        raises :exc:`~werkzeug.exceptions.RequestEntityTooLarge` (413).
        Setting it on one request, for example in a ``before_request`` hook
        for an upload view, overrides the config for that request only.
        """
        if self._max_content_length is not None:
            return self._max_content_length
        return _config_value("MAX_CONTENT_LENGTH")  # type: ignore[no-any-return]

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:
        """The largest size in bytes of a non-file form field.

        Defaults to the :data:`MAX_FORM_MEMORY_SIZE` config key (500 kB);
        a larger field raises a 413. Settable per request.
        """
        if self._max_form_memory_size is not None:
            return self._max_form_memory_size
        if _cv_app.get(None) is None:
            return super().max_form_memory_size
        return _config_value("MAX_FORM_MEMORY_SIZE")  # type: ignore[no-any-return]

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value

    @property  # type: ignore[override]
    def max_form_parts(self) -> int | None:
        """The most parts a multipart form body may have.

        Defaults to the :data:`MAX_FORM_PARTS` config key (1,000); more
        raises a 413. Settable per request.
        """
        if self._max_form_parts is not None:
            return self._max_form_parts
        if _cv_app.get(None) is None:
            return super().max_form_parts
        return _config_value("MAX_FORM_PARTS")  # type: ignore[no-any-return]

    @max_form_parts.setter
    def max_form_parts(self, value: int | None) -> None:
        self._max_form_parts = value

    @cached_property
    def stream(self) -> t.IO[bytes]:
        """The body stream, guarded as Werkzeug's
        :attr:`~werkzeug.wrappers.Request.stream` is, except that a streamed
        body longer than :attr:`max_content_length` raises 413 when read
        whole instead of being cut at the limit.

        When :meth:`get_data` or :attr:`form` already read the body without
        it, this is the same stream, positioned at the end of what was read.
        """
        if self.shallow:
            raise RuntimeError(
                "This request was created with 'shallow=True', reading"
                " from the input stream is disabled."
            )
        if "_body_state" not in self.__dict__:
            self._open_body()
        limit, position = self.__dict__.pop("_body_state")
        stream = _open_stream(self.environ, limit)
        if position and isinstance(stream, LimitedStream):
            stream._pos = position
        return stream

    # -- Reading the body without building ``stream`` --------------------
    #
    # PERF: building Werkzeug's guarded stream and reading it through
    # ``io.RawIOBase`` in 64 KiB slices is a fifth of a small JSON or form
    # request. While ``stream`` has not been built, the body is read from
    # ``wsgi.input`` directly, with the same checks, and ``_body_state``
    # keeps ``(max_content_length when opened, bytes read)``: all ``stream``
    # needs to build, later and only if asked, the very stream Werkzeug
    # would be holding at that point.

    def _open_body(self) -> int | None:
        """What building :attr:`stream` does first: check the declared
        length against :attr:`max_content_length` (413) and fix the limit
        for the rest of the request. Returns the limit."""
        limit = self.max_content_length
        _check_declared_length(self.environ, limit)
        self.__dict__["_body_state"] = (limit, 0)
        return limit

    def _read_body(self) -> bytes:
        """The rest of the body, as ``self.stream.read()`` returns it."""
        data = self._read_body_directly()
        return self.stream.read() if data is None else data

    def _read_body_directly(self) -> bytes | None:
        """Read the rest of the body from ``wsgi.input`` without building
        :attr:`stream`, or return ``None`` (having read nothing) when the
        stream itself must answer."""
        state = self.__dict__.get("_body_state")
        if (
            "stream" in self.__dict__
            or self.shallow
            or not self._reads_body_plainly()
            or (state is not None and state[1])  # the stream knows where it stopped
        ):
            return None
        limit = self._open_body() if state is None else state[0]
        environ = self.environ
        if "wsgi.input_terminated" not in environ:
            length = _declared_length(environ)
            if length is None:
                return None  # Werkzeug reads nothing: an empty stream
            return self._read_declared(environ["wsgi.input"], length, limit)
        if limit is None:
            # The server ends the stream, and Werkzeug reads it unguarded.
            body: bytes = environ["wsgi.input"].read()
            return body
        if limit == 0:
            return None  # a zero cap refuses even an empty read: let it
        return self._read_capped(environ["wsgi.input"], limit)

    def _read_declared(
        self, body: t.IO[bytes], length: int, limit: int | None
    ) -> bytes:
        """Read exactly ``length`` declared bytes, raising
        :exc:`~werkzeug.exceptions.ClientDisconnected` (400) when the body
        ends first or the read fails, as Werkzeug's stream does."""
        # PERF: one read suffices for every server that returns what was
        # asked for; the loop serves those that return less.
        chunks: list[bytes] = []
        got = 0
        try:
            while got < length:
                chunk = body.read(length - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        except (OSError, ValueError) as error:
            self.__dict__["_body_state"] = (limit, got)
            raise ClientDisconnected() from error
        self.__dict__["_body_state"] = (limit, got)
        if got < length:
            raise ClientDisconnected()
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return data[:length] if got > length else data

    def _read_capped(self, body: t.IO[bytes], limit: int) -> bytes:
        """Read a body the server ends (chunked, or from the ASGI edge) up
        to its end, raising 413 when it holds more than ``limit`` bytes,
        as :class:`_CappedStream` does."""
        chunks: list[bytes] = []
        got = 0
        try:
            while True:
                chunk = body.read(limit + 1 - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
                if got > limit:
                    self.__dict__["_body_state"] = (limit, limit)
                    raise RequestEntityTooLarge()
        except (OSError, ValueError) as error:
            self.__dict__["_body_state"] = (limit, got)
            raise ClientDisconnected() from error
        self.__dict__["_body_state"] = (limit, got)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    @classmethod
    def _reads_body_plainly(cls) -> bool:
        """Whether this class reads its body and content type the way
        :class:`Request` does, so the direct reads may stand in for
        :attr:`stream`. False as soon as a subclass replaces the stream,
        the headers, the content type parsing or the form parser."""
        plain = cls.__dict__.get("_plain_body_reading")
        if plain is None:
            plain = _STREAMS_KEEP_POSITION and keeps_members(
                cls,
                Request,
                (
                    "stream",
                    "headers",
                    "_parse_content_type",
                    "_get_stream_for_parsing",
                    "make_form_data_parser",
                    "form_data_parser_class",
                ),
            )
            # Cached on the class itself, not inherited by subclasses.
            type.__setattr__(cls, "_plain_body_reading", plain)
        return bool(plain)

    def _headers_from_environ(self) -> bool:
        """Whether :attr:`headers` is (or will be) the environ's own."""
        headers = self.__dict__.get("headers")
        return headers is None or (
            type(headers) is EnvironHeaders and headers.environ is self.environ
        )

    @t.overload
    def get_data(
        self,
        cache: bool = True,
        as_text: t.Literal[False] = False,
        parse_form_data: bool = False,
    ) -> bytes: ...

    @t.overload
    def get_data(
        self,
        cache: bool = True,
        as_text: t.Literal[True] = ...,
        parse_form_data: bool = False,
    ) -> str: ...

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str:
        """The whole body, as Werkzeug's
        :meth:`~werkzeug.wrappers.Request.get_data` returns it.

        Read once and kept when ``cache`` is true (the default), so later
        calls, :meth:`get_json` and :attr:`form` reuse it. With ``as_text``
        it is decoded as UTF-8, invalid bytes replaced. With
        ``parse_form_data`` a form body is parsed into :attr:`form` first,
        which leaves nothing to return (``b""``).

        :raise ~werkzeug.exceptions.RequestEntityTooLarge: when the body is
            longer than :attr:`max_content_length` (413).
        :raise ~werkzeug.exceptions.ClientDisconnected: when the body ends
            before its declared ``Content-Length`` (400).
        """
        data: bytes | None = getattr(self, "_cached_data", None)
        if data is None:
            if parse_form_data:
                self._load_form_data()
            data = self._read_body()
            if cache:
                self._cached_data = data
        return data.decode(errors="replace") if as_text else data

    @property
    def mimetype(self) -> str:
        """The content type without its parameters, lowercased: for
        ``text/HTML; charset=utf-8`` it is ``"text/html"``; ``""`` when the
        request has none.
        """
        if (
            "_parsed_content_type" not in self.__dict__
            and self._reads_body_plainly()
            and self._headers_from_environ()
        ):
            # PERF: Werkzeug parses every parameter of the header to answer
            # this; its value part is what precedes the first ";", with
            # spaces and tabs stripped.
            value: str = self.environ.get("CONTENT_TYPE") or ""
            return value.partition(";")[0].strip(" \t").lower()
        return super().mimetype

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> t.IO[bytes]:
        """Create the file a multipart upload is written to, as Werkzeug
        does, and remember it so :meth:`close` closes it even when the body
        turned out malformed halfway (Werkzeug then drops the half-written
        file without closing it).
        """
        stream = super()._get_file_stream(
            total_content_length, content_type, filename, content_length
        )
        self.__dict__.setdefault("_upload_streams", []).append(stream)
        return stream

    def close(self) -> None:
        """Close the uploaded files, including those of a body whose parsing
        failed. Called when the request context is popped.
        """
        try:
            # PERF: Werkzeug walks the parsed files; an unparsed form, or
            # one that is not multipart, has none.
            if self.__dict__.get("files"):
                super().close()
        finally:
            for stream in self.__dict__.pop("_upload_streams", ()):
                stream.close()

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The parsed query string.

        As Werkzeug's :attr:`~werkzeug.wrappers.Request.args`, except that
        raw bytes which are not UTF-8 (a client that did not percent-encode
        them) stay percent-encoded, as invalid percent-escapes do, instead of
        failing the request with a 500.
        """
        query = self.query_string.decode("utf-8", "werkzeug.url_quote")
        return self.parameter_storage_class(
            parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote")
        )

    @property
    def full_path(self) -> str:
        """The path and query string; non-UTF-8 query bytes percent-encoded."""
        query = self.query_string.decode("utf-8", "werkzeug.url_quote")
        return f"{self.path}?{query}"

    @cached_property
    def cookies(self) -> ImmutableMultiDict[str, str]:
        """The cookies the client sent, parsed from the ``Cookie`` header,
        as Werkzeug's :attr:`~werkzeug.wrappers.Request.cookies`.

        PERF: read from ``HTTP_COOKIE`` directly instead of by collecting
        every ``Cookie`` header through :attr:`headers`, which walks the
        whole environ; a WSGI environ holds all ``Cookie`` headers joined in
        that one key. A class or request whose :attr:`headers` is not this
        environ's goes through :attr:`headers` as Werkzeug does.
        """
        if type(self).headers is Request.headers and self._headers_from_environ():
            return parse_cookie(  # type: ignore[return-value]
                self.environ.get("HTTP_COOKIE", ""), cls=self.dict_storage_class
            )
        return super().cookies

    @cached_property
    def authorization(self) -> Authorization | None:
        """The parsed ``Authorization`` header, or ``None`` when it is
        missing or malformed (including Basic credentials with non-ASCII
        bytes, which Werkzeug lets fail with a 500).
        """
        try:
            return Authorization.from_header(self.headers.get("Authorization"))
        except ValueError:
            return None

    @property
    def endpoint(self) -> str | None:
        """The endpoint of the matched rule, or ``None`` if none matched."""
        if self.url_rule is None:
            return None
        return t.cast("str | None", self.url_rule.endpoint)

    @property
    def blueprint(self) -> str | None:
        """The registered name of the blueprint the matched endpoint belongs
        to, dotted for nested blueprints, or ``None`` for an app route.
        """
        endpoint = self.endpoint
        if endpoint is None or "." not in endpoint:
            return None
        return endpoint.rpartition(".")[0]

    @property
    def blueprints(self) -> list[str]:
        """The current blueprint and its parents, innermost first.

        For the endpoint ``"a.b.view"`` this is ``["a.b", "a"]``; an app
        route gives ``[]``.
        """
        rule = self.url_rule
        # PERF: an application route (no dot) is answered without the
        # endpoint and blueprint properties; read for every template.
        if rule is None or "." not in rule.endpoint:
            return []
        name = self.blueprint
        if name is None:
            return []
        parts = name.split(".")
        return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]

    def on_json_loading_failed(self, e: ValueError | None) -> t.Any:
        """Called by :meth:`get_json` when the body is not JSON.

        Raises 415 when the content type is not JSON, and 400 when the body
        does not parse. In debug mode the 400 names the parser's error;
        otherwise the message stays generic so it leaks nothing of the body.
        Override it to return a fallback value instead of raising.
        """
        try:
            return super().on_json_loading_failed(e)
        except BadRequest as error:
            app_ctx = _cv_app.get(None)
            if app_ctx is not None and app_ctx.app.debug:
                raise
            raise BadRequest("The request body is not valid JSON.") from error

    def _load_form_data(self) -> None:
        # Werkzeug's hook that parses the body into ``form`` and ``files``.
        # In debug mode, a body that cannot carry files gets a ``files`` that
        # explains a missing enctype instead of answering a bare 400.
        if "form" not in self.__dict__ and not self._load_form_data_directly():
            super()._load_form_data()
        app_ctx = _cv_app.get(None)
        if (
            app_ctx is not None
            and app_ctx.app.debug
            and self.mimetype != "multipart/form-data"
            and not self.files
        ):
            from .debughelpers import attach_enctype_error_multidict

            attach_enctype_error_multidict(self)

    def _load_form_data_directly(self) -> bool:
        """Set ``form`` and ``files`` (and ``stream`` where Werkzeug sets
        it to something new) as Werkzeug's form loading would, for every
        body but a multipart one; return False, having read nothing, when
        Werkzeug must do it.

        PERF: Werkzeug builds a parser, the guarded stream and a full
        parse of the content type first, whatever the body; and it splits
        url-encoded forms with ``parse_qsl``. See :func:`_parse_urlencoded`.
        """
        d = self.__dict__
        if "stream" in d or self.shallow or not self._reads_body_plainly():
            return False
        storage = self.parameter_storage_class
        cached: bytes | None = getattr(self, "_cached_data", None)
        mimetype = self.mimetype if self.want_form_data_parsed else None
        if mimetype == "application/x-www-form-urlencoded":
            return self._parse_urlencoded_body(cached)
        if mimetype == "multipart/form-data":
            return False
        if mimetype is not None and cached is not None:
            # Werkzeug hands the parser a copy of the read body, and keeps
            # that copy, unread, as the stream.
            d["stream"] = BytesIO(cached)
        elif "_body_state" not in d:
            self._open_body()
        d["form"] = storage()
        d["files"] = storage()
        return True

    def _parse_urlencoded_body(self, cached: bytes | None) -> bool:
        """Parse an url-encoded body into ``form`` as Werkzeug's form
        parser does (see :meth:`_load_form_data_directly`)."""
        length = (
            _declared_length(self.environ)
            if self._headers_from_environ()
            else self.content_length
        )
        memory_limit = self.max_form_memory_size
        if memory_limit is not None and length is not None and length > memory_limit:
            # Werkzeug releases before 3.1.9 refuse this with 413 before
            # reading; later ones parse it. Let the installed one decide.
            return False
        d = self.__dict__
        storage = self.parameter_storage_class
        if cached is not None:
            body = cached
            copy = d["stream"] = BytesIO(cached)
            copy.seek(0, 2)  # Werkzeug's parser read its copy to the end.
        else:
            try:
                body = self._read_body()
            except ValueError:
                # Werkzeug's parser turns a failed read into an empty form.
                d["form"] = storage()
                d["files"] = storage()
                return True
        try:
            text = body.decode()
        except UnicodeDecodeError:
            # Not UTF-8: Werkzeug decides (3.1 answers with an empty form).
            parser = self.make_form_data_parser()
            _, d["form"], d["files"] = parser.parse(
                BytesIO(body), "application/x-www-form-urlencoded", length
            )
            return True
        d["form"] = storage(_parse_urlencoded(text))
        d["files"] = storage()
        return True


class Response(ResponseBase):
    """The response class demijohn builds from view return values.

    A Werkzeug :class:`~werkzeug.wrappers.Response` whose default mimetype
    is ``text/html`` and whose :attr:`max_cookie_size` follows the
    :data:`MAX_COOKIE_SIZE` config key.
    """

    default_mimetype: str | None = "text/html"

    #: The module used by :meth:`get_json`, e.g. on test client responses.
    json_module: t.Any = json

    # Flask sends Location headers as given; relative URLs are valid HTTP.
    autocorrect_location_header = False

    @classmethod
    def _builds_plainly(cls) -> bool:
        """Whether this class builds a text response the way Werkzeug's
        constructor does, so :meth:`_from_text` may stand in for it.

        False as soon as a subclass customises construction, its default
        mimetype handling, :meth:`set_data` or the content length.
        """
        plain = cls.__dict__.get("_plain_construction")
        if plain is None:
            plain = (
                cls.__init__ is ResponseBase.__init__
                and cls.set_data is ResponseBase.set_data
                and cls.automatically_set_content_length is True
                and cls.default_status == 200
                and _HEADERS_HAVE_LIST
            )
            # Cached on the class itself, not inherited by subclasses.
            type.__setattr__(cls, "_plain_construction", plain)
        return bool(plain)

    @classmethod
    def _from_text(cls, body: str | bytes, mimetype: str | None = None) -> Response:
        """``cls(body)`` for a ``str`` or ``bytes`` body, built directly.

        PERF: a view returning text is the most common response; Werkzeug's
        constructor normalises and validates the two headers it sets, which
        is a fifth of a minimal request. The result is the same object
        state: ``Content-Type`` from ``mimetype`` (default:
        :attr:`default_mimetype`), ``Content-Length``, status 200 and the
        encoded body.
        """
        data: bytes = body.encode() if type(body) is str else body  # type: ignore[assignment]
        response = cls.__new__(cls)
        # Headers() with no defaults, without its constructor's call.
        headers = Headers.__new__(Headers)
        if mimetype is None:
            mimetype = cls.default_mimetype
        if mimetype is None:
            headers._list = [("Content-Length", str(len(data)))]
        else:
            headers._list = [
                ("Content-Type", text_content_type(mimetype)),
                ("Content-Length", str(len(data))),
            ]
        response.headers = headers
        response._status = "200 OK"
        response._status_code = 200
        response.direct_passthrough = False
        response._on_close = []
        response.response = [data]
        return response

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> t.Iterable[bytes]:
        """Send this response through WSGI.

        PERF: a response whose body is a list of bytes with its length
        already in ``Content-Length`` (what ``str``, ``bytes`` and JSON
        return values produce), an ordinary status, no ``Location`` header
        and no close callbacks needs none of the adjustments Werkzeug's
        :meth:`get_wsgi_response` makes, so its headers and body are handed
        to the server directly. Every other response takes Werkzeug's path.
        """
        headers = self._plain_wsgi_headers()
        if headers is None:
            return super().__call__(environ, start_response)
        start_response(self.status, headers)
        if environ["REQUEST_METHOD"] == "HEAD":
            return ()
        body: list[bytes] = self.response  # type: ignore[assignment]
        return body

    def _plain_wsgi_headers(self) -> list[tuple[str, str]] | None:
        body = self.response
        if (
            not sends_plainly(type(self))
            or type(body) is not list
            or self._on_close
            or self.direct_passthrough
            # PERF: a body of one chunk spares the generator.
            or not (
                (len(body) == 1 and type(body[0]) is bytes)
                or all(type(chunk) is bytes for chunk in body)
            )
        ):
            return None
        status = self.status_code
        if status < 200 or status == 204 or status == 304:
            return None
        headers = self.headers
        pairs = (
            headers._list.copy() if type(headers) is Headers else headers.to_wsgi_list()
        )
        # PERF: an application sends the same few lists of header names, so
        # whether one lets the headers go as they are is remembered by list.
        names = next(zip(*pairs), ())  # noqa: B905 - the first of each pair
        plain = _PLAIN_HEADER_NAMES.get(names)
        if plain is None:
            plain = _sends_headers_as_they_are(names)
        return pairs if plain else None

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]
        """The largest cookie this response sets without a warning:
        :data:`MAX_COOKIE_SIZE` inside an application context, Werkzeug's
        default (4093) outside one.
        """
        ctx = _cv_app.get(None)
        if ctx is None:
            return super().max_cookie_size
        return ctx.app.config["MAX_COOKIE_SIZE"]  # type: ignore[no-any-return]


#: Whether a list of header names lets a response's headers go to the
#: server as they are (see :meth:`Response._plain_wsgi_headers`), by list.
_PLAIN_HEADER_NAMES: dict[tuple[str, ...], bool] = {}


def _sends_headers_as_they_are(names: tuple[str, ...]) -> bool:
    """Whether a response with headers ``names`` needs none of Werkzeug's
    adjustments for them: it declares its ``Content-Length`` and sets no
    ``Location`` or ``Content-Location`` (which Werkzeug may rewrite);
    remembered in :data:`_PLAIN_HEADER_NAMES`."""
    lowered = {name.lower() for name in names}
    plain = "content-length" in lowered and not (
        "location" in lowered or "content-location" in lowered
    )
    if len(_PLAIN_HEADER_NAMES) < 256:
        _PLAIN_HEADER_NAMES[names] = plain
    return plain


# RFC 9110: a field name is a token; a field value and the status line hold
# no CR, LF or NUL. One of those would let text chosen by a client (echoed
# into a header) end the header and start another, or the body.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]")


def check_header_fields(response: ResponseBase) -> None:
    """Refuse a response whose status or headers could split the response.

    Werkzeug already refuses CR and LF in header values as they are set;
    this also covers header names, NUL bytes and the status line, whatever
    way they were set. Called by the lifecycle when a response is
    finalized, so the error becomes a logged 500 instead of reaching the
    server.

    :raises ValueError: naming the offending header.
    """
    # PERF: runs for every response built as an object. The pairs are read
    # in place from Werkzeug's own Headers and split into names and values
    # in C; the names are first looked up among names already found to be
    # tokens, a subset test; the values and the status are searched for the
    # three forbidden characters with substring tests, each a fraction of a
    # regular expression search's fixed cost.
    headers = response.headers
    pairs = headers._list if type(headers) is Headers else list(headers)
    status = response.status
    # Werkzeug keeps 2-tuples; strict= would cost a keyword call.
    names, values = zip(*pairs) if pairs else ((), ())  # noqa: B905
    joined = "".join(values)
    if (
        not (_TOKEN_NAMES.issuperset(names) or _all_tokens(names))
        or "\r" in joined
        or "\n" in joined
        or "\x00" in joined
        or "\r" in status
        or "\n" in status
        or "\x00" in status
    ):
        _raise_for_bad_field(status, pairs)


#: Header names found to be tokens. PERF: an application sends the same
#: few names with every response; bounded, as a view may choose names.
_TOKEN_NAMES: set[str] = set()


def _all_tokens(names: t.Iterable[str]) -> bool:
    """Whether every one of ``names`` is a non-empty HTTP token; remembers
    them when they are."""
    names = list(names)
    if not all(_HEADER_NAME.match(name) for name in names):
        return False
    if len(_TOKEN_NAMES) < 512:
        _TOKEN_NAMES.update(names)
    return True


def _raise_for_bad_field(status: str, pairs: list[tuple[str, str]]) -> t.NoReturn:
    if _FORBIDDEN_IN_VALUE.search(status):
        raise ValueError(f"The response status {status!r} contains CR, LF or NUL.")
    name = next(
        name
        for name, value in pairs
        if not _HEADER_NAME.match(name) or _FORBIDDEN_IN_VALUE.search(value)
    )
    raise ValueError(
        f"The response header {name!r} is not valid: a header name must be"
        " an HTTP token and a value must not contain CR, LF or NUL."
    )
