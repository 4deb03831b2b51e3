"""Message flashing: flash, get_flashed_messages and the message_flashed signal."""

from __future__ import annotations

import typing as t

import pytest
from markupsafe import Markup

from demijohn import (
    Demijohn,
    flash,
    get_flashed_messages,
    message_flashed,
    redirect,
    session,
)
from demijohn.testing import DemijohnClient

MakeClient = t.Callable[..., DemijohnClient]


@pytest.fixture
def fapp(app: Demijohn) -> Demijohn:
    @app.route("/flash")
    def do_flash() -> str:
        flash("plain")
        flash("careful", "warning")
        flash("broken", "error")
        flash(Markup("<b>bold</b>"), "info")
        return "flashed"

    @app.route("/messages")
    def messages() -> str:
        return repr(get_flashed_messages())

    @app.route("/categories")
    def categories() -> str:
        return repr(get_flashed_messages(with_categories=True))

    @app.route("/filtered")
    def filtered() -> str:
        return repr(get_flashed_messages(category_filter=["warning", "error"]))

    @app.route("/filtered-categories")
    def filtered_categories() -> str:
        return repr(get_flashed_messages(True, ["info"]))

    return app


def test_messages_are_shown_on_next_request(
    fapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(fapp)
    assert client.get("/flash").text == "flashed"
    assert client.get("/messages").text == repr(
        ["plain", "careful", "broken", Markup("<b>bold</b>")]
    )


def test_messages_are_consumed_once(fapp: Demijohn, make_client: MakeClient) -> None:
    client = make_client(fapp)
    client.get("/flash")
    client.get("/messages")
    assert client.get("/messages").text == "[]"


def test_with_categories(fapp: Demijohn, make_client: MakeClient) -> None:
    client = make_client(fapp)
    client.get("/flash")
    assert client.get("/categories").text == repr(
        [
            ("message", "plain"),
            ("warning", "careful"),
            ("error", "broken"),
            ("info", Markup("<b>bold</b>")),
        ]
    )


def test_category_filter(fapp: Demijohn, make_client: MakeClient) -> None:
    client = make_client(fapp)
    client.get("/flash")
    assert client.get("/filtered").text == "['careful', 'broken']"


def test_category_filter_with_categories(
    fapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(fapp)
    client.get("/flash")
    assert client.get("/filtered-categories").text == repr(
        [("info", Markup("<b>bold</b>"))]
    )


def test_filtered_read_still_consumes_all(
    fapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(fapp)
    client.get("/flash")
    client.get("/filtered")
    assert client.get("/messages").text == "[]"


def test_markup_survives_the_session(fapp: Demijohn, make_client: MakeClient) -> None:
    @fapp.route("/type")
    def message_type() -> str:
        return type(get_flashed_messages()[-1]).__name__

    client = make_client(fapp)
    client.get("/flash")
    assert client.get("/type").text == "Markup"


def test_same_list_within_one_request(app: Demijohn, make_client: MakeClient) -> None:
    @app.route("/flash")
    def do_flash() -> str:
        flash("one")
        flash("two", "warning")
        return ""

    @app.route("/twice")
    def twice() -> str:
        first = get_flashed_messages()
        second = get_flashed_messages()
        categorized = get_flashed_messages(with_categories=True)
        filtered = get_flashed_messages(category_filter=["warning"])
        assert first == second == ["one", "two"]
        assert categorized == [("message", "one"), ("warning", "two")]
        assert filtered == ["two"]
        return "ok"

    client = make_client(app)
    client.get("/flash")
    assert client.get("/twice").text == "ok"


def test_same_list_within_one_request_consumes_session(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/flash")
    def do_flash() -> str:
        flash("one")
        return ""

    @app.route("/read")
    def read() -> str:
        messages = get_flashed_messages()
        assert "_flashes" not in session
        return repr(messages + get_flashed_messages())

    client = make_client(app)
    client.get("/flash")
    assert client.get("/read").text == "['one', 'one']"
    assert client.get("/read").text == "[]"


def test_flash_then_read_in_same_request(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/")
    def index() -> str:
        flash("now")
        return repr(get_flashed_messages())

    client = make_client(app)
    assert client.get("/").text == "['now']"
    # Reading removed it from the session: nothing is left for later.
    assert client.get("/").text == "['now']"


def test_messages_flashed_after_reading_wait_for_next_request(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/")
    def index() -> str:
        before = get_flashed_messages()
        flash("later")
        return repr((before, get_flashed_messages()))

    @app.route("/next")
    def next_page() -> str:
        return repr(get_flashed_messages())

    client = make_client(app)
    assert client.get("/").text == "([], [])"
    assert client.get("/next").text == "['later']"


def test_flash_survives_redirect(app: Demijohn, make_client: MakeClient) -> None:
    @app.route("/save")
    def save() -> t.Any:
        flash("Saved!", "success")
        return redirect("/done")

    @app.route("/done")
    def done() -> str:
        return repr(get_flashed_messages(with_categories=True))

    response = make_client(app).get("/save", follow_redirects=True)
    assert response.text == "[('success', 'Saved!')]"


def test_messages_accumulate_over_requests(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/flash/<text>")
    def do_flash(text: str) -> str:
        flash(text)
        return ""

    app.add_url_rule("/messages", "messages", lambda: repr(get_flashed_messages()))
    client = make_client(app)
    client.get("/flash/a")
    client.get("/flash/b")
    assert client.get("/messages").text == "['a', 'b']"


def test_flash_without_secret_key_raises(
    app: Demijohn, make_client: MakeClient
) -> None:
    app.secret_key = None

    @app.route("/")
    def index() -> str:
        flash("x")
        return ""

    with pytest.raises(RuntimeError, match="secret key"):
        make_client(app).get("/")


def test_get_flashed_messages_without_secret_key_is_empty(
    app: Demijohn, make_client: MakeClient
) -> None:
    app.secret_key = None
    app.add_url_rule("/", "index", lambda: repr(get_flashed_messages()))
    assert make_client(app).get("/").text == "[]"


def test_flash_outside_request_raises() -> None:
    with pytest.raises(RuntimeError, match="request context"):
        flash("x")
    with pytest.raises(RuntimeError, match="request context"):
        get_flashed_messages()


def test_flashing_adds_vary_and_cookie(app: Demijohn, make_client: MakeClient) -> None:
    @app.route("/")
    def index() -> str:
        flash("x")
        return ""

    response = make_client(app).get("/")
    assert "Cookie" in response.vary
    assert response.headers.getlist("Set-Cookie")


# -- the message_flashed signal ----------------------------------------------


def test_message_flashed_signal(app: Demijohn, make_client: MakeClient) -> None:
    recorded: list[tuple[t.Any, str, str]] = []

    def record(sender: Demijohn, message: str, category: str) -> None:
        recorded.append((sender, message, category))

    @app.route("/")
    def index() -> str:
        flash("first")
        flash("second", "error")
        return ""

    with message_flashed.connected_to(record, app):
        make_client(app).get("/")
    assert recorded == [(app, "first", "message"), (app, "second", "error")]


def test_message_flashed_signal_sees_stored_message(
    app: Demijohn, make_client: MakeClient
) -> None:
    seen: list[t.Any] = []

    def record(sender: Demijohn, message: str, category: str) -> None:
        seen.append(list(session["_flashes"]))

    @app.route("/")
    def index() -> str:
        flash("x", "c")
        return ""

    with message_flashed.connected_to(record, app):
        make_client(app).get("/")
    assert seen == [[("c", "x")]]


def test_message_flashed_not_sent_for_other_app(
    app: Demijohn, make_client: MakeClient
) -> None:
    other = Demijohn("other", root_path="/nonexistent-root")
    recorded: list[t.Any] = []

    @app.route("/")
    def index() -> str:
        flash("x")
        return ""

    with message_flashed.connected_to(lambda s, **kw: recorded.append(kw), other):
        make_client(app).get("/")
    assert recorded == []
