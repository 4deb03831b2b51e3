"""Request hooks: before/after/teardown, URL value preprocessors and defaults,
template and shell context processors."""

from __future__ import annotations

import logging
import typing as t

import pytest

from demijohn import (
    Demijohn,
    Response,
    current_app,
    g,
    render_template_string,
    request,
    url_for,
)
from demijohn.testing import DemijohnClient


def _no_propagation(app: Demijohn) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False


# -- before_request --------------------------------------------------------------


def test_before_request_runs_in_order_before_the_view(
    app: Demijohn, client: DemijohnClient
) -> None:
    order: list[str] = []
    app.before_request(lambda: order.append("first"))  # type: ignore[arg-type,func-returns-value]
    app.before_request(lambda: order.append("second"))  # type: ignore[arg-type,func-returns-value]

    @app.route("/")
    def index() -> str:
        order.append(f"view {request.path}")
        return "ok"

    assert client.get("/").text == "ok"
    assert order == ["first", "second", "view /"]


def test_before_request_returning_a_value_short_circuits(
    app: Demijohn, client: DemijohnClient
) -> None:
    order: list[str] = []

    @app.before_request
    def deny() -> tuple[str, int] | None:
        order.append("deny")
        if request.args.get("blocked"):
            return "blocked", 403
        return None

    @app.before_request
    def later() -> None:
        order.append("later")

    @app.after_request
    def after(response: Response) -> Response:
        order.append("after")
        return response

    @app.route("/")
    def index() -> str:
        order.append("view")
        return "ok"

    response = client.get("/?blocked=1")
    assert response.status_code == 403
    assert response.text == "blocked"
    # The response still goes through after_request.
    assert order == ["deny", "after"]
    order.clear()
    assert client.get("/").text == "ok"
    assert order == ["deny", "later", "view", "after"]


def test_before_request_runs_for_404(app: Demijohn, client: DemijohnClient) -> None:
    seen: list[str | None] = []
    app.before_request(lambda: seen.append(request.endpoint))  # type: ignore[arg-type,func-returns-value]
    assert client.get("/missing").status_code == 404
    assert seen == [None]


