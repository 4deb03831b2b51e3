"""What the application and blueprints share: routes, hooks, error handlers,
static files and templates.

:class:`Scaffold` only *records* registrations in plain dicts keyed by
blueprint name (``None`` for the application itself), the same structures
Flask exposes, so extensions that read or extend them keep working. The
application reads them when it handles a request; a blueprint copies them
into the application when it is registered.

Rules for this module: no request handling and no I/O at import or
registration time, except resolving file system paths.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys
import typing as t
from collections import defaultdict
from functools import update_wrapper

from jinja2 import BaseLoader, FileSystemLoader
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.utils import cached_property

from . import typing as ft
from .cli_loading import AppGroup
from .errors import MissingArgumentError
from .helpers import get_root_path, send_from_directory
from .templating import _default_template_ctx_processor

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from click import Group

    from .wrappers import Response

F = t.TypeVar("F", bound=t.Callable[..., t.Any])
T_after_request = t.TypeVar("T_after_request", bound=ft.AfterRequestCallable[t.Any])
T_before_request = t.TypeVar("T_before_request", bound=ft.BeforeRequestCallable)
T_error_handler = t.TypeVar("T_error_handler", bound=ft.ErrorHandlerCallable)
T_teardown = t.TypeVar("T_teardown", bound=ft.TeardownCallable)
T_template_context_processor = t.TypeVar(
    "T_template_context_processor", bound=ft.TemplateContextProcessorCallable
)
T_url_defaults = t.TypeVar("T_url_defaults", bound=ft.URLDefaultCallable)
T_url_value_preprocessor = t.TypeVar(
    "T_url_value_preprocessor", bound=ft.URLValuePreprocessorCallable
)
T_route = t.TypeVar("T_route", bound=ft.RouteCallable)
T_websocket = t.TypeVar("T_websocket", bound=ft.WebsocketHandlerCallable)

#: The registry type of error handlers: owner name → status code (or
#: ``None`` for exceptions without one) → exception class → handler.
ErrorHandlerSpec = dict[
    ft.AppOrBlueprintKey,
    dict[int | None, dict[type[Exception], ft.ErrorHandlerCallable]],
]


def setupmethod(f: F) -> F:
    """Mark a registration method that must run before the first request.

    Calling it later raises :exc:`AssertionError` with an explanation,
    because a change made while requests are being served would apply to
    some of them and not others.
    """
    f_name = f.__name__

    def wrapper_func(self: Scaffold, *args: t.Any, **kwargs: t.Any) -> t.Any:
        self._check_setup_finished(f_name)
        return f(self, *args, **kwargs)

    return t.cast(F, update_wrapper(wrapper_func, f))


def _new_error_handler_spec() -> ErrorHandlerSpec:
    return defaultdict(lambda: defaultdict(dict))


class Scaffold:
    """The registration API shared by :class:`~demijohn.Demijohn` and
    :class:`~demijohn.Blueprint`.

    :param import_name: The name of the module or package the object is
        defined in, usually ``__name__``. It locates the root path.
    :param static_folder: A folder of static files, relative to the root
        path, served at ``static_url_path``.
    :param static_url_path: The URL prefix of the static route. Defaults to
        ``/`` plus the static folder's name.
    :param template_folder: A folder of templates, relative to the root path.
    :param root_path: The folder that relative paths start from. Found from
        ``import_name`` when not given.
    """

    #: The click group of CLI commands this object adds to ``demijohn``.
    cli: Group

    #: The name of this object: the application's import name or the
    #: blueprint's name.
    name: str

    _static_folder: str | None = None
    _static_url_path: str | None = None

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        #: The import name given to the constructor.
        self.import_name = import_name
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        #: The template folder, relative to :attr:`root_path`, whose
        #: templates :attr:`jinja_loader` finds.
        self.template_folder = template_folder
        if root_path is None:
            root_path = get_root_path(self.import_name)
        #: The absolute folder that relative paths start from.
        self.root_path = root_path
        self.cli = AppGroup()

        #: Endpoint name → view function. :meth:`route` fills it.
        self.view_functions: dict[str, ft.RouteCallable] = {}
        #: Owner → status code → exception class → error handler.
        self.error_handler_spec: ErrorHandlerSpec = _new_error_handler_spec()
        #: Owner → ``before_request`` functions, in registration order.
        self.before_request_funcs: dict[
            ft.AppOrBlueprintKey, list[ft.BeforeRequestCallable]
        ] = defaultdict(list)
        #: Owner → ``before_websocket`` functions, in registration order.
        self.before_websocket_funcs: dict[
            ft.AppOrBlueprintKey, list[ft.BeforeRequestCallable]
        ] = defaultdict(list)
        #: Owner → ``after_request`` functions; run in reverse order.
        self.after_request_funcs: dict[
            ft.AppOrBlueprintKey, list[ft.AfterRequestCallable[t.Any]]
        ] = defaultdict(list)
        #: Owner → ``teardown_request`` functions; run in reverse order.
        self.teardown_request_funcs: dict[
            ft.AppOrBlueprintKey, list[ft.TeardownCallable]
        ] = defaultdict(list)
        #: Owner → template context processors.
        self.template_context_processors: dict[
            ft.AppOrBlueprintKey, list[ft.TemplateContextProcessorCallable]
        ] = defaultdict(list, {None: [_default_template_ctx_processor]})
        #: Owner → URL value preprocessors, run before ``before_request``.
        self.url_value_preprocessors: dict[
            ft.AppOrBlueprintKey, list[ft.URLValuePreprocessorCallable]
        ] = defaultdict(list)
        #: Owner → URL default functions, run by ``url_for``.
        self.url_default_functions: dict[
            ft.AppOrBlueprintKey, list[ft.URLDefaultCallable]
        ] = defaultdict(list)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def _check_setup_finished(self, f_name: str) -> None:
        raise NotImplementedError

    # -- static files and resources -------------------------------------

    @property
    def static_folder(self) -> str | None:
        """The absolute path of the static folder, or ``None``."""
        if self._static_folder is None:
            return None
        return os.path.join(self.root_path, self._static_folder)

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        if value is not None:
            value = os.fspath(value).rstrip(r"\/")
        self._static_folder = value

    @property
    def has_static_folder(self) -> bool:
        """Whether a static folder is set."""
        return self.static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        """The URL prefix the static route is served at.

        Defaults to ``/`` plus the static folder's base name, or ``None``
        when there is no static folder.
        """
        if self._static_url_path is not None:
            return self._static_url_path
        if self.static_folder is None:
            return None
        basename = os.path.basename(self.static_folder)
        return f"/{basename}".rstrip("/")

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        if value is not None:
            value = value.rstrip("/")
        self._static_url_path = value

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """The ``max_age`` for a file served by :meth:`send_static_file`.

        Returns :data:`SEND_FILE_MAX_AGE_DEFAULT` as seconds, or ``None``
        (the default) so browsers revalidate with conditional requests.
        Override it to choose a cache time per file.
        """
        from .globals import current_app

        value = current_app.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if value is None:
            return None
        if hasattr(value, "total_seconds"):
            return int(value.total_seconds())
        return int(value)

    def send_static_file(self, filename: str) -> Response:
        """The view of the static route: serve ``filename`` from
        :attr:`static_folder`.

        A path that leaves the folder, or a missing file, is a 404.
        """
        if not self.has_static_folder:
            raise RuntimeError("'static_folder' must be set to serve static files.")
        max_age = self.get_send_file_max_age(filename)
        return send_from_directory(
            t.cast(str, self.static_folder), filename, max_age=max_age
        )

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:
        """A Jinja loader for :attr:`template_folder`, or ``None``."""
        if self.template_folder is None:
            return None
        return FileSystemLoader(os.path.join(self.root_path, self.template_folder))

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = None
    ) -> t.IO[t.Any]:
        """Open a file relative to :attr:`root_path` for reading.

        :param mode: ``"r"``, ``"rt"`` or ``"rb"``; writing is refused.
        :param encoding: The text encoding, for text mode.
        """
        if mode not in {"r", "rt", "rb"}:
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    # -- routing ------------------------------------------------------------

    def _method_route(
        self, method: str, rule: str, options: dict[str, t.Any]
    ) -> t.Callable[[T_route], T_route]:
        if "methods" in options:
            raise TypeError(
                f"The '{method.lower()}' shortcut takes no 'methods' argument;"
                " use the 'route' decorator to give methods."
            )
        return self.route(rule, methods=[method], **options)

    @setupmethod
    def get(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Shortcut for :meth:`route` with ``methods=["GET"]``."""
        return self._method_route("GET", rule, options)

    @setupmethod
    def post(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Shortcut for :meth:`route` with ``methods=["POST"]``."""
        return self._method_route("POST", rule, options)

    @setupmethod
    def put(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Shortcut for :meth:`route` with ``methods=["PUT"]``."""
        return self._method_route("PUT", rule, options)

    @setupmethod
    def delete(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Shortcut for :meth:`route` with ``methods=["DELETE"]``."""
        return self._method_route("DELETE", rule, options)

    @setupmethod
    def patch(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Shortcut for :meth:`route` with ``methods=["PATCH"]``."""
        return self._method_route("PATCH", rule, options)

    @setupmethod
    def route(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Decorate a view function to serve URLs matching ``rule``.

        Calls :meth:`add_url_rule` with the function; the endpoint defaults
        to the function's name. ``options`` are those of
        :class:`werkzeug.routing.Rule`, plus ``methods`` (default
        ``["GET"]``; ``HEAD`` and ``OPTIONS`` are added automatically) and
        ``provide_automatic_options``.
        """

        def decorator(f: T_route) -> T_route:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, **options)
            return f

        return decorator

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register a URL rule and, optionally, its view function.

        Implemented by the application and by blueprints.
        """
        raise NotImplementedError

    @setupmethod
    def endpoint(self, endpoint: str) -> t.Callable[[F], F]:
        """Decorate a function to be the view of ``endpoint``, for a rule
        added with :meth:`add_url_rule` without a view function.
        """

        def decorator(f: F) -> F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    # -- request hooks ---------------------------------------------------

    @setupmethod
    def before_request(self, f: T_before_request) -> T_before_request:
        """Register a function to run before each request's view.

        It is called without arguments, after URL value preprocessors. If it
        returns a value other than ``None``, that value becomes the response
        and the view and later ``before_request`` functions are skipped.
        On a blueprint it runs only for the blueprint's own requests.
        """
        self.before_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def websocket(
        self, rule: str, **options: t.Any
    ) -> t.Callable[[T_websocket], T_websocket]:
        """Decorate an async function to handle WebSocket connections to
        ``rule`` (a demijohn addition, named as in Quart).

        The handler talks through the :data:`~demijohn.websocket` proxy and
        receives the rule's arguments like a view. It needs an ASGI server;
        over WSGI or plain HTTP the URL answers 426. ``options`` are those of
        :meth:`route` except ``methods``.
        """
        if "methods" in options:
            raise TypeError("WebSocket routes take no 'methods' argument.")

        def decorator(f: T_websocket) -> T_websocket:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(
                rule,
                endpoint,
                f,
                websocket=True,
                provide_automatic_options=False,
                **options,
            )
            return f

        return decorator

    @setupmethod
    def before_websocket(self, f: T_before_request) -> T_before_request:
        """Register a function to run before each WebSocket handler, like
        :meth:`before_request` for HTTP requests.

        A returned value other than ``None`` refuses the connection with
        that response (e.g. ``abort(403)`` or ``("no", 403)``).
        """
        self.before_websocket_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def after_request(self, f: T_after_request) -> T_after_request:
        """Register a function to run after each request's view.

        It receives the response object and must return a response object,
        the same or a new one. It does not run when an exception was not
        handled; use :meth:`teardown_request` for clean-up that must always
        happen. Functions run in reverse registration order.
        """
        self.after_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def teardown_request(self, f: T_teardown) -> T_teardown:
        """Register a function to run when the request context is popped.

        It receives the unhandled exception, or ``None``, and always runs,
        even when the view or a hook raised, and after a streamed response
        ends. Its return value is ignored. Functions run in reverse
        registration order.
        """
        self.teardown_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def context_processor(
        self, f: T_template_context_processor
    ) -> T_template_context_processor:
        """Register a function whose returned dict is added to the context of
        every rendered template.
        """
        self.template_context_processors[None].append(f)
        return f

    @setupmethod
    def url_value_preprocessor(
        self, f: T_url_value_preprocessor
    ) -> T_url_value_preprocessor:
        """Register a function called with the endpoint and the matched view
        arguments before ``before_request`` functions.

        It may pop values from the arguments, e.g. to store a language code
        on :data:`~demijohn.g` instead of passing it to every view.
        """
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: T_url_defaults) -> T_url_defaults:
        """Register a function called by ``url_for`` with the endpoint and the
        values dict, which it may update in place to fill in defaults.
        """
        self.url_default_functions[None].append(f)
        return f

    # -- error handlers --------------------------------------------------

    @setupmethod
    def errorhandler(
        self, code_or_exception: type[Exception] | int
    ) -> t.Callable[[T_error_handler], T_error_handler]:
        """Register a function to handle an exception class or HTTP status.

        The handler receives the exception and returns a response value. The
        most specific registration wins: the exception's class is looked up
        through its MRO, blueprint handlers before the application's. An
        ``int`` registers for the :class:`~werkzeug.exceptions.HTTPException`
        with that code, so ``@app.errorhandler(404)`` handles every
        :exc:`~werkzeug.exceptions.NotFound`.
        """

        def decorator(f: T_error_handler) -> T_error_handler:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: ft.ErrorHandlerCallable
    ) -> None:
        """Register an error handler without the decorator syntax; see
        :meth:`errorhandler`.
        """
        exc_class, code = self._get_exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f

    @staticmethod
    def _get_exc_class_and_code(
        exc_class_or_code: type[Exception] | int,
    ) -> tuple[type[Exception], int | None]:
        """Normalise an error handler key to an exception class and code.

        Raises a :exc:`ValueError` or :exc:`TypeError` that explains what may
        be registered when the key is neither an HTTP code nor an exception
        class.
        """
        exc_class: type[Exception]
        if isinstance(exc_class_or_code, int):
            try:
                exc_class = default_exceptions[exc_class_or_code]
            except KeyError:
                raise ValueError(
                    f"'{exc_class_or_code}' is not a recognized HTTP error"
                    " code. Use a subclass of HTTPException with that code"
                    " instead."
                ) from None
        else:
            exc_class = exc_class_or_code
        if isinstance(exc_class, Exception):
            raise TypeError(
                f"{exc_class!r} is an instance, not a class. Handlers can only"
                " be registered for Exception classes or HTTP error codes."
            )
        if not isinstance(exc_class, type) or not issubclass(exc_class, Exception):
            name = getattr(exc_class, "__name__", repr(exc_class))
            raise ValueError(
                f"'{name}' is not a subclass of Exception. Handlers can only"
                " be registered for Exception classes or HTTP error codes."
            )
        if issubclass(exc_class, HTTPException):
            return exc_class, exc_class.code
        return exc_class, None


def _endpoint_from_view_func(view_func: ft.RouteCallable) -> str:
    """The default endpoint of a view: its function name."""
    if view_func is None:
        raise MissingArgumentError(
            "expected view func if endpoint is not provided: pass 'view_func',"
            " or 'endpoint' and add the view later with the 'endpoint' decorator."
        )
    return view_func.__name__


def _find_package_path(import_name: str) -> str:
    """The folder containing the package or module ``import_name``."""
    root_mod_name, _, _ = import_name.partition(".")
    try:
        root_spec = importlib.util.find_spec(root_mod_name)
        if root_spec is None:
            raise ValueError("not found")
    except (ImportError, ValueError):
        return os.getcwd()
    if root_spec.submodule_search_locations:
        if root_spec.origin is None or root_spec.origin == "namespace":
            package_spec = importlib.util.find_spec(import_name)
            if package_spec is not None and package_spec.submodule_search_locations:
                package_path = pathlib.Path(
                    os.path.commonpath(package_spec.submodule_search_locations)
                )
                search_location = next(
                    location
                    for location in root_spec.submodule_search_locations
                    if package_path.is_relative_to(location)
                )
            else:
                search_location = root_spec.submodule_search_locations[0]
            return os.path.dirname(search_location)
        return os.path.dirname(os.path.dirname(root_spec.origin))
    return os.path.dirname(t.cast(str, root_spec.origin))


def find_package(import_name: str) -> tuple[str | None, str]:
    """Find where a package is installed.

    Returns ``(prefix, package_path)``: the installation prefix when the
    package lives in a ``site-packages`` folder (``None`` otherwise) and the
    folder containing the package. The application uses it to place the
    instance folder.
    """
    package_path = _find_package_path(import_name)
    py_prefix = os.path.abspath(sys.prefix)
    if pathlib.PurePath(package_path).is_relative_to(py_prefix):
        return py_prefix, package_path
    site_parent, site_folder = os.path.split(package_path)
    if site_folder.lower() == "site-packages":
        parent, folder = os.path.split(site_parent)
        if folder.lower() == "lib":
            return parent, package_path
        if os.path.basename(parent).lower() == "lib":
            return os.path.dirname(parent), package_path
        return site_parent, package_path
    return None, package_path
