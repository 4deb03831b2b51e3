from __future__ import annotations

import hashlib
import typing as t
from datetime import datetime, timedelta, timezone

import flask
import flask.sessions
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from werkzeug.http import parse_date
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from demijohn.json.tag import TaggedJSONSerializer
from demijohn.sessions import (
    NullSession,
    SecureCookieSession,
    SecureCookieSessionInterface,
    SessionInterface,
    SessionMixin,
    session_json_serializer,
)

KEY = "correct horse battery staple"
AWARE = datetime(2024, 2, 29, 13, 45, 7, tzinfo=timezone.utc)
NULL_MESSAGE = (
    "The session is unavailable because no secret key was set. Set the"
    " secret_key on the application to something unique and secret."
)

DEFAULT_CONFIG: dict[str, t.Any] = {
    "SECRET_KEY_FALLBACKS": None,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "APPLICATION_ROOT": "/",
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PARTITIONED": False,
    "SESSION_COOKIE_SAMESITE": None,
    "SESSION_REFRESH_EACH_REQUEST": True,
}


class _StubApp:
    """The part of the application the session interface reads."""

    def __init__(self, secret_key: str | bytes | None = KEY, **config: t.Any) -> None:
        self.secret_key = secret_key
        self.config = {**DEFAULT_CONFIG, **config}

    @property
    def permanent_session_lifetime(self) -> timedelta:
        value: timedelta = self.config["PERMANENT_SESSION_LIFETIME"]
        return value


def stub_app(secret_key: str | bytes | None = KEY, **config: t.Any) -> t.Any:
    """Build the stub; typed ``Any`` since it only quacks like ``Demijohn``."""
    return _StubApp(secret_key, **config)


def make_flask_app(secret_key: str = KEY, **config: t.Any) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = secret_key
    app.config.update(config)
    return app


def make_request(cookie: str | None = None, name: str = "session") -> t.Any:
    """A Werkzeug request, typed ``Any`` to stand in for either framework's."""
    headers = [] if cookie is None else [("Cookie", f"{name}={cookie}")]
    return EnvironBuilder(headers=headers).get_request(Request)


def new_response() -> t.Any:
    """A Werkzeug response, typed ``Any`` to stand in for either framework's."""
    return Response()


