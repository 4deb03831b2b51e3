"""What both protocol lanes share: when an application may take them, the
plain body a view's value becomes, the request hooks called directly, and
unbinding the contexts.

The WSGI lane (in :meth:`Demijohn.wsgi_app <demijohn.Demijohn.wsgi_app>`)
and the ASGI lane (:mod:`demijohn.asgi_lane`) serve the common request
without the general edges' layers: a matched view, with the application's
and its blueprints' ``before_request``, ``after_request`` and teardown
functions around it, and a text, bytes or dict value nothing else looks
at sent as it is. Both ask :func:`lane_open` before they start and hand
anything else to the general path's own functions. The hooks run in the
order the lifecycle's own iterators give (``Lifecycle._before_hooks``,
``Lifecycle._after_hooks``, ``Lifecycle._request_teardowns``), so the
lanes and the steps cannot disagree on it.

PERF: each question here is asked for every request (hooks and signal
receivers may be added at any time); none is cached.
"""

from __future__ import annotations

import typing as t
from types import FunctionType

from werkzeug.exceptions import NotFound

from .ctx import AppContext
from .globals import _cv_app, _cv_request
from .lifecycle import _CO_COROUTINE, _LANE_METHODS, _responds_plainly
from .output import sends_plainly, text_content_type
from .routing import host_binds
from .sessions import SecureCookieSessionInterface
from .signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    request_finished,
    request_started,
    request_tearing_down,
)
from .wrappers import decode_wsgi_text

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .app import Demijohn
    from .ctx import RequestContext
    from .routing import FastRouter

#: The application methods the lane stands in for: the lifecycle steps of
#: the plain lane and the context factories. Replacing one on the instance
#: closes the lane as overriding it in a subclass does.
LANE_APP_METHODS = frozenset(
    (
        *_LANE_METHODS,
        "app_context",
        "request_context",
        "do_teardown_request",
        "do_teardown_appcontext",
    )
)


def lane_open(app: Demijohn) -> bool:
    """Whether the application registers nothing the lanes would skip: no
    receiver of a signal sent after the view (``request_finished``) or
    from the teardown (``request_tearing_down``, ``appcontext_popped``,
    ``appcontext_tearing_down``), the built-in session interface, and no
    override of the lifecycle steps the lanes stand in for or of the
    context factories.

    Hooks do not close the lanes (they call them, see
    :func:`call_before_hooks`), and neither do ``appcontext_pushed`` and
    ``request_started`` receivers: the lanes send those two signals where
    the context push and :meth:`~demijohn.Demijohn.full_dispatch_request`
    do (see :func:`push_lane_contexts` and :func:`send_request_started`).
    """
    return (
        app._lane_class
        and (
            not app._replaced_methods
            or app._replaced_methods.isdisjoint(LANE_APP_METHODS)
        )
        and not (
            request_finished.receivers
            or request_tearing_down.receivers
            or appcontext_popped.receivers
            or appcontext_tearing_down.receivers
        )
        and type(app.session_interface) is SecureCookieSessionInterface
    )


def push_lane_contexts(app: Demijohn, ctx: RequestContext) -> AppContext | None:
    """Bind ``ctx`` as :meth:`RequestContext.push
    <demijohn.ctx.RequestContext.push>` does, without matching the URL (the
    lanes match once the contexts are bound): an application context of
    its own first, unless one for ``app`` is bound already, sending
    ``appcontext_pushed`` when it has receivers. Returns the application
    context it pushed, or ``None``."""
    app_ctx: AppContext | None = _cv_app.get(None)
    if app_ctx is None or app_ctx.app is not app:
        app_ctx = AppContext(app)
        if appcontext_pushed.receivers:
            app_ctx.push()  # sends the signal, unbinding again if it fails
        else:
            app_ctx._cv_tokens.append(_cv_app.set(app_ctx))
    else:
        app_ctx = None
    ctx._cv_tokens.append((_cv_request.set(ctx), app_ctx))
    return app_ctx


def send_request_started(app: Demijohn) -> None:
    """Send ``request_started`` as
    :meth:`~demijohn.Demijohn.full_dispatch_request` does before the
    ``before_request`` functions. The lanes call it when the signal has
    receivers."""
    request_started.send(app, _async_wrapper=app.ensure_sync)


def plain_body(
    app: Demijohn, ctx: RequestContext, request: t.Any, rv: t.Any
) -> tuple[tuple[str, bytes], bytes] | None:
    """The ``Content-Type`` header value (as text and as bytes) and the
    body of the 200 response ``Lifecycle._plain_lane_response`` would send
    as a
    :class:`~demijohn.output.PlainOutput` for a text, bytes or dict value,
    when nothing else looks at the response (the view opened no session,
    left no ``after_this_request`` function, and got no session cookie
    that may need refreshing); ``None`` when it must be asked."""
    kind = type(rv)
    if (
        (kind is not str and kind is not bytes and kind is not dict)
        or ctx._opened_session is not None
        or ctx._after_request_functions
        or request_finished.receivers
    ):
        return None
    # request._environ_so_far(), inlined.
    cookies = request.__dict__.get("environ", request._known_environ).get("HTTP_COOKIE")
    if cookies and app.config["SESSION_COOKIE_NAME"] in cookies:
        return None
    response_class = app.response_class
    if kind is dict:
        provider = app.json
        if not _responds_plainly(provider):
            return None
        content_type = _plain_content_type(response_class, provider.mimetype)
        if content_type is None:
            return None
        return content_type, provider._response_text(rv).encode()
    content_type = _plain_content_type(response_class, response_class.default_mimetype)
    if content_type is None:
        return None
    return content_type, rv.encode() if kind is str else rv


