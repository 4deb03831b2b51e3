"""``async def`` views, hooks and error handlers under the synchronous
lifecycle, ``ensure_sync``/``async_to_sync``, and calling the application
from code that already runs an event loop."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

import pytest
from test_test_client import finished_within

from demijohn import (
    Demijohn,
    Response,
    copy_current_request_context,
    current_app,
    g,
    render_template_string,
    request,
    request_started,
    session,
)
from demijohn.concurrency import async_to_sync, run_coroutine
from demijohn.testing import DemijohnClient


def test_async_view_sees_request_g_and_session(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.before_request
    def before() -> None:
        g.user = "amy"

    @app.route("/<name>", methods=["POST"])
    async def view(name: str) -> str:
        await asyncio.sleep(0)
        session["seen"] = name
        return f"{name} {request.method} {request.get_json()['n']} {g.user}"

    response = client.post("/bob", json={"n": 3})
    assert response.text == "bob POST 3 amy"
    with client.session_transaction() as saved:
        assert saved["seen"] == "bob"


def test_async_view_writes_to_g_visible_to_sync_hooks(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/")
    async def view() -> str:
        g.from_async = "yes"
        return "ok"

    @app.after_request
    def after(response: Response) -> Response:
        response.headers["X-From-Async"] = g.from_async
        return response

    assert client.get("/").headers["X-From-Async"] == "yes"


def test_async_hooks(app: Demijohn, client: DemijohnClient) -> None:
    events: list[str] = []

    @app.before_request
    async def before() -> None:
        await asyncio.sleep(0)
        events.append(f"before {request.path}")
        g.token = "t"

    @app.after_request
    async def after(response: Response) -> Response:
        await asyncio.sleep(0)
        events.append(f"after {g.token}")
        response.headers["X-Async"] = "1"
        return response

    @app.teardown_request
    async def teardown_request(exc: BaseException | None) -> None:
        events.append(f"teardown_request {request.path} {exc}")

    @app.teardown_appcontext
    async def teardown_app(exc: BaseException | None) -> None:
        events.append(f"teardown_appcontext {g.token}")

    @app.route("/")
    async def view() -> str:
        events.append("view")
        return "ok"

    response = client.get("/")
    assert response.headers["X-Async"] == "1"
    assert events == [
        "before /",
        "view",
        "after t",
        "teardown_request / None",
        "teardown_appcontext t",
    ]


def test_async_before_request_can_short_circuit(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.before_request
    async def deny() -> tuple[str, int]:
        return "denied", 403

    app.route("/")(lambda: "view")
    response = client.get("/")
    assert response.status_code == 403
    assert response.text == "denied"


def test_async_error_handler(app: Demijohn, client: DemijohnClient) -> None:
    @app.errorhandler(KeyError)
    async def handle(e: KeyError) -> tuple[str, int]:
        await asyncio.sleep(0)
        return f"handled {e.args[0]} at {request.path}", 400

    @app.errorhandler(404)
    async def not_found(e: Exception) -> tuple[str, int]:
        return "async 404", 404

    @app.route("/")
    async def view() -> str:
        raise KeyError("k")

    response = client.get("/")
    assert response.status_code == 400
    assert response.text == "handled k at /"
    assert client.get("/missing").text == "async 404"


def test_async_500_handler(app: Demijohn, client: DemijohnClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.errorhandler(500)
    async def server_error(e: t.Any) -> tuple[str, int]:
        return f"async 500 {type(e.original_exception).__name__}", 500

    @app.route("/")
    async def view() -> str:
        raise ZeroDivisionError()

    assert client.get("/").text == "async 500 ZeroDivisionError"


def test_exception_from_async_view_propagates(
    app: Demijohn, client: DemijohnClient
) -> None:
    error = ValueError("from coroutine")

    @app.route("/")
    async def view() -> str:
        await asyncio.sleep(0)
        raise error

    with pytest.raises(ValueError) as info:
        client.get("/")
    assert info.value is error


def test_async_context_processor(app: Demijohn, client: DemijohnClient) -> None:
    @app.context_processor
    async def inject() -> dict[str, str]:
        return {"who": request.args["who"]}

    app.route("/")(lambda: render_template_string("hi {{ who }}"))
    assert client.get("/?who=you").text == "hi you"


def test_async_signal_receiver(app: Demijohn, client: DemijohnClient) -> None:
    seen: list[str] = []

    async def receiver(sender: Demijohn, **kwargs: t.Any) -> None:
        seen.append(request.path)

    app.route("/")(lambda: "ok")
    with request_started.connected_to(receiver, app):
        client.get("/")
    assert seen == ["/"]


# -- ensure_sync and async_to_sync -------------------------------------------------


def test_a_sync_view_calling_async_code_that_calls_sync_code(
    app: Demijohn, client: DemijohnClient, protocol: str
) -> None:
    # Under ASGI the view runs on its request's worker thread and the async
    # helper on the server's loop; the helper's run_sync call is pinned to
    # that same thread, which is waiting for the helper. It must run there
    # (thread-bound state stays on its thread) rather than wait forever:
    # two levels deep, with an error passed back as raised.
    threads: list[int] = []

    def note_thread(value: str) -> str:
        threads.append(threading.get_ident())
        if value == "fail":
            raise LookupError("raised by the innermost sync call")
        return value

    async def helper(value: str, depth: int) -> str:
        if depth:
            # Sync code again, which calls async code again.
            return t.cast(
                str,
                await current_app.run_sync(
                    lambda: "<" + app.ensure_sync(helper)(value, depth - 1) + ">"
                ),
            )
        try:
            return t.cast(str, await current_app.run_sync(note_thread, value))
        except LookupError as e:
            return f"caught: {e}"

    @app.route("/<value>/<int:depth>")
    def view(value: str, depth: int) -> str:
        threads.append(threading.get_ident())
        return t.cast(str, app.ensure_sync(helper)(value, depth))

    for path, expected in [
        ("/ok/0", "ok"),
        ("/ok/2", "<<ok>>"),
        ("/fail/1", "<caught: raised by the innermost sync call>"),
    ]:
        threads.clear()
        assert finished_within(10, lambda path=path: client.get(path)).text == expected
        if protocol == "asgi":
            # The request's pinned worker ran every sync call.
            assert len(set(threads)) == 1, threads


def test_ensure_sync_leaves_plain_functions_alone(app: Demijohn) -> None:
    def plain() -> int:
        return 1

    assert app.ensure_sync(plain) is plain


def test_ensure_sync_runs_coroutine_functions(app: Demijohn) -> None:
    async def add(a: int, b: int = 0) -> int:
        await asyncio.sleep(0)
        return a + b

    sync_add = app.ensure_sync(add)
    assert not asyncio.iscoroutinefunction(sync_add)
    assert sync_add(1, b=2) == 3
    assert sync_add.__name__ == "add"


def test_ensure_sync_carries_context_variables(app: Demijohn) -> None:
    async def read() -> str:
        return t.cast(str, g.value)

    with app.app_context():
        g.value = "in context"
        assert app.ensure_sync(read)() == "in context"


def test_async_to_sync_override(app: Demijohn, client: DemijohnClient) -> None:
    converted: list[str] = []

    class App(Demijohn):
        def async_to_sync(
            self, func: t.Callable[..., t.Coroutine[t.Any, t.Any, t.Any]]
        ) -> t.Callable[..., t.Any]:
            converted.append(func.__name__)

            def run(*args: t.Any, **kwargs: t.Any) -> t.Any:
                return asyncio.run(func(*args, **kwargs))

            return run

    custom = App("async_override", root_path="/nonexistent-root")

    @custom.before_request
    async def before() -> None:
        pass

    @custom.route("/")
    async def view() -> str:
        return "custom loop"

    @custom.route("/sync")
    def sync_view() -> str:
        return "sync"

    test_client = custom.test_client()
    assert test_client.get("/").text == "custom loop"
    assert converted == ["before", "view"]
    converted.clear()
    test_client.get("/sync")
    # Only coroutine functions are converted.
    assert converted == ["before"]


def test_async_to_sync_function() -> None:
    async def double(x: int) -> int:
        return x * 2

    assert async_to_sync(double)(4) == 8
    assert run_coroutine(double(5)) == 10


def test_event_loop_reused_per_thread() -> None:
    async def current_loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    first = run_coroutine(current_loop())
    second = run_coroutine(current_loop())
    assert first is second
    assert not first.is_running()


# -- called from a running event loop --------------------------------------------


def test_wsgi_app_called_inside_a_running_loop(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.before_request
    async def before() -> None:
        g.loop_value = request.args.get("v")

    @app.route("/")
    async def view() -> str:
        await asyncio.sleep(0)
        return f"{g.loop_value} {request.path}"

    @app.route("/sync")
    def sync_view() -> str:
        return "sync"

    async def main() -> tuple[str, str]:
        # Blocking call from a coroutine, as code bridging into WSGI does.
        return client.get("/?v=7").text, client.get("/sync").text

    assert asyncio.run(main()) == ("7 /", "sync")


def test_exception_inside_a_running_loop_propagates(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/")
    async def view() -> str:
        raise LookupError("inside loop")

    async def main() -> None:
        client.get("/")

    with pytest.raises(LookupError, match="inside loop"):
        asyncio.run(main())


def test_ensure_sync_inside_running_loop_sees_context_vars(app: Demijohn) -> None:
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker")

    async def read() -> str:
        return f"{marker.get()} {g.value}"

    async def main() -> str:
        marker.set("outer")
        with app.app_context():
            g.value = 1
            return t.cast(str, app.ensure_sync(read)())

    assert asyncio.run(main()) == "outer 1"


# -- threads -----------------------------------------------------------------------


def test_concurrent_async_views_see_their_own_context(
    app: Demijohn, make_client: t.Callable[[Demijohn], DemijohnClient]
) -> None:
    # Under WSGI each request runs on its own thread; under ASGI the views
    # share the server's loop. Either way every view must see its own g and
    # request while the others run in between.
    workers = 4
    started: list[int] = []

    @app.route("/<int:n>")
    async def view(n: int) -> str:
        g.n = n
        started.append(n)
        for _ in range(500):
            if len(started) == workers:
                break
            await asyncio.sleep(0.01)
        return f"{g.n}={request.view_args['n']}"  # type: ignore[index]

    def fetch(n: int) -> str:
        return make_client(app).get(f"/{n}").text

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(fetch, range(workers)))
    assert len(started) == workers
    assert results == [f"{n}={n}" for n in range(workers)]


def test_copy_current_request_context_with_async_function(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/")
    def view() -> str:
        @copy_current_request_context
        async def work() -> str:
            await asyncio.sleep(0)
            return request.args["q"]

        with ThreadPoolExecutor(1) as pool:
            return t.cast(str, pool.submit(work).result())

    assert client.get("/?q=async").text == "async"


def test_spawned_tasks_are_cancelled_when_the_view_returns_under_wsgi(
    app: Demijohn,
) -> None:
    # As Flask documents: background tasks started with create_task do not
    # outlive the async view under WSGI (the loop is this thread's own).
    client = app.test_client()
    events: list[str] = []

    async def background() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    @app.route("/")
    async def view() -> str:
        asyncio.create_task(background())
        await asyncio.sleep(0)
        return "done"

    assert client.get("/").text == "done"
    assert events == ["cancelled"]
    assert client.get("/").text == "done"
    assert events == ["cancelled", "cancelled"]


def test_thread_loop_closed_when_thread_ends() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def grab() -> None:
        loops.append(asyncio.get_running_loop())

    thread = threading.Thread(target=lambda: run_coroutine(grab()))
    thread.start()
    thread.join()
    del thread
    [loop] = loops
    assert loop.is_closed()
