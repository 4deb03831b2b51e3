"""Application and request contexts: the proxies, pushing and popping,
``g``, ``after_this_request``, ``copy_current_request_context`` and
isolation between threads."""

from __future__ import annotations

import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.local import LocalProxy

from demijohn import (
    Demijohn,
    Request,
    Response,
    after_this_request,
    copy_current_request_context,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    session,
)
from demijohn.ctx import AppContext, RequestContext
from demijohn.globals import _cv_app, _cv_request, app_ctx, request_ctx
from demijohn.testing import DemijohnClient

MakeClient = t.Callable[[Demijohn], DemijohnClient]


# -- proxies outside their context -------------------------------------------


@pytest.mark.parametrize(
    ("use", "needed", "fix"),
    [
        (lambda: current_app.name, "application", "app.app_context()"),
        (lambda: g.x, "application", "app.app_context()"),
        (lambda: app_ctx.app, "application", "app.app_context()"),
        (lambda: request.path, "request", "app.test_request_context()"),
        (lambda: session.get("a"), "request", "app.test_request_context()"),
        (lambda: request_ctx.request, "request", "app.test_request_context()"),
        (lambda: setattr(g, "x", 1), "application", "app.app_context()"),
        (lambda: session["a"], "request", "app.test_request_context()"),
        (lambda: session.update(a=1), "request", "app.test_request_context()"),
        (lambda: session.__setitem__("a", 1), "request", "app.test_request_context()"),
        (lambda: "a" in session, "request", "app.test_request_context()"),
        (lambda: "x" in g, "application", "app.app_context()"),
    ],
    ids=[
        "current_app",
        "g",
        "app_ctx",
        "request",
        "session",
        "request_ctx",
        "g-set",
        "session-item",
        "session-method",
        "session-set-item",
        "session-contains",
        "g-contains",
    ],
)
def test_proxy_outside_context_explains_how_to_push_one(
    use: t.Callable[[], object], needed: str, fix: str
) -> None:
    with pytest.raises(RuntimeError, match=f"Working outside of {needed} context"):
        use()
    try:
        use()
    except RuntimeError as e:
        assert fix in str(e)


def test_proxies_forward_what_a_view_does_to_the_bound_objects(app: Demijohn) -> None:
    with app.test_request_context("/?q=1"):
        app.secret_key = "k"
        g.user = "ada"
        assert g.user == "ada" and "user" in g and g._get_current_object().user == "ada"
        session["visits"] = 1
        assert session["visits"] == 1 and "visits" in session
        assert session.get("visits") == 1 and session.modified
        assert request.args["q"] == "1" and request.method == "GET"
        assert current_app.config is app.config
        with pytest.raises(AttributeError, match="missing"):
            g.missing  # noqa: B018
        with pytest.raises(KeyError):
            session["missing"]
        # Still Werkzeug's proxies, as extensions expect them to be.
        for proxy in (g, session, request, current_app):
            assert isinstance(proxy, LocalProxy)
    assert not g and not request


def test_proxy_attribute_reads_look_up_once_and_keep_the_objects_error(
    app: Demijohn,
) -> None:
    # A property that fails with AttributeError (a bug inside it, usually)
    # runs once per read through the proxy, as on the object, and its own
    # error is what the caller sees.
    runs: list[str] = []

    class BuggyRequest(Request):
        @property
        def user_name(self) -> str:
            runs.append("user_name")
            return self.user.name  # type: ignore[attr-defined, no-any-return]

        _token = "private"

    app.request_class = BuggyRequest
    with app.test_request_context("/"):
        with pytest.raises(
            AttributeError, match="'BuggyRequest' object has no attribute 'user'"
        ):
            request.user_name  # type: ignore[attr-defined]  # noqa: B018
        assert runs == ["user_name"]
        assert not hasattr(request, "user_name") and runs == ["user_name"] * 2
        # Names with an underscore reach the object too, after the proxy's own.
        assert request._token == "private"  # type: ignore[attr-defined]
        assert request._get_current_object()._token == "private"  # type: ignore[attr-defined]
        with pytest.raises(AttributeError, match="no attribute '_missing'"):
            request._missing  # type: ignore[attr-defined]  # noqa: B018
        assert getattr(g, "user", "nobody") == "nobody"
        g.user = "ada"
        assert getattr(g, "user", "nobody") == "ada"


