"""The ``demijohn`` command line: application discovery and commands."""

from __future__ import annotations

import typing as t
from functools import update_wrapper

import click

from .globals import _cv_app

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def with_appcontext(f: F) -> F:
    """Decorate a click command to run inside the application's context.

    Commands registered on ``app.cli`` get this automatically.
    """

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if _cv_app.get(None) is None:
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return ctx.invoke(f, *args, **kwargs)

    return t.cast(F, update_wrapper(decorator, f))


class AppGroup(click.Group):
    """A click group whose commands run in the application context unless
    registered with ``with_appcontext=False``.
    """

    def command(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Like :meth:`click.Group.command`, wrapping the callback with
        :func:`with_appcontext` unless ``with_appcontext=False``.
        """
        wrap_for_ctx = kwargs.pop("with_appcontext", True)

        def decorator(f: t.Callable[..., t.Any]) -> click.Command:
            if wrap_for_ctx:
                f = with_appcontext(f)
            command: click.Command = super(AppGroup, self).command(*args, **kwargs)(f)
            return command

        return decorator

    def group(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Like :meth:`click.Group.group`, defaulting the class to
        :class:`AppGroup`.
        """
        kwargs.setdefault("cls", AppGroup)
        return super().group(*args, **kwargs)


class ScriptInfo:
    """Carries how to find and load the application to CLI commands."""

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: t.Callable[..., t.Any] | None = None,
    ) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        self._loaded_app: t.Any = None

    def load_app(self) -> t.Any:
        """Load and return the application."""
        if self._loaded_app is not None:
            return self._loaded_app
        if self.create_app is not None:
            self._loaded_app = self.create_app()
            return self._loaded_app
        raise click.UsageError("Could not locate a demijohn application.")


def load_dotenv(path: str | None = None) -> bool:
    """Load ``.env`` and ``.demijohnenv`` (or ``path``) into the environment
    when python-dotenv is installed; variables already set win.

    Returns whether a file was loaded.
    """
    try:
        import dotenv
    except ImportError:
        return False
    if path is not None:
        return bool(dotenv.load_dotenv(path, encoding="utf-8"))
    loaded = False
    for name in (".env", ".demijohnenv"):
        found = dotenv.find_dotenv(name, usecwd=True)
        if found:
            dotenv.load_dotenv(found, encoding="utf-8")
            loaded = True
    return loaded
