from __future__ import annotations

import dataclasses
import datetime
import decimal
import gc
import io
import json
import typing as t
import uuid
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup
from werkzeug.wrappers import Response

import demijohn.json as dj_json
from demijohn.globals import _cv_app
from demijohn.json.provider import DefaultJSONProvider, JSONProvider


class StubApp:
    """The part of the app a provider uses: ``debug`` and ``response_class``."""

    response_class = Response

    def __init__(self, debug: bool = False) -> None:
        self.debug = debug


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Html:
    def __html__(self) -> str:
        return "<b>hi</b>"


def new_stub_app(debug: bool = False) -> t.Any:
    """Return a StubApp typed as Any, so it can stand in for a Demijohn."""
    return StubApp(debug)


@pytest.fixture
def stub_app() -> t.Any:
    return new_stub_app()


@pytest.fixture
def provider(stub_app: t.Any) -> DefaultJSONProvider:
    return DefaultJSONProvider(stub_app)


# --- default(): the extra types ---------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.date(2015, 10, 21), "Wed, 21 Oct 2015 00:00:00 GMT"),
        (
            datetime.datetime(2015, 10, 21, 7, 28, 5),
            "Wed, 21 Oct 2015 07:28:05 GMT",
        ),
        (
            # An aware datetime is converted to GMT, not printed in its zone.
            datetime.datetime(
                2015,
                10,
                21,
                9,
                28,
                5,
                tzinfo=datetime.timezone(datetime.timedelta(hours=2)),
            ),
            "Wed, 21 Oct 2015 07:28:05 GMT",
        ),
        (decimal.Decimal("0.10"), "0.10"),
        (
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "12345678-1234-5678-1234-567812345678",
        ),
        (Point(1, 2), {"x": 1, "y": 2}),
        (Markup("<em>x</em>"), "<em>x</em>"),
        (Html(), "<b>hi</b>"),
    ],
)
def test_default_converts_supported_types(value: object, expected: object) -> None:
    assert DefaultJSONProvider.default(value) == expected


def test_default_rejects_unknown_type_naming_it() -> None:
    class Widget:
        pass

    with pytest.raises(
        TypeError, match="^Object of type Widget is not JSON serializable$"
    ):
        DefaultJSONProvider.default(Widget())


def test_default_rejects_dataclass_type() -> None:
    # Only instances can be converted with asdict(); the class itself cannot.
    with pytest.raises(TypeError, match="Object of type type is not JSON"):
        DefaultJSONProvider.default(Point)


def test_dumps_uses_default_for_nested_values(provider: DefaultJSONProvider) -> None:
    data = {"when": datetime.date(2015, 10, 21), "items": [decimal.Decimal("1.5")]}
    assert provider.dumps(data) == (
        '{"items": ["1.5"], "when": "Wed, 21 Oct 2015 00:00:00 GMT"}'
    )


def test_dumps_unsupported_value_raises(provider: DefaultJSONProvider) -> None:
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        provider.dumps({"a": {1}})


def test_subclass_default_extends_types(stub_app: t.Any) -> None:
    def set_default(o: t.Any) -> t.Any:
        if isinstance(o, set):
            return sorted(o)
        return DefaultJSONProvider.default(o)

    class SetProvider(DefaultJSONProvider):
        default = staticmethod(set_default)

    p = SetProvider(stub_app)
    assert p.dumps({3, 1, 2}) == "[1, 2, 3]"
    assert p.dumps(datetime.date(2015, 10, 21)) == '"Wed, 21 Oct 2015 00:00:00 GMT"'


# --- dumps options -----------------------------------------------------------


