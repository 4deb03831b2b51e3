"""Blueprints: construction, registration options, nesting, hooks and error
handlers scoped to a blueprint, static files, templates, deferred setup
functions, application-wide registrations and CLI groups."""

from __future__ import annotations

import typing as t
from pathlib import Path

import click
import pytest
from werkzeug.exceptions import NotFound

from demijohn import (
    Blueprint,
    Demijohn,
    abort,
    g,
    render_template,
    render_template_string,
    request,
    url_for,
)
from demijohn.blueprints import BlueprintSetupState
from demijohn.testing import DemijohnClient
from demijohn.wrappers import Response

MakeClient = t.Callable[..., DemijohnClient]


def make_app(**kwargs: t.Any) -> Demijohn:
    app = Demijohn("blueprint_test_app", root_path="/nonexistent-root", **kwargs)
    app.config.update(TESTING=True, SECRET_KEY="test key")
    return app


# -- construction ------------------------------------------------------------


def test_constructor_stores_its_arguments() -> None:
    bp = Blueprint(
        "shop",
        __name__,
        url_prefix="/shop",
        subdomain="store",
        url_defaults={"currency": "eur"},
        root_path="/somewhere",
    )
    assert bp.name == "shop"
    assert bp.import_name == __name__
    assert bp.url_prefix == "/shop"
    assert bp.subdomain == "store"
    assert bp.url_values_defaults == {"currency": "eur"}
    assert bp.root_path == "/somewhere"
    assert bp.static_folder is None
    assert bp.template_folder is None
    assert bp.cli.name == "shop"
    assert repr(bp) == "<Blueprint 'shop'>"


def test_root_path_defaults_to_the_import_names_folder() -> None:
    bp = Blueprint("bp", __name__)
    assert bp.root_path == str(Path(__file__).parent)


def test_name_with_a_dot_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'name' may not contain a dot '\.'"):
        Blueprint("a.b", __name__)


def test_empty_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'name' may not be empty."):
        Blueprint("", __name__)


def test_endpoint_with_a_dot_is_refused() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="'endpoint' may not contain a dot"):
        bp.add_url_rule("/", endpoint="a.b", view_func=lambda: "")


def test_view_function_name_with_a_dot_is_refused() -> None:
    bp = Blueprint("bp", __name__)

    def view() -> str:
        return ""

    view.__name__ = "a.b"
    with pytest.raises(ValueError, match="'view_func' name may not contain a dot"):
        bp.add_url_rule("/", view_func=view)
    with pytest.raises(ValueError, match="'view_func' name may not contain a dot"):
        bp.route("/")(view)


def test_a_blueprint_cannot_be_nested_in_itself() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="Cannot register a blueprint on itself"):
        bp.register_blueprint(bp)


