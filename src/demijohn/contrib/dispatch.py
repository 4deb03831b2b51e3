"""One entry point in front of several applications.

:class:`Dispatcher` sends each request to one of several applications,
chosen by host name or by URL prefix, and is itself both a WSGI and an ASGI
application, so the same object is served by gunicorn or by uvicorn::

    from demijohn.contrib.dispatch import Dispatcher

    application = Dispatcher(frontend, {"/api": api, "/admin": admin})

    # gunicorn 'site:application'   or   uvicorn 'site:application'

An application mounted at ``/api`` sees a request for ``/api/users`` with
``request.script_root == "/api"`` and ``request.path == "/users"``, and its
``url_for`` builds URLs under ``/api``: under WSGI the prefix moves from
``PATH_INFO`` to ``SCRIPT_NAME``; under ASGI it is appended to the scope's
``root_path``. The mounted applications can be demijohn (or Flask)
applications, other dispatchers, or any WSGI or ASGI callable; a callable
that speaks only one protocol can only be served by a server of that
protocol.

Under ASGI the ``lifespan`` events are passed on to every mounted ASGI
application, so each one's :meth:`~demijohn.Demijohn.before_serving` and
:meth:`~demijohn.Demijohn.after_serving` functions run. Under WSGI, use
:meth:`Dispatcher.serving` from the server's hooks instead.
"""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import contextlib
import inspect
import traceback
import typing as t

from ..asgi import Message, ProtocolDispatch, Receive, Scope, Send

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["App", "Dispatcher", "speaks_asgi", "speaks_wsgi"]

#: A WSGI application, an ASGI 3 application, or an object that is both
#: (a demijohn application or another :class:`Dispatcher`).
App = t.Callable[..., t.Any]


