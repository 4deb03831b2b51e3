"""Sessions through the application and the test client."""

from __future__ import annotations

import hashlib
import json
import typing as t
from datetime import datetime, timedelta, timezone

import flask
import pytest
from itsdangerous import URLSafeTimedSerializer
from werkzeug.http import parse_cookie, parse_date

from demijohn import Demijohn, session
from demijohn.globals import request_ctx
from demijohn.sessions import (
    NullSession,
    SecureCookieSession,
    SecureCookieSessionInterface,
    SessionInterface,
    SessionMixin,
)
from demijohn.testing import DemijohnClient
from demijohn.wrappers import Request, Response

MakeClient = t.Callable[..., DemijohnClient]


def set_cookie_headers(response: t.Any) -> list[str]:
    return t.cast(list[str], response.headers.getlist("Set-Cookie"))


def cookie_attributes(header: str) -> dict[str, str]:
    """Parse the attributes of one Set-Cookie header, lower-cased names."""
    parts = [part.strip() for part in header.split(";")]
    attributes: dict[str, str] = {}
    for part in parts[1:]:
        name, _, value = part.partition("=")
        attributes[name.lower()] = value
    return attributes


@pytest.fixture
def sapp(app: Demijohn) -> Demijohn:
    """An app with views that write, read, clear and ignore the session."""

    @app.route("/set/<key>/<value>")
    def set_value(key: str, value: str) -> str:
        session[key] = value
        return "set"

    @app.route("/get/<key>")
    def get_value(key: str) -> str:
        return repr(session.get(key))

    @app.route("/all")
    def get_all() -> str:
        return repr(sorted(session.items()))

    @app.route("/delete/<key>")
    def delete_value(key: str) -> str:
        del session[key]
        return "deleted"

    @app.route("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"

    @app.route("/permanent")
    def make_permanent() -> str:
        session.permanent = True
        session["p"] = "yes"
        return "permanent"

    @app.route("/untouched")
    def untouched() -> str:
        return "untouched"

    return app


# -- basic persistence ---------------------------------------------------------


def test_session_persists_across_requests(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    assert client.get("/get/user").text == "None"
    response = client.get("/set/user/ann")
    assert response.text == "set"
    assert len(set_cookie_headers(response)) == 1
    assert client.get("/get/user").text == "'ann'"
    client.get("/set/role/admin")
    assert client.get("/all").text == "[('role', 'admin'), ('user', 'ann')]"


def test_request_context_session_attribute_as_in_flask(sapp: Demijohn) -> None:
    # Flask keeps the request's session as the context's ``_session``,
    # which code written for Flask reads and replaces; demijohn opens the
    # session only when it is read there, without marking it accessed.
    client = sapp.test_client()
    with client:
        rv = client.get("/untouched")
        assert "cookie" not in rv.vary
        ctx = request_ctx._get_current_object()
        assert not ctx.session_opened
        untouched = ctx._session
        assert ctx.session_opened and untouched is ctx._session
        assert not untouched.accessed and not untouched.modified
    with client:
        rv = client.get("/set/user/ann")
        assert "cookie" in rv.vary
        written = request_ctx._session
        assert written.accessed and written.modified and written["user"] == "ann"
    with sapp.test_request_context():
        replacement = sapp.session_interface.session_class({"user": "bob"})
        request_ctx._session = replacement
        assert session["user"] == "bob"
        assert request_ctx.session is replacement


def test_session_cookie_is_signed_not_plain(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.get("/set/user/ann")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.value.count(".") == 2
    assert cookie.http_only


def test_unmodified_session_is_not_resent(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.get("/set/user/ann")
    response = client.get("/get/user")
    assert response.text == "'ann'"
    assert set_cookie_headers(response) == []


def test_cookie_without_session_use_is_not_required(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    response = make_client(sapp).get("/get/user")
    assert response.text == "None"
    assert set_cookie_headers(response) == []


def test_modifying_nested_value_needs_modified_flag(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/init")
    def init() -> str:
        session["items"] = []
        return ""

    @app.route("/append/<flag>")
    def append(flag: str) -> str:
        session["items"].append(1)
        if flag == "yes":
            session.modified = True
        return ""

    @app.route("/count")
    def count() -> str:
        return str(len(session["items"]))

    client = make_client(app)
    client.get("/init")
    assert set_cookie_headers(client.get("/append/no")) == []
    assert client.get("/count").text == "0"
    assert len(set_cookie_headers(client.get("/append/yes"))) == 1
    assert client.get("/count").text == "1"


def test_session_changed_in_after_request_is_saved(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.after_request
    def remember(response: Response) -> Response:
        session["seen"] = True
        return response

    app.add_url_rule("/", "index", lambda: "ok")
    app.add_url_rule("/seen", "seen", lambda: repr(session.get("seen")))
    client = make_client(app)
    client.get("/")
    assert client.get("/seen").text == "True"


def test_session_is_saved_when_error_handler_answers(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.errorhandler(LookupError)
    def handle(e: LookupError) -> tuple[str, int]:
        return "handled", 400

    @app.route("/fail")
    def fail() -> str:
        session["before_error"] = "kept"
        raise LookupError

    app.add_url_rule("/read", "read", lambda: repr(session.get("before_error")))
    client = make_client(app)
    assert client.get("/fail").status_code == 400
    assert client.get("/read").text == "'kept'"


# -- Vary and accessed --------------------------------------------------------


def test_view_that_ignores_session_gets_no_vary_no_cookie(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.get("/set/user/ann")
    response = client.get("/untouched")
    assert response.text == "untouched"
    assert "Vary" not in response.headers
    assert set_cookie_headers(response) == []


@pytest.mark.parametrize(
    "read",
    [
        lambda: session.get("x"),
        lambda: "x" in session,
        lambda: len(session),
        lambda: list(session),
        lambda: session.keys(),
    ],
)
def test_reading_session_adds_vary_cookie(
    app: Demijohn, make_client: MakeClient, read: t.Callable[[], t.Any]
) -> None:
    @app.route("/")
    def index() -> str:
        read()
        return "ok"

    response = make_client(app).get("/")
    assert response.vary.as_set() == {"cookie"}
    assert set_cookie_headers(response) == []


def test_vary_cookie_is_added_to_existing_vary(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/")
    def index() -> tuple[str, dict[str, str]]:
        session.get("x")
        return "ok", {"Vary": "Accept-Encoding"}

    response = make_client(app).get("/")
    assert response.vary.as_set() == {"accept-encoding", "cookie"}


def test_writing_session_adds_vary_cookie(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    response = make_client(sapp).get("/set/a/b")
    assert "Cookie" in response.vary


# -- deleting -----------------------------------------------------------------


def test_clearing_session_deletes_cookie(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.get("/set/user/ann")
    response = client.get("/clear")
    (header,) = set_cookie_headers(response)
    attributes = cookie_attributes(header)
    assert header.startswith("session=;")
    assert attributes["max-age"] == "0"
    assert parse_date(attributes["expires"]) == datetime(
        1970, 1, 1, tzinfo=timezone.utc
    )
    assert "Cookie" in response.vary
    assert client.get_cookie("session") is None
    assert client.get("/get/user").text == "None"


def test_deleting_last_key_deletes_cookie(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.get("/set/user/ann")
    response = client.get("/delete/user")
    assert set_cookie_headers(response)[0].startswith("session=;")
    assert client.get_cookie("session") is None


def test_deleting_one_of_several_keys_rewrites_cookie(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.get("/set/a/1")
    client.get("/set/b/2")
    client.get("/delete/a")
    assert client.get("/all").text == "[('b', '2')]"


def test_clearing_empty_session_without_cookie_still_deletes(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    response = make_client(sapp).get("/clear")
    # clear() on an empty CallbackDict still counts as a modification.
    assert [h.split(";")[0] for h in set_cookie_headers(response)] == ["session="]


def test_deleting_missing_key_raises_key_error(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    with pytest.raises(KeyError):
        make_client(sapp).get("/delete/missing")


# -- permanence and expiry ---------------------------------------------------


def test_non_permanent_session_cookie_has_no_expiry(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    (header,) = set_cookie_headers(make_client(sapp).get("/set/a/b"))
    attributes = cookie_attributes(header)
    assert "expires" not in attributes
    assert "max-age" not in attributes


def test_permanent_session_expires_after_lifetime(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    sapp.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=2)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    (header,) = set_cookie_headers(make_client(sapp).get("/permanent"))
    after = datetime.now(timezone.utc)
    expires = parse_date(cookie_attributes(header)["expires"])
    assert expires is not None
    assert before + timedelta(hours=2) <= expires <= after + timedelta(hours=2)


def test_permanent_session_lifetime_as_seconds(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    sapp.config["PERMANENT_SESSION_LIFETIME"] = 60
    assert sapp.permanent_session_lifetime == timedelta(seconds=60)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    (header,) = set_cookie_headers(make_client(sapp).get("/permanent"))
    expires = parse_date(cookie_attributes(header)["expires"])
    assert expires is not None
    assert before + timedelta(seconds=60) <= expires <= before + timedelta(seconds=62)


def test_permanent_flag_persists(sapp: Demijohn, make_client: MakeClient) -> None:
    client = make_client(sapp)
    client.get("/permanent")
    with client.session_transaction() as sess:
        assert sess.permanent is True


def test_refresh_each_request_resends_permanent_cookie(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.get("/permanent")
    response = client.get("/untouched")
    (header,) = set_cookie_headers(response)
    assert "expires" in cookie_attributes(header)
    response = client.get("/get/p")
    assert response.text == "'yes'"
    assert len(set_cookie_headers(response)) == 1


def test_refresh_each_request_off_only_sends_on_change(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    sapp.config["SESSION_REFRESH_EACH_REQUEST"] = False
    client = make_client(sapp)
    assert len(set_cookie_headers(client.get("/permanent"))) == 1
    assert set_cookie_headers(client.get("/untouched")) == []
    assert set_cookie_headers(client.get("/get/p")) == []
    assert len(set_cookie_headers(client.get("/set/q/1"))) == 1


def test_refresh_each_request_ignores_non_permanent(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.get("/set/a/b")
    assert set_cookie_headers(client.get("/get/a")) == []
    untouched = client.get("/untouched")
    assert set_cookie_headers(untouched) == []
    assert untouched.headers.get("Vary") is None
    assert client.get("/get/a").text == "'b'"


def signed_cookie(secret_key: str | bytes, json_text: str) -> str:
    """A session cookie whose payload is ``json_text`` exactly, signed with
    ``secret_key`` as the session interface signs (which may compress it)."""

    class Verbatim:
        @staticmethod
        def dumps(text: str) -> str:
            return text

        loads = staticmethod(json.loads)

    signed = URLSafeTimedSerializer(
        secret_key,
        salt="cookie-session",
        serializer=Verbatim,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    ).dumps(json_text)
    # A serializer whose dumps({}) is not text makes itsdangerous return bytes.
    return signed.decode() if isinstance(signed, bytes) else signed


@pytest.mark.parametrize(
    "json_text",
    [
        pytest.param('{"_permanent":true,"p":"yes"}', id="plain"),
        pytest.param('{"\\u005fpermanent":true,"p":"yes"}', id="escaped-key"),
        pytest.param(
            '{"_permanent":true,"p":"yes","name":"Zo\\u00eb"}', id="escaped-value"
        ),
        pytest.param(
            '{"_permanent":true,"p":"yes","pad":"' + "ab" * 200 + '"}', id="compressed"
        ),
    ],
)
def test_untouched_permanent_session_is_refreshed_however_its_cookie_is_written(
    sapp: Demijohn, make_client: MakeClient, json_text: str
) -> None:
    # demijohn skips opening an untouched session whose cookie cannot be
    # permanent; any cookie that may be must still be refreshed.
    client = make_client(sapp)
    cookie = signed_cookie(sapp.secret_key, json_text)  # type: ignore[arg-type]
    if "pad" in json_text:
        assert cookie.startswith(".")
    client.set_cookie("session", cookie)
    response = client.get("/untouched")
    (header,) = set_cookie_headers(response)
    assert "expires" in cookie_attributes(header)
    assert client.get("/get/p").text == "'yes'"


def test_forged_permanent_cookie_on_an_untouched_request_sends_nothing(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    forged = signed_cookie("not the app's key", '{"_permanent":true}')
    client.set_cookie("session", forged)
    assert set_cookie_headers(client.get("/untouched")) == []


@pytest.mark.parametrize("where", ["instance", "class"])
def test_should_set_cookie_replaced_is_asked_on_untouched_requests(
    sapp: Demijohn,
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    client = make_client(sapp)
    client.get("/set/a/b")
    asked: list[bool] = []

    def always(self: t.Any, app: Demijohn, session_: t.Any) -> bool:
        asked.append(session_["a"] == "b")
        return True

    if where == "instance":
        monkeypatch.setattr(
            sapp.session_interface,
            "should_set_cookie",
            always.__get__(sapp.session_interface),
        )
    else:
        monkeypatch.setattr(SecureCookieSessionInterface, "should_set_cookie", always)
    assert len(set_cookie_headers(client.get("/untouched"))) == 1
    assert asked == [True]


def test_expired_cookie_gives_empty_session(
    sapp: Demijohn, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(sapp)
    client.get("/set/user/ann")
    sapp.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=10)
    import time

    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 60)
    response = client.get("/get/user")
    assert response.status_code == 200
    assert response.text == "None"


# -- bad cookies -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "",
        "a.b.c",
        "eyJ1c2VyIjoiYW5uIn0.ZZZZZZ.invalidsignature",
        "\u00e9\u00e9",
        "." * 50,
    ],
)
def test_garbage_cookie_gives_empty_session(
    sapp: Demijohn, make_client: MakeClient, value: str
) -> None:
    client = make_client(sapp)
    client.set_cookie("session", value)
    response = client.get("/all")
    assert response.status_code == 200
    assert response.text == "[]"


def test_tampered_cookie_gives_empty_session(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.get("/set/role/user")
    cookie = client.get_cookie("session")
    assert cookie is not None
    payload, timestamp, signature = cookie.value.split(".")
    import base64
    import json

    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    client.set_cookie("session", f"{forged}.{timestamp}.{signature}")
    response = client.get("/get/role")
    assert response.status_code == 200
    assert response.text == "None"


def test_cookie_signed_with_other_key_is_ignored(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.get("/set/user/ann")
    sapp.secret_key = "another key"
    assert client.get("/get/user").text == "None"


def test_writing_after_bad_cookie_replaces_it(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.set_cookie("session", "garbage")
    client.get("/set/user/ann")
    assert client.get("/get/user").text == "'ann'"


# -- secret keys ---------------------------------------------------------------


def test_secret_key_fallbacks_read_old_cookies_and_resign(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.get("/set/user/ann")
    sapp.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["older", "test key"])
    assert client.get("/get/user").text == "'ann'"
    client.get("/set/role/admin")
    sapp.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/all").text == "[('role', 'admin'), ('user', 'ann')]"


def test_without_fallback_old_cookie_is_rejected(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    client.get("/set/user/ann")
    sapp.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["older"])
    assert client.get("/get/user").text == "None"


def test_bytes_secret_key(sapp: Demijohn, make_client: MakeClient) -> None:
    sapp.secret_key = b"\x00binary key\xff"
    client = make_client(sapp)
    client.get("/set/user/ann")
    assert client.get("/get/user").text == "'ann'"


@pytest.mark.parametrize("key", [None, ""])
def test_write_without_secret_key_raises_explanation(
    sapp: Demijohn, make_client: MakeClient, key: str | None
) -> None:
    sapp.secret_key = key
    with pytest.raises(RuntimeError, match="no secret key was set") as exc_info:
        make_client(sapp).get("/set/a/b")
    assert "secret_key" in str(exc_info.value)


def test_read_without_secret_key_is_empty(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    sapp.secret_key = None
    client = make_client(sapp)
    client.set_cookie("session", "anything")
    response = client.get("/all")
    assert response.status_code == 200
    assert response.text == "[]"
    assert set_cookie_headers(response) == []


def test_write_without_secret_key_is_500_in_production(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    sapp.secret_key = None
    sapp.testing = False
    assert make_client(sapp).get("/set/a/b").status_code == 500


@pytest.mark.parametrize(
    "write",
    [
        lambda: session.clear(),
        lambda: session.update(a=1),
        lambda: session.setdefault("a", 1),
        lambda: session.pop("a", None),
        lambda: setattr(session, "permanent", True),
    ],
)
def test_every_write_without_secret_key_raises(
    app: Demijohn, write: t.Callable[[], t.Any]
) -> None:
    app.secret_key = None
    with app.test_request_context(), pytest.raises(RuntimeError, match="secret key"):
        write()


# -- cookie options ----------------------------------------------------------


def test_default_cookie_attributes(sapp: Demijohn, make_client: MakeClient) -> None:
    (header,) = set_cookie_headers(make_client(sapp).get("/set/a/b"))
    assert header.startswith("session=")
    attributes = cookie_attributes(header)
    assert attributes == {"httponly": "", "path": "/"}


def test_all_cookie_options(sapp: Demijohn, make_client: MakeClient) -> None:
    sapp.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PARTITIONED=True,
    )
    (header,) = set_cookie_headers(make_client(sapp).get("/set/a/b"))
    assert header.startswith("sid=")
    attributes = cookie_attributes(header)
    assert attributes == {
        "domain": "example.com",
        "path": "/app",
        "secure": "",
        "samesite": "Lax",
        "partitioned": "",
    }


@pytest.mark.parametrize("samesite", ["Strict", "Lax", "None"])
def test_samesite_values(
    sapp: Demijohn, make_client: MakeClient, samesite: str
) -> None:
    sapp.config["SESSION_COOKIE_SAMESITE"] = samesite
    (header,) = set_cookie_headers(make_client(sapp).get("/set/a/b"))
    assert cookie_attributes(header)["samesite"] == samesite


def test_invalid_samesite_raises(sapp: Demijohn, make_client: MakeClient) -> None:
    sapp.config["SESSION_COOKIE_SAMESITE"] = "sometimes"
    with pytest.raises(ValueError, match="SameSite"):
        make_client(sapp).get("/set/a/b")


def test_partitioned_implies_secure(sapp: Demijohn, make_client: MakeClient) -> None:
    sapp.config["SESSION_COOKIE_PARTITIONED"] = True
    (header,) = set_cookie_headers(make_client(sapp).get("/set/a/b"))
    attributes = cookie_attributes(header)
    assert "partitioned" in attributes
    assert "secure" in attributes


def test_cookie_name_is_used_to_read(sapp: Demijohn, make_client: MakeClient) -> None:
    sapp.config["SESSION_COOKIE_NAME"] = "sid"
    client = make_client(sapp)
    client.get("/set/user/ann")
    assert client.get_cookie("sid") is not None
    assert client.get_cookie("session") is None
    assert client.get("/get/user").text == "'ann'"


def test_cookie_path_follows_application_root(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    sapp.config["APPLICATION_ROOT"] = "/prefix"
    (header,) = set_cookie_headers(make_client(sapp).get("/set/a/b"))
    assert cookie_attributes(header)["path"] == "/prefix"


def test_deleted_cookie_keeps_options(sapp: Demijohn, make_client: MakeClient) -> None:
    sapp.config.update(
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )
    client = make_client(sapp, use_cookies=False)
    cookie_client = make_client(sapp)
    cookie_client.get("/set/a/b")
    (set_header,) = set_cookie_headers(cookie_client.get("/set/a/b"))
    value = set_header.split(";")[0]
    response = client.get("/clear", headers={"Cookie": value})
    (header,) = set_cookie_headers(response)
    attributes = cookie_attributes(header)
    assert attributes["domain"] == "example.com"
    assert attributes["samesite"] == "Strict"
    assert "secure" in attributes
    assert attributes["max-age"] == "0"


def test_too_large_cookie_warns(sapp: Demijohn, make_client: MakeClient) -> None:
    import secrets

    sapp.config["MAX_COOKIE_SIZE"] = 100
    # Random text, since the signer compresses repetitive data.
    with pytest.warns(UserWarning, match="cookie is too large"):
        make_client(sapp).get("/set/a/" + secrets.token_hex(100))


# -- compatibility with Flask ------------------------------------------------


def flask_app() -> flask.Flask:
    application = flask.Flask("flask_peer")
    application.secret_key = "test key"

    @application.route("/set/<key>/<value>")
    def set_value(key: str, value: str) -> str:
        flask.session[key] = value
        flask.session["tuple"] = (1, 2)
        return "set"

    @application.route("/all")
    def get_all() -> str:
        return repr(sorted(flask.session.items()))

    return application


def test_flask_cookie_is_read_by_demijohn(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    peer = flask_app().test_client()
    peer.get("/set/user/ann")
    cookie = peer.get_cookie("session")
    assert cookie is not None
    client = make_client(sapp)
    client.set_cookie("session", cookie.value)
    assert client.get("/all").text == "[('tuple', (1, 2)), ('user', 'ann')]"


def test_demijohn_cookie_is_read_by_flask(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    @sapp.route("/tuple")
    def set_tuple() -> str:
        session["tuple"] = (1, 2)
        session["user"] = "bob"
        return ""

    client = make_client(sapp)
    client.get("/tuple")
    cookie = client.get_cookie("session")
    assert cookie is not None
    peer = flask_app().test_client()
    peer.set_cookie("session", cookie.value)
    assert peer.get("/all").text == "[('tuple', (1, 2)), ('user', 'bob')]"


def test_flask_cookie_with_other_key_is_rejected(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    peer_app = flask_app()
    peer_app.secret_key = "other"
    peer = peer_app.test_client()
    peer.get("/set/user/ann")
    cookie = peer.get_cookie("session")
    assert cookie is not None
    client = make_client(sapp)
    client.set_cookie("session", cookie.value)
    assert client.get("/all").text == "[]"


# -- custom interfaces ---------------------------------------------------------


class ServerSideSession(dict[str, t.Any], SessionMixin):
    def __init__(self, sid: str, data: dict[str, t.Any] | None = None) -> None:
        super().__init__(data or {})
        self.sid = sid


class MemoryInterface(SessionInterface):
    """Keeps sessions in a dict; the cookie holds only an id."""

    def __init__(self) -> None:
        self.store: dict[str, dict[str, t.Any]] = {}
        self.calls: list[str] = []

    def open_session(self, app: Demijohn, request: Request) -> ServerSideSession:
        self.calls.append("open")
        sid = request.cookies.get(self.get_cookie_name(app), "")
        if sid in self.store:
            return ServerSideSession(sid, self.store[sid])
        return ServerSideSession(f"sid{len(self.store) + 1}")

    def save_session(
        self, app: Demijohn, session: SessionMixin, response: Response
    ) -> None:
        self.calls.append("save")
        assert isinstance(session, ServerSideSession)
        self.store[session.sid] = dict(session)
        response.set_cookie(self.get_cookie_name(app), session.sid)


def test_custom_session_interface_is_used(
    app: Demijohn, make_client: MakeClient
) -> None:
    interface = MemoryInterface()
    app.session_interface = interface

    @app.route("/set")
    def set_value() -> str:
        session["user"] = "ann"
        return type(session._get_current_object()).__name__  # type: ignore[attr-defined]

    app.add_url_rule("/get", "get", lambda: repr(session.get("user")))
    client = make_client(app)
    assert client.get("/set").text == "ServerSideSession"
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.value == "sid1"
    assert interface.store == {"sid1": {"user": "ann"}}
    assert client.get("/get").text == "'ann'"
    assert interface.calls == ["open", "save", "open", "save"]


def test_session_interface_subclass_hooks(
    app: Demijohn, make_client: MakeClient
) -> None:
    class Interface(SecureCookieSessionInterface):
        def get_cookie_name(self, app: Demijohn) -> str:
            return "custom_name"

        def get_cookie_samesite(self, app: Demijohn) -> str | None:
            return "Strict"

    app.session_interface = Interface()

    @app.route("/")
    def index() -> str:
        session["a"] = 1
        return ""

    (header,) = set_cookie_headers(make_client(app).get("/"))
    assert header.startswith("custom_name=")
    assert cookie_attributes(header)["samesite"] == "Strict"


def test_open_session_returning_none_gives_null_session(
    app: Demijohn, make_client: MakeClient
) -> None:
    saved: list[t.Any] = []

    class Interface(SecureCookieSessionInterface):
        def open_session(self, app: Demijohn, request: Request) -> None:
            return None

        def save_session(
            self, app: Demijohn, session: SessionMixin, response: Response
        ) -> None:  # pragma: no cover - must not be called for a null session
            saved.append(session)

    app.session_interface = Interface()

    @app.route("/read")
    def read() -> str:
        current = session._get_current_object()  # type: ignore[attr-defined]
        return f"{type(current).__name__} {session.get('x')} {len(session)}"

    @app.route("/write")
    def write() -> str:
        session["x"] = 1
        return ""

    client = make_client(app)
    response = client.get("/read")
    assert response.text == "NullSession None 0"
    assert set_cookie_headers(response) == []
    with pytest.raises(RuntimeError, match="secret key"):
        client.get("/write")
    assert saved == []


def test_custom_null_session_class(app: Demijohn, make_client: MakeClient) -> None:
    class MyNull(NullSession):
        pass

    class Interface(SecureCookieSessionInterface):
        null_session_class = MyNull

    app.session_interface = Interface()
    app.secret_key = None
    app.add_url_rule(
        "/",
        "index",
        lambda: type(session._get_current_object()).__name__,  # type: ignore[attr-defined]
    )
    assert make_client(app).get("/").text == "MyNull"


def test_custom_session_class(app: Demijohn, make_client: MakeClient) -> None:
    class MySession(SecureCookieSession):
        pass

    class Interface(SecureCookieSessionInterface):
        session_class = MySession

    app.session_interface = Interface()
    app.add_url_rule(
        "/",
        "index",
        lambda: type(session._get_current_object()).__name__,  # type: ignore[attr-defined]
    )
    assert make_client(app).get("/").text == "MySession"


def test_session_interface_open_error_propagates(
    app: Demijohn, make_client: MakeClient
) -> None:
    class Interface(SecureCookieSessionInterface):
        def open_session(self, app: Demijohn, request: Request) -> None:
            raise ConnectionError("store down")

    app.session_interface = Interface()
    app.add_url_rule("/", "index", lambda: repr(session.get("x")))
    with pytest.raises(ConnectionError, match="store down"):
        make_client(app).get("/")


# -- the test client's session_transaction -----------------------------------


def test_session_transaction_round_trip(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    client = make_client(sapp)
    with client.session_transaction() as sess:
        sess["user"] = "preset"
    assert client.get("/get/user").text == "'preset'"
    client.get("/set/user/changed")
    with client.session_transaction() as sess:
        assert sess["user"] == "changed"


def test_session_transaction_without_cookies_raises(sapp: Demijohn) -> None:
    client = sapp.test_client(use_cookies=False)
    with (
        pytest.raises(TypeError, match="Cookies are disabled"),
        client.session_transaction(),
    ):
        pass  # pragma: no cover


def test_session_cookie_header_parses_with_werkzeug(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    (header,) = set_cookie_headers(make_client(sapp).get("/set/a/b"))
    assert "session" in parse_cookie(header.split(";")[0])