def test_open_resource_reads_relative_to_root_path(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("grüße", encoding="utf-8")
    bp = Blueprint("bp", __name__, root_path=str(tmp_path))
    with bp.open_resource("data.txt", "r") as f:
        assert f.read() == "grüße"
    with bp.open_resource("data.txt") as f:
        assert f.read() == "grüße".encode()
    with pytest.raises(ValueError, match="only be opened for reading"):
        bp.open_resource("data.txt", "w")


# -- registration and options -----------------------------------------------


def test_routes_are_added_with_prefixed_endpoints(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__)

    @bp.route("/hello")
    def hello() -> str:
        return f"{request.endpoint} {url_for('bp.hello')}"

    assert app.url_map.bind("").test("/hello") is False
    app.register_blueprint(bp)
    assert app.blueprints == {"bp": bp}
    assert list(app.iter_blueprints()) == [bp]
    assert app.view_functions["bp.hello"] is hello
    assert client.get("/hello").data == b"bp.hello /hello"


@pytest.mark.parametrize(
    ("url_prefix", "rule", "path"),
    [
        ("/pre", "/x", "/pre/x"),
        ("/pre/", "/x", "/pre/x"),
        ("/pre", "x", "/pre/x"),
        ("/pre/", "x", "/pre/x"),
        ("/pre", "", "/pre"),
        ("/pre/", "", "/pre/"),
        ("/", "/x", "/x"),
        ("/pre", "/", "/pre/"),
    ],
)
def test_url_prefix_joins_with_one_slash(
    app: Demijohn, client: DemijohnClient, url_prefix: str, rule: str, path: str
) -> None:
    bp = Blueprint("bp", __name__, url_prefix=url_prefix)
    bp.add_url_rule(rule, "view", lambda: "ok")
    app.register_blueprint(bp)
    rules = [r.rule for r in app.url_map.iter_rules() if r.endpoint == "bp.view"]
    assert rules == [path]
    assert client.get(path).data == b"ok"


def test_url_prefix_option_overrides_the_blueprints(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/own")
    bp.add_url_rule("/x", "x", lambda: "x")
    app.register_blueprint(bp, url_prefix="/given")
    assert client.get("/given/x").data == b"x"
    assert client.get("/own/x").status_code == 404


def test_subdomain_from_blueprint_and_option(make_client: MakeClient) -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    api = Blueprint("api", __name__, subdomain="api")
    api.add_url_rule("/", "index", lambda: "api")
    admin = Blueprint("admin", __name__, subdomain="ignored")
    admin.add_url_rule("/", "index", lambda: "admin")
    app.register_blueprint(api)
    app.register_blueprint(admin, subdomain="admin")
    client = make_client(app)
    assert client.get("/", subdomain="api").data == b"api"
    assert client.get("/", subdomain="admin").data == b"admin"
    assert client.get("/", subdomain="ignored").status_code == 404
    assert client.get("/").status_code == 404
    with app.app_context():
        assert url_for("api.index") == "http://api.example.test/"


def test_url_defaults_of_blueprint_option_and_rule(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__, url_defaults={"lang": "en", "page": 1})

    @bp.route("/")
    def index(lang: str, page: int) -> str:
        return f"{lang} {page} {url_for('.index')}"

    @bp.route("/about", defaults={"page": 7})
    def about(lang: str, page: int) -> str:
        return f"{lang} {page}"

    app.register_blueprint(bp, url_defaults={"lang": "de"})
    assert client.get("/").data == b"de 1 /"
    assert client.get("/about").data == b"de 7"
    # The blueprint's own dict is left alone.
    assert bp.url_values_defaults == {"lang": "en", "page": 1}


def test_same_blueprint_twice_needs_a_name(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__)

    @bp.route("/")
    def index() -> str:
        return f"{request.blueprint} {url_for('.index')}"

    app.register_blueprint(bp, url_prefix="/one")
    with pytest.raises(ValueError) as exc_info:
        app.register_blueprint(bp, url_prefix="/two")
    assert str(exc_info.value) == (
        "The name 'bp' is already registered for this blueprint."
        " Use 'name=' to provide a unique name."
    )
    app.register_blueprint(bp, url_prefix="/two", name="second")
    assert app.blueprints == {"bp": bp, "second": bp}
    assert client.get("/one/").data == b"bp /one/"
    assert client.get("/two/").data == b"second /two/"


def test_different_blueprint_with_a_taken_name(app: Demijohn) -> None:
    app.register_blueprint(Blueprint("bp", __name__))
    with pytest.raises(ValueError) as exc_info:
        app.register_blueprint(Blueprint("bp", __name__))
    assert str(exc_info.value) == (
        "The name 'bp' is already registered for a different blueprint."
        " Use 'name=' to provide a unique name."
    )


def test_hooks_run_under_each_registered_name(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__)
    bp.add_url_rule("/", "index", lambda: g.seen)

    @bp.before_request
    def mark() -> None:
        g.seen = request.blueprint

    app.register_blueprint(bp, url_prefix="/a")
    app.register_blueprint(bp, url_prefix="/b", name="b")
    assert app.before_request_funcs["bp"] == [mark]
    assert app.before_request_funcs["b"] == [mark]
    assert client.get("/a/").data == b"bp"
    assert client.get("/b/").data == b"b"


def test_blueprint_endpoint_decorator_takes_the_full_endpoint(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__)
    bp.add_url_rule("/foo", "foo")

    # As in Flask, the name is used as given, so it includes the blueprint.
    @bp.endpoint("bp.foo")
    def foo() -> str:
        return "foo"

    app.register_blueprint(bp)
    assert client.get("/foo").data == b"foo"


def test_route_method_shortcuts(app: Demijohn, client: DemijohnClient) -> None:
    bp = Blueprint("bp", __name__)

    @bp.post("/item")
    def create() -> str:
        return "created"

    app.register_blueprint(bp)
    assert client.post("/item").data == b"created"
    assert client.get("/item").status_code == 405


# -- setup after registration -------------------------------------------------


def test_setup_after_registration_is_refused(app: Demijohn) -> None:
    bp = Blueprint("late", __name__)
    app.register_blueprint(bp)
    message = (
        r"The setup method 'route' can no longer be called on the blueprint"
        r" 'late'\. It has already been registered"
    )
    with pytest.raises(AssertionError, match=message):
        bp.route("/")
    with pytest.raises(AssertionError, match="'before_request'"):
        bp.before_request(lambda: None)
    with pytest.raises(AssertionError, match="'record'"):
        bp.record(lambda state: None)
    with pytest.raises(AssertionError, match="'register_blueprint'"):
        bp.register_blueprint(Blueprint("child", __name__))


def test_setup_before_registration_is_allowed(app: Demijohn) -> None:
    bp = Blueprint("bp", __name__)
    bp.add_url_rule("/", "index", lambda: "")
    bp.before_request(lambda: None)
    app.register_blueprint(bp)
    assert "bp.index" in app.view_functions


# -- nesting -----------------------------------------------------------------


def make_nested() -> tuple[Blueprint, Blueprint, Blueprint]:
    parent = Blueprint("parent", __name__, url_prefix="/parent/")
    child = Blueprint("child", __name__, url_prefix="/child")
    grandchild = Blueprint("grandchild", __name__, url_prefix="grand")

    for bp in (parent, child, grandchild):

        def index() -> str:
            return (
                f"{request.endpoint}|{request.blueprint}|"
                f"{','.join(request.blueprints)}|{url_for('.index')}"
            )

        bp.add_url_rule("/", "index", index)
    child.register_blueprint(grandchild)
    parent.register_blueprint(child)
    return parent, child, grandchild


def test_nested_blueprints_get_dotted_names_and_joined_prefixes(
    app: Demijohn, client: DemijohnClient
) -> None:
    parent, child, grandchild = make_nested()
    app.register_blueprint(parent)
    assert app.blueprints == {
        "parent": parent,
        "parent.child": child,
        "parent.child.grandchild": grandchild,
    }
    assert client.get("/parent/").data == b"parent.index|parent|parent|/parent/"
    assert client.get("/parent/child/").data == (
        b"parent.child.index|parent.child|parent.child,parent|/parent/child/"
    )
    assert client.get("/parent/child/grand/").data == (
        b"parent.child.grandchild.index|parent.child.grandchild|"
        b"parent.child.grandchild,parent.child,parent|/parent/child/grand/"
    )


def test_nested_prefix_option_and_missing_prefixes(
    app: Demijohn, client: DemijohnClient
) -> None:
    outer = Blueprint("outer", __name__)
    middle = Blueprint("middle", __name__, url_prefix="/own")
    inner = Blueprint("inner", __name__)
    inner.add_url_rule("/y", "y", lambda: "inner")
    middle.add_url_rule("/x", "x", lambda: "middle")
    middle.register_blueprint(inner)
    # The option replaces the middle blueprint's own prefix; a blueprint
    # without a prefix lives at its parent's.
    outer.register_blueprint(middle, url_prefix="/opt")
    app.register_blueprint(outer, url_prefix="/top")
    rules = {r.endpoint: r.rule for r in app.url_map.iter_rules()}
    assert rules["outer.middle.x"] == "/top/opt/x"
    assert rules["outer.middle.inner.y"] == "/top/opt/y"
    assert client.get("/top/opt/x").data == b"middle"
    assert client.get("/top/opt/y").data == b"inner"


def test_nested_blueprint_under_a_second_name(
    app: Demijohn, client: DemijohnClient
) -> None:
    parent, _child, _grandchild = make_nested()
    app.register_blueprint(parent)
    app.register_blueprint(parent, name="alt", url_prefix="/alt")
    assert client.get("/alt/child/").data == (
        b"alt.child.index|alt.child|alt.child,alt|/alt/child/"
    )
    assert "alt.child.grandchild" in app.blueprints


def test_nested_name_option(app: Demijohn, client: DemijohnClient) -> None:
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)
    child.add_url_rule("/", "index", lambda: request.blueprint or "")
    parent.register_blueprint(child, name="renamed", url_prefix="/c")
    app.register_blueprint(parent)
    assert client.get("/c/").data == b"parent.renamed"


def test_nested_name_clash_names_the_dotted_place(app: Demijohn) -> None:
    parent = Blueprint("parent", __name__)
    parent.register_blueprint(Blueprint("child", __name__))
    parent.register_blueprint(Blueprint("child", __name__))
    with pytest.raises(ValueError) as exc_info:
        app.register_blueprint(parent)
    assert str(exc_info.value) == (
        "The name 'child' is already registered for a different blueprint"
        " 'parent.child'. Use 'name=' to provide a unique name."
    )


def test_nested_subdomains_combine(make_client: MakeClient) -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    parent = Blueprint("parent", __name__, subdomain="api")
    child = Blueprint("child", __name__, subdomain="v1")
    no_sub = Blueprint("nosub", __name__, url_prefix="/n")
    child.add_url_rule("/", "index", lambda: "child")
    no_sub.add_url_rule("/", "index", lambda: "nosub")
    parent.register_blueprint(child)
    parent.register_blueprint(no_sub)
    app.register_blueprint(parent)
    client = make_client(app)
    assert client.get("/", subdomain="v1.api").data == b"child"
    assert client.get("/", subdomain="api").status_code == 404
    assert client.get("/n/", subdomain="api").data == b"nosub"


def test_relative_url_for_outside_a_blueprint(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/", "index", lambda: url_for(".index"))
    app.add_url_rule("/", "index", lambda: url_for(".index"))
    app.register_blueprint(bp)
    assert client.get("/").data == b"/"
    assert client.get("/bp/").data == b"/bp/"


# -- request hooks -------------------------------------------------------------


def test_hooks_of_parents_run_for_children_in_order(
    app: Demijohn, client: DemijohnClient
) -> None:
    calls: list[str] = []
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)

    @child.route("/x")
    def view() -> str:
        calls.append("view")
        return "ok"

    def add_hooks(owner: Demijohn | Blueprint, label: str) -> None:
        @owner.url_value_preprocessor
        def preprocess(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
            calls.append(f"url_value {label}")

        @owner.before_request
        def before() -> None:
            calls.append(f"before {label}")

        @owner.after_request
        def after(response: Response) -> Response:
            calls.append(f"after {label}")
            return response

        @owner.teardown_request
        def teardown(exc: BaseException | None) -> None:
            calls.append(f"teardown {label}")

    add_hooks(app, "app")
    add_hooks(parent, "parent")
    add_hooks(child, "child")
    parent.register_blueprint(child, url_prefix="/child")
    app.register_blueprint(parent)

    assert client.get("/child/x").data == b"ok"
    assert calls == [
        "url_value app",
        "url_value parent",
        "url_value child",
        "before app",
        "before parent",
        "before child",
        "view",
        "after child",
        "after parent",
        "after app",
        "teardown child",
        "teardown parent",
        "teardown app",
    ]


def test_blueprint_hooks_only_run_for_its_requests(
    app: Demijohn, client: DemijohnClient
) -> None:
    calls: list[str] = []
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/", "index", lambda: "bp")
    app.add_url_rule("/", "index", lambda: "app")
    bp.before_request(lambda: calls.append("before"))
    app.register_blueprint(bp)

    assert client.get("/").data == b"app"
    assert calls == []
    assert client.get("/bp/").data == b"bp"
    assert calls == ["before"]


def test_blueprint_before_request_can_answer(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__)
    bp.add_url_rule("/", "index", lambda: "view")

    @bp.before_request
    def stop() -> str:
        return "stopped"

    app.register_blueprint(bp)
    assert client.get("/").data == b"stopped"


def test_blueprint_url_processors(app: Demijohn, client: DemijohnClient) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/<lang>")

    @bp.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        assert values is not None
        g.lang = values.pop("lang")

    @bp.url_defaults
    def add_lang(endpoint: str, values: dict[str, t.Any]) -> None:
        values.setdefault("lang", g.lang)

    @bp.route("/")
    def index() -> str:
        return url_for(".about")

    @bp.route("/about")
    def about() -> str:
        return ""

    app.register_blueprint(bp)
    assert client.get("/fr/").data == b"/fr/about"


def test_blueprint_context_processors_extend_the_apps(
    make_client: MakeClient,
) -> None:
    app = make_app()
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)

    @app.context_processor
    def from_app() -> dict[str, t.Any]:
        return {"a": "app", "b": "app", "c": "app"}

    @parent.context_processor
    def from_parent() -> dict[str, t.Any]:
        return {"b": "parent", "c": "parent"}

    @child.context_processor
    def from_child() -> dict[str, t.Any]:
        return {"c": "child"}

    template = "{{ a }} {{ b }} {{ c }}"
    app.add_url_rule("/", "index", lambda: render_template_string(template))
    parent.add_url_rule("/p", "p", lambda: render_template_string(template))
    child.add_url_rule("/c", "c", lambda: render_template_string(template))
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    client = make_client(app)
    assert client.get("/").data == b"app app app"
    assert client.get("/p").data == b"app parent parent"
    assert client.get("/c").data == b"app parent child"


# -- error handlers ------------------------------------------------------------


class BlueprintError(Exception):
    pass


def test_blueprint_error_handler_beats_the_apps_for_its_views(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    def fail() -> str:
        raise BlueprintError()

    bp.add_url_rule("/", "fail", fail)
    app.add_url_rule("/", "fail", fail)

    @bp.errorhandler(BlueprintError)
    def bp_handler(e: BlueprintError) -> tuple[str, int]:
        return "blueprint", 400

    @app.errorhandler(BlueprintError)
    def app_handler(e: BlueprintError) -> tuple[str, int]:
        return "app", 409

    app.register_blueprint(bp)
    rv = client.get("/bp/")
    assert (rv.status_code, rv.data) == (400, b"blueprint")
    rv = client.get("/")
    assert (rv.status_code, rv.data) == (409, b"app")


def test_blueprint_error_handler_does_not_handle_app_views(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__)
    bp.register_error_handler(BlueprintError, lambda e: "handled")

    @app.route("/")
    def fail() -> str:
        raise BlueprintError()

    app.register_blueprint(bp)
    with pytest.raises(BlueprintError):
        client.get("/")


def test_parent_error_handler_serves_nested_blueprints(
    app: Demijohn, client: DemijohnClient
) -> None:
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)
    other_child = Blueprint("other", __name__)

    def fail() -> str:
        raise BlueprintError()

    child.add_url_rule("/c", "fail", fail)
    other_child.add_url_rule("/o", "fail", fail)
    parent.register_error_handler(BlueprintError, lambda e: "parent")
    other_child.register_error_handler(BlueprintError, lambda e: "other")
    parent.register_blueprint(child)
    parent.register_blueprint(other_child)
    app.register_blueprint(parent)
    assert client.get("/c").data == b"parent"
    assert client.get("/o").data == b"other"


def test_http_error_handler_by_code_on_a_blueprint(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.route("/missing")
    def missing() -> str:
        abort(404)

    @bp.errorhandler(404)
    def bp_not_found(e: NotFound) -> tuple[str, int]:
        return "blueprint 404", 404

    @app.errorhandler(404)
    def app_not_found(e: NotFound) -> tuple[str, int]:
        return "app 404", 404

    app.register_blueprint(bp)
    assert client.get("/bp/missing").data == b"blueprint 404"
    # No rule matched, so the request belongs to no blueprint.
    assert client.get("/bp/no-such-page").data == b"app 404"


def test_unmatched_url_under_a_prefix_is_not_the_blueprints(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/", "index", lambda: "")
    bp.register_error_handler(404, lambda e: ("blueprint 404", 404))
    app.register_blueprint(bp)
    rv = client.get("/bp/no-such-page")
    assert rv.status_code == 404
    assert b"blueprint 404" not in rv.data


def test_app_errorhandler_from_a_blueprint_handles_every_request(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__)

    @bp.app_errorhandler(404)
    def not_found(e: NotFound) -> tuple[str, int]:
        return "site 404", 404

    @bp.app_errorhandler(BlueprintError)
    def handle(e: BlueprintError) -> str:
        return "site error"

    @app.route("/fail")
    def fail() -> str:
        raise BlueprintError()

    app.register_blueprint(bp)
    assert app.error_handler_spec[None][404][NotFound] is not_found
    assert client.get("/nowhere").data == b"site 404"
    assert client.get("/fail").data == b"site error"


def test_app_errorhandler_with_a_bad_code_fails_at_registration(
    app: Demijohn,
) -> None:
    bp = Blueprint("bp", __name__)
    bp.app_errorhandler(999)(lambda e: "")
    with pytest.raises(ValueError, match="'999' is not a recognized HTTP error"):
        app.register_blueprint(bp)


def test_error_handlers_are_copied_at_registration(app: Demijohn) -> None:
    bp = Blueprint("bp", __name__)

    def handler(e: Exception) -> str:
        return ""

    bp.register_error_handler(KeyError, handler)
    app.register_blueprint(bp)
    assert app.error_handler_spec["bp"][None][KeyError] is handler
    bp.error_handler_spec[None][None][ValueError] = handler
    assert ValueError not in app.error_handler_spec["bp"][None]


# -- request.blueprint ---------------------------------------------------------


def test_request_blueprint_of_app_and_blueprint_routes(
    app: Demijohn, client: DemijohnClient
) -> None:
    def describe() -> dict[str, t.Any]:
        return {"blueprint": request.blueprint, "blueprints": request.blueprints}

    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/", "describe", describe)
    app.add_url_rule("/", "describe", describe)
    app.register_blueprint(bp)
    assert client.get("/").json == {"blueprint": None, "blueprints": []}
    assert client.get("/bp/").json == {"blueprint": "bp", "blueprints": ["bp"]}


# -- static files and templates -------------------------------------------------


def test_blueprint_static_folder(tmp_path: Path, make_client: MakeClient) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "style.css").write_text("body {}")
    app = make_app()
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 60
    bp = Blueprint(
        "bp",
        __name__,
        static_folder="static",
        url_prefix="/bp",
        root_path=str(tmp_path),
    )
    assert bp.has_static_folder
    assert bp.static_folder == str(tmp_path / "static")
    assert bp.static_url_path == "/static"
    app.register_blueprint(bp)
    client = make_client(app)

    rv = client.get("/bp/static/style.css")
    assert rv.status_code == 200
    assert rv.data == b"body {}"
    assert rv.cache_control.max_age == 60
    rv.close()
    assert client.get("/bp/static/missing.css").status_code == 404
    assert client.get("/bp/static/../secret").status_code == 404
    with app.test_request_context():
        assert url_for("bp.static", filename="style.css") == "/bp/static/style.css"


def test_blueprint_static_url_path(tmp_path: Path, make_client: MakeClient) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "a.txt").write_text("a")
    app = make_app()
    bp = Blueprint(
        "bp",
        __name__,
        static_folder="assets",
        static_url_path="/files/",
        root_path=str(tmp_path),
    )
    app.register_blueprint(bp, url_prefix="/bp")
    rv = make_client(app).get("/bp/files/a.txt")
    assert rv.data == b"a"
    rv.close()


def test_blueprint_without_static_folder_has_no_static_route(app: Demijohn) -> None:
    bp = Blueprint("bp", __name__)
    app.register_blueprint(bp)
    assert "bp.static" not in {r.endpoint for r in app.url_map.iter_rules()}
    with pytest.raises(RuntimeError, match="'static_folder' must be set"):
        bp.send_static_file("x")


def test_blueprint_template_folder(tmp_path: Path, make_client: MakeClient) -> None:
    app_root = tmp_path / "app"
    (app_root / "templates").mkdir(parents=True)
    (app_root / "templates" / "shared.html").write_text("app's {{ x }}")
    bp_root = tmp_path / "bp"
    (bp_root / "templates" / "bp").mkdir(parents=True)
    (bp_root / "templates" / "bp" / "page.html").write_text("bp page {{ x }}")
    (bp_root / "templates" / "shared.html").write_text("bp's {{ x }}")

    app = Demijohn("blueprint_test_app", root_path=str(app_root))
    app.config["TESTING"] = True
    bp = Blueprint("bp", __name__, template_folder="templates", root_path=str(bp_root))
    bp.add_url_rule("/page", "page", lambda: render_template("bp/page.html", x=1))
    bp.add_url_rule("/shared", "shared", lambda: render_template("shared.html", x=2))
    app.register_blueprint(bp)
    client = make_client(app)
    assert client.get("/page").data == b"bp page 1"
    # The application's templates take precedence over a blueprint's.
    assert client.get("/shared").data == b"app's 2"


# -- deferred setup functions ---------------------------------------------------


def test_record_runs_at_every_registration(app: Demijohn) -> None:
    states: list[BlueprintSetupState] = []
    bp = Blueprint("bp", __name__, url_prefix="/own", url_defaults={"a": 1})
    bp.record(states.append)
    assert states == []

    app.register_blueprint(bp)
    app.register_blueprint(
        bp, name="two", url_prefix="/two", subdomain="sub", url_defaults={"b": 2}
    )
    assert len(states) == 2
    first, second = states
    assert first.app is app
    assert first.blueprint is bp
    assert first.options == {}
    assert first.first_registration is True
    assert (first.name, first.name_prefix) == ("bp", "")
    assert (first.url_prefix, first.subdomain) == ("/own", None)
    assert first.url_defaults == {"a": 1}
    assert second.first_registration is False
    assert second.name == "two"
    assert (second.url_prefix, second.subdomain) == ("/two", "sub")
    assert second.url_defaults == {"a": 1, "b": 2}


def test_record_once_runs_once_per_app(app: Demijohn) -> None:
    calls: list[str] = []
    bp = Blueprint("bp", __name__)

    def setup(state: BlueprintSetupState) -> None:
        calls.append(state.name)

    bp.record_once(setup)
    assert bp.deferred_functions[0].__name__ == "setup"
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="again")
    assert calls == ["bp"]

    other_app = make_app()
    other_app.register_blueprint(bp)
    assert calls == ["bp", "bp"]


