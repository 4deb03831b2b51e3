"""Tests for :mod:`demijohn.routing`: the fast matcher agrees with Werkzeug.

Every hit must be exactly what ``MapAdapter.match(..., return_rule=True)``
returns (the same rule object, equal values of the same types). Every case
the router declines is shown to be one where Werkzeug does something the
router cannot copy cheaply (redirect, 404, 405, another rule), so a ``None``
there is needed, not merely allowed. A hypothesis property checks the
contract on random maps and paths.
"""

from __future__ import annotations

import re
import sys
import typing as t
import uuid

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import (
    BaseConverter,
    Map,
    MapAdapter,
    RequestRedirect,
    Rule,
    ValidationError,
    WebsocketMismatch,
)

from demijohn.routing import FastRouter, build_router

Outcome = tuple[Rule, dict[str, t.Any]] | type[BaseException]


def werkzeug(
    url_map: Map, path: str, method: str = "GET", subdomain: str = ""
) -> Outcome:
    """Werkzeug's answer: ``(rule, values)`` or the type of what it raised."""
    adapter = url_map.bind("localhost", subdomain=subdomain)
    try:
        rule, values = adapter.match(path, method, return_rule=True)
    except Exception as e:
        return type(e)
    return rule, dict(values)


def typed(values: t.Mapping[str, t.Any]) -> dict[str, tuple[type, t.Any]]:
    """Values with their types, so ``1 == 1.0`` cannot hide a difference."""
    return {key: (type(value), value) for key, value in values.items()}


def assert_agrees(
    router: FastRouter, url_map: Map, path: str, method: str, subdomain: str
) -> bool:
    """Assert the contract for one request; return whether the router answered."""
    hit = router.match(path, method)
    if hit is None:
        if router.misses(path):
            assert werkzeug(url_map, path, method, subdomain) is NotFound, path
        return False
    assert not router.misses(path), path
    expected = werkzeug(url_map, path, method, subdomain)
    assert isinstance(expected, tuple), (path, method, hit, expected)
    assert hit[0] is expected[0], (path, method)
    assert typed(hit[1]) == typed(expected[1]), (path, method)
    return True


def router_for(url_map: Map, subdomain: str = "") -> FastRouter:
    router = build_router(url_map, subdomain)
    assert router is not None
    return router


def bench_map() -> Map:
    rules = [
        Rule(f"/route{n}/<int:item_id>/<name>", endpoint=f"route{n}", methods=["GET"])
        for n in range(100)
    ]
    rules += [
        Rule("/plaintext", endpoint="plaintext", methods=["GET"]),
        Rule("/json", endpoint="json", methods=["GET"]),
    ]
    return Map(rules)


# -- hits ------------------------------------------------------------------


def test_benchmark_map_hits_static_and_dynamic_routes() -> None:
    url_map = bench_map()
    router = router_for(url_map)

    rule, values = router.match("/plaintext", "GET") or pytest.fail("no hit")
    assert rule.endpoint == "plaintext" and values == {}
    rule, values = router.match("/route51/7/bob", "GET") or pytest.fail("no hit")
    assert rule.endpoint == "route51"
    assert typed(values) == {"item_id": (int, 7), "name": (str, "bob")}
    for path in (
        "/plaintext",
        "/json",
        "/route51/7/bob",
        "/route0/0/x",
        "/route99/12/%",
    ):
        assert assert_agrees(router, url_map, path, "GET", "")


def test_benchmark_map_declines_a_failing_int_segment() -> None:
    # A regex mismatch leaves Werkzeug to try other branches; here it 404s.
    url_map = bench_map()
    router = router_for(url_map)
    assert router.match("/route51/x/bob", "GET") is None
    assert werkzeug(url_map, "/route51/x/bob") is NotFound