def test_dumps_sorts_keys_by_default(provider: DefaultJSONProvider) -> None:
    assert provider.dumps({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'


def test_sort_keys_can_be_turned_off(stub_app: t.Any) -> None:
    class Unsorted(DefaultJSONProvider):
        sort_keys = False

    p = Unsorted(stub_app)
    assert p.dumps({"b": 1, "a": 2}) == '{"b": 1, "a": 2}'


def test_dumps_escapes_non_ascii_by_default(provider: DefaultJSONProvider) -> None:
    assert provider.dumps("café") == '"caf\\u00e9"'


def test_ensure_ascii_can_be_turned_off(stub_app: t.Any) -> None:
    class Utf8(DefaultJSONProvider):
        ensure_ascii = False

    p = Utf8(stub_app)
    assert p.dumps("café") == '"café"'


def test_dumps_keyword_arguments_override_attributes(
    provider: DefaultJSONProvider,
) -> None:
    out = provider.dumps({"b": "é", "a": 1}, sort_keys=False, ensure_ascii=False)
    assert out == '{"b": "é", "a": 1}'


# --- loads / load / dump -------------------------------------------------------


@pytest.mark.parametrize("doc", ['{"a": [1, "é"]}', '{"a": [1, "é"]}'.encode()])
def test_loads_accepts_str_and_bytes(
    provider: DefaultJSONProvider, doc: str | bytes
) -> None:
    assert provider.loads(doc) == {"a": [1, "é"]}


def test_loads_passes_kwargs(provider: DefaultJSONProvider) -> None:
    assert provider.loads("1.5", parse_float=decimal.Decimal) == decimal.Decimal("1.5")


def test_loads_invalid_raises_value_error(provider: DefaultJSONProvider) -> None:
    with pytest.raises(ValueError):
        provider.loads("{nope")


def test_dump_writes_to_text_file(provider: DefaultJSONProvider) -> None:
    fp = io.StringIO()
    provider.dump({"b": 1, "a": datetime.date(2015, 10, 21)}, fp)
    assert fp.getvalue() == '{"a": "Wed, 21 Oct 2015 00:00:00 GMT", "b": 1}'


@pytest.mark.parametrize("fp", [io.StringIO('{"a": 1}'), io.BytesIO(b'{"a": 1}')])
def test_load_reads_text_and_binary_files(
    provider: DefaultJSONProvider, fp: t.IO[t.Any]
) -> None:
    assert provider.load(fp) == {"a": 1}


# --- the base class ----------------------------------------------------------


def test_base_provider_requires_dumps_and_loads(stub_app: t.Any) -> None:
    p = JSONProvider(stub_app)
    with pytest.raises(NotImplementedError):
        p.dumps(1)
    with pytest.raises(NotImplementedError):
        p.loads("1")


class ReprProvider(JSONProvider):
    """Implements only dumps and loads, like a provider for another library."""

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        return json.dumps(obj, separators=(",", ":"), **kwargs)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        return json.loads(s, **kwargs)


def test_base_provider_builds_dump_load_response_on_dumps_loads(
    stub_app: t.Any,
) -> None:
    p = ReprProvider(stub_app)
    fp = io.StringIO()
    p.dump([1, 2], fp)
    assert fp.getvalue() == "[1,2]"
    assert p.load(io.StringIO("[1,2]")) == [1, 2]

    rv = p.response(a=1)
    assert isinstance(rv, Response)
    assert rv.mimetype == "application/json"
    assert rv.get_data(as_text=True) == '{"a":1}'


def test_provider_does_not_keep_app_alive() -> None:
    app = new_stub_app()
    p = DefaultJSONProvider(app)
    assert p._app.debug is False
    del app
    gc.collect()
    with pytest.raises(ReferenceError):
        p._app.debug  # noqa: B018


# --- response() ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((), {}, None),
        ((1,), {}, 1),
        (([1, 2],), {}, [1, 2]),
        (({"a": 1},), {}, {"a": 1}),
        ((1, 2, 3), {}, [1, 2, 3]),
        ((), {"b": 2, "a": 1}, {"a": 1, "b": 2}),
    ],
)
def test_response_argument_rules(
    provider: DefaultJSONProvider,
    args: tuple[t.Any, ...],
    kwargs: dict[str, t.Any],
    expected: t.Any,
) -> None:
    rv = provider.response(*args, **kwargs)
    assert json.loads(rv.get_data(as_text=True)) == expected


def test_response_rejects_args_and_kwargs(provider: DefaultJSONProvider) -> None:
    with pytest.raises(
        TypeError,
        match=r"^app\.json\.response\(\) takes either args or kwargs, not both$",
    ):
        provider.response(1, a=2)


def test_response_is_compact_json_with_newline(provider: DefaultJSONProvider) -> None:
    rv = provider.response({"b": [1, 2], "a": "x"})
    assert isinstance(rv, Response)
    assert rv.status_code == 200
    assert rv.mimetype == "application/json"
    assert rv.get_data(as_text=True) == '{"a":"x","b":[1,2]}\n'