def test_proxies_measure_iterate_and_test_the_bound_object(app: Demijohn) -> None:
    app.secret_key = "k"
    assert not session and not g and not current_app  # unbound: false, no error
    with pytest.raises(RuntimeError, match="outside of request context"):
        len(session)
    with app.test_request_context("/"):
        assert not session and len(session) == 0 and list(session) == []
        session["a"], session["b"] = 1, 2
        assert session and len(session) == 2 and sorted(session) == ["a", "b"]
        assert g and list(g) == []  # a bound namespace is true, as in Flask
        g.user = "ada"
        assert list(g) == ["user"]
        assert current_app and request


def test_request_proxies_still_unbound_inside_app_context(app: Demijohn) -> None:
    with app.app_context():
        assert current_app.name == app.name
        with pytest.raises(RuntimeError, match="outside of request context"):
            request.method  # noqa: B018
        with pytest.raises(RuntimeError, match="outside of request context"):
            session["x"] = 1


def test_has_context_functions(app: Demijohn) -> None:
    assert not has_app_context()
    assert not has_request_context()
    with app.app_context():
        assert has_app_context()
        assert not has_request_context()
    with app.test_request_context():
        assert has_app_context()
        assert has_request_context()
    assert not has_app_context()
    assert not has_request_context()


# -- application context -------------------------------------------------------


def test_app_context_binds_current_app_and_returns_itself(app: Demijohn) -> None:
    ctx = app.app_context()
    assert isinstance(ctx, AppContext)
    with ctx as entered:
        assert entered is ctx
        assert current_app._get_current_object() is app  # type: ignore[attr-defined]
        assert app_ctx._get_current_object() is ctx  # type: ignore[attr-defined]
    assert _cv_app.get(None) is None


def test_nested_app_contexts_of_different_apps(app: Demijohn) -> None:
    other = Demijohn("other_app", root_path="/nonexistent-root")
    with app.app_context():
        g.name = "outer"
        with other.app_context():
            assert current_app.name == "other_app"
            assert "name" not in g
            g.name = "inner"
        assert current_app.name == app.name
        assert g.name == "outer"


def test_same_context_pushed_twice_tears_down_once(app: Demijohn) -> None:
    calls: list[object] = []
    app.teardown_appcontext(calls.append)
    ctx = app.app_context()
    with ctx, ctx:
        g.value = 1
    assert calls == [None]
    # g belongs to the context object, so it survived the inner pop.
    assert ctx.g.value == 1


def test_g_is_fresh_for_each_app_context(app: Demijohn) -> None:
    with app.app_context():
        g.user = "alice"
    with app.app_context():
        assert "user" not in g
        with pytest.raises(AttributeError, match="user"):
            g.user  # noqa: B018


def test_g_namespace_methods(app: Demijohn) -> None:
    with app.app_context():
        assert g.get("missing") is None
        assert g.get("missing", 5) == 5
        g.a = 1
        assert g.get("a") == 1
        assert "a" in g
        assert "b" not in g
        assert g.setdefault("b", 2) == 2
        assert g.setdefault("b", 3) == 2
        assert sorted(g) == ["a", "b"]
        assert g.pop("a") == 1
        assert "a" not in g
        assert g.pop("a", "default") == "default"
        with pytest.raises(KeyError):
            g.pop("a")
        assert repr(g) == f"<demijohn.g of {app.name!r}>"
        namespace = g._get_current_object()  # type: ignore[attr-defined]
    # Out of its context the namespace is a plain object again.
    assert repr(namespace).startswith("<demijohn.ctx._AppCtxGlobals object")


def test_app_context_teardown_receives_exception(app: Demijohn) -> None:
    seen: list[BaseException | None] = []
    app.teardown_appcontext(seen.append)
    error = ValueError("boom")
    with pytest.raises(ValueError), app.app_context():
        raise error
    with app.app_context():
        pass
    assert seen == [error, None]


def test_app_contexts_popped_in_wrong_order(app: Demijohn) -> None:
    first = app.app_context()
    second = app.app_context()
    first.push()
    second.push()
    with pytest.raises(AssertionError, match="Popped the wrong application context"):
        first.pop()
    # The value before ``first`` was pushed is restored: nothing is bound.
    assert _cv_app.get(None) is None


