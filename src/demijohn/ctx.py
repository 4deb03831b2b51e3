"""Application and request contexts, stored in :mod:`contextvars`.

An :class:`AppContext` binds :data:`~demijohn.current_app` and
:data:`~demijohn.g`; a :class:`RequestContext` binds
:data:`~demijohn.request` and :data:`~demijohn.session` and pushes an
application context when none for its application is bound. Because the
bindings are context variables, each thread, greenlet and asyncio task sees
its own.

Pushing and popping are symmetric: every push returns through a pop, which
runs the teardown callbacks once the outermost push of a context is undone.
"""

from __future__ import annotations

import contextvars
import sys
import typing as t
import weakref
from functools import update_wrapper

from werkzeug.exceptions import HTTPException, NotFound

from . import globals as _globals
from . import typing as ft
from .routing import host_binds
from .signals import appcontext_popped, appcontext_pushed
from .wrappers import decode_wsgi_text

# PERF: bound by assignment, not imported (see demijohn.globals).
_cv_app = _globals._cv_app
_cv_request = _globals._cv_request

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from types import TracebackType

    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.routing import MapAdapter

    from .app import Demijohn
    from .concurrency import RequestWorker
    from .lifecycle import Steps
    from .sessions import SessionMixin
    from .websockets import Websocket
    from .wrappers import Request

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

# Marks "no exception given" so that ``None`` can mean "no error".
_sentinel: t.Any = object()

# Marks a request context whose URL adapter is not bound yet.
_UNBOUND: t.Any = object()

# The URL schemes of plain HTTP requests, the ones the fast router matches.
_HTTP = frozenset({"http", "https"})


class _AppCtxGlobals:
    """The namespace behind :data:`~demijohn.g`.

    A plain object: set and read attributes on it for the duration of one
    application context (usually one request). Replace it by setting
    :attr:`Demijohn.app_ctx_globals_class <demijohn.Demijohn.app_ctx_globals_class>`.
    """

    def __getattr__(self, name: str) -> t.Any:
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    # Declared so type checkers accept ``g.user = ...`` in user code, as
    # they do for Flask's ``g``.
    def __setattr__(self, name: str, value: t.Any) -> None:
        self.__dict__[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str, default: t.Any | None = None) -> t.Any:
        """The attribute ``name``, or ``default`` when it is not set."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: t.Any = _sentinel) -> t.Any:
        """Remove and return the attribute ``name``.

        :raises KeyError: if it is not set and no ``default`` is given.
        """
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: t.Any = None) -> t.Any:
        """The attribute ``name``, set to ``default`` first when missing."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> t.Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        ctx = _cv_app.get(None)
        if ctx is not None:
            return f"<demijohn.g of {ctx.app.name!r}>"
        return object.__repr__(self)