def test_each_hit_returns_a_new_dict() -> None:
    url_map = Map(
        [Rule("/s", endpoint="s", defaults={"a": 1}), Rule("/d/<int:x>", endpoint="d")]
    )
    router = router_for(url_map)
    for path in ("/s", "/d/3"):
        first = router.match(path, "GET") or pytest.fail("no hit")
        first[1]["changed"] = True
        second = router.match(path, "GET") or pytest.fail("no hit")
        assert "changed" not in second[1]
    assert url_map._rules_by_endpoint["s"][0].defaults == {"a": 1}


def test_static_hit_includes_defaults() -> None:
    url_map = Map([Rule("/page", endpoint="page", defaults={"n": 1})])
    router = router_for(url_map)
    assert (router.match("/page", "GET") or pytest.fail("no hit"))[1] == {"n": 1}
    assert assert_agrees(router, url_map, "/page", "GET", "")


class DigitsConverter(BaseConverter):
    """Werkzeug's ``int`` pattern with no conversion: the shortcut alone decides."""

    regex = r"\d+"


def test_dynamic_hit_converts_like_werkzeug() -> None:
    item = uuid.uuid4()
    url_map = Map(
        [
            Rule("/digits/<digits:x>", endpoint="digits"),
            Rule("/f/<float:x>", endpoint="f"),
            Rule("/u/<uuid:x>", endpoint="u"),
            Rule("/a/<any(red, blue):x>/edit", endpoint="a"),
            Rule("/pair/<int:a>-<int(signed=True):b>", endpoint="pair"),
            Rule("/code/<string(length=2):x>", endpoint="code"),
            Rule("/short/<string(maxlength=3):x>", endpoint="short"),
            Rule("/n/<int:x>", endpoint="n"),
        ],
        converters={"digits": DigitsConverter},
    )
    router = router_for(url_map)
    cases: dict[str, dict[str, t.Any]] = {
        "/f/1.5": {"x": 1.5},
        f"/u/{item}": {"x": item},
        "/a/red/edit": {"x": "red"},
        "/pair/3--4": {"a": 3, "b": -4},
        "/code/ab": {"x": "ab"},
        "/short/abc": {"x": "abc"},
        "/n/\u0663": {"x": 3},  # ARABIC-INDIC DIGIT THREE: \d and int() accept it
        "/digits/0\u0663": {"x": "0\u0663"},
    }
    for path, values in cases.items():
        hit = router.match(path, "GET") or pytest.fail(path)
        assert typed(hit[1]) == typed(values)
        assert assert_agrees(router, url_map, path, "GET", "")
    # SUPERSCRIPT TWO is a digit to str.isdigit but not to \d.
    not_found = ("/code/abc", "/short/abcd", "/a/green/edit", "/n/\u00b2", "/f/1")
    for path in (*not_found, "/digits/\u00b2", "/digits/"):
        assert router.match(path, "GET") is None
        assert werkzeug(url_map, path) is NotFound


def test_static_rules_keep_werkzeug_order_and_methods() -> None:
    url_map = Map(
        [
            Rule("/r", endpoint="get", methods=["GET"]),
            Rule("/r", endpoint="post", methods=["POST"]),
            Rule("/r", endpoint="post-too", methods=["POST"]),
            Rule("/r", endpoint="any"),
        ]
    )
    router = router_for(url_map)
    expected = {"GET": "get", "HEAD": "get", "POST": "post", "DELETE": "any"}
    for method, endpoint in expected.items():
        hit = router.match("/r", method) or pytest.fail(method)
        assert hit[0].endpoint == endpoint
        assert assert_agrees(router, url_map, "/r", method, "")


def test_path_is_normalised_like_werkzeug() -> None:
    url_map = bench_map()
    router = router_for(url_map)
    for path in ("plaintext", "//plaintext", "///route51/7/bob", "route51/7/bob"):
        assert assert_agrees(router, url_map, path, "GET", "")


def test_unicode_digits_match_exactly_what_backslash_d_matches() -> None:
    # The int shortcut uses str.isdecimal for Werkzeug's ``\d+``.
    every_char = "".join(map(chr, range(sys.maxunicode + 1)))
    assert re.findall(r"\d", every_char) == [c for c in every_char if c.isdecimal()]


