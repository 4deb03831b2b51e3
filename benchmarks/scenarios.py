"""What every benchmark app serves: the scenarios, their request data and the
checks a response must pass before it is timed.

Every framework's app (see :mod:`benchmarks.apps`) implements the routes
below with that framework's own idioms; the data they work on (payloads,
template context, fortunes) lives here so that the work is identical.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).parent / "templates"
SECRET_KEY = "benchmark-only-secret-key"

PLAINTEXT = "Hello, World!"
JSON_MESSAGE = {"message": "Hello, World!"}

#: The context of the ``loop.html`` template: a loop of ten rows.
LOOP_ITEMS = [{"name": f"item {i}", "value": i * i} for i in range(10)]
LOOP_TITLE = "Ten items"

#: The number of routes in the routing scenario and the one that is hit.
ROUTE_COUNT = 100
ROUTE_HIT = 51


def jinja_environment() -> jinja2.Environment:
    """The Jinja environment for frameworks without a template integration
    of their own, set up as Flask's is outside debug mode: ``.html``
    templates escaped, no file check on every render."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        auto_reload=False,
    )


def route_text(number: int, item_id: int, name: str) -> str:
    """The body every framework returns for ``/route<number>/<id>/<name>``."""
    return f"route{number} id={item_id} name={name}"


def _order(count: int) -> dict[str, object]:
    items = [
        {
            "sku": f"SKU-{i:04d}",
            "title": f"Item number {i}",
            "qty": i % 7 + 1,
            "price": round(3.25 * i + 0.99, 2),
            "tags": ["red", "large"] if i % 2 else ["blue"],
        }
        for i in range(count)
    ]
    return {
        "name": "demijohn-benchmark",
        "customer": {"id": 4711, "email": "someone@example.com", "vip": True},
        "items": items,
        "note": "Leave it at the door.",
    }


#: About 1.2 KB of JSON; the view parses it and echoes ``name``.
JSON_BODY = json.dumps(_order(11)).encode()
#: About 1 KB of urlencoded form; the view parses it and echoes ``field07``.
FORM_BODY = urllib.parse.urlencode(
    [(f"field{i:02d}", f"value {i} " + "x" * 31) for i in range(22)]
).encode()
FORM_FIELD = "field07"

#: Twelve rows, one with markup that the template must escape.
FORTUNES = [
    (1, "A watched pot never boils, but a watched benchmark always drifts."),
    (2, "Measure twice, optimise once."),
    (3, "<script>alert('escape me');</script>"),
    (4, "The median is the message."),
    (5, "Premature optimisation is the root of some evil."),
    (6, "Your cache will be cold when it matters most."),
    (7, "Fortune favours the profiled."),
    (8, "Ünïcödé survives the round trip: ✓ 日本"),
    (9, "Every request deserves a response."),
    (10, "Latency hides in the ninety-ninth percentile."),
    (11, "Two cores are plenty for a fair fight."),
    (12, "Interleave the rounds, or the laptop fan decides."),
]
EXTRA_FORTUNE = (0, "A fortune added while serving this request.")


def open_fortunes_db() -> sqlite3.Connection:
    """Create the in-memory fortunes database with its twelve rows."""
    # Servers may answer from a thread other than the one that built the app.
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute("CREATE TABLE fortune (id INTEGER PRIMARY KEY, message TEXT)")
    conn.executemany("INSERT INTO fortune VALUES (?, ?)", FORTUNES)
    return conn


def load_fortunes(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """Fetch all rows, add one, sort by message: the fortunes query."""
    rows: list[tuple[int, str]] = conn.execute(
        "SELECT id, message FROM fortune"
    ).fetchall()
    rows.append(EXTRA_FORTUNE)
    rows.sort(key=itemgetter(1))
    return rows


#: The header the hooked apps' response hook sets (see ``Scenario.hooked``).
HOOK_HEADER = ("X-Frame-Options", "DENY")
#: The per-request value the hooked apps' request-start hook stores.
HOOK_USER = "anonymous"


@dataclass(frozen=True)
class Scenario:
    """One request, the same for every framework, and what its response
    must contain to count as correct."""

    key: str
    title: str
    method: str
    path: str
    body: bytes = b""
    content_type: str | None = None
    status: int = 200
    #: Byte strings that must all appear in the response body.
    expect: tuple[bytes, ...] = ()
    #: Send the session cookie the app set on a priming request, and
    #: require the response to set a new one.
    session: bool = False
    #: Serve it with the framework's ``keyed_app`` (the same app with a
    #: secret key) where its app module has one. Flask and Quart open the
    #: session of every request once a secret key is set, whether the view
    #: uses it or not, so the key is given only to the scenarios that are
    #: about it; the others measure the app the way the issue's peer table
    #: did, without one.
    keyed: bool = False
    #: Serve it with the framework's ``hooked_app``: the app with a hook
    #: at the start of each request (it stores a per-request value), one
    #: on the response (it sets :data:`HOOK_HEADER`) and, where the
    #: framework has one, one at the end (it does nothing). Real apps have
    #: such hooks, and they take a request off some frameworks' fast paths.
    hooked: bool = False
    #: A header the response must carry, as ``(name, value)``.
    expect_header: tuple[str, str] | None = None


SCENARIOS = (
    Scenario("plaintext", "plaintext GET", "GET", "/plaintext", expect=(b"Hello",)),
    Scenario(
        "plaintext_keyed",
        "plaintext GET, secret key set",
        "GET",
        "/plaintext",
        expect=(b"Hello",),
        keyed=True,
    ),
    Scenario(
        "plaintext_hooked",
        "plaintext GET, app with hooks",
        "GET",
        "/plaintext",
        expect=(b"Hello",),
        hooked=True,
        expect_header=HOOK_HEADER,
    ),
    Scenario(
        "json",
        "JSON GET",
        "GET",
        "/json",
        expect=(b'"message"', b"Hello, World!"),
    ),
    Scenario(
        "routing",
        f"{ROUTE_COUNT} routes, hit #{ROUTE_HIT} with params",
        "GET",
        f"/route{ROUTE_HIT}/42/alice",
        expect=(route_text(ROUTE_HIT, 42, "alice").encode(),),
    ),
    Scenario(
        "template",
        "Jinja template, loop of 10",
        "GET",
        "/template",
        expect=(b"<li>item 9: 81</li>", LOOP_TITLE.encode()),
    ),
    Scenario(
        "post_json",
        f"POST JSON ({len(JSON_BODY)} B), echo a field",
        "POST",
        "/echo-json",
        body=JSON_BODY,
        content_type="application/json",
        expect=(b'"echo"', b"demijohn-benchmark"),
    ),
    Scenario(
        "post_form",
        f"POST form ({len(FORM_BODY)} B), echo a field",
        "POST",
        "/echo-form",
        body=FORM_BODY,
        content_type="application/x-www-form-urlencoded",
        expect=(b"echo=value 7 xxx",),
    ),
    Scenario("not_found", "404", "GET", "/no/such/page", status=404),
    Scenario(
        "session",
        "signed-cookie session read+write",
        "GET",
        "/session",
        expect=(b"visits=2",),
        session=True,
        keyed=True,
    ),
    Scenario(
        "fortunes",
        "fortunes: SQLite 12 rows + template",
        "GET",
        "/fortunes",
        expect=(
            EXTRA_FORTUNE[1].encode(),
            b"&lt;script&gt;",
            "日本".encode(),
        ),
    ),
)
SCENARIOS_BY_KEY = {scenario.key: scenario for scenario in SCENARIOS}