def test_app_context_signals(app: Demijohn) -> None:
    from demijohn import appcontext_popped, appcontext_pushed

    events: list[tuple[str, object]] = []

    def pushed(sender: object, **kwargs: object) -> None:
        events.append(("pushed", current_app.name))

    def popped(sender: object, **kwargs: object) -> None:
        events.append(("popped", sender))

    with (
        appcontext_pushed.connected_to(pushed, app),
        appcontext_popped.connected_to(popped, app),
        app.app_context(),
    ):
        events.append(("body", None))
    assert events == [("pushed", app.name), ("body", None), ("popped", app)]


# -- request context -----------------------------------------------------------


def test_test_request_context_builds_the_request(app: Demijohn) -> None:
    ctx = app.test_request_context(
        "/path?q=1", method="POST", headers={"X-Test": "yes"}, data="body"
    )
    assert isinstance(ctx, RequestContext)
    with ctx:
        assert request.path == "/path"
        assert request.args["q"] == "1"
        assert request.method == "POST"
        assert request.headers["X-Test"] == "yes"
        assert request.get_data(as_text=True) == "body"
        assert request.url == "http://localhost/path?q=1"
        assert request_ctx._get_current_object() is ctx  # type: ignore[attr-defined]
    assert _cv_request.get(None) is None


def test_request_context_uses_server_name(app: Demijohn) -> None:
    app.config.update(SERVER_NAME="example.org", PREFERRED_URL_SCHEME="https")
    with app.test_request_context("/x"):
        assert request.url == "https://example.org/x"


def test_request_context_pushes_and_pops_an_app_context(app: Demijohn) -> None:
    torn_down: list[str] = []
    app.teardown_appcontext(lambda exc: torn_down.append("app"))
    app.teardown_request(lambda exc: torn_down.append("request"))
    with app.test_request_context():
        assert current_app._get_current_object() is app  # type: ignore[attr-defined]
        g.x = 1
    assert _cv_app.get(None) is None
    assert torn_down == ["request", "app"]


def test_request_context_reuses_app_context_of_same_app(app: Demijohn) -> None:
    torn_down: list[str] = []
    app.teardown_appcontext(lambda exc: torn_down.append("app"))
    with app.app_context() as outer:
        g.shared = "yes"
        with app.test_request_context():
            assert app_ctx._get_current_object() is outer  # type: ignore[attr-defined]
            assert g.shared == "yes"
        # The request did not own the app context, so it is still bound.
        assert torn_down == []
        assert app_ctx._get_current_object() is outer  # type: ignore[attr-defined]
    assert torn_down == ["app"]


def test_request_context_of_other_app_pushes_its_own(app: Demijohn) -> None:
    other = Demijohn("other_app", root_path="/nonexistent-root")
    with app.app_context():
        g.mine = 1
        with other.test_request_context():
            assert current_app.name == "other_app"
            assert "mine" not in g
        assert current_app.name == app.name
        assert g.mine == 1


def test_request_contexts_popped_in_wrong_order(app: Demijohn) -> None:
    first = app.test_request_context("/first")
    second = app.test_request_context("/second")
    first.push()
    second.push()
    with pytest.raises(AssertionError, match="Popped the wrong request context"):
        first.pop()
    assert _cv_request.get(None) is None
    # ``first`` pushed the app context and has taken it down with it.
    assert _cv_app.get(None) is None


def test_request_context_teardown_receives_exception(app: Demijohn) -> None:
    seen: list[BaseException | None] = []
    app.teardown_request(seen.append)
    error = KeyError("x")
    with pytest.raises(KeyError), app.test_request_context():
        raise error
    assert seen == [error]


def test_request_context_session_opened_lazily(app: Demijohn) -> None:
    with app.test_request_context() as ctx:
        assert not ctx.session_opened
        session["user"] = "bob"
        assert ctx.session_opened
        assert ctx.session.accessed
        assert session["user"] == "bob"


def test_request_context_matches_url(app: Demijohn) -> None:
    @app.route("/user/<int:user_id>")
    def user(user_id: int) -> str:
        return str(user_id)

    with app.test_request_context("/user/3"):
        assert request.endpoint == "user"
        assert request.view_args == {"user_id": 3}
    with app.test_request_context("/nowhere"):
        assert request.routing_exception is not None
        assert request.routing_exception.code == 404  # type: ignore[attr-defined]


# -- requests through the client -----------------------------------------------