def speaks_asgi(app: App) -> bool:
    """Tell whether ``app`` is an ASGI 3 application, the way servers do:
    whether it, or its ``__call__``, is a coroutine function."""
    # Not a callable() test: ``app.__call__`` is what uvicorn and hypercorn
    # inspect, and a demijohn application answers there (ProtocolDispatch).
    call = getattr(app, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(call)


def speaks_wsgi(app: App) -> bool:
    """Tell whether ``app`` can be called as ``app(environ, start_response)``.

    A plain callable is taken to be WSGI. An ASGI callable is WSGI too only
    when it says so with a ``wsgi_app`` attribute, as demijohn applications
    and dispatchers do.
    """
    return not speaks_asgi(app) or hasattr(app, "wsgi_app")


def _normalize_prefix(prefix: str) -> str:
    """Check a mount prefix and drop its trailing slash.

    :raise ValueError: When the prefix does not start with ``/`` or is the
        root, which belongs to the default application.
    """
    stripped = prefix.rstrip("/")
    if not prefix.startswith("/") or not stripped:
        raise ValueError(
            f"Mount prefixes start with '/' and are not the root, got {prefix!r}."
            " The application for every other URL is the dispatcher's"
            " 'default'."
        )
    return stripped


def _split_mount(path: str, mounts: cabc.Mapping[str, App]) -> tuple[str, str] | None:
    """Find the longest mounted prefix of ``path``, at a segment boundary.

    Returns ``(prefix, rest)`` or ``None``. Cutting one segment at a time
    costs one dictionary lookup per segment, however many mounts there are.
    """
    script, rest = path, ""
    while "/" in script:
        if script in mounts:
            return script, rest
        script, last = script.rsplit("/", 1)
        rest = f"/{last}{rest}"
    return None


def _host_header(scope: Scope) -> str | None:
    """The ``Host`` header of an ASGI connection, or the server's name."""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return t.cast(bytes, value).decode("latin-1")
    server = scope.get("server")
    return t.cast(str, server[0]) if server else None


class Dispatcher(ProtocolDispatch):
    """Routes requests to ``default`` or to applications mounted by URL
    prefix or by host name, under WSGI and ASGI alike.

    :param default: Serves every request no mount matches.
    :param mounts: URL prefixes (``"/api"``) to applications. The longest
        prefix that matches whole path segments wins: ``/api`` gets
        ``/api`` and ``/api/x``, not ``/apix``.
    :param hosts: Host names (``"api.example.com"``, or with a port,
        ``"api.example.com:8443"``; compared without case) to applications.
        Checked before ``mounts``, from the request's ``Host`` header; the
        application gets the request unchanged. To mount by path within one
        host, give that host another :class:`Dispatcher`.
    :raise ValueError: When a prefix does not start with ``/`` or is ``/``.

    The ``Host`` header comes from the client. Put the dispatcher behind a
    proxy that only forwards the host names you serve (nginx's
    ``server_name``), as with any host-based routing.
    """

    def __init__(
        self,
        default: App,
        mounts: cabc.Mapping[str, App] | None = None,
        *,
        hosts: cabc.Mapping[str, App] | None = None,
    ) -> None:
        """Build the routing tables; see the class description."""
        #: The application for requests no mount or host matches.
        self.default = default
        #: The mounted applications by normalized prefix (no trailing slash).
        self.mounts: dict[str, App] = {
            _normalize_prefix(prefix): app for prefix, app in (mounts or {}).items()
        }
        #: The applications by lower-case host name.
        self.hosts: dict[str, App] = {
            host.lower(): app for host, app in (hosts or {}).items()
        }
        # WSGI's PATH_INFO carries the UTF-8 bytes of the path as latin-1
        # text (PEP 3333); ASGI's path is real text. Keep a table for each
        # so a non-ASCII prefix matches under both.
        self._wsgi_mounts = {
            prefix.encode("utf-8").decode("latin-1"): app
            for prefix, app in self.mounts.items()
        }

    def applications(self) -> list[App]:
        """Return every distinct application: the default, then the mounted
        ones, then the ones for hosts, each once."""
        seen: dict[int, App] = {}
        for app in (self.default, *self.mounts.values(), *self.hosts.values()):
            seen.setdefault(id(app), app)
        return list(seen.values())

    def _for_host(self, host: str | None) -> App | None:
        """The application registered for ``host`` (with or without its
        port), or ``None``."""
        if not self.hosts or not host:
            return None
        host = host.lower()
        app = self.hosts.get(host)
        if app is None:
            name, sep, port = host.rpartition(":")
            if sep and port.isdigit():
                app = self.hosts.get(name)
        return app

    # -- WSGI ----------------------------------------------------------------

    def wsgi_app(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> cabc.Iterable[bytes]:
        """Serve a WSGI request with the matching application.

        For a mounted application the prefix moves from ``PATH_INFO`` to
        the end of ``SCRIPT_NAME`` in ``environ``.

        :raise RuntimeError: When the matching application speaks only
            ASGI.
        """
        app = self._for_host(environ.get("HTTP_HOST") or environ.get("SERVER_NAME"))
        if app is None:
            app = self.default
            found = _split_mount(environ.get("PATH_INFO", ""), self._wsgi_mounts)
            if found is not None:
                prefix, rest = found
                app = self._wsgi_mounts[prefix]
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = rest
        if not speaks_wsgi(app):
            raise RuntimeError(
                f"{app!r} is an ASGI-only application and cannot serve a WSGI"
                " request. Serve the dispatcher with an ASGI server (uvicorn,"
                " hypercorn), or mount a WSGI application there."
            )
        return t.cast("cabc.Iterable[bytes]", app(environ, start_response))

    # -- ASGI ----------------------------------------------------------------

    async def asgi_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve an ASGI connection with the matching application.

        ``lifespan`` goes to every mounted ASGI application (see
        :meth:`run_lifespan`); ``http`` and ``websocket`` to the matching
        one. For a mounted application the prefix is appended to a copy of
        the scope's ``root_path``; ``path`` keeps the full path, root
        included, as the ASGI specification says.

        :raise RuntimeError: When the matching application speaks only WSGI.
        """
        if scope["type"] == "lifespan":
            await self.run_lifespan(scope, receive, send)
            return
        app = self._for_host(_host_header(scope))
        if app is None:
            app = self.default
            if "path" in scope:
                app, scope = self._mount_scope(scope)
        if not speaks_asgi(app):
            raise RuntimeError(
                f"{app!r} is a WSGI-only application and cannot serve an ASGI"
                " connection. Serve the dispatcher with a WSGI server"
                " (gunicorn, waitress), or wrap that application in a"
                " WSGI-to-ASGI adapter."
            )
        await app(scope, receive, send)

    def _mount_scope(self, scope: Scope) -> tuple[App, Scope]:
        """The application for the scope's path and the scope to give it."""
        root: str = scope.get("root_path", "")
        path: str = scope["path"]
        full = path.startswith(root)
        relative = path[len(root) :] if full else path
        found = _split_mount(relative, self.mounts)
        if found is None:
            return self.default, scope
        prefix, rest = found
        child = dict(scope)
        child["root_path"] = root + prefix
        if not full:
            # A server that sent a path without its root path (older ASGI
            # servers did): give the application the full path, and drop
            # the raw path, which no longer matches it.
            child["path"] = root + prefix + rest
            child.pop("raw_path", None)
        return self.mounts[prefix], child

    async def run_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the server's lifespan events for all mounted applications.

        On ``lifespan.startup``, starts each ASGI application in turn (the
        default first); if one fails, shuts down those already started and
        reports ``lifespan.startup.failed`` naming it. On
        ``lifespan.shutdown``, shuts them down in reverse order, running
        every shutdown even if one fails. Applications that do not support
        the protocol (they raise before reading the first event, as the
        ASGI specification allows) are left out; WSGI-only ones are skipped.
        """
        children = [
            _ChildLifespan(app, scope)
            for app in self.applications()
            if speaks_asgi(app)
        ]
        started: list[_ChildLifespan] = []
        try:
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    failure = await _start_all(children, started)
                    if failure is not None:
                        await _stop_all(started)
                        await send(
                            {"type": "lifespan.startup.failed", "message": failure}
                        )
                        return
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    failure = await _stop_all(started)
                    if failure is not None:
                        await send(
                            {"type": "lifespan.shutdown.failed", "message": failure}
                        )
                    else:
                        await send({"type": "lifespan.shutdown.complete"})
                    return
        finally:
            await asyncio.gather(*(child.close() for child in children))

    # -- WSGI serving hooks ---------------------------------------------------

    @contextlib.contextmanager
    def serving(self) -> cabc.Iterator[Dispatcher]:
        """Run every mounted application's ``serving()`` around a block:
        the WSGI stand-in for the lifespan protocol.

        Enters :meth:`demijohn.Demijohn.serving` of each application that
        has it, in :meth:`applications` order, and exits them in reverse.
        Use it from a WSGI server's worker hooks (see
        ``deploy/gunicorn.conf.py``) or around a development server.

        :raise Exception: Whatever a startup or shutdown function raised;
            applications already started are still shut down.
        """
        with contextlib.ExitStack() as stack:
            for app in self.applications():
                serving = getattr(app, "serving", None)
                if serving is not None:
                    stack.enter_context(serving())
            yield self


class _ChildLifespan:
    """Runs one mounted application's lifespan protocol on a task, and lets
    the dispatcher send it events and wait for its answer."""

    def __init__(self, app: App, scope: Scope) -> None:
        self.app = app
        self.name = getattr(app, "name", None) or repr(app)
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message | None] = asyncio.Queue()
        self._received = False
        self.error: str | None = None
        # A copy, so no application sees another's changes to the scope;
        # the ``state`` dict inside stays shared, as the server meant it.
        self._task = asyncio.ensure_future(self._run(dict(scope)))

    async def _receive(self) -> Message:
        self._received = True
        return await self._inbox.get()

    async def _run(self, scope: Scope) -> None:
        try:
            await self.app(scope, self._receive, self._outbox.put)
        except Exception:
            # Raising before reading any event is how an application says
            # it does not do lifespan; raising later is a failure.
            if self._received:
                self.error = traceback.format_exc()
        finally:
            self._outbox.put_nowait(None)

    async def event(self, kind: str) -> tuple[str, str]:
        """Send ``lifespan.<kind>`` and wait for the answer.

        Returns ``("complete", "")``, ``("failed", message)``, or
        ``("unsupported", "")`` when the application ended without
        answering and without an error.
        """
        await self._inbox.put({"type": f"lifespan.{kind}"})
        reply = await self._outbox.get()
        if reply is None:
            if self.error is not None:
                return "failed", self.error
            return "unsupported", ""
        if reply["type"] == f"lifespan.{kind}.complete":
            return "complete", ""
        return "failed", str(reply.get("message", ""))

    async def close(self) -> None:
        """Stop the task if the application is still running its protocol."""
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def _start_all(
    children: list[_ChildLifespan], started: list[_ChildLifespan]
) -> str | None:
    """Start each child in order, recording the started ones; return the
    failure message of the first that failed, or ``None``."""
    for child in children:
        status, message = await child.event("startup")
        if status == "failed":
            return f"startup of {child.name} failed:\n{message}"
        if status == "complete":
            started.append(child)
    return None


async def _stop_all(started: list[_ChildLifespan]) -> str | None:
    """Shut down the started children, last first, all of them even when
    one fails; return the failure messages joined, or ``None``."""
    failures = []
    while started:
        child = started.pop()
        status, message = await child.event("shutdown")
        if status == "failed":
            failures.append(f"shutdown of {child.name} failed:\n{message}")
    return "\n".join(failures) or None
