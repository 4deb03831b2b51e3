"""The optional orjson provider: same values as the default provider where
orjson can give them, the json module's answer where it cannot, and the
documented differences."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import math
import typing as t
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from demijohn import Demijohn, jsonify, request
from demijohn.json.orjson_provider import ORJSONProvider
from demijohn.json.provider import DefaultJSONProvider
from demijohn.testing import DemijohnClient

MakeClient = t.Callable[..., DemijohnClient]


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Colour(enum.Enum):
    RED = "red"


@pytest.fixture
def orjson_app(app: Demijohn) -> Demijohn:
    app.json = ORJSONProvider(app)
    return app


@pytest.fixture
def provider(orjson_app: Demijohn) -> ORJSONProvider:
    return t.cast(ORJSONProvider, orjson_app.json)


@pytest.fixture
def reference(app: Demijohn) -> DefaultJSONProvider:
    return DefaultJSONProvider(app)


# -- through the application ---------------------------------------------------


def test_views_answer_with_orjson_bodies(
    orjson_app: Demijohn, make_client: MakeClient
) -> None:
    @orjson_app.route("/dict")
    def as_dict() -> t.Any:
        return {"b": 1, "a": "é", "when": datetime.date(2024, 2, 29)}

    @orjson_app.route("/jsonify")
    def as_jsonify() -> t.Any:
        return jsonify([Point(1, 2), decimal.Decimal("1.50")])

    client = make_client(orjson_app)
    response = client.get("/dict")
    assert response.mimetype == "application/json"
    # Sorted keys, no whitespace, UTF-8 rather than \u escapes, HTTP dates.
    assert response.text == '{"a":"é","b":1,"when":"Thu, 29 Feb 2024 00:00:00 GMT"}\n'
    assert client.get("/jsonify").get_json() == [{"x": 1, "y": 2}, "1.50"]


def test_debug_mode_indents_responses_as_the_default_provider_does(
    orjson_app: Demijohn, app: Demijohn, make_client: MakeClient
) -> None:
    orjson_app.debug = True

    @orjson_app.route("/")
    def index() -> t.Any:
        return {"a": [1, {"b": None}]}

    expected = DefaultJSONProvider(app)._response_text({"a": [1, {"b": None}]})
    assert make_client(orjson_app).get("/").text == expected


def test_request_bodies_are_parsed_and_bad_ones_are_400(
    orjson_app: Demijohn, make_client: MakeClient
) -> None:
    @orjson_app.post("/")
    def echo() -> t.Any:
        return {"got": request.get_json()}

    client = make_client(orjson_app)
    assert client.post("/", json={"n": [1, 2.5, "x"]}).get_json() == {
        "got": {"n": [1, 2.5, "x"]}
    }
    big = 2**70
    response = client.post("/", data=f'{{"n": {big}}}', content_type="application/json")
    assert response.get_json() == {"got": {"n": big}}
    bad = client.post("/", data="{not json", content_type="application/json")
    assert bad.status_code == 400


# -- same values as the default provider ----------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"when": datetime.datetime(2024, 1, 2, 3, 4, 5)},
        {"id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
        {"price": decimal.Decimal("19.99")},
        {"point": Point(3, 4)},
        {"html": Markup("<b>x</b>")},
        {2: "two", 1: "one"},
        {"s": [True, False, None, 1.5, -3]},
        {"z": 1, "a": {"y": 2, "b": 3}},
    ],
)
def test_compact_output_matches_the_default_provider(
    provider: ORJSONProvider, reference: DefaultJSONProvider, value: t.Any
) -> None:
    compact = {"separators": (",", ":")}
    assert provider.dumps(value, **compact) == reference.dumps(value, **compact)


json_documents = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(document=json_documents)
def test_round_trips_agree_with_the_json_module(document: t.Any) -> None:
    app = Demijohn("orjson_property")
    provider = ORJSONProvider(app)
    assert json.loads(provider.dumps(document)) == document
    assert provider.loads(json.dumps(document)) == document
    assert provider.loads(json.dumps(document).encode()) == document


# -- where orjson cannot, json answers -------------------------------------------


def test_integers_beyond_64_bits_keep_their_value(provider: ORJSONProvider) -> None:
    big = 2**70
    assert provider.dumps({"n": big}) == f'{{"n":{big}}}'
    assert provider.loads(f"[{big}, -{big}]") == [big, -big]
    assert provider.loads(b"[18446744073709551616]") == [18446744073709551616]


def test_options_orjson_lacks_go_to_the_json_module(
    provider: ORJSONProvider, reference: DefaultJSONProvider
) -> None:
    value = {"name": "é", "items": [1, 2]}
    assert provider.dumps(value, ensure_ascii=True) == reference.dumps(value)
    for options in (
        {"indent": 4},
        {"separators": (", ", ": ")},
        {"indent": 2, "separators": (",", ":")},
        {"allow_nan": False},
        {"indent": 2},
    ):
        assert provider.dumps(value, **options) == reference.dumps(
            value, ensure_ascii=False, **options
        )


def test_documents_orjson_refuses_are_judged_by_the_json_module(
    provider: ORJSONProvider,
) -> None:
    assert math.isnan(provider.loads("[NaN]")[0])
    assert provider.loads('"\\ud800"') == "\ud800"
    assert provider.loads('{"a": 1}'.encode("utf-16")) == {"a": 1}
    assert provider.loads("[1]", parse_int=str) == ["1"]


def test_invalid_documents_raise_value_error(provider: ORJSONProvider) -> None:
    for document in ("{not json", "[1,]", "", b"\xff"):
        with pytest.raises(ValueError):
            provider.loads(document)
    with pytest.raises(ValueError, match="nested too deeply"):
        provider.loads("[" * 100_000 + "]" * 100_000)


def test_unserializable_values_raise_as_with_the_default_provider(
    provider: ORJSONProvider,
) -> None:
    with pytest.raises(TypeError, match="Object of type object is not JSON"):
        provider.dumps({"x": object()})
    with pytest.raises(TypeError, match="time is not JSON"):
        provider.dumps(datetime.time(12, 0))
    circular: list[t.Any] = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular reference"):
        provider.dumps(circular)


# -- the documented differences -------------------------------------------------


def test_documented_differences(
    provider: ORJSONProvider, reference: DefaultJSONProvider
) -> None:
    assert provider.ensure_ascii is False
    assert provider.dumps({"a": [1, 2]}) == '{"a":[1,2]}'
    assert reference.dumps({"a": [1, 2]}) == '{"a": [1, 2]}'
    assert provider.dumps([math.nan, math.inf]) == "[null,null]"
    assert provider.dumps({2: "b", 10: "c"}) == '{"10":"c","2":"b"}'
    assert provider.dumps({"c": Colour.RED}) == '{"c":"red"}'
    with pytest.raises(TypeError):
        reference.dumps({"c": Colour.RED})
