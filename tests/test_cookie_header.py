"""``demijohn.cookie_header.set_cookie`` adds exactly the header Werkzeug's
``Response.set_cookie`` adds, and leaves every unusual case to it.

The session interface sets its cookie through it, so a difference would
change every session cookie a demijohn app sends.
"""

from __future__ import annotations

import typing as t
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demijohn import Demijohn, session
from demijohn.cookie_header import set_cookie
from demijohn.wrappers import Response

ATTRIBUTES: dict[str, t.Any] = {
    "expires": None,
    "path": "/",
    "domain": None,
    "secure": False,
    "httponly": True,
    "samesite": None,
    "partitioned": False,
}


def both_ways(key: str, value: str, **attributes: t.Any) -> tuple[list[str], list[str]]:
    """The Set-Cookie headers of set_cookie and of Werkzeug's method."""
    options = {**ATTRIBUTES, **attributes}
    ours, theirs = Response(), Response()
    set_cookie(ours, key, value, **options)
    theirs.set_cookie(key, value, **options)
    return ours.headers.getlist("Set-Cookie"), theirs.headers.getlist("Set-Cookie")


@settings(max_examples=150, deadline=None, database=None)
@given(
    key=st.sampled_from(["session", "sid", "my-cookie", "café"]),
    value=st.text(max_size=40),
    path=st.sampled_from([None, "/", "/app", "/a b", "/x;y"]),
    domain=st.sampled_from([None, "", "example.com", ".example.com:8080", "bücher.de"]),
    secure=st.booleans(),
    httponly=st.booleans(),
    samesite=st.sampled_from([None, "Lax", "strict", "None"]),
    partitioned=st.booleans(),
    expires=st.one_of(
        st.none(),
        st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)
        ).map(lambda moment: moment.replace(tzinfo=timezone.utc)),
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    ),
)
def test_same_header_as_werkzeug(key: str, value: str, **attributes: t.Any) -> None:
    ours, theirs = both_ways(key, value, **attributes)
    assert ours == theirs


def test_expiry_dates_within_one_second_are_formatted_apart() -> None:
    # The formatted date is reused within a second: a later second, or
    # another zone for the same wall time, must not reuse it.
    moment = datetime(2030, 5, 6, 7, 8, 9, 100, tzinfo=timezone.utc)
    later = moment + timedelta(seconds=1)
    shifted = moment.replace(tzinfo=timezone(timedelta(hours=2)))
    for expires in (moment, moment + timedelta(microseconds=5), later, shifted, moment):
        ours, theirs = both_ways("session", "abc", expires=expires)
        assert ours == theirs
    assert (
        "Expires=Mon, 06 May 2030 05:08:09 GMT"
        in both_ways("session", "abc", expires=shifted)[0][0]
    )


def test_a_value_that_needs_quoting_is_quoted_as_werkzeug_does() -> None:
    ours, theirs = both_ways("session", 'a "quoted"; value,')
    assert ours == theirs
    assert ours[0].startswith('session="')


def test_an_invalid_samesite_raises_as_werkzeug_does() -> None:
    with pytest.raises(ValueError, match="SameSite"):
        set_cookie(Response(), "session", "abc", **{**ATTRIBUTES, "samesite": "Loose"})


def test_an_oversized_cookie_warns_and_is_still_set() -> None:
    response = Response()
    with pytest.warns(UserWarning, match="too large"):
        set_cookie(response, "session", "x" * 5000, **ATTRIBUTES)
    assert response.headers["Set-Cookie"].startswith("session=xxx")


def test_a_response_class_with_its_own_set_cookie_is_called() -> None:
    calls: list[tuple[str, str]] = []

    class Recording(Response):
        def set_cookie(self, key: str, value: str = "", **kwargs: t.Any) -> None:
            calls.append((key, value))
            super().set_cookie(key, value, **kwargs)

    response = Recording()
    set_cookie(response, "session", "abc", **ATTRIBUTES)
    assert calls == [("session", "abc")]
    assert response.headers["Set-Cookie"] == "session=abc; HttpOnly; Path=/"


def test_a_line_break_in_an_attribute_is_refused_by_the_headers() -> None:
    # Werkzeug's Headers.add refuses it; the cached text is never used.
    with pytest.raises(ValueError, match="newline"):
        set_cookie(Response(), "session", "abc", **{**ATTRIBUTES, "domain": "a\nb"})


def test_session_cookie_matches_werkzeug_set_cookie_with_app_settings() -> None:
    app = Demijohn(__name__)
    app.secret_key = "test key"
    app.config.update(
        SESSION_COOKIE_DOMAIN="example.org",
        SESSION_COOKIE_PATH="/shop",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )

    @app.route("/login")
    def login() -> str:
        session.permanent = True
        session["user"] = "ada"
        return "ok"

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        header = app.test_client().get("/login").headers["Set-Cookie"]
    name_value, _, attributes = header.partition("; ")
    assert name_value.startswith("session=")
    expected = Response()
    expected.set_cookie(
        "session",
        name_value.partition("=")[2],
        expires=datetime.now(timezone.utc) + app.permanent_session_lifetime,
        domain="example.org",
        path="/shop",
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    # Same attributes, in the same order; the expiry may be a second apart.
    expected_parts = expected.headers["Set-Cookie"].split("; ")[1:]
    parts = attributes.split("; ")
    assert [p.partition("=")[0] for p in parts] == [
        p.partition("=")[0] for p in expected_parts
    ]
    assert [p for p in parts if not p.startswith("Expires=")] == [
        p for p in expected_parts if not p.startswith("Expires=")
    ]
