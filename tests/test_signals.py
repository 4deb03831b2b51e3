"""The blinker signals: who sends them, with which arguments, in what order."""

from __future__ import annotations

import typing as t
from contextlib import ExitStack

import blinker
import pytest

import demijohn
from demijohn import (
    Demijohn,
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    before_render_template,
    flash,
    got_request_exception,
    message_flashed,
    render_template_string,
    request,
    request_finished,
    request_started,
    request_tearing_down,
    template_rendered,
)
from demijohn.testing import DemijohnClient

MakeClient = t.Callable[..., DemijohnClient]

ALL_SIGNALS = {
    "request_started": request_started,
    "request_finished": request_finished,
    "request_tearing_down": request_tearing_down,
    "got_request_exception": got_request_exception,
    "appcontext_pushed": appcontext_pushed,
    "appcontext_popped": appcontext_popped,
    "appcontext_tearing_down": appcontext_tearing_down,
    "template_rendered": template_rendered,
    "before_render_template": before_render_template,
    "message_flashed": message_flashed,
}


class Recorder:
    """Connects to every signal for one sender and records each send."""

    def __init__(self) -> None:
        self.events: list[tuple[str, t.Any, dict[str, t.Any]]] = []

    def names(self) -> list[str]:
        return [name for name, _, _ in self.events]

    def kwargs(self, name: str) -> list[dict[str, t.Any]]:
        return [kw for n, _, kw in self.events if n == name]

    def connect_all(self, stack: ExitStack, sender: t.Any) -> None:
        for name, signal in ALL_SIGNALS.items():
            stack.enter_context(signal.connected_to(self._receiver(name), sender))

    def _receiver(self, name: str) -> t.Callable[..., None]:
        def receive(sender: t.Any, **kwargs: t.Any) -> None:
            self.events.append((name, sender, kwargs))

        return receive


@pytest.fixture
def recorder(app: Demijohn) -> t.Iterator[Recorder]:
    rec = Recorder()
    with ExitStack() as stack:
        rec.connect_all(stack, app)
        yield rec


def test_signal_names_match_flask() -> None:
    import flask.signals

    for name, signal in ALL_SIGNALS.items():
        assert isinstance(signal, blinker.NamedSignal)
        assert signal.name == getattr(flask.signals, name).name
        assert getattr(demijohn.signals, name) is signal


def test_successful_request_order_and_arguments(
    app: Demijohn, recorder: Recorder, make_client: MakeClient
) -> None:
    @app.route("/")
    def index() -> str:
        flash("hello", "info")
        return render_template_string("{{ 1 }}")

    response = make_client(app).get("/")
    assert response.text == "1"
    assert recorder.names() == [
        "appcontext_pushed",
        "request_started",
        "message_flashed",
        "before_render_template",
        "template_rendered",
        "request_finished",
        "request_tearing_down",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]
    for _, sender, _ in recorder.events:
        assert sender is app
    assert recorder.kwargs("appcontext_pushed") == [{}]
    assert recorder.kwargs("request_started") == [{}]
    assert recorder.kwargs("message_flashed") == [
        {"message": "hello", "category": "info"}
    ]
    (finished,) = recorder.kwargs("request_finished")
    assert set(finished) == {"response"}
    assert finished["response"].status_code == 200
    assert finished["response"].get_data() == b"1"
    assert recorder.kwargs("request_tearing_down") == [{"exc": None}]
    assert recorder.kwargs("appcontext_tearing_down") == [{"exc": None}]
    assert recorder.kwargs("appcontext_popped") == [{}]
    (rendered,) = recorder.kwargs("template_rendered")
    assert set(rendered) == {"template", "context"}


def test_request_started_sent_before_before_request(
    app: Demijohn, make_client: MakeClient
) -> None:
    order: list[str] = []

    @app.before_request
    def before() -> None:
        order.append("before_request")

    @app.after_request
    def after(response: t.Any) -> t.Any:
        order.append("after_request")
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        order.append("teardown_request")

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        order.append("teardown_appcontext")

    @app.route("/")
    def index() -> str:
        order.append("view")
        return "ok"

    def note(name: str) -> t.Callable[..., None]:
        return lambda sender, **kwargs: order.append(name)

    with ExitStack() as stack:
        for name in (
            "request_started",
            "request_finished",
            "request_tearing_down",
            "appcontext_tearing_down",
        ):
            stack.enter_context(ALL_SIGNALS[name].connected_to(note(name), app))
        make_client(app).get("/")

    assert order == [
        "request_started",
        "before_request",
        "view",
        "after_request",
        "request_finished",
        "teardown_request",
        "request_tearing_down",
        "teardown_appcontext",
        "appcontext_tearing_down",
    ]


