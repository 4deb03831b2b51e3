"""``request.cookies`` reads ``HTTP_COOKIE`` directly; it must give what
Werkzeug's request gives for the same environ."""

from __future__ import annotations

import typing as t

import pytest
from werkzeug.datastructures import EnvironHeaders
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

from demijohn import Demijohn, request
from demijohn.testing import DemijohnClient
from demijohn.wrappers import Request

COOKIE_HEADERS = [
    None,
    "",
    "a=1",
    "a=1; b=2",
    "a=1; a=2",
    'quoted="a b"; plain=c',
    "spaces = x ; =empty; novalue; b=2",
    "unicode=%C3%A9; raw=\u00e9".encode().decode("latin-1"),
]


@pytest.mark.parametrize("header", COOKIE_HEADERS)
def test_cookies_match_werkzeug(header: str | None) -> None:
    environ = EnvironBuilder().get_environ()
    if header is not None:
        environ["HTTP_COOKIE"] = header
    ours = Request(environ).cookies
    theirs = WerkzeugRequest(dict(environ)).cookies
    assert list(ours.items(multi=True)) == list(theirs.items(multi=True))
    assert type(ours) is type(theirs)


def test_a_request_with_replaced_headers_reads_cookies_from_them() -> None:
    class HeaderCookies(Request):
        @property  # type: ignore[override]
        def headers(self) -> EnvironHeaders:
            return EnvironHeaders({"HTTP_COOKIE": "from=headers"})

    environ = EnvironBuilder().get_environ()
    environ["HTTP_COOKIE"] = "from=environ"
    assert HeaderCookies(environ).cookies["from"] == "headers"


def test_every_cookie_header_reaches_the_view(
    app: Demijohn, make_client: t.Callable[..., DemijohnClient]
) -> None:
    @app.route("/")
    def show() -> dict[str, str]:
        return dict(request.cookies)

    client = make_client(app)
    client.set_cookie("first", "1")
    client.set_cookie("second", "two")
    assert client.get("/").get_json() == {"first": "1", "second": "two"}
