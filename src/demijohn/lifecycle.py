"""The request lifecycle, written once for both protocols.

:class:`Lifecycle` holds the documented, overridable steps of handling a
request (:meth:`~Lifecycle.full_dispatch_request`,
:meth:`~Lifecycle.preprocess_request`, :meth:`~Lifecycle.dispatch_request`,
:meth:`~Lifecycle.handle_user_exception`, ...). :class:`~demijohn.Demijohn`
inherits them.

How one lifecycle serves sync and async code
--------------------------------------------

Each step is implemented as a *step generator*: plain code that, whenever it
must call user code (a view, a hook, an error handler), yields the callable
and its arguments and receives the result (or the exception) back. Two
small drivers run these generators:

- under WSGI, :meth:`Lifecycle._run_steps` calls each callable directly
  (through :meth:`~Lifecycle.ensure_sync`, so coroutine functions run to
  completion on the worker thread);
- under ASGI, :func:`demijohn.asgi.run_steps_async` awaits coroutine
  functions on the event loop and runs plain functions in the worker pool
  (:meth:`~Lifecycle.run_sync`).

The public methods keep Flask's synchronous signatures: each one runs its
step generator with the sync driver. When a subclass overrides one of them,
both drivers call the override instead of the built-in steps (the async
driver runs a synchronous override in the worker pool), so an override
applies under both protocols.

Rules for this module: no protocol specifics (those live in the WSGI and
ASGI edges) and no I/O.
"""

from __future__ import annotations

import collections.abc as cabc
import inspect
import logging
import sys
import typing as t
from itertools import chain
from types import FunctionType, TracebackType

from werkzeug.datastructures import Headers
from werkzeug.exceptions import (
    BadRequest,
    BadRequestKeyError,
    HTTPException,
    InternalServerError,
    NotFound,
)
from werkzeug.routing import RequestRedirect, RoutingException, Rule, WebsocketMismatch
from werkzeug.wrappers import Response as BaseResponse

from . import globals as _globals
from . import typing as ft
from .concurrency import RequestWorker, calling_worker, run_in_worker
from .concurrency import async_to_sync as _async_to_sync
from .ctx import _sentinel
from .globals import request, request_ctx
from .json.provider import DefaultJSONProvider
from .logging import create_logger
from .output import PlainOutput, plain_output, sends_plainly, text_content_type
from .overrides import keeps_members
from .scaffold import Scaffold
from .sessions import SecureCookieSessionInterface, SessionInterface
from .signals import (
    appcontext_tearing_down,
    got_request_exception,
    request_finished,
    request_started,
    request_tearing_down,
)
from .wrappers import Response, check_header_fields

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .config import Config
    from .json.provider import JSONProvider

# PERF: bound by assignment, not imported (see demijohn.globals).
_cv_app = _globals._cv_app
_cv_request = _globals._cv_request

#: One call a step generator asks its driver to make: the callable, its
#: positional arguments and its keyword arguments.
StepCall = tuple[t.Callable[..., t.Any], tuple[t.Any, ...], t.Mapping[str, t.Any]]
#: A step generator: yields :data:`StepCall` items, receives their results,
#: and returns the step's result.
Steps = t.Generator[StepCall, t.Any, t.Any]

_ExcInfo = (
    tuple[type[BaseException], BaseException, TracebackType | None]
    | tuple[None, None, None]
)

_NO_KWARGS: t.Mapping[str, t.Any] = {}

_CO_COROUTINE = inspect.CO_COROUTINE

#: The lifecycle methods that have a step generator; overriding one of them
#: in a subclass makes both drivers call the override.
STEP_METHODS = (
    "full_dispatch_request",
    "preprocess_request",
    "dispatch_request",
    "finalize_request",
    "process_response",
    "handle_user_exception",
    "handle_http_exception",
    "handle_exception",
    "do_teardown_request",
    "do_teardown_appcontext",
    "full_dispatch_websocket",
    "preprocess_websocket",
    "dispatch_websocket",
)


class UpgradeRequired(HTTPException):
    """*426 Upgrade Required*: a WebSocket route was requested over plain
    HTTP, or through a WSGI server, which cannot carry WebSockets."""

    code = 426
    description = (
        "This URL serves WebSocket connections. Connect with a WebSocket"
        " client to an ASGI server (such as uvicorn) serving this application."
    )


class _Finished:
    """An iterator that is done at once, returning ``value`` to the
    ``yield from`` that delegates to it: a step with nothing to call."""

    __slots__ = ("value",)

    def __init__(self, value: t.Any) -> None:
        self.value = value

    def __iter__(self) -> _Finished:
        return self

    def __next__(self) -> t.NoReturn:
        raise StopIteration(self.value)


_FINISHED_NONE = _Finished(None)

# The plain lane's target when hooks run before the view (see
# Lifecycle._plain_lane_view).
_HOOKED = (None, None)

# Werkzeug's 404 page, rendered by the first plain-lane 404.
_NOT_FOUND_PAGE: bytes | None = None


def _has_hooks(
    registry: t.Mapping[ft.AppOrBlueprintKey, list[t.Any]], req: t.Any
) -> bool:
    """Whether ``registry`` has functions for the app or for one of the
    request's blueprints."""
    if registry.get(None):
        return True
    if req.url_rule is None or "." not in req.url_rule.endpoint:
        return False
    return any(registry.get(name) for name in req.blueprints)


def _call_once(func: t.Callable[..., t.Any], args: tuple[t.Any, ...]) -> Steps:
    """A step generator that makes one call: how an overridden lifecycle
    method is run by either driver."""
    return (yield func, args, _NO_KWARGS)


def is_coroutine_function(func: t.Any) -> bool:
    """Whether calling ``func`` returns a coroutine.

    PERF: checks a plain function's code flags directly, which is several
    times cheaper than :func:`inspect.iscoroutinefunction` and runs for
    every view and hook under ASGI.
    """
    if type(func) is FunctionType:
        return bool(func.__code__.co_flags & _CO_COROUTINE)
    return inspect.iscoroutinefunction(func)


def before_hook_steps(funcs: cabc.Iterable[t.Callable[[], t.Any]]) -> Steps:
    """Steps that call ``before_request`` (or ``before_websocket``)
    functions in order until one returns a value, which they return;
    ``None`` when none does."""
    for func in funcs:
        rv = yield func, (), _NO_KWARGS
        if rv is not None:
            return rv
    return None


