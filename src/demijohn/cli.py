"""The ``demijohn`` command: its group, options and dotenv loading.

How a command reaches the application::

    demijohn [--env-file F] [--app IMPORT] [--debug] COMMAND
      load_dotenv            .flaskenv, .demijohnenv, .env, then F;
                             os.environ wins; FLASK_X copied to DEMIJOHN_X
      ScriptInfo.load_app    find the app (demijohn.cli_loading)
      COMMAND                built-in (demijohn.cli_commands), a
                             'demijohn.commands' plugin, or app.cli

Options also read ``DEMIJOHN_*`` environment variables: ``DEMIJOHN_APP``,
``DEMIJOHN_DEBUG``, ``DEMIJOHN_RUN_PORT`` and so on, or, when one is not
set, its Flask spelling (``FLASK_APP``, ...; see :mod:`demijohn.environment`).

This module is Flask's ``flask.cli``: the names it re-exports from
:mod:`demijohn.cli_loading` (app discovery,
:class:`~demijohn.cli_loading.ScriptInfo`,
:func:`~demijohn.cli_loading.with_appcontext`,
:class:`~demijohn.cli_loading.AppGroup`) and :mod:`demijohn.cli_commands`
(``run``, ``shell``, ``routes``) are importable from here too.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import traceback
import typing as t

import click
from click.core import ParameterSource as ParameterSource
from werkzeug.serving import is_running_from_reloader as is_running_from_reloader
from werkzeug.serving import run_simple as run_simple
from werkzeug.utils import import_string as import_string

from .cli_commands import CertParamType as CertParamType
from .cli_commands import SeparatedPathType as SeparatedPathType
from .cli_commands import routes_command as routes_command
from .cli_commands import run_command as run_command
from .cli_commands import shell_command as shell_command
from .cli_commands import show_server_banner as show_server_banner
from .cli_loading import AppGroup as AppGroup
from .cli_loading import F as F
from .cli_loading import NoAppException as NoAppException
from .cli_loading import ScriptInfo as ScriptInfo
from .cli_loading import _debug_option
from .cli_loading import find_app_by_string as find_app_by_string
from .cli_loading import find_best_app as find_best_app
from .cli_loading import locate_app as locate_app
from .cli_loading import pass_script_info as pass_script_info
from .cli_loading import prepare_import as prepare_import
from .cli_loading import with_appcontext as with_appcontext
from .compat import flask_shim_active
from .environment import FLASK_PREFIX, PREFIX, adopt_flask_variables
from .globals import _cv_app
from .globals import current_app as current_app
from .helpers import get_debug_flag as get_debug_flag
from .helpers import get_load_dotenv as get_load_dotenv

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .app import Demijohn

# The dotenv files loaded by default; a later file overrides an earlier one.
# Flask's own file comes first, so demijohn's files win over it.
_DEFAULT_DOTENV_FILES = (".flaskenv", ".demijohnenv", ".env")


def get_version(ctx: click.Context, param: click.Parameter, value: t.Any) -> None:
    """Callback of the ``--version`` option: print the Python, demijohn
    (with the Flask API version it implements) and Werkzeug versions, then
    exit.
    """
    if not value or ctx.resilient_parsing:
        return
    from .compat import FLASK_VERSION

    lines = (
        f"Python {platform.python_version()}",
        f"Demijohn {importlib.metadata.version('demijohn')}"
        f" (the API of Flask {FLASK_VERSION})",
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


# -- options of the demijohn group ------------------------------------------
# (--debug is in demijohn.cli_loading: the run command takes it too.)


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
    # The options read DEMIJOHN_* variables; a Flask deployment sets
    # FLASK_* ones, in the environment or in the files just loaded.
    adopt_flask_variables()


# Eager and registered first, so the files are loaded before --app and the
# other options read their DEMIJOHN_* variables.
_env_file_option = click.Option(
    ["-e", "--env-file"],
    type=click.Path(exists=True, dir_okay=False),
    help=(
        "Load environment variables from this file. They override those from"
        " '.env', '.demijohnenv' and '.flaskenv'; variables already set in the"
        " environment override all of them. Needs python-dotenv."
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
    registered under the ``demijohn.commands`` entry point group (and,
    with the Flask import shim on, under Flask's ``flask.commands``), and the
    commands of the loaded application's :attr:`~demijohn.Demijohn.cli`.
    Options read ``DEMIJOHN_*`` environment variables.

    :param add_default_commands: Add the ``run``, ``shell`` and ``routes``
        commands.
    :param create_app: A function returning the application, instead of
        finding it from ``--app``.
    :param add_version_option: Add the ``--version`` option.
    :param load_dotenv: Load the default ``.flaskenv``, ``.demijohnenv`` and
        ``.env`` files.
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
        own: set[str] = set()
        for entry_point in importlib.metadata.entry_points(group="demijohn.commands"):
            self.add_command(entry_point.load(), entry_point.name)
            own.add(entry_point.name)
        if flask_shim_active():
            # A Flask extension's commands (Flask-Migrate's ``db``, say)
            # import flask, which is demijohn only with the shim on. A
            # demijohn plugin of the same name wins.
            for entry_point in importlib.metadata.entry_points(group="flask.commands"):
                if entry_point.name not in own:
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
        traceback unless it is a
        :exc:`~demijohn.cli_loading.NoAppException`) and the other
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
        """Create the click context with a
        :class:`~demijohn.cli_loading.ScriptInfo` as its object.

        Also sets :envvar:`DEMIJOHN_RUN_FROM_CLI`, which makes
        :meth:`~demijohn.Demijohn.run` do nothing: a module calling
        ``app.run()`` outside a ``__main__`` guard would otherwise start a
        server while being imported. Through the Flask shim it sets
        ``FLASK_RUN_FROM_CLI`` instead, as Flask does, which code written
        for Flask (a test fixture restoring the environment) knows to
        reset.
        """
        from .compat._flask_aliases import is_active

        prefix = FLASK_PREFIX if is_active() else PREFIX
        os.environ[f"{prefix}_RUN_FROM_CLI"] = "true"
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
    from ``.demijohnenv``, which override those from Flask's ``.flaskenv``
    (each found by searching up from the working directory). A variable
    already in :data:`os.environ` is never replaced. Called by the
    ``demijohn`` command before the application is loaded, and by
    :meth:`~demijohn.Demijohn.run`.

    Does nothing when python-dotenv is not installed, except print a tip
    when there are files it would have loaded.

    :param path: A file to load, in addition to the defaults.
    :param load_defaults: Whether to look for ``.flaskenv``, ``.demijohnenv``
        and ``.env``.
    :return: Whether any variable was read from a file.
    """
    try:
        import dotenv
    except ImportError:
        if path or any(os.path.isfile(name) for name in _DEFAULT_DOTENV_FILES):
            click.secho(
                " * Tip: There are .env, .demijohnenv or .flaskenv files present."
                " Install python-dotenv to use them.",
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


#: The ``demijohn`` command.
cli = DemijohnGroup(
    name="demijohn",
    help="""\
A utility script for demijohn applications.

The application to load is given with the '--app' option, the
'DEMIJOHN_APP' (or 'FLASK_APP') environment variable, or a 'wsgi.py' or
'app.py' file in the current directory.
""",
)


def main() -> None:
    """Run the ``demijohn`` command; the console script's entry point."""
    cli.main()


if __name__ == "__main__":  # pragma: no cover - run as a script
    main()
