"""The :class:`Request` and :class:`Response` classes demijohn uses.

Both are Werkzeug's wrappers with a few application-aware additions. To use
your own, subclass them and set :attr:`Demijohn.request_class
<demijohn.Demijohn.request_class>` or :attr:`Demijohn.response_class
<demijohn.Demijohn.response_class>`.
"""

from __future__ import annotations

import re
import typing as t
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" codec error handler
from werkzeug.datastructures import Authorization, Headers, MultiDict
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.utils import cached_property, get_content_type
from werkzeug.wrappers import Request as RequestBase
from werkzeug.wrappers import Response as ResponseBase
from werkzeug.wsgi import LimitedStream, get_input_stream

from . import json
from .globals import _cv_app
from .globals import current_app as current_app

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from werkzeug.routing import Rule


# Werkzeug keeps a Headers object's items in ``_list``; the fast text
# response fills it directly and is disabled should that ever change.
_HEADERS_HAVE_LIST = isinstance(getattr(Headers(), "_list", None), list)


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


class Request(RequestBase):
    """The request object demijohn hands to views as :data:`~demijohn.request`.

    A Werkzeug :class:`~werkzeug.wrappers.Request` that also knows which URL
    rule matched, its view arguments and its blueprints, and whose size
    limits default to the application's ``MAX_*`` config keys.
    """

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
        """
        if self.shallow:
            raise RuntimeError(
                "This request was created with 'shallow=True', reading"
                " from the input stream is disabled."
            )
        limit = self.max_content_length
        # Raises 413 when a declared Content-Length is over the limit.
        stream = get_input_stream(self.environ, max_content_length=limit)
        if limit is not None and "wsgi.input_terminated" in self.environ:
            return t.cast(
                "t.IO[bytes]", _CappedStream(self.environ["wsgi.input"], limit)
            )
        return stream

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
            # PERF: Werkzeug walks the parsed files; an unparsed form has none.
            if "files" in self.__dict__:
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
        data = body.encode() if type(body) is str else body
        response = cls.__new__(cls)
        headers = Headers()
        if mimetype is None:
            mimetype = cls.default_mimetype
        pairs = [("Content-Length", str(len(data)))]
        if mimetype is not None:
            pairs.insert(0, ("Content-Type", get_content_type(mimetype, "utf-8")))
        headers._list = pairs
        response.headers = headers
        response._status = "200 OK"
        response._status_code = 200
        response.direct_passthrough = False
        response._on_close = []
        response.response = [t.cast(bytes, data)]
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
        return t.cast("list[bytes]", self.response)

    def _plain_wsgi_headers(self) -> list[tuple[str, str]] | None:
        body = self.response
        if (
            type(body) is not list
            or self._on_close
            or self.direct_passthrough
            or not all(type(chunk) is bytes for chunk in body)
        ):
            return None
        status = self.status_code
        if status < 200 or status == 204 or status == 304:
            return None
        pairs = self.headers.to_wsgi_list()
        has_length = False
        for key, _ in pairs:
            name = key.lower()
            if name == "content-length":
                has_length = True
            elif name == "location" or name == "content-location":
                return None
        return pairs if has_length else None

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


# RFC 9110: a field name is a token; a field value and the status line hold
# no CR, LF or NUL. One of those would let text chosen by a client (echoed
# into a header) end the header and start another, or the body.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_NOT_IN_HEADER_NAME = re.compile(r"[^!#$%&'*+\-.^_`|~0-9A-Za-z]")
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
    # PERF: runs for every response; one search over all names and one
    # over all values is about twice as fast as checking header by header.
    pairs = list(response.headers)
    names = [name for name, _ in pairs]
    if (
        _FORBIDDEN_IN_VALUE.search(response.status)
        or _NOT_IN_HEADER_NAME.search("".join(names))
        or _FORBIDDEN_IN_VALUE.search("".join([value for _, value in pairs]))
        or "" in names
    ):
        _raise_for_bad_field(response.status, pairs)


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
