"""The plain lane (see ``Lifecycle._plain_lane_view``) must be invisible:
every request it serves gets exactly the response the regular lifecycle
steps give.

Each case is served twice, by two copies of one application: one takes the
lane, the other is kept off it by a ``before_request`` hook that does
nothing. Status, headers and body must be identical, under both protocols.
"""

from __future__ import annotations

import time
import typing as t

import pytest

from demijohn import (
    Blueprint,
    Demijohn,
    Response,
    abort,
    after_this_request,
    g,
    has_request_context,
    request,
    session,
    stream_with_context,
    url_for,
)
from demijohn.testing import DemijohnClient


class _LaneCounter:
    """Counts the requests an application served through the plain lane:
    its general form (``_plain_lane_view``) or the WSGI lane's
    (``_serve_in_lane``), which calls the view itself."""

    def __init__(self, app: Demijohn) -> None:
        self.taken = 0
        original = app._plain_lane_view
        original_wsgi = app._serve_in_lane

        def counting(ctx: t.Any) -> t.Any:
            target = original(ctx)
            if target is not None:
                self.taken += 1
            return target

        def counting_wsgi(*args: t.Any) -> t.Any:
            try:
                served = original_wsgi(*args)
            except Exception:
                # The view's error, which no handler turned into a response.
                self.taken += 1
                raise
            if served != (None, None):
                self.taken += 1
            return served

        app._plain_lane_view = counting  # type: ignore[method-assign]
        app._serve_in_lane = counting_wsgi  # type: ignore[method-assign]