class AppContext:
    """Binds an application, its URL adapter and a fresh :data:`g`.

    Created by :meth:`Demijohn.app_context <demijohn.Demijohn.app_context>`
    and pushed automatically for each request and CLI command. Push it
    yourself with ``with app.app_context():`` to use
    :data:`~demijohn.current_app` elsewhere, e.g. in a script or a test.
    When the last push is undone, :meth:`Demijohn.do_teardown_appcontext
    <demijohn.Demijohn.do_teardown_appcontext>` runs.
    """

    def __init__(self, app: Demijohn) -> None:
        #: The application this context binds.
        self.app = app
        self._url_adapter: MapAdapter | None = _UNBOUND
        if not app._builtin_url_adapter:
            self._url_adapter = app.create_url_adapter(None)
        self._cv_tokens: list[contextvars.Token[AppContext]] = []

    @property
    def g(self) -> _AppCtxGlobals:
        """The :data:`~demijohn.g` namespace of this context.

        PERF: made (from :attr:`Demijohn.app_ctx_globals_class
        <demijohn.Demijohn.app_ctx_globals_class>`) the first time it is
        read, as most requests never use it; assigning replaces it.
        """
        namespace: _AppCtxGlobals | None = self.__dict__.get("_g")
        if namespace is None:
            namespace = self.__dict__["_g"] = self.app.app_ctx_globals_class()
        return namespace

    @g.setter
    def g(self, namespace: _AppCtxGlobals) -> None:
        self.__dict__["_g"] = namespace

    @property
    def url_adapter(self) -> MapAdapter | None:
        """A URL adapter built from ``SERVER_NAME``, or ``None`` without it.

        Made by :meth:`Demijohn.create_url_adapter
        <demijohn.Demijohn.create_url_adapter>` when the context is created,
        or the first time it is used when that cannot make a difference.
        """
        if self._url_adapter is _UNBOUND:
            self._url_adapter = self.app.create_url_adapter(None)
        return self._url_adapter

    @url_adapter.setter
    def url_adapter(self, adapter: MapAdapter | None) -> None:
        self._url_adapter = adapter

    def push(self) -> None:
        """Bind this context to the current thread or task.

        Sends :data:`~demijohn.signals.appcontext_pushed`. If a receiver
        raises, the context is unbound again before the error propagates.
        """
        self._cv_tokens.append(_cv_app.set(self))
        if appcontext_pushed.receivers:
            try:
                appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)
            except BaseException:
                # A failed push must not leave the context bound to the
                # thread, where the next unrelated request would find it.
                _cv_app.reset(self._cv_tokens.pop())
                raise

    def pop(self, exc: BaseException | None = _sentinel) -> None:
        """Undo the last :meth:`push`.

        Undoing the outermost push runs the application's teardown with
        ``exc`` (by default the exception being handled, if any). Sends
        :data:`~demijohn.signals.appcontext_popped`.

        :raises AssertionError: if another context was pushed on top of this
            one and not popped first.
        """
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        if len(self._cv_tokens) == 1 and self.app._has_teardown(
            "do_teardown_appcontext", exc
        ):
            self.app._run_steps(self._pop_steps(exc))
        else:
            # PERF: nothing to tear down: no step driver needed.
            self._unbind()

    def _pop_steps(self, exc: BaseException | None) -> Steps:
        """:meth:`pop` as lifecycle steps, so the ASGI edge can await async
        teardown functions on the event loop."""
        try:
            if len(self._cv_tokens) == 1:
                yield from self.app._steps("do_teardown_appcontext", exc)
        finally:
            popped = _cv_app.get()
            _cv_app.reset(self._cv_tokens.pop())
        self._finish_pop(popped)

    def _unbind(self) -> None:
        """Undo the last push's binding (no teardown) and finish the pop."""
        popped = _cv_app.get()
        _cv_app.reset(self._cv_tokens.pop())
        self._finish_pop(popped)

    def _finish_pop(self, ctx: AppContext) -> None:
        """Check the pop undid this context, release its worker thread after
        the last pop, and send :data:`~demijohn.signals.appcontext_popped`."""
        if self.worker is not None and not self._cv_tokens:
            self.worker.release()
        if ctx is not self:
            raise AssertionError(
                f"Popped the wrong application context: {ctx!r} instead of"
                f" {self!r}. Contexts must be popped in the reverse order of"
                " their pushes."
            )
        if appcontext_popped.receivers:
            appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)

    #: The worker thread the synchronous code run under ASGI while this
    #: context is bound is pinned to; made by :meth:`Demijohn.run_sync
    #: <demijohn.Demijohn.run_sync>` when first needed and released when
    #: the context's last push is undone.
    worker: RequestWorker | None = None

    def __enter__(self) -> AppContext:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.app.name!r}>"


