"""The :class:`Request` and :class:`Response` classes demijohn uses.

Both are Werkzeug's wrappers with a few application-aware additions. To use
your own, subclass them and set :attr:`Demijohn.request_class
<demijohn.Demijohn.request_class>` or :attr:`Demijohn.response_class
<demijohn.Demijohn.response_class>`.
"""

from __future__ import annotations

import typing as t

from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.wrappers import Request as RequestBase
from werkzeug.wrappers import Response as ResponseBase

from . import json
from .globals import _cv_app

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from werkzeug.routing import Rule


def _config_value(key: str) -> t.Any:
    """The current application's config value for ``key``, or ``None``
    outside an application context.
    """
    ctx = _cv_app.get(None)
    return None if ctx is None else ctx.app.config[key]


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
