"""Building URLs with ``url_for``: inside and outside requests, options,
defaults, and build errors."""

from __future__ import annotations

import typing as t

import pytest
from werkzeug.routing import BuildError

from demijohn import Demijohn, g, request, url_for
from demijohn.testing import DemijohnClient


@pytest.fixture
def app(app: Demijohn) -> Demijohn:
    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/user/<int:uid>")
    def user(uid: int) -> str:
        return f"user {uid}"

    @app.route("/item", methods=["POST"])
    def create_item() -> str:
        return ""

    @app.route("/item/<name>", methods=["GET"])
    def read_item(name: str) -> str:
        return name

    return app


# -- inside a request ---------------------------------------------------------


def test_relative_inside_a_request(app: Demijohn) -> None:
    with app.test_request_context():
        assert url_for("index") == "/"
        assert url_for("user", uid=3) == "/user/3"


def test_url_for_in_a_view(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/where")
    def where() -> str:
        return url_for("user", uid=5, _external=True)

    assert client.get("/where").data == b"http://localhost/user/5"


def test_external_uses_the_request_host(app: Demijohn) -> None:
    with app.test_request_context(base_url="https://shop.test:8443/app"):
        assert url_for("user", uid=1) == "/app/user/1"
        assert url_for("user", uid=1, _external=True) == (
            "https://shop.test:8443/app/user/1"
        )


def test_scheme_implies_external(app: Demijohn) -> None:
    with app.test_request_context():
        assert url_for("index", _scheme="https") == "https://localhost/"
        assert url_for("index", _scheme="https", _external=True) == (
            "https://localhost/"
        )


def test_scheme_without_external_is_a_value_error(app: Demijohn) -> None:
    with app.test_request_context(), pytest.raises(ValueError, match="_external"):
        url_for("index", _scheme="https", _external=False)
    app.config["SERVER_NAME"] = "example.test"
    with app.app_context(), pytest.raises(ValueError, match="_external"):
        url_for("index", _scheme="https", _external=False)


def test_anchor_is_quoted(app: Demijohn) -> None:
    with app.test_request_context():
        assert url_for("index", _anchor="top") == "/#top"
        assert url_for("index", _anchor="x y") == "/#x%20y"
        assert url_for("index", _anchor="a b/c?d=e&f") == "/#a%20b/c?d=e&f"
        # Characters allowed in a fragment are kept as they are.
        assert url_for("index", _anchor="%!#$&'()*+,/:;=?@") == ("/#%!#$&'()*+,/:;=?@")
        assert url_for("index", _anchor="\u00e9") == "/#%C3%A9"


def test_method_selects_the_rule(app: Demijohn) -> None:
    @app.route("/thing", methods=["POST"], endpoint="thing")
    @app.route("/things/<int:n>", methods=["GET"], endpoint="thing")
    def thing(n: int = 0) -> str:
        return ""

    with app.test_request_context():
        assert url_for("thing", _method="POST") == "/thing"
        assert url_for("thing", n=2, _method="GET") == "/things/2"
        with pytest.raises(BuildError):
            url_for("thing", _method="PUT")


def test_extra_values_become_the_query_string(app: Demijohn) -> None:
    with app.test_request_context():
        assert url_for("user", uid=1, page=2) == "/user/1?page=2"
        assert url_for("index", q="a b", tag=["x", "y"]) == ("/?q=a+b&tag=x&tag=y")
        assert url_for("index", missing=None) == "/"


def test_values_are_url_quoted(app: Demijohn) -> None:
    with app.test_request_context():
        # Werkzeug's default converter keeps "/" (the rule then no longer
        # matches it, as in Flask).
        assert url_for("read_item", name="a b?c") == "/item/a%20b%3Fc"


def test_relative_endpoint_without_blueprint(app: Demijohn) -> None:
    with app.test_request_context("/"):
        assert url_for(".index") == "/"


def test_request_and_app_url_for_agree(app: Demijohn) -> None:
    with app.test_request_context("/user/3"):
        assert app.url_for("user", uid=request.view_args["uid"]) == "/user/3"  # type: ignore[index]


# -- build errors -------------------------------------------------------------


def test_unknown_endpoint_is_a_build_error(app: Demijohn) -> None:
    with app.test_request_context(), pytest.raises(BuildError) as exc_info:
        url_for("nope")
    assert exc_info.value.endpoint == "nope"


def test_missing_value_is_a_build_error(app: Demijohn) -> None:
    with app.test_request_context(), pytest.raises(BuildError, match="uid"):
        url_for("user")


def test_bad_value_type_is_a_build_error_or_value_error(app: Demijohn) -> None:
    with app.test_request_context(), pytest.raises((BuildError, ValueError)):
        url_for("user", uid="not-an-int")


def test_build_error_handler_supplies_a_url(app: Demijohn) -> None:
    seen: list[tuple[str, dict[str, t.Any]]] = []

    def handler(error: Exception, endpoint: str, values: dict[str, t.Any]) -> str:
        assert isinstance(error, BuildError)
        seen.append((endpoint, dict(values)))
        return f"https://elsewhere.test/{endpoint}"

    app.url_build_error_handlers.append(handler)
    with app.test_request_context():
        assert url_for("external_page", a=1, _anchor="x") == (
            "https://elsewhere.test/external_page"
        )
        # Handlers are only consulted on failure.
        assert url_for("index") == "/"
    assert seen == [
        (
            "external_page",
            {
                "a": 1,
                "_anchor": "x",
                "_method": None,
                "_scheme": None,
                "_external": False,
            },
        )
    ]


def test_build_error_handler_returning_none_reraises(app: Demijohn) -> None:
    calls: list[str] = []

    def decline(error: Exception, endpoint: str, values: dict[str, t.Any]) -> None:
        calls.append(endpoint)

    app.url_build_error_handlers.append(decline)  # type: ignore[arg-type]
    with app.test_request_context(), pytest.raises(BuildError) as exc_info:
        url_for("nope")
    assert calls == ["nope"]
    assert exc_info.value.endpoint == "nope"


def test_build_error_handler_raising_build_error(app: Demijohn) -> None:
    def first(error: Exception, endpoint: str, values: dict[str, t.Any]) -> str:
        raise BuildError("replaced", {}, None)

    def second(error: Exception, endpoint: str, values: dict[str, t.Any]) -> str:
        # The error raised by the previous handler is passed on.
        assert isinstance(error, BuildError)
        assert error.endpoint == "replaced"
        raise error

    app.url_build_error_handlers.extend([first, second])
    with app.test_request_context(), pytest.raises(BuildError) as exc_info:
        url_for("nope")
    assert exc_info.value.endpoint == "replaced"


def test_handle_url_build_error_can_be_overridden() -> None:
    class App(Demijohn):
        def handle_url_build_error(
            self, error: BuildError, endpoint: str, values: dict[str, t.Any]
        ) -> str:
            return f"/fallback/{endpoint}"

    application = App("override", root_path="/x")
    with application.test_request_context():
        assert url_for("anything") == "/fallback/anything"


def test_handle_url_build_error_reraises_the_given_error(app: Demijohn) -> None:
    error = BuildError("nope", {}, None)
    with pytest.raises(BuildError) as exc_info:
        app.handle_url_build_error(error, "nope", {})
    assert exc_info.value is error


# -- url_defaults and url_value_preprocessor ----------------------------------


def test_url_defaults_and_value_preprocessor(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.url_defaults
    def add_lang(endpoint: str, values: dict[str, t.Any]) -> None:
        if "lang" in values or not app.url_map.is_endpoint_expecting(endpoint, "lang"):
            return
        values["lang"] = g.get("lang", "en")

    @app.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        assert values is not None
        g.lang = values.pop("lang", None)

    @app.route("/<lang>/about")
    def about() -> str:
        return f"{g.lang} {url_for('about')} {url_for('about', lang='fr')}"

    assert client.get("/de/about").data == b"de /de/about /fr/about"
    with app.test_request_context():
        assert url_for("about") == "/en/about"
        # Endpoints without the argument are left alone.
        assert url_for("index") == "/"


def test_url_defaults_run_for_dotted_blueprint_endpoints(app: Demijohn) -> None:
    calls: list[str] = []

    @app.url_defaults
    def record(endpoint: str, values: dict[str, t.Any]) -> None:
        calls.append(endpoint)

    app.url_build_error_handlers.append(lambda e, endpoint, v: "/x")
    with app.test_request_context():
        url_for("bp.child.view")
    assert calls == ["bp.child.view"]


# -- outside a request --------------------------------------------------------


def test_outside_request_without_server_name_fails(app: Demijohn) -> None:
    with app.app_context(), pytest.raises(RuntimeError, match="SERVER_NAME"):
        url_for("index")
    with pytest.raises(RuntimeError, match="SERVER_NAME"):
        app.url_for("index")


def test_helper_needs_an_application_context(app: Demijohn) -> None:
    with pytest.raises(RuntimeError, match="application context"):
        url_for("index")


def test_outside_request_with_server_name_is_external(app: Demijohn) -> None:
    app.config.update(
        SERVER_NAME="example.test:8080",
        APPLICATION_ROOT="/root",
        PREFERRED_URL_SCHEME="https",
    )
    with app.app_context():
        assert url_for("user", uid=2) == "https://example.test:8080/root/user/2"
        assert url_for("index", _external=False) == "/root/"
        assert url_for("index", _scheme="http") == "http://example.test:8080/root/"
        assert url_for("index", _anchor="a") == "https://example.test:8080/root/#a"


def test_app_url_for_without_any_context(app: Demijohn) -> None:
    app.config["SERVER_NAME"] = "example.test"
    assert app.url_for("user", uid=9) == "http://example.test/user/9"
    assert app.url_for("user", uid=9, _external=False) == "/user/9"


def test_app_url_for_uses_its_own_config_inside_another_app(app: Demijohn) -> None:
    other = Demijohn("other", root_path="/x")
    other.config["SERVER_NAME"] = "other.test"
    other.add_url_rule("/o", "o", lambda: "")
    app.config["SERVER_NAME"] = "example.test"
    with app.app_context():
        assert other.url_for("o") == "http://other.test/o"


def test_server_name_used_inside_a_request(app: Demijohn) -> None:
    app.config["SERVER_NAME"] = "example.test"
    with app.test_request_context():
        assert url_for("index", _external=True) == "http://example.test/"


def test_url_for_in_a_template(app: Demijohn) -> None:
    with app.test_request_context():
        template = app.jinja_env.from_string("{{ url_for('user', uid=4) }}")
        assert template.render() == "/user/4"
