"""Runs of sync calls under ASGI: a sync request's ``before_request``
functions, view and ``after_request`` functions take one trip to the
worker thread (see ``demijohn.asgi.run_steps_async``), and nothing a user
can observe changes: order, errors, async code between the sync calls,
and ``run_sync`` overrides all behave as before, under both protocols."""

from __future__ import annotations

import asyncio
import threading
import typing as t

import pytest
from asgi_scopes import http_scope
from test_asgi import body_messages, run

import demijohn.lifecycle
from demijohn import Demijohn, abort, g, request
from demijohn.asgi import run_steps_async, run_sync_calls
from demijohn.testing import ASGIClient, DemijohnClient

HookKind = t.Literal["sync", "async"]


def _hooked_app(calls: list[str], *, view: HookKind, hooks: HookKind) -> Demijohn:
    """An app whose before/after/teardown functions and view are sync or
    async, each noting its name and the thread it ran on."""
    app = Demijohn(__name__)
    app.config["TESTING"] = True

    def note(name: str) -> None:
        calls.append(f"{name}@{threading.current_thread().name}")

    if hooks == "sync":

        @app.before_request
        def before() -> None:
            note("before")
            g.user = "amy"

        @app.after_request
        def after(response: t.Any) -> t.Any:
            note("after")
            response.headers["X-User"] = g.user
            return response

        @app.teardown_request
        def teardown(error: BaseException | None) -> None:
            note("teardown")

    else:

        @app.before_request
        async def before() -> None:
            note("before")
            g.user = "amy"

        @app.after_request
        async def after(response: t.Any) -> t.Any:
            note("after")
            response.headers["X-User"] = g.user
            return response

        @app.teardown_request
        async def teardown(error: BaseException | None) -> None:
            note("teardown")

    if view == "sync":

        @app.route("/<name>")
        def hello(name: str) -> str:
            note("view")
            return f"hello {name} {request.args.get('q', '')}"

    else:

        @app.route("/<name>")
        async def hello(name: str) -> str:
            await asyncio.sleep(0)
            note("view")
            return f"hello {name} {request.args.get('q', '')}"

    return app


KINDS: list[HookKind] = ["sync", "async"]


@pytest.mark.parametrize("view", KINDS)
@pytest.mark.parametrize("hooks", KINDS)
def test_hooks_and_view_run_in_order_with_their_context(
    make_client: t.Callable[..., DemijohnClient], view: HookKind, hooks: HookKind
) -> None:
    calls: list[str] = []
    client = make_client(_hooked_app(calls, view=view, hooks=hooks))
    response = client.get("/bob?q=1")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "hello bob 1"
    assert response.headers["X-User"] == "amy"
    assert [call.split("@")[0] for call in calls] == [
        "before",
        "view",
        "after",
        "teardown",
    ]


def test_sync_code_of_a_request_still_shares_one_worker_thread() -> None:
    # Served as an ASGI server serves it: from its event loop, with no
    # thread waiting for the request (the test client offers its own).
    calls: list[str] = []
    app = _hooked_app(calls, view="sync", hooks="sync")
    assert run(app, http_scope("/bob"), body_messages(b"")).status == 200
    threads = {call.split("@")[1] for call in calls}
    assert len(threads) == 1
    assert threads.pop().startswith("demijohn-sync")


def test_the_asgi_client_runs_sync_code_on_the_calling_thread() -> None:
    # As the WSGI client does: what a test made on its thread is usable.
    calls: list[str] = []
    client = ASGIClient(_hooked_app(calls, view="sync", hooks="sync"))
    assert client.get("/bob").status_code == 200
    assert {call.split("@")[1] for call in calls} == {threading.current_thread().name}