def set_cookies(response: Response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def cookie_parts(header: str) -> tuple[str, str, dict[str, str | None]]:
    """Split a Set-Cookie header into name, value and lower-cased attributes."""
    first, *rest = header.split("; ")
    name, _, value = first.partition("=")
    attrs: dict[str, str | None] = {}
    for item in rest:
        key, sep, val = item.partition("=")
        attrs[key.lower()] = val if sep else None
    return name, value, attrs


def only_cookie(response: Response) -> tuple[str, str, dict[str, str | None]]:
    headers = set_cookies(response)
    assert len(headers) == 1, headers
    return cookie_parts(headers[0])


def save(
    app: t.Any,
    session: SessionMixin,
    interface: SessionInterface | None = None,
) -> Response:
    response = new_response()
    (interface or SecureCookieSessionInterface()).save_session(app, session, response)
    return t.cast(Response, response)


def changed_session(**data: t.Any) -> SecureCookieSession:
    """A session whose data was set during the request, so it is saved."""
    session = SecureCookieSession()
    session.update(data)
    return session


def write_cookie(app: t.Any, data: dict[str, t.Any], **kwargs: t.Any) -> str:
    session = SecureCookieSession()
    session.update(data)
    for key, value in kwargs.items():
        setattr(session, key, value)
    return only_cookie(save(app, session))[1]


def open_cookie(app: t.Any, cookie: str | None) -> SecureCookieSession | None:
    return SecureCookieSessionInterface().open_session(app, make_request(cookie))


# --- SessionMixin and SecureCookieSession ------------------------------------


class DictSession(dict[str, t.Any], SessionMixin):
    pass


def test_mixin_defaults_match_flask() -> None:
    # ``accessed`` starts False as in Flask 3.1; the request context marks it
    # whenever the session is reached through the ``session`` proxy.
    session = DictSession()
    assert session.new is False
    assert session.modified is True
    assert session.accessed is False
    assert session.permanent is False


def test_permanent_is_stored_as_bool_under_underscore_key() -> None:
    session = DictSession()
    session.permanent = 1  # type: ignore[assignment]
    assert session == {"_permanent": True}
    assert session.permanent is True
    session.permanent = False
    assert session["_permanent"] is False


def test_cookie_session_starts_untouched() -> None:
    session = SecureCookieSession({"a": 1})
    assert session == {"a": 1}
    assert session.modified is False
    assert session.accessed is False
    assert session.new is False


READS: list[t.Callable[[SecureCookieSession], object]] = [
    lambda s: s["a"],
    lambda s: s.get("a"),
    lambda s: s.get("missing", 0),
    lambda s: s.setdefault("a", 5),
    lambda s: "a" in s,
    len,
    list,
    lambda s: s.keys(),
    lambda s: s.values(),
    lambda s: s.items(),
    lambda s: s.permanent,
    lambda s: s.pop("missing", None),
]


@pytest.mark.parametrize("read", READS)
def test_reads_mark_accessed_not_modified(
    read: t.Callable[[SecureCookieSession], object],
) -> None:
    session = SecureCookieSession({"a": 1})
    read(session)
    assert session.accessed is True
    assert session.modified is False
    assert dict.__getitem__(session, "a") == 1


def test_missing_key_raises_key_error_and_marks_accessed() -> None:
    session = SecureCookieSession()
    with pytest.raises(KeyError):
        session["nope"]
    assert session.accessed is True


WRITES: list[t.Callable[[SecureCookieSession], object]] = [
    lambda s: s.__setitem__("b", 2),
    lambda s: s.__delitem__("a"),
    lambda s: s.pop("a"),
    lambda s: s.popitem(),
    lambda s: s.update(b=2),
    lambda s: s.__ior__({"b": 2}),
    lambda s: s.clear(),
    lambda s: s.setdefault("b", 2),
]


@pytest.mark.parametrize("write", WRITES)
def test_writes_mark_modified_and_accessed(
    write: t.Callable[[SecureCookieSession], object],
) -> None:
    session = SecureCookieSession({"a": 1})
    write(session)
    assert session.modified is True
    assert session.accessed is True


def test_setting_permanent_marks_modified() -> None:
    session = SecureCookieSession()
    session.permanent = True
    assert session.modified is True
    assert session == {"_permanent": True}


# --- NullSession ---------------------------------------------------------------


@pytest.mark.parametrize("write", [*WRITES, lambda s: setattr(s, "permanent", True)])
def test_null_session_refuses_writes(
    write: t.Callable[[SecureCookieSession], object],
) -> None:
    session = NullSession()
    with pytest.raises(RuntimeError) as info:
        write(session)
    assert str(info.value) == NULL_MESSAGE
    assert session == {}


def test_null_session_allows_reads() -> None:
    session = NullSession()
    assert session.get("a") is None
    assert "a" not in session
    assert len(session) == 0
    assert session.permanent is False
    with pytest.raises(KeyError):
        session["a"]


@pytest.mark.parametrize("secret_key", [None, "", b""])
def test_no_secret_key_gives_null_session(secret_key: str | bytes | None) -> None:
    app = stub_app(secret_key=secret_key)
    interface = SecureCookieSessionInterface()
    assert interface.get_signing_serializer(app) is None
    assert interface.open_session(app, make_request("whatever")) is None
    null = interface.make_null_session(app)
    assert interface.is_null_session(null)
    assert not interface.is_null_session(SecureCookieSession())
    with pytest.raises(RuntimeError, match="no secret key was set"):
        null["user"] = "x"


def test_null_session_class_is_replaceable() -> None:
    class QuietNull(NullSession):
        pass

    class Interface(SecureCookieSessionInterface):
        null_session_class = QuietNull

    interface = Interface()
    null = interface.make_null_session(stub_app())
    assert type(null) is QuietNull
    assert interface.is_null_session(null)
    assert not interface.is_null_session(NullSession())


# --- SessionInterface defaults --------------------------------------------------


def test_base_interface_requires_open_and_save() -> None:
    interface = SessionInterface()
    assert interface.pickle_based is False
    assert interface.null_session_class is NullSession
    with pytest.raises(NotImplementedError):
        interface.open_session(stub_app(), make_request())
    with pytest.raises(NotImplementedError):
        interface.save_session(stub_app(), DictSession(), new_response())


def test_cookie_getters_read_config() -> None:
    app = stub_app(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.test",
        SESSION_COOKIE_PATH="/shop",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
    )
    interface = SessionInterface()
    assert interface.get_cookie_name(app) == "sid"
    assert interface.get_cookie_domain(app) == "example.test"
    assert interface.get_cookie_path(app) == "/shop"
    assert interface.get_cookie_httponly(app) is False
    assert interface.get_cookie_secure(app) is True
    assert interface.get_cookie_samesite(app) == "Strict"
    assert interface.get_cookie_partitioned(app) is True


@pytest.mark.parametrize("domain", [None, False, ""])
def test_unset_cookie_domain_is_none(domain: t.Any) -> None:
    app = stub_app(SESSION_COOKIE_DOMAIN=domain)
    assert SessionInterface().get_cookie_domain(app) is None
    assert "domain" not in only_cookie(save(app, changed_session(a=1)))[2]


@pytest.mark.parametrize(
    ("cookie_path", "root", "expected"),
    [(None, "/", "/"), (None, "/app", "/app"), ("/only", "/app", "/only")],
)
def test_cookie_path_falls_back_to_application_root(
    cookie_path: str | None, root: str, expected: str
) -> None:
    app = stub_app(SESSION_COOKIE_PATH=cookie_path, APPLICATION_ROOT=root)
    assert SessionInterface().get_cookie_path(app) == expected


def test_expiration_time_only_for_permanent_sessions() -> None:
    app = stub_app(PERMANENT_SESSION_LIFETIME=timedelta(hours=2))
    interface = SessionInterface()
    session = SecureCookieSession()
    assert interface.get_expiration_time(app, session) is None
    session.permanent = True
    expires = interface.get_expiration_time(app, session)
    assert expires is not None
    expected = datetime.now(timezone.utc) + timedelta(hours=2)
    assert abs(expires - expected) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("modified", "permanent", "refresh", "expected"),
    [
        (True, False, False, True),
        (True, True, False, True),
        (False, True, True, True),
        (False, True, False, False),
        (False, False, True, False),
    ],
)
def test_should_set_cookie(
    modified: bool, permanent: bool, refresh: bool, expected: bool
) -> None:
    session = SecureCookieSession({"_permanent": permanent})
    session.modified = modified
    app = stub_app(SESSION_REFRESH_EACH_REQUEST=refresh)
    assert SessionInterface().should_set_cookie(app, session) is expected