def test_response_is_indented_in_debug(stub_app: t.Any) -> None:
    stub_app.debug = True
    p = DefaultJSONProvider(stub_app)
    assert p.response(a=[1]).get_data(as_text=True) == ('{\n  "a": [\n    1\n  ]\n}\n')


def test_compact_false_indents_without_debug(stub_app: t.Any) -> None:
    class Pretty(DefaultJSONProvider):
        compact = False

    p = Pretty(stub_app)
    assert p.response(a=1).get_data(as_text=True) == '{\n  "a": 1\n}\n'


def test_compact_true_stays_compact_in_debug(stub_app: t.Any) -> None:
    class Compact(DefaultJSONProvider):
        compact = True

    stub_app.debug = True
    p = Compact(stub_app)
    assert p.response(a=1, b=2).get_data(as_text=True) == '{"a":1,"b":2}\n'


def test_debug_is_read_at_response_time(stub_app: t.Any) -> None:
    p = DefaultJSONProvider(stub_app)
    assert p.response(a=1).get_data(as_text=True) == '{"a":1}\n'
    stub_app.debug = True
    assert p.response(a=1).get_data(as_text=True) == '{\n  "a": 1\n}\n'


def test_custom_mimetype(stub_app: t.Any) -> None:
    class ApiJSON(DefaultJSONProvider):
        mimetype = "application/vnd.api+json"

    rv = ApiJSON(stub_app).response([1])
    assert rv.mimetype == "application/vnd.api+json"


def test_response_uses_app_response_class(stub_app: t.Any) -> None:
    class MyResponse(Response):
        pass

    stub_app.response_class = MyResponse
    rv = DefaultJSONProvider(stub_app).response(1)
    assert type(rv) is MyResponse


def test_response_unserializable_raises(provider: DefaultJSONProvider) -> None:
    with pytest.raises(TypeError, match="Object of type object is not JSON"):
        provider.response(object())


def test_output_matches_flask() -> None:
    # The same data gives byte-identical text and responses as Flask 3.1.
    flask = pytest.importorskip("flask")
    data = {
        "z": [decimal.Decimal("2.50"), uuid.UUID(int=1)],
        "a": {"when": datetime.datetime(2015, 10, 21, 7, 28, 5), "p": Point(1, 2)},
        "m": Markup("<i>é</i>"),
    }
    for debug in (False, True):
        fl_app = flask.Flask(__name__)
        fl_app.debug = debug
        # Keep the stub app referenced: the provider only holds a weak proxy.
        stub = new_stub_app(debug)
        ours = DefaultJSONProvider(stub)
        assert ours.dumps(data) == fl_app.json.dumps(data)
        assert ours.response(data).get_data() == fl_app.json.response(data).get_data()


# --- module-level helpers outside an app context -------------------------------


def test_module_dumps_without_app_supports_extra_types() -> None:
    assert dj_json.dumps({"d": datetime.date(2015, 10, 21), "u": uuid.UUID(int=0)}) == (
        '{"d": "Wed, 21 Oct 2015 00:00:00 GMT", '
        '"u": "00000000-0000-0000-0000-000000000000"}'
    )


def test_module_dumps_without_app_keeps_json_defaults() -> None:
    # Like Flask: outside an app only `default` is added; key order and
    # non-ASCII text are left as json.dumps leaves them.
    assert dj_json.dumps({"b": "é", "a": 1}) == '{"b": "\\u00e9", "a": 1}'
    assert dj_json.dumps({"b": 1, "a": 2}, sort_keys=True) == '{"a": 2, "b": 1}'


def test_module_dumps_without_app_rejects_unknown_type() -> None:
    with pytest.raises(TypeError, match="Object of type complex is not JSON"):
        dj_json.dumps(1j)


def test_module_loads_without_app() -> None:
    assert dj_json.loads(b'{"a": [1]}') == {"a": [1]}
    assert dj_json.loads('"x"') == "x"
    with pytest.raises(ValueError):
        dj_json.loads("")