def after_hook_steps(
    funcs: cabc.Iterable[ft.AfterRequestCallable[t.Any]], response: t.Any
) -> Steps:
    """Steps that pass ``response`` through ``after_request`` functions in
    order, each getting what the previous one returned; they return the
    last one's response."""
    for func in funcs:
        response = yield func, (response,), _NO_KWARGS
    return response


def session_may_do_io(interface: SessionInterface) -> bool:
    """Whether opening or saving a session through ``interface`` may block.

    Only the built-in cookie interface itself (not a subclass, which may
    override anything) is known to be quick CPU work. Every other interface
    is treated as doing I/O: under ASGI its calls run in the request's worker
    thread, and its session is always opened and saved.
    """
    return type(interface) is not SecureCookieSessionInterface


def _responds_plainly(provider: JSONProvider) -> t.TypeGuard[DefaultJSONProvider]:
    """Whether ``provider.response(value)`` for one value is a text response
    whose body is ``provider._response_text(value)``: true for
    :class:`~demijohn.json.provider.DefaultJSONProvider` and its subclasses
    that keep its :meth:`~demijohn.json.provider.DefaultJSONProvider.response`
    (such as the orjson provider, whose :meth:`dumps` that text goes
    through), unless ``response`` is replaced on the instance."""
    kind = type(provider)
    return (
        kind is DefaultJSONProvider
        or (
            isinstance(provider, DefaultJSONProvider)
            and keeps_members(kind, DefaultJSONProvider, ("response",))
        )
    ) and "response" not in provider.__dict__


