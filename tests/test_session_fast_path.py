"""The cookie session's quick path writes and reads exactly what itsdangerous
and Flask do, gives way to itsdangerous for anything unusual, and follows
every setting that changes the signature."""

from __future__ import annotations

import hashlib
import hmac
import random
import time
import typing as t
import zlib
from collections import OrderedDict
from datetime import datetime, timezone

import flask
import flask.sessions
import pytest
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from markupsafe import Markup
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

import demijohn.sessions as sessions_module
from demijohn import Demijohn, cookie_signing
from demijohn.json.provider import DefaultJSONProvider
from demijohn.json.tag import JSONTag, TaggedJSONSerializer
from demijohn.sessions import (
    SecureCookieSession,
    SecureCookieSessionInterface,
    session_json_serializer,
)

KEY = "fast path key"
OTHER_KEY = "another key"
NOW = 1_700_000_000
AWARE = datetime(2024, 2, 29, 13, 45, 7, tzinfo=timezone.utc)


def nest(value: t.Any, depth: int) -> t.Any:
    """Wrap ``value`` in ``depth`` lists."""
    for _ in range(depth):
        value = [value]
    return value


# Sessions whose cookies must come out byte for byte as Flask's.
SESSIONS: dict[str, dict[str, t.Any]] = {
    "counter": {"visits": 3},
    "empty-values": {"a": None, "b": "", "c": 0, "d": False},
    "unsorted-keys": {"zeta": 1, "alpha": 2, "mid": [3, 2, 1]},
    "non-ascii": {"name": "Zoë ☃ 日本"},
    "nested-plain": {"a": [1, {"b": None, "c": [1.5, True]}], "n": -7},
    "tagged": {"t": (1, 2), "b": b"\x00\xff", "when": AWARE, "m": Markup("<b>")},
    "tag-like-key": {"x": {" t": [1]}},
    "top-level-tag-key": {" t": [1, 2]},
    "compressible": {"text": "abc" * 100, "ids": list(range(40))},
    # Under 127 bytes of JSON, yet shorter compressed: the small deflater.
    "small-compressible": {"s": "ab" * 40},
    "deep": {"d": nest(1, 20)},
}