# -- declined: Werkzeug answers differently or not at all -------------------


def test_unanswerable_method_is_declined() -> None:
    url_map = Map(
        [
            Rule("/r", endpoint="r", methods=["POST"]),
            Rule("/d/<int:x>", endpoint="d", methods=["POST"]),
        ]
    )
    router = router_for(url_map)
    for path in ("/r", "/d/1"):
        assert router.match(path, "GET") is None
        assert werkzeug(url_map, path, "GET") is MethodNotAllowed


def test_lower_case_or_empty_method_is_declined_where_werkzeug_upper_cases() -> None:
    url_map = Map(
        [Rule("/r", endpoint="get", methods=["GET"]), Rule("/r", endpoint="any")]
    )
    router = router_for(url_map)
    for method in ("get", ""):
        assert router.match("/r", method) is None
        outcome = werkzeug(url_map, "/r", method)
        assert isinstance(outcome, tuple) and outcome[0].endpoint == "get"


def test_static_and_dynamic_rules_sharing_a_first_segment_are_declined() -> None:
    url_map = Map(
        [Rule("/users/new", endpoint="new"), Rule("/users/<int:id>", endpoint="show")]
    )
    router = router_for(url_map)
    assert router.match("/users/5", "GET") is None
    outcome = werkzeug(url_map, "/users/5")
    assert isinstance(outcome, tuple) and outcome[0].endpoint == "show"
    assert assert_agrees(router, url_map, "/users/new", "GET", "")


def test_missing_trailing_slash_is_declined() -> None:
    url_map = Map([Rule("/a/", endpoint="a"), Rule("/u/<int:id>/", endpoint="u")])
    router = router_for(url_map)
    for path in ("/a", "/u/5"):
        assert router.match(path, "GET") is None
        assert werkzeug(url_map, path) is RequestRedirect
    for path in ("/a/", "/u/5/"):
        assert assert_agrees(router, url_map, path, "GET", "")


def test_extra_trailing_slash_on_non_strict_rule_is_left_to_werkzeug() -> None:
    url_map = Map(
        [
            Rule("/s", endpoint="s", strict_slashes=False),
            Rule("/d/<int:x>", endpoint="d", strict_slashes=False),
        ]
    )
    router = router_for(url_map)
    for path in ("/s/", "/d/1/"):
        assert router.match(path, "GET") is None
        outcome = werkzeug(url_map, path)
        assert isinstance(outcome, tuple)  # Werkzeug matches without a redirect
    assert assert_agrees(router, url_map, "/s", "GET", "")


def test_redirect_to_and_alias_rules_are_declined() -> None:
    url_map = Map(
        [
            Rule("/old", endpoint="old", redirect_to="/new"),
            Rule("/old/<int:x>", endpoint="oldx", redirect_to="/new/<x>"),
            Rule("/new", endpoint="new"),
            Rule("/alias", endpoint="new", alias=True),
        ]
    )
    router = router_for(url_map)
    for path in ("/old", "/old/1", "/alias"):
        assert router.match(path, "GET") is None
        assert werkzeug(url_map, path) is RequestRedirect
    assert assert_agrees(router, url_map, "/new", "GET", "")


def test_rule_shadowed_by_defaults_is_declined() -> None:
    def make(redirect_defaults: bool) -> Map:
        return Map(
            [
                Rule("/all/", endpoint="all", defaults={"page": 1}),
                Rule("/page/<int:page>", endpoint="all"),
            ],
            redirect_defaults=redirect_defaults,
        )

    url_map = make(True)
    router = router_for(url_map)
    assert router.match("/page/1", "GET") is None
    assert werkzeug(url_map, "/page/1") is RequestRedirect
    assert assert_agrees(router, url_map, "/all/", "GET", "")
    # Without default redirects Werkzeug returns the rule, and so do we.
    url_map = make(False)
    assert assert_agrees(router_for(url_map), url_map, "/page/1", "GET", "")


