"""The built-in commands of ``demijohn``: ``run``, ``shell`` and ``routes``.

:class:`~demijohn.cli.DemijohnGroup` adds them to the ``demijohn`` command
(unless ``add_default_commands=False``). They find the application through
the :class:`~demijohn.cli_loading.ScriptInfo` of the invocation; ``shell``
and ``routes`` run in its application context. Their options also read
environment variables named after the command: ``DEMIJOHN_RUN_PORT``,
``DEMIJOHN_ROUTES_SORT`` and so on.

Every public name here is also importable from :mod:`demijohn.cli`, where
Flask's ``flask.cli`` has it.
"""

from __future__ import annotations

import collections.abc as cabc
import importlib
import os
import sys
import traceback
import typing as t
from operator import itemgetter

import click
import werkzeug.serving
from werkzeug.utils import import_string

from .cli_loading import ScriptInfo, _debug_option, pass_script_info, with_appcontext
from .globals import current_app
from .helpers import get_debug_flag

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    import ssl

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


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
