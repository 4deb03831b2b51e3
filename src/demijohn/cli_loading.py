"""Finding and loading the application for CLI commands, and running
commands in its application context.

This is the part of the command line that the built-in commands
(:mod:`demijohn.cli_commands`), the ``demijohn`` group (:mod:`demijohn.cli`)
and ``app.cli`` all share::

    ScriptInfo.load_app    --app / DEMIJOHN_APP, else wsgi.py, else app.py
      prepare_import       file path -> module name, directory on sys.path
      locate_app           import the module
        find_app_by_string 'name' or 'factory(literal args)'
        find_best_app      app, application, the only instance, or a factory
    with_appcontext        load the app, push its context around a command
    AppGroup               a click group whose commands use with_appcontext

Every public name here is also importable from :mod:`demijohn.cli`, where
Flask's ``flask.cli`` has it.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import sys
import traceback
import typing as t
from functools import update_wrapper
from types import ModuleType

import click
from click.core import ParameterSource

from .globals import _cv_app
from .helpers import get_debug_flag, get_load_dotenv

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .app import Demijohn

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

# The names tried, in order, when the import path names no attribute.
_APP_NAMES = ("app", "application")
_FACTORY_NAMES = ("create_app", "make_app")
# The files tried, in order, when no import path is given at all.
_DEFAULT_FILES = ("wsgi.py", "app.py")


class NoAppException(click.UsageError):
    """The application could not be found or loaded.

    Raised by the discovery functions below and by :meth:`ScriptInfo.load_app`.
    Being a :exc:`click.UsageError`, it ends a command with ``Error:`` and the
    message, without a traceback.
    """


# -- finding the application in a module ------------------------------------


def _is_app(value: object) -> t.TypeGuard[Demijohn]:
    # This module is imported while the application module is still being
    # imported (scaffold uses AppGroup), so the class is looked up at call time.
    from .app import Demijohn

    return isinstance(value, Demijohn)


def _failed_calling(func: t.Callable[..., t.Any], exc: BaseException) -> bool:
    """Whether ``exc`` (a :exc:`TypeError`) came from calling ``func`` with
    the wrong arguments, rather than from code running inside ``func``.
    """
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is func.__code__:
            return False
        tb = tb.tb_next
    return True


def find_best_app(module: ModuleType) -> Demijohn:
    """Find the application in ``module`` when no name was given.

    Tries, in order: an attribute named ``app`` or ``application``; the only
    :class:`~demijohn.Demijohn` instance in the module; a function named
    ``create_app`` or ``make_app`` called without arguments.

    :raises NoAppException: if the module holds several applications, if a
        factory needs arguments, or if nothing matches.
    """
    for name in _APP_NAMES:
        value = getattr(module, name, None)
        if _is_app(value):
            return value

    found: dict[int, Demijohn] = {}
    for value in vars(module).values():
        if _is_app(value):
            found[id(value)] = value
    if len(found) == 1:
        return next(iter(found.values()))
    if found:
        raise NoAppException(
            f"Detected multiple Demijohn applications in module"
            f" '{module.__name__}'. Use '{module.__name__}:name' to specify"
            " the correct one."
        )

    for name in _FACTORY_NAMES:
        factory = getattr(module, name, None)
        if not inspect.isfunction(factory):
            continue
        try:
            app = factory()
        except TypeError as e:
            if not _failed_calling(factory, e):
                raise
            raise NoAppException(
                f"Detected factory '{name}' in module '{module.__name__}', but"
                " could not call it without arguments. Use"
                f" '{module.__name__}:{name}(args)' to specify arguments."
            ) from e
        if _is_app(app):
            return app

    raise NoAppException(
        "Failed to find Demijohn application or factory in module"
        f" '{module.__name__}'. Use '{module.__name__}:name' to specify one."
    )


def _parse_app_name(
    app_name: str,
) -> tuple[str, list[t.Any], dict[str, t.Any]]:
    """Split ``name`` or ``name(args)`` into the name and literal arguments."""
    try:
        expr = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        expr = None
    if isinstance(expr, ast.Name):
        return expr.id, [], {}
    if not isinstance(expr, ast.Call):
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call."
        )
    if not isinstance(expr.func, ast.Name):
        raise NoAppException(f"Function reference must be a simple name: {app_name!r}.")
    try:
        args = [ast.literal_eval(arg) for arg in expr.args]
        kwargs = {}
        for keyword in expr.keywords:
            if keyword.arg is None:  # ``**mapping`` is not a literal
                raise ValueError(keyword)
            kwargs[keyword.arg] = ast.literal_eval(keyword.value)
    except (ValueError, TypeError):
        # literal_eval's own messages name an AST node; the whole expression
        # tells the user more.
        raise NoAppException(
            f"Failed to parse arguments as literal values: {app_name!r}."
        ) from None
    return expr.func.id, args, kwargs


def find_app_by_string(module: ModuleType, app_name: str) -> Demijohn:
    """Find the application named by ``app_name`` in ``module``.

    ``app_name`` is an attribute name (``app``) or a call of a function in
    the module with literal arguments (``create_app('dev', debug=True)``).
    An attribute that is a function is called, with the arguments if any.

    :raises NoAppException: if the string cannot be parsed, the attribute
        does not exist, the factory rejects the arguments, or the result is
        not a :class:`~demijohn.Demijohn` application.
    """
    name, args, kwargs = _parse_app_name(app_name)
    try:
        value = getattr(module, name)
    except AttributeError as e:
        raise NoAppException(
            f"Failed to find attribute {name!r} in {module.__name__!r}."
        ) from e

    if inspect.isfunction(value):
        try:
            value = value(*args, **kwargs)
        except TypeError as e:
            if not _failed_calling(value, e):
                raise
            raise NoAppException(
                f"The factory {app_name!r} in module {module.__name__!r} could"
                " not be called with the specified arguments."
            ) from e

    if _is_app(value):
        return value
    raise NoAppException(
        "A valid Demijohn application was not obtained from"
        f" '{module.__name__}:{app_name}'."
    )


def prepare_import(path: str) -> str:
    """Turn a file or directory path into an importable module name.

    A ``.py`` suffix and a trailing ``__init__`` are dropped, and parent
    directories that are packages (hold ``__init__.py``) become part of the
    dotted name. The first directory outside the package is put at the front
    of :data:`sys.path` so the module can be imported.
    """
    path = os.path.realpath(path)
    root, ext = os.path.splitext(path)
    if ext == ".py":
        path = root
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)

    parts: list[str] = []
    while True:
        path, name = os.path.split(path)
        parts.append(name)
        if not os.path.isfile(os.path.join(path, "__init__.py")):
            break

    if not sys.path or sys.path[0] != path:
        sys.path.insert(0, path)
    return ".".join(reversed(parts))


def _is_missing(module_name: str, exc: ImportError) -> bool:
    """Whether ``exc`` says ``module_name`` itself (or a parent package of
    it) does not exist, as opposed to an import inside it failing.
    """
    if not isinstance(exc, ModuleNotFoundError) or exc.name is None:
        return False
    return module_name == exc.name or module_name.startswith(f"{exc.name}.")


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: t.Literal[True] = True
) -> Demijohn: ...


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = ...
) -> Demijohn | None: ...


def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = True
) -> Demijohn | None:
    """Import ``module_name`` and find the application in it, by
    :func:`find_app_by_string` when ``app_name`` is given, else by
    :func:`find_best_app`.

    Returns ``None`` when the module does not exist and
    ``raise_if_not_found`` is false.

    :raises NoAppException: if the module does not exist, if importing it
        raised :exc:`ImportError` (the message holds the traceback), or if
        no application is found in it. Any other exception raised while
        importing the module propagates unchanged.
    """
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        if not _is_missing(module_name, e):
            raise NoAppException(
                f"While importing {module_name!r}, an ImportError was raised:"
                f"\n\n{traceback.format_exc()}"
            ) from None
        if not raise_if_not_found:
            return None
        raise NoAppException(f"Could not import {module_name!r}.") from None

    if app_name is None:
        return find_best_app(module)
    return find_app_by_string(module, app_name)


# -- loading the application ------------------------------------------------


def _split_import_path(import_path: str) -> tuple[str, str | None]:
    # Split at the first colon that does not start a Windows path, so that
    # 'C:\proj\app.py:create_app' names the file 'C:\proj\app.py'.
    parts = re.split(r":(?![\\/])", import_path, maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else None


class ScriptInfo:
    """How CLI commands find the application; click's context object.

    :class:`~demijohn.cli.DemijohnGroup` creates one per invocation;
    commands receive it with :data:`pass_script_info`. Create one yourself
    to run commands with a given application, as
    :class:`~demijohn.testing.DemijohnCliRunner` does.

    :param app_import_path: ``module:name``, as given to ``--app``.
    :param create_app: A function called without arguments that returns the
        application; it takes precedence over ``app_import_path``.
    :param set_debug_flag: Set the loaded app's :attr:`~demijohn.Demijohn.debug`
        from :envvar:`DEMIJOHN_DEBUG`.
    :param load_dotenv_defaults: Whether the default ``.flaskenv``,
        ``.demijohnenv`` and ``.env`` files should be loaded; false when
        :envvar:`DEMIJOHN_SKIP_DOTENV` (or ``FLASK_SKIP_DOTENV``) is set.
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: t.Callable[..., Demijohn] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        #: Where to import the application from, ``module:name``.
        self.app_import_path = app_import_path
        #: A function returning the application, used before the import path.
        self.create_app = create_app
        #: Free-form data commands may share through the script info.
        self.data: dict[t.Any, t.Any] = {}
        #: Whether :meth:`load_app` sets the app's debug flag from the env.
        self.set_debug_flag = set_debug_flag
        #: Whether the default dotenv files are loaded. Only a record for the
        #: code that loads them; the script info itself loads nothing.
        self.load_dotenv_defaults = get_load_dotenv(load_dotenv_defaults)
        self._loaded_app: Demijohn | None = None

    def load_app(self) -> Demijohn:
        """Load the application on the first call, return it on every call.

        Uses :attr:`create_app`, else :attr:`app_import_path`, else the
        first of ``wsgi.py`` and ``app.py`` in the working directory that
        exists and holds an application.

        :raises NoAppException: if no application can be found.
        """
        if self._loaded_app is not None:
            return self._loaded_app
        app = self._find_app()
        if app is None:
            raise NoAppException(
                "Could not locate a Demijohn application. Use the"
                " 'demijohn --app' option, 'DEMIJOHN_APP' (or 'FLASK_APP')"
                " environment variable, or a 'wsgi.py' or 'app.py' file in"
                " the current directory."
            )
        if self.set_debug_flag:
            # Through the property, so settings that follow debug update too.
            app.debug = get_debug_flag()
        self._loaded_app = app
        return app

    def _find_app(self) -> Demijohn | None:
        if self.create_app is not None:
            return self.create_app()
        if self.app_import_path:
            path, name = _split_import_path(self.app_import_path)
            return locate_app(prepare_import(path), name)
        for filename in _DEFAULT_FILES:
            app = locate_app(prepare_import(filename), None, raise_if_not_found=False)
            if app is not None:
                return app
        return None