def test_websocket_rules_are_skipped_like_werkzeug_skips_them() -> None:
    url_map = Map(
        [
            Rule("/ws", endpoint="ws", websocket=True),
            Rule("/ws", endpoint="http"),
            Rule("/only-ws", endpoint="only", websocket=True),
            Rule("/dws/<int:x>", endpoint="dws", websocket=True),
        ]
    )
    router = router_for(url_map)
    hit = router.match("/ws", "GET") or pytest.fail("no hit")
    assert hit[0].endpoint == "http"
    assert assert_agrees(router, url_map, "/ws", "GET", "")
    for path in ("/only-ws", "/dws/1"):
        assert router.match(path, "GET") is None
        assert werkzeug(url_map, path) is WebsocketMismatch


def test_double_slashes_are_declined() -> None:
    url_map = Map(
        [
            Rule("/a/b", endpoint="ab"),
            Rule("/d/<x>/e", endpoint="d"),
            Rule("/m//n", endpoint="m"),
        ]
    )
    router = router_for(url_map)
    for path in ("/a//b", "/d/1//e", "/m//n"):
        assert router.match(path, "GET") is None
        assert werkzeug(url_map, path) is RequestRedirect
    # A rule written with "//" is left to Werkzeug even where it matches.
    assert router.match("/m/n", "GET") is None
    assert isinstance(werkzeug(url_map, "/m/n"), tuple)


def test_empty_path_is_declined() -> None:
    url_map = Map([Rule("/", endpoint="index")])
    router = router_for(url_map)
    assert router.match("", "GET") is None
    assert werkzeug(url_map, "") is RequestRedirect
    assert assert_agrees(router, url_map, "/", "GET", "")


def test_path_converter_rules_are_left_to_werkzeug() -> None:
    url_map = Map([Rule("/files/<path:p>", endpoint="files")])
    router = router_for(url_map)
    assert router.match("/files/a/b", "GET") is None
    assert router.match("/files/a", "GET") is None
    assert isinstance(werkzeug(url_map, "/files/a/b"), tuple)


def test_failed_conversion_is_declined() -> None:
    class Even(BaseConverter):
        def to_python(self, value: str) -> int:
            if int(value) % 2:
                raise ValidationError()
            return int(value)

    class Broken(BaseConverter):
        def to_python(self, value: str) -> str:
            raise LookupError(value)

    url_map = Map(
        [
            Rule("/even/<even:x>", endpoint="even"),
            Rule("/broken/<broken:x>", endpoint="broken"),
            Rule("/min/<int(min=5):x>", endpoint="min"),
            Rule("/big/<int:x>", endpoint="big"),
        ],
        converters={"even": Even, "broken": Broken},
    )
    router = router_for(url_map)
    assert assert_agrees(router, url_map, "/even/4", "GET", "")
    assert assert_agrees(router, url_map, "/min/5", "GET", "")
    for path in ("/even/3", "/min/4", "/big/" + "9" * 5000):
        assert router.match(path, "GET") is None
        assert werkzeug(url_map, path) is NotFound
    assert router.match("/broken/x", "GET") is None
    assert werkzeug(url_map, "/broken/x") is LookupError


def test_build_only_rule_is_never_answered() -> None:
    url_map = Map(
        [
            Rule("/b", endpoint="b", build_only=True),
            Rule("/c/<int:x>", endpoint="c", build_only=True),
        ]
    )
    router = router_for(url_map)
    for path in ("/b", "/c/1"):
        assert router.match(path, "GET") is None
        assert werkzeug(url_map, path) is NotFound


