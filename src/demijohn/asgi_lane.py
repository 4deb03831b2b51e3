"""The ASGI application, with its lane for the common HTTP request.

:meth:`Demijohn.asgi_app <demijohn.Demijohn.asgi_app>` is :func:`asgi_app`
(the application adopts it as that method). For the common HTTP request,
it does in one coroutine what the general edge does through its layers
(:class:`~demijohn.asgi.ASGIHTTPConnection`, its ``read_body`` and
``handle``, :func:`~demijohn.asgi.dispatch_plainly`, the contexts' ``push``
and ``pop``): it makes the request context, binds it and the application
context (a request with a body first receives it, as
:meth:`~demijohn.asgi.ASGIHTTPConnection.read_body` does), matches the URL
with the application's router, runs the
``before_request`` functions (and URL value preprocessors), awaits the
view, runs the ``after_request`` functions, sends the response (a text,
bytes or JSON value nothing else looks at as it is, in two ASGI
messages), runs the teardown functions and unbinds the contexts. The
hooks come in the order of the lifecycle's own iterators; ``async def``
ones are awaited here, and from the first sync one on the rest run as
the lifecycle's step generators, batched (see
:func:`~demijohn.asgi.run_steps_async`), so their sync calls' trips to
the worker thread are the general path's. Anything else goes the general
way, which stays the reference for what a request does:

* before the contexts are bound, the whole request goes to the
  application's :attr:`~demijohn.Demijohn.asgi_http_class` when that is
  not the built-in class, the scope's headers are not one lower-case name
  each, or the application registers anything
  the lane does not run: a receiver of ``request_finished`` or of a
  teardown signal (see :func:`~demijohn.lane.lane_open`), a session
  interface other than the built-in one, an override of
  a lifecycle step or of a context factory, a request class that needs its
  environ at once, or a URL map whose router cannot answer;
* once they are bound, every other case (no URL match, a synchronous view,
  an exception, a session the view opened, an ``after_this_request``
  function, a response object, a stream) continues with the general
  edge's own functions from that point, and so do the pop steps when a
  stream still holds the context or a teardown signal has a receiver.

The questions and steps it shares with the WSGI lane are in
:mod:`demijohn.lane`.

PERF: the general edge costs about twice a Starlette request for the
minimal one (a view returning text): its layers are a dozen Python calls
and several coroutines, each asking again what this lane asks once per
request. Every condition is still checked per request, since hooks and
signal receivers may be added at any time; none is cached.
"""

from __future__ import annotations

import typing as t
from itertools import chain

from .asgi import (
    _BODILESS_METHODS,
    _HTTP_1,
    ASGIHTTPConnection,
    close_spooled_body,
    dispatch_generally,
    respond_to_view_error,
    run_steps_async,
    send_buffered_response,
    send_plain_output,
    serve_asgi,
    settle_request,
)
from .asgi_environ import ScopeEnviron, header_table
from .ctx import RequestContext
from .lane import (
    lane_open,
    lane_pops,
    lane_view,
    plain_body,
    pop_lane_app,
    pop_lane_request,
    push_lane_contexts,
    send_request_started,
    unbind,
    view_args_after_hooks,
)
from .lifecycle import after_hook_steps, before_hook_steps, is_coroutine_function
from .output import PlainOutput
from .signals import request_started
from .wrappers import check_header_fields

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .app import Demijohn
    from .asgi import Receive, Scope, Send
    from .ctx import AppContext

_HTTP = frozenset({"http", "https"})