# --- signing ---------------------------------------------------------------------


def test_signing_settings_match_flask() -> None:
    interface = SecureCookieSessionInterface()
    assert interface.salt == "cookie-session"
    assert interface.key_derivation == "hmac"
    assert isinstance(interface.serializer, TaggedJSONSerializer)
    assert interface.serializer is session_json_serializer
    assert interface.session_class is SecureCookieSession
    digest = SecureCookieSessionInterface.digest_method(b"abc").hexdigest()
    assert digest == hashlib.sha1(b"abc").hexdigest()
    assert interface.digest_method(b"").hexdigest() == hashlib.sha1().hexdigest()


def test_signed_value_is_byte_identical_to_flask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: 1_700_000_000)
    data = {"user": "ada", "cart": (1, 2), "raw": b"\x00", "at": AWARE}
    ours = SecureCookieSessionInterface().get_signing_serializer(stub_app())
    fapp = make_flask_app()
    theirs = fapp.session_interface.get_signing_serializer(fapp)  # type: ignore[attr-defined]
    assert ours is not None
    assert ours.dumps(data) == theirs.dumps(data)


def test_open_save_round_trip_keeps_tagged_types() -> None:
    app = stub_app()
    data = {"user": "ada", "cart": (1, (2, 3)), "raw": b"\x00\xff", "at": AWARE}
    session = open_cookie(app, write_cookie(app, data))
    assert session == data
    assert type(session) is SecureCookieSession
    assert session.modified is False
    assert session.accessed is False


