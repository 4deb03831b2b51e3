"""Building URLs: binding the URL map to a request, ``url_for`` and
``redirect``.

:class:`URLBuilding` holds the application methods that turn endpoints into
URLs and requests into a bound :class:`~werkzeug.routing.MapAdapter`.
:class:`~demijohn.Demijohn` inherits them, and they are documented there.
The request lifecycle (:mod:`demijohn.lifecycle`) matches URLs with the
adapter that :meth:`~demijohn.Demijohn.create_url_adapter` returns here.

Rules for this module: no I/O; the only global state read is the current
request and application context, to build URLs relative to them.
"""

from __future__ import annotations

import sys
import typing as t
import warnings
from itertools import chain
from urllib.parse import quote as _url_quote

from werkzeug.routing import BuildError, Map, MapAdapter
from werkzeug.utils import redirect as _redirect
from werkzeug.wrappers import Response as BaseResponse
from werkzeug.wsgi import get_host

from . import globals as _globals
from .lifecycle import Lifecycle
from .overrides import keeps_members
from .routing import FastRouter, build_router
from .wrappers import Request, decode_wsgi_text

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from _typeshed.wsgi import WSGIEnvironment

# PERF: bound by assignment, not imported (see demijohn.globals).
_cv_app = _globals._cv_app
_cv_request = _globals._cv_request

# Characters a URL fragment may hold unescaped (RFC 3986), kept as given so
# an anchor like "a&b=c" survives ``url_for(..., _anchor=...)``.
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"

# How many host/scheme combinations keep a cached URL adapter binding.
_ADAPTER_CACHE_SIZE = 256


