"""JSON through the application: jsonify, dict/list returns, the provider's
settings, request bodies, the ``tojson`` filter and session serialization."""

from __future__ import annotations

import datetime
import decimal
import json as stdlib_json
import typing as t
import uuid
from dataclasses import dataclass

import pytest
from markupsafe import Markup

from demijohn import (
    Demijohn,
    json,
    jsonify,
    render_template_string,
    request,
    session,
)
from demijohn.json.provider import DefaultJSONProvider, JSONProvider
from demijohn.json.tag import JSONTag, TaggedJSONSerializer
from demijohn.testing import DemijohnClient

MakeClient = t.Callable[..., DemijohnClient]


def make_app(provider: type[JSONProvider] | None = None) -> Demijohn:
    class App(Demijohn):
        pass

    if provider is not None:
        App.json_provider_class = provider
    application = App("json_app", root_path="/nonexistent-root")
    application.config.update(TESTING=True, SECRET_KEY="json key")
    return application


# -- jsonify -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((), {}, None),
        ((1,), {}, 1),
        (("text",), {}, "text"),
        (({"a": 1},), {}, {"a": 1}),
        (([1, 2],), {}, [1, 2]),
        ((1, "two", None), {}, [1, "two", None]),
        ((), {"a": 1, "b": [True]}, {"a": 1, "b": [True]}),
    ],
)
def test_jsonify_in_view(
    app: Demijohn,
    make_client: MakeClient,
    args: tuple[t.Any, ...],
    kwargs: dict[str, t.Any],
    expected: t.Any,
) -> None:
    @app.route("/")
    def index() -> t.Any:
        return jsonify(*args, **kwargs)

    response = make_client(app).get("/")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == expected
    assert response.text.endswith("\n")