def test_no_cookie_gives_empty_session() -> None:
    session = open_cookie(stub_app(), None)
    assert session == {}
    assert type(session) is SecureCookieSession


def test_cookie_name_is_configurable() -> None:
    app = stub_app(SESSION_COOKIE_NAME="sid")
    cookie = write_cookie(app, {"a": 1})
    interface = SecureCookieSessionInterface()
    assert interface.open_session(app, make_request(cookie, name="sid")) == {"a": 1}
    assert interface.open_session(app, make_request(cookie)) == {}


def test_custom_session_class_is_used() -> None:
    class MySession(SecureCookieSession):
        pass

    class Interface(SecureCookieSessionInterface):
        session_class = MySession

    app = stub_app()
    cookie = write_cookie(app, {"a": 1})
    interface = Interface()
    assert type(interface.open_session(app, make_request(cookie))) is MySession
    assert type(interface.open_session(app, make_request())) is MySession


def test_salt_separates_cookies() -> None:
    class OtherSalt(SecureCookieSessionInterface):
        salt = "something-else"

    app = stub_app()
    cookie = write_cookie(app, {"a": 1})
    assert OtherSalt().open_session(app, make_request(cookie)) == {}


def _replace_char(value: str, index: int) -> str:
    new = "A" if value[index] != "A" else "B"
    return value[:index] + new + value[index + 1 :]