def test_nested_setup_state_has_name_prefix(app: Demijohn) -> None:
    states: list[BlueprintSetupState] = []
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)
    child.record(states.append)
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    (state,) = states
    assert (state.name_prefix, state.name) == ("parent", "child")


def test_make_setup_state_can_return_a_subclass(
    app: Demijohn, client: DemijohnClient
) -> None:
    class UpperState(BlueprintSetupState):
        def add_url_rule(
            self,
            rule: str,
            endpoint: str | None = None,
            view_func: t.Any = None,
            **options: t.Any,
        ) -> None:
            super().add_url_rule(rule.upper(), endpoint, view_func, **options)

    class UpperBlueprint(Blueprint):
        def make_setup_state(
            self,
            app: Demijohn,
            options: dict[str, t.Any],
            first_registration: bool = False,
        ) -> BlueprintSetupState:
            return UpperState(self, app, options, first_registration)

    bp = UpperBlueprint("bp", __name__)
    bp.add_url_rule("/shout", "shout", lambda: "ok")
    app.register_blueprint(bp)
    assert client.get("/SHOUT").data == b"ok"


def test_setup_state_add_url_rule_with_explicit_defaults(app: Demijohn) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp", url_defaults={"x": 1})
    state = bp.make_setup_state(app, {"name_prefix": "outer"})

    def view(x: int, y: int) -> str:
        return ""

    state.add_url_rule("/v", view_func=view, defaults={"y": 2})
    (rule,) = [r for r in app.url_map.iter_rules() if r.endpoint == "outer.bp.view"]
    assert rule.rule == "/bp/v"
    assert rule.defaults == {"x": 1, "y": 2}


