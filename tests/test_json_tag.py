from __future__ import annotations

import typing as t
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from uuid import UUID

import pytest
from flask.json.tag import TaggedJSONSerializer as FlaskSerializer
from markupsafe import Markup

from demijohn.json.tag import (
    JSONTag,
    PassDict,
    PassList,
    TagBytes,
    TagDateTime,
    TagDict,
    TaggedJSONSerializer,
    TagMarkup,
    TagTuple,
    TagUUID,
)

AWARE = datetime(2024, 2, 29, 13, 45, 7, tzinfo=timezone.utc)
AN_UUID = UUID("12345678-1234-5678-1234-567812345678")


class HTMLThing:
    """Not Markup, but has ``__html__``; loads back as Markup."""

    def __html__(self) -> str:
        return "<em>thing</em>"


# Values that load back equal to themselves, with their exact wire form.
WIRE_CASES: list[tuple[t.Any, str]] = [
    (None, "null"),
    (True, "true"),
    (3, "3"),
    (1.5, "1.5"),
    ("text", '"text"'),
    ([1, "a"], '[1,"a"]'),
    ({"a": 1, "b": [2]}, '{"a":1,"b":[2]}'),
    ({}, "{}"),
    ((), '{" t":[]}'),
    ((1, "a"), '{" t":[1,"a"]}'),
    (b"\x00\xffhi", '{" b":"AP9oaQ=="}'),
    (b"", '{" b":""}'),
    (Markup("<b>x</b>"), '{" m":"<b>x</b>"}'),
    (AN_UUID, '{" u":"12345678123456781234567812345678"}'),
    (AWARE, '{" d":"Thu, 29 Feb 2024 13:45:07 GMT"}'),
    ({" t": 1}, '{" di":{" t__":1}}'),
    ({" di": (1,)}, '{" di":{" di__":{" t":[1]}}}'),
    ({" u": {" d": 2}}, '{" di":{" u__":{" di":{" d__":2}}}}'),
    ({" t": 1, "x": 2}, '{" t":1,"x":2}'),
    ({"not a tag": 1}, '{"not a tag":1}'),
    (
        {"k": [(1, b"a"), {"i": AN_UUID}], "m": Markup("&lt;")},
        '{"k":[{" t":[1,{" b":"YQ=="}]},'
        '{"i":{" u":"12345678123456781234567812345678"}}],"m":{" m":"&lt;"}}',
    ),
    (((1, (2, (3,))),), '{" t":[{" t":[1,{" t":[2,{" t":[3]}]}]}]}'),
]


@pytest.fixture
def serializer() -> TaggedJSONSerializer:
    return TaggedJSONSerializer()


@pytest.mark.parametrize(("value", "wire"), WIRE_CASES)
def test_dumps_writes_flask_wire_format(
    serializer: TaggedJSONSerializer, value: t.Any, wire: str
) -> None:
    assert serializer.dumps(value) == wire


@pytest.mark.parametrize(("value", "wire"), WIRE_CASES)
def test_round_trip_restores_value_and_type(
    serializer: TaggedJSONSerializer, value: t.Any, wire: str
) -> None:
    loaded = serializer.loads(serializer.dumps(value))
    assert loaded == value
    assert type(loaded) is type(value)


@pytest.mark.parametrize(("value", "wire"), WIRE_CASES)
def test_same_output_as_flask(value: t.Any, wire: str) -> None:
    assert TaggedJSONSerializer().dumps(value) == FlaskSerializer().dumps(value)


@pytest.mark.parametrize(("value", "wire"), WIRE_CASES)
def test_each_loads_the_others_output(value: t.Any, wire: str) -> None:
    ours, flasks = TaggedJSONSerializer(), FlaskSerializer()
    assert ours.loads(flasks.dumps(value)) == value
    assert flasks.loads(ours.dumps(value)) == value
    assert type(ours.loads(flasks.dumps(value))) is type(value)


def test_tuple_items_keep_their_types(serializer: TaggedJSONSerializer) -> None:
    loaded = serializer.loads(serializer.dumps((b"x", (1,), [AWARE])))
    assert loaded == (b"x", (1,), [AWARE])
    assert isinstance(loaded[1], tuple)
    assert isinstance(loaded[2], list)