#: The Content-Type header value of plain output by response class and
#: mimetype; ``None`` where the class does not send plainly.
_PLAIN_CONTENT_TYPES: dict[tuple[type, str | None], tuple[str, bytes] | None] = {}


def _plain_content_type(
    response_class: type, mimetype: str | None
) -> tuple[str, bytes] | None:
    """The ``Content-Type`` header value (as text and as bytes) a
    :class:`~demijohn.output.PlainOutput` of ``mimetype`` sends for
    ``response_class``, or ``None`` when that class does not send plainly
    (see :func:`~demijohn.output.sends_plainly`) or there is no mimetype.

    PERF: one lookup for the two questions, cached by class and mimetype.
    """
    key = (response_class, mimetype)
    try:
        return _PLAIN_CONTENT_TYPES[key]
    except KeyError:
        pass
    content_type = None
    if mimetype is not None and sends_plainly(response_class):
        text = text_content_type(mimetype)
        content_type = (text, text.encode("latin-1"))
    if len(_PLAIN_CONTENT_TYPES) < 64:
        _PLAIN_CONTENT_TYPES[key] = content_type
    return content_type


#: The URL schemes the router answers for (as in
#: :meth:`RequestContext.match_request
#: <demijohn.ctx.RequestContext.match_request>`).
_HTTP = frozenset({"http", "https"})


def lane_view(
    app: Demijohn,
    ctx: RequestContext,
    router: FastRouter,
    environ: t.Mapping[str, t.Any],
    coroutine: bool,
) -> tuple[t.Callable[..., t.Any], dict[str, t.Any]] | None:
    """Match the bound request's URL and return the view the lane calls
    itself, with its arguments; ``None`` when the general path must
    dispatch.

    Matching is :meth:`RequestContext.match_request
    <demijohn.ctx.RequestContext.match_request>` for the router's answers
    (a rule, or a path no rule matches), run with the contexts bound since
    custom converters may use :data:`~demijohn.current_app`; without an
    answer (or for a host Werkzeug would refuse to bind, see
    :func:`~demijohn.routing.host_binds`), ``match_request`` itself runs.
    The view must be a plain
    function (an ``async def`` one when ``coroutine``) for a rule that is
    not a WebSocket's, and not the automatic ``OPTIONS`` answer.

    :param environ: the request's environ, or what its source knows of it.
    """
    request = ctx.request
    method = request.method
    hit = None
    if (
        not environ.get("HTTP_UPGRADE")
        and environ.get("wsgi.url_scheme") in _HTTP
        and host_binds(environ.get("HTTP_HOST"))
    ):
        path = environ.get("PATH_INFO")
        if path is None:
            path = "/"
        elif not path.isascii():
            path = decode_wsgi_text(path)
        hit = router.match(path, method)
        if hit is None and router.misses(path):
            request.routing_exception = NotFound()
    if hit is None:
        if request.routing_exception is None:
            ctx.match_request()
        return None
    rule, view_args = hit
    request.url_rule = rule
    request.view_args = view_args
    view = app.view_functions[rule.endpoint]
    if (
        type(view) is not FunctionType
        or bool(view.__code__.co_flags & _CO_COROUTINE) is not coroutine
        or rule.websocket
        # A Rule added to url_map directly has no such attribute.
        or (method == "OPTIONS" and getattr(rule, "provide_automatic_options", False))
    ):
        return None
    if not app._got_first_request:
        app._got_first_request = True
    return view, view_args


def call_before_hooks(app: Demijohn, request: t.Any) -> t.Any:
    """What :meth:`~demijohn.Demijohn.preprocess_request` does, with each
    function called directly (as :meth:`~demijohn.Demijohn.ensure_sync`
    returns it) instead of through its steps, in the order
    ``Lifecycle._before_hooks`` gives. Returns the first value a
    ``before_request`` function returns, or ``None``. For the WSGI lane,
    whose applications override none of those steps."""
    for before_func in app._before_hooks(app.before_request_funcs, request):
        rv = _sync(app, before_func)()
        if rv is not None:
            return rv
    return None


def call_after_hooks(app: Demijohn, ctx: RequestContext, response: t.Any) -> t.Any:
    """What :meth:`~demijohn.Demijohn.process_response` does for the
    built-in session interface, with each function called directly: the
    functions ``Lifecycle._after_hooks`` gives, in its order, then the
    session saved. Returns the response the last function returned."""
    for func in app._after_hooks(ctx):
        response = _sync(app, func)(response)
    app._save_session(ctx, response)
    return response


