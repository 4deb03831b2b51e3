"""Registering URL rules and matching requests against them: methods,
automatic OPTIONS and HEAD, slashes, redirects, converters, hosts and
subdomains."""

from __future__ import annotations

import typing as t
import warnings

import pytest
from werkzeug.routing import BaseConverter

from demijohn import Demijohn, request
from demijohn.testing import DemijohnClient

MakeClient = t.Callable[..., DemijohnClient]


# -- registration -------------------------------------------------------------


def test_route_registers_rule_and_view(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/hello/<name>")
    def hello(name: str) -> str:
        return f"hello {name}"

    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "hello")
    assert rule.rule == "/hello/<name>"
    assert rule.methods == {"GET", "HEAD", "OPTIONS"}
    assert app.view_functions["hello"] is hello
    rv = client.get("/hello/world")
    assert rv.status_code == 200
    assert rv.data == b"hello world"


def test_route_returns_the_function_unchanged(app: Demijohn) -> None:
    def view() -> str:
        return ""

    assert app.route("/")(view) is view


def test_route_with_explicit_endpoint(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/", endpoint="home")
    def index() -> str:
        return request.endpoint or ""

    assert "home" in app.view_functions
    assert "index" not in app.view_functions
    assert client.get("/").data == b"home"


def test_same_function_on_two_rules(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/a")
    @app.route("/b")
    def both() -> str:
        return request.path

    assert client.get("/a").data == b"/a"
    assert client.get("/b").data == b"/b"


def test_add_url_rule_with_view_func(app: Demijohn, client: DemijohnClient) -> None:
    def view() -> str:
        return "added"

    app.add_url_rule("/added", view_func=view)
    assert app.view_functions["view"] is view
    assert client.get("/added").data == b"added"


def test_add_url_rule_then_endpoint_decorator(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.add_url_rule("/late", "late")
    assert "late" not in app.view_functions

    @app.endpoint("late")
    def late_view() -> str:
        return "bound later"

    assert app.view_functions["late"] is late_view
    assert client.get("/late").data == b"bound later"


def test_add_url_rule_without_endpoint_or_view_fails(app: Demijohn) -> None:
    with pytest.raises(AssertionError, match="view func"):
        app.add_url_rule("/nothing")


def test_methods_are_upper_cased(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/", methods=["post", "Put"])
    def index() -> str:
        return request.method

    assert client.post("/").data == b"POST"
    assert client.put("/").data == b"PUT"
    assert client.get("/").status_code == 405


def test_methods_from_view_func_attribute(
    app: Demijohn, client: DemijohnClient
) -> None:
    def view() -> str:
        return request.method

    view.methods = ["DELETE"]  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view)
    assert client.delete("/").data == b"DELETE"
    assert client.get("/").status_code == 405


def test_required_methods_from_view_func_attribute(
    app: Demijohn, client: DemijohnClient
) -> None:
    def view() -> str:
        return request.method

    view.required_methods = ["POST"]  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view, methods=["GET"])
    assert client.get("/").data == b"GET"
    assert client.post("/").data == b"POST"


@pytest.mark.parametrize("methods", ["POST", "GET"])
def test_methods_as_a_string_is_a_type_error(app: Demijohn, methods: str) -> None:
    with pytest.raises(TypeError, match="list of strings"):

        @app.route("/", methods=methods)
        def index() -> str:
            return ""

    assert "index" not in app.view_functions


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_method_shortcuts(app: Demijohn, client: DemijohnClient, method: str) -> None:
    @getattr(app, method)("/thing")
    def thing() -> str:
        return request.method

    rv = client.open("/thing", method=method.upper())
    assert rv.status_code == 200
    assert rv.data == method.upper().encode()
    other = "POST" if method != "post" else "PUT"
    assert client.open("/thing", method=other).status_code == 405


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_method_shortcuts_refuse_methods(app: Demijohn, method: str) -> None:
    with pytest.raises(TypeError, match="route"):
        getattr(app, method)("/", methods=["GET"])


def test_method_shortcuts_pass_other_options(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.get("/page", endpoint="page_endpoint", defaults={"n": 3})
    def page(n: int) -> str:
        return f"{request.endpoint} {n}"

    assert client.get("/page").data == b"page_endpoint 3"


def test_duplicate_endpoint_with_another_function_fails(app: Demijohn) -> None:
    @app.route("/one")
    def view() -> str:
        return "one"

    with pytest.raises(AssertionError, match="overwriting an existing endpoint"):

        @app.route("/two", endpoint="view")
        def other() -> str:
            return "two"

    assert app.view_functions["view"] is view


def test_same_endpoint_with_same_function_is_allowed(
    app: Demijohn, client: DemijohnClient
) -> None:
    def view() -> str:
        return request.path

    app.add_url_rule("/one", view_func=view)
    app.add_url_rule("/two", view_func=view)
    assert client.get("/two").data == b"/two"


def test_unknown_url_is_404(app: Demijohn, client: DemijohnClient) -> None:
    rv = client.get("/missing")
    assert rv.status_code == 404
    assert b"Not Found" in rv.data


# -- converters and defaults --------------------------------------------------


def test_builtin_converters(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/int/<int:n>")
    def integer(n: int) -> str:
        return repr(n)

    @app.route("/path/<path:p>")
    def path(p: str) -> str:
        return p

    assert client.get("/int/42").data == b"42"
    assert client.get("/int/x").status_code == 404
    assert client.get("/path/a/b/c").data == b"a/b/c"


class ListConverter(BaseConverter):
    """Matches ``a,b,c`` as a list and builds it back."""

    def to_python(self, value: str) -> list[str]:
        return value.split(",")

    def to_url(self, value: t.Any) -> str:
        return ",".join(BaseConverter.to_url(self, item) for item in value)


def test_custom_converter_round_trip(app: Demijohn, client: DemijohnClient) -> None:
    app.url_map.converters["list"] = ListConverter

    @app.route("/items/<list:items>")
    def items(items: list[str]) -> str:
        assert items == ["a", "b", "c"]
        return app.url_for("items", items=items)

    assert client.get("/items/a,b,c").data == b"/items/a,b,c"


def test_converter_must_be_registered_before_the_rule(app: Demijohn) -> None:
    with pytest.raises(LookupError, match="list"):
        app.add_url_rule("/<list:items>", "items", lambda items: "")


def test_defaults_fill_view_args(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/users/", defaults={"page": 1})
    @app.route("/users/page/<int:page>")
    def users(page: int) -> str:
        return f"page {page}"

    assert client.get("/users/").data == b"page 1"
    assert client.get("/users/page/4").data == b"page 4"
    with app.test_request_context():
        assert app.url_for("users", page=1) == "/users/"
        assert app.url_for("users", page=2) == "/users/page/2"


# -- automatic OPTIONS and HEAD -----------------------------------------------


def test_automatic_options(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        raise AssertionError("the view must not run for OPTIONS")

    rv = client.options("/")
    assert rv.status_code == 200
    assert rv.data == b""
    assert sorted(rv.allow) == ["GET", "HEAD", "OPTIONS", "POST"]


def test_automatic_options_lists_every_rule_of_the_url(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/", methods=["GET"])
    def read() -> str:
        return ""

    @app.route("/", methods=["DELETE"])
    def remove() -> str:
        return ""

    rv = client.options("/")
    assert sorted(rv.allow) == ["DELETE", "GET", "HEAD", "OPTIONS"]


def test_provide_automatic_options_false(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/", provide_automatic_options=False)
    def index() -> str:
        return ""

    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "index")
    assert "OPTIONS" not in rule.methods  # type: ignore[operator]
    rv = client.options("/")
    assert rv.status_code == 405
    assert "OPTIONS" not in rv.allow


def test_provide_automatic_options_view_attribute(
    app: Demijohn, client: DemijohnClient
) -> None:
    def index() -> str:
        return "view ran"

    index.provide_automatic_options = False  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=index, methods=["GET", "OPTIONS"])
    assert client.options("/").data == b"view ran"


def test_provide_automatic_options_config_false(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False

    @app.route("/")
    def index() -> str:
        return ""

    assert client.options("/").status_code == 405


def test_explicit_options_method_calls_the_view(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/", methods=["GET", "OPTIONS"])
    def index() -> str:
        return f"custom {request.method}"

    rv = client.options("/")
    assert rv.data == b"custom OPTIONS"


def test_automatic_head_has_no_body(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/")
    def index() -> tuple[str, dict[str, str]]:
        return "a body", {"X-Method": request.method}

    rv = client.head("/")
    assert rv.status_code == 200
    assert rv.data == b""
    assert rv.headers["X-Method"] == "HEAD"
    assert rv.content_length == len("a body")


def test_405_lists_allowed_methods(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/", methods=["POST"])
    def index() -> str:
        return ""

    rv = client.get("/")
    assert rv.status_code == 405
    assert sorted(rv.allow) == ["OPTIONS", "POST"]
    assert b"Method Not Allowed" in rv.data


# -- slashes and redirects ----------------------------------------------------


def test_strict_slashes_redirects_to_the_slash(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/folder/")
    def folder() -> str:
        return "folder"

    rv = client.get("/folder?x=1")
    assert rv.status_code == 308
    assert rv.location == "http://localhost/folder/?x=1"
    rv = client.get("/folder", follow_redirects=True)
    assert rv.data == b"folder"


def test_strict_slashes_on_a_leaf_is_404(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/leaf")
    def leaf() -> str:
        return "leaf"

    assert client.get("/leaf/").status_code == 404


def test_strict_slashes_redirect_keeps_post_body(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/form/", methods=["POST"])
    def form() -> str:
        return request.form["name"]

    rv = client.post("/form", data={"name": "kept"}, follow_redirects=True)
    assert rv.status_code == 200
    assert rv.data == b"kept"


def test_strict_slashes_false(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/folder/", strict_slashes=False)
    def folder() -> str:
        return "folder"

    @app.route("/leaf", strict_slashes=False)
    def leaf() -> str:
        return "leaf"

    assert client.get("/folder").data == b"folder"
    assert client.get("/folder/").data == b"folder"
    assert client.get("/leaf/").data == b"leaf"


def test_url_map_strict_slashes_false(app: Demijohn, client: DemijohnClient) -> None:
    app.url_map.strict_slashes = False

    @app.route("/folder/")
    def folder() -> str:
        return "folder"

    assert client.get("/folder").data == b"folder"


def test_redirect_to(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/new/<int:n>")
    def new(n: int) -> str:
        return f"new {n}"

    app.add_url_rule("/old/<int:n>", "old", redirect_to="/new/<n>")
    app.add_url_rule(
        "/func/<int:n>", "func", redirect_to=lambda adapter, n: f"/new/{n * 2}"
    )

    rv = client.get("/old/3")
    assert rv.status_code == 308
    assert rv.location == "http://localhost/new/3"
    rv = client.get("/func/3", follow_redirects=True)
    assert rv.data == b"new 6"
    assert [r.status_code for r in rv.history] == [308]


# -- matching details exposed on the request ----------------------------------


def test_request_knows_rule_and_view_args(
    app: Demijohn, client: DemijohnClient
) -> None:
    @app.route("/u/<int:uid>")
    def user(uid: int) -> dict[str, t.Any]:
        assert request.url_rule is not None
        return {
            "rule": request.url_rule.rule,
            "endpoint": request.endpoint,
            "view_args": request.view_args,
            "blueprint": request.blueprint,
        }

    assert client.get("/u/7").get_json() == {
        "rule": "/u/<int:uid>",
        "endpoint": "user",
        "view_args": {"uid": 7},
        "blueprint": None,
    }


def test_request_of_unmatched_url(app: Demijohn) -> None:
    with app.test_request_context("/nowhere"):
        assert request.url_rule is None
        assert request.endpoint is None
        assert request.view_args is None
        assert request.routing_exception is not None
        assert request.routing_exception.code == 404


# -- hosts and subdomains -----------------------------------------------------


def test_host_matching(make_client: MakeClient) -> None:
    application = Demijohn(
        "hosts", root_path="/x", host_matching=True, static_folder=None
    )
    application.config["TESTING"] = True

    @application.route("/", host="api.test")
    def api() -> str:
        return "api"

    @application.route("/", host="<tenant>.shop.test")
    def shop(tenant: str) -> str:
        return f"shop {tenant}"

    client = make_client(application)
    assert client.get("/", base_url="http://api.test").data == b"api"
    assert client.get("/", base_url="http://acme.shop.test").data == b"shop acme"
    assert client.get("/", base_url="http://other.test").status_code == 404
    with application.test_request_context(base_url="http://api.test"):
        assert application.url_for("shop", tenant="x") == "http://x.shop.test/"
        assert application.url_for("api") == "/"


def test_host_matching_ignores_server_name(make_client: MakeClient) -> None:
    application = Demijohn(
        "hosts", root_path="/x", host_matching=True, static_folder=None
    )
    application.config.update(TESTING=True, SERVER_NAME="api.test")

    @application.route("/", host="www.test")
    def www() -> str:
        return "www"

    client = make_client(application)
    assert client.get("/", base_url="http://www.test").data == b"www"


def test_subdomain_matching(make_client: MakeClient) -> None:
    application = Demijohn("subs", root_path="/x", subdomain_matching=True)
    application.config.update(TESTING=True, SERVER_NAME="example.test")

    @application.route("/")
    def index() -> str:
        return "root"

    @application.route("/", subdomain="api")
    def api() -> str:
        return "api"

    @application.route("/user", subdomain="<user>")
    def user_page(user: str) -> str:
        return f"user {user}"

    client = make_client(application)
    assert client.get("/").data == b"root"
    assert client.get("/", subdomain="api").data == b"api"
    assert client.get("/user", subdomain="bob").data == b"user bob"
    assert client.get("/user").status_code == 404
    with application.app_context():
        assert application.url_for("user_page", user="ann") == (
            "http://ann.example.test/user"
        )
        assert application.url_for("api") == "http://api.example.test/"


def test_subdomain_rules_ignored_without_subdomain_matching(
    make_client: MakeClient,
) -> None:
    # Without subdomain_matching the current subdomain is always the
    # default one, so only rules without a subdomain match.
    application = Demijohn("subs", root_path="/x")
    application.config.update(TESTING=True, SERVER_NAME="example.test")

    @application.route("/")
    def index() -> str:
        return "root"

    @application.route("/api", subdomain="api")
    def api() -> str:
        return "api"

    client = make_client(application)
    assert client.get("/", subdomain="api").data == b"root"
    assert client.get("/api", subdomain="api").status_code == 404


def _subdomain_app() -> Demijohn:
    application = Demijohn("subs", root_path="/x", subdomain_matching=True)
    application.config.update(TESTING=True, SERVER_NAME="Example.test:80")

    @application.route("/")
    def index() -> str:
        return "root"

    return application


def test_a_host_outside_server_name_warns_and_matches_nothing(
    make_client: MakeClient,
) -> None:
    client = make_client(_subdomain_app())
    with pytest.warns(UserWarning) as record:
        assert client.get("/", base_url="http://other.test").status_code == 404
    assert [str(w.message) for w in record] == [
        "Current server name 'other.test' doesn't match configured"
        " server name 'example.test'"
    ]
    # The scheme's default port and the case of SERVER_NAME do not count.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert client.get("/", base_url="http://example.test").data == b"root"


def test_the_server_name_warning_comes_from_the_application_module(
    make_client: MakeClient,
) -> None:
    # As Flask's comes from flask.app, so filters name the module.
    client = make_client(_subdomain_app())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings(
            "ignore", "Current server name", UserWarning, "demijohn.app"
        )
        assert client.get("/", base_url="http://other.test").status_code == 404


def test_server_name_does_not_restrict_requests(make_client: MakeClient) -> None:
    # Flask 3.1: SERVER_NAME is used to build URLs, but requests for other
    # hosts are still routed.
    application = Demijohn("sn", root_path="/x")
    application.config.update(TESTING=True, SERVER_NAME="example.test")

    @application.route("/")
    def index() -> str:
        return request.host

    client = make_client(application)
    assert client.get("/", base_url="http://other.test").data == b"other.test"
    assert client.get("/", base_url="http://www.example.test").data == (
        b"www.example.test"
    )
    assert client.get("/").data == b"example.test"