@pytest.fixture(autouse=True)
def _frozen_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Freeze the clock itsdangerous and the quick path read, so cookies
    written at "the same time" can be compared byte for byte."""
    monkeypatch.setattr(time, "time", lambda: NOW + 0.25)


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[URLSafeTimedSerializer]:
    """Record every itsdangerous serializer ``get_signing_serializer`` builds,
    which is how the interface signs when the quick path is not taken."""
    made: list[URLSafeTimedSerializer] = []

    class Recording(URLSafeTimedSerializer):
        def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(sessions_module, "URLSafeTimedSerializer", Recording)
    return made


def make_app(secret_key: str | bytes | None = KEY, **config: t.Any) -> Demijohn:
    app = Demijohn("fast_path_app", root_path="/nonexistent-root")
    app.secret_key = secret_key
    app.config.update(config)
    return app


def make_flask_app(secret_key: str = KEY, **config: t.Any) -> flask.Flask:
    app = flask.Flask("fast_path_peer")
    app.secret_key = secret_key
    app.config.update(config)
    return app


def make_request(cookie: str | None) -> t.Any:
    headers = [] if cookie is None else [("Cookie", f"session={cookie}")]
    return EnvironBuilder(headers=headers).get_request(Request)


def changed(data: dict[str, t.Any]) -> SecureCookieSession:
    session = SecureCookieSession()
    session.update(data)
    return session


def save(
    app: Demijohn,
    data: dict[str, t.Any],
    interface: SecureCookieSessionInterface | None = None,
    response: Response | None = None,
) -> Response:
    response = response or Response()
    interface = interface or SecureCookieSessionInterface()
    with app.app_context():
        interface.save_session(app, changed(data), response)  # type: ignore[arg-type]
    return response


def cookie_value(response: Response) -> str:
    (header,) = response.headers.getlist("Set-Cookie")
    return header.split(";", 1)[0].split("=", 1)[1]


def write(
    app: Demijohn,
    data: dict[str, t.Any],
    interface: SecureCookieSessionInterface | None = None,
) -> str:
    return cookie_value(save(app, data, interface))


def read(
    app: Demijohn,
    cookie: str | None,
    interface: SecureCookieSessionInterface | None = None,
) -> SecureCookieSession | None:
    interface = interface or SecureCookieSessionInterface()
    with app.app_context():
        return interface.open_session(app, make_request(cookie))


def flask_dumps(data: dict[str, t.Any], fapp: flask.Flask | None = None) -> str:
    fapp = fapp or make_flask_app()
    interface = flask.sessions.SecureCookieSessionInterface()
    with fapp.app_context():
        serializer = interface.get_signing_serializer(fapp)
        assert serializer is not None
        return serializer.dumps(data)


def flask_loads(cookie: str, fapp: flask.Flask | None = None) -> t.Any:
    fapp = fapp or make_flask_app()
    interface = flask.sessions.SecureCookieSessionInterface()
    with fapp.app_context():
        serializer = interface.get_signing_serializer(fapp)
        assert serializer is not None
        return serializer.loads(cookie)


def reference_dumps(
    app: Demijohn,
    data: dict[str, t.Any],
    interface: SecureCookieSessionInterface | None = None,
) -> str:
    """The cookie value the itsdangerous serializer itself writes."""
    interface = interface or SecureCookieSessionInterface()
    with app.app_context():
        serializer = interface.get_signing_serializer(app)
        assert serializer is not None
        return serializer.dumps(data)


def sign_payload(payload: bytes, key: str = KEY, stamp: int = NOW) -> str:
    """Sign raw payload bytes as a session cookie, with a chosen timestamp."""

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    signer = Signer(key, salt="cookie-session", key_derivation="hmac")
    return signer.sign(payload).decode("ascii")


# --- byte compatibility ----------------------------------------------------------


@pytest.mark.parametrize("data", SESSIONS.values(), ids=SESSIONS)
def test_written_cookie_is_itsdangerous_and_flask_output(
    data: dict[str, t.Any], built: list[URLSafeTimedSerializer]
) -> None:
    app = make_app()
    ours = write(app, data)
    assert built == []  # written by the quick path
    assert ours == reference_dumps(app, data)
    assert ours == flask_dumps(data)


def test_compressible_session_is_written_compressed() -> None:
    cookie = write(make_app(), SESSIONS["compressible"])
    assert cookie.startswith(".")


@pytest.mark.parametrize("data", SESSIONS.values(), ids=SESSIONS)
def test_flask_cookie_is_read_without_itsdangerous(
    data: dict[str, t.Any], built: list[URLSafeTimedSerializer]
) -> None:
    session = read(make_app(), flask_dumps(data))
    assert session == flask_loads(flask_dumps(data))
    assert built == []


@pytest.mark.parametrize("data", SESSIONS.values(), ids=SESSIONS)
def test_written_cookie_is_read_back_by_flask(data: dict[str, t.Any]) -> None:
    cookie = write(make_app(), data)
    assert flask_loads(cookie) == flask_loads(flask_dumps(data))


def test_read_session_is_fresh_and_untouched() -> None:
    app = make_app()
    session = read(app, write(app, {"visits": 1}))
    assert type(session) is SecureCookieSession
    assert session is not None
    assert session.modified is False
    assert session.accessed is False


def test_outside_an_app_context_the_output_still_matches_itsdangerous() -> None:
    # Without an app context the tagged serializer uses plain json.dumps
    # (unsorted keys); the quick path must follow the same serializer.
    app = make_app()
    interface = SecureCookieSessionInterface()
    response = Response()
    data = {"b": 1, "a": 2}
    interface.save_session(app, changed(data), response)  # type: ignore[arg-type]
    serializer = interface.get_signing_serializer(app)
    assert serializer is not None
    assert cookie_value(response) == serializer.dumps(data)
    assert interface.open_session(app, make_request(cookie_value(response))) == data


def test_app_json_settings_shape_the_cookie_as_in_flask() -> None:
    app = make_app()
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    fapp = make_flask_app()
    fapp.json.sort_keys = False  # type: ignore[attr-defined]
    fapp.json.ensure_ascii = False  # type: ignore[attr-defined]
    data = {"z": "ë", "a": 1}
    assert write(app, data) == flask_dumps(data, fapp)


# --- what the quick path leaves to itsdangerous ---------------------------------


def _mangled_cookies() -> dict[str, str]:
    good = sign_payload(b"eyJhIjoxfQ")  # {"a":1}
    payload, stamp, signature = good.split(".")
    flipped = "A" if signature[0] != "A" else "B"
    return {
        "bad-signature": f"{payload}.{stamp}.{flipped}{signature[1:]}",
        "other-key": sign_payload(b"eyJhIjoxfQ", key=OTHER_KEY),
        "expired": sign_payload(b"eyJhIjoxfQ", stamp=NOW - 40 * 86400),
        "from-the-future": sign_payload(b"eyJhIjoxfQ", stamp=NOW + 60),
        "bad-base64": sign_payload(b"e"),
        "bad-zlib": sign_payload(b".eyJhIjoxfQ"),
        "bad-json": sign_payload(b"e2E"),  # "{a"
        "bad-tag": sign_payload(b"eyJhIjp7IiBiIjoiYSJ9fQ"),  # {"a":{" b":"a"}}
        "no-timestamp": "eyJhIjoxfQ.abc",
        "no-dots": "eyJhIjoxfQ",
        "empty-parts": "..",
    }


@pytest.mark.parametrize("cookie", _mangled_cookies().values(), ids=_mangled_cookies())
def test_unaccepted_cookies_are_judged_by_itsdangerous(
    cookie: str, built: list[URLSafeTimedSerializer]
) -> None:
    session = read(make_app(), cookie)
    assert session == {}
    assert session is not None
    assert session.modified is False
    assert len(built) == 1  # the reference serializer made the decision


def test_cookie_signed_with_a_fallback_key_is_accepted(
    built: list[URLSafeTimedSerializer],
) -> None:
    old = write(make_app(OTHER_KEY), {"user": "ada"})
    app = make_app(KEY, SECRET_KEY_FALLBACKS=["unrelated", OTHER_KEY])
    assert read(app, old) == {"user": "ada"}
    assert built == []
    # New cookies are signed with the current key only.
    assert read(make_app(KEY), write(app, {"user": "ada"})) == {"user": "ada"}
    assert read(make_app(OTHER_KEY), write(app, {"user": "ada"})) == {}


def test_cookie_at_exactly_max_age_is_accepted() -> None:
    app = make_app(PERMANENT_SESSION_LIFETIME=60)
    assert read(app, sign_payload(b"eyJhIjoxfQ", stamp=NOW - 60)) == {"a": 1}
    assert read(app, sign_payload(b"eyJhIjoxfQ", stamp=NOW - 61)) == {}


def _mutations(cookie: str, count: int) -> list[str]:
    """Seeded random edits of a valid cookie: replaced, inserted, dropped
    characters, drawn from the base64 alphabets, padding and dots."""
    rng = random.Random(1234)
    alphabet = "ABCabc012-_+/=.!"
    mutated = []
    for _ in range(count):
        chars = list(cookie)
        index = rng.randrange(len(chars))
        action = rng.choice(("replace", "insert", "drop"))
        if action == "replace":
            chars[index] = rng.choice(alphabet)
        elif action == "insert":
            chars.insert(index, rng.choice(alphabet))
        else:
            del chars[index]
        mutated.append("".join(chars))
    return mutated


def test_mutated_cookies_are_judged_exactly_as_itsdangerous_judges_them() -> None:
    app = make_app()
    good = write(app, {"user": "ada", "n": 1})
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    max_age = int(app.permanent_session_lifetime.total_seconds())
    accepted = 0
    for cookie in _mutations(good, 300):
        try:
            expected = serializer.loads(cookie, max_age=max_age)
        except BadData:
            expected = {}
        accepted += expected != {}
        assert read(app, cookie) == expected, cookie
    # Some edits leave a cookie itsdangerous still accepts (a dropped "="
    # or a stray character its lenient base64 ignores); they must open too.
    assert accepted > 0


def test_standard_base64_signature_is_accepted_as_itsdangerous_does(
    built: list[URLSafeTimedSerializer],
) -> None:
    app = make_app()
    good = write(app, {"a": 1})
    alternate = good.replace("-", "+").replace("_", "/")
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    assert read(app, alternate) == serializer.loads(alternate)


# --- settings that change the signature -----------------------------------------


def test_changing_the_secret_key_takes_effect_on_the_next_request() -> None:
    app = make_app(KEY)
    first = write(app, {"a": 1})
    app.secret_key = OTHER_KEY
    assert read(app, first) == {}
    second = write(app, {"a": 2})
    assert read(app, second) == {"a": 2}
    assert flask_loads(second, make_flask_app(OTHER_KEY)) == {"a": 2}


def test_fallbacks_changed_in_place_take_effect() -> None:
    app = make_app(KEY, SECRET_KEY_FALLBACKS=[])
    old = write(make_app(OTHER_KEY), {"a": 1})
    assert read(app, old) == {}
    app.config["SECRET_KEY_FALLBACKS"].append(OTHER_KEY)
    assert read(app, old) == {"a": 1}
    app.config["SECRET_KEY_FALLBACKS"].clear()
    assert read(app, old) == {}


@pytest.mark.parametrize("fallbacks", [OTHER_KEY, (OTHER_KEY,), [OTHER_KEY.encode()]])
def test_fallbacks_as_string_tuple_or_bytes(fallbacks: t.Any) -> None:
    old = write(make_app(OTHER_KEY), {"a": 1})
    assert read(make_app(KEY, SECRET_KEY_FALLBACKS=fallbacks), old) == {"a": 1}


def test_bytes_and_text_keys_sign_alike() -> None:
    assert write(make_app(KEY.encode()), {"a": 1}) == write(make_app(KEY), {"a": 1})


def test_many_key_sets_in_turn_each_sign_with_their_own_key() -> None:
    apps = [make_app(f"key {number}") for number in range(25)]
    cookies = [write(app, {"n": number}) for number, app in enumerate(apps)]
    for number, (app, cookie) in enumerate(zip(apps, cookies, strict=True)):
        assert read(app, cookie) == {"n": number}
        assert read(apps[number - 1], cookie) == {}


def test_salt_set_on_the_instance_is_used() -> None:
    app = make_app()
    interface = SecureCookieSessionInterface()
    interface.salt = "another-salt"
    cookie = write(app, {"a": 1}, interface)
    assert cookie == reference_dumps(app, {"a": 1}, interface)
    assert read(app, cookie) == {}
    assert read(app, cookie, interface) == {"a": 1}


def _sha256(data: bytes = b"") -> t.Any:
    return hashlib.sha256(data)


class Sha256Interface(SecureCookieSessionInterface):
    digest_method = staticmethod(_sha256)


class ConcatInterface(SecureCookieSessionInterface):
    key_derivation = "concat"


class PlainSerializer:
    def dumps(self, value: t.Any) -> str:
        return "plain:" + repr(sorted(value.items()))

    def loads(self, text: str) -> t.Any:
        assert text.startswith("plain:")
        return {"loaded": text[len("plain:") :]}


class PlainSerializerInterface(SecureCookieSessionInterface):
    serializer = PlainSerializer()


class OtherSaltSerializerInterface(SecureCookieSessionInterface):
    def get_signing_serializer(self, app: Demijohn) -> URLSafeTimedSerializer | None:
        # Through the module, so the ``built`` fixture records it too.
        return sessions_module.URLSafeTimedSerializer(
            app.secret_key or "", salt="custom"
        )


CUSTOMISED: dict[str, t.Callable[[], SecureCookieSessionInterface]] = {
    "digest-on-subclass": Sha256Interface,
    "key-derivation-on-subclass": ConcatInterface,
    "serializer-on-subclass": PlainSerializerInterface,
    "get-signing-serializer-overridden": OtherSaltSerializerInterface,
}


@pytest.mark.parametrize("make_interface", CUSTOMISED.values(), ids=CUSTOMISED)
def test_customised_interfaces_sign_through_get_signing_serializer(
    make_interface: t.Callable[[], SecureCookieSessionInterface],
    built: list[URLSafeTimedSerializer],
) -> None:
    app = make_app()
    interface = make_interface()
    cookie = write(app, {"a": 1}, interface)
    expected = reference_dumps(app, {"a": 1}, interface)
    assert cookie == expected
    # Not the default format, so the default interface rejects it ...
    assert read(app, cookie) == {}
    # ... and the customised one reads it back through its own serializer.
    with app.app_context():
        serializer = interface.get_signing_serializer(app)
        assert serializer is not None
        assert read(app, cookie, interface) == serializer.loads(cookie)
    assert built


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("digest_method", _sha256),
        ("key_derivation", "django-concat"),
        ("serializer", PlainSerializer()),
    ],
)
def test_settings_changed_on_the_instance_are_used(
    attribute: str, value: t.Any, built: list[URLSafeTimedSerializer]
) -> None:
    app = make_app()
    interface = SecureCookieSessionInterface()
    setattr(interface, attribute, value)
    cookie = write(app, {"a": 1}, interface)
    assert cookie == reference_dumps(app, {"a": 1}, interface)
    assert read(app, cookie) == {}
    assert built


def test_get_signing_serializer_set_on_the_instance_is_used() -> None:
    app = make_app()
    interface = SecureCookieSessionInterface()
    custom = URLSafeTimedSerializer(KEY, salt="instance")
    interface.get_signing_serializer = lambda app: custom  # type: ignore[method-assign]
    cookie = write(app, {"a": 1}, interface)
    assert custom.loads(cookie) == {"a": 1}


def test_get_signing_serializer_is_still_an_itsdangerous_serializer() -> None:
    app = make_app()
    interface = SecureCookieSessionInterface()
    serializer = interface.get_signing_serializer(app)
    assert isinstance(serializer, URLSafeTimedSerializer)
    with app.app_context():
        assert read(app, serializer.dumps({"a": 1})) == {"a": 1}
        assert serializer.loads(write(app, {"a": 1})) == {"a": 1}
    assert interface.get_signing_serializer(make_app(None)) is None


def test_custom_session_class_is_used_on_the_quick_path() -> None:
    class MySession(SecureCookieSession):
        pass

    class Interface(SecureCookieSessionInterface):
        session_class = MySession

    app = make_app()
    opened = read(app, write(app, {"a": 1}), Interface())
    assert type(opened) is MySession
    assert opened == {"a": 1}
    assert type(read(app, None, Interface())) is MySession


def test_no_secret_key_gives_no_session_and_no_cookie() -> None:
    app = make_app(None)
    assert read(app, write(make_app(), {"a": 1})) is None
    response = save(app, {"a": 1})
    assert response.headers.getlist("Set-Cookie") == []


def test_fallbacks_that_are_not_keys_behave_as_in_itsdangerous() -> None:
    # itsdangerous reads a None key as "the current key" again.
    app = make_app(KEY, SECRET_KEY_FALLBACKS=[None])
    assert read(make_app(KEY), write(app, {"a": 1})) == {"a": 1}
    assert read(app, write(make_app(OTHER_KEY), {"a": 1})) == {}
    # Not iterable: building the serializer fails, as it always did.
    with pytest.raises(TypeError):
        read(make_app(KEY, SECRET_KEY_FALLBACKS=5), None)


def test_patched_itsdangerous_clock_is_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: NOW - 100)
    app = make_app(PERMANENT_SESSION_LIFETIME=50)
    cookie = write(app, {"a": 1})
    monkeypatch.undo()
    monkeypatch.setattr(time, "time", lambda: NOW + 0.25)
    assert read(app, cookie) == {}


# --- Vary and Set-Cookie headers ------------------------------------------------


@pytest.mark.parametrize(
    "existing", [[], ["Accept"], ["Cookie"], ["cookie"], ["Accept, Cookie"], ["X", "Y"]]
)
@pytest.mark.parametrize("emptied", [False, True], ids=["set", "deleted"])
def test_headers_match_flask(existing: list[str], emptied: bool) -> None:
    ours_session = SecureCookieSession({"a": 1})
    theirs_session = flask.sessions.SecureCookieSession({"a": 1})
    for session in (ours_session, theirs_session):
        if emptied:
            del session["a"]
        else:
            session["b"] = 2
        # As after a request that reached the session through the proxy.
        session.accessed = True
    ours, theirs = Response(), Response()
    for value in existing:
        ours.headers.add("Vary", value)
        theirs.headers.add("Vary", value)
    app, fapp = make_app(), make_flask_app()
    with app.app_context():
        app.session_interface.save_session(app, ours_session, ours)  # type: ignore[arg-type]
    with fapp.app_context():
        fapp.session_interface.save_session(fapp, theirs_session, theirs)  # type: ignore[arg-type]
    assert ours.headers.to_wsgi_list() == theirs.headers.to_wsgi_list()


def test_accessed_unmodified_session_only_varies() -> None:
    session = SecureCookieSession({"a": 1})
    session.get("a")
    response = Response()
    SecureCookieSessionInterface().save_session(make_app(), session, response)  # type: ignore[arg-type]
    assert response.headers.getlist("Vary") == ["Cookie"]
    assert response.headers.getlist("Set-Cookie") == []


def test_response_with_its_own_vary_property_is_used() -> None:
    class TrackingResponse(Response):
        reads = 0

        @property  # type: ignore[override]
        def vary(self) -> t.Any:
            TrackingResponse.reads += 1
            return super().vary

    response = TrackingResponse()
    save(make_app(), {"a": 1}, response=response)
    assert TrackingResponse.reads == 2
    assert response.headers.getlist("Vary") == ["Cookie"]


# --- the signing primitives -------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 20, 64, 65, 100])
def test_hmac_helper_equals_hmac_module(length: int) -> None:
    key = bytes(range(length))
    mac = cookie_signing._HmacSha1(key)
    for message in (b"", b"abc", b"x" * 1000):
        assert mac.digest(message) == hmac.digest(key, message, "sha1")


def test_timestamp_is_re_encoded_when_the_second_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app()
    first = write(app, {"a": 1})
    monkeypatch.setattr(time, "time", lambda: NOW + 1.5)
    second = write(app, {"a": 1})
    assert first.split(".")[1] != second.split(".")[1]
    assert second == reference_dumps(app, {"a": 1})


# --- the tagged serializer's shortcut for plain values ----------------------------


PLAIN_AND_NOT: list[t.Any] = [
    {"a": 1, "b": [1, 2.5, None, True, "x"]},
    {" t": 1},
    {"a": {" t": 1}},
    {"a": [{" di": 2}]},
    [Markup("<i>")],
    {"s": Markup("<i>")},
    {"nested": nest("deep", 23)},
    {"nested": nest("deep", 15)},
    {"t": (1, [2, (3,)])},
    {1: "int key", "x": 2},
]


def _outcome(dumps: t.Callable[[t.Any], str], value: t.Any) -> t.Any:
    """The text ``dumps`` writes, or the type of error it raises."""
    try:
        return dumps(value)
    except TypeError as error:
        return type(error)


@pytest.mark.parametrize("value", PLAIN_AND_NOT)
def test_dumps_equals_flask_for_plain_and_tagged_values(value: t.Any) -> None:
    ours = TaggedJSONSerializer()
    theirs = flask.json.tag.TaggedJSONSerializer()
    assert _outcome(ours.dumps, value) == _outcome(theirs.dumps, value)
    # In an app context both use the app's provider, which sorts keys.
    with make_app().app_context():
        in_app = _outcome(ours.dumps, value)
    with make_flask_app().app_context():
        assert in_app == _outcome(theirs.dumps, value)


def test_a_tag_for_plain_strings_disables_the_shortcut() -> None:
    class TagUpper(JSONTag):
        __slots__ = ()
        key = " up"

        def check(self, value: t.Any) -> bool:
            return isinstance(value, str) and value.isupper()

        def to_json(self, value: t.Any) -> t.Any:
            return value.lower()

        def to_python(self, value: t.Any) -> t.Any:
            return value.upper()

    serializer = TaggedJSONSerializer()
    serializer.register(TagUpper)
    assert serializer.dumps({"a": "HI"}) == '{"a":{" up":"hi"}}'
    assert serializer.loads('{"a":{" up":"hi"}}') == {"a": "HI"}


def test_shared_session_serializer_with_a_new_tag_reaches_the_cookie() -> None:
    class TagStr(JSONTag):
        __slots__ = ()
        key = " s"

        def check(self, value: t.Any) -> bool:
            return isinstance(value, str)

        def to_json(self, value: t.Any) -> t.Any:
            return value[::-1]

        def to_python(self, value: t.Any) -> t.Any:
            return value[::-1]

    original = list(session_json_serializer.order), dict(session_json_serializer.tags)
    session_json_serializer.register(TagStr)
    try:
        app = make_app()
        cookie = write(app, {"a": "abc"})
        assert cookie == reference_dumps(app, {"a": "abc"})
        assert read(app, cookie) == {"a": "abc"}
        payload = cookie_signing.load_payload(cookie.split(".")[0].encode())
        assert payload == '{"a":{" s":"cba"}}'
    finally:
        session_json_serializer.order[:] = original[0]
        session_json_serializer.tags.clear()
        session_json_serializer.tags.update(original[1])


def test_overridden_tag_method_is_used() -> None:
    class Shouting(TaggedJSONSerializer):
        __slots__ = ()

        def tag(self, value: t.Any) -> t.Any:
            if isinstance(value, str):
                return value.upper()
            return super().tag(value)

    assert Shouting().dumps({"a": "hi"}) == '{"a":"HI"}'


def test_overridden_untag_method_is_used() -> None:
    class Counting(TaggedJSONSerializer):
        __slots__ = ()

        def untag(self, value: dict[str, t.Any]) -> t.Any:
            return {**super().untag(value), "untagged": True}

    assert Counting().loads('{"a":1}') == {"a": 1, "untagged": True}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a":1,"b":"x"}', {"a": 1, "b": "x"}),
        ('{" t":[1,2]}', (1, 2)),
        ('{"a":{" t":[1]}}', {"a": (1,)}),
        ('{" di":{" t__":1}}', {" t": 1}),
        ('{" t":1,"b":2}', {" t": 1, "b": 2}),
        ('{"\\u0020t":[3]}', (3,)),
    ],
)
def test_loads_restores_tags_wherever_they_are(text: str, expected: t.Any) -> None:
    assert TaggedJSONSerializer().loads(text) == expected
    assert flask.json.tag.TaggedJSONSerializer().loads(text) == expected


def test_loads_turns_a_providers_mapping_into_a_dict() -> None:
    class OrderedProvider(DefaultJSONProvider):
        def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
            kwargs.setdefault("object_pairs_hook", OrderedDict)
            return super().loads(s, **kwargs)

    app = make_app()
    app.json = OrderedProvider(app)
    with app.app_context():
        loaded = TaggedJSONSerializer().loads('{"a":1}')
    assert type(loaded) is dict
    assert loaded == {"a": 1}


@pytest.mark.parametrize("alphabet", [b"ab", b'{}":,visit0123', bytes(range(256))])
def test_compress_gives_zlib_compress_bytes(alphabet: bytes) -> None:
    # Short inputs take the small deflater; each must come out as zlib's
    # defaults write it, compressible or not, up to and past the limit.
    rng = random.Random(alphabet)
    for length in range(0, 200):
        data = bytes(rng.choice(alphabet) for _ in range(length))
        assert cookie_signing.compress(data) == zlib.compress(data), data


def test_small_compressible_session_is_written_compressed() -> None:
    text = '{"s":"' + "ab" * 40 + '"}'
    assert len(text) < 127
    cookie = write(make_app(), SESSIONS["small-compressible"])
    assert cookie.startswith(".")
