"""The application's lifespan: what runs once when a server starts serving
it, and once when the server stops.

:class:`Lifespan` holds the registration decorators
(:meth:`~demijohn.Demijohn.before_serving`,
:meth:`~demijohn.Demijohn.after_serving`,
:meth:`~demijohn.Demijohn.while_serving`) and the methods that run them
(:meth:`~demijohn.Demijohn.startup`, :meth:`~demijohn.Demijohn.shutdown`,
and the context managers :meth:`~demijohn.Demijohn.lifespan` and
:meth:`~demijohn.Demijohn.serving`). :class:`~demijohn.Demijohn` inherits
them, and they are documented there.

Under ASGI the lifespan protocol (:class:`~demijohn.asgi.ASGILifespan`) calls
:meth:`~demijohn.Demijohn.startup` and :meth:`~demijohn.Demijohn.shutdown`;
under WSGI, which has no such protocol, the application's owner calls them,
usually through :meth:`~demijohn.Demijohn.serving`. Compare
:mod:`demijohn.lifecycle`, which runs once per request.
"""

from __future__ import annotations

import contextlib
import inspect
import typing as t

from .concurrency import run_coroutine
from .scaffold import setupmethod
from .urls import URLBuilding

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .app import Demijohn
    from .ctx import AppContext

T_serving = t.TypeVar("T_serving", bound=t.Callable[[], t.Any])


class Lifespan(URLBuilding):
    """The application's startup and shutdown hooks, and the methods that
    run them; see the module documentation for who calls them.

    Only ever a base of :class:`~demijohn.Demijohn`, so ``self`` is the
    application that :meth:`~demijohn.Demijohn.lifespan` and
    :meth:`~demijohn.Demijohn.serving` hand to the ``with`` block.
    """

    # Set by the application class; declared here for the methods that use them.
    before_serving_funcs: list[t.Callable[[], t.Any]]
    after_serving_funcs: list[t.Callable[[], t.Any]]
    while_serving_gens: list[t.Callable[[], t.AsyncGenerator[None, None]]]
    _serving_gens: list[t.AsyncGenerator[None, None]]

    if t.TYPE_CHECKING:  # pragma: no cover - defined by the application class

        def app_context(self) -> AppContext: ...

    @setupmethod
    def before_serving(self, f: T_serving) -> T_serving:
        """Register a function (sync or async) to run once when the server
        starts, before the first request, inside an application context.

        Under ASGI the lifespan protocol runs it; under WSGI call
        :meth:`startup` yourself or use ``with app.serving():`` (see
        :meth:`serving`). An exception stops the server from starting.
        """
        self.before_serving_funcs.append(f)
        return f

    @setupmethod
    def after_serving(self, f: T_serving) -> T_serving:
        """Register a function (sync or async) to run once when the server
        shuts down, inside an application context."""
        self.after_serving_funcs.append(f)
        return f

    @setupmethod
    def while_serving(
        self, f: t.Callable[[], t.AsyncGenerator[None, None]]
    ) -> t.Callable[[], t.AsyncGenerator[None, None]]:
        """Register an async generator function that wraps the time the
        application serves: the code before its single ``yield`` runs at
        startup, the code after it at shutdown."""
        self.while_serving_gens.append(f)
        return f

    async def startup(self) -> None:
        """Run the :meth:`before_serving` functions, then the startup half
        of the :meth:`while_serving` generators, in an application context.

        Called by the ASGI lifespan protocol; call it (or use
        :meth:`lifespan` / :meth:`serving`) under WSGI.
        """
        with self.app_context():
            for func in self.before_serving_funcs:
                result = func()
                if inspect.isawaitable(result):
                    await result
            for gen_func in self.while_serving_gens:
                gen = gen_func()
                await gen.__anext__()
                self._serving_gens.append(gen)

    async def shutdown(self) -> None:
        """Finish the :meth:`while_serving` generators (last started first),
        then run the :meth:`after_serving` functions, in an application
        context.

        :raises RuntimeError: if a ``while_serving`` generator yields twice.
        """
        with self.app_context():
            while self._serving_gens:
                gen = self._serving_gens.pop()
                try:
                    await gen.__anext__()
                except StopAsyncIteration:
                    continue
                raise RuntimeError(
                    f"The while_serving generator {gen!r} yielded more than"
                    " once; it must yield exactly once."
                )
            for func in self.after_serving_funcs:
                result = func()
                if inspect.isawaitable(result):
                    await result

    @contextlib.asynccontextmanager
    async def lifespan(self) -> t.AsyncIterator[Demijohn]:
        """An async context manager that runs :meth:`startup` on entry and
        :meth:`shutdown` on exit: ``async with app.lifespan(): ...``.

        Useful in tests, and for servers without the lifespan protocol.
        """
        await self.startup()
        try:
            yield t.cast("Demijohn", self)
        finally:
            await self.shutdown()

    @contextlib.contextmanager
    def serving(self) -> t.Iterator[Demijohn]:
        """The WSGI equivalent of :meth:`lifespan`: a plain context manager
        running :meth:`startup` and :meth:`shutdown` to completion.

        Use it around ``app.run()``, or from server hooks, e.g. gunicorn's
        ``post_worker_init`` (enter) and ``worker_exit`` (exit).
        """
        run_coroutine(self.startup())
        try:
            yield t.cast("Demijohn", self)
        finally:
            run_coroutine(self.shutdown())
