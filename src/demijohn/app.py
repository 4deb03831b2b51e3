"""The :class:`Demijohn` application class: configuration, registration and
the request lifecycle.

The lifecycle is written once, as overridable methods. A WSGI request runs::

    wsgi_app
      request_context(environ).push()      match the URL
      full_dispatch_request
        preprocess_request                 url_value_preprocessors, before_request
        dispatch_request                   the view (or automatic OPTIONS)
        handle_user_exception              on an exception: error handlers
        finalize_request
          make_response                    view return value -> Response
          process_response                 after_request, save the session
      handle_exception                     unhandled error -> 500
      ctx.pop()                            teardown_request, teardown_appcontext

Overriding one of these methods in a subclass changes behaviour for every
request that reaches it.

:class:`Demijohn` gets its methods from a chain of base classes, one job
each; all of them are documented on :class:`Demijohn`::

    Scaffold      scaffold.py   registration shared with blueprints
    Lifecycle     lifecycle.py  the request steps above, both protocols
    URLBuilding   urls.py       URL adapters, url_for, redirect
    Lifespan      lifespan.py   startup and shutdown hooks
    Demijohn      app.py        configuration, templates, the WSGI edge
"""

from __future__ import annotations

import collections.abc as cabc
import os
import sys
import typing as t
import weakref
from datetime import timedelta
from itertools import chain

import click
from werkzeug.datastructures import Headers as Headers
from werkzeug.datastructures import ImmutableDict
from werkzeug.exceptions import (
    Aborter,
)
from werkzeug.exceptions import BadRequest as BadRequest
from werkzeug.exceptions import BadRequestKeyError as BadRequestKeyError
from werkzeug.exceptions import HTTPException as HTTPException
from werkzeug.exceptions import InternalServerError as InternalServerError
from werkzeug.routing import BuildError as BuildError
from werkzeug.routing import Map, MapAdapter, Rule
from werkzeug.routing import RequestRedirect as RequestRedirect
from werkzeug.routing import RoutingException as RoutingException
from werkzeug.serving import is_running_from_reloader as is_running_from_reloader
from werkzeug.utils import cached_property
from werkzeug.wrappers import Response as BaseResponse  # noqa: F401 - a flask.app name
from werkzeug.wsgi import ClosingIterator
from werkzeug.wsgi import get_host as get_host

from . import globals as _globals
from . import typing as ft
from .asgi import (
    ASGIHTTPConnection,
    ASGILifespan,
    ASGIWebsocketConnection,
    ProtocolDispatch,
)
from .asgi_lane import asgi_app as asgi_lane_entry
from .concurrency import AsyncToSyncIterator
from .config import DEFAULT_CONFIG, Config, ConfigAttribute, _make_timedelta
from .ctx import AppContext, RequestContext, StreamWithContext, _AppCtxGlobals
from .environment import getenv
from .errors import InvalidArgumentsError
from .globals import current_app as current_app
from .globals import g, request, session
from .globals import request_ctx as request_ctx
from .helpers import get_debug_flag, get_flashed_messages, get_load_dotenv
from .helpers import send_from_directory as send_from_directory
from .json.provider import DefaultJSONProvider, JSONProvider
from .lane import (
    call_after_hooks,
    call_before_hooks,
    lane_open,
    lane_view,
    plain_body,
    push_lane_contexts,
    send_request_started,
    unbind,
    view_args_after_hooks,
)
from .lifecycle import Lifecycle
from .lifespan import Lifespan
from .logging import create_logger as create_logger
from .output import PlainOutput
from .overrides import keeps_members
from .scaffold import Scaffold as Scaffold
from .scaffold import _endpoint_from_view_func, find_package, setupmethod
from .sessions import SecureCookieSessionInterface, SessionInterface
from .signals import appcontext_tearing_down as appcontext_tearing_down
from .signals import got_request_exception as got_request_exception
from .signals import request_finished as request_finished
from .signals import request_started as request_started
from .signals import request_tearing_down as request_tearing_down
from .templating import (
    DispatchingJinjaLoader,
    Environment,
    _default_template_ctx_processor,
)
from .websockets import Websocket
from .wrappers import Request, Response, check_header_fields

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .blueprints import Blueprint
    from .routing import FastRouter
    from .testing import DemijohnClient, DemijohnCliRunner
    from .wrappers import EnvironSource

