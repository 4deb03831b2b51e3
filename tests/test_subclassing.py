"""Every documented lifecycle method and ``*_class`` attribute can be
overridden in a subclass, and the lifecycle really calls the override."""

from __future__ import annotations

import typing as t

import pytest
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import MapAdapter

from demijohn import Demijohn, Request, Response, g, redirect, request
from demijohn.ctx import _AppCtxGlobals
from demijohn.testing import DemijohnClient
from demijohn.typing import ResponseReturnValue

MakeClient = t.Callable[[Demijohn], DemijohnClient]


def _build(cls: type[Demijohn], **config: t.Any) -> Demijohn:
    application = cls("subclass_test_app", root_path="/nonexistent-root")
    application.config.update(TESTING=True, SECRET_KEY="key", **config)
    return application


def test_handle_exception_override(make_client: MakeClient) -> None:
    seen: list[Exception] = []

    class App(Demijohn):
        def handle_exception(self, e: Exception) -> Response:
            seen.append(e)
            return self.response_class(f"custom 500: {e}", status=503)

    app = _build(App)
    error = ValueError("boom")

    @app.route("/")
    def index() -> str:
        raise error

    response = make_client(app).get("/")
    assert response.status_code == 503
    assert response.text == "custom 500: boom"
    assert seen == [error]


def test_handle_user_exception_override(make_client: MakeClient) -> None:
    class App(Demijohn):
        def handle_user_exception(
            self, e: Exception
        ) -> HTTPException | ResponseReturnValue:
            if isinstance(e, LookupError):
                return f"looked up {request.path}", 404
            return super().handle_user_exception(e)

    app = _build(App)

    @app.route("/lookup")
    def lookup() -> str:
        raise KeyError("x")

    @app.route("/other")
    def other() -> str:
        raise ValueError("x")

    client = make_client(app)
    response = client.get("/lookup")
    assert response.status_code == 404
    assert response.text == "looked up /lookup"
    # HTTP errors go through it too.
    assert client.get("/missing").status_code == 404
    with pytest.raises(ValueError):
        client.get("/other")


def test_handle_http_exception_override(make_client: MakeClient) -> None:
    class App(Demijohn):
        def handle_http_exception(
            self, e: HTTPException
        ) -> HTTPException | ResponseReturnValue:
            return {"code": e.code}, t.cast(int, e.code)

    app = _build(App)
    response = make_client(app).get("/missing")
    assert response.status_code == 404
    assert response.json == {"code": 404}


def test_make_response_override(make_client: MakeClient) -> None:
    class App(Demijohn):
        def make_response(self, rv: t.Any) -> Response:
            if isinstance(rv, int):
                return self.response_class(status=rv)
            return super().make_response(rv)

    app = _build(App)
    app.route("/int")(lambda: 204)
    app.add_url_rule("/str", "str", lambda: "text")
    client = make_client(app)
    assert client.get("/int").status_code == 204
    assert client.get("/str").text == "text"


def test_process_response_override(make_client: MakeClient) -> None:
    class App(Demijohn):
        def process_response(self, response: Response) -> Response:
            response = super().process_response(response)
            response.headers["X-Processed"] = "yes"
            return response

    app = _build(App, PROPAGATE_EXCEPTIONS=False)
    app.add_url_rule("/", "index", lambda: "ok")

    @app.route("/fail")
    def fail() -> str:
        raise ValueError()

    client = make_client(app)
    assert client.get("/").headers["X-Processed"] == "yes"
    assert client.get("/missing").headers["X-Processed"] == "yes"
    assert client.get("/fail").headers["X-Processed"] == "yes"


def test_dispatch_request_override(make_client: MakeClient) -> None:
    class App(Demijohn):
        def dispatch_request(self) -> ResponseReturnValue:
            rv = super().dispatch_request()
            return f"[{rv}]"  # type: ignore[str-bytes-safe]

    app = _build(App)
    app.route("/")(lambda: "view")
    assert make_client(app).get("/").text == "[view]"


def test_full_dispatch_request_override(make_client: MakeClient) -> None:
    calls: list[str] = []

    class App(Demijohn):
        def full_dispatch_request(self) -> Response:
            calls.append(request.path)
            response = super().full_dispatch_request()
            response.headers["X-Full"] = "1"
            return response

    app = _build(App)
    app.route("/")(lambda: "ok")
    response = make_client(app).get("/")
    assert response.headers["X-Full"] == "1"
    assert calls == ["/"]