def test_html_object_loads_back_as_markup(serializer: TaggedJSONSerializer) -> None:
    wire = serializer.dumps(HTMLThing())
    assert wire == '{" m":"<em>thing</em>"}'
    loaded = serializer.loads(wire)
    assert type(loaded) is Markup
    assert loaded == Markup("<em>thing</em>")
    assert FlaskSerializer().dumps(HTMLThing()) == wire


def test_naive_datetime_is_taken_as_utc(serializer: TaggedJSONSerializer) -> None:
    naive = datetime(2020, 5, 17, 8, 0, 1)
    loaded = serializer.loads(serializer.dumps(naive))
    assert loaded == naive.replace(tzinfo=timezone.utc)
    assert loaded.tzinfo is not None


def test_datetime_drops_microseconds_and_converts_to_utc(
    serializer: TaggedJSONSerializer,
) -> None:
    plus_two = timezone(timedelta(hours=2))
    value = datetime(2021, 1, 1, 12, 0, 0, 999_999, tzinfo=plus_two)
    loaded = serializer.loads(serializer.dumps(value))
    assert loaded == datetime(2021, 1, 1, 10, 0, 0, tzinfo=timezone.utc)
    assert serializer.dumps(value) == FlaskSerializer().dumps(value)


def test_dumps_is_compact(serializer: TaggedJSONSerializer) -> None:
    text = serializer.dumps({"a": [1, 2], "b": {"c": None}})
    assert text == '{"a":[1,2],"b":{"c":null}}'


def test_unknown_type_raises_type_error(serializer: TaggedJSONSerializer) -> None:
    with pytest.raises(TypeError):
        serializer.dumps({"x": object()})


def test_loads_invalid_json_raises_value_error(
    serializer: TaggedJSONSerializer,
) -> None:
    with pytest.raises(ValueError):
        serializer.loads("{not json")


def test_loads_bad_base64_raises_value_error(
    serializer: TaggedJSONSerializer,
) -> None:
    with pytest.raises(ValueError):
        serializer.loads('{" b":"a"}')


def test_loads_accepts_bytes(serializer: TaggedJSONSerializer) -> None:
    assert serializer.loads(b'{" t":[1]}') == (1,)


def test_tag_leaves_plain_values_alone(serializer: TaggedJSONSerializer) -> None:
    value = object()
    assert serializer.tag(value) is value
    assert serializer.tag("s") == "s"


def test_tag_returns_json_safe_structure(serializer: TaggedJSONSerializer) -> None:
    assert serializer.tag({"a": (1, b"\x01")}) == {"a": {" t": [1, {" b": "AQ=="}]}}


def test_untag_only_touches_one_key_registered_objects(
    serializer: TaggedJSONSerializer,
) -> None:
    assert serializer.untag({" t": [1, 2]}) == (1, 2)
    two_keys = {" t": [1], " b": ""}
    assert serializer.untag(two_keys) is two_keys
    unknown = {" zz": 1}
    assert serializer.untag(unknown) is unknown


def test_untag_scan_restores_nested_tags_innermost_first(
    serializer: TaggedJSONSerializer,
) -> None:
    loaded = {"a": [{" t": [{" b": "eA=="}]}], "b": {" di": {" t__": {" u": "0" * 32}}}}
    assert serializer._untag_scan(loaded) == {
        "a": [(b"x",)],
        "b": {" t": UUID(int=0)},
    }


def test_default_tags_order_and_keys_match_flask(
    serializer: TaggedJSONSerializer,
) -> None:
    assert TaggedJSONSerializer.default_tags == [
        TagDict,
        PassDict,
        TagTuple,
        PassList,
        TagBytes,
        TagMarkup,
        TagUUID,
        TagDateTime,
    ]
    ours = [(type(tag).__name__, tag.key) for tag in serializer.order]
    theirs = [(type(tag).__name__, tag.key) for tag in FlaskSerializer().order]
    assert ours == theirs
    assert set(serializer.tags) == {" di", " t", " b", " m", " u", " d"}


def test_pass_through_tags_are_not_registered_for_loading(
    serializer: TaggedJSONSerializer,
) -> None:
    assert "" not in serializer.tags
    assert all(isinstance(tag, JSONTag) for tag in serializer.order)
    assert all(tag.serializer is serializer for tag in serializer.order)