def test_before_request_sets_g_for_the_view(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.before_request
    def load_user() -> None:
        g.user = request.headers.get("X-User", "anonymous")

    @app.route("/")
    def index() -> str:
        return t.cast(str, g.user)

    assert client.get("/", headers={"X-User": "zoe"}).text == "zoe"
    assert client.get("/").text == "anonymous"


# -- after_request --------------------------------------------------------------


def test_after_request_runs_in_reverse_order_and_can_replace(
    app: Demijohn, client: DemijohnClient
) -> None:
    order: list[str] = []

    @app.after_request
    def registered_first(response: Response) -> Response:
        order.append("first")
        response.headers["X-Seen"] = response.get_data(as_text=True)
        return response

    @app.after_request
    def registered_second(response: Response) -> Response:
        order.append("second")
        return Response("replaced", status=202)

    @app.route("/")
    def index() -> str:
        return "original"

    response = client.get("/")
    assert order == ["second", "first"]
    assert response.status_code == 202
    assert response.text == "replaced"
    assert response.headers["X-Seen"] == "replaced"


def test_after_request_not_run_for_unhandled_exception(
    app: Demijohn, client: DemijohnClient
) -> None:
    _no_propagation(app)
    ran: list[int] = []

    @app.after_request
    def after(response: Response) -> Response:
        ran.append(response.status_code)
        return response

    @app.route("/")
    def index() -> str:
        raise ValueError("unhandled")

    assert client.get("/").status_code == 500
    # It runs once, for the generated 500 response, but never for the view.
    assert ran == [500]


def test_after_request_not_run_when_exception_propagates(
    app: Demijohn, client: DemijohnClient
) -> None:
    ran: list[Response] = []
    app.after_request(ran.append)  # type: ignore[arg-type]

    @app.route("/")
    def index() -> str:
        raise ValueError("unhandled")

    with pytest.raises(ValueError):
        client.get("/")
    assert ran == []


def test_after_request_runs_for_handled_errors(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.errorhandler(KeyError)
    def handle(e: KeyError) -> tuple[str, int]:
        return "handled", 400

    @app.after_request
    def after(response: Response) -> Response:
        response.headers["X-After"] = "yes"
        return response

    @app.route("/")
    def index() -> str:
        raise KeyError("x")

    response = client.get("/")
    assert response.status_code == 400
    assert response.headers["X-After"] == "yes"
    assert client.get("/missing").headers["X-After"] == "yes"


# -- teardown ------------------------------------------------------------------


def _record_teardown(app: Demijohn) -> list[tuple[str, BaseException | None]]:
    seen: list[tuple[str, BaseException | None]] = []

    @app.teardown_request
    def request_down(exc: BaseException | None) -> None:
        seen.append(("request", exc))

    @app.teardown_appcontext
    def app_down(exc: BaseException | None) -> None:
        seen.append(("app", exc))

    return seen


def test_teardown_receives_none_on_success(
    app: Demijohn, client: DemijohnClient
) -> None:
    seen = _record_teardown(app)
    app.route("/")(lambda: "ok")
    assert client.get("/").text == "ok"
    assert seen == [("request", None), ("app", None)]


def test_teardown_order_is_reversed(app: Demijohn, client: DemijohnClient) -> None:
    order: list[str] = []
    app.teardown_request(lambda exc: order.append("request 1"))
    app.teardown_request(lambda exc: order.append("request 2"))
    app.teardown_appcontext(lambda exc: order.append("app 1"))
    app.teardown_appcontext(lambda exc: order.append("app 2"))
    app.route("/")(lambda: "ok")
    client.get("/")
    assert order == ["request 2", "request 1", "app 2", "app 1"]


@pytest.mark.parametrize("where", ["view", "before_request", "after_request"])
def test_teardown_receives_the_unhandled_exception(
    app: Demijohn, client: DemijohnClient, where: str
) -> None:
    _no_propagation(app)
    seen = _record_teardown(app)
    error = ValueError(where)

    def fail(*args: t.Any) -> t.NoReturn:
        raise error

    if where == "before_request":
        app.before_request(fail)
    elif where == "after_request":
        app.after_request(fail)

    @app.route("/")
    def index() -> str:
        if where == "view":
            fail()
        return "ok"

    assert client.get("/").status_code == 500
    assert seen == [("request", error), ("app", error)]


def test_teardown_runs_when_exception_propagates(
    app: Demijohn, client: DemijohnClient
) -> None:
    seen = _record_teardown(app)
    error = LookupError("propagated")

    @app.route("/")
    def index() -> str:
        raise error

    with pytest.raises(LookupError):
        client.get("/")
    assert seen == [("request", error), ("app", error)]


def test_teardown_gets_none_for_handled_error(
    app: Demijohn, client: DemijohnClient
) -> None:
    seen = _record_teardown(app)
    app.register_error_handler(KeyError, lambda e: ("handled", 400))

    @app.route("/")
    def index() -> str:
        raise KeyError("x")

    assert client.get("/").status_code == 400
    assert seen == [("request", None), ("app", None)]


def test_every_teardown_runs_and_the_first_error_is_raised(
    app: Demijohn, client: DemijohnClient, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def failing(name: str) -> t.Callable[[BaseException | None], None]:
        def teardown(exc: BaseException | None) -> None:
            ran.append(name)
            raise RuntimeError(name)

        return teardown

    app.teardown_request(failing("request registered first"))
    app.teardown_request(failing("request registered last"))
    app.teardown_appcontext(lambda exc: ran.append("app"))  # type: ignore[func-returns-value]
    app.route("/")(lambda: "ok")

    with pytest.raises(RuntimeError, match="request registered last"):
        client.get("/")
    # Both request teardowns ran, and so did the app context's.
    assert ran == ["request registered last", "request registered first", "app"]
    assert "Another teardown function failed" in caplog.text


def test_failing_app_teardown_does_not_skip_the_others(app: Demijohn) -> None:
    ran: list[str] = []

    def broken(exc: BaseException | None) -> None:
        raise OSError("close failed")

    app.teardown_appcontext(lambda exc: ran.append("registered first"))  # type: ignore[func-returns-value]
    app.teardown_appcontext(broken)
    with pytest.raises(OSError, match="close failed"), app.app_context():
        pass
    assert ran == ["registered first"]


def test_teardown_request_signal(app: Demijohn, client: DemijohnClient) -> None:
    from demijohn import request_tearing_down

    seen: list[BaseException | None] = []

    def receiver(sender: Demijohn, exc: BaseException | None, **kw: t.Any) -> None:
        seen.append(exc)

    app.route("/")(lambda: "ok")
    with request_tearing_down.connected_to(receiver, app):
        client.get("/")
    assert seen == [None]


# -- URL processors ------------------------------------------------------------


def test_url_value_preprocessor_and_url_defaults(
    app: Demijohn, client: DemijohnClient
) -> None:
    calls: list[tuple[str | None, dict[str, t.Any] | None]] = []

    @app.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        calls.append((endpoint, dict(values or {})))
        g.lang = values.pop("lang", None) if values else None

    @app.url_defaults
    def add_lang(endpoint: str, values: dict[str, t.Any]) -> None:
        if "lang" in values or not current_app.url_map.is_endpoint_expecting(
            endpoint, "lang"
        ):
            return
        values["lang"] = g.lang

    @app.route("/<lang>/page/<int:n>")
    def page(n: int) -> str:
        return f"{g.lang} {n} {url_for('page', n=n + 1)}"

    assert client.get("/de/page/1").text == "de 1 /de/page/2"
    assert calls == [("page", {"lang": "de", "n": 1})]


def test_url_value_preprocessor_runs_before_before_request(
    app: Demijohn, client: DemijohnClient
) -> None:
    order: list[str] = []
    app.before_request(lambda: order.append("before"))  # type: ignore[arg-type,func-returns-value]
    app.url_value_preprocessor(lambda endpoint, values: order.append("preprocess"))  # type: ignore[func-returns-value]
    app.route("/")(lambda: "ok")
    client.get("/")
    assert order == ["preprocess", "before"]


def test_url_defaults_outside_request(app: Demijohn) -> None:
    app.config["SERVER_NAME"] = "example.org"
    app.url_defaults(lambda endpoint, values: values.setdefault("n", 7))
    app.route("/item/<int:n>", endpoint="item")(lambda n: str(n))
    with app.app_context():
        assert url_for("item") == "http://example.org/item/7"
        assert url_for("item", n=1) == "http://example.org/item/1"


# -- context processors --------------------------------------------------------


def test_context_processor(app: Demijohn, client: DemijohnClient) -> None:
    @app.context_processor
    def inject() -> dict[str, t.Any]:
        return {"site": "demo", "user": request.args.get("user", "nobody")}

    @app.route("/")
    def index() -> str:
        return render_template_string("{{ site }} {{ user }} {{ g.extra }}")

    @app.route("/override")
    def override() -> str:
        # Values given to the render call win.
        return render_template_string("{{ site }}", site="given")

    @app.before_request
    def set_extra() -> None:
        g.extra = "x"

    assert client.get("/?user=kim").text == "demo kim x"
    assert client.get("/override").text == "given"


def test_context_processor_in_app_context(app: Demijohn) -> None:
    app.context_processor(lambda: {"value": 42})
    with app.app_context():
        assert render_template_string("{{ value }}") == "42"


def test_shell_context_processor(app: Demijohn) -> None:
    @app.shell_context_processor
    def objects() -> dict[str, t.Any]:
        return {"answer": 42, "app": "overridden"}

    namespace = app.make_shell_context()
    assert namespace["answer"] == 42
    assert namespace["app"] == "overridden"
    assert "g" in namespace


def test_shell_context_defaults(app: Demijohn) -> None:
    namespace = app.make_shell_context()
    assert namespace["app"] is app
    assert namespace["g"] is g


# -- registration after the first request ------------------------------------


def test_hooks_refused_after_first_request(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.route("/")(lambda: "ok")
    client.get("/")
    with pytest.raises(AssertionError, match="before_request"):
        app.before_request(lambda: None)
    with pytest.raises(AssertionError, match="teardown_appcontext"):
        app.teardown_appcontext(lambda exc: None)


def test_logging_of_errors_in_hooks_does_not_break(
    app: Demijohn, client: DemijohnClient, caplog: pytest.LogCaptureFixture
) -> None:
    _no_propagation(app)

    @app.before_request
    def fail() -> None:
        raise RuntimeError("hook failed")

    app.route("/")(lambda: "ok")
    with caplog.at_level(logging.ERROR):
        assert client.get("/").status_code == 500
    assert "hook failed" in caplog.text