def test_module_dump_and_load_without_app() -> None:
    fp = io.StringIO()
    dj_json.dump({"d": decimal.Decimal("3.10")}, fp)
    assert fp.getvalue() == '{"d": "3.10"}'
    assert dj_json.load(io.StringIO(fp.getvalue())) == {"d": "3.10"}
    assert dj_json.load(io.BytesIO(b"[true]")) == [True]


def test_jsonify_without_app_context_raises() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        dj_json.jsonify(a=1)


# --- module-level helpers delegate to the current app's provider ---------------


class RecordingProvider(DefaultJSONProvider):
    """Marks its output so a test can tell it was used."""

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        return "recorded:" + super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        return ("recorded", super().loads(s, **kwargs))


@pytest.fixture
def fake_app_context() -> t.Iterator[SimpleNamespace]:
    """Push a minimal app context holding a stub app with a custom provider.

    This checks the delegation rule on its own; the tests further down use
    the real application once it exists.
    """
    app = new_stub_app()
    app.json = RecordingProvider(app)
    ctx: t.Any = SimpleNamespace(app=app)
    token = _cv_app.set(ctx)
    try:
        yield ctx
    finally:
        _cv_app.reset(token)


@pytest.mark.usefixtures("fake_app_context")
def test_module_functions_use_current_app_provider() -> None:
    assert dj_json.dumps({"b": 1, "a": 2}) == 'recorded:{"a": 2, "b": 1}'
    assert dj_json.loads("[1]") == ("recorded", [1])

    fp = io.StringIO()
    dj_json.dump([1], fp)
    assert fp.getvalue() == "recorded:[1]"
    assert dj_json.load(io.StringIO("2")) == ("recorded", 2)

    rv = dj_json.jsonify(1, 2)
    assert rv.get_data(as_text=True) == "recorded:[1,2]\n"


def test_fake_context_is_gone_after_test() -> None:
    # The fallback applies again once the context is popped.
    assert dj_json.loads("[1]") == [1]


# --- jsonify with a real application -------------------------------------------
# These need demijohn.app (Demijohn, app_context, test_request_context). Until
# that module exists they are skipped by the importorskip in the fixture below.


@pytest.fixture
def app() -> t.Any:
    app_module = pytest.importorskip("demijohn.app")
    return app_module.Demijohn(__name__)


def test_app_has_default_provider(app: t.Any) -> None:
    assert isinstance(app.json, DefaultJSONProvider)
    assert app.json_provider_class is DefaultJSONProvider


def test_jsonify_positional_args_make_a_list(app: t.Any) -> None:
    with app.app_context():
        rv = dj_json.jsonify(1, 2)
    assert rv.status_code == 200
    assert rv.mimetype == "application/json"
    assert rv.get_json() == [1, 2]


def test_jsonify_kwargs_make_an_object(app: t.Any) -> None:
    with app.test_request_context():
        rv = dj_json.jsonify(b=2, a=1)
    assert rv.status_code == 200
    assert rv.get_data(as_text=True) == '{"a":1,"b":2}\n'
    assert isinstance(rv, app.response_class)


def test_jsonify_args_and_kwargs_raises(app: t.Any) -> None:
    with app.app_context(), pytest.raises(TypeError, match="not both"):
        dj_json.jsonify(1, a=2)


def test_jsonify_indents_in_debug(app: t.Any) -> None:
    app.debug = True
    with app.app_context():
        rv = dj_json.jsonify(a=1)
    assert rv.get_data(as_text=True) == '{\n  "a": 1\n}\n'


def test_json_provider_class_subclass_is_used() -> None:
    pytest.importorskip("demijohn.app")
    from demijohn.app import Demijohn

    class ApiJSON(DefaultJSONProvider):
        mimetype = "application/vnd.api+json"
        sort_keys = False

    class ApiApp(Demijohn):
        json_provider_class = ApiJSON

    app = ApiApp(__name__)
    assert isinstance(app.json, ApiJSON)
    with app.app_context():
        rv = dj_json.jsonify(b=1, a=2)
        assert dj_json.dumps({"b": 1, "a": 2}) == '{"b": 1, "a": 2}'
    assert rv.mimetype == "application/vnd.api+json"
    assert rv.get_data(as_text=True) == '{"b":1,"a":2}\n'