class URLBuilding(Lifecycle):
    """The application's URL methods: binding :attr:`~demijohn.Demijohn.url_map`
    to a request or to :data:`SERVER_NAME`, and building URLs and redirects.
    """

    # Set by the application class; declared here for the methods that use them.
    url_map: Map
    subdomain_matching: bool
    url_build_error_handlers: list[t.Callable[[Exception, str, dict[str, t.Any]], str]]
    _adapter_cache: dict[tuple[t.Any, ...], MapAdapter]
    _router_cache: tuple[Map, int, FastRouter | None] | None = None

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """Bind :attr:`url_map` to a request, or to :data:`SERVER_NAME`.

        Called when a request or application context is created. For a
        request, the ``Host`` header is checked against
        :data:`TRUSTED_HOSTS` (400 on mismatch). Without a request, an
        adapter exists only when ``SERVER_NAME`` is set, so ``url_for``
        works in an application context.
        """
        config = self.config
        if request is not None:
            trusted_hosts = config["TRUSTED_HOSTS"]
            if trusted_hosts is not None:
                request.trusted_hosts = trusted_hosts
                # Validates the Host header; raises SecurityError (400).
                request.host = get_host(request.environ, trusted_hosts)
            subdomain = None
            server_name = config["SERVER_NAME"]
            if self.url_map.host_matching:
                # SERVER_NAME would replace the real host and break matching.
                server_name = None
            elif not self.subdomain_matching:
                subdomain = self.url_map.default_subdomain or ""
            return self._bind_to_environ(request.environ, server_name, subdomain)
        if config["SERVER_NAME"] is not None:
            return self.url_map.bind(
                config["SERVER_NAME"],
                script_name=config["APPLICATION_ROOT"],
                url_scheme=config["PREFERRED_URL_SCHEME"],
            )
        return None

    #: Whether the class keeps the built-in :meth:`create_url_adapter`;
    #: computed when a subclass is created.
    _builtin_url_adapter: bool = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._builtin_url_adapter = keeps_members(
            cls, URLBuilding, ("create_url_adapter",)
        )

    def _binds_url_adapter_lazily(self) -> bool:
        """Whether a request context may bind its URL adapter on first use
        instead of when it is created.

        PERF: a request whose URL the fast router matches and which never
        builds a URL needs no bound adapter at all. Binding early matters
        only when it can fail or warn (:data:`TRUSTED_HOSTS` checks the
        ``Host`` header, :data:`SERVER_NAME` warns on a mismatch) or when
        :meth:`create_url_adapter` or the map's ``bind_to_environ`` is
        overridden, where the override's timing is kept as it was. (An
        application context's adapter, built from the config alone, can
        always wait unless :meth:`create_url_adapter` is overridden.)
        """
        config = self.config
        return (
            self._builtin_url_adapter
            and config["TRUSTED_HOSTS"] is None
            and config["SERVER_NAME"] is None
            # A custom map may refuse a host when binding.
            and type(self.url_map).bind_to_environ is Map.bind_to_environ
            and "bind_to_environ" not in self.url_map.__dict__
        )

    def _unbound_router(self) -> FastRouter | None:
        """:meth:`_url_router` when :meth:`_binds_url_adapter_lazily` is
        true, else ``None``: the router a request may be matched with
        before any URL adapter is bound, as the ASGI lane matches.

        PERF: the two questions in one call, answered from the router cache
        when it is current (a cached router exists only for the built-in
        :meth:`create_url_adapter`).
        """
        config = self.config
        url_map = self.url_map
        cached = self._router_cache
        if (
            cached is not None
            and cached[0] is url_map
            and not url_map._remap
            and cached[1] == len(url_map._rules_by_endpoint)
            and config["TRUSTED_HOSTS"] is None
            and config["SERVER_NAME"] is None
            and type(url_map).bind_to_environ is Map.bind_to_environ
            and "bind_to_environ" not in url_map.__dict__
        ):
            return cached[2]
        return self._url_router() if self._binds_url_adapter_lazily() else None

    def _url_router(self) -> FastRouter | None:
        """The fast router for :attr:`url_map`, or ``None`` when requests
        must be matched by Werkzeug's adapter alone.

        The router answers for the adapter :meth:`create_url_adapter` binds
        when neither host nor subdomain matching is on (the subdomain is
        then fixed). It is rebuilt when rules are added through
        :meth:`add_url_rule` (which is refused after the first request) or
        directly with ``url_map.add`` before the map is next brought up to
        date, and whenever the number of endpoints changes. Counting every
        rule on every request would cost more than matching; the one case
        this misses, a rule added with ``url_map.add`` to an existing
        endpoint after requests began and after something else updated the
        map, is unsupported just as :meth:`add_url_rule` is then.
        """
        url_map = self.url_map
        cached = self._router_cache
        if (
            cached is not None
            and cached[0] is url_map
            and not url_map._remap
            and cached[1] == len(url_map._rules_by_endpoint)
        ):
            return cached[2]
        router = None
        if not self.subdomain_matching and self._builtin_url_adapter:
            router = build_router(url_map, url_map.default_subdomain or "")
        # Counted after building: building brings the map up to date.
        self._router_cache = (url_map, len(url_map._rules_by_endpoint), router)
        return router

    def _bind_to_environ(
        self, environ: WSGIEnvironment, server_name: str | None, subdomain: str | None
    ) -> MapAdapter:
        """``url_map.bind_to_environ``, with the host-dependent part cached.

        PERF: binding works out the server name, subdomain and script root
        from the host headers on every request (about a seventh of Flask's
        per-request time). Those depend only on the values in the cache key,
        so they are computed once per distinct host and only the path,
        method and query string are filled in per request. The cache is
        bounded because the Host header is chosen by the client.
        """
        url_map = self.url_map
        if type(url_map).bind_to_environ is not Map.bind_to_environ:
            # A custom map may bind differently: respect it.
            return url_map.bind_to_environ(
                environ, server_name=server_name, subdomain=subdomain
            )
        get = environ.get
        key = (
            get("HTTP_HOST"),
            get("SERVER_NAME"),
            get("SERVER_PORT"),
            get("wsgi.url_scheme"),
            get("SCRIPT_NAME"),
            get("HTTP_UPGRADE"),
            get("HTTP_CONNECTION"),
            server_name,
            subdomain,
            url_map.default_subdomain,
        )
        cache = self._adapter_cache
        base = cache.get(key)
        if base is None:
            if subdomain is None and server_name is not None:
                subdomain = _subdomain_unless_foreign(url_map, environ, server_name)
            base = url_map.bind_to_environ(
                environ, server_name=server_name, subdomain=subdomain
            )
            if len(cache) >= _ADAPTER_CACHE_SIZE:
                cache.clear()
            cache[key] = base
        path_info = get("PATH_INFO")
        query_args = get("QUERY_STRING")
        return MapAdapter(
            url_map,
            base.server_name,
            base.script_name,
            base.subdomain,
            base.url_scheme,
            "/" if path_info is None else decode_wsgi_text(path_info),
            environ["REQUEST_METHOD"],
            None if query_args is None else decode_wsgi_text(query_args),
        )

    def inject_url_defaults(self, endpoint: str, values: dict[str, t.Any]) -> None:
        """Let the ``url_defaults`` functions of the application and of the
        endpoint's blueprints fill ``values`` in place. Called by
        :meth:`url_for`.
        """
        names: t.Iterable[str | None] = (None,)
        if "." in endpoint:
            blueprint = endpoint.rpartition(".")[0]
            parts = blueprint.split(".")
            names = chain(
                names, (".".join(parts[:i]) for i in range(1, len(parts) + 1))
            )
        functions = self.url_default_functions
        for name in names:
            if name in functions:
                for func in functions[name]:
                    func(endpoint, values)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, t.Any]
    ) -> str:
        """Called by :meth:`url_for` when a URL cannot be built.

        Tries each of :attr:`url_build_error_handlers`; the first to return
        a string supplies the URL. Re-raises the error otherwise.
        """
        for handler in self.url_build_error_handlers:
            try:
                url = handler(error, endpoint, values)
            except BuildError as e:
                error = e
            else:
                if url is not None:
                    return url
        if error is sys.exc_info()[1]:
            raise
        raise error

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: t.Any,
    ) -> str:
        """Build the URL of ``endpoint``, filling its rule with ``values``.

        Inside a request, the URL is relative to the host (``/page``)
        unless ``_external`` is true; an endpoint starting with ``.`` is
        relative to the current blueprint. Outside a request it needs
        :data:`SERVER_NAME` and is external by default. Values that are
        not rule arguments become the query string.

        :param _anchor: Add ``#anchor``.
        :param _method: Build the rule for this method.
        :param _scheme: The scheme of an external URL.
        :param _external: Include scheme and host.
        :raises RuntimeError: outside a request without ``SERVER_NAME``.
        :raises ValueError: if ``_scheme`` is given with ``_external=False``.
        :raises werkzeug.routing.BuildError: if the endpoint or values do not
            fit a rule and no build error handler returns a URL.
        """
        request_ctx_ = _cv_request.get(None)
        if request_ctx_ is not None:
            url_adapter = request_ctx_.url_adapter
            blueprint_name = request_ctx_.request.blueprint
            if endpoint[:1] == ".":
                if blueprint_name is not None:
                    endpoint = f"{blueprint_name}{endpoint}"
                else:
                    endpoint = endpoint[1:]
            if _external is None:
                _external = _scheme is not None
        else:
            app_ctx = _cv_app.get(None)
            if app_ctx is not None and app_ctx.app is self:
                url_adapter = app_ctx.url_adapter
            else:
                url_adapter = self.create_url_adapter(None)
            if url_adapter is None:
                raise RuntimeError(
                    "Unable to build URLs outside an active request without"
                    " 'SERVER_NAME' configured. Also configure"
                    " 'APPLICATION_ROOT' and 'PREFERRED_URL_SCHEME' as needed."
                )
            if _external is None:
                _external = True
        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")

        self.inject_url_defaults(endpoint, values)
        try:
            url = url_adapter.build(  # type: ignore[union-attr]
                endpoint,
                values,
                method=_method,
                url_scheme=_scheme,
                force_external=_external,
            )
        except BuildError as error:
            values.update(
                _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external
            )
            return self.handle_url_build_error(error, endpoint, values)
        if _anchor is not None:
            url = f"{url}#{_url_quote(_anchor, safe=_ANCHOR_SAFE)}"
        return url

    def redirect(self, location: str, code: int = 302) -> BaseResponse:
        """Create a redirect response; :func:`~demijohn.redirect` calls it.
        Override it to change how every redirect is built.
        """
        return _redirect(location, code=code, Response=self.response_class)