def _bad_cookies() -> dict[str, t.Callable[[str], str]]:
    return {
        "payload-flipped": lambda c: _replace_char(c, 3),
        "timestamp-flipped": lambda c: _replace_char(c, c.index(".") + 2),
        "signature-flipped": lambda c: _replace_char(c, len(c) - 3),
        "truncated-by-one": lambda c: c[:-1],
        "truncated-half": lambda c: c[: len(c) // 2],
        "signature-dropped": lambda c: c.rsplit(".", 1)[0],
        "extra-dot": lambda c: c + ".",
        "garbage": lambda c: "garbage",
        "dots-only": lambda c: "...",
        "three-parts": lambda c: "a.b.c",
        "compressed-marker": lambda c: ".eJwrSS0uAQAEXQHB.Zz.abc",
    }


@pytest.mark.parametrize("mangle", _bad_cookies().values(), ids=_bad_cookies())
def test_bad_cookie_gives_empty_unmodified_session(
    mangle: t.Callable[[str], str],
) -> None:
    app = stub_app()
    good = write_cookie(app, {"user": "ada"})
    bad = mangle(good)
    assert bad != good
    session = open_cookie(app, bad)
    assert session == {}
    assert session is not None
    assert session.modified is False
    # Nothing is sent back: a bad cookie is ignored, not deleted.
    assert set_cookies(save(app, session)) == []


def test_cookie_signed_with_unknown_key_gives_empty_session() -> None:
    cookie = write_cookie(stub_app(secret_key="someone else"), {"admin": True})
    assert open_cookie(stub_app(), cookie) == {}


def _sign_raw(payload: t.Any, serializer: t.Any = None) -> str:
    signer = URLSafeTimedSerializer(
        KEY,
        salt="cookie-session",
        serializer=serializer or TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    return signer.dumps(payload)


@pytest.mark.parametrize("payload", [[1, 2], "text", 3, None])
def test_signed_non_dict_gives_empty_session(payload: t.Any) -> None:
    assert open_cookie(stub_app(), _sign_raw(payload)) == {}


def test_signed_malformed_tag_gives_empty_session() -> None:
    class Raw:
        def dumps(self, obj: t.Any) -> str:
            return '{"raw":{" b":"a"}}'  # invalid base64 inside a valid tag

        def loads(self, text: str) -> t.Any:
            raise AssertionError("not used for signing")

    cookie = _sign_raw({}, serializer=Raw())
    assert open_cookie(stub_app(), cookie) == {}


def test_expired_cookie_gives_empty_session(monkeypatch: pytest.MonkeyPatch) -> None:
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 120)
    cookie = write_cookie(stub_app(), {"user": "ada"})
    monkeypatch.undo()

    short = stub_app(PERMANENT_SESSION_LIFETIME=timedelta(seconds=60))
    long = stub_app(PERMANENT_SESSION_LIFETIME=timedelta(seconds=600))
    assert open_cookie(short, cookie) == {}
    assert open_cookie(long, cookie) == {"user": "ada"}


# --- key rotation -------------------------------------------------------------


def test_fallback_key_still_opens_old_cookies() -> None:
    old_cookie = write_cookie(stub_app(secret_key="old"), {"user": "ada"})
    rotated = stub_app(secret_key="new", SECRET_KEY_FALLBACKS=["older", "old"])
    assert open_cookie(rotated, old_cookie) == {"user": "ada"}
    assert open_cookie(stub_app(secret_key="new"), old_cookie) == {}


def test_new_cookies_are_signed_with_current_key() -> None:
    rotated = stub_app(secret_key="new", SECRET_KEY_FALLBACKS=["old"])
    cookie = write_cookie(rotated, {"user": "ada"})
    assert open_cookie(stub_app(secret_key="new"), cookie) == {"user": "ada"}
    assert open_cookie(stub_app(secret_key="old"), cookie) == {}


def test_bytes_keys_match_str_keys() -> None:
    cookie = write_cookie(stub_app(secret_key=b"old"), {"a": 1})
    app = stub_app(secret_key=b"new", SECRET_KEY_FALLBACKS=["old"])
    assert open_cookie(app, cookie) == {"a": 1}


def test_single_string_fallback_is_one_key_not_characters() -> None:
    app = stub_app(secret_key="new", SECRET_KEY_FALLBACKS="old")
    assert open_cookie(app, write_cookie(stub_app(secret_key="old"), {"a": 1})) == {
        "a": 1
    }
    forged = write_cookie(stub_app(secret_key="o"), {"admin": True})
    assert open_cookie(app, forged) == {}


# --- save_session -------------------------------------------------------------


def test_default_cookie_attributes() -> None:
    name, value, attrs = only_cookie(save(stub_app(), changed_session(a=1)))
    assert name == "session"
    assert value
    assert attrs == {"httponly": None, "path": "/"}


def test_all_cookie_options_reach_set_cookie() -> None:
    app = stub_app(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.test",
        SESSION_COOKIE_PATH="/shop",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PARTITIONED=True,
    )
    name, _, attrs = only_cookie(save(app, changed_session(a=1)))
    assert name == "sid"
    assert attrs == {
        "domain": "example.test",
        "path": "/shop",
        "secure": None,
        "samesite": "Lax",
        "partitioned": None,
    }


@pytest.mark.parametrize("samesite", ["Strict", "Lax", "None"])
def test_samesite_values(samesite: str) -> None:
    app = stub_app(SESSION_COOKIE_SAMESITE=samesite, SESSION_COOKIE_SECURE=True)
    assert only_cookie(save(app, changed_session(a=1)))[2]["samesite"] == samesite


COOKIE_CONFIGS: list[dict[str, t.Any]] = [
    {},
    {"SESSION_COOKIE_NAME": "sid", "APPLICATION_ROOT": "/app"},
    {
        "SESSION_COOKIE_DOMAIN": "example.test",
        "SESSION_COOKIE_PATH": "/shop",
        "SESSION_COOKIE_HTTPONLY": False,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_PARTITIONED": True,
    },
    {"SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_SECURE": True},
]


def _flask_save(fapp: flask.Flask, session: flask.sessions.SessionMixin) -> Response:
    response = new_response()
    fapp.session_interface.save_session(fapp, session, response)
    return t.cast(Response, response)


@pytest.mark.parametrize("config", COOKIE_CONFIGS)
def test_set_cookie_attributes_match_flask(config: dict[str, t.Any]) -> None:
    ours = save(stub_app(**config), changed_session(a=1))
    fsession = flask.sessions.SecureCookieSession()
    fsession["a"] = 1
    theirs = _flask_save(make_flask_app(**config), fsession)
    our_name, _, our_attrs = only_cookie(ours)
    their_name, _, their_attrs = only_cookie(theirs)
    assert (our_name, our_attrs) == (their_name, their_attrs)
    assert ours.headers.get("Vary") == theirs.headers.get("Vary") == "Cookie"


@pytest.mark.parametrize("config", COOKIE_CONFIGS)
def test_delete_cookie_header_matches_flask(config: dict[str, t.Any]) -> None:
    session = SecureCookieSession({"a": 1})
    session.clear()
    ours = save(stub_app(**config), session)
    fsession = flask.sessions.SecureCookieSession({"a": 1})
    fsession.clear()
    theirs = _flask_save(make_flask_app(**config), fsession)
    assert set_cookies(ours) == set_cookies(theirs)
    assert ours.headers.get("Vary") == "Cookie"


def test_emptied_session_deletes_cookie_with_same_attributes() -> None:
    app = stub_app(
        SESSION_COOKIE_DOMAIN="example.test",
        SESSION_COOKIE_PATH="/shop",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
    )
    session = open_cookie(app, write_cookie(app, {"user": "ada"}))
    assert session is not None
    del session["user"]
    response = save(app, session)
    name, value, attrs = only_cookie(response)
    assert (name, value) == ("session", "")
    assert attrs["max-age"] == "0"
    assert parse_date(attrs["expires"]) == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert attrs["domain"] == "example.test"
    assert attrs["path"] == "/shop"
    assert attrs["samesite"] == "Strict"
    assert {"secure", "httponly", "partitioned"} <= attrs.keys()
    assert "Cookie" in response.vary


def test_empty_untouched_session_sends_nothing() -> None:
    response = save(stub_app(), SecureCookieSession())
    assert set_cookies(response) == []
    assert "Vary" not in response.headers


def test_unmodified_session_is_not_rewritten() -> None:
    app = stub_app()
    session = open_cookie(app, write_cookie(app, {"a": 1}))
    assert session is not None
    response = save(app, session)
    assert set_cookies(response) == []
    assert "Vary" not in response.headers


@pytest.mark.parametrize("read", READS)
def test_accessed_session_adds_vary_cookie(
    read: t.Callable[[SecureCookieSession], object],
) -> None:
    app = stub_app()
    session = open_cookie(app, write_cookie(app, {"a": 1}))
    assert session is not None
    read(session)
    response = save(app, session)
    assert set_cookies(response) == []
    assert response.headers["Vary"] == "Cookie"


def test_vary_is_added_to_existing_vary() -> None:
    session = SecureCookieSession()
    session.accessed = True
    response = new_response()
    response.vary.add("Accept-Encoding")
    SecureCookieSessionInterface().save_session(stub_app(), session, response)
    assert response.headers["Vary"] == "Accept-Encoding, Cookie"


def test_session_cookie_is_not_expiring_unless_permanent() -> None:
    attrs = only_cookie(save(stub_app(), changed_session(a=1)))[2]
    assert "expires" not in attrs
    assert "max-age" not in attrs


def test_permanent_session_sets_expires() -> None:
    app = stub_app(PERMANENT_SESSION_LIFETIME=timedelta(hours=3))
    session = changed_session(a=1)
    session.permanent = True
    _, value, attrs = only_cookie(save(app, session))
    expires = parse_date(attrs["expires"])
    assert expires is not None
    expected = datetime.now(timezone.utc) + timedelta(hours=3)
    assert abs(expires - expected) < timedelta(seconds=5)
    reopened = open_cookie(app, value)
    assert reopened is not None
    assert reopened.permanent is True


@pytest.mark.parametrize(("refresh", "sent"), [(True, True), (False, False)])
def test_refresh_each_request_resends_permanent_cookie(
    refresh: bool, sent: bool
) -> None:
    app = stub_app(SESSION_REFRESH_EACH_REQUEST=refresh)
    cookie = write_cookie(app, {"a": 1, "_permanent": True})
    session = open_cookie(app, cookie)
    assert session is not None
    assert session.modified is False
    headers = set_cookies(save(app, session))
    assert bool(headers) is sent
    if sent:
        assert "expires" in cookie_parts(headers[0])[2]
        assert open_cookie(app, cookie_parts(headers[0])[1]) == {
            "a": 1,
            "_permanent": True,
        }


def test_refresh_each_request_ignores_non_permanent_sessions() -> None:
    app = stub_app(SESSION_REFRESH_EACH_REQUEST=True)
    session = open_cookie(app, write_cookie(app, {"a": 1}))
    assert session is not None
    assert set_cookies(save(app, session)) == []


def test_modified_session_is_always_written() -> None:
    app = stub_app(SESSION_REFRESH_EACH_REQUEST=False)
    session = open_cookie(app, write_cookie(app, {"a": 1}))
    assert session is not None
    session["b"] = 2
    _, value, _ = only_cookie(save(app, session))
    assert open_cookie(app, value) == {"a": 1, "b": 2}


def test_manually_flagged_modification_is_written() -> None:
    app = stub_app()
    session = open_cookie(app, write_cookie(app, {"items": [1]}))
    assert session is not None
    session["items"].append(2)  # in-place change is not tracked...
    assert set_cookies(save(app, session)) == []
    session.modified = True  # ...until the user says so
    _, value, _ = only_cookie(save(app, session))
    assert open_cookie(app, value) == {"items": [1, 2]}


# --- compatibility with Flask ---------------------------------------------------


def test_cookie_from_flask_request_is_read_by_demijohn() -> None:
    fapp = make_flask_app()

    @fapp.route("/login")
    def login() -> str:
        flask.session["user"] = "ada"
        flask.session["cart"] = (1, 2)
        flask.session["raw"] = b"\x01"
        flask.session["at"] = AWARE
        flask.session.permanent = True
        return "ok"

    response = fapp.test_client().get("/login")
    name, value, _ = cookie_parts(response.headers["Set-Cookie"])
    assert name == "session"
    assert open_cookie(stub_app(), value) == {
        "user": "ada",
        "cart": (1, 2),
        "raw": b"\x01",
        "at": AWARE,
        "_permanent": True,
    }


def test_cookie_from_demijohn_is_read_by_flask_request() -> None:
    cookie = write_cookie(stub_app(), {"user": "ada", "cart": (1, 2), "at": AWARE})
    fapp = make_flask_app()
    seen: dict[str, t.Any] = {}

    @fapp.route("/")
    def index() -> str:
        seen.update(flask.session)
        return "ok"

    client = fapp.test_client()
    client.set_cookie("session", cookie)
    assert client.get("/").status_code == 200
    assert seen == {"user": "ada", "cart": (1, 2), "at": AWARE}


def test_flask_interface_reads_demijohn_cookie_with_fallbacks() -> None:
    cookie = write_cookie(stub_app(secret_key="old"), {"user": "ada"})
    fapp = make_flask_app(secret_key="new", SECRET_KEY_FALLBACKS=["old"])
    session = fapp.session_interface.open_session(fapp, make_request(cookie))
    assert session is not None
    assert dict(session) == {"user": "ada"}


def test_demijohn_reads_flask_cookie_signed_with_fallback_key() -> None:
    fapp = make_flask_app(secret_key="old")
    fsession = flask.sessions.SecureCookieSession()
    fsession["user"] = "ada"
    _, value, _ = only_cookie(_flask_save(fapp, fsession))
    rotated = stub_app(secret_key="new", SECRET_KEY_FALLBACKS=["old"])
    assert open_cookie(rotated, value) == {"user": "ada"}


def test_flask_rejects_what_demijohn_rejects() -> None:
    cookie = write_cookie(stub_app(secret_key="other"), {"admin": True})
    fapp = make_flask_app()
    session = fapp.session_interface.open_session(fapp, make_request(cookie))
    assert session is not None
    assert dict(session) == {}
    assert open_cookie(stub_app(), cookie) == {}