def test_assigning_app_json_replaces_provider(app: t.Any) -> None:
    app.json = RecordingProvider(app)
    with app.app_context():
        assert dj_json.dumps([1]) == "recorded:[1]"
        assert dj_json.loads("1") == ("recorded", 1)
        assert dj_json.jsonify(1).get_data(as_text=True) == "recorded:1\n"


def test_dumps_gives_json_dumps_text_for_every_option_combination(app: t.Any) -> None:
    # dumps shares one encoder per combination of options; each must give
    # exactly what a fresh json.dumps call gives, including after another
    # combination was used in between.
    import json as stdlib_json

    provider = app.json
    value = {"b": [1, 2.5, None], "a": "é", "c": {"z": 1, "y": (2, 3)}}
    combinations = [
        {},
        {"indent": 2},
        {"separators": (",", ":")},
        {"sort_keys": False},
        {"ensure_ascii": False, "indent": "\t"},
        {"separators": [",", ":"]},  # unhashable: not cached, same text
        {"allow_nan": False},  # an option without a cached encoder
        {"indent": 2},
    ]
    for options in combinations:
        expected = stdlib_json.dumps(
            value,
            **{
                "default": provider.default,
                "ensure_ascii": provider.ensure_ascii,
                "sort_keys": provider.sort_keys,
                **options,
            },
        )
        assert provider.dumps(value, **dict(options)) == expected


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


@given(
    value=json_values,
    ensure_ascii=st.booleans(),
    sort_keys=st.booleans(),
    separators=st.sampled_from([None, (",", ":"), (", ", ": ")]),
)
def test_dumps_gives_json_dumps_text_for_any_value(
    value: t.Any,
    ensure_ascii: bool,
    sort_keys: bool,
    separators: tuple[str, str] | None,
) -> None:
    provider = DefaultJSONProvider(new_stub_app())
    options = {
        "ensure_ascii": ensure_ascii,
        "sort_keys": sort_keys,
        "separators": separators,
    }
    expected = json.dumps(value, default=provider.default, **options)  # type: ignore[arg-type]
    assert provider.dumps(value, **options) == expected


def test_dumps_reports_a_circular_reference_every_time(app: t.Any) -> None:
    loop: list[t.Any] = []
    loop.append(loop)
    for _ in range(2):  # the second call must not see the first's state
        with pytest.raises(ValueError, match="Circular reference"):
            app.json.dumps({"loop": loop})
    shared = [1, 2]
    assert app.json.dumps({"a": shared, "b": shared}) == '{"a": [1, 2], "b": [1, 2]}'


def test_dumps_still_raises_for_a_value_it_cannot_serialize(app: t.Any) -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        app.json.dumps({"x": object()})


@pytest.mark.parametrize(
    "document",
    [
        b'{"a": "\xc3\xa9", "b": [1, 2]}',
        b"[1, 2, 3]",
        b"[",
        b"{",
        b'{"a": 1}'.decode().encode("utf-16"),
        b'{"a": 1}'.decode().encode("utf-16-le"),
        b'{"a": 1}'.decode().encode("utf-32-be"),
        b"\xef\xbb\xbf" + b'{"a": 1}',
        b'{"a": "\xff"}',
        b'{"a": "\\ud800"}',
        b" [1]",
        b"",
    ],
)
def test_loads_of_bytes_matches_json_loads(app: t.Any, document: bytes) -> None:
    # loads() decodes most documents without json's encoding detection; the
    # result, or the error type, must be what json.loads gives.
    import json as stdlib_json

    try:
        expected: t.Any = stdlib_json.loads(document)
    except ValueError as e:
        with pytest.raises(type(e)):
            app.json.loads(document)
    else:
        assert app.json.loads(document) == expected


def test_a_provider_default_that_cannot_be_hashed_still_serializes_responses(
    app: t.Any, make_client: t.Any
) -> None:
    # dumps() caches encoders by their options; an unhashable default is
    # served without a cached encoder, for dumps() and for responses alike.
    class Converter:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, o: t.Any) -> t.Any:
            return sorted(o)

    app.json.default = Converter()

    @app.route("/")
    def index() -> dict[str, t.Any]:
        return {"set": {3, 1, 2}}

    assert app.json.dumps({"set": {2, 1}}) == '{"set": [1, 2]}'
    assert make_client(app).get("/").get_json() == {"set": [1, 2, 3]}