def _build(plain: bool, hooks: bool = False) -> Demijohn:
    app = Demijohn("lane_test_app", root_path="/nonexistent-root")
    app.config.update(SECRET_KEY="test key", TORN=[])

    if not plain:
        # An instance attribute standing for a lifecycle method closes the
        # plain lane, whatever it does (here: the same as the method).
        app.make_response = app.make_response  # type: ignore[method-assign]

    if hooks:

        @app.url_value_preprocessor
        def double_numbers(
            endpoint: str | None, values: dict[str, t.Any] | None
        ) -> None:
            if values and "number" in values:
                values["number"] *= 2

        @app.before_request
        def hooks_speak_first() -> t.Any:
            g.seen = "hook"
            if request.args.get("stop") == "hook":
                return "stopped by the hook", 203
            if request.args.get("stop") == "raise":
                raise LookupError("raised by the hook")
            if request.args.get("stop") == "reroute":
                # dispatch_request reads what a hook leaves.
                request.view_args = {"number": 5, "name": "rerouted"}
            return None

        @app.after_request
        def stamp(response: Response) -> Response:
            response.headers["X-Seen"] = g.get("seen", "-")
            if request.args.get("stop") == "after":
                raise LookupError("raised by an after hook")
            return response

        @app.teardown_request
        def note_request(error: BaseException | None) -> None:
            app.config["TORN"].append(f"request {type(error).__name__}")
            if request.args.get("stop") == "teardown":
                raise RuntimeError("raised by a teardown function")

        @app.teardown_appcontext
        def note_app(error: BaseException | None) -> None:
            # Called once the request context is popped.
            bound = has_request_context()
            app.config["TORN"].append(f"app {type(error).__name__} {bound}")

        outer = Blueprint("outer", __name__, url_prefix="/outer")
        inner = Blueprint("inner", __name__, url_prefix="/inner")

        @outer.before_request
        def outer_first() -> None:
            g.seen = f"{g.get('seen')} outer"

        @inner.url_value_preprocessor
        def inner_values(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
            if values is not None:
                values["number"] = values["number"] + 100

        @inner.before_request
        def inner_next() -> t.Any:
            g.seen = f"{g.get('seen')} inner"
            return "stopped inside" if request.args.get("stop") == "inner" else None

        @inner.after_request
        def inner_after(response: Response) -> Response:
            if request.args.get("stop") == "replace":
                # The next function gets the response this one returns.
                response = Response("replaced by an after hook", 202)
            response.headers["X-Inner"] = g.seen
            return response

        @outer.after_request
        def outer_after(response: Response) -> Response:
            response.headers["X-Outer"] = response.headers.get("X-Inner", "-")
            return response

        @inner.teardown_request
        def inner_torn(error: BaseException | None) -> None:
            app.config["TORN"].append("inner")

        @inner.route("/<int:number>")
        def nested(number: int) -> str:
            return f"{g.seen} {number} {request.blueprints}"

        outer.register_blueprint(inner)
        app.register_blueprint(outer)

    @app.route("/text")
    def text() -> str:
        return "héllo wörld"

    @app.route("/bytes", methods=["GET", "POST"])
    def raw() -> bytes:
        return b"\x00raw bytes"

    @app.route("/dict")
    def mapping() -> dict[str, t.Any]:
        return {"b": [1, 2], "a": "é"}

    @app.route("/list")
    def listing() -> list[int]:
        return [3, 1, 2]

    @app.route("/tuple")
    def with_status() -> t.Any:
        return "made", 201, {"X-Extra": "yes"}

    @app.route("/response")
    def response_object() -> Response:
        return Response("custom", mimetype="text/plain", headers={"X-R": "1"})

    @app.route("/none")
    def returns_none() -> None:
        return None

    @app.route("/abort")
    def aborts() -> str:
        abort(418)

    @app.route("/crash")
    def crashes() -> str:
        raise KeyError("boom")

    @app.route("/handled")
    def handled() -> str:
        raise LookupError("handled by a handler")

    @app.errorhandler(LookupError)
    def lookup_failed(e: LookupError) -> t.Any:
        if isinstance(e, KeyError):
            raise e
        return f"handled: {e}", 409

    @app.route("/stream")
    def stream() -> t.Any:
        def generate() -> t.Iterator[str]:
            yield "a"
            yield request.path

        return stream_with_context(generate())

    @app.route("/session-write")
    def session_write() -> str:
        session["n"] = session.get("n", 0) + 1
        return f"n={session['n']}"

    @app.route("/session-read")
    def session_read() -> str:
        return f"n={session.get('n')}"

    @app.route("/after-this")
    def after_this() -> str:
        @after_this_request
        def add_header(response: Response) -> Response:
            response.headers["X-After"] = "ran"
            return response

        return "after"

    @app.route("/urls/<int:number>/<name>")
    def urls(number: int, name: str) -> str:
        g.seen = f"{g.get('seen')} {number}"
        return (
            f"{url_for('urls', number=number + 1, name=name)}"
            f" {url_for('text', _external=True)} {g.seen}"
        )

    @app.route("/slash/")
    def slash() -> str:
        return "slash"

    @app.route("/post-only", methods=["POST"])
    def post_only() -> str:
        return request.get_data(as_text=True)

    return app


def _exchange(client: DemijohnClient, method: str, path: str, **kw: t.Any) -> t.Any:
    response = client.open(path, method=method, **kw)
    try:
        return (
            response.status,
            sorted(response.headers.items()),
            response.get_data(),
        )
    finally:
        response.close()


def _outcome(client: DemijohnClient, method: str, path: str, **kw: t.Any) -> t.Any:
    """The exchange, or the error a teardown function let out (which
    reaches the server, as in Flask)."""
    try:
        return _exchange(client, method, path, **kw)
    except RuntimeError as e:
        return repr(e)


CASES = [
    ("GET", "/text"),
    ("HEAD", "/text"),
    ("GET", "/bytes"),
    ("POST", "/bytes"),
    ("GET", "/dict"),
    ("HEAD", "/dict"),
    ("GET", "/list"),
    ("GET", "/tuple"),
    ("GET", "/response"),
    ("GET", "/none"),
    ("GET", "/abort"),
    ("GET", "/crash"),
    ("GET", "/handled"),
    ("GET", "/stream"),
    ("GET", "/after-this"),
    ("GET", "/urls/41/ann"),
    ("GET", "/urls/x/ann"),
    ("GET", "/slash"),
    ("OPTIONS", "/text"),
    ("PUT", "/text"),
    ("GET", "/post-only"),
    ("POST", "/post-only"),
    ("GET", "/missing"),
    ("GET", "//text"),
]


HOOKED_CASES = [
    ("GET", "/text"),
    ("GET", "/text?stop=hook"),
    ("GET", "/text?stop=raise"),
    ("GET", "/urls/41/ann"),
    ("GET", "/urls/41/ann?stop=hook"),
    ("GET", "/crash"),
    ("GET", "/missing"),
    ("HEAD", "/dict"),
    ("GET", "/urls/41/ann?stop=reroute"),
    ("GET", "/text?stop=after"),
    ("GET", "/text?stop=teardown"),
    ("GET", "/after-this"),
    ("GET", "/session-write"),
    ("GET", "/outer/inner/3"),
    ("GET", "/outer/inner/3?stop=inner"),
    ("GET", "/outer/inner/3?stop=hook"),
    ("GET", "/outer/inner/3?stop=replace"),
    ("GET", "/outer/inner/x"),
]


@pytest.fixture
def one_second(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both apps sign session cookies at the same second: a signature holds
    the time, and the answers are compared byte for byte."""
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)


@pytest.mark.usefixtures("one_second")
@pytest.mark.parametrize("hooks", [False, True], ids=["no-hooks", "hooks"])
@pytest.mark.parametrize(("method", "path"), CASES + HOOKED_CASES)
def test_the_lane_answers_as_the_regular_steps_do(
    make_client: t.Callable[..., DemijohnClient], method: str, path: str, hooks: bool
) -> None:
    lane_app = _build(plain=True, hooks=hooks)
    regular_app = _build(plain=False, hooks=hooks)
    kwargs = {"data": b"posted body"} if method == "POST" else {}

    lane = _outcome(make_client(lane_app), method, path, **kwargs)
    regular = _outcome(make_client(regular_app), method, path, **kwargs)

    assert lane == regular
    # The teardown functions ran alike, with the same error.
    assert lane_app.config["TORN"] == regular_app.config["TORN"]


def test_plain_requests_take_the_lane_and_overrides_keep_them_off(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    lane_app, regular_app = _build(plain=True), _build(plain=False)
    hooked_app = _build(plain=True, hooks=True)
    counters = [_LaneCounter(app) for app in (lane_app, regular_app, hooked_app)]
    for path in ("/text", "/dict", "/urls/1/a", "/crash"):
        for app in (lane_app, regular_app, hooked_app):
            make_client(app).get(path).close()
    # before_request hooks run as steps inside the lane.
    assert [counter.taken for counter in counters] == [4, 0, 4]


def test_sessions_round_trip_the_same_on_and_off_the_lane(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    for plain in (True, False):
        client = make_client(_build(plain=plain))
        assert client.get("/session-read").get_data() == b"n=None"
        assert client.get("/session-write").get_data() == b"n=1"
        # The cookie comes back: a session cookie keeps later requests off
        # the lane, and the session is read and refreshed as before.
        assert client.get("/session-write").get_data() == b"n=2"
        assert client.get("/session-read").get_data() == b"n=2"


def test_blueprint_hooks_run_for_its_routes_only(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    from demijohn import Blueprint

    app = Demijohn("lane_blueprint_app", root_path="/nonexistent-root")
    bp = Blueprint("bp", __name__)
    calls: list[str] = []

    @bp.before_request
    def before() -> None:
        calls.append("before")

    @bp.after_request
    def after(response: Response) -> Response:
        response.headers["X-Bp"] = "after"
        return response

    @bp.route("/inside")
    def inside() -> str:
        return "inside"

    @app.route("/outside")
    def outside() -> str:
        return "outside"

    app.register_blueprint(bp, url_prefix="/bp")
    counter = _LaneCounter(app)
    client = make_client(app)

    inside_response = client.get("/bp/inside")
    assert inside_response.headers["X-Bp"] == "after"
    assert calls == ["before"]
    outside_response = client.get("/outside")
    assert outside_response.get_data() == b"outside"
    assert "X-Bp" not in outside_response.headers
    assert calls == ["before"]
    # Both on the lane: the blueprint's hooks run as steps within it.
    assert counter.taken == 2


def test_signal_receivers_and_after_request_functions_see_every_response(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    from demijohn.signals import request_finished

    app = _build(plain=True)
    counter = _LaneCounter(app)
    finished: list[int] = []

    def on_finished(sender: Demijohn, response: Response, **extra: t.Any) -> None:
        finished.append(response.status_code)

    with request_finished.connected_to(on_finished, app):
        assert make_client(app).get("/text").status_code == 200
    assert finished == [200]
    # The lane was entered but left for finalize_request, which sends it.
    assert counter.taken == 1


def test_a_subclass_overriding_a_step_never_takes_the_lane(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    class Custom(Demijohn):
        def process_response(self, response: Response) -> Response:
            response = super().process_response(response)
            response.headers["X-Processed"] = "by the override"
            return response

    app = Custom("lane_subclass_app", root_path="/nonexistent-root")

    @app.route("/")
    def index() -> str:
        return "index"

    assert make_client(app).get("/").headers["X-Processed"] == "by the override"


def test_a_404_handler_or_a_custom_response_class_sees_unmatched_urls(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    class Tagged(Response):
        def get_wsgi_headers(self, environ: t.Any) -> t.Any:
            headers = super().get_wsgi_headers(environ)
            headers["X-Tagged"] = "yes"
            return headers

    handled = Demijohn("lane_404_handler", root_path="/nonexistent-root")

    @handled.errorhandler(404)
    def not_found(e: Exception) -> t.Any:
        return "custom 404", 404

    tagged = Demijohn("lane_404_tagged", root_path="/nonexistent-root")
    tagged.response_class = Tagged

    @tagged.route("/")
    def index() -> str:
        return "index"

    handled_response = make_client(handled).get("/nope")
    assert (handled_response.status_code, handled_response.get_data()) == (
        404,
        b"custom 404",
    )
    tagged_client = make_client(tagged)
    assert tagged_client.get("/nope").headers["X-Tagged"] == "yes"
    assert tagged_client.get("/").headers["X-Tagged"] == "yes"


def test_an_unmatched_url_answers_werkzeugs_404_page_on_the_lane(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    from werkzeug.exceptions import NotFound

    app = _build(plain=True)
    counter = _LaneCounter(app)
    client = make_client(app)
    for _ in range(2):  # the page is rendered once, then reused
        response = client.get("/no/such/page")
        assert response.status == "404 NOT FOUND"
        assert response.get_data() == NotFound().get_body().encode()
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert counter.taken == 2
    head = client.head("/no/such/page")
    assert head.get_data() == b""
    assert head.headers["Content-Length"] == str(len(NotFound().get_body().encode()))


def test_before_request_functions_still_run_for_unmatched_urls(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    app = _build(plain=True)
    seen: list[str | None] = []

    @app.before_request
    def record() -> None:
        seen.append(request.endpoint)

    assert make_client(app).get("/no/such/page").status_code == 404
    assert seen == [None]


def test_a_map_that_refuses_a_host_when_binding_still_answers_its_error(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    from werkzeug.exceptions import Forbidden
    from werkzeug.routing import Map

    class TenantMap(Map):
        def bind_to_environ(self, environ: t.Any, *args: t.Any, **kw: t.Any) -> t.Any:
            if environ.get("HTTP_HOST") == "blocked.test":
                raise Forbidden("unknown tenant")
            return super().bind_to_environ(environ, *args, **kw)

    class TenantApp(Demijohn):
        url_map_class = TenantMap

    app = TenantApp("lane_tenant_app", root_path="/nonexistent-root")

    @app.route("/")
    def index() -> str:
        return "index"

    client = make_client(app)
    assert client.get("/").get_data() == b"index"
    refused = client.get("/", headers={"Host": "blocked.test"})
    assert refused.status_code == 403
    assert b"unknown tenant" in refused.get_data()


def test_rules_added_to_the_url_map_directly_are_served(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    # Werkzeug's own Rule objects lack the attributes add_url_rule sets,
    # such as provide_automatic_options.
    from werkzeug.routing import Rule, Submount

    app = Demijohn("lane_direct_rules", root_path="/nonexistent-root")
    app.url_map.add(
        Submount("/foo", [Rule("/bar", endpoint="bar"), Rule("/", endpoint="index")])
    )
    app.view_functions["bar"] = lambda: "bar"
    app.view_functions["index"] = lambda: "index"
    client = make_client(app)
    assert client.get("/foo/").get_data() == b"index"
    assert client.get("/foo/bar").get_data() == b"bar"
    assert client.options("/foo/bar").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/text"),
        ("GET", "/text?stop=hook"),
        ("GET", "/urls/41/ann"),
        ("GET", "/outer/inner/3"),
        ("GET", "/crash"),
        ("GET", "/missing"),
        ("GET", "/text?signal=raise"),
    ],
)
def test_start_signals_are_sent_alike_on_and_off_the_lane(
    make_client: t.Callable[..., DemijohnClient],
    protocol: str,
    method: str,
    path: str,
) -> None:
    outcomes = []
    for plain in (True, False):
        app = _build(plain=plain, hooks=True)
        counter = _LaneCounter(app)
        exchange, events = _serve_with_start_receivers(
            app, make_client(app), method, path
        )
        outcomes.append((exchange, events, app.config["TORN"]))
        if plain and protocol == "wsgi" and path != "/missing":
            # Receivers of these two signals keep the WSGI lane open (under
            # ASGI these plain def views go the general way anyway).
            assert counter.taken == 1
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1]  # the receivers heard something


def _serve_with_start_receivers(
    app: Demijohn, client: DemijohnClient, method: str, path: str
) -> tuple[t.Any, list[str]]:
    """Serve one request with receivers of ``appcontext_pushed`` and
    ``request_started`` connected; returns the outcome and what they
    heard."""
    from demijohn.signals import appcontext_pushed, request_started

    events: list[str] = []

    def on_pushed(sender: Demijohn, **extra: t.Any) -> None:
        events.append(f"pushed {sender.name}")

    def on_started(sender: Demijohn, **extra: t.Any) -> None:
        # Sent with the URL matched, before the before_request functions.
        events.append(f"started {request.endpoint} {g.get('seen')}")
        if request.args.get("signal") == "raise":
            raise LookupError("raised by a receiver")

    with (
        appcontext_pushed.connected_to(on_pushed, app),
        request_started.connected_to(on_started, app),
    ):
        return _outcome(client, method, path), events


def test_a_failing_appcontext_pushed_receiver_binds_nothing(
    make_client: t.Callable[..., DemijohnClient],
) -> None:
    from demijohn import current_app
    from demijohn.signals import appcontext_pushed

    def refuse(sender: Demijohn, **extra: t.Any) -> None:
        raise RuntimeError("no context today")

    for plain in (True, False):
        app = _build(plain=plain, hooks=True)
        with (
            appcontext_pushed.connected_to(refuse, app),
            pytest.raises(RuntimeError, match="no context today"),
        ):
            make_client(app).get("/text")
        assert not current_app
        # Nothing was torn down: nothing was bound.
        assert app.config["TORN"] == []