def test_preprocess_request_override(make_client: MakeClient) -> None:
    class App(Demijohn):
        def preprocess_request(self) -> ResponseReturnValue | None:
            if "token" not in request.args:
                return "denied", 401
            return super().preprocess_request()

    app = _build(App)
    app.before_request(lambda: None)
    app.route("/")(lambda: "secret")
    client = make_client(app)
    assert client.get("/").status_code == 401
    assert client.get("/?token=1").text == "secret"


def test_finalize_request_override(make_client: MakeClient) -> None:
    class App(Demijohn):
        def finalize_request(
            self,
            rv: ResponseReturnValue | HTTPException,
            from_error_handler: bool = False,
        ) -> Response:
            response = super().finalize_request(rv, from_error_handler)
            response.headers["X-From-Error"] = str(from_error_handler)
            return response

    app = _build(App, PROPAGATE_EXCEPTIONS=False)
    app.route("/")(lambda: "ok")

    @app.route("/fail")
    def fail() -> str:
        raise ValueError()

    client = make_client(app)
    assert client.get("/").headers["X-From-Error"] == "False"
    assert client.get("/fail").headers["X-From-Error"] == "True"


def test_log_exception_override(make_client: MakeClient) -> None:
    logged: list[t.Any] = []

    class App(Demijohn):
        def log_exception(self, exc_info: t.Any) -> None:
            logged.append((request.path, exc_info[0]))

    app = _build(App, PROPAGATE_EXCEPTIONS=False)

    @app.route("/")
    def index() -> str:
        raise KeyError()

    assert make_client(app).get("/").status_code == 500
    assert logged == [("/", KeyError)]


def test_create_url_adapter_override(make_client: MakeClient) -> None:
    calls: list[Request | None] = []

    class App(Demijohn):
        def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
            calls.append(request)
            if request is None:
                return self.url_map.bind("adapter.example", url_scheme="https")
            return super().create_url_adapter(request)

    app = _build(App)
    app.route("/page")(lambda: "page")
    assert make_client(app).get("/page").text == "page"
    assert any(isinstance(call, Request) for call in calls)

    from demijohn import url_for

    calls.clear()
    with app.app_context():
        assert url_for("<lambda>") == "https://adapter.example/page"
    assert calls == [None]


def test_trap_http_exception_override(make_client: MakeClient) -> None:
    class App(Demijohn):
        def trap_http_exception(self, e: Exception) -> bool:
            return getattr(e, "code", None) == 404

    app = _build(App)
    client = make_client(app)
    with pytest.raises(HTTPException):
        client.get("/missing")


def test_should_ignore_error_override(make_client: MakeClient) -> None:
    torn_down: list[BaseException | None] = []

    class App(Demijohn):
        def should_ignore_error(self, error: BaseException | None) -> bool:
            return isinstance(error, KeyError)

    app = _build(App, PROPAGATE_EXCEPTIONS=False)
    app.teardown_request(torn_down.append)

    @app.route("/<name>")
    def index(name: str) -> str:
        raise KeyError(name) if name == "key" else ValueError(name)

    client = make_client(app)
    client.get("/key")
    client.get("/value")
    assert torn_down[0] is None
    assert isinstance(torn_down[1], ValueError)


def test_do_teardown_overrides(make_client: MakeClient) -> None:
    calls: list[str] = []

    class App(Demijohn):
        def do_teardown_request(self, exc: BaseException | None = None) -> None:
            calls.append(f"request {request.path}")
            super().do_teardown_request(exc)

        def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
            calls.append(f"app {g.get('marker')}")
            super().do_teardown_appcontext(exc)

    app = _build(App)

    @app.route("/")
    def index() -> str:
        g.marker = "set"
        return "ok"

    make_client(app).get("/")
    assert calls == ["request /", "app set"]