class RequestContext:
    """Everything about one request: the request object, its URL match, its
    session and flashed messages.

    The application creates one per request in :meth:`Demijohn.wsgi_app
    <demijohn.Demijohn.wsgi_app>`; tests create one with
    :meth:`Demijohn.test_request_context
    <demijohn.Demijohn.test_request_context>`. Pushing it also pushes an
    :class:`AppContext` when none for the same application is bound.

    The session is opened on first use through the application's
    :attr:`~demijohn.Demijohn.session_interface`, so a request that never
    touches it costs no cookie parsing or signature check.
    """

    def __init__(
        self,
        app: Demijohn,
        environ: WSGIEnvironment | None,
        request: Request | None = None,
        session: SessionMixin | None = None,
    ) -> None:
        #: The application handling the request.
        self.app = app
        if request is None:
            if environ is None:
                raise TypeError(
                    "A RequestContext needs the WSGI environ of its request,"
                    " or the request itself."
                )
            request = app.request_class(environ)
            request.json_module = app.json
        #: The :class:`~demijohn.wrappers.Request`.
        self.request: Request = request
        self._url_adapter: MapAdapter | None = _UNBOUND
        if not app._binds_url_adapter_lazily():
            self._bind_url_adapter()
        self._opened_session: SessionMixin | None = session
        self._after_request_functions: list[ft.AfterRequestCallable[t.Any]] = []
        self._cv_tokens: list[
            tuple[contextvars.Token[RequestContext], AppContext | None]
        ] = []

    @classmethod
    def _binding_lazily(cls, app: Demijohn, request: Request) -> RequestContext:
        """A context for ``request`` whose URL adapter binds the first time
        it is used: what the constructor makes when
        ``app._binds_url_adapter_lazily()`` is true, which the caller (the
        ASGI lane, see :mod:`demijohn.asgi_lane`) has checked."""
        ctx = cls.__new__(cls)
        ctx.app = app
        ctx.request = request
        ctx._url_adapter = _UNBOUND
        ctx._opened_session = None
        ctx._after_request_functions = []
        ctx._cv_tokens = []
        return ctx

    # PERF: attributes that few requests change are class-level defaults,
    # assigned on the instance only when they change, which saves setting
    # them for every request.

    #: Messages read by :func:`~demijohn.get_flashed_messages`, cached for
    #: the rest of the request.
    flashes: list[tuple[str, str]] | None = None
    #: The :class:`~demijohn.websockets.Websocket` of a WebSocket
    #: connection, ``None`` for an HTTP request.
    websocket: Websocket | None = None
    _streams_open = 0
    # Weak, so that a stream nobody references can still be collected (and
    # end itself, see ``StreamWithContext.__del__``); created by the first
    # stream.
    _streams: weakref.WeakSet[StreamWithContext[t.Any]] | None = None
    _stream_app_ctx: AppContext | None = None
    _deferred_app_ctx: AppContext | None = None
    # A copy shares the request object with the original, which may still be
    # reading it; only the original closes it.
    _owns_request = True

    @property
    def url_adapter(self) -> MapAdapter | None:
        """The URL adapter bound to this request, or ``None`` when the host
        was refused (the request then carries a routing exception).

        Bound by :meth:`Demijohn.create_url_adapter
        <demijohn.Demijohn.create_url_adapter>` when the context is created,
        or, when binding cannot fail, the first time it is used.
        """
        if self._url_adapter is _UNBOUND:
            self._bind_url_adapter()
        return self._url_adapter

    @url_adapter.setter
    def url_adapter(self, adapter: MapAdapter | None) -> None:
        self._url_adapter = adapter

    def _bind_url_adapter(self) -> None:
        self._url_adapter = None
        try:
            self._url_adapter = self.app.create_url_adapter(self.request)
        except HTTPException as e:
            self.request.routing_exception = e

    @property
    def session(self) -> SessionMixin:
        """The session of this request, opened on first access.

        Reading it (also through the :data:`~demijohn.session` proxy) marks
        the session as accessed, which adds ``Vary: Cookie`` to the
        response. When the interface returns ``None`` (e.g. no secret key),
        a null session is used, whose writes raise an explanatory error.
        """
        opened = self._get_session()
        opened.accessed = True
        return opened

    def _get_session(self) -> SessionMixin:
        """The session, opened if needed, without marking it accessed."""
        if self._opened_session is None:
            interface = self.app.session_interface
            opened = interface.open_session(self.app, self.request)
            if opened is None:
                opened = interface.make_null_session(self.app)
            self._opened_session = opened
        return self._opened_session

    @property
    def _session(self) -> SessionMixin:
        """The session, opened if needed, without marking it accessed:
        Flask's attribute of that name, which holds the session opened when
        the context was pushed, for code that reads or replaces it."""
        return self._get_session()

    @_session.setter
    def _session(self, session: SessionMixin | None) -> None:
        self._opened_session = session

    @property
    def session_opened(self) -> bool:
        """Whether :attr:`session` was opened (or given) for this request."""
        return self._opened_session is not None

    def copy(self) -> RequestContext:
        """A new context for the same request object and session.

        Used by :func:`copy_current_request_context` to run code in another
        thread or task with this request bound there. Popping the copy runs
        teardown but does not close the request: the original owns it.
        """
        copied = self.__class__(
            self.app,
            environ=self.request.environ,
            request=self.request,
            session=self._opened_session,
        )
        copied._owns_request = False
        return copied

    def match_request(self) -> None:
        """Match the request's URL against the application's URL map.

        Stores the rule and view arguments on the request, or the routing
        exception (404, 405, slash redirect, or the 400 of a host the URL
        adapter refuses to bind) to be raised at dispatch.
        """
        router = self.app._url_router()
        if router is not None:
            # Under ASGI the environ may not be built yet; matching needs
            # none of it but these keys.
            environ = self.request._environ_so_far()
            # The router matches plain HTTP only, as the adapter would see
            # it; a WebSocket handshake goes to the adapter.
            if (
                not environ.get("HTTP_UPGRADE")
                and environ.get("wsgi.url_scheme") in _HTTP
                and host_binds(environ.get("HTTP_HOST"))
            ):
                path = environ.get("PATH_INFO")
                if path is None:
                    path = "/"
                elif not path.isascii():  # PERF: decode_wsgi_text's own test
                    path = decode_wsgi_text(path)
                # request.method: the environ's, as Werkzeug reads it.
                hit = router.match(path, self.request.method)
                if hit is not None:
                    self.request.url_rule, self.request.view_args = hit
                    return
                if router.misses(path):
                    # The adapter would raise this very exception.
                    self.request.routing_exception = NotFound()
                    return
        adapter = self.url_adapter
        if adapter is None:
            return  # binding failed and stored its routing exception
        try:
            rule, view_args = adapter.match(return_rule=True)
        except HTTPException as e:
            self.request.routing_exception = e
        else:
            self.request.url_rule = rule
            self.request.view_args = dict(view_args)

    def push(self) -> None:
        """Bind this context, pushing an application context if needed, and
        match the URL the first time.
        """
        app_ctx = _cv_app.get(None)
        if app_ctx is None or app_ctx.app is not self.app:
            app_ctx = self.app.app_context()
            app_ctx.push()
        else:
            app_ctx = None
        self._cv_tokens.append((_cv_request.set(self), app_ctx))
        request = self.request
        if (
            request.url_rule is None
            and request.routing_exception is None
            # An unbound adapter is never None once bound.
            and self._url_adapter is not None
        ):
            self.match_request()

    def pop(self, exc: BaseException | None = _sentinel) -> None:
        """Undo the last :meth:`push`.

        Undoing the outermost push runs :meth:`Demijohn.do_teardown_request
        <demijohn.Demijohn.do_teardown_request>` with ``exc`` (default: the
        exception being handled), closes the request and pops the
        application context this context pushed. While a
        :func:`~demijohn.stream_with_context` response is still streaming,
        teardown waits until the stream ends.

        :raises AssertionError: if another request context was pushed on top
            of this one and not popped first.
        """
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        if not self._pop_without_teardown(exc):
            self.app._run_steps(self._pop_steps(exc))

    def _pop_without_teardown(self, exc: BaseException | None) -> bool:
        """Pop the outermost push directly when the pop has no teardown
        function or signal receiver to run; ``False`` (having done nothing)
        otherwise, and the pop steps must run.

        PERF: most requests register no teardown, and driving the pop steps
        through a step driver costs more than the unbinding itself.
        """
        tokens = self._cv_tokens
        if len(tokens) != 1 or self._streams_open:
            return False
        if not self.app._tears_down_nothing():
            return False
        token, app_ctx = tokens[0]
        try:
            if self._owns_request:
                self.request.close()
        finally:
            popped = self._unbind(token, outermost=True)
            if app_ctx is not None:
                app_ctx._unbind()
        if popped is not self:
            self._check_popped(popped)
        return True

    def _pop_steps(self, exc: BaseException | None) -> Steps:
        """:meth:`pop` as lifecycle steps, so the ASGI edge can await async
        teardown functions on the event loop."""
        outermost = len(self._cv_tokens) == 1
        if outermost and self._streams_open:
            self._unbind_for_stream()
            return
        token, app_ctx = self._cv_tokens[-1]
        try:
            if outermost:
                yield from self.app._steps("do_teardown_request", exc)
                if self._owns_request:
                    self.request.close()
        finally:
            popped = self._unbind(token, outermost)
            if app_ctx is not None:
                yield from app_ctx._pop_steps(exc)
        self._check_popped(popped)

    def _unbind(
        self, token: contextvars.Token[RequestContext], outermost: bool
    ) -> t.Any:
        """Undo the last push's binding; returns the context that was bound."""
        popped = _cv_request.get()
        self._cv_tokens.pop()
        _cv_request.reset(token)
        if outermost and self._owns_request:
            self.request._end_environ()
        return popped

    def _check_popped(self, popped: t.Any) -> None:
        if popped is not self:
            raise AssertionError(
                f"Popped the wrong request context: {popped!r} instead of"
                f" {self!r}. Contexts must be popped in the reverse order of"
                " their pushes."
            )

    # -- streaming support ------------------------------------------------
    #
    # A streamed response outlives the view: the server iterates it after
    # ``wsgi_app`` returned. Instead of leaving the context bound on the
    # worker until the stream ends (which leaks it into whatever the worker
    # runs next if the stream is abandoned), the context is unbound when the
    # view returns and re-bound around each step of the stream.

    def _open_stream(self, stream: StreamWithContext[t.Any]) -> None:
        self._streams_open += 1
        if self._streams is None:
            self._streams = weakref.WeakSet()
        self._streams.add(stream)
        self._stream_app_ctx = _cv_app.get(None)

    def _close_abandoned_streams(self) -> None:
        """Close the streams still open once the server is done with the
        response: the view created them but they were never sent (it
        aborted, or an ``after_request`` function replaced the response).
        The last one to close runs the deferred teardown.
        """
        if self._streams:
            for stream in list(self._streams):
                stream.close()

    def _unbind_for_stream(self) -> None:
        token, app_ctx = self._cv_tokens.pop()
        _cv_request.reset(token)
        if app_ctx is not None:
            # Unbind the app context this context pushed, but keep it alive
            # without teardown: the stream may still use it.
            _cv_app.reset(app_ctx._cv_tokens.pop())
        self._deferred_app_ctx = app_ctx

    def _bind_for_stream(self) -> tuple[t.Any, t.Any]:
        app_ctx = self._stream_app_ctx
        app_token = None
        if app_ctx is not None and _cv_app.get(None) is not app_ctx:
            app_token = _cv_app.set(app_ctx)
        return _cv_request.set(self), app_token

    @staticmethod
    def _unbind_after_step(tokens: tuple[t.Any, t.Any]) -> None:
        request_token, app_token = tokens
        _cv_request.reset(request_token)
        if app_token is not None:
            _cv_app.reset(app_token)

    def _close_stream(self, exc: BaseException | None) -> None:
        """End one stream; the last one to end after the context was popped
        runs the deferred teardown.
        """
        self._streams_open -= 1
        if self._streams_open or self._cv_tokens:
            return
        app_ctx = self._deferred_app_ctx
        self._deferred_app_ctx = None
        if app_ctx is not None:
            app_ctx._cv_tokens.append(_cv_app.set(app_ctx))
        self._cv_tokens.append((_cv_request.set(self), app_ctx))
        self.pop(exc)

    def __enter__(self) -> RequestContext:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.request.url!r}"
            f" [{self.request.method}] of {self.app.name}>"
        )