def test_subdomains_are_answered_only_for_the_bound_one() -> None:
    url_map = Map(
        [
            Rule("/", endpoint="main"),
            Rule("/", endpoint="api", subdomain="api"),
            Rule("/item/<int:x>", endpoint="api-item", subdomain="api"),
            Rule("/p", endpoint="user", subdomain="<user>"),
        ],
        default_subdomain="www",
    )
    www = router_for(url_map, "www")
    api = router_for(url_map, "api")
    assert (www.match("/", "GET") or pytest.fail())[0].endpoint == "main"
    assert (api.match("/", "GET") or pytest.fail())[0].endpoint == "api"
    assert www.match("/item/1", "GET") is None
    assert werkzeug(url_map, "/item/1", subdomain="www") is NotFound
    for subdomain, router in (("www", www), ("api", api)):
        for path in ("/", "/item/1"):
            assert_agrees(router, url_map, path, "GET", subdomain)
    # Dynamic subdomains are Werkzeug's.
    alice = router_for(url_map, "alice")
    assert alice.match("/p", "GET") is None
    assert isinstance(werkzeug(url_map, "/p", subdomain="alice"), tuple)


def test_unsupported_maps_get_no_router() -> None:
    class CustomBind(Map):
        def bind(self, *args: t.Any, **kwargs: t.Any) -> MapAdapter:
            return super().bind(*args, **kwargs)

    class Plain(Map):
        pass

    hosts = Map([Rule("/", endpoint="i", host="example.com")], host_matching=True)
    assert build_router(hosts, "") is None
    assert build_router(CustomBind([Rule("/", endpoint="i")]), "") is None
    assert build_router(Plain([Rule("/", endpoint="i")]), "") is not None
    with pytest.raises(ValueError, match="host matching"):
        FastRouter(hosts, "")


def test_router_is_built_after_update() -> None:
    url_map = Map([Rule("/a/<int:x>", endpoint="a")])
    url_map.add(Rule("/a/<string:x>", endpoint="b"))
    router = router_for(url_map)
    # Two rules under "a": the order is Werkzeug's sorted one, so decline.
    assert router.match("/a/1", "GET") is None
    outcome = werkzeug(url_map, "/a/1")
    assert isinstance(outcome, tuple) and outcome[0].endpoint == "a"


# -- property: random maps, random requests --------------------------------

#: Rule pieces: a static segment, or a converter with values it accepts.
PIECES: dict[str, list[str]] = {
    "a": [],
    "b": [],
    "edit": [],
    "<int:{}>": ["7", "5", "\u0663"],
    "<{}>": ["x", "\u00e9"],
    "<string(length=2):{}>": ["ab"],
    "<float:{}>": ["1.5"],
    "<uuid:{}>": [str(uuid.UUID(int=5))],
    "<any(a, b):{}>": ["a"],
    "<path:{}>": ["a/b", "x"],
    "<int(min=5):{}>": ["5", "4"],
    "<int(signed=True):{}>": ["-3"],
    "p<int:{}>": ["p3"],
}
FIRST = ["a", "b", "users", "caf\u00e9", "x1", "y", "z", "w", "<int:{}>", "<{}>"]
ANY_VALUE = ["7", "x", "", "ab", "1.5", "-3", "a/b", "\u00b2", "p3"]

# Strategies are built once: building them per draw doubled the test's time.
first_pieces = st.sampled_from(FIRST)
more_pieces = st.lists(st.sampled_from(list(PIECES)), max_size=3)
rule_flags = st.integers(0, 2**15 - 1)  # one draw for all the rare options
rule_methods = st.sampled_from([None, ["GET"], ["POST"], ["GET", "POST"]])
endpoints = st.sampled_from(["e0", "e1", "e2", "e3"])
rule_defaults = st.sampled_from([None, None, None, {"page": 1}, {"v0": 5}])
rule_subdomains = st.sampled_from([None, None, None, "api", "<sub>"])
piece_values = {
    piece: st.sampled_from(valid * 4 + ANY_VALUE) for piece, valid in PIECES.items()
}
manglings = st.integers(0, 15)
junk_paths = st.text(alphabet="/ab7\u00e9.", max_size=8)
request_methods = st.sampled_from(["GET", "POST", "HEAD", "PUT"] + ["GET"] * 4)


