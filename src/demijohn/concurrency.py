"""Running coroutine functions from synchronous code.

Under WSGI, an ``async def`` view or hook still works: it is run to
completion on the worker thread by :func:`run_coroutine`. Each thread keeps
one event loop for this and reuses it, so an async view costs a loop
iteration, not a loop creation. When the calling thread already runs an
event loop (code that called a WSGI app from async code), the coroutine is
run on a helper thread instead, since a loop cannot be re-entered.

The current :mod:`contextvars` context is carried into the coroutine, so
:data:`~demijohn.request` and :data:`~demijohn.g` work inside it.

Under ASGI, sync code runs in worker threads while the server's event loop
runs elsewhere. A coroutine that such code runs (an async hook called from a
sync override, say) is sent to the server's loop and awaited there, so it
can use loop-bound resources such as a connection pool created at startup.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor
from functools import wraps

T = t.TypeVar("T")

_thread_state = threading.local()
_cv_server_loop: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = (
    contextvars.ContextVar("demijohn.server_loop", default=None)
)
_reentry_pool: ThreadPoolExecutor | None = None
_reentry_lock = threading.Lock()


class _ThreadLoop:
    """Holds one thread's event loop and closes it when the thread ends.

    It lives in thread-local storage, which is dropped when its thread
    exits; without this, every short-lived thread (a thread-per-request
    server, a thread pool) would leave an open loop and its self-pipe
    sockets behind until garbage collection.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        if not self.loop.is_closed():
            self.loop.close()


def _thread_loop() -> asyncio.AbstractEventLoop:
    holder: _ThreadLoop | None = getattr(_thread_state, "holder", None)
    if holder is None or holder.loop.is_closed():
        holder = _thread_state.holder = _ThreadLoop()
    return holder.loop


def _cancel_leftover_tasks(loop: asyncio.AbstractEventLoop) -> None:
    # Flask documents that tasks an async view spawned and did not await are
    # cancelled when it returns; since the loop is reused, they would
    # otherwise resume during a later request, bound to a finished one.
    leftover = asyncio.all_tasks(loop)
    if not leftover:
        return
    for task in leftover:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))


def _run_on_this_thread(awaitable: t.Awaitable[T]) -> T:
    loop = _thread_loop()
    try:
        # ``run_until_complete`` wraps the coroutine in a task that runs in
        # a copy of the *current* context, so context variables are visible.
        return loop.run_until_complete(awaitable)
    finally:
        _cancel_leftover_tasks(loop)


def _pool() -> ThreadPoolExecutor:
    global _reentry_pool
    with _reentry_lock:
        if _reentry_pool is None:
            _reentry_pool = ThreadPoolExecutor(thread_name_prefix="demijohn-async")
        return _reentry_pool


def _gevent_thread_pool() -> t.Any:
    """Gevent's pool of real OS threads when gevent patched ``threading``.

    asyncio tracks the running loop per OS thread, so two greenlets of one
    thread cannot each run a loop: a coroutine started in a greenlet runs on
    one of gevent's real threads instead, blocking only its greenlet.
    """
    gevent = sys.modules.get("gevent")
    if gevent is None:
        return None
    from gevent import monkey

    if not monkey.is_module_patched("threading"):
        return None
    return gevent.get_hub().threadpool


def bind_server_loop(
    loop: asyncio.AbstractEventLoop,
) -> contextvars.Token[asyncio.AbstractEventLoop | None]:
    """Record ``loop`` as the ASGI server's loop for the current context.

    Returns the token to reset it with. The ASGI edge calls this for each
    connection; worker threads inherit it through the copied context.
    """
    return _cv_server_loop.set(loop)


def run_coroutine(awaitable: t.Awaitable[T]) -> T:
    """Run ``awaitable`` to completion from synchronous code and return its
    result (or raise its exception).

    On a worker thread of an ASGI server, the coroutine runs on the
    server's loop (see :func:`bind_server_loop`); otherwise on this
    thread's own loop, or on a helper thread when this thread already runs
    a loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        server_loop = _cv_server_loop.get()
        if server_loop is not None and server_loop.is_running():
            future = asyncio.run_coroutine_threadsafe(
                t.cast(t.Coroutine[t.Any, t.Any, T], awaitable), server_loop
            )
            return future.result()
        greenlet_pool = _gevent_thread_pool()
        if greenlet_pool is not None:
            context = contextvars.copy_context()
            return t.cast(
                T, greenlet_pool.apply(context.run, (_run_on_this_thread, awaitable))
            )
        return _run_on_this_thread(awaitable)
    context = contextvars.copy_context()
    future = _pool().submit(context.run, _run_on_this_thread, awaitable)
    return future.result()


def async_to_sync(
    func: t.Callable[..., t.Coroutine[t.Any, t.Any, T]],
) -> t.Callable[..., T]:
    """Wrap a coroutine function into a function that runs it to completion
    and returns its result; see :func:`run_coroutine`.
    """

    @wraps(func)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> T:
        return run_coroutine(func(*args, **kwargs))

    return wrapper


async def run_in_worker(owner: t.Any, func: t.Callable[..., T], *args: t.Any) -> T:
    """Run ``func(*args)`` in ``owner``'s worker thread pool and await it.

    The pool is created on first use with ``owner.sync_worker_count``
    threads and kept on the owner. The current context is copied into the
    thread, so context variables (the request context) are visible there.
    """
    pool: ThreadPoolExecutor | None = owner.__dict__.get("_sync_worker_pool")
    if pool is None:
        with _reentry_lock:
            pool = owner.__dict__.get("_sync_worker_pool")
            if pool is None:
                pool = ThreadPoolExecutor(
                    max_workers=owner.sync_worker_count,
                    thread_name_prefix="demijohn-sync",
                )
                owner.__dict__["_sync_worker_pool"] = pool
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    return await loop.run_in_executor(pool, context.run, func, *args)


class AsyncToSyncIterator(t.Generic[T]):
    """A synchronous iterator over an async iterable, each step run with
    :func:`run_coroutine`. Lets a WSGI server send a response body produced
    by an async generator."""

    def __init__(self, iterable: t.AsyncIterable[T]) -> None:
        self._iterator = iterable.__aiter__()

    def __iter__(self) -> AsyncToSyncIterator[T]:
        return self

    def __next__(self) -> T:
        try:
            return run_coroutine(self._iterator.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        """Close the async generator, running its ``finally`` blocks."""
        aclose = getattr(self._iterator, "aclose", None)
        if aclose is not None:
            run_coroutine(aclose())