class StreamWithContext(t.Generic[t.AnyStr]):
    """The iterable returned by :func:`~demijohn.stream_with_context`.

    Binds the request context around each step of the wrapped iterable and
    runs the request's teardown when the iterable is exhausted, raises, or
    is closed by the server (for example because the client disconnected).
    """

    def __init__(self, iterable: t.Iterable[t.AnyStr], ctx: RequestContext) -> None:
        self._iterator: t.Iterator[t.AnyStr] = iter(iterable)
        self._ctx = ctx
        self._finished = False
        ctx._open_stream(self)

    def __iter__(self) -> StreamWithContext[t.AnyStr]:
        return self

    def __next__(self) -> t.AnyStr:
        if self._finished:
            raise StopIteration
        ctx = self._ctx
        tokens = ctx._bind_for_stream() if _cv_request.get(None) is not ctx else None
        try:
            return next(self._iterator)
        except StopIteration:
            self._finish(None, tokens)
            raise
        except BaseException as e:
            self._finish(e, tokens)
            raise
        finally:
            if tokens is not None and not self._finished:
                ctx._unbind_after_step(tokens)

    def _finish(self, exc: BaseException | None, tokens: t.Any) -> None:
        self._finished = True
        try:
            # However the stream ends, the wrapped iterable's own ``close()``
            # runs (as in Flask), while the request is still bound, so it
            # can release what it holds.
            close = getattr(self._iterator, "close", None)
            if close is not None:
                close()
        finally:
            if tokens is not None:
                self._ctx._unbind_after_step(tokens)
            self._ctx._close_stream(exc)

    def close(self) -> None:
        """Close the wrapped iterable inside the context, then tear down.

        Called by the server when the response ends early; safe to call
        more than once.
        """
        if self._finished:
            return
        ctx = self._ctx
        tokens = ctx._bind_for_stream() if _cv_request.get(None) is not ctx else None
        self._finish(None, tokens)

    def __del__(self) -> None:
        # A stream the view created but did not send (it aborted, or an
        # ``after_request`` function replaced the response) is never
        # iterated or closed by the server; without this its request would
        # wait for the stream forever and never be torn down.
        if getattr(self, "_finished", True):
            return
        try:
            self.close()
        except Exception:
            self._ctx.app.logger.exception(
                "Tearing down the request of an abandoned stream failed"
            )