def test_base_tag_methods_must_be_implemented(
    serializer: TaggedJSONSerializer,
) -> None:
    tag = JSONTag(serializer)
    with pytest.raises(NotImplementedError):
        tag.check(1)
    with pytest.raises(NotImplementedError):
        tag.to_json(1)
    with pytest.raises(NotImplementedError):
        tag.to_python(1)


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    __hash__ = None  # type: ignore[assignment]


class TagPoint(JSONTag):
    __slots__ = ()
    key = " pt"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, Point)

    def to_json(self, value: t.Any) -> t.Any:
        return [value.x, value.y]

    def to_python(self, value: t.Any) -> t.Any:
        return Point(*value)


class TagOrderedDict(JSONTag):
    __slots__ = ()
    key = " od"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, OrderedDict)

    def to_json(self, value: t.Any) -> t.Any:
        return [[k, self.serializer.tag(v)] for k, v in value.items()]

    def to_python(self, value: t.Any) -> t.Any:
        return OrderedDict(value)


def test_register_adds_a_custom_tag(serializer: TaggedJSONSerializer) -> None:
    serializer.register(TagPoint)
    assert serializer.order[-1].key == " pt"
    wire = serializer.dumps({"p": Point(1, 2)})
    assert wire == '{"p":{" pt":[1,2]}}'
    assert serializer.loads(wire) == {"p": Point(1, 2)}


def test_registered_key_protects_one_key_dicts(
    serializer: TaggedJSONSerializer,
) -> None:
    serializer.register(TagPoint)
    assert serializer.dumps({" pt": 1}) == '{" di":{" pt__":1}}'
    assert serializer.loads(serializer.dumps({" pt": 1})) == {" pt": 1}


def test_register_duplicate_key_raises_key_error(
    serializer: TaggedJSONSerializer,
) -> None:
    class OtherTuple(TagTuple):
        __slots__ = ()

    before = list(serializer.order)
    with pytest.raises(KeyError, match="' t' is already registered"):
        serializer.register(OtherTuple)
    assert serializer.order == before
    assert type(serializer.tags[" t"]) is TagTuple


def test_register_force_replaces_loader(serializer: TaggedJSONSerializer) -> None:
    class ListTuple(TagTuple):
        __slots__ = ()

        def to_python(self, value: t.Any) -> t.Any:
            return ["loaded", *value]

    serializer.register(ListTuple, force=True)
    assert type(serializer.tags[" t"]) is ListTuple
    assert serializer.loads('{" t":[1]}') == ["loaded", 1]


def test_register_index_puts_tag_first(serializer: TaggedJSONSerializer) -> None:
    data = OrderedDict([("b", 1), ("a", (2,))])
    serializer.register(TagOrderedDict)
    # Appended, the dict tags see the OrderedDict first.
    assert serializer.dumps(data) == '{"b":1,"a":{" t":[2]}}'

    first = TaggedJSONSerializer()
    first.register(TagOrderedDict, index=0)
    assert first.order[0].key == " od"
    wire = first.dumps(data)
    assert wire == '{" od":[["b",1],["a",{" t":[2]}]]}'
    loaded = first.loads(wire)
    assert type(loaded) is OrderedDict
    assert list(loaded.items()) == [("b", 1), ("a", (2,))]


def test_register_pass_through_tag_changes_dumping_only(
    serializer: TaggedJSONSerializer,
) -> None:
    class PassSet(JSONTag):
        __slots__ = ()

        def check(self, value: t.Any) -> bool:
            return isinstance(value, (set, frozenset))

        def to_json(self, value: t.Any) -> t.Any:
            return sorted(value)

        def tag(self, value: t.Any) -> t.Any:
            return self.to_json(value)

    serializer.register(PassSet)
    serializer.register(PassSet)  # no key, so no duplicate check
    assert "" not in serializer.tags
    assert serializer.dumps({"s": {3, 1}}) == '{"s":[1,3]}'


def test_registration_is_per_instance() -> None:
    first, second = TaggedJSONSerializer(), TaggedJSONSerializer()
    first.register(TagPoint)
    assert " pt" in first.tags
    assert " pt" not in second.tags
    with pytest.raises(TypeError):
        second.dumps(Point(1, 2))