#: What a subdomain is bound as when the host does not end with
#: ``SERVER_NAME``: no rule has it, so nothing matches (Werkzeug's choice).
_FOREIGN_HOST_SUBDOMAIN = "<invalid>"


def _subdomain_unless_foreign(
    url_map: Map, environ: WSGIEnvironment, server_name: str
) -> str | None:
    """``None`` (the map works out the subdomain) for a request whose host
    ends with ``server_name``; for any other host, Werkzeug's "Current
    server name ... doesn't match" warning, issued here, and the subdomain
    that matches nothing.

    Werkzeug warns from ``Map.bind_to_environ`` on behalf of its caller,
    which for Flask is ``flask.app``; warning filters are written against
    that module (Flask's own tests silence it that way). The host is
    compared as ``bind_to_environ`` compares it (lower case, the scheme's
    default port dropped from ``server_name``), and the warning is
    attributed to ``demijohn.app``, or to ``flask.app`` while the Flask
    shim is active, so such filters keep working.
    """
    if url_map.host_matching:
        return None
    host = get_host(environ).lower()
    scheme = environ["wsgi.url_scheme"]
    connection = environ.get("HTTP_CONNECTION", "").lower().split(",")
    if any(part.strip(" \t") == "upgrade" for part in connection) and (
        environ.get("HTTP_UPGRADE", "").lower() == "websocket"
    ):
        scheme = "wss" if scheme == "https" else "ws"
    name = server_name.lower()
    if scheme in {"http", "ws"} and name.endswith(":80"):
        name = name[:-3]
    elif scheme in {"https", "wss"} and name.endswith(":443"):
        name = name[:-4]
    labels = name.split(".")
    if host.split(".")[-len(labels) :] == labels:
        return None
    _warn_as_application_module(
        f"Current server name {host!r} doesn't match configured server name {name!r}"
    )
    return _FOREIGN_HOST_SUBDOMAIN


def _warn_as_application_module(message: str) -> None:
    """Issue ``message`` as a :exc:`UserWarning` attributed to the
    application module: ``flask.app`` while the Flask shim is active,
    ``demijohn.app`` otherwise. Shown once per process by default, as a
    warning from one place is."""
    from .compat._flask_aliases import is_active

    module = "flask.app" if is_active() else "demijohn.app"
    frame = sys._getframe()
    warnings.warn_explicit(
        message,
        UserWarning,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=module,
        registry=frame.f_globals.setdefault("__warningregistry__", {}),
        module_globals=frame.f_globals,
    )