@st.composite
def rule_specs(draw: st.DrawFn) -> dict[str, t.Any]:
    """Keyword arguments for a Rule, plus its ``pieces`` to build paths from."""
    pieces = [draw(first_pieces), *draw(more_pieces)]
    text = "/" + "/".join(p.format(f"v{i}") for i, p in enumerate(pieces))
    flags = draw(rule_flags)
    if flags & 1:
        text += "/"
    if flags >> 1 & 7 == 7:
        text = text.replace("/", "//", 1)
    websocket = flags >> 4 & 7 == 7
    methods = draw(rule_methods)
    return {
        "pieces": pieces,
        "string": text,
        "endpoint": draw(endpoints),
        "methods": ["GET"] if websocket and methods else methods,
        "defaults": draw(rule_defaults),
        "strict_slashes": False if flags >> 7 & 1 else None,
        "merge_slashes": False if flags >> 8 & 1 else None,
        "redirect_to": "/a" if flags >> 9 & 3 == 3 else None,
        "alias": flags >> 11 & 7 == 7,
        "build_only": flags >> 11 & 7 == 6,
        "subdomain": draw(rule_subdomains),
        "websocket": websocket,
    }


@st.composite
def paths_for(draw: st.DrawFn, specs: st.SearchStrategy[dict[str, t.Any]]) -> str:
    """A path filled in from one of the rules, mangled now and then."""
    spec = draw(specs)
    segments = [
        draw(piece_values[piece]) if "<" in piece else piece for piece in spec["pieces"]
    ]
    path = "/" + "/".join(segments) + ("/" if spec["string"].endswith("/") else "")
    mangle = draw(manglings)
    if mangle == 0:
        path = path.rstrip("/") if path.endswith("/") else path + "/"
    elif mangle == 1:
        path = path.replace("/", "//", 1)
    elif mangle == 2:
        path = path.lstrip("/")
    elif mangle == 3:
        path = draw(junk_paths)
    elif mangle == 4:
        path = path.replace("/", "//").rstrip("/")
    return path


@settings(max_examples=300, deadline=None, database=None)
@given(
    specs=st.lists(rule_specs(), min_size=1, max_size=6),
    options=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
    data=st.data(),
)
def test_router_agrees_with_werkzeug_on_random_maps(
    specs: list[dict[str, t.Any]],
    options: tuple[bool, bool, bool, bool],
    data: st.DataObject,
) -> None:
    strict, merge, redirect_defaults, www = options
    url_map = Map(
        [Rule(**{k: v for k, v in spec.items() if k != "pieces"}) for spec in specs],
        strict_slashes=strict,
        merge_slashes=merge,
        redirect_defaults=redirect_defaults,
        default_subdomain="www" if www else "",
    )
    default = url_map.default_subdomain
    subdomain = data.draw(st.sampled_from([default] * 8 + ["api", "alice"]))
    router = router_for(url_map, subdomain)
    paths = paths_for(st.sampled_from(specs))
    for _ in range(5):
        path = data.draw(paths)
        method = data.draw(request_methods)
        if assert_agrees(router, url_map, path, method, subdomain):
            event("answered")
        elif isinstance(werkzeug(url_map, path, method, subdomain), tuple):
            event("declined a Werkzeug match")


def test_router_knows_a_path_no_rule_can_match() -> None:
    url_map = bench_map()
    router = router_for(url_map)
    for path in ("/no/such/page", "/nothing", "/plaintextx/y"):
        assert router.misses(path)
        assert werkzeug(url_map, path) is NotFound
    # A first segment some rule uses, the root, odd paths: not certain.
    for path in ("/route51/x/bob", "/plaintext/", "/", "", "//nothing", "nothing"):
        assert not router.misses(path)


def test_router_never_claims_a_miss_where_a_dynamic_rule_could_match() -> None:
    url_map = Map([Rule("/<name>/edit", endpoint="edit"), Rule("/a", endpoint="a")])
    router = router_for(url_map)
    assert not router.misses("/anything/else")
    assert werkzeug(url_map, "/anything/edit")[0].endpoint == "edit"  # type: ignore[index]
    hosts = Map([Rule("/a", endpoint="a", subdomain="<sub>")])
    assert not router_for(hosts, "").misses("/b")