async def asgi_app(app: Demijohn, scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI 3 application: serve one connection.

    HTTP requests run the same lifecycle as
    :meth:`~demijohn.Demijohn.wsgi_app`; WebSocket connections run the
    handlers registered with :meth:`~demijohn.Demijohn.websocket`; the
    lifespan protocol runs :meth:`~demijohn.Demijohn.startup` and
    :meth:`~demijohn.Demijohn.shutdown`. Wrap this attribute to apply ASGI
    middleware (``app.asgi_app = Middleware(app.asgi_app)``).

    HTTP requests go to :attr:`~demijohn.Demijohn.asgi_http_class`; with
    the built-in class, those that qualify take the lane of
    :mod:`demijohn.asgi_lane` instead.
    """
    if scope["type"] != "http":
        await serve_asgi(app, scope, receive, send)
        return
    http_class = app.asgi_http_class
    # Headers in another iterable go the general way, which lists them.
    table = (
        header_table(scope)
        if type(scope.get("headers")) is list and http_class is ASGIHTTPConnection
        else None
    )
    if (
        table is None
        or not lane_open(app)
        # The request is made from the scope, its environ built on first use.
        or not app.request_class._lazy_environ
    ):
        await http_class(app, scope)(receive, send)
        return
    router = app._unbound_router()
    if router is None:
        await http_class(app, scope)(receive, send)
        return

    stream: t.IO[bytes] | None = None
    length: int | None = None
    if (
        b"content-length" in table
        or b"transfer-encoding" in table
        or scope.get("method") not in _BODILESS_METHODS
        or scope.get("http_version") not in _HTTP_1
    ):
        # A body to receive first, as the general edge receives it.
        connection = ASGIHTTPConnection(app, scope)
        connection.headers = table
        received = await connection.receive_body(receive, send)
        if received is None:
            return
        stream, length = received

    # What ASGIHTTPConnection.handle and app._request_context_from make.
    source = ScopeEnviron(scope, stream, length, table)
    request = app.request_class._with_environ_source(source)
    request.json_module = app.json
    ctx = RequestContext._binding_lazily(app, request)

    try:
        app_ctx = push_lane_contexts(app, ctx)
    except BaseException:
        # An appcontext_pushed receiver raised: nothing is bound.
        if stream is not None:
            close_spooled_body(stream)
        raise

    error: BaseException | None = None
    try:
        try:
            target = lane_view(app, ctx, router, source.known, True)
            if target is None:
                response = await dispatch_generally(app, ctx)
            else:
                view, view_args = target
                # The plain lane (see demijohn.asgi.dispatch_plainly),
                # with an async def view awaited here.
                try:
                    if request_started.receivers:  # PERF: as in wsgi_app
                        send_request_started(app)
                    if app.before_request_funcs or app.url_value_preprocessors:
                        rv = await _hooks_then_view(app, request, view)
                    else:
                        rv = await view(**view_args)
                except Exception as e:
                    response = await respond_to_view_error(app, e)
                else:
                    if app.after_request_funcs or ctx._after_request_functions:
                        response = await _finalize(app, ctx, rv)
                    else:
                        plain = plain_body(app, ctx, request, rv)
                        if plain is not None:
                            # send_plain_output, inlined, for a 200.
                            content_type, body = plain
                            await send(
                                {
                                    "type": "http.response.start",
                                    "status": 200,
                                    "headers": [
                                        (b"content-type", content_type[1]),
                                        (
                                            b"content-length",
                                            str(len(body)).encode("ascii"),
                                        ),
                                    ],
                                }
                            )
                            # _sent_method(), inlined.
                            head = (source.environ or source.known)[
                                "REQUEST_METHOD"
                            ] == "HEAD"
                            await send(
                                {
                                    "type": "http.response.body",
                                    "body": b"" if head else body,
                                    "more_body": False,
                                }
                            )
                            return
                        response = app._plain_lane_response(ctx, rv)
                        if response is None:
                            response = await run_steps_async(
                                app, app._steps("finalize_request", rv), batched=True
                            )
        except Exception as e:
            error = e
            response = await run_steps_async(
                app, app._steps("handle_exception", e), batched=True
            )
        method = _sent_method(source)
        if type(response) is PlainOutput:
            await send_plain_output(send, response, method)
        elif not await send_buffered_response(send, response, method):
            await ASGIHTTPConnection(app, scope).send_response(
                response, source.build(), send
            )
    except BaseException as e:
        if error is None:
            error = e
        raise
    finally:
        try:
            error = settle_request(app, ctx, source, error)
            if app.teardown_request_funcs or app.teardown_appcontext_funcs:
                unbound = await _tear_down_and_unbind(app, ctx, app_ctx, error)
            else:
                unbound = unbind(app, ctx, app_ctx)
            if not unbound:
                # A stream holding the context, or a signal to send.
                await run_steps_async(app, ctx._pop_steps(error))
        finally:
            if stream is not None:
                close_spooled_body(stream)


def _sent_method(source: ScopeEnviron) -> str:
    """The request method the response is sent for: the environ's, where
    something built the environ (a hook may have changed it, as under
    WSGI), else the scope's."""
    method: str = (source.environ or source.known)["REQUEST_METHOD"]
    return method


async def _hooks_then_view(
    app: Demijohn, request: t.Any, view: t.Callable[..., t.Any]
) -> t.Any:
    """Run the ``before_request`` functions (and URL value preprocessors)
    as :meth:`~demijohn.Demijohn.preprocess_request` does, then, unless one
    returned a value, await the matched ``view``: what the plain lane's
    steps do, without the step dispatch around them.

    PERF: a step generator and its driver cost more than the hook they
    call, so ``async def`` functions are awaited here, as the steps would
    await them (see :func:`~demijohn.asgi.run_steps_async`); from the
    first sync function on, the rest run as steps, so that a run of sync
    ones takes one trip to the worker thread."""
    rule = request.url_rule
    funcs = app._before_hooks(app.before_request_funcs, request)
    for func in funcs:
        if not is_coroutine_function(func):
            rv = await run_steps_async(
                app, before_hook_steps(chain((func,), funcs)), batched=True
            )
            if rv is not None:
                return rv
            break
        rv = await func()
        if rv is not None:
            return rv
    args = view_args_after_hooks(request, rule)
    if args is not None:
        return await view(**args)
    return await run_steps_async(app, app._steps("dispatch_request"), batched=True)


async def _finalize(app: Demijohn, ctx: RequestContext, rv: t.Any) -> t.Any:
    """:meth:`~demijohn.Demijohn.finalize_request` for the view's value,
    for an application the lane serves (no override, no signal receiver,
    the built-in session interface): the response made, the
    ``after_request`` functions run, the session saved (inline, as
    ``Lifecycle._process_response_steps`` saves the built-in cookie
    session) and the header fields checked. The functions are awaited
    or run as steps as in :func:`_hooks_then_view`."""
    response = app.make_response(rv)
    funcs = app._after_hooks(ctx)
    for func in funcs:
        if not is_coroutine_function(func):
            response = await run_steps_async(
                app, after_hook_steps(chain((func,), funcs), response), batched=True
            )
            break
        response = await func(response)
    app._save_session(ctx, response)
    check_header_fields(response)
    return response


async def _tear_down_and_unbind(
    app: Demijohn,
    ctx: RequestContext,
    app_ctx: AppContext | None,
    error: BaseException | None,
) -> bool:
    """What :func:`~demijohn.lane.unbind` does with ``tear_down`` under
    WSGI, with the teardown functions run as the pop steps run them (an
    ``async def`` one awaited, any other through
    :meth:`~demijohn.Demijohn.run_sync`), between the same two pops;
    ``False`` (having done nothing) when the lane may not pop (see
    :func:`~demijohn.lane.lane_pops`).

    PERF: the pop steps drive five generators through the step dispatch
    for one teardown function, which cost more than the rest of an
    async request; here each function is called directly (see
    :func:`_await_teardowns`).
    """
    if not lane_pops(app, ctx):
        return False
    app_funcs = app.teardown_appcontext_funcs
    try:
        if app.teardown_request_funcs:
            await _await_teardowns(app, app._request_teardowns(ctx.request), error)
        ctx.request.close()
    finally:
        popped = pop_lane_request(ctx)
        if app_ctx is not None:
            try:
                if app_funcs:
                    await _await_teardowns(app, reversed(app_funcs), error)
            finally:
                pop_lane_app(app_ctx)
    if popped is not ctx:
        ctx._check_popped(popped)
    return True


async def _await_teardowns(
    app: Demijohn, funcs: t.Iterable[t.Any], error: BaseException | None
) -> None:
    """Run teardown functions as ``Lifecycle._teardown_steps`` does under
    :func:`~demijohn.asgi.run_steps_async`: an ``async def`` one awaited,
    any other through :meth:`~demijohn.Demijohn.run_sync`; every one runs,
    and the first error is raised after the others ran (the sync lane's
    counterpart is ``demijohn.lane._call_teardowns``).

    PERF: a step generator and its driver cost more than the teardown
    function they call."""
    errors: list[Exception] = []
    for func in funcs:
        try:
            if is_coroutine_function(func):
                await func(error)
            else:
                await app.run_sync(func, error)
        except Exception as e:
            errors.append(e)
    if errors:
        app._raise_teardown_errors(errors)


__all__ = ["asgi_app"]