def view_args_after_hooks(request: t.Any, rule: t.Any) -> dict[str, t.Any] | None:
    """The arguments to call the matched view with once the
    ``before_request`` functions ran without returning a value: the
    request's ``view_args`` as the URL value preprocessors left them.
    ``None`` when a hook changed what
    :meth:`~demijohn.Demijohn.dispatch_request` would call (another
    ``rule`` than the one matched, a routing exception, no arguments): the
    dispatch step must then decide."""
    args: dict[str, t.Any] | None = request.view_args
    if request.url_rule is rule and request.routing_exception is None:
        return args
    return None


_TEARDOWN_METHODS = ("do_teardown_request", "do_teardown_appcontext")


def unbind(
    app: Demijohn,
    ctx: RequestContext,
    app_ctx: AppContext | None,
    error: BaseException | None = None,
    *,
    tear_down: bool = False,
) -> bool:
    """Pop a lane's request context (and ``app_ctx``, the application
    context the lane pushed, if any) when the lane may (see
    :func:`lane_pops`); ``False`` (having done nothing) when the pop steps
    must run instead, or (unless ``tear_down``) there is a teardown
    function to run.

    With ``tear_down`` (the WSGI lane), the ``teardown_request`` and
    ``teardown_appcontext`` functions are called here, through
    :meth:`~demijohn.Demijohn.ensure_sync`, with ``error``: what
    :meth:`RequestContext.pop <demijohn.ctx.RequestContext.pop>` does, in
    its order, without driving its steps. The ASGI lane awaits them
    instead (see ``demijohn.asgi_lane``), between the same two pops
    (:func:`pop_lane_request` and :func:`pop_lane_app`).
    """
    if not lane_pops(app, ctx):
        return False
    request_funcs = app.teardown_request_funcs
    app_funcs = app.teardown_appcontext_funcs
    if (request_funcs or app_funcs) and not tear_down:
        return False
    try:
        if request_funcs:
            _call_teardowns(app, app._request_teardowns(ctx.request), error)
        ctx.request.close()
    finally:
        popped = pop_lane_request(ctx)
        if app_ctx is not None:
            try:
                if app_funcs:
                    _call_teardowns(app, reversed(app_funcs), error)
            finally:
                pop_lane_app(app_ctx)
    if popped is not ctx:
        ctx._check_popped(popped)
    return True


def lane_pops(app: Demijohn, ctx: RequestContext) -> bool:
    """Whether a lane may pop its request context itself: the pop sends no
    signal (no teardown signal has a receiver), undoes the only push, no
    stream still holds the context, and no teardown step is replaced on
    the instance. Otherwise the context's pop steps must run."""
    return not (
        len(ctx._cv_tokens) != 1
        or ctx._streams_open
        or request_tearing_down.receivers
        or appcontext_tearing_down.receivers
        or (
            app._replaced_methods
            and not app._replaced_methods.isdisjoint(_TEARDOWN_METHODS)
        )
    )


def pop_lane_request(ctx: RequestContext) -> t.Any:
    """Unbind a lane's request context (after its teardown functions ran
    and its request was closed); returns the context that was bound."""
    popped = _cv_request.get()
    _cv_request.reset(ctx._cv_tokens.pop()[0])
    ctx.request._end_environ()
    return popped


def pop_lane_app(app_ctx: AppContext) -> None:
    """Unbind the application context a lane pushed (after its teardown
    functions ran), finishing the pop as :meth:`AppContext.pop
    <demijohn.ctx.AppContext.pop>` does when there is more to do than the
    unbinding: a worker thread to release, a signal to send, a check that
    fails."""
    popped = _cv_app.get()
    _cv_app.reset(app_ctx._cv_tokens.pop())
    if (
        popped is not app_ctx
        or app_ctx.worker is not None
        or appcontext_popped.receivers
    ):
        app_ctx._finish_pop(popped)


def _call_teardowns(
    app: Demijohn, callbacks: t.Iterable[t.Any], error: BaseException | None
) -> None:
    """Run teardown functions as ``Lifecycle._teardown_steps`` does: every
    one runs, and the first error is raised after the others ran."""
    errors: list[Exception] = []
    for func in callbacks:
        try:
            _sync(app, func)(error)
        except Exception as e:
            errors.append(e)
    if errors:
        app._raise_teardown_errors(errors)


def _sync(app: Demijohn, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """``app.ensure_sync(func)``, which the lanes' applications keep (it is
    one of the methods they stand in for): a plain function as it is.

    PERF: answered here for plain functions, which saves two calls per
    hook."""
    if type(func) is FunctionType and not func.__code__.co_flags & _CO_COROUTINE:
        return func
    return app.ensure_sync(func)


__all__ = [
    "LANE_APP_METHODS",
    "call_after_hooks",
    "call_before_hooks",
    "lane_open",
    "lane_view",
    "plain_body",
    "push_lane_contexts",
    "send_request_started",
    "lane_pops",
    "pop_lane_app",
    "pop_lane_request",
    "unbind",
    "view_args_after_hooks",
]