def test_jsonify_args_and_kwargs_raises_type_error(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/")
    def index() -> t.Any:
        return jsonify(1, a=2)

    with pytest.raises(TypeError, match="args or kwargs"):
        make_client(app).get("/")


def test_jsonify_returns_app_response_class(app: Demijohn) -> None:
    class MyResponse(app.response_class):  # type: ignore[name-defined, misc]
        pass

    app.response_class = MyResponse
    with app.app_context():
        assert type(jsonify(a=1)) is MyResponse


def test_jsonify_response_can_be_returned_with_status(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/")
    def index() -> t.Any:
        return jsonify(error="gone"), 410, {"X-Extra": "1"}

    response = make_client(app).get("/")
    assert response.status_code == 410
    assert response.headers["X-Extra"] == "1"
    assert response.json == {"error": "gone"}


def test_jsonify_supported_types(app: Demijohn, make_client: MakeClient) -> None:
    @dataclass
    class Point:
        x: int
        y: int

    moment = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")

    @app.route("/")
    def index() -> t.Any:
        return jsonify(
            date=moment,
            day=datetime.date(2024, 1, 2),
            decimal=decimal.Decimal("1.10"),
            uuid=ident,
            point=Point(1, 2),
            html=Markup("<b>x</b>"),
        )

    assert make_client(app).get("/").json == {
        "date": "Tue, 02 Jan 2024 03:04:05 GMT",
        "day": "Tue, 02 Jan 2024 00:00:00 GMT",
        "decimal": "1.10",
        "uuid": str(ident),
        "point": {"x": 1, "y": 2},
        "html": "<b>x</b>",
    }


# -- dict and list return values ---------------------------------------------


@pytest.mark.parametrize("value", [{"a": [1, 2]}, [1, {"b": None}], [], {}])
def test_dict_and_list_returns_are_json(
    app: Demijohn, make_client: MakeClient, value: t.Any
) -> None:
    @app.route("/")
    def index() -> t.Any:
        return value

    response = make_client(app).get("/")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == value


def test_dict_return_with_status_and_headers(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/")
    def index() -> t.Any:
        return {"created": True}, 201, {"Location": "/thing/1"}

    response = make_client(app).get("/")
    assert response.status_code == 201
    assert response.headers["Location"] == "/thing/1"
    assert response.json == {"created": True}


def test_dict_return_goes_through_app_provider(make_client: MakeClient) -> None:
    calls: list[t.Any] = []

    class Provider(DefaultJSONProvider):
        def response(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            calls.append(args)
            return super().response(*args, **kwargs)

    application = make_app(Provider)
    application.add_url_rule("/", "index", lambda: {"a": 1})
    assert make_client(application).get("/").json == {"a": 1}
    assert calls == [({"a": 1},)]


# -- provider settings -------------------------------------------------------


def test_default_output_is_compact_and_sorted(
    app: Demijohn, make_client: MakeClient
) -> None:
    app.add_url_rule("/", "index", lambda: {"b": 1, "a": "é"})
    assert make_client(app).get("/").data == b'{"a":"\\u00e9","b":1}\n'


def test_debug_output_is_indented(app: Demijohn, make_client: MakeClient) -> None:
    app.debug = True
    app.add_url_rule("/", "index", lambda: {"b": 1, "a": 2})
    assert make_client(app).get("/").text == '{\n  "a": 2,\n  "b": 1\n}\n'


def test_provider_attributes_change_output(
    app: Demijohn, make_client: MakeClient
) -> None:
    provider = t.cast(DefaultJSONProvider, app.json)
    provider.sort_keys = False
    provider.ensure_ascii = False
    provider.compact = False
    provider.mimetype = "application/vnd.api+json"
    app.add_url_rule("/", "index", lambda: {"b": 1, "a": "é"})
    response = make_client(app).get("/")
    assert response.mimetype == "application/vnd.api+json"
    assert response.data.decode() == '{\n  "b": 1,\n  "a": "é"\n}\n'


def test_compact_true_wins_over_debug(app: Demijohn, make_client: MakeClient) -> None:
    app.debug = True
    t.cast(DefaultJSONProvider, app.json).compact = True
    app.add_url_rule("/", "index", lambda: [1, 2])
    assert make_client(app).get("/").data == b"[1,2]\n"


def test_an_overridden_dumps_makes_the_response_body(
    make_client: MakeClient,
) -> None:
    class Provider(DefaultJSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return "wrapped:" + super().dumps(obj, **kwargs)

    application = make_app(Provider)
    application.add_url_rule("/dict", "dict", lambda: {"a": 1})
    application.add_url_rule("/jsonify", "jsonify", lambda: jsonify(b=2))
    client = make_client(application)
    assert client.get("/dict").data == b'wrapped:{"a":1}\n'
    assert client.get("/jsonify").data == b'wrapped:{"b":2}\n'


@pytest.mark.parametrize(
    ("compact", "debug", "body"),
    [
        (None, False, b'{"a":[1,2]}\n'),
        (None, True, b'{\n  "a": [\n    1,\n    2\n  ]\n}\n'),
        (False, False, b'{\n  "a": [\n    1,\n    2\n  ]\n}\n'),
        (True, True, b'{"a":[1,2]}\n'),
        # Any value other than True, False and None counts as compact, as
        # it does for dumps() called with the layout options.
        (1, True, b'{"a":[1,2]}\n'),
    ],
)
def test_response_layout_follows_compact_and_debug(
    app: Demijohn, make_client: MakeClient, compact: t.Any, debug: bool, body: bytes
) -> None:
    app.debug = debug
    t.cast(DefaultJSONProvider, app.json).compact = compact
    app.add_url_rule("/", "index", lambda: {"a": [1, 2]})
    assert make_client(app).get("/").data == body


def test_custom_provider_class(make_client: MakeClient) -> None:
    class Provider(JSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return "custom:" + stdlib_json.dumps(obj)

        def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
            return {"loaded": stdlib_json.loads(s)}

    application = make_app(Provider)
    assert isinstance(application.json, Provider)

    @application.route("/", methods=["POST"])
    def index() -> t.Any:
        return jsonify(request.get_json())

    response = make_client(application).post(
        "/", data="[1]", content_type="application/json"
    )
    assert response.data == b'custom:{"loaded": [1]}'
    assert response.mimetype == "application/json"


def test_custom_default_function(make_client: MakeClient) -> None:
    class Provider(DefaultJSONProvider):
        @staticmethod
        def default(o: t.Any) -> t.Any:
            if isinstance(o, set):
                return sorted(o)
            return DefaultJSONProvider.default(o)

    application = make_app(Provider)
    application.add_url_rule(
        "/", "index", lambda: {"s": {3, 1}, "d": decimal.Decimal(2)}
    )
    assert make_client(application).get("/").json == {"d": "2", "s": [1, 3]}


def test_provider_overriding_response_shapes_dict_returns(
    make_client: MakeClient,
) -> None:
    class Provider(DefaultJSONProvider):
        def response(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            response = super().response(*args, **kwargs)
            response.headers["X-Provider"] = "custom"
            return response

    application = make_app(Provider)
    application.add_url_rule("/", "index", lambda: {"a": 1})
    response = make_client(application).get("/")
    assert response.headers["X-Provider"] == "custom"
    assert response.json == {"a": 1}


def test_response_replaced_on_the_provider_shapes_dict_returns(
    app: Demijohn, make_client: MakeClient
) -> None:
    default_response = app.json.response

    def response(*args: t.Any, **kwargs: t.Any) -> t.Any:
        built = default_response(*args, **kwargs)
        built.headers["X-Provider"] = "instance"
        return built

    app.json.response = response  # type: ignore[method-assign]
    app.add_url_rule("/", "index", lambda: {"a": 1})
    response_ = make_client(app).get("/")
    assert response_.headers["X-Provider"] == "instance"
    assert response_.json == {"a": 1}


def test_provider_keeping_response_shapes_dict_returns_through_dumps(
    make_client: MakeClient,
) -> None:
    class Provider(DefaultJSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return stdlib_json.dumps({"wrapped": obj}, **kwargs)

    application = make_app(Provider)
    application.add_url_rule("/", "index", lambda: {"a": 1})
    assert make_client(application).get("/").data == b'{"wrapped":{"a":1}}\n'


def test_assigning_app_json_instance(app: Demijohn, make_client: MakeClient) -> None:
    class Provider(DefaultJSONProvider):
        sort_keys = False

    app.json = Provider(app)
    app.add_url_rule("/", "index", lambda: {"b": 1, "a": 2})
    assert make_client(app).get("/").data == b'{"b":1,"a":2}\n'


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes"])
def test_unserializable_value_raises_type_error_naming_type(
    app: Demijohn, make_client: MakeClient, value: t.Any
) -> None:
    app.add_url_rule("/", "index", lambda: jsonify(value=value))
    with pytest.raises(TypeError, match=type(value).__name__):
        make_client(app).get("/")


def test_unserializable_value_is_500_in_production(
    app: Demijohn, make_client: MakeClient
) -> None:
    app.testing = False
    app.add_url_rule("/", "index", lambda: {"value": object()})
    assert make_client(app).get("/").status_code == 500


def test_json_module_helpers_follow_app_provider(make_client: MakeClient) -> None:
    class Provider(DefaultJSONProvider):
        sort_keys = False
        ensure_ascii = False

    application = make_app(Provider)
    with application.app_context():
        assert json.dumps({"b": "é", "a": 1}) == '{"b": "é", "a": 1}'
    assert json.dumps({"b": "é", "a": 1}) == '{"b": "\\u00e9", "a": 1}'


# -- request bodies ----------------------------------------------------------


def test_get_json_parses_body(app: Demijohn, make_client: MakeClient) -> None:
    @app.route("/", methods=["POST"])
    def index() -> t.Any:
        data = request.get_json()
        return {"got": data, "is_json": request.is_json}

    response = make_client(app).post("/", json={"x": [1, 2]})
    assert response.json == {"got": {"x": [1, 2]}, "is_json": True}


def test_get_json_uses_app_provider_loads(make_client: MakeClient) -> None:
    class Provider(DefaultJSONProvider):
        def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
            kwargs.setdefault("parse_float", decimal.Decimal)
            return super().loads(s, **kwargs)

    application = make_app(Provider)

    @application.route("/", methods=["POST"])
    def index() -> t.Any:
        value = request.get_json()["price"]
        return {"type": type(value).__name__, "value": str(value)}

    response = make_client(application).post(
        "/", data='{"price": 1.10}', content_type="application/json"
    )
    assert response.json == {"type": "Decimal", "value": "1.10"}


def test_client_json_argument_uses_app_provider(make_client: MakeClient) -> None:
    class Provider(DefaultJSONProvider):
        @staticmethod
        def default(o: t.Any) -> t.Any:
            if isinstance(o, complex):
                return [o.real, o.imag]
            return DefaultJSONProvider.default(o)

    application = make_app(Provider)

    @application.route("/", methods=["POST"])
    def index() -> t.Any:
        return {"raw": request.get_data(as_text=True)}

    response = make_client(application).post("/", json={"z": 1 + 2j})
    assert response.json == {"raw": '{"z": [1.0, 2.0]}'}


def test_invalid_json_body_is_400(app: Demijohn, make_client: MakeClient) -> None:
    @app.route("/", methods=["POST"])
    def index() -> t.Any:
        return {"got": request.get_json()}

    response = make_client(app).post("/", data="{nope", content_type="application/json")
    assert response.status_code == 400


def test_get_json_wrong_content_type_is_415(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/", methods=["POST"])
    def index() -> t.Any:
        return {"got": request.get_json()}

    response = make_client(app).post("/", data="{}", content_type="text/plain")
    assert response.status_code == 415


def test_get_json_silent_returns_none(app: Demijohn, make_client: MakeClient) -> None:
    @app.route("/", methods=["POST"])
    def index() -> t.Any:
        return {"got": request.get_json(silent=True)}

    response = make_client(app).post("/", data="{nope", content_type="application/json")
    assert response.json == {"got": None}


def test_response_get_json_uses_app_provider(make_client: MakeClient) -> None:
    class Provider(DefaultJSONProvider):
        def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
            return ("wrapped", super().loads(s, **kwargs))

    application = make_app(Provider)
    application.add_url_rule("/", "index", lambda: [1])
    assert make_client(application).get("/").get_json() == ("wrapped", [1])


# -- templates -----------------------------------------------------------------


def test_tojson_filter_calls_app_json_dumps() -> None:
    calls: list[t.Any] = []

    class Provider(DefaultJSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            calls.append(obj)
            return super().dumps(obj, **kwargs)

    application = make_app(Provider)
    with application.app_context():
        rv = render_template_string("{{ v|tojson }}", v={"b": "<", "a": 1})
    assert calls == [{"b": "<", "a": 1}]
    assert rv == '{"a": 1, "b": "\\u003c"}'


# -- the session serializer ----------------------------------------------------


def test_tagged_session_values_round_trip(
    app: Demijohn, make_client: MakeClient
) -> None:
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    ident = uuid.uuid4()
    values = {
        "tuple": (1, 2),
        "bytes": b"\x00\xff",
        "markup": Markup("<b>x</b>"),
        "uuid": ident,
        "datetime": moment,
        "nested": {" t": "looks like a tag", "list": [(3,), b"x"]},
    }

    @app.route("/set")
    def set_values() -> str:
        session.update(values)
        return ""

    @app.route("/get")
    def get_values() -> t.Any:
        for key, value in values.items():
            assert session[key] == value, key
            assert type(session[key]) is type(value), key
        return "ok"

    client = make_client(app)
    client.get("/set")
    assert client.get("/get").text == "ok"


def test_session_serializer_uses_app_provider_dumps(make_client: MakeClient) -> None:
    calls: list[t.Any] = []

    class Provider(DefaultJSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            calls.append(obj)
            return super().dumps(obj, **kwargs)

    application = make_app(Provider)

    @application.route("/")
    def index() -> str:
        session["value"] = (1, 2)
        return ""

    make_client(application).get("/")
    # itsdangerous also probes the serializer with an empty dict.
    assert [c for c in calls if c] == [{"value": {" t": [1, 2]}}]


def test_custom_tag_on_app_serializer(make_client: MakeClient) -> None:
    class Color:
        def __init__(self, name: str) -> None:
            self.name = name

    class TagColor(JSONTag):
        key = " color"

        def check(self, value: t.Any) -> bool:
            return isinstance(value, Color)

        def to_json(self, value: t.Any) -> t.Any:
            return value.name

        def to_python(self, value: t.Any) -> t.Any:
            return Color(value)

    application = make_app()
    serializer = TaggedJSONSerializer()
    serializer.register(TagColor)

    from demijohn.sessions import SecureCookieSessionInterface

    class Interface(SecureCookieSessionInterface):
        pass

    Interface.serializer = serializer
    application.session_interface = Interface()

    @application.route("/set")
    def set_color() -> str:
        session["color"] = Color("red")
        return ""

    @application.route("/get")
    def get_color() -> str:
        color = session["color"]
        assert isinstance(color, Color)
        return color.name

    client = make_client(application)
    client.get("/set")
    assert client.get("/get").text == "red"