def test_request_is_bound_in_request_signals(
    app: Demijohn, make_client: MakeClient
) -> None:
    paths: list[str] = []

    def record(sender: Demijohn, **kwargs: t.Any) -> None:
        paths.append(request.path)

    app.add_url_rule("/here", "here", lambda: "ok")
    with (
        request_started.connected_to(record, app),
        request_finished.connected_to(record, app),
        request_tearing_down.connected_to(record, app),
    ):
        make_client(app).get("/here")
    assert paths == ["/here", "/here", "/here"]


def test_request_finished_sees_final_response(
    app: Demijohn, make_client: MakeClient
) -> None:
    seen: list[t.Any] = []

    @app.after_request
    def replace(response: t.Any) -> t.Any:
        return app.response_class("replaced", status=202)

    app.add_url_rule("/", "index", lambda: "original")
    with request_finished.connected_to(
        lambda sender, response: seen.append(response), app
    ):
        response = make_client(app).get("/")
    assert response.status_code == 202
    assert seen[0].get_data() == b"replaced"


def test_unhandled_exception_signals_in_production(
    app: Demijohn, recorder: Recorder, make_client: MakeClient
) -> None:
    app.testing = False
    error = ZeroDivisionError("boom")

    @app.route("/")
    def index() -> str:
        raise error

    response = make_client(app).get("/")
    assert response.status_code == 500
    assert recorder.names() == [
        "appcontext_pushed",
        "request_started",
        "got_request_exception",
        "request_finished",
        "request_tearing_down",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]
    assert recorder.kwargs("got_request_exception") == [{"exception": error}]
    assert recorder.kwargs("request_finished")[0]["response"].status_code == 500
    assert recorder.kwargs("request_tearing_down") == [{"exc": error}]
    assert recorder.kwargs("appcontext_tearing_down") == [{"exc": error}]


def test_unhandled_exception_signals_when_propagating(
    app: Demijohn, recorder: Recorder, make_client: MakeClient
) -> None:
    error = KeyError("missing")

    @app.route("/")
    def index() -> str:
        raise error

    with pytest.raises(KeyError):
        make_client(app).get("/")
    assert recorder.names() == [
        "appcontext_pushed",
        "request_started",
        "got_request_exception",
        "request_tearing_down",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]
    assert recorder.kwargs("got_request_exception") == [{"exception": error}]
    assert recorder.kwargs("request_tearing_down") == [{"exc": error}]


def test_handled_exception_sends_no_got_request_exception(
    app: Demijohn, recorder: Recorder, make_client: MakeClient
) -> None:
    @app.errorhandler(ValueError)
    def handle(e: ValueError) -> tuple[str, int]:
        return "handled", 400

    @app.route("/")
    def index() -> str:
        raise ValueError

    assert make_client(app).get("/").status_code == 400
    assert "got_request_exception" not in recorder.names()
    assert recorder.kwargs("request_tearing_down") == [{"exc": None}]


def test_http_exception_sends_no_got_request_exception(
    app: Demijohn, recorder: Recorder, make_client: MakeClient
) -> None:
    assert make_client(app).get("/missing").status_code == 404
    assert "got_request_exception" not in recorder.names()
    assert recorder.kwargs("request_finished")[0]["response"].status_code == 404


def test_got_request_exception_receiver_sees_request(
    app: Demijohn, make_client: MakeClient
) -> None:
    app.testing = False
    seen: list[str] = []

    @app.route("/fail")
    def fail() -> str:
        raise RuntimeError

    with got_request_exception.connected_to(
        lambda sender, exception: seen.append(
            f"{request.path} {type(exception).__name__}"
        ),
        app,
    ):
        make_client(app).get("/fail")
    assert seen == ["/fail RuntimeError"]


