"""Running coroutine functions from synchronous code.

Under WSGI, an ``async def`` view or hook still works: it is run to
completion on the worker thread by :func:`run_coroutine`. Each thread keeps
one event loop for this and reuses it, so an async view costs a loop
iteration, not a loop creation. When the calling thread already runs an
event loop (code that called a WSGI app from async code), the coroutine is
run on a helper thread instead, since a loop cannot be re-entered.

The current :mod:`contextvars` context is carried into the coroutine, so
:data:`~demijohn.request` and :data:`~demijohn.g` work inside it.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor
from functools import wraps

T = t.TypeVar("T")

_thread_state = threading.local()
_reentry_pool: ThreadPoolExecutor | None = None
_reentry_lock = threading.Lock()


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop: asyncio.AbstractEventLoop | None = getattr(_thread_state, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _thread_state.loop = loop
    return loop


def _run_on_this_thread(awaitable: t.Awaitable[T]) -> T:
    loop = _thread_loop()
    # ``run_until_complete`` wraps the coroutine in a task that runs in a
    # copy of the *current* context, so context variables are visible.
    return loop.run_until_complete(awaitable)


def _pool() -> ThreadPoolExecutor:
    global _reentry_pool
    with _reentry_lock:
        if _reentry_pool is None:
            _reentry_pool = ThreadPoolExecutor(thread_name_prefix="demijohn-async")
        return _reentry_pool


def run_coroutine(awaitable: t.Awaitable[T]) -> T:
    """Run ``awaitable`` to completion from synchronous code and return its
    result (or raise its exception).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
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
