"""The ``demijohn`` command line: finding the application, and the ``run``,
``shell`` and ``routes`` commands.

How a command reaches the application::

    demijohn [--env-file F] [--app IMPORT] [--debug] COMMAND
      load_dotenv            .demijohnenv, then .env, then F; os.environ wins
      ScriptInfo.load_app    --app / DEMIJOHN_APP, else wsgi.py, else app.py
        prepare_import       file path -> module name, directory on sys.path
        locate_app           import the module
          find_app_by_string 'name' or 'factory(literal args)'
          find_best_app      app, application, the only instance, or a factory
      COMMAND                built-in, a 'demijohn.commands' plugin, or app.cli

Options also read ``DEMIJOHN_*`` environment variables: ``DEMIJOHN_APP``,
``DEMIJOHN_DEBUG``, ``DEMIJOHN_RUN_PORT`` and so on.
"""

from __future__ import annotations

import ast
import collections.abc as cabc
import importlib
import importlib.metadata
import inspect
import os
import platform
import re
import sys
import traceback
import typing as t
from functools import update_wrapper
from operator import itemgetter
from types import ModuleType

import click
import werkzeug.serving
from click.core import ParameterSource
from werkzeug.serving import is_running_from_reloader as is_running_from_reloader
from werkzeug.serving import run_simple as run_simple
from werkzeug.utils import import_string

from .globals import _cv_app, current_app
from .helpers import get_debug_flag, get_load_dotenv

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    import ssl

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .app import Demijohn

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

# The names tried, in order, when the import path names no attribute.
_APP_NAMES = ("app", "application")
_FACTORY_NAMES = ("create_app", "make_app")
# The files tried, in order, when no import path is given at all.
_DEFAULT_FILES = ("wsgi.py", "app.py")
# The dotenv files loaded by default; a later file overrides an earlier one.
_DEFAULT_DOTENV_FILES = (".demijohnenv", ".env")


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


def get_version(ctx: click.Context, param: click.Parameter, value: t.Any) -> None:
    """Callback of the ``--version`` option: print the Python, demijohn and
    Werkzeug versions, then exit.
    """
    if not value or ctx.resilient_parsing:
        return
    lines = (
        f"Python {platform.python_version()}",
        f"Demijohn {importlib.metadata.version('demijohn')}",
        f"Werkzeug {importlib.metadata.version('werkzeug')}",
    )
    click.echo("\n".join(lines), color=ctx.color)
    ctx.exit()


#: The ``--version`` option added by :class:`DemijohnGroup`.
version_option = click.Option(
    ["--version"],
    help="Show the demijohn version.",
    expose_value=False,
    callback=get_version,
    is_flag=True,
    is_eager=True,
)


# -- loading the application ------------------------------------------------


