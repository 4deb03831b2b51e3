"""The context-local proxies: :data:`current_app`, :data:`g`, :data:`request`
and :data:`session`.

Each proxy reads a :class:`contextvars.ContextVar`, so it resolves to the
right object in a thread, a greenlet or an asyncio task alike. Using a proxy
when no matching context is pushed raises :exc:`RuntimeError` with a message
that says how to push one.

This module only declares the variables; :mod:`demijohn.ctx` sets them.
"""

from __future__ import annotations

import threading
import typing as t
from contextvars import ContextVar

from werkzeug.local import LocalProxy

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .app import Demijohn
    from .ctx import AppContext, RequestContext, _AppCtxGlobals
    from .sessions import SessionMixin
    from .websockets import Websocket
    from .wrappers import Request

_NO_APP_MESSAGE = """\
Working outside of application context.

This code needs the current application (current_app, g, url_for, ...), but
no application context is pushed. Push one with 'with app.app_context():'
around the code, or run it inside a request. In tests, use
'app.test_request_context()' or 'app.test_client()'.\
"""

_NO_REQUEST_MESSAGE = """\
Working outside of request context.

This code needs data about the incoming request (request, session, ...),
but no request context is pushed. It only exists while a request is being
handled. In tests, push one with 'with app.test_request_context():', or
send a request with 'app.test_client()'.\
"""

# The context variables behind the proxies below.
#
# PERF: the modules that read them on every request bind them by
# assignment (``_cv_app = _globals._cv_app``), not with ``from .globals
# import _cv_app``. CPython 3.11 compiles ``name.method(...)`` as an
# attribute load followed by a call when ``name`` was imported, expecting a
# module; for a ContextVar that load cannot be specialized and builds a
# bound method on every call. A name bound by assignment gets the
# specialized method call: 3–4% of the instructions of a minimal request.
_cv_app: ContextVar[AppContext] = ContextVar("demijohn.app_ctx")
_cv_request: ContextVar[RequestContext] = ContextVar("demijohn.request_ctx")