def test_redirect_override(make_client: MakeClient) -> None:
    class App(Demijohn):
        def redirect(self, location: str, code: int = 302) -> t.Any:
            return super().redirect(f"/prefix{location}", code=303)

    app = _build(App)
    app.route("/")(lambda: redirect("/target"))
    response = make_client(app).get("/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/prefix/target"


def test_request_class(make_client: MakeClient) -> None:
    class MyRequest(Request):
        @property
        def shout(self) -> str:
            return self.args.get("say", "").upper()

    class App(Demijohn):
        request_class = MyRequest

    app = _build(App)

    @app.route("/")
    def index() -> str:
        assert isinstance(request._get_current_object(), MyRequest)  # type: ignore[attr-defined]
        return request.shout  # type: ignore[attr-defined,no-any-return]

    assert make_client(app).get("/?say=hi").text == "HI"
    with app.test_request_context():
        assert isinstance(request._get_current_object(), MyRequest)  # type: ignore[attr-defined]


def test_response_class(make_client: MakeClient) -> None:
    class MyResponse(Response):
        default_mimetype = "text/plain"

    class App(Demijohn):
        response_class = MyResponse

    app = _build(App)
    types: list[type] = []

    @app.after_request
    def check(response: Response) -> Response:
        types.append(type(response))
        return response

    app.route("/")(lambda: "plain")
    response = make_client(app).get("/")
    assert response.mimetype == "text/plain"
    assert types == [MyResponse]


def test_app_ctx_globals_class(make_client: MakeClient) -> None:
    class MyGlobals(_AppCtxGlobals):
        def __init__(self) -> None:
            self.counter = 0

    class App(Demijohn):
        app_ctx_globals_class = MyGlobals

    app = _build(App)

    @app.route("/")
    def index() -> str:
        g.counter += 1
        return str(g.counter)

    assert make_client(app).get("/").text == "1"
    with app.app_context():
        assert isinstance(g._get_current_object(), MyGlobals)  # type: ignore[attr-defined]


def test_g_is_one_namespace_per_context_made_when_first_used(
    make_client: MakeClient,
) -> None:
    made: list[object] = []

    class CountingGlobals(_AppCtxGlobals):
        def __init__(self) -> None:
            made.append(self)

    class App(Demijohn):
        app_ctx_globals_class = CountingGlobals

    app = _build(App)
    app.route("/plain")(lambda: "plain")

    @app.route("/twice")
    def twice() -> str:
        g.value = "set"
        return f"{g.value} {g._get_current_object() is made[-1]}"  # type: ignore[attr-defined]

    client = make_client(app)
    assert client.get("/plain").text == "plain"
    assert made == []
    assert client.get("/twice").text == "set True"
    assert client.get("/twice").text == "set True"
    assert len(made) == 2
    with app.app_context() as ctx:
        replacement = CountingGlobals()
        ctx.g = replacement
        assert g._get_current_object() is replacement  # type: ignore[attr-defined]


def test_test_client_class() -> None:
    class MyClient(DemijohnClient):
        pass

    class App(Demijohn):
        test_client_class = MyClient

    app = _build(App)
    client = app.test_client()
    assert isinstance(client, MyClient)
    assert client.application is app


def test_ensure_sync_override_wraps_every_callable_under_wsgi() -> None:
    # The WSGI path calls every view, hook and handler through ensure_sync;
    # the ASGI path awaits coroutine functions itself.
    wrapped: list[str] = []

    class App(Demijohn):
        def ensure_sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
            def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
                wrapped.append(getattr(func, "__name__", repr(func)))
                return super(App, self).ensure_sync(func)(*args, **kwargs)

            return wrapper

    app = _build(App)

    @app.before_request
    def before() -> None:
        pass

    @app.after_request
    def after(response: Response) -> Response:
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        pass

    @app.errorhandler(KeyError)
    def handler(e: KeyError) -> tuple[str, int]:
        return "handled", 400

    @app.route("/")
    def view() -> str:
        raise KeyError()

    assert app.test_client().get("/").status_code == 400
    assert wrapped == ["before", "view", "handler", "after", "teardown"]


def test_internal_server_error_handler_in_subclass(make_client: MakeClient) -> None:
    class App(Demijohn):
        pass

    app = _build(App, PROPAGATE_EXCEPTIONS=False)

    @app.errorhandler(InternalServerError)
    def handler(e: InternalServerError) -> tuple[str, int]:
        return f"wrapped {type(e.original_exception).__name__}", 500

    @app.route("/")
    def index() -> str:
        raise OSError()

    assert make_client(app).get("/").text == "wrapped OSError"