def test_app_context_signals_outside_request(app: Demijohn, recorder: Recorder) -> None:
    with app.app_context():
        assert recorder.names() == ["appcontext_pushed"]
    assert recorder.names() == [
        "appcontext_pushed",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]
    assert recorder.kwargs("appcontext_tearing_down") == [{"exc": None}]


def test_app_context_signals_with_exception(app: Demijohn, recorder: Recorder) -> None:
    error = LookupError("inside")
    with pytest.raises(LookupError), app.app_context():
        raise error
    assert recorder.kwargs("appcontext_tearing_down") == [{"exc": error}]
    assert recorder.names()[-1] == "appcontext_popped"


def test_appcontext_pushed_receiver_can_set_g(
    app: Demijohn, make_client: MakeClient
) -> None:
    from demijohn import g

    def set_user(sender: Demijohn, **kwargs: t.Any) -> None:
        g.user = "from signal"

    app.add_url_rule("/", "index", lambda: g.user)
    with appcontext_pushed.connected_to(set_user, app):
        assert make_client(app).get("/").text == "from signal"


def test_nested_app_context_push_sends_each_time(
    app: Demijohn, recorder: Recorder
) -> None:
    ctx = app.app_context()
    with ctx, ctx:
        pass
    assert recorder.names() == [
        "appcontext_pushed",
        "appcontext_pushed",
        "appcontext_popped",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]


def test_test_request_context_signals(app: Demijohn, recorder: Recorder) -> None:
    with app.test_request_context("/"):
        pass
    assert recorder.names() == [
        "appcontext_pushed",
        "request_tearing_down",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]


def test_nothing_sent_to_receiver_of_another_app(
    app: Demijohn, make_client: MakeClient
) -> None:
    other = Demijohn("other_app", root_path="/nonexistent-root")
    recorder = Recorder()
    app.testing = False

    @app.route("/")
    def index() -> str:
        flash("x")
        render_template_string("x")
        return "ok"

    @app.route("/fail")
    def fail() -> str:
        raise RuntimeError

    with ExitStack() as stack:
        recorder.connect_all(stack, other)
        client = make_client(app)
        client.get("/")
        client.get("/fail")
        with app.app_context():
            pass
    assert recorder.events == []


def test_receiver_for_any_sender_gets_every_app(
    app: Demijohn, make_client: MakeClient
) -> None:
    other = Demijohn("other_app", root_path="/nonexistent-root")
    other.add_url_rule("/", "index", lambda: "other")
    app.add_url_rule("/", "index", lambda: "app")
    senders: list[t.Any] = []

    def record(sender: t.Any, **kwargs: t.Any) -> None:
        senders.append(sender)

    request_started.connect(record)
    try:
        make_client(app).get("/")
        make_client(other).get("/")
    finally:
        request_started.disconnect(record)
    assert senders == [app, other]


def test_async_receiver_is_awaited(app: Demijohn, make_client: MakeClient) -> None:
    seen: list[str] = []

    async def receiver(sender: Demijohn, **kwargs: t.Any) -> None:
        seen.append(request.path)

    app.add_url_rule("/async", "index", lambda: "ok")
    with request_started.connected_to(receiver, app):
        assert make_client(app).get("/async").text == "ok"
    assert seen == ["/async"]


def test_receiver_error_in_request_started_is_handled(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.errorhandler(LookupError)
    def handle(e: LookupError) -> tuple[str, int]:
        return f"handled {e}", 418

    def fail(sender: Demijohn, **kwargs: t.Any) -> None:
        raise LookupError("from signal")

    app.add_url_rule("/", "index", lambda: "view")
    with request_started.connected_to(fail, app):
        response = make_client(app).get("/")
    assert response.status_code == 418
    assert response.text == "handled from signal"


def test_signals_cost_nothing_without_receivers(
    app: Demijohn, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []

    def spy(self: blinker.Signal, *args: t.Any, **kwargs: t.Any) -> list[t.Any]:
        sent.append(t.cast(blinker.NamedSignal, self).name)
        return []

    monkeypatch.setattr(blinker.Signal, "send", spy)
    app.testing = False

    @app.route("/")
    def index() -> str:
        flash("x")
        return render_template_string("x")

    @app.route("/fail")
    def fail() -> str:
        raise RuntimeError

    client = make_client(app)
    client.get("/")
    client.get("/fail")
    assert sent == []