# -- application-wide registrations -----------------------------------------------


def test_app_template_filters_tests_and_globals(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("bp", __name__)

    @bp.app_template_filter()
    def shout(s: str) -> str:
        return s.upper()

    @bp.app_template_filter("rev")
    def reverse(s: str) -> str:
        return s[::-1]

    bp.add_app_template_filter(lambda s: f"<{s}>", name="wrap")

    @bp.app_template_test()
    def short(s: str) -> bool:
        return len(s) < 4

    bp.add_app_template_test(lambda n: n % 2 == 0, name="even_number")

    @bp.app_template_global()
    def answer() -> int:
        return 42

    bp.add_app_template_global(lambda: "hi", name="greet")
    assert "shout" not in app.jinja_env.filters
    app.register_blueprint(bp)

    env = app.jinja_env
    assert env.filters["shout"] is shout
    assert env.filters["rev"] is reverse
    assert env.tests["short"] is short
    assert env.globals["answer"] is answer
    source = (
        "{{ 'ab'|shout }} {{ 'ab'|rev }} {{ 'x'|wrap }}"
        " {{ 'abc' is short }} {{ 4 is even_number }} {{ answer() }} {{ greet() }}"
    )
    app.add_url_rule("/", "index", lambda: render_template_string(source))
    assert client.get("/").data == b"AB ba &lt;x&gt; True True 42 hi"


def test_blueprints_have_no_template_filter_decorators() -> None:
    bp = Blueprint("bp", __name__)
    assert not hasattr(bp, "template_filter")
    assert not hasattr(bp, "add_template_global")


def test_app_wide_request_hooks(app: Demijohn, client: DemijohnClient) -> None:
    calls: list[str] = []
    bp = Blueprint("bp", __name__)

    @bp.before_app_request
    def before() -> None:
        calls.append("before")

    @bp.after_app_request
    def after(response: Response) -> Response:
        response.headers["X-After"] = "yes"
        return response

    @bp.teardown_app_request
    def teardown(exc: BaseException | None) -> None:
        calls.append("teardown")

    @bp.app_context_processor
    def inject() -> dict[str, t.Any]:
        return {"site": "demo"}

    app.add_url_rule("/", "index", lambda: render_template_string("{{ site }}"))
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="again")

    rv = client.get("/")
    assert rv.data == b"demo"
    assert rv.headers["X-After"] == "yes"
    # Registered once although the blueprint was registered twice.
    assert calls == ["before", "teardown"]
    assert app.before_request_funcs[None] == [before]