#: Decorator passing the current :class:`ScriptInfo` as a command's first
#: argument, creating one if there is none.
pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def with_appcontext(f: F) -> F:
    """Run a click command callback inside the application context.

    Loads the application through the :class:`ScriptInfo` unless a context
    is already pushed; the context stays pushed for the whole click context,
    subcommands included. Commands registered on ``app.cli``, on a
    blueprint's ``cli`` or through :class:`AppGroup` get this automatically.
    """

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if _cv_app.get(None) is None:
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return ctx.invoke(f, *args, **kwargs)

    return t.cast(F, update_wrapper(decorator, f))


class AppGroup(click.Group):
    """A click group whose commands run in the application context.

    :meth:`command` wraps callbacks in :func:`with_appcontext` unless given
    ``with_appcontext=False``; :meth:`group` makes nested groups of this
    class. ``app.cli`` is one of these. Not to be confused with
    :class:`~demijohn.cli.DemijohnGroup`, the group of the ``demijohn``
    command itself.
    """

    def command(  # type: ignore[override]
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Command]:
        """Like :meth:`click.Group.command`, wrapping the callback in
        :func:`with_appcontext` unless ``with_appcontext=False`` is passed.
        """
        wrap_for_ctx = kwargs.pop("with_appcontext", True)

        def decorator(f: t.Callable[..., t.Any]) -> click.Command:
            if wrap_for_ctx:
                f = with_appcontext(f)
            command: click.Command = super(AppGroup, self).command(*args, **kwargs)(f)
            return command

        return decorator

    def group(  # type: ignore[override]
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Group]:
        """Like :meth:`click.Group.group`, with :class:`AppGroup` as the
        default ``cls``.
        """
        kwargs.setdefault("cls", AppGroup)
        decorator: t.Callable[[t.Callable[..., t.Any]], click.Group]
        decorator = super().group(*args, **kwargs)
        return decorator


# -- the --debug option, shared by the demijohn group and "run" -----------


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    source = ctx.get_parameter_source(param.name or "debug")
    if source in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
        # Not given: leave DEMIJOHN_DEBUG as the environment has it.
        return
    # Through the environment rather than the script info, so that a factory
    # reading get_debug_flag() while it builds the app already sees it; and
    # as FLASK_DEBUG too, which Flask's --debug sets and Flask extensions
    # may read.
    flag = "1" if value else "0"
    os.environ["DEMIJOHN_DEBUG"] = flag
    os.environ["FLASK_DEBUG"] = flag


_debug_option = click.Option(
    ["--debug/--no-debug"],
    help="Set debug mode.",
    expose_value=False,
    callback=_set_debug,
)
