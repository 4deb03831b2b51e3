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
import queue
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
#: The worker standing for the thread that waits for a request, which its
#: sync calls are pinned to (see :func:`wait_serving_sync_calls`).
_cv_calling_worker: contextvars.ContextVar[RequestWorker | None] = (
    contextvars.ContextVar("demijohn.calling_worker", default=None)
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

    Returns the token to reset it with. :func:`run_in_worker` records it in
    the context it runs each synchronous callable in (and threads that code
    starts with a copy of its context inherit it), so
    :func:`run_coroutine` there sends coroutines to the server's loop. A
    :meth:`Demijohn.run_sync <demijohn.Demijohn.run_sync>` replacement
    that runs code in threads of its own calls it in their context.
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
            return wait_for_coroutine(
                t.cast(t.Coroutine[t.Any, t.Any, T], awaitable), server_loop
            )
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


def wait_for_coroutine(
    coro: t.Coroutine[t.Any, t.Any, T], loop: asyncio.AbstractEventLoop
) -> T:
    """Run ``coro`` on ``loop`` (running in another thread) and block until
    it is done; return its result or raise its exception.

    On a request's pinned worker thread (see :class:`RequestWorker`), the
    wait also runs the sync calls the request makes meanwhile: the
    coroutine may call :meth:`Demijohn.run_sync
    <demijohn.Demijohn.run_sync>`, whose call is pinned to this very
    thread, which would otherwise never get to it while it waits (a sync
    view calling an async helper that calls back into sync code). They run
    here, in order, so the request's thread-bound state (an SQLite
    connection on ``g``) stays on its thread, as under WSGI.
    """
    pin: RequestWorker | None = getattr(_thread_state, "pin", None)
    if pin is None or pin.released:
        return asyncio.run_coroutine_threadsafe(coro, loop).result()
    inbox: queue.SimpleQueue[_PinnedCall | None] = queue.SimpleQueue()
    outer = pin.inbox
    pin.inbox = inbox

    def finished(_: t.Any) -> None:
        # On the loop thread, where run_in_worker reads pin.inbox: calls
        # made after this go to the thread's executor again, which runs
        # them once the call that is waiting here returns.
        pin.inbox = outer
        inbox.put(None)

    future = asyncio.run_coroutine_threadsafe(coro, loop)
    future.add_done_callback(finished)
    while (call := inbox.get()) is not None:
        call.run(pin)
    return future.result()


def wait_serving_sync_calls(
    coro: t.Coroutine[t.Any, t.Any, T], loop: asyncio.AbstractEventLoop
) -> T:
    """Run ``coro``, which serves one request, on ``loop`` (running in
    another thread) and block until it is done, making the sync calls of
    that request (its sync views, hooks and teardown functions) on this
    thread meanwhile, as a WSGI server runs them on the thread that called
    the application. The ASGI test client waits for a request this way, so
    what a test made on its own thread (an SQLite connection, a
    thread-local) is usable from them.

    While it waits, this thread is the worker :func:`calling_worker` gives
    the request's code, whichever application context is bound; the
    request's other code, and its ``async def`` functions, run on ``loop``.
    On a thread that is already a request's pinned worker (a request made
    from a sync view), the wait is :func:`wait_for_coroutine`'s: the new
    request inherits the waiting caller's worker when the outer request had
    one (so a request nested in one the test client made also runs its
    sync code on the test's thread, as under WSGI), and otherwise takes a
    worker thread of its own.
    """
    if getattr(_thread_state, "pin", None) is not None:
        return wait_for_coroutine(coro, loop)
    worker = RequestWorker()

    async def offered() -> T:
        # Set in the request's own task, so its context (and copies of it
        # made for sync calls) sees the offer.
        _cv_calling_worker.set(worker)
        return await coro

    _thread_state.pin = worker
    try:
        return wait_for_coroutine(offered(), loop)
    finally:
        _thread_state.pin = None
        # Code that outlives the request (a task it started) borrows pool
        # threads again instead of pinning one to a thread gone.
        worker.release()


def calling_worker() -> RequestWorker | None:
    """The worker standing for the thread that waits for the current
    request (see :func:`wait_serving_sync_calls`) while it waits; ``None``
    otherwise, and then the application context's worker is used."""
    worker = _cv_calling_worker.get()
    if worker is None or worker.released:
        return None
    return worker


class _PinnedCall:
    """A sync call for a pinned worker thread that is waiting in
    :func:`wait_for_coroutine`, with the loop-side future of its result."""

    __slots__ = ("context", "func", "args", "loop", "future")

    def __init__(
        self,
        context: contextvars.Context,
        func: t.Callable[..., t.Any],
        args: tuple[t.Any, ...],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.context = context
        self.func = func
        self.args = args
        self.loop = loop
        self.future: asyncio.Future[t.Any] = loop.create_future()

    def run(self, pin: RequestWorker) -> None:
        """Make the call on this thread and hand its outcome to the loop."""
        try:
            result = self.context.run(_call_pinned, pin, self.func, *self.args)
        except BaseException as e:
            self.loop.call_soon_threadsafe(_settle, self.future, None, e)
        else:
            self.loop.call_soon_threadsafe(_settle, self.future, result, None)


def _settle(
    future: asyncio.Future[t.Any], result: t.Any, error: BaseException | None
) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _call_pinned(pin: RequestWorker, func: t.Callable[..., T], *args: t.Any) -> T:
    """``func(*args)`` on ``pin``'s thread, marking the thread as that
    worker's meanwhile, for :func:`wait_for_coroutine`."""
    outer = getattr(_thread_state, "pin", None)
    _thread_state.pin = pin
    try:
        return func(*args)
    finally:
        _thread_state.pin = outer


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


class WorkerThreads:
    """A bounded set of worker threads for synchronous code under ASGI.

    Each thread is a single-thread executor, so work can be pinned to one
    thread (see :class:`RequestWorker`): everything synchronous that one
    request runs (its sync hooks, view, teardown and body generator) runs on
    the same thread, as it would under a threaded WSGI server. Code that
    keeps per-thread state, such as an SQLite connection stored on ``g`` or
    a thread-local database session, keeps working.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._created = 0
        self._idle: queue.SimpleQueue[ThreadPoolExecutor] = queue.SimpleQueue()
        self._lock = threading.Lock()

    async def acquire(self) -> ThreadPoolExecutor:
        """Take an idle thread, start a new one while under the bound, or
        wait (without blocking the event loop) for one to be released."""
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._created < self._size:
                self._created += 1
                return ThreadPoolExecutor(1, thread_name_prefix="demijohn-sync")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._idle.get)

    def release(self, executor: ThreadPoolExecutor) -> None:
        """Give a thread back for other requests."""
        self._idle.put(executor)


class RequestWorker:
    """The worker thread one application context's synchronous code is
    pinned to, once it has needed one (see :func:`run_in_worker`).

    An :class:`~demijohn.ctx.AppContext` makes one the first time
    :meth:`Demijohn.run_sync <demijohn.Demijohn.run_sync>` runs while it is
    bound, and releases it when its last push is undone; for a request,
    that is when the request ends.
    """

    __slots__ = ("executor", "threads", "released", "inbox")

    def __init__(self) -> None:
        #: The pinned thread, once one was needed.
        self.executor: ThreadPoolExecutor | None = None
        #: The pool the thread belongs to.
        self.threads: WorkerThreads | None = None
        #: Set by :meth:`release`; later calls borrow a thread of their own.
        self.released = False
        #: While the pinned thread waits in :func:`wait_for_coroutine`, where
        #: calls pinned to it go instead of to its executor.
        self.inbox: queue.SimpleQueue[_PinnedCall | None] | None = None

    def release(self) -> None:
        """Give the pinned thread, if one was taken, back to its pool."""
        self.released = True
        if self.executor is not None and self.threads is not None:
            self.threads.release(self.executor)
            self.executor = None


def _worker_threads(owner: t.Any) -> WorkerThreads:
    threads: WorkerThreads | None = owner.__dict__.get("_sync_worker_threads")
    if threads is None:
        with _reentry_lock:
            threads = owner.__dict__.get("_sync_worker_threads")
            if threads is None:
                threads = WorkerThreads(owner.sync_worker_count)
                owner.__dict__["_sync_worker_threads"] = threads
    return threads


async def run_in_worker(
    owner: t.Any,
    func: t.Callable[..., T],
    *args: t.Any,
    pin: RequestWorker | None = None,
) -> T:
    """Run ``func(*args)`` on one of ``owner``'s worker threads and await it.

    At most ``owner.sync_worker_count`` threads exist. With ``pin`` (not yet
    released), every call runs on that worker's thread, taken on the first
    call; otherwise each call borrows a thread for its duration. The
    current context is copied into the thread, so context variables (the
    request context) are visible there, with the running loop recorded as
    the server's (see :func:`bind_server_loop`).
    """
    threads = _worker_threads(owner)
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    # PERF: recorded here, for the sync code that may need it, rather than
    # for every connection: setting a context variable in each request's
    # task costs a tenth of a minimal async request.
    context.run(_cv_server_loop.set, loop)
    if pin is not None and not pin.released:
        if pin.inbox is not None:
            # The pinned thread waits for the coroutine making this call.
            call = _PinnedCall(context, func, args, loop)
            pin.inbox.put(call)
            return t.cast(T, await call.future)
        if pin.executor is None:
            pin.executor = await threads.acquire()
            pin.threads = threads
        return await loop.run_in_executor(
            pin.executor, context.run, _call_pinned, pin, func, *args
        )
    executor = await threads.acquire()
    try:
        return await loop.run_in_executor(executor, context.run, func, *args)
    finally:
        threads.release(executor)


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