def after_this_request(
    f: ft.AfterRequestCallable[t.Any],
) -> ft.AfterRequestCallable[t.Any]:
    """Register a function to run on this request's response only.

    It runs like an ``after_request`` function (receives the response and
    returns one), before the application-wide ones.

    :raises RuntimeError: outside a request context.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'after_this_request' can only be used while a request context"
            " is active, such as in a view function."
        )
    ctx._after_request_functions.append(f)
    return f


def copy_current_request_context(f: F) -> F:
    """Decorate a function to run with the current request bound, wherever
    it is called later: another thread, a thread pool or a greenlet.

    Each call binds a fresh copy of the context, so the function may run
    several times, even at once in several threads. The copy shares the
    request and session objects; :data:`~demijohn.g` is a new namespace.

    :raises RuntimeError: outside a request context.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'copy_current_request_context' can only be used while a request"
            " context is active, such as in a view function."
        )
    # Open the session now so every copy shares the original's object and
    # its changes reach the response.
    ctx._get_session()
    original = ctx

    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        with original.copy() as copied:
            return copied.app.ensure_sync(f)(*args, **kwargs)

    return t.cast(F, update_wrapper(wrapper, f))


def has_request_context() -> bool:
    """Whether a request context is bound, i.e. :data:`~demijohn.request`
    can be used.
    """
    return _cv_request.get(None) is not None


def has_app_context() -> bool:
    """Whether an application context is bound, i.e.
    :data:`~demijohn.current_app` can be used.
    """
    return _cv_app.get(None) is not None