def test_proxies_during_request(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/")
    def index() -> str:
        g.seen = request.args["name"]
        session["name"] = g.seen
        return f"{current_app.name}:{g.seen}:{session['name']}"

    assert client.get("/?name=ann").text == f"{app.name}:ann:ann"


def test_client_with_block_keeps_last_request_context(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/")
    def index() -> str:
        g.marker = request.args.get("m", "")
        return "ok"

    with client:
        client.get("/?m=one")
        assert request.args["m"] == "one"
        assert g.marker == "one"
        client.get("/?m=two")
        assert request.args["m"] == "two"
    assert not has_request_context()
    assert not has_app_context()


def test_after_this_request(app: Demijohn, client: DemijohnClient) -> None:
    order: list[str] = []

    @app.after_request
    def app_wide(response: Response) -> Response:
        order.append("app")
        return response

    @app.route("/")
    def index() -> str:
        @after_this_request
        def add_header(response: Response) -> Response:
            order.append("this")
            response.headers["X-Foo"] = "bar"
            return response

        return "ok"

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    response = client.get("/")
    assert response.headers["X-Foo"] == "bar"
    assert order == ["this", "app"]
    # Only for the request that registered it.
    assert "X-Foo" not in client.get("/plain").headers


def test_after_this_request_can_replace_response(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/")
    def index() -> str:
        after_this_request(lambda response: Response("replaced", status=201))
        return "original"

    response = client.get("/")
    assert response.status_code == 201
    assert response.text == "replaced"


def test_after_this_request_from_short_circuiting_hook(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.before_request
    def deny() -> tuple[str, int]:
        @after_this_request
        def mark(response: Response) -> Response:
            response.headers["X-Denied"] = "yes"
            return response

        return "denied", 403

    app.route("/")(lambda: "view")
    response = client.get("/")
    assert response.status_code == 403
    assert response.headers["X-Denied"] == "yes"


def test_after_this_request_async_function(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/")
    def index() -> str:
        @after_this_request
        async def mark(response: Response) -> Response:
            response.headers["X-Async"] = request.path
            return response

        return "ok"

    assert client.get("/").headers["X-Async"] == "/"


def test_after_this_request_outside_request(app: Demijohn) -> None:
    with pytest.raises(RuntimeError, match="request context"):
        after_this_request(lambda response: response)
    with app.app_context(), pytest.raises(RuntimeError, match="request context"):
        after_this_request(lambda response: response)


# -- copy_current_request_context ----------------------------------------------


def test_copy_current_request_context_in_a_thread_pool(
    app: Demijohn, client: DemijohnClient
) -> None:
    seen: dict[str, object] = {}

    @app.route("/")
    def index() -> str:
        g.original = True
        session["from_view"] = "yes"

        @copy_current_request_context
        def work() -> str:
            seen["request"] = request._get_current_object()  # type: ignore[attr-defined]
            seen["session"] = session._get_current_object()  # type: ignore[attr-defined]
            seen["g_has_original"] = "original" in g
            seen["app"] = current_app._get_current_object()  # type: ignore[attr-defined]
            session["from_thread"] = "yes"
            return request.args["q"]

        seen["view_request"] = request._get_current_object()  # type: ignore[attr-defined]
        seen["view_session"] = session._get_current_object()  # type: ignore[attr-defined]
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(work).result()

    assert client.get("/?q=hello").text == "hello"
    assert seen["request"] is seen["view_request"]
    assert seen["session"] is seen["view_session"]
    assert seen["app"] is app
    # ``g`` belongs to the app context, which the copy pushes anew.
    assert seen["g_has_original"] is False
    # The write from the thread reached the shared session and its cookie.
    with client.session_transaction() as saved:
        assert saved["from_view"] == "yes"
        assert saved["from_thread"] == "yes"


def test_copy_current_request_context_called_concurrently(
    app: Demijohn, client: DemijohnClient
) -> None:
    # Flask fails here: its wrapper pushes one copied context from every
    # thread and the second reset raises "Token was created in a different
    # Context". Each call gets its own copy in demijohn.
    workers = 8
    barrier = threading.Barrier(workers)

    @app.route("/")
    def index() -> str:
        @copy_current_request_context
        def work(i: int) -> str:
            barrier.wait(timeout=5)
            g.i = i
            barrier.wait(timeout=5)
            return f"{request.args['q']}{g.i}"

        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(work, range(workers)))
        return ",".join(results)

    expected = ",".join(f"x{i}" for i in range(workers))
    assert client.get("/?q=x").text == expected


def test_copy_current_request_context_called_twice_sequentially(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/p")
    def index() -> str:
        @copy_current_request_context
        def work() -> str:
            return request.path

        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(work).result()
            second = pool.submit(work).result()
        # Called on the view's own thread, while the original is bound.
        third = work()
        return f"{first} {second} {third}"

    assert client.get("/p").text == "/p /p /p"


def test_copied_context_does_not_close_the_shared_request(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/", methods=["POST"])
    def upload() -> str:
        @copy_current_request_context
        def name() -> str:
            return request.files["f"].filename or ""

        with ThreadPoolExecutor(1) as pool:
            filename = pool.submit(name).result()
        # The copy ended first; the original request is still readable.
        return f"{filename}:{request.files['f'].read().decode()}"

    import io

    response = client.post("/", data={"f": (io.BytesIO(b"content"), "a.txt")})
    assert response.text == "a.txt:content"


def test_copy_current_request_context_keeps_function_metadata(app: Demijohn) -> None:
    def documented() -> None:
        """Docs."""

    with app.test_request_context():
        wrapped = copy_current_request_context(documented)
    assert wrapped.__name__ == "documented"
    assert wrapped.__doc__ == "Docs."


def test_copy_current_request_context_outside_request(app: Demijohn) -> None:
    with pytest.raises(RuntimeError, match="request context"):
        copy_current_request_context(lambda: None)
    with app.app_context(), pytest.raises(RuntimeError, match="request context"):
        copy_current_request_context(lambda: None)


def test_copied_context_runs_teardown_in_the_thread(app: Demijohn) -> None:
    torn_down: list[str] = []
    app.teardown_request(lambda exc: torn_down.append(threading.current_thread().name))

    with app.test_request_context():
        wrapped = copy_current_request_context(lambda: request.path)
        with ThreadPoolExecutor(1, thread_name_prefix="worker") as pool:
            assert pool.submit(wrapped).result() == "/"
        assert len(torn_down) == 1
        assert torn_down[0].startswith("worker")
    assert len(torn_down) == 2


# -- isolation between threads -------------------------------------------------


def test_concurrent_requests_see_their_own_context(
    app: Demijohn, make_client: MakeClient
) -> None:
    workers = 6
    barrier = threading.Barrier(workers)

    @app.route("/<int:n>")
    def view(n: int) -> str:
        g.n = n
        # Every thread sets its own g before any reads it.
        barrier.wait(timeout=5)
        return f"{g.n}:{request.view_args['n']}:{request.path}"  # type: ignore[index]

    def fetch(n: int) -> str:
        return make_client(app).get(f"/{n}").text

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(fetch, range(workers)))
    assert results == [f"{n}:{n}:/{n}" for n in range(workers)]


def test_context_not_visible_in_a_new_thread(app: Demijohn) -> None:
    seen: list[bool] = []
    with app.test_request_context():
        thread = threading.Thread(
            target=lambda: seen.append(has_app_context() or has_request_context())
        )
        thread.start()
        thread.join()
    assert seen == [False]


def test_failed_push_leaves_nothing_bound(app: Demijohn) -> None:
    from demijohn import appcontext_pushed

    def broken(sender: object, **kwargs: object) -> None:
        raise LookupError("receiver failed")

    with appcontext_pushed.connected_to(broken, app):
        with pytest.raises(LookupError, match="receiver failed"), app.app_context():
            pass  # pragma: no cover - the push fails
        assert _cv_app.get(None) is None
        with pytest.raises(LookupError), app.test_request_context():
            pass  # pragma: no cover - the push fails
        assert _cv_app.get(None) is None
        assert _cv_request.get(None) is None
    with app.app_context():
        assert current_app._get_current_object() is app  # type: ignore[attr-defined]


def test_failed_push_during_request_raises_the_real_error(
    app: Demijohn, client: DemijohnClient
) -> None:
    from demijohn import appcontext_pushed

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.route("/")(lambda: "ok")

    def broken(sender: object, **kwargs: object) -> None:
        raise LookupError("receiver failed")

    with (
        appcontext_pushed.connected_to(broken, app),
        pytest.raises(LookupError, match="receiver failed"),
    ):
        client.get("/")
    assert _cv_app.get(None) is None
    assert client.get("/").text == "ok"