# PERF: bound by assignment, not imported (see demijohn.globals).
_cv_app = _globals._cv_app
_cv_request = _globals._cv_request

#: The context processors of an application that registered none.
_STOCK_PROCESSORS = [_default_template_ctx_processor]

T_shell_context_processor = t.TypeVar(
    "T_shell_context_processor", bound=ft.ShellContextProcessorCallable
)
T_teardown = t.TypeVar("T_teardown", bound=ft.TeardownCallable)
T_template_filter = t.TypeVar("T_template_filter", bound=ft.TemplateFilterCallable)
T_template_global = t.TypeVar("T_template_global", bound=ft.TemplateGlobalCallable)
T_template_test = t.TypeVar("T_template_test", bound=ft.TemplateTestCallable)


class Demijohn(Lifespan, ProtocolDispatch):
    """The application: a registry of views, hooks and configuration, and a
    WSGI callable that serves them.

    Create it in your main module or package ``__init__``::

        from demijohn import Demijohn

        app = Demijohn(__name__)

    :param import_name: The name of the application's module or package,
        usually ``__name__``. It locates the root path, templates and
        static files.
    :param static_url_path: The URL prefix of the static route; defaults to
        ``/`` plus the static folder's name.
    :param static_folder: The folder of static files, relative to the root
        path, served at ``static_url_path``. ``None`` disables the route.
    :param static_host: The host of the static route, required with
        ``host_matching``.
    :param host_matching: Match rules against the ``Host`` header through
        their ``host`` option.
    :param subdomain_matching: Match rules' ``subdomain`` option against
        :data:`SERVER_NAME`.
    :param template_folder: The folder of templates, relative to the root
        path. ``None`` disables the application's own loader.
    :param instance_path: The absolute path of the instance folder; found
        automatically when not given.
    :param instance_relative_config: Resolve config file names relative to
        the instance folder instead of the root path.
    :param root_path: The folder relative paths start from; found from
        ``import_name`` when not given.
    """

    #: The class of :data:`~demijohn.request`. Set it to a subclass of
    #: :class:`~demijohn.wrappers.Request` to add properties to requests.
    request_class: type[Request] = Request

    #: The class :meth:`make_response` builds. Set it to a subclass of
    #: :class:`~demijohn.wrappers.Response` to change defaults.
    response_class: type[Response] = Response

    #: Serves ASGI ``http`` connections; see :mod:`demijohn.asgi`. With
    #: this class, requests that qualify take the lane of
    #: :mod:`demijohn.asgi_lane`; with a subclass, every request goes
    #: through the subclass.
    asgi_http_class = ASGIHTTPConnection

    #: Whether the class keeps every method the WSGI and ASGI lanes (see
    #: :mod:`demijohn.lane`) stand in for: those of the plain lane, the
    #: teardown steps and the context factories; computed when a subclass
    #: is created.
    _lane_class: bool = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._lane_class = (
            cls._plain_lane_class
            and not cls._overrides_teardown
            and keeps_members(cls, Demijohn, ("app_context", "request_context"))
        )

    #: Serves ASGI ``websocket`` connections.
    asgi_websocket_class = ASGIWebsocketConnection

    #: Runs the ASGI ``lifespan`` protocol.
    asgi_lifespan_class = ASGILifespan

    #: The class of :data:`~demijohn.websocket` objects.
    websocket_class = Websocket

    #: The class of :attr:`aborter`, which :func:`~demijohn.abort` calls.
    aborter_class = Aborter

    #: The class of :attr:`jinja_env`.
    jinja_environment = Environment

    #: The class of :data:`~demijohn.g`, created per application context.
    app_ctx_globals_class = _AppCtxGlobals

    #: The class of :attr:`config`.
    config_class = Config

    #: Whether testing mode is on: the :data:`TESTING` config key.
    #: Exceptions then propagate to the test client instead of becoming 500s.
    testing = ConfigAttribute[bool]("TESTING")

    #: The key used to sign the session cookie and other secrets: the
    #: :data:`SECRET_KEY` config key.
    secret_key = ConfigAttribute[str | bytes | None]("SECRET_KEY")

    #: How long a permanent session lives: the
    #: :data:`PERMANENT_SESSION_LIFETIME` config key, as a ``timedelta``.
    permanent_session_lifetime = ConfigAttribute[timedelta](
        "PERMANENT_SESSION_LIFETIME", get_converter=_make_timedelta
    )

    #: The class of :attr:`json`, created with the application.
    json_provider_class: type[JSONProvider] = DefaultJSONProvider

    #: Options for :attr:`jinja_env`, read when it is created.
    jinja_options: dict[str, t.Any] = {}

    #: The class of URL rules :meth:`add_url_rule` creates.
    url_rule_class = Rule

    #: The class of :attr:`url_map`.
    url_map_class = Map

    #: The class :meth:`test_client` creates; ``None`` means
    #: :class:`~demijohn.testing.DemijohnClient`.
    test_client_class: type[DemijohnClient] | None = None

    #: The class :meth:`test_cli_runner` creates; ``None`` means
    #: :class:`~demijohn.testing.DemijohnCliRunner`.
    test_cli_runner_class: type[DemijohnCliRunner] | None = None

    #: The session interface: opens and saves :data:`~demijohn.session`.
    #: Replace it to store sessions elsewhere.
    session_interface: SessionInterface = SecureCookieSessionInterface()

    #: The configuration every application starts from.
    default_config = ImmutableDict(DEFAULT_CONFIG)

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )

        if instance_path is None:
            instance_path = self.auto_find_instance_path()
        elif not os.path.isabs(instance_path):
            raise ValueError(
                "If an instance path is provided it must be absolute. A"
                " relative path was given instead."
            )
        #: The folder for files that belong to this deployment and not to
        #: the code: local config, databases, uploads.
        self.instance_path = instance_path
        #: The configuration, a :class:`~demijohn.config.Config`.
        self.config = self.make_config(instance_relative_config)
        #: Raises HTTP exceptions for :func:`~demijohn.abort`.
        self.aborter = self.make_aborter()
        #: The JSON provider used by :func:`~demijohn.jsonify`, dict return
        #: values and ``request.get_json()``.
        self.json: JSONProvider = self.json_provider_class(self)
        #: Functions called when ``url_for`` fails with a ``BuildError``;
        #: the first to return a URL wins.
        self.url_build_error_handlers: list[
            t.Callable[[Exception, str, dict[str, t.Any]], str]
        ] = []
        #: Functions run when an application context is popped.
        self.teardown_appcontext_funcs: list[ft.TeardownCallable] = []
        #: Functions whose returned dicts fill the ``demijohn shell`` namespace.
        self.shell_context_processors: list[ft.ShellContextProcessorCallable] = []
        #: Registered blueprints by name.
        self.blueprints: dict[str, Blueprint] = {}
        #: Where extensions keep their per-application state, by name.
        self.extensions: dict[str, t.Any] = {}
        #: The Werkzeug URL :class:`~werkzeug.routing.Map`. Add converters to
        #: ``url_map.converters`` before adding rules that use them.
        self.url_map = self.url_map_class(host_matching=host_matching)
        #: Whether subdomain matching against ``SERVER_NAME`` is on.
        self.subdomain_matching = subdomain_matching
        self._got_first_request = False
        self._adapter_cache: dict[tuple[t.Any, ...], MapAdapter] = {}
        #: Functions run by :meth:`startup`, registered with
        #: :meth:`before_serving`.
        self.before_serving_funcs: list[t.Callable[[], t.Any]] = []
        #: Functions run by :meth:`shutdown`, registered with
        #: :meth:`after_serving`.
        self.after_serving_funcs: list[t.Callable[[], t.Any]] = []
        #: Async generator functions registered with :meth:`while_serving`.
        self.while_serving_gens: list[t.Callable[[], t.AsyncGenerator[None, None]]] = []
        self._serving_gens: list[t.AsyncGenerator[None, None]] = []

        if self.has_static_folder:
            if bool(static_host) != host_matching:
                raise InvalidArgumentsError(
                    "Invalid static_host/host_matching combination: with"
                    " host_matching, static_host is required; without it,"
                    " static_host must not be set."
                )
            app_ref = weakref.ref(self)

            def serve_static(**kw: t.Any) -> Response:
                app = app_ref()
                assert app is not None, "the application was garbage collected"
                return app.send_static_file(**kw)

            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=serve_static,
            )
        self.cli.name = self.name

    @cached_property
    def name(self) -> str:
        """The application's display name, used for its logger, its CLI
        group and the default instance folder.

        The import name, except for ``"__main__"``, where it is the running
        script's file name without extension. Assign to it, or override it
        in a subclass, to change it.
        """
        if self.import_name != "__main__":
            return self.import_name
        main_file: str | None = getattr(sys.modules["__main__"], "__file__", None)
        if main_file is None:
            return "__main__"
        return os.path.splitext(os.path.basename(main_file))[0]

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the"
                " application. It has already handled its first request, so"
                " the change would apply to some requests and not others.\n"
                "Make sure all imports, decorators, functions, etc. needed to"
                " set up the application run before it serves requests."
            )

    # -- configuration ---------------------------------------------------

    @property
    def got_first_request(self) -> bool:
        """Whether the application has started handling a request. Setup
        methods refuse to run after that.
        """
        return self._got_first_request

    @property
    def debug(self) -> bool:
        """Whether debug mode is on: the :data:`DEBUG` config key.

        Debug mode shows tracebacks, reloads templates and logs at debug
        level. Never enable it in production.
        """
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        if self.config["TEMPLATES_AUTO_RELOAD"] is None:
            self.jinja_env.auto_reload = value

    def make_config(self, instance_relative: bool = False) -> Config:
        """Create :attr:`config` from :attr:`default_config`.

        Called once by the constructor. ``DEBUG`` starts from the
        :envvar:`DEMIJOHN_DEBUG` environment variable (or ``FLASK_DEBUG``, see
        :mod:`demijohn.environment`).
        """
        root_path = self.instance_path if instance_relative else self.root_path
        defaults = dict(self.default_config)
        defaults["DEBUG"] = get_debug_flag()
        return self.config_class(root_path, defaults)

    def make_aborter(self) -> Aborter:
        """Create :attr:`aborter`, called once by the constructor."""
        return self.aborter_class()

    def auto_find_instance_path(self) -> str:
        """Where the instance folder is when none was given: ``instance``
        beside the package, or ``<prefix>/var/<name>-instance`` for an
        installed package.
        """
        prefix, package_path = find_package(self.import_name)
        if prefix is None:
            return os.path.join(package_path, "instance")
        return os.path.join(prefix, "var", f"{self.name}-instance")

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.Any]:
        """Open a file relative to :attr:`instance_path`. Unlike
        :meth:`open_resource`, writing is allowed.
        """
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    # -- templates ---------------------------------------------------------

    @property
    def jinja_env(self) -> Environment:
        """The Jinja environment, created on first use by
        :meth:`create_jinja_environment`.
        """
        env = self.__dict__.get("_jinja_env")
        if env is None:
            env = self.__dict__["_jinja_env"] = self.create_jinja_environment()
        return t.cast(Environment, env)

    def create_jinja_environment(self) -> Environment:
        """Create :attr:`jinja_env` from :attr:`jinja_options`.

        Autoescaping follows :meth:`select_jinja_autoescape`; templates
        reload when :data:`TEMPLATES_AUTO_RELOAD` is set, or in debug mode
        when it is ``None``. The globals ``url_for``,
        ``get_flashed_messages``, ``config``, ``request``, ``session`` and
        ``g`` are added, and the ``tojson`` filter uses :attr:`json`.
        Override it to change the environment; call ``super()`` first.
        """
        options = dict(self.jinja_options)
        options.setdefault("autoescape", self.select_jinja_autoescape)
        if "auto_reload" not in options:
            auto_reload = self.config["TEMPLATES_AUTO_RELOAD"]
            options["auto_reload"] = self.debug if auto_reload is None else auto_reload
        env = self.jinja_environment(self, **options)
        env.globals.update(
            url_for=self.url_for,
            get_flashed_messages=get_flashed_messages,
            config=self.config,
            request=request,
            session=session,
            g=g,
        )
        env.policies["json.dumps_function"] = self.json.dumps
        return env

    def create_global_jinja_loader(self) -> DispatchingJinjaLoader:
        """The loader of :attr:`jinja_env`: the application's templates, then
        each blueprint's. Override :attr:`jinja_loader` rather than this to
        change where the application's own templates come from.
        """
        return DispatchingJinjaLoader(self)

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Whether a template is autoescaped: templates from strings and
        ``.html``, ``.htm``, ``.xml``, ``.xhtml`` and ``.svg`` files are.
        """
        if filename is None:
            return True
        return filename.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))

    def update_template_context(self, context: dict[str, t.Any]) -> None:
        """Add what the context processors return to ``context``, in place.

        Processors of the application run first, then those of the current
        request's blueprints. Values passed to the render call win over
        processor values.
        """
        request_ctx_ = _cv_request.get(None)
        processors = self.template_context_processors
        if (
            len(processors) == 1
            and processors.get(None) == _STOCK_PROCESSORS
            and type(self).ensure_sync is Lifecycle.ensure_sync
            and "ensure_sync" not in self.__dict__
        ):
            # PERF: only the built-in processor is registered: its two
            # values are set directly, under the ones passed in, without
            # working out the request's blueprints, which have none.
            app_ctx = _cv_app.get(None)
            if app_ctx is not None and "g" not in context:
                context["g"] = app_ctx.g
            if request_ctx_ is not None and "request" not in context:
                context["request"] = request_ctx_.request
            return
        names: t.Iterable[str | None] = (None,)
        if request_ctx_ is not None:
            names = chain(names, reversed(request_ctx_.request.blueprints))
        given = context.copy()
        for name in names:
            if name in processors:
                for func in processors[name]:
                    context.update(self.ensure_sync(func)())
        context.update(given)

    @setupmethod
    def template_filter(
        self, name: str | None = None
    ) -> t.Callable[[T_template_filter], T_template_filter]:
        """Decorate a function to register it as a Jinja filter, named
        ``name`` or after the function.
        """

        def decorator(f: T_template_filter) -> T_template_filter:
            self.add_template_filter(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_filter(
        self, f: ft.TemplateFilterCallable, name: str | None = None
    ) -> None:
        """Register a Jinja filter; see :meth:`template_filter`."""
        self.jinja_env.filters[name or f.__name__] = f

    @setupmethod
    def template_test(
        self, name: str | None = None
    ) -> t.Callable[[T_template_test], T_template_test]:
        """Decorate a function to register it as a Jinja test."""

        def decorator(f: T_template_test) -> T_template_test:
            self.add_template_test(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_test(
        self, f: ft.TemplateTestCallable, name: str | None = None
    ) -> None:
        """Register a Jinja test; see :meth:`template_test`."""
        self.jinja_env.tests[name or f.__name__] = f

    @setupmethod
    def template_global(
        self, name: str | None = None
    ) -> t.Callable[[T_template_global], T_template_global]:
        """Decorate a function to make it a global in every template."""

        def decorator(f: T_template_global) -> T_template_global:
            self.add_template_global(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_global(
        self, f: ft.TemplateGlobalCallable, name: str | None = None
    ) -> None:
        """Register a template global; see :meth:`template_global`."""
        self.jinja_env.globals[name or f.__name__] = f

    # -- registration --------------------------------------------------------

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register a URL rule, and the view function of its endpoint.

        :param rule: The URL rule, e.g. ``"/user/<int:id>"``.
        :param endpoint: The endpoint name; defaults to the view's name.
        :param view_func: The view. May be omitted and added later with
            :meth:`endpoint`.
        :param provide_automatic_options: Answer ``OPTIONS`` automatically.
            Defaults to the view's ``provide_automatic_options`` attribute,
            then to :data:`PROVIDE_AUTOMATIC_OPTIONS` unless ``OPTIONS`` is
            among the methods.
        :param options: Options of :class:`werkzeug.routing.Rule`, plus
            ``methods``, which defaults to the view's ``methods`` attribute
            or ``["GET"]``. ``HEAD`` is added wherever ``GET`` is.
        :raises TypeError: if ``methods`` is a string.
        :raises AssertionError: if the endpoint already has another view.
        """
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)  # type: ignore[arg-type]
        options["endpoint"] = endpoint
        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError(
                "Allowed methods must be a list of strings, for example:"
                ' @app.route(..., methods=["POST"])'
            )
        methods = {item.upper() for item in methods}
        required_methods = set(getattr(view_func, "required_methods", ()))
        if provide_automatic_options is None:
            provide_automatic_options = getattr(
                view_func, "provide_automatic_options", None
            )
        if provide_automatic_options is None:
            provide_automatic_options = bool(
                "OPTIONS" not in methods and self.config["PROVIDE_AUTOMATIC_OPTIONS"]
            )
            if provide_automatic_options:
                required_methods.add("OPTIONS")
        methods |= required_methods

        rule_obj = self.url_rule_class(rule, methods=methods, **options)
        rule_obj.provide_automatic_options = provide_automatic_options  # type: ignore[attr-defined]
        self.url_map.add(rule_obj)
        if view_func is not None:
            existing = self.view_functions.get(endpoint)
            if existing is not None and existing != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing"
                    f" endpoint function: {endpoint}"
                )
            self.view_functions[endpoint] = view_func

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Register a blueprint: its routes, hooks, error handlers and
        templates join the application.

        :param options: Override the blueprint's ``url_prefix``,
            ``subdomain``, ``url_defaults`` and ``name``; registering one
            blueprint twice needs a different ``name``.
        """
        blueprint.register(self, options)

    def iter_blueprints(self) -> t.ValuesView[Blueprint]:
        """The registered blueprints, in registration order."""
        return self.blueprints.values()

    @setupmethod
    def teardown_appcontext(self, f: T_teardown) -> T_teardown:
        """Register a function to run when the application context is popped.

        It receives the unhandled exception or ``None``; its return value is
        ignored. It runs after every request, and at the end of ``with
        app.app_context()``, so it is the place to release per-context
        resources such as database sessions.
        """
        self.teardown_appcontext_funcs.append(f)
        return f

    @setupmethod
    def shell_context_processor(
        self, f: T_shell_context_processor
    ) -> T_shell_context_processor:
        """Register a function whose returned dict is added to the namespace
        of ``demijohn shell``.
        """
        self.shell_context_processors.append(f)
        return f

    def make_shell_context(self) -> dict[str, t.Any]:
        """The namespace of ``demijohn shell``: ``app``, ``g`` and what the
        shell context processors return.
        """
        namespace: dict[str, t.Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            namespace.update(processor())
        return namespace

    # -- the request lifecycle -------------------------------------------

    def wsgi_app(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> cabc.Iterable[bytes]:
        """The WSGI application: handle one request.

        :meth:`__call__` calls it, so WSGI middleware is applied by wrapping
        this attribute (``app.wsgi_app = Middleware(app.wsgi_app)``) and
        keeps the application object usable.
        """
        # PERF: the WSGI lane (see demijohn.lane): for an application with
        # no signal receiver, override or other session interface, the
        # request context is made and bound here, the URL matched with the
        # router, the hooks and a plain ``def`` view called directly, and a
        # text, bytes or dict value nothing else looks at sent as it is;
        # every other case continues the general way from where the lane
        # stands.
        router = self._unbound_router() if lane_open(self) else None
        lane_app_ctx: AppContext | None = None
        if router is None:
            ctx = self.request_context(environ)
            # Outside the ``try``: a push that fails (an ``appcontext_pushed``
            # receiver raised) leaves nothing bound, nothing to pop, and no
            # request for the error handlers to look at.
            ctx.push()
        else:
            request = self.request_class(environ)
            request.json_module = self.json
            ctx = RequestContext._binding_lazily(self, request)
            # Outside the ``try`` too; the URL is matched below, with the
            # contexts bound.
            lane_app_ctx = push_lane_contexts(self, ctx)
        error: BaseException | None = None
        try:
            plain: tuple[tuple[str, bytes], bytes] | None = None
            response: Response | PlainOutput | None = None
            try:
                if router is not None:
                    plain, response = self._serve_in_lane(ctx, router, environ)
                if plain is None and response is None:
                    response = self._dispatch_plainly(ctx)
                    if response is None:
                        response = self.full_dispatch_request()
                if (
                    response is not None
                    and not isinstance(response, PlainOutput)
                    and hasattr(response.response, "__aiter__")
                ):
                    # An async body keeps the request context, as under ASGI.
                    response.response = StreamWithContext(
                        AsyncToSyncIterator(t.cast(t.Any, response.response)), ctx
                    )
            except Exception as e:
                error = e
                plain = None
                response = self.handle_exception(e)
            except:
                error = sys.exc_info()[1]
                raise
            app_iter: cabc.Iterable[bytes]
            if plain is not None:
                (content_type, _), body = plain
                start_response(
                    "200 OK",
                    [
                        ("Content-Type", content_type),
                        ("Content-Length", str(len(body))),
                    ],
                )
                app_iter = () if environ["REQUEST_METHOD"] == "HEAD" else [body]
            elif isinstance(response, PlainOutput):
                start_response(
                    response.status,
                    [
                        ("Content-Type", response.content_type),
                        ("Content-Length", str(len(response.body))),
                    ],
                )
                app_iter = (
                    () if environ["REQUEST_METHOD"] == "HEAD" else [response.body]
                )
            else:
                response_object: Response = response  # type: ignore[assignment]
                app_iter = response_object(environ, start_response)
            if ctx._streams_open:
                # The server closes the iterable when it is done with the
                # response; streams the view made but did not send end then.
                app_iter = ClosingIterator(app_iter, ctx._close_abandoned_streams)
            return app_iter
        finally:
            if "werkzeug.debug.preserve_context" in environ:
                environ["werkzeug.debug.preserve_context"](_cv_app.get())
                environ["werkzeug.debug.preserve_context"](_cv_request.get())
            if error is not None and self.should_ignore_error(error):
                error = None
            if router is None or not unbind(
                self, ctx, lane_app_ctx, error, tear_down=True
            ):
                ctx.pop(error)

    def _serve_in_lane(
        self, ctx: RequestContext, router: FastRouter, environ: WSGIEnvironment
    ) -> tuple[tuple[tuple[str, bytes], bytes] | None, Response | PlainOutput | None]:
        """The WSGI lane's part of :meth:`full_dispatch_request`, with the
        contexts bound: match the URL with ``router``, call the
        ``before_request`` functions (see
        :func:`~demijohn.lane.call_before_hooks`) and a plain ``def`` view,
        and return its value's plain body (see
        :func:`~demijohn.lane.plain_body`) or its response, finalized with
        the ``after_request`` functions (see
        :func:`~demijohn.lane.call_after_hooks`) or as the plain lane makes
        it. ``(None, None)`` when nothing was dispatched: the URL did not
        match, or the view is not a plain function.
        """
        target = lane_view(self, ctx, router, environ, False)
        if target is None:
            return None, None
        view, view_args = target
        try:
            if request_started.receivers:  # PERF: no call without receivers
                send_request_started(self)
            if self.before_request_funcs or self.url_value_preprocessors:
                request = ctx.request
                rule = request.url_rule
                rv = call_before_hooks(self, request)
                if rv is None:
                    args = view_args_after_hooks(request, rule)
                    if args is not None:
                        rv = view(**args)
                    else:
                        rv = self._run_steps(self._steps("dispatch_request"))
            else:
                rv = view(**view_args)
        except Exception as e:
            return None, t.cast(
                Response, self._run_steps(self._error_response_steps(e))
            )
        if self.after_request_funcs or ctx._after_request_functions:
            # finalize_request, with the functions called directly.
            response = call_after_hooks(self, ctx, self.make_response(rv))
            check_header_fields(response)
            return None, response
        plain = plain_body(self, ctx, ctx.request, rv)
        if plain is not None:
            return plain, None
        response = self._plain_lane_response(ctx, rv)
        if response is None:
            response = t.cast(
                Response, self._run_steps(self._steps("finalize_request", rv))
            )
        return None, response

    # PERF: the ASGI application is the lane's entry function itself (see
    # demijohn.asgi_lane), adopted as this method, so a request takes no
    # coroutine call to get there. It is a method like any other: override
    # it, call it through super(), or wrap the attribute.
    asgi_app = asgi_lane_entry

    # -- contexts ----------------------------------------------------------

    def app_context(self) -> AppContext:
        """Create an :class:`~demijohn.ctx.AppContext`; use it with ``with``
        to bind :data:`~demijohn.current_app` outside a request.
        """
        return AppContext(self)

    def request_context(self, environ: WSGIEnvironment) -> RequestContext:
        """Create the :class:`~demijohn.ctx.RequestContext` for a WSGI
        environment; :meth:`wsgi_app` calls it for every request.
        """
        return RequestContext(self, environ)

    def _request_context_from(self, source: EnvironSource) -> RequestContext:
        """The request context of a request whose environ ``source`` builds
        (the ASGI edge's): built the first time it is read, unless
        :meth:`request_context` or the request class's constructor is
        overridden, which expect it at once."""
        if (
            type(self).request_context is Demijohn.request_context
            and "request_context" not in self.__dict__
            and self.request_class._lazy_environ
        ):
            request = self.request_class._with_environ_source(source)
            request.json_module = self.json
            return RequestContext(self, None, request)
        return self.request_context(source.build())

    def test_request_context(self, *args: t.Any, **kwargs: t.Any) -> RequestContext:
        """Create a request context for a request built from the arguments,
        without sending it; use it with ``with`` in tests.

        Takes the arguments of :class:`~demijohn.testing.EnvironBuilder`
        (``path``, ``method``, ``headers``, ``data``, ``json``,
        ``query_string``, ``base_url``, ``subdomain``, ``url_scheme``, ...),
        and uses :data:`SERVER_NAME`, :data:`APPLICATION_ROOT` and
        :data:`PREFERRED_URL_SCHEME` like the test client does.
        """
        from .testing import EnvironBuilder

        builder = EnvironBuilder(self, *args, **kwargs)
        try:
            return self.request_context(builder.get_environ())
        finally:
            builder.close()

    # -- testing and running ---------------------------------------------

    def test_client(self, use_cookies: bool = True, **kwargs: t.Any) -> DemijohnClient:
        """Create a test client that sends requests to the application
        without a server; see :class:`~demijohn.testing.DemijohnClient`.
        """
        from .testing import DemijohnClient

        cls = self.test_client_class or DemijohnClient
        return cls(self, self.response_class, use_cookies=use_cookies, **kwargs)

    def test_cli_runner(self, **kwargs: t.Any) -> DemijohnCliRunner:
        """Create a runner for invoking the application's CLI commands in
        tests; see :class:`~demijohn.testing.DemijohnCliRunner`.
        """
        from .testing import DemijohnCliRunner

        cls = self.test_cli_runner_class or DemijohnCliRunner
        return cls(self, **kwargs)

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: t.Any,
    ) -> None:
        """Serve the application with Werkzeug's development server.

        For development only: use a production WSGI server to deploy. The
        host and port default to :data:`SERVER_NAME`'s, then to
        ``127.0.0.1:5000``. ``debug`` turns on the reloader and debugger.
        ``options`` go to :func:`werkzeug.serving.run_simple`. Does nothing
        when called while the ``demijohn run`` command is running the app.
        """
        if getenv("RUN_FROM_CLI") == "true":
            return
        if get_load_dotenv(load_dotenv):
            from .cli import load_dotenv as _load_dotenv

            _load_dotenv()
            if getenv("DEBUG") is not None:
                self.debug = get_debug_flag()
        if debug is not None:
            self.debug = bool(debug)
        server_name = self.config.get("SERVER_NAME")
        sn_host = sn_port = None
        if server_name:
            sn_host, _, sn_port = server_name.partition(":")
        if not host:
            host = sn_host or "127.0.0.1"
        if port or port == 0:
            port = int(port)
        elif sn_port:
            port = int(sn_port)
        else:
            port = 5000
        options.setdefault("use_reloader", self.debug)
        options.setdefault("use_debugger", self.debug)
        options.setdefault("threaded", True)
        click.echo(f" * Serving demijohn app {self.name!r}")
        from werkzeug.serving import run_simple

        try:
            run_simple(host, port, self, **options)
        finally:
            self._got_first_request = False


#: The name Flask code uses for the application class.
Flask = Demijohn

#: Flask's name for its protocol-independent application base class.
#: demijohn has one application class for both protocols, so it is
#: :class:`Demijohn`; ``isinstance(app, App)`` holds for every application.
App = Demijohn