def _split_import_path(import_path: str) -> tuple[str, str | None]:
    # Split at the first colon that does not start a Windows path, so that
    # 'C:\proj\app.py:create_app' names the file 'C:\proj\app.py'.
    parts = re.split(r":(?![\\/])", import_path, maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else None


class ScriptInfo:
    """How CLI commands find the application; click's context object.

    :class:`DemijohnGroup` creates one per invocation; commands receive it
    with :data:`pass_script_info`. Create one yourself to run commands with
    a given application, as :class:`~demijohn.testing.DemijohnCliRunner`
    does.

    :param app_import_path: ``module:name``, as given to ``--app``.
    :param create_app: A function called without arguments that returns the
        application; it takes precedence over ``app_import_path``.
    :param set_debug_flag: Set the loaded app's :attr:`~demijohn.Demijohn.debug`
        from :envvar:`DEMIJOHN_DEBUG`.
    :param load_dotenv_defaults: Whether the default ``.demijohnenv`` and
        ``.env`` files should be loaded; false when
        :envvar:`DEMIJOHN_SKIP_DOTENV` is set.
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
                " 'demijohn --app' option, 'DEMIJOHN_APP' environment"
                " variable, or a 'wsgi.py' or 'app.py' file in the current"
                " directory."
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
    :class:`DemijohnGroup`, the group of the ``demijohn`` command itself.
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


# -- options of the demijohn group ------------------------------------------


def _set_app(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(ScriptInfo).app_import_path = value


# Eager, so that app commands are listed by --help (also eager; this option
# is registered first).
_app_option = click.Option(
    ["-A", "--app"],
    metavar="IMPORT",
    help=(
        "The application or factory to load, as 'module:name'. The module may"
        " be a dotted import or a file path. The name may be left out when it"
        " is 'app', 'application', 'create_app' or 'make_app', and may be"
        " 'name(args)' to pass literal arguments to a factory."
    ),
    is_eager=True,
    expose_value=False,
    callback=_set_app,
)


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    source = ctx.get_parameter_source(param.name or "debug")
    if source in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
        # Not given: leave DEMIJOHN_DEBUG as the environment has it.
        return
    # Through the environment rather than the script info, so that a factory
    # reading get_debug_flag() while it builds the app already sees it.
    os.environ["DEMIJOHN_DEBUG"] = "1" if value else "0"


_debug_option = click.Option(
    ["--debug/--no-debug"],
    help="Set debug mode.",
    expose_value=False,
    callback=_set_debug,
)


def _dotenv_installed() -> bool:
    try:
        import dotenv  # noqa: F401
    except ImportError:
        return False
    return True


def _load_env_file(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> None:
    if value is not None and not _dotenv_installed():
        raise click.BadParameter(
            "python-dotenv must be installed to load an env file.",
            ctx=ctx,
            param=param,
        )
    defaults = ctx.ensure_object(ScriptInfo).load_dotenv_defaults
    if value is not None or defaults:
        load_dotenv(value, load_defaults=defaults)


# Eager and registered first, so the files are loaded before --app and the
# other options read their DEMIJOHN_* variables.
_env_file_option = click.Option(
    ["-e", "--env-file"],
    type=click.Path(exists=True, dir_okay=False),
    help=(
        "Load environment variables from this file. They override those from"
        " '.env' and '.demijohnenv'; variables already set in the environment"
        " override all of them. Needs python-dotenv."
    ),
    is_eager=True,
    expose_value=False,
    callback=_load_env_file,
)


def _activate_flask_shim(
    ctx: click.Context, param: click.Parameter, value: bool
) -> None:
    if not value:
        return
    from .compat import activate_flask_shim

    try:
        activate_flask_shim()
    except ImportError as e:
        raise click.BadParameter(str(e), ctx=ctx, param=param) from None


# Eager, so the shim is active before --help or a command loads the app (and
# the Flask extensions it imports). Also read from DEMIJOHN_FLASK_SHIM, which
# a dotenv file may set.
_flask_shim_option = click.Option(
    ["--flask-shim"],
    is_flag=True,
    help=(
        "Make 'import flask' import demijohn, so the application's unmodified"
        " Flask extensions run on it. Give it before other options."
    ),
    is_eager=True,
    expose_value=False,
    callback=_activate_flask_shim,
)


class DemijohnGroup(AppGroup):
    """The group behind the ``demijohn`` command; use it to build your own
    command for an application.

    It adds the ``--env-file/-e``, ``--flask-shim``, ``--app/-A`` and
    ``--debug/--no-debug`` options, the default commands, commands
    registered under the ``demijohn.commands`` entry point group, and the
    commands of the loaded application's :attr:`~demijohn.Demijohn.cli`.
    Options read ``DEMIJOHN_*`` environment variables.

    :param add_default_commands: Add the ``run``, ``shell`` and ``routes``
        commands.
    :param create_app: A function returning the application, instead of
        finding it from ``--app``.
    :param add_version_option: Add the ``--version`` option.
    :param load_dotenv: Load the default ``.demijohnenv`` and ``.env`` files.
    :param set_debug_flag: Set the app's debug flag from ``--debug`` or
        :envvar:`DEMIJOHN_DEBUG`.
    :param extra: Passed to :class:`click.Group`.
    """

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: t.Callable[..., Demijohn] | None = None,
        add_version_option: bool = True,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: t.Any,
    ) -> None:
        params: list[click.Parameter] = list(extra.pop("params", None) or ())
        # Option callbacks rather than a group callback do the work, so a
        # user's own group callback keeps it.
        params += [_env_file_option, _flask_shim_option, _app_option, _debug_option]
        if add_version_option:
            params.append(version_option)
        settings = dict(extra.pop("context_settings", None) or {})
        settings.setdefault("auto_envvar_prefix", "DEMIJOHN")
        super().__init__(params=params, context_settings=settings, **extra)

        #: The function returning the application, if one was given.
        self.create_app = create_app
        #: Whether the default dotenv files are loaded.
        self.load_dotenv = load_dotenv
        #: Whether the app's debug flag is set when it is loaded.
        self.set_debug_flag = set_debug_flag
        if add_default_commands:
            self.add_command(run_command)
            self.add_command(shell_command)
            self.add_command(routes_command)
        self._loaded_plugin_commands = False

    def _load_plugin_commands(self) -> None:
        if self._loaded_plugin_commands:
            return
        for entry_point in importlib.metadata.entry_points(group="demijohn.commands"):
            self.add_command(entry_point.load(), entry_point.name)
        self._loaded_plugin_commands = True

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Find a command: built-in or plugin first, so they work even when
        the application fails to load, then in the application's ``cli``,
        whose commands run with its context pushed.
        """
        self._load_plugin_commands()
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        try:
            app = ctx.ensure_object(ScriptInfo).load_app()
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
            return None
        pushed = _cv_app.get(None)
        if pushed is None or pushed.app is not app:
            ctx.with_resource(app.app_context())
        return app.cli.get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """List the built-in, plugin and application commands, sorted.

        When the application fails to load, the error is printed (with a
        traceback unless it is a :exc:`NoAppException`) and the other
        commands are still listed.
        """
        self._load_plugin_commands()
        names = set(super().list_commands(ctx))
        try:
            names.update(
                ctx.ensure_object(ScriptInfo).load_app().cli.list_commands(ctx)
            )
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
        except Exception:
            click.secho(f"{traceback.format_exc()}\n", err=True, fg="red")
        return sorted(names)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: t.Any,
    ) -> click.Context:
        """Create the click context with a :class:`ScriptInfo` as its object.

        Also sets :envvar:`DEMIJOHN_RUN_FROM_CLI`, which makes
        :meth:`~demijohn.Demijohn.run` do nothing: a module calling
        ``app.run()`` outside a ``__main__`` guard would otherwise start a
        server while being imported.
        """
        os.environ["DEMIJOHN_RUN_FROM_CLI"] = "true"
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the arguments; when only help will be shown, first apply
        ``--env-file`` and ``--app`` from the environment so the help lists
        the application's commands.
        """
        if (not args and self.no_args_is_help) or (
            len(args) == 1 and args[0] in self.get_help_option_names(ctx)
        ):
            _env_file_option.handle_parse_result(ctx, {}, [])
            _flask_shim_option.handle_parse_result(ctx, {}, [])
            _app_option.handle_parse_result(ctx, {}, [])
        try:
            return super().parse_args(ctx, args)
        except BaseException:
            # --help exits while parsing, after listing the commands pushed
            # the app context. click does not close a context whose parsing
            # failed, which would leave the app context pushed in this
            # thread (a test runner's, say).
            ctx.close()
            raise


#: The name Flask uses for :class:`DemijohnGroup`.
FlaskGroup = DemijohnGroup


def load_dotenv(
    path: str | os.PathLike[str] | None = None, load_defaults: bool = True
) -> bool:
    """Set environment variables from dotenv files.

    Values from ``path`` override those from ``.env``, which override those
    from ``.demijohnenv`` (both found by searching up from the working
    directory). A variable already in :data:`os.environ` is never replaced.
    Called by the ``demijohn`` command before the application is loaded,
    and by :meth:`~demijohn.Demijohn.run`.

    Does nothing when python-dotenv is not installed, except print a tip
    when there are files it would have loaded.

    :param path: A file to load, in addition to the defaults.
    :param load_defaults: Whether to look for ``.demijohnenv`` and ``.env``.
    :return: Whether any variable was read from a file.
    """
    try:
        import dotenv
    except ImportError:
        if path or any(os.path.isfile(name) for name in _DEFAULT_DOTENV_FILES):
            click.secho(
                " * Tip: There are .env or .demijohnenv files present. Install"
                " python-dotenv to use them.",
                fg="yellow",
                err=True,
            )
        return False

    values: dict[str, str | None] = {}
    if load_defaults:
        for name in _DEFAULT_DOTENV_FILES:
            found = dotenv.find_dotenv(name, usecwd=True)
            if found:
                values.update(dotenv.dotenv_values(found, encoding="utf-8"))
    if path is not None and os.path.isfile(path):
        values.update(dotenv.dotenv_values(path, encoding="utf-8"))

    for key, value in values.items():
        if value is not None and key not in os.environ:
            os.environ[key] = value
    return bool(values)


# -- the run command ----------------------------------------------------------


def show_server_banner(debug: bool | None, app_import_path: str | None) -> None:
    """Print which app is served and whether debug mode is on, when
    ``demijohn run`` starts; nothing in the reloader's child process, so the
    banner shows once.
    """
    if werkzeug.serving.is_running_from_reloader():
        return
    if app_import_path is not None:
        click.echo(f" * Serving Demijohn app '{app_import_path}'")
    if debug is not None:
        click.echo(f" * Debug mode: {'on' if debug else 'off'}")


if t.TYPE_CHECKING:  # pragma: no cover - click >= 8.4 makes ParamType generic
    _ParamType = click.ParamType[t.Any]
else:
    _ParamType = click.ParamType


class CertParamType(_ParamType):
    """The type of ``run --cert``: an existing certificate file, ``adhoc``
    for a generated certificate (needs cryptography), or the import path of
    an :class:`ssl.SSLContext`.
    """

    name = "path"

    def __init__(self) -> None:
        self.path_type = click.Path(exists=True, dir_okay=False, resolve_path=True)

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        """Return the resolved file path, ``"adhoc"`` or the SSL context.

        :raises click.BadParameter: if ``ssl`` is unavailable, ``adhoc`` is
            asked without cryptography, or the value is none of the above.
        """
        try:
            import ssl
        except ImportError:  # pragma: no cover - Python built without SSL
            raise click.BadParameter(
                'Using "--cert" requires Python to be compiled with SSL support.',
                ctx,
                param,
            ) from None
        try:
            return self.path_type(value, param, ctx)
        except click.BadParameter:
            text = click.STRING(value, param, ctx).lower()
            if text == "adhoc":
                _require_cryptography(ctx, param)
                return text
            obj = import_string(text, silent=True)
            if isinstance(obj, ssl.SSLContext):
                return obj
            raise


def _require_cryptography(
    ctx: click.Context | None, param: click.Parameter | None
) -> None:
    try:
        # By name: cryptography is optional and has no stubs here.
        importlib.import_module("cryptography")
    except ImportError:
        raise click.BadParameter(
            "Using ad-hoc certificates requires the cryptography library.", ctx, param
        ) from None


def _validate_key(ctx: click.Context, param: click.Parameter, value: t.Any) -> t.Any:
    """Check ``--key`` against ``--cert``; a certificate file needs a key,
    and the pair replaces the ``cert`` parameter.
    """
    import ssl

    cert = ctx.params.get("cert")
    is_adhoc = cert == "adhoc"
    is_context = isinstance(cert, ssl.SSLContext)
    if value is None:
        if cert and not (is_adhoc or is_context):
            raise click.BadParameter('Required when using "--cert".', ctx, param)
        return value
    if is_adhoc:
        raise click.BadParameter(
            'When "--cert" is "adhoc", "--key" is not used.', ctx, param
        )
    if is_context:
        raise click.BadParameter(
            'When "--cert" is an SSLContext object, "--key" is not used.', ctx, param
        )
    if not cert:
        raise click.BadParameter('"--cert" must also be specified.', ctx, param)
    ctx.params["cert"] = (cert, value)
    return value


class SeparatedPathType(click.Path):
    """A :class:`click.Path` option type taking several values separated by
    :data:`os.pathsep` (``:``, or ``;`` on Windows); converts to a list,
    checking each value as a path.
    """

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        """Split ``value`` and convert each part with :class:`click.Path`."""
        convert_one = super().convert
        return [
            convert_one(item, param, ctx) for item in self.split_envvar_value(value)
        ]


def _failing_app(error: Exception) -> WSGIApplication:
    """A WSGI app that raises ``error`` on every request, so the reloader
    keeps running and the debugger shows why the app did not load.
    """

    def app(
        environ: WSGIEnvironment, start_response: StartResponse
    ) -> cabc.Iterable[bytes]:
        raise error from None

    return app


@click.command("run", short_help="Run a development server.")
@click.option("--host", "-h", default="127.0.0.1", help="The interface to bind to.")
@click.option("--port", "-p", default=5000, help="The port to bind to.")
@click.option(
    "--cert",
    type=CertParamType(),
    is_eager=True,
    help="A certificate file, 'adhoc', or an SSLContext import, to serve HTTPS.",
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, resolve_path=True),
    callback=_validate_key,
    expose_value=False,
    help="The key file of the '--cert' certificate file.",
)
@click.option(
    "--reload/--no-reload",
    default=None,
    help="Restart when code changes. On by default in debug mode.",
)
@click.option(
    "--debugger/--no-debugger",
    default=None,
    help="Show the interactive debugger on errors. On by default in debug mode.",
)
@click.option(
    "--with-threads/--without-threads",
    default=True,
    help="Handle each request in a new thread.",
)
@click.option(
    "--extra-files",
    type=SeparatedPathType(),
    default=None,
    help=(
        f"More files whose change triggers a reload, separated by {os.path.pathsep!r}."
    ),
)
@click.option(
    "--exclude-patterns",
    type=SeparatedPathType(),
    default=None,
    help=(
        "fnmatch patterns of files whose change does not trigger a reload,"
        f" separated by {os.path.pathsep!r}."
    ),
)
@click.option(
    "--asgi",
    is_flag=True,
    default=False,
    help=(
        "Serve the app over ASGI with uvicorn (pip install 'demijohn[asgi]'),"
        " so async views run on the event loop and WebSockets work."
    ),
)
@pass_script_info
def run_command(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool | None,
    debugger: bool | None,
    with_threads: bool,
    cert: ssl.SSLContext | tuple[str, str] | t.Literal["adhoc"] | None,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
    asgi: bool = False,
) -> None:
    """Run a local development server.

    Only for development: it is not built for the load, stability or
    security a production WSGI server provides. '--debug' turns on the
    reloader and the debugger. '--asgi' serves the app with uvicorn instead
    of Werkzeug's server.
    """
    if asgi:
        _run_asgi(info, host, port, reload, debugger, cert)
        return
    try:
        app: WSGIApplication = info.load_app()
    except Exception as e:
        if not werkzeug.serving.is_running_from_reloader():
            raise e from None
        # In the reloader's child, keep serving so a fixed file reloads.
        traceback.print_exc()
        app = _failing_app(e)

    debug = get_debug_flag()
    show_server_banner(debug, info.app_import_path)
    # Looked up on the module, so tests can replace the server.
    werkzeug.serving.run_simple(
        host,
        port,
        app,
        use_reloader=debug if reload is None else reload,
        use_debugger=debug if debugger is None else debugger,
        threaded=with_threads,
        ssl_context=cert,
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
    )


def _run_asgi(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool | None,
    debugger: bool | None,
    cert: t.Any,
) -> None:
    """``demijohn run --asgi``: serve the loaded app with uvicorn."""
    try:
        import uvicorn
    except ImportError:
        raise click.UsageError(
            "Serving over ASGI needs uvicorn. Install it with"
            " \"pip install 'demijohn[asgi]'\"."
        ) from None
    if reload:
        raise click.UsageError(
            "'--reload' is not available with '--asgi'. Run uvicorn's reloader"
            " directly: uvicorn --reload --factory or uvicorn --reload module:app."
        )
    if debugger:
        raise click.UsageError(
            "The interactive debugger is WSGI middleware; it is not available"
            " with '--asgi'."
        )
    ssl_options: dict[str, t.Any] = {}
    if isinstance(cert, tuple):
        ssl_options = {"ssl_certfile": cert[0], "ssl_keyfile": cert[1]}
    elif cert is not None:
        raise click.UsageError(
            "With '--asgi', '--cert' must be a certificate file used with '--key'."
        )
    app = info.load_app()
    show_server_banner(get_debug_flag(), info.app_import_path)
    uvicorn.run(app, host=host, port=port, lifespan="on", **ssl_options)


# ``demijohn run --debug`` works as well as ``demijohn --debug run``.
run_command.params.insert(0, _debug_option)


# -- the shell and routes commands -------------------------------------------


def _shell_namespace() -> dict[str, t.Any]:
    """The shell's namespace: what PYTHONSTARTUP defines, then the app's
    shell context, which wins on a clash.
    """
    namespace: dict[str, t.Any] = {}
    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup, encoding="utf-8") as f:
            exec(compile(f.read(), startup, "exec"), namespace)
    namespace.update(current_app.make_shell_context())
    return namespace


def _run_interactive_hook(namespace: dict[str, t.Any]) -> None:
    """Call the hook site.py installs for interactive sessions (readline
    history and completion), completing names from ``namespace``.
    """
    hook = getattr(sys, "__interactivehook__", None)
    if hook is None:
        return
    try:
        import readline
        from rlcompleter import Completer
    except ImportError:
        pass
    else:
        # The default completer reads __main__, which here is demijohn's.
        readline.set_completer(Completer(namespace).complete)
    hook()


@click.command("shell", short_help="Run a shell in the app context.")
@with_appcontext
def shell_command() -> None:
    """Run an interactive Python shell in the application's context.

    The namespace holds the application's shell context: 'app', 'g' and what
    its shell context processors add.
    """
    import code

    banner = (
        f"Python {sys.version} on {sys.platform}\n"
        f"App: {current_app.import_name}\n"
        f"Instance: {current_app.instance_path}"
    )
    namespace = _shell_namespace()
    _run_interactive_hook(namespace)
    code.interact(banner=banner, local=namespace)


def _format_table(rows: list[list[str]]) -> list[str]:
    """Left-align ``rows`` (the first is the header) in columns two spaces
    apart, with a dashed line under the header.
    """
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    rows = [rows[0], ["-" * width for width in widths], *rows[1:]]
    return ["  ".join(map(str.ljust, row, widths)) for row in rows]


@click.command("routes", short_help="Show the routes for the app.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "domain", "rule", "match")),
    default="endpoint",
    help="Sort by this column; 'match' is the order URLs are matched in.",
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS methods.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show the registered routes with their endpoints and methods."""
    url_map = current_app.url_map
    rules = list(url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return

    hidden = set() if all_methods else {"HEAD", "OPTIONS"}
    by_host = url_map.host_matching
    domains = [(rule.host if by_host else rule.subdomain) or "" for rule in rules]
    show_domain = any(domains)

    columns = ["endpoint", "methods", *(["domain"] if show_domain else []), "rule"]
    rows: list[list[str]] = []
    for rule, domain in zip(rules, domains, strict=True):
        methods = ", ".join(sorted((rule.methods or set()) - hidden))
        row = [rule.endpoint, methods, *([domain] if show_domain else []), rule.rule]
        rows.append(row)
    # 'match' (and 'domain' without a domain column) keeps the map's order.
    if sort in columns:
        rows.sort(key=itemgetter(columns.index(sort)))

    header = ["Endpoint", "Methods"]
    if show_domain:
        header.append("Host" if by_host else "Subdomain")
    header.append("Rule")
    for line in _format_table([header, *rows]):
        click.echo(line)


#: The ``demijohn`` command.
cli = DemijohnGroup(
    name="demijohn",
    help="""\
A utility script for demijohn applications.

The application to load is given with the '--app' option, the
'DEMIJOHN_APP' environment variable, or a 'wsgi.py' or 'app.py' file in
the current directory.
""",
)


def main() -> None:
    """Run the ``demijohn`` command; the console script's entry point."""
    cli.main()


if __name__ == "__main__":  # pragma: no cover - run as a script
    main()