class _ContextProxy(LocalProxy[t.Any]):
    """The :class:`~werkzeug.local.LocalProxy` of :data:`current_app`,
    :data:`g`, :data:`request` and :data:`session`: the same proxy (an instance of
    Werkzeug's class, resolving through ``_get_current_object``, raising
    :exc:`RuntimeError` when unbound), with the operations a view uses on
    every request as plain methods. Each proxy is an instance of its own
    subclass, whose :meth:`_resolve` finds the object it stands for.

    PERF: Werkzeug resolves every proxied operation through a descriptor
    that binds the operation to the current object (a ``partial`` for
    ``getattr``) before calling it; three Python calls for
    ``request.method``. These methods make one call to resolve and apply
    the operation directly. Attribute reads (``request.args``,
    ``g.user``, ``current_app.config``, ``session.get``), the commonest
    use of a proxy, are answered by :meth:`__getattribute__`: through
    ``__getattr__`` alone, every read would first fail to find the name on
    the proxy and raise an :exc:`AttributeError` to get there, which is
    most of a read's cost.
    """

    __slots__ = ()

    @staticmethod
    def _resolve() -> t.Any:
        """The object the proxy stands for; :exc:`RuntimeError` when its
        context is not bound. Each proxy's class gives its own."""
        raise NotImplementedError  # pragma: no cover - every subclass sets it

    def __init__(self, variable: ContextVar[t.Any], name: str, message: str) -> None:
        super().__init__(variable, name, unbound_message=message)
        # Werkzeug's resolver reads the variable and the attribute the same
        # way; the class's own is one call shorter.
        object.__setattr__(self, "_get_current_object", type(self)._resolve)

    def __getattribute__(self, name: str) -> t.Any:
        # Names with an underscore are the proxy's own first (its
        # resolver, ``__class__``, ``__wrapped__``, ...), then, through
        # __getattr__, the proxied object's: Werkzeug's order. No public
        # name belongs to the proxy.
        if not name or name[0] == "_":
            if name == "_get_current_object":
                # PERF: what Werkzeug's operations (``len``, ``bool``, ...)
                # and callers wanting the object itself ask for.
                return type(self)._resolve
            return _proxy_attribute(self, name)
        resolved = type(self)._resolve()
        try:
            return getattr(resolved, name)
        except AttributeError as error:
            # Python now calls __getattr__, which must not look it up
            # again (a property could run twice): it raises this error.
            _missed.last = (resolved, name, error)
            raise

    def __getattr__(self, name: str) -> t.Any:
        resolved = type(self)._resolve()
        missed = _missed.__dict__.pop("last", None)
        if missed is not None and missed[0] is resolved and missed[1] == name:
            raise missed[2]
        return getattr(resolved, name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        setattr(type(self)._resolve(), name, value)

    def __getitem__(self, key: t.Any) -> t.Any:
        return type(self)._resolve()[key]

    def __setitem__(self, key: t.Any, value: t.Any) -> None:
        type(self)._resolve()[key] = value

    def __contains__(self, item: t.Any) -> bool:
        return item in type(self)._resolve()

    def __iter__(self) -> t.Iterator[t.Any]:
        return iter(type(self)._resolve())

    def __len__(self) -> int:
        return len(type(self)._resolve())

    def __bool__(self) -> bool:
        # Werkzeug's: an unbound proxy is false rather than an error.
        try:
            resolved = type(self)._resolve()
        except RuntimeError:
            return False
        return bool(resolved)

    def __repr__(self) -> str:
        # Werkzeug's, which would name this class when unbound.
        try:
            return repr(type(self)._resolve())
        except RuntimeError:
            return "<LocalProxy unbound>"


#: How :meth:`_ContextProxy.__getattribute__` reads the proxy's own
#: attributes: as any object's, without coming back to itself.
_proxy_attribute = object.__getattribute__

#: The attribute read a proxy just failed, per thread: (object, name,
#: error), taken by :meth:`_ContextProxy.__getattr__`, which Python calls
#: right after. It raises the error only for the same object and name, so
#: a read that other code (a finalizer, say) failed in between is looked
#: up again rather than answered with the wrong error.
_missed = threading.local()


class _AppProxy(_ContextProxy):
    __slots__ = ()

    @staticmethod
    def _resolve() -> Demijohn:
        try:
            return _cv_app.get().app
        except LookupError:
            raise RuntimeError(_NO_APP_MESSAGE) from None


class _GlobalsProxy(_ContextProxy):
    __slots__ = ()

    @staticmethod
    def _resolve() -> _AppCtxGlobals:
        try:
            return _cv_app.get().g
        except LookupError:
            raise RuntimeError(_NO_APP_MESSAGE) from None


class _RequestProxy(_ContextProxy):
    __slots__ = ()

    @staticmethod
    def _resolve() -> Request:
        try:
            return _cv_request.get().request
        except LookupError:
            raise RuntimeError(_NO_REQUEST_MESSAGE) from None


class _SessionProxy(_ContextProxy):
    __slots__ = ()

    @staticmethod
    def _resolve() -> SessionMixin:
        try:
            return _cv_request.get().session
        except LookupError:
            raise RuntimeError(_NO_REQUEST_MESSAGE) from None


#: The :class:`~demijohn.ctx.AppContext` that is pushed now.
app_ctx: AppContext = LocalProxy(  # type: ignore[assignment]
    _cv_app, unbound_message=_NO_APP_MESSAGE
)
#: The application handling the current request or CLI command.
current_app: Demijohn = _AppProxy(_cv_app, "app", _NO_APP_MESSAGE)  # type: ignore[assignment]
#: A namespace for data that lives as long as the application context,
#: usually one request. See :class:`~demijohn.ctx._AppCtxGlobals`.
g: _AppCtxGlobals = _GlobalsProxy(_cv_app, "g", _NO_APP_MESSAGE)  # type: ignore[assignment]
#: The :class:`~demijohn.ctx.RequestContext` that is pushed now.
request_ctx: RequestContext = LocalProxy(  # type: ignore[assignment]
    _cv_request, unbound_message=_NO_REQUEST_MESSAGE
)
#: The :class:`~demijohn.wrappers.Request` being handled.
request: Request = _RequestProxy(  # type: ignore[assignment]
    _cv_request, "request", _NO_REQUEST_MESSAGE
)
#: The session of the current request, a dict-like
#: :class:`~demijohn.sessions.SessionMixin`.
session: SessionMixin = _SessionProxy(  # type: ignore[assignment]
    _cv_request, "session", _NO_REQUEST_MESSAGE
)


def _current_websocket() -> Websocket:
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(_NO_REQUEST_MESSAGE)
    if ctx.websocket is None:
        raise RuntimeError(
            "Working outside of a WebSocket connection.\n\nThe 'websocket'"
            " proxy is only bound inside a handler registered with"
            " '@app.websocket(rule)' and served over ASGI; this is an HTTP"
            " request."
        )
    return ctx.websocket


#: The :class:`~demijohn.websockets.Websocket` of the current WebSocket
#: connection (a demijohn addition, as in Quart).
websocket: Websocket = LocalProxy(_current_websocket)  # type: ignore[assignment]
