"""Live updates: ``/ws/posts`` sends each new post, as JSON, to every
connected websocket client.

A :class:`BroadcastHub` lives in ``app.extensions``. Views call
:func:`announce_post` after saving a post; each open websocket handler
holds a subscription queue and forwards what arrives.

The hub is in-process: it reaches the clients connected to *this* process.
Run one ASGI worker (``uvicorn blog.asgi:app``), or replace the hub by a
shared broker (PostgreSQL ``LISTEN/NOTIFY``, Redis) to scale out.
Websockets need an ASGI server; the ``demijohn run`` development server is
WSGI and answers ``/ws/posts`` with 426, and the page says live updates are
off.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import typing as t

from demijohn import Blueprint, current_app, url_for, websocket
from demijohn.websockets import WebsocketDisconnect

if t.TYPE_CHECKING:
    from demijohn import Demijohn

    from .db import Row

Message = dict[str, t.Any]

bp = Blueprint("live", __name__)

_EXTENSION_KEY = "blog.live"


class _Subscriber:
    """One websocket's queue and the event loop that owns it."""

    __slots__ = ("loop", "queue")

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=size)

    def offer(self, message: Message) -> None:
        # Runs on the subscriber's loop. A client that stops reading loses
        # its oldest messages instead of growing the queue without bound.
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(message)


class BroadcastHub:
    """Delivers each published message to every current subscriber.

    :meth:`publish` may be called from any thread: a WSGI worker, the ASGI
    worker pool running a sync view, or the event loop itself.

    :param queue_size: Messages kept per subscriber before the oldest are
        dropped.
    """

    def __init__(self, queue_size: int = 100) -> None:
        self.queue_size = queue_size
        self._subscribers: set[_Subscriber] = set()
        self._lock = threading.Lock()

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are open."""
        with self._lock:
            return len(self._subscribers)

    @contextlib.contextmanager
    def subscribe(self) -> t.Iterator[asyncio.Queue[Message]]:
        """Receive messages in the returned queue until the block ends.

        Call it from a coroutine: the queue belongs to the running loop.
        """
        subscriber = _Subscriber(asyncio.get_running_loop(), self.queue_size)
        with self._lock:
            self._subscribers.add(subscriber)
        try:
            yield subscriber.queue
        finally:
            with self._lock:
                self._subscribers.discard(subscriber)

    def publish(self, message: Message) -> None:
        """Queue ``message`` for every subscriber; returns at once."""
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.offer, message)
            except RuntimeError:
                # Its loop is closed (the server stopped without the handler
                # ending): nobody will read this queue again.
                with self._lock:
                    self._subscribers.discard(subscriber)


def get_hub() -> BroadcastHub:
    """The current application's hub."""
    return t.cast(BroadcastHub, current_app.extensions[_EXTENSION_KEY])


def announce_post(post: Row) -> None:
    """Tell live clients about a new post. Call it in a request context."""
    get_hub().publish(
        {
            "type": "post.created",
            "post": post,
            "url": url_for("posts.detail", post_id=post["id"]),
        }
    )


@bp.websocket("/ws/posts")
async def posts_feed() -> None:
    """Send ``{"type": "post.created", "post": {...}, "url": ...}`` for each
    new post until the client disconnects. Messages from the client are
    ignored."""
    with get_hub().subscribe() as messages:
        # Subscribed before accepting: a client that sees the connection
        # open cannot miss a post created just after.
        await websocket.accept()
        await _forward_until_disconnect(messages)


async def _forward(messages: asyncio.Queue[Message]) -> None:
    while True:
        await websocket.send_json(await messages.get())


async def _wait_for_disconnect() -> None:
    with contextlib.suppress(WebsocketDisconnect):
        while True:
            await websocket.receive()


async def _forward_until_disconnect(messages: asyncio.Queue[Message]) -> None:
    # Waiting only on the queue would keep a dead connection's handler (and
    # subscription) alive until the next post: watch for the disconnect too.
    forward = asyncio.ensure_future(_forward(messages))
    watch = asyncio.ensure_future(_wait_for_disconnect())
    try:
        await asyncio.wait({forward, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (forward, watch):
            task.cancel()
        results = await asyncio.gather(forward, watch, return_exceptions=True)
    for result in results:
        # A send to a client that just left fails with OSError; anything
        # else is a bug and must not vanish.
        if isinstance(result, Exception) and not isinstance(result, OSError):
            raise result


def init_app(app: Demijohn) -> None:
    """Give the application its hub."""
    app.extensions[_EXTENSION_KEY] = BroadcastHub(app.config["LIVE_QUEUE_SIZE"])