class _CountingHandOffs:
    """Counts the trips to a worker thread the built-in ``run_sync`` makes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = demijohn.lifecycle.run_in_worker

        async def counting(*args: t.Any, **kwargs: t.Any) -> t.Any:
            self.count += 1
            return await original(*args, **kwargs)

        monkeypatch.setattr(demijohn.lifecycle, "run_in_worker", counting)


@pytest.mark.parametrize(
    ("view", "hooks", "hand_offs"),
    [
        # before + view + after in one trip; teardown (after the response
        # is sent) in a second.
        ("sync", "sync", 2),
        # The async view runs on the loop between the sync before and
        # after functions: a trip for each of the three sync steps.
        ("async", "sync", 3),
        ("sync", "async", 1),
        ("async", "async", 0),
    ],
)
def test_consecutive_sync_calls_take_one_trip_to_the_worker(
    monkeypatch: pytest.MonkeyPatch, view: HookKind, hooks: HookKind, hand_offs: int
) -> None:
    calls: list[str] = []
    client = ASGIClient(_hooked_app(calls, view=view, hooks=hooks))
    counter = _CountingHandOffs(monkeypatch)
    assert client.get("/bob").status_code == 200
    assert counter.count == hand_offs


def test_sync_view_with_after_request_takes_one_trip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Demijohn(__name__)

    @app.after_request
    def stamp(response: t.Any) -> t.Any:
        response.headers["X-Stamp"] = "1"
        return response

    @app.route("/")
    def index() -> str:
        return "ok"

    client = ASGIClient(app)
    counter = _CountingHandOffs(monkeypatch)
    response = client.get("/")
    assert (response.get_data(), response.headers["X-Stamp"]) == (b"ok", "1")
    assert counter.count == 1


def test_errors_in_a_sync_run_reach_the_error_handlers(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    app = Demijohn(__name__)
    seen: list[str] = []

    @app.before_request
    def guard() -> None:
        if request.args.get("deny"):
            abort(403)

    @app.route("/")
    def index() -> str:
        if request.args.get("crash"):
            raise KeyError("crash")
        return "ok"

    @app.errorhandler(403)
    def forbidden(error: Exception) -> tuple[str, int]:
        seen.append("403")
        return "denied", 403

    @app.errorhandler(KeyError)
    async def missing(error: Exception) -> tuple[str, int]:
        seen.append("KeyError")
        return "gone", 410

    @app.after_request
    def after(response: t.Any) -> t.Any:
        response.headers["X-After"] = "yes"
        return response

    client = make_client(app)
    denied = client.get("/?deny=1")
    assert (denied.status_code, denied.get_data()) == (403, b"denied")
    assert denied.headers["X-After"] == "yes"
    gone = client.get("/?crash=1")
    assert (gone.status_code, gone.get_data()) == (410, b"gone")
    assert gone.headers["X-After"] == "yes"
    assert client.get("/").get_data() == b"ok"
    assert seen == ["403", "KeyError"]


def test_an_error_escaping_the_steps_in_the_worker_is_a_500(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    app = Demijohn(__name__)

    @app.before_request
    def before() -> None:
        g.seen = True

    @app.route("/")
    def index() -> None:
        return None  # make_response refuses it, in the step code itself

    client = make_client(app)
    assert client.get("/").status_code == 500
    app.testing = True
    with pytest.raises(TypeError, match="did not return a valid response"):
        make_client(app).get("/")


def test_a_run_sync_override_still_gets_every_sync_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    class Recording(Demijohn):
        async def run_sync(self, func: t.Callable[..., t.Any], *args: t.Any) -> t.Any:
            seen.append(getattr(func, "__name__", type(func).__name__))
            return await super().run_sync(func, *args)

    app = Recording(__name__)

    @app.before_request
    def before() -> None:
        pass

    @app.after_request
    def after(response: t.Any) -> t.Any:
        return response

    @app.route("/")
    def index() -> str:
        return "ok"

    assert ASGIClient(app).get("/").get_data() == b"ok"
    assert seen == ["before", "index", "after"]
    assert run_sync_calls.__name__ not in seen


def test_run_sync_replaced_on_the_instance_turns_batching_off() -> None:
    app = Demijohn(__name__)
    seen: list[str] = []
    built_in = app.run_sync

    async def recording(func: t.Callable[..., t.Any], *args: t.Any) -> t.Any:
        seen.append(getattr(func, "__name__", "?"))
        return await built_in(func, *args)

    app.run_sync = recording  # type: ignore[method-assign]

    @app.before_request
    def before() -> None:
        pass

    @app.route("/")
    def index() -> str:
        return "ok"

    assert ASGIClient(app).get("/").get_data() == b"ok"
    assert seen == ["before", "index"]


def test_run_steps_async_batched_gives_the_same_results_as_unbatched() -> None:
    """The driver itself: sync calls, an exception thrown back in, and a
    coroutine function between them, batched and not."""
    app = Demijohn(__name__)
    threads: list[bool] = []

    def on_worker() -> None:
        threads.append(threading.current_thread().name.startswith("demijohn-sync"))

    def double(n: int) -> int:
        on_worker()
        return n * 2

    def fail() -> None:
        on_worker()
        raise ValueError("thrown back")

    async def add_one(n: int) -> int:
        return n + 1

    def steps() -> t.Generator[t.Any, t.Any, t.Any]:
        first = yield double, (2,), {}
        try:
            yield fail, (), {}
        except ValueError as e:
            caught = str(e)
        on_loop = yield add_one, (first,), {}
        last = yield double, (), {"n": on_loop}
        return first, caught, on_loop, last

    async def run(batched: bool) -> t.Any:
        with app.app_context():
            return await run_steps_async(app, steps(), batched=batched)

    expected = (4, "thrown back", 5, 10)
    assert asyncio.run(run(False)) == expected
    assert asyncio.run(run(True)) == expected
    assert all(threads) and len(threads) == 6


def test_run_sync_calls_returns_at_a_coroutine_function() -> None:
    async def later() -> None:
        pass

    def steps() -> t.Generator[t.Any, t.Any, t.Any]:
        value = yield (lambda: 1), (), {}
        yield later, (value,), {}
        return "never reached here"

    generator = steps()
    func, args, kwargs = next(generator)
    assert run_sync_calls(generator, func, args, kwargs) == (
        False,
        (later, (1,), {}),
    )
    generator.close()

    def finishing() -> t.Generator[t.Any, t.Any, t.Any]:
        value = yield (lambda: 2), (), {}
        return value * 10

    generator = finishing()
    func, args, kwargs = next(generator)
    assert run_sync_calls(generator, func, args, kwargs) == (True, 20)