def test_app_wide_url_processors(app: Demijohn, client: DemijohnClient) -> None:
    bp = Blueprint("bp", __name__)

    @bp.app_url_value_preprocessor
    def pull(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        if values:
            g.lang = values.pop("lang", None)

    @bp.app_url_defaults
    def push(endpoint: str, values: dict[str, t.Any]) -> None:
        if app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values.setdefault("lang", g.lang)

    @app.route("/<lang>/")
    def index() -> str:
        return url_for("page")

    @app.route("/<lang>/page")
    def page() -> str:
        return ""

    app.register_blueprint(bp)
    assert client.get("/nl/").data == b"/nl/page"


# -- CLI ---------------------------------------------------------------------------


def cli_blueprint(**kwargs: t.Any) -> Blueprint:
    bp = Blueprint("bp", __name__, **kwargs)

    @bp.cli.command("hello")
    def hello() -> None:
        click.echo("hello")

    return bp


def test_cli_group_defaults_to_the_registered_name(app: Demijohn) -> None:
    bp = cli_blueprint()
    app.register_blueprint(bp)
    group = app.cli.commands["bp"]
    assert group is bp.cli
    assert isinstance(group, click.Group)
    assert "hello" in group.commands


def test_cli_group_named_by_constructor_or_option(app: Demijohn) -> None:
    app.register_blueprint(cli_blueprint(cli_group="tools"))
    assert "hello" in t.cast(click.Group, app.cli.commands["tools"]).commands
    other = make_app()
    other.register_blueprint(cli_blueprint(cli_group="tools"), cli_group="given")
    assert "given" in other.cli.commands
    assert "tools" not in other.cli.commands


def test_cli_group_none_merges_commands_into_the_app(app: Demijohn) -> None:
    app.register_blueprint(cli_blueprint(cli_group=None))
    assert "hello" in app.cli.commands
    assert "bp" not in app.cli.commands


def test_cli_group_follows_the_name_option(app: Demijohn) -> None:
    app.register_blueprint(cli_blueprint(), name="renamed")
    assert "renamed" in app.cli.commands


def test_blueprint_without_commands_adds_no_group(app: Demijohn) -> None:
    app.register_blueprint(Blueprint("bp", __name__))
    assert "bp" not in app.cli.commands