class Lifecycle(Scaffold):
    """The overridable steps of handling a request; see the module
    documentation for how they run under WSGI and ASGI."""

    # Set by the application class; declared here for the steps that use them.
    config: Config
    response_class: type[Response]
    json: JSONProvider
    session_interface: SessionInterface
    teardown_appcontext_funcs: list[ft.TeardownCallable]
    _got_first_request: bool

    #: The most threads that run synchronous views and hooks at once under
    #: ASGI. Sync code beyond that waits for a free thread.
    sync_worker_count: int = 40

    #: Names of the lifecycle methods a subclass overrides; computed when the
    #: subclass is created.
    _overridden_steps: frozenset[str] = frozenset()

    #: Whether the class leaves every method the plain lane stands in for
    #: as it is; computed when the subclass is created.
    _plain_lane_class: bool = True
    #: Whether the class also keeps the error handling the plain lane's 404
    #: stands in for.
    _plain_error_lane_class: bool = True
    #: Whether the class overrides a teardown step.
    _overrides_teardown: bool = False
    #: Whether the class keeps the built-in :meth:`run_sync`.
    _keeps_run_sync: bool = True

    #: The names of the class's methods replaced on this instance
    #: (``app.process_response = ...``), kept by :meth:`__setattr__` and
    #: :meth:`__delattr__`.
    _replaced_methods: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: t.Any) -> None:
        """Set an attribute, noting when it replaces one of the class's
        methods on this instance.

        PERF: the request path asks whether a method it stands in for was
        replaced on the instance; with the replacements noted here that is
        a look at :attr:`_replaced_methods`, not a search of the instance's
        attributes. (Methods are replaced by assignment; writing into the
        instance ``__dict__`` directly is not seen.)
        """
        super().__setattr__(name, value)
        if name not in self._replaced_methods and isinstance(
            getattr(type(self), name, None), FunctionType
        ):
            self.__dict__["_replaced_methods"] = self._replaced_methods | {name}

    def __delattr__(self, name: str) -> None:
        """Delete an attribute; deleting a replaced method brings back the
        class's."""
        super().__delattr__(name)
        if name in self._replaced_methods:
            self.__dict__["_replaced_methods"] = self._replaced_methods - {name}

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._overridden_steps = frozenset(
            name
            for name in STEP_METHODS
            if getattr(cls, name) is not getattr(Lifecycle, name)
        )
        cls._plain_lane_class = keeps_members(cls, Lifecycle, _LANE_METHODS)
        cls._plain_error_lane_class = keeps_members(cls, Lifecycle, _LANE_ERROR_METHODS)
        cls._keeps_run_sync = keeps_members(cls, Lifecycle, ("run_sync",))
        cls._overrides_teardown = not cls._overridden_steps.isdisjoint(
            ("do_teardown_request", "do_teardown_appcontext")
        )

    @property
    def logger(self) -> logging.Logger:
        """The application's :class:`logging.Logger`, named after
        :attr:`name`; see :func:`~demijohn.logging.create_logger`."""
        logger = self.__dict__.get("_logger")
        if logger is None:
            logger = self.__dict__["_logger"] = create_logger(self)  # type: ignore[arg-type]
        return t.cast(logging.Logger, logger)

    # -- drivers -----------------------------------------------------------

    def _steps(self, name: str, *args: t.Any) -> Steps:
        """The step generator of lifecycle method ``name``: the built-in one,
        or a single call of the method when a subclass (or the instance)
        overrides it."""
        if name in self._overridden_steps or name in self.__dict__:
            return _call_once(getattr(self, name), args)
        shortcut = _SHORTCUTS.get(name)
        if shortcut is not None:
            done = shortcut(self, *args)
            if done is not None:
                return done  # type: ignore[return-value]
        return _STEP_IMPLEMENTATIONS[name](self, *args)

    # PERF: most requests register no hook of a given kind. For those steps
    # a shortcut returns the step's result directly (as an iterator that
    # finishes at once), instead of creating a generator that would find
    # nothing to call. Each shortcut returns ``None`` when there is work.

    def _shortcut_preprocess(self) -> _Finished | None:
        req = _cv_request.get().request
        if _has_hooks(self.before_request_funcs, req) or _has_hooks(
            self.url_value_preprocessors, req
        ):
            return None
        return _FINISHED_NONE

    def _shortcut_process_response(self, response: Response) -> _Finished | None:
        ctx = _cv_request.get()
        if (
            ctx._after_request_functions
            or session_may_do_io(self.session_interface)
            or _has_hooks(self.after_request_funcs, ctx.request)
        ):
            return None
        self._save_session(ctx, response)
        return _Finished(response)

    def _shortcut_teardown_request(self, exc: BaseException | None) -> _Finished | None:
        funcs = self.teardown_request_funcs
        if request_tearing_down.receivers or (
            funcs and _has_hooks(funcs, _cv_request.get().request)
        ):
            return None
        return _FINISHED_NONE

    def _shortcut_teardown_appcontext(
        self, exc: BaseException | None
    ) -> _Finished | None:
        if self.teardown_appcontext_funcs or appcontext_tearing_down.receivers:
            return None
        return _FINISHED_NONE

    def _has_teardown(self, name: str, exc: BaseException | None) -> bool:
        """Whether the teardown step ``name`` (``do_teardown_request`` or
        ``do_teardown_appcontext``) has anything to run now."""
        if name in self._overridden_steps or name in self.__dict__:
            return True
        return _SHORTCUTS[name](self, exc) is None

    def _tears_down_nothing(self) -> bool:
        """Whether popping the bound request context and the application
        context it pushed runs no teardown function and no signal receiver:
        :meth:`_has_teardown` is false for both teardown steps.

        PERF: asked at every request's end; the same checks as two
        ``_has_teardown`` calls, with the overrides of both steps looked up
        in one go.
        """
        if self._overrides_teardown:
            return False
        instance = self.__dict__
        if "do_teardown_request" in instance or "do_teardown_appcontext" in instance:
            return False
        return (
            self._shortcut_teardown_request(None) is not None
            and self._shortcut_teardown_appcontext(None) is not None
        )

    def _run_steps(self, steps: Steps) -> t.Any:
        """The synchronous driver: make each call the steps ask for, through
        :meth:`ensure_sync`, and return the steps' result."""
        ensure_sync = self.ensure_sync
        try:
            func, args, kwargs = next(steps)
            while True:
                try:
                    value = ensure_sync(func)(*args, **kwargs)
                except Exception as e:
                    func, args, kwargs = steps.throw(e)
                else:
                    func, args, kwargs = steps.send(value)
        except StopIteration as stop:
            return stop.value

    async def run_sync(self, func: t.Callable[..., t.Any], *args: t.Any) -> t.Any:
        """Run a synchronous callable from the ASGI path and return its
        result.

        The default runs it in a worker thread (at most
        :attr:`sync_worker_count` at once) with the current context copied,
        so it may block without stalling the event loop. Override it to run
        some callables inline, for example cheap hooks: an override is
        called for every sync view, hook and error handler under ASGI. The
        built-in method is instead given a run of consecutive sync calls at
        once (:func:`demijohn.asgi.run_sync_calls`), so that a sync
        request's hooks and view take one trip to the thread.

        While an application context is bound (as for every request), its
        calls are pinned to one thread, the context's
        :attr:`~demijohn.ctx.AppContext.worker`; while a thread waits for
        the request (the ASGI test client's caller), they run on that
        thread instead.
        """
        # A thread waiting for this request (the ASGI test client) runs its
        # sync calls itself, as under WSGI.
        worker = calling_worker()
        if worker is None:
            app_ctx = _cv_app.get(None)
            if app_ctx is None:
                return await run_in_worker(self, func, *args)
            worker = app_ctx.worker
            if worker is None:
                worker = app_ctx.worker = RequestWorker()
        return await run_in_worker(self, func, *args, pin=worker)

    def _batches_sync_calls(self) -> bool:
        """Whether the ASGI driver may hand a run of sync calls to the
        worker thread in one :meth:`run_sync` call (see
        :func:`demijohn.asgi.run_steps_async`): only with the built-in
        :meth:`run_sync`, since an override is owed every callable."""
        return self._keeps_run_sync and "run_sync" not in self._replaced_methods

    # -- the plain lane ----------------------------------------------------
    #
    # PERF: most requests of most applications have nothing that looks at
    # their response: no ``after_request`` function, no signal receiver, no
    # session. For them, full_dispatch_request reduces to "run the
    # before_request functions (if any), call the view, make the response",
    # and driving its step generators and building a response object cost
    # more than that. The plain lane is that reduction: the view is called
    # directly (or, after before_request functions, through the regular
    # preprocess and dispatch steps), and it hands over to the regular steps
    # as soon as something else is registered: an exception goes to
    # handle_user_exception, a touched session or an ``after_request`` or
    # ``after_this_request`` function to finalize_request. Both edges use
    # it; the lifecycle itself stays in the step generators above and below.

    def _plain_lane_view(
        self, ctx: t.Any
    ) -> tuple[t.Callable[..., t.Any] | None, t.Any] | PlainOutput | None:
        """What the plain lane does for this request: call a view (its
        function and arguments), send a finished 404 (see
        :meth:`_plain_not_found`), or nothing (``None``): the regular steps
        must run.

        A view is returned as ``(None, None)`` when ``before_request``
        functions or URL value preprocessors must run first: the lane then
        runs :meth:`preprocess_request` and :meth:`dispatch_request` as
        their own steps, which read the rule and arguments after the hooks
        had their say.
        """
        if (
            not self._plain_lane_class
            # Methods replaced on the instance count as overrides too.
            or not self._replaced_methods.isdisjoint(_LANE_METHODS)
            or request_started.receivers
        ):
            return None
        req = ctx.request
        hooked = (
            self.before_request_funcs and _has_hooks(self.before_request_funcs, req)
        ) or (
            self.url_value_preprocessors
            and _has_hooks(self.url_value_preprocessors, req)
        )
        rule = req.url_rule
        if rule is None:
            return None if hooked else self._plain_not_found(ctx)
        if rule.websocket or (
            # A Rule added to url_map directly has no such attribute.
            getattr(rule, "provide_automatic_options", False)
            and req.method == "OPTIONS"
        ):
            return None
        if not self._got_first_request:
            self._got_first_request = True
        if hooked:
            return _HOOKED
        return self.view_functions[rule.endpoint], req.view_args

    def _plain_not_found(self, ctx: t.Any) -> PlainOutput | None:
        """Werkzeug's own 404 page, when the URL matched nothing and neither
        an error handler nor a hook would see the error or its response.

        PERF: what the regular steps would send (``handle_user_exception``
        returns the unhandled :exc:`~werkzeug.exceptions.NotFound`, and
        :meth:`make_response` turns it into its page) is the same page every
        time, so it is rendered once and reused.
        """
        global _NOT_FOUND_PAGE
        e = ctx.request.routing_exception
        if (
            type(e) is not NotFound
            or "description" in e.__dict__
            or e.response is not None
            or not self._plain_error_lane_class
            or not self._replaced_methods.isdisjoint(_LANE_ERROR_METHODS)
            or self.trap_http_exception(e)
            or self._find_error_handler(e, [])
            or not self._response_unobserved(ctx)
            or not sends_plainly(self.response_class)
        ):
            return None
        if not self._got_first_request:
            self._got_first_request = True
        if _NOT_FOUND_PAGE is None:
            _NOT_FOUND_PAGE = e.get_body().encode()
        return plain_output(
            ("404 NOT FOUND", text_content_type("text/html"), _NOT_FOUND_PAGE)
        )

    def _response_unobserved(self, ctx: t.Any) -> bool:
        """Whether nothing would look at or change this request's response:
        no ``after_request`` or ``after_this_request`` function, no
        :data:`~demijohn.signals.request_finished` receiver, no session to
        save."""
        return (
            self._only_session_may_observe(ctx)
            and ctx._opened_session is None
            # A session cookie may need refreshing even if the view did not
            # touch the session.
            and self._unopened_session_saves_nothing(ctx)
        )

    def _only_session_may_observe(self, ctx: t.Any) -> bool:
        """Whether nothing but the built-in cookie session could look at
        this request's response: no ``after_request`` or
        ``after_this_request`` function, no
        :data:`~demijohn.signals.request_finished` receiver, and the stock
        session interface."""
        return not (
            ctx._after_request_functions
            or request_finished.receivers
            or (
                self.after_request_funcs
                and _has_hooks(self.after_request_funcs, ctx.request)
            )
            # session_may_do_io() inlined
            or type(self.session_interface) is not SecureCookieSessionInterface
        )

    def _plain_lane_response(
        self, ctx: t.Any, rv: t.Any
    ) -> Response | PlainOutput | None:
        """The response for the value ``rv`` a plain-lane view returned, or
        ``None`` when :meth:`finalize_request` must run: an ``after_request``
        or ``after_this_request`` function, a
        :data:`~demijohn.signals.request_finished` receiver or a session
        interface other than the built-in one would see the response.

        Text, bytes and (with the default JSON provider) dicts become a
        :class:`~demijohn.output.PlainOutput`: no :class:`Response` is
        built, since nothing is there to see it.

        A response only the built-in cookie session looks at is finalized
        here: :meth:`finalize_request` would make it, save the session into
        it (the shortcut of :meth:`process_response`) and check its header
        fields, and send no signal.
        """
        if not self._only_session_may_observe(ctx):
            return None
        opened = ctx._opened_session is not None
        if opened or not self._unopened_session_saves_nothing(ctx):
            # PERF: the steps of finalize_request, driven for a session
            # write, cost a twentieth of such a request.
            response = self.make_response(rv)
            self._save_built_in_session(ctx, response)
            check_header_fields(response)
            return response
        response_class = self.response_class
        kind = type(rv)
        if kind is str or kind is bytes:
            mimetype = response_class.default_mimetype
            if mimetype is not None and sends_plainly(response_class):
                return plain_output(
                    (
                        "200 OK",
                        text_content_type(mimetype),
                        rv.encode() if kind is str else rv,
                    )
                )
        elif kind is dict:
            provider = self.json
            if _responds_plainly(provider) and sends_plainly(response_class):
                return plain_output(
                    (
                        "200 OK",
                        text_content_type(provider.mimetype),
                        provider._response_text(rv).encode(),
                    )
                )
        response = self.make_response(rv)
        check_header_fields(response)
        return response

    def _dispatch_plainly(self, ctx: t.Any) -> Response | PlainOutput | None:
        """:meth:`full_dispatch_request` through the plain lane, for the WSGI
        edge, or ``None`` when the request cannot take the lane. Its ASGI
        form is :func:`demijohn.asgi.dispatch_plainly`.

        PERF: a view called directly instead of through a step generator
        and the sync driver saves a tenth of a minimal request. What the two
        forms do is the same: the view's value goes to
        :meth:`_plain_lane_response`, its exception to
        ``handle_user_exception``, then ``finalize_request``.
        """
        target = self._plain_lane_view(ctx)
        if target is None or isinstance(target, PlainOutput):
            return target
        view, view_args = target
        if view is None:
            return t.cast(
                Response, self._run_steps(self._plain_lane_steps(ctx, None, None))
            )
        try:
            # ensure_sync() inlined; the lane is closed when it is
            # overridden.
            if is_coroutine_function(view):
                view = self.async_to_sync(view)
            rv = view(**view_args)
        except Exception as e:
            return t.cast(Response, self._run_steps(self._error_response_steps(e)))
        response = self._plain_lane_response(ctx, rv)
        if response is not None:
            return response
        return t.cast(Response, self._run_steps(self._steps("finalize_request", rv)))

    def _plain_lane_steps(
        self,
        ctx: t.Any,
        view: t.Callable[..., t.Any] | None,
        view_args: dict[str, t.Any] | None,
    ) -> Steps:
        """The plain lane as steps, from the view (or, when ``view`` is
        ``None``, from :meth:`preprocess_request` and
        :meth:`dispatch_request`) to the response: what the edges run when
        the view is not called directly, so that under ASGI a sync
        request's calls can take one trip to the worker thread."""
        try:
            if view is None:
                rv = yield from self._steps("preprocess_request")
                if rv is None:
                    rv = yield from self._steps("dispatch_request")
            else:
                rv = yield view, (), t.cast("dict[str, t.Any]", view_args)
        except Exception as e:
            rv = yield from self._steps("handle_user_exception", e)
        else:
            response = self._plain_lane_response(ctx, rv)
            if response is not None:
                return response
        return (yield from self._steps("finalize_request", rv))

    def _error_response_steps(self, error: Exception) -> Steps:
        """``handle_user_exception`` for ``error`` raised by a view, then
        ``finalize_request``: the plain lanes' response to a view error."""
        rv = yield from self._steps("handle_user_exception", error)
        return (yield from self._steps("finalize_request", rv))

    # -- the steps -----------------------------------------------------------

    def full_dispatch_request(self) -> Response:
        """Run one request from ``before_request`` to the final response.

        Sends :data:`~demijohn.signals.request_started`, runs
        :meth:`preprocess_request` and :meth:`dispatch_request`, passes an
        exception to :meth:`handle_user_exception`, and finishes with
        :meth:`finalize_request`. Called by both the WSGI and the ASGI edge.
        """
        return t.cast(Response, self._run_steps(self._full_dispatch_request_steps()))

    def _full_dispatch_request_steps(self) -> Steps:
        self._got_first_request = True
        try:
            if request_started.receivers:
                request_started.send(self, _async_wrapper=self.ensure_sync)
            rv = yield from self._steps("preprocess_request")
            if rv is None:
                rv = yield from self._steps("dispatch_request")
        except Exception as e:
            rv = yield from self._steps("handle_user_exception", e)
        return (yield from self._steps("finalize_request", rv))

    def preprocess_request(self) -> ft.ResponseReturnValue | None:
        """Run URL value preprocessors, then ``before_request`` functions.

        The application's run first, then those of the request's blueprints,
        outermost first. If a ``before_request`` function returns a value,
        it is returned and the view is skipped.
        """
        return self._run_steps(self._preprocess_request_steps())  # type: ignore[no-any-return]

    def _preprocess_request_steps(self) -> Steps:
        return (yield from self._run_before_hooks(self.before_request_funcs))

    def _run_before_hooks(
        self, hooks: dict[ft.AppOrBlueprintKey, list[t.Any]]
    ) -> Steps:
        return (
            yield from before_hook_steps(
                self._before_hooks(hooks, _cv_request.get().request)
            )
        )

    def _before_hooks(
        self, hooks: dict[ft.AppOrBlueprintKey, list[t.Any]], req: t.Any
    ) -> cabc.Iterator[t.Callable[[], t.Any]]:
        """The functions of ``hooks`` (the ``before_request`` or
        ``before_websocket`` registry) that run for ``req``, in their
        order: the application's, then those of the request's blueprints,
        outermost first. Before the first one, the URL value preprocessors
        are called, in the same order. Shared by the steps and the lanes,
        which call the functions themselves."""
        blueprints = req.blueprints
        preprocessors = self.url_value_preprocessors
        if not blueprints and None not in preprocessors:
            # PERF: an application route without URL value preprocessors
            # (the common case) needs no generator: the application's list.
            return iter(hooks.get(None, ()))
        return self._before_hooks_of(hooks, req, (None, *reversed(blueprints)))

    def _before_hooks_of(
        self,
        hooks: dict[ft.AppOrBlueprintKey, list[t.Any]],
        req: t.Any,
        names: tuple[str | None, ...],
    ) -> cabc.Iterator[t.Callable[[], t.Any]]:
        """:meth:`_before_hooks` for the registries of ``names``."""
        preprocessors = self.url_value_preprocessors
        for name in names:
            if name in preprocessors:
                for url_func in preprocessors[name]:
                    url_func(req.endpoint, req.view_args)
        for name in names:
            if name in hooks:
                yield from hooks[name]

    def dispatch_request(self) -> ft.ResponseReturnValue:
        """Call the view of the matched endpoint and return its value.

        Raises the routing exception (404, 405, redirect) if matching
        failed, answers ``OPTIONS`` automatically where the rule provides
        it, and answers 426 for a WebSocket route requested over HTTP. The
        return value is not yet a response; see :meth:`make_response`.
        """
        return self._run_steps(self._dispatch_request_steps())  # type: ignore[no-any-return]

    def _dispatch_request_steps(self) -> Steps:
        req = _cv_request.get().request
        if req.routing_exception is not None:
            if isinstance(req.routing_exception, WebsocketMismatch):
                # Only a WebSocket route matched this plain HTTP request.
                raise UpgradeRequired()
            self.raise_routing_exception(req)
        rule = t.cast(Rule, req.url_rule)
        if req.method == "OPTIONS" and getattr(
            rule, "provide_automatic_options", False
        ):
            return self.make_default_options_response()
        if rule.websocket:
            raise UpgradeRequired()
        view_args = t.cast("dict[str, t.Any]", req.view_args)
        return (yield self.view_functions[rule.endpoint], (), view_args)

    def raise_routing_exception(self, request: t.Any) -> t.NoReturn:
        """Raise the request's routing exception.

        In debug mode, a 301/302 slash redirect of a request with a body
        raises :exc:`~demijohn.debughelpers.FormDataRoutingRedirect`
        instead, because browsers would drop the body.
        """
        exc = request.routing_exception
        if (
            not self.config["DEBUG"]
            or not isinstance(exc, RequestRedirect)
            or exc.code in {307, 308}
            or request.method in {"GET", "HEAD", "OPTIONS"}
        ):
            raise exc
        from .debughelpers import FormDataRoutingRedirect

        raise FormDataRoutingRedirect(request)

    def make_default_options_response(self) -> Response:
        """The response to an automatic ``OPTIONS`` request: empty, with an
        ``Allow`` header listing the URL's methods."""
        adapter = request_ctx.url_adapter
        methods = adapter.allowed_methods()  # type: ignore[union-attr]
        response = self.response_class()
        response.allow.update(methods)
        return response

    def finalize_request(
        self,
        rv: ft.ResponseReturnValue | HTTPException,
        from_error_handler: bool = False,
    ) -> Response:
        """Turn a view's return value into the final response.

        Calls :meth:`make_response` and :meth:`process_response`, then sends
        :data:`~demijohn.signals.request_finished`. When finalising the
        response of an error handler (``from_error_handler``), a failure is
        logged instead of raised, so the error response still goes out.
        """
        steps = self._finalize_request_steps(rv, from_error_handler)
        return t.cast(Response, self._run_steps(steps))

    def _finalize_request_steps(
        self, rv: t.Any, from_error_handler: bool = False
    ) -> Steps:
        response = self.make_response(rv)
        try:
            response = yield from self._steps("process_response", response)
            check_header_fields(response)
            if request_finished.receivers:
                request_finished.send(
                    self, _async_wrapper=self.ensure_sync, response=response
                )
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception(
                "Request finalizing failed with an error while handling an error"
            )
            # Even then, a header that splits the response is never sent.
            check_header_fields(response)
        return response

    def make_response(self, rv: ft.ResponseReturnValue | HTTPException) -> Response:
        """Convert a view's return value into a :attr:`response_class`.

        Accepted values:

        - a response object, returned as it is;
        - ``str`` (encoded as UTF-8) or ``bytes``: the body;
        - ``dict`` or ``list``: JSON, through :attr:`json`;
        - an iterator or generator of ``str`` or ``bytes``, or an async
          iterable of them: a streamed body;
        - a WSGI callable, including an :exc:`HTTPException`;
        - a tuple ``(body, status)``, ``(body, headers)`` or
          ``(body, status, headers)``, where status is an ``int`` or a
          string like ``"404 Not Found"`` and headers a dict, a list of
          pairs or :class:`~werkzeug.datastructures.Headers`.

        :raises TypeError: for ``None``, a tuple of another length, or a
            value of another type, naming what was returned.
        """
        response_class = self.response_class
        kind = type(rv)
        # PERF: the most common value first, with no other question asked.
        if (kind is str or kind is bytes) and response_class._builds_plainly():
            return response_class._from_text(rv)  # type: ignore[arg-type]
        status: t.Any = None
        headers: t.Any = None
        if isinstance(rv, tuple):
            length = len(rv)
            if length == 3:
                rv, status, headers = rv  # type: ignore[misc]
            elif length == 2:
                if isinstance(rv[1], (Headers, dict, tuple, list)):
                    rv, headers = rv
                else:
                    rv, status = rv  # type: ignore[misc]
            else:
                raise TypeError(
                    "The view function did not return a valid response tuple."
                    " The tuple must have the form (body, status, headers),"
                    f" (body, status), or (body, headers); it had {length}"
                    " items."
                )
        if rv is None:
            raise TypeError(
                f"The view function for {request_ctx.request.endpoint!r} did"
                " not return a valid response. The function either returned"
                " None or ended without a return statement."
            )
        response: Response
        if not isinstance(rv, response_class):
            if isinstance(rv, (str, bytes, bytearray, cabc.Iterator)) or hasattr(
                rv, "__aiter__"
            ):
                response = response_class(rv, status=status, headers=headers)  # type: ignore[arg-type]
                status = headers = None
            elif isinstance(rv, (dict, list)):
                response = t.cast(Response, self.json.response(rv))
            elif isinstance(rv, HTTPException):
                # PERF: ask the exception for its response object instead of
                # running it as a WSGI app and parsing the output back, which
                # is what ``force_type`` does for any other callable.
                environ = request_ctx.request.environ
                response = response_class.force_type(  # type: ignore[assignment]
                    rv.get_response(environ), environ
                )
            elif isinstance(rv, BaseResponse) or callable(rv):
                try:
                    response = response_class.force_type(  # type: ignore[assignment]
                        rv,  # type: ignore[arg-type]
                        request_ctx.request.environ,
                    )
                except TypeError as e:
                    raise TypeError(
                        f"{e}\nThe view function did not return a valid"
                        " response. The return type must be a string, dict,"
                        " list, tuple with headers or status, Response"
                        " instance, or WSGI callable, but it was a"
                        f" {type(rv).__name__}."
                    ).with_traceback(sys.exc_info()[2]) from None
            else:
                raise TypeError(
                    "The view function did not return a valid response. The"
                    " return type must be a string, dict, list, tuple with"
                    " headers or status, Response instance, or WSGI callable,"
                    f" but it was a {type(rv).__name__}."
                )
        else:
            response = rv
        if status is not None:
            if isinstance(status, (str, bytes, bytearray)):
                response.status = status  # type: ignore[assignment]
            else:
                response.status_code = status
        if headers:
            response.headers.update(headers)
        return response

    def process_response(self, response: Response) -> Response:
        """Run the ``after_request`` functions and save the session.

        Functions registered with :func:`~demijohn.after_this_request` run
        first, then the blueprints' (innermost first), then the
        application's; each group in reverse registration order. Each gets
        the response and returns the one to continue with.
        """
        return t.cast(Response, self._run_steps(self._process_response_steps(response)))

    def _process_response_steps(self, response: Response) -> Steps:
        ctx = request_ctx._get_current_object()  # type: ignore[attr-defined]
        response = yield from after_hook_steps(self._after_hooks(ctx), response)
        interface = self.session_interface
        if not session_may_do_io(interface):
            # Signing a cookie is quick CPU work: do it inline.
            self._save_session(ctx, response)
            return response
        # The interface may do I/O (a Redis or database session), so opening
        # and saving are steps: under ASGI they run in the request's worker
        # thread instead of blocking the event loop.
        session_ = yield ctx._get_session, (), _NO_KWARGS
        if not interface.is_null_session(session_):
            yield interface.save_session, (self, session_, response), _NO_KWARGS
        return response

    def _after_hooks(self, ctx: t.Any) -> cabc.Iterator[ft.AfterRequestCallable[t.Any]]:
        """The functions that get the response of ``ctx``'s request, in
        their order: those registered with
        :func:`~demijohn.after_this_request`, then the ``after_request``
        functions of the request's blueprints (innermost first) and of the
        application, each group in reverse registration order. Shared by
        the steps and the lanes."""
        blueprints = ctx.request.blueprints
        if not blueprints and not ctx._after_request_functions:
            # PERF: an application route with no after_this_request function
            # (the common case) needs no generator.
            return reversed(self.after_request_funcs.get(None, ()))
        return self._after_hooks_of(ctx, blueprints)

    def _after_hooks_of(
        self, ctx: t.Any, blueprints: list[str]
    ) -> cabc.Iterator[ft.AfterRequestCallable[t.Any]]:
        """:meth:`_after_hooks` for a request with ``after_this_request``
        functions or ``blueprints``."""
        yield from ctx._after_request_functions
        after_funcs = self.after_request_funcs
        for name in chain(blueprints, (None,)):
            if name in after_funcs:
                yield from reversed(after_funcs[name])

    def _save_session(self, ctx: t.Any, response: Response) -> None:
        """Open (if needed) and save the built-in cookie session inline.

        A session nothing opened is opened only if saving it could do
        anything (see :meth:`_unopened_session_saves_nothing`). Called only
        when :func:`session_may_do_io` is false, that is, for the stock
        interface.
        """
        if not ctx.session_opened and self._unopened_session_saves_nothing(ctx):
            return
        self._save_built_in_session(ctx, response)

    def _save_built_in_session(self, ctx: t.Any, response: Response) -> None:
        """Open (if needed) and save the built-in cookie session, whether or
        not saving it can do anything."""
        interface = self.session_interface
        session_ = ctx._get_session()
        if not interface.is_null_session(session_):
            interface.save_session(self, session_, response)  # type: ignore[arg-type]

    def _unopened_session_saves_nothing(self, ctx: t.Any) -> bool:
        """Whether saving the built-in cookie session of ``ctx``, which
        nothing opened, would do nothing. Only for the stock interface
        (when :func:`session_may_do_io` is false).

        PERF: without a session cookie, the session would open empty and
        save nothing; with one, the interface tells from the cookie (see
        :meth:`~demijohn.sessions.SecureCookieSessionInterface._unopened_session_saves_nothing`).
        Either way the signature check and the JSON parsing are skipped.
        """
        cookies = ctx.request._environ_so_far().get("HTTP_COOKIE")
        if not (cookies and self.config["SESSION_COOKIE_NAME"] in cookies):
            return True
        interface = t.cast(SecureCookieSessionInterface, self.session_interface)
        return interface._unopened_session_saves_nothing(self, ctx.request)  # type: ignore[arg-type]

    def do_teardown_request(self, exc: BaseException | None = _sentinel) -> None:
        """Run the ``teardown_request`` functions, then send
        :data:`~demijohn.signals.request_tearing_down`.

        Called when the request context is popped, with the unhandled
        exception or ``None``. Blueprint functions run before the
        application's, each group in reverse registration order. Every
        function runs even if an earlier one raised; the first error is
        re-raised afterwards.
        """
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        self._run_steps(self._do_teardown_request_steps(exc))

    def _do_teardown_request_steps(self, exc: BaseException | None) -> Steps:
        yield from self._teardown_steps(self._request_teardowns(request), exc)
        if request_tearing_down.receivers:
            request_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def do_teardown_appcontext(self, exc: BaseException | None = _sentinel) -> None:
        """Run the ``teardown_appcontext`` functions in reverse order, then
        send :data:`~demijohn.signals.appcontext_tearing_down`.

        Called when the application context is popped. Every function runs
        even if an earlier one raised; the first error is re-raised
        afterwards.
        """
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        self._run_steps(self._do_teardown_appcontext_steps(exc))

    def _do_teardown_appcontext_steps(self, exc: BaseException | None) -> Steps:
        yield from self._teardown_steps(reversed(self.teardown_appcontext_funcs), exc)
        if appcontext_tearing_down.receivers:
            appcontext_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def _request_teardowns(self, req: t.Any) -> list[ft.TeardownCallable]:
        """The ``teardown_request`` functions for ``req``, in the order they
        run: the blueprints' (innermost first), then the application's,
        each group in reverse registration order."""
        funcs = self.teardown_request_funcs
        return [
            func
            for name in chain(req.blueprints, (None,))
            if name in funcs
            for func in reversed(funcs[name])
        ]

    def _teardown_steps(
        self, callbacks: t.Iterable[ft.TeardownCallable], exc: BaseException | None
    ) -> Steps:
        # A failing clean-up must not skip the others (a database session
        # left open because a cache clean-up raised), so collect errors.
        errors: list[Exception] = []
        for func in callbacks:
            try:
                yield func, (exc,), _NO_KWARGS
            except Exception as e:
                errors.append(e)
        if errors:
            self._raise_teardown_errors(errors)

    def _raise_teardown_errors(self, errors: list[Exception]) -> t.NoReturn:
        """Log every teardown error but the first, and raise the first."""
        for extra in errors[1:]:
            self.logger.error(
                "Another teardown function failed as well", exc_info=extra
            )
        raise errors[0]

    # -- websockets --------------------------------------------------------

    def full_dispatch_websocket(self) -> ft.ResponseReturnValue | None:
        """Run one WebSocket connection's hooks and handler.

        Runs :meth:`preprocess_websocket` and :meth:`dispatch_websocket`,
        passing an exception to :meth:`handle_user_exception`. Returns
        ``None`` when the handler ran to its end (or the client
        disconnected), or a response value, which the ASGI edge sends as the
        HTTP response refusing the connection (before it was accepted).
        """
        return self._run_steps(self._full_dispatch_websocket_steps())  # type: ignore[no-any-return]

    def _full_dispatch_websocket_steps(self) -> Steps:
        from .websockets import WebsocketDisconnect

        self._got_first_request = True
        try:
            rv = yield from self._steps("preprocess_websocket")
            if rv is None:
                rv = yield from self._steps("dispatch_websocket")
        except WebsocketDisconnect:
            return None
        except Exception as e:
            rv = yield from self._steps("handle_user_exception", e)
        return rv

    def preprocess_websocket(self) -> ft.ResponseReturnValue | None:
        """Run URL value preprocessors, then ``before_websocket`` functions,
        in the order :meth:`preprocess_request` uses. A returned value
        refuses the connection with that response."""
        return self._run_steps(self._preprocess_websocket_steps())  # type: ignore[no-any-return]

    def _preprocess_websocket_steps(self) -> Steps:
        return (yield from self._run_before_hooks(self.before_websocket_funcs))

    def dispatch_websocket(self) -> ft.ResponseReturnValue | None:
        """Call the WebSocket handler of the matched endpoint.

        Raises the routing exception when matching failed (for example an
        HTTP-only URL requested as a WebSocket: 400).
        """
        return self._run_steps(self._dispatch_websocket_steps())  # type: ignore[no-any-return]

    def _dispatch_websocket_steps(self) -> Steps:
        req = request_ctx.request
        if req.routing_exception is not None:
            raise req.routing_exception
        rule = t.cast(Rule, req.url_rule)
        view_args = t.cast("dict[str, t.Any]", req.view_args)
        return (yield self.view_functions[rule.endpoint], (), view_args)

    # -- errors ------------------------------------------------------------

    def _find_error_handler(
        self, e: Exception, blueprints: list[str]
    ) -> ft.ErrorHandlerCallable | None:
        """The registered handler for ``e``: by status code before by class
        only, blueprint before application, nearest class in the MRO first."""
        # PERF: what _get_exc_class_and_code(type(e)) answers for the class of
        # an exception, without the checks a key being registered needs.
        exc_class = type(e)
        code = exc_class.code if issubclass(exc_class, HTTPException) else None
        names = (*blueprints, None)
        spec = self.error_handler_spec
        for c in (code, None) if code is not None else (None,):
            for name in names:
                handler_map = spec[name][c]
                if not handler_map:
                    continue
                for cls in exc_class.__mro__:
                    handler = handler_map.get(cls)
                    if handler is not None:
                        return handler
        return None

    def trap_http_exception(self, e: Exception) -> bool:
        """Whether an HTTP exception should be raised like any other error
        instead of being handled as a response.

        True for all HTTP exceptions with :data:`TRAP_HTTP_EXCEPTIONS`; for
        bad-request key errors in debug mode, or with
        :data:`TRAP_BAD_REQUEST_ERRORS` (which defaults to trapping them
        only in debug mode).
        """
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        if (
            trap_bad_request is None
            and self.config["DEBUG"]
            and isinstance(e, BadRequestKeyError)
        ):
            return True
        if trap_bad_request:
            return isinstance(e, BadRequest)
        return False

    def should_ignore_error(self, error: BaseException | None) -> bool:
        """Whether teardown should be told there was no error. Returns
        ``False``; override it to hide some errors from teardown functions."""
        return False

    def handle_http_exception(
        self, e: HTTPException
    ) -> HTTPException | ft.ResponseReturnValue:
        """Handle an :exc:`~werkzeug.exceptions.HTTPException`: call its
        registered error handler, or return it to be sent as a response.

        Routing exceptions (slash redirects) and exceptions without a code
        are returned as they are, without calling handlers.
        """
        return self._run_steps(self._handle_http_exception_steps(e))  # type: ignore[no-any-return]

    def _handle_http_exception_steps(self, e: HTTPException) -> Steps:
        if e.code is None or isinstance(e, RoutingException):
            return e
        handler = self._find_error_handler(e, request.blueprints)
        if handler is None:
            return e
        return (yield handler, (e,), _NO_KWARGS)

    def handle_user_exception(
        self, e: Exception
    ) -> HTTPException | ft.ResponseReturnValue:
        """Handle an exception raised by a view or a request hook.

        HTTP exceptions go to :meth:`handle_http_exception` unless
        :meth:`trap_http_exception` says to trap them. Other exceptions go
        to their registered handler; without one, the exception is re-raised
        and reaches :meth:`handle_exception`.
        """
        return self._run_steps(self._handle_user_exception_steps(e))  # type: ignore[no-any-return]

    def _handle_user_exception_steps(self, e: Exception) -> Steps:
        if isinstance(e, BadRequestKeyError) and (
            self.config["DEBUG"] or self.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            e.show_exception = True
        if isinstance(e, HTTPException) and not self.trap_http_exception(e):
            return (yield from self._steps("handle_http_exception", e))
        handler = self._find_error_handler(e, request.blueprints)
        if handler is None:
            raise e
        return (yield handler, (e,), _NO_KWARGS)

    def handle_exception(self, e: Exception) -> Response:
        """Handle an exception no error handler dealt with: a 500.

        Sends :data:`~demijohn.signals.got_request_exception`. If
        :data:`PROPAGATE_EXCEPTIONS` is true (by default in testing and
        debug mode), re-raises the exception. Otherwise logs it with
        :meth:`log_exception` and responds with
        :exc:`~werkzeug.exceptions.InternalServerError`, through its error
        handler if one is registered (the handler always receives the
        ``InternalServerError``, with the original exception as
        ``original_exception``).
        """
        return t.cast(Response, self._run_steps(self._handle_exception_steps(e)))

    def _handle_exception_steps(self, e: Exception) -> Steps:
        if got_request_exception.receivers:
            got_request_exception.send(
                self, _async_wrapper=self.ensure_sync, exception=e
            )
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        if propagate is None:
            propagate = self.config["TESTING"] or self.config["DEBUG"]
        if propagate:
            raise e
        self.log_exception((type(e), e, e.__traceback__))
        server_error: t.Any = InternalServerError(original_exception=e)
        handler = self._find_error_handler(server_error, request.blueprints)
        if handler is not None:
            server_error = yield handler, (server_error,), _NO_KWARGS
        return (yield from self._steps("finalize_request", server_error, True))

    def log_exception(self, exc_info: _ExcInfo) -> None:
        """Log an unhandled exception at error level on :attr:`logger`.
        Called by :meth:`handle_exception` when it does not propagate."""
        self.logger.error(
            f"Exception on {request.path} [{request.method}]", exc_info=exc_info
        )

    # -- sync and async --------------------------------------------------

    def ensure_sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """Return ``func`` in a form synchronous code can call: unchanged
        when it is a plain function, wrapped with :meth:`async_to_sync` when
        it is a coroutine function.

        The WSGI path calls every view, hook and error handler through it,
        so override it to change how async code runs under WSGI. The ASGI
        path awaits coroutine functions directly instead.
        """
        if is_coroutine_function(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(
        self, func: t.Callable[..., t.Coroutine[t.Any, t.Any, t.Any]]
    ) -> t.Callable[..., t.Any]:
        """Wrap a coroutine function to run to completion when called; see
        :mod:`demijohn.concurrency`."""
        return _async_to_sync(func)


#: The methods the plain lane stands in for; a subclass overriding one of
#: them always runs the regular steps.
_LANE_METHODS = (
    "full_dispatch_request",
    "preprocess_request",
    "dispatch_request",
    "finalize_request",
    "process_response",
    "make_response",
    "ensure_sync",
)

#: The error handling the plain lane's 404 stands in for.
_LANE_ERROR_METHODS = (
    "handle_user_exception",
    "handle_http_exception",
    "trap_http_exception",
)

_STEP_IMPLEMENTATIONS: dict[str, t.Callable[..., Steps]] = {
    "full_dispatch_request": Lifecycle._full_dispatch_request_steps,
    "preprocess_request": Lifecycle._preprocess_request_steps,
    "dispatch_request": Lifecycle._dispatch_request_steps,
    "finalize_request": Lifecycle._finalize_request_steps,
    "process_response": Lifecycle._process_response_steps,
    "handle_user_exception": Lifecycle._handle_user_exception_steps,
    "handle_http_exception": Lifecycle._handle_http_exception_steps,
    "handle_exception": Lifecycle._handle_exception_steps,
    "do_teardown_request": Lifecycle._do_teardown_request_steps,
    "do_teardown_appcontext": Lifecycle._do_teardown_appcontext_steps,
    "full_dispatch_websocket": Lifecycle._full_dispatch_websocket_steps,
    "preprocess_websocket": Lifecycle._preprocess_websocket_steps,
    "dispatch_websocket": Lifecycle._dispatch_websocket_steps,
}

_SHORTCUTS: dict[str, t.Callable[..., _Finished | None]] = {
    "preprocess_request": Lifecycle._shortcut_preprocess,
    "process_response": Lifecycle._shortcut_process_response,
    "do_teardown_request": Lifecycle._shortcut_teardown_request,
    "do_teardown_appcontext": Lifecycle._shortcut_teardown_appcontext,
}
