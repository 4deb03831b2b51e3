"""The application object itself: constructor arguments, its name, the
static route and the refusal of setup after the first request."""

from __future__ import annotations

import os
import sys
import types
import typing as t
from pathlib import Path

import pytest

import demijohn
from demijohn import Demijohn
from demijohn.testing import DemijohnClient

MakeClient = t.Callable[..., DemijohnClient]


def test_flask_alias_is_demijohn() -> None:
    assert demijohn.Flask is Demijohn
    assert isinstance(demijohn.Flask("alias_app", root_path="/x"), Demijohn)


def test_name_is_the_import_name(app: Demijohn) -> None:
    assert app.name == "demijohn_test_app"
    assert app.import_name == "demijohn_test_app"
    assert repr(app) == "<Demijohn 'demijohn_test_app'>"


def test_name_of_main_module_is_the_script_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = types.ModuleType("__main__")
    script.__file__ = "/srv/project/manage_site.py"
    monkeypatch.setitem(sys.modules, "__main__", script)
    application = Demijohn("__main__", root_path="/srv/project")
    assert application.name == "manage_site"


def test_name_of_main_module_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # An interactive interpreter's __main__ has no __file__.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    application = Demijohn("__main__", root_path="/srv/project")
    assert application.name == "__main__"


def test_name_can_be_assigned_or_overridden() -> None:
    class Named(Demijohn):
        name = "custom_name"

    assert Named("named_app", root_path="/x").name == "custom_name"

    class PropertyNamed(Demijohn):
        @property
        def name(self) -> str:  # type: ignore[override]
            return f"prop_{self.import_name}"

    assert PropertyNamed("p", root_path="/x").name == "prop_p"

    application = Demijohn("assigned", root_path="/x")
    application.name = "renamed"
    assert application.name == "renamed"


def test_instance_path_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="must be absolute"):
        Demijohn("abs_app", root_path="/x", instance_path="relative/instance")


def test_instance_path_given_is_kept(tmp_path: Path) -> None:
    application = Demijohn("abs_app", root_path="/x", instance_path=str(tmp_path))
    assert application.instance_path == str(tmp_path)


def test_instance_path_defaults_beside_the_module() -> None:
    # This test module is a plain module, not installed: its instance
    # folder is "instance" in the folder holding it.
    application = Demijohn(__name__)
    here = os.path.dirname(os.path.abspath(__file__))
    assert application.instance_path == os.path.join(here, "instance")
    assert application.root_path == here


def _static_app(tmp_path: Path, **kwargs: t.Any) -> Demijohn:
    static = tmp_path / "static"
    static.mkdir()
    (static / "site.css").write_text("body { color: red }")
    application = Demijohn("static_app", root_path=str(tmp_path), **kwargs)
    application.config["TESTING"] = True
    return application


def test_static_route_serves_files(tmp_path: Path, make_client: MakeClient) -> None:
    application = _static_app(tmp_path)
    assert application.static_folder == str(tmp_path / "static")
    assert application.static_url_path == "/static"
    client = make_client(application)
    rv = client.get("/static/site.css")
    assert rv.status_code == 200
    assert rv.data == b"body { color: red }"
    assert rv.mimetype == "text/css"
    rv.close()
    assert client.get("/static/missing.css").status_code == 404
    # A path leaving the folder is refused, not served.
    assert client.get("/static/../secret.py").status_code == 404


def test_static_url_path_moves_the_route(
    tmp_path: Path, make_client: MakeClient
) -> None:
    application = _static_app(tmp_path, static_url_path="/assets/")
    assert application.static_url_path == "/assets"
    client = make_client(application)
    rv = client.get("/assets/site.css")
    assert rv.status_code == 200
    rv.close()
    assert client.get("/static/site.css").status_code == 404
    with application.test_request_context():
        assert demijohn.url_for("static", filename="a.js") == "/assets/a.js"


def test_empty_static_url_path_serves_from_root(
    tmp_path: Path, make_client: MakeClient
) -> None:
    application = _static_app(tmp_path, static_url_path="")
    rv = make_client(application).get("/site.css")
    assert rv.status_code == 200
    rv.close()


def test_static_folder_none_disables_the_route(make_client: MakeClient) -> None:
    application = Demijohn("nostatic", root_path="/x", static_folder=None)
    assert application.static_folder is None
    assert application.static_url_path is None
    assert not application.has_static_folder
    assert "static" not in application.view_functions
    assert [r.endpoint for r in application.url_map.iter_rules()] == []
    assert make_client(application).get("/static/x.css").status_code == 404
    with (
        application.app_context(),
        pytest.raises(RuntimeError, match="static_folder"),
    ):
        application.send_static_file("x.css")


def test_static_host_requires_host_matching() -> None:
    with pytest.raises(AssertionError, match="static_host"):
        Demijohn("h", root_path="/x", static_host="static.test")
    with pytest.raises(AssertionError, match="static_host"):
        Demijohn("h", root_path="/x", host_matching=True)
    # Without a static folder the combination does not matter.
    Demijohn("h", root_path="/x", host_matching=True, static_folder=None)


def test_static_host_serves_static_on_that_host(
    tmp_path: Path, make_client: MakeClient
) -> None:
    application = _static_app(tmp_path, host_matching=True, static_host="cdn.test")
    client = make_client(application)
    rv = client.get("/static/site.css", base_url="http://cdn.test")
    assert rv.status_code == 200
    rv.close()
    assert client.get("/static/site.css", base_url="http://www.test").status_code == (
        404
    )


def test_view_functions_maps_endpoints(app: Demijohn) -> None:
    @app.route("/")
    def index() -> str:
        return ""

    assert app.view_functions["index"] is index
    assert app.view_functions["static"] is not None


def test_got_first_request(app: Demijohn, client: DemijohnClient) -> None:
    @app.route("/")
    def index() -> str:
        return "ok"

    assert not app.got_first_request
    client.get("/")
    assert app.got_first_request


@pytest.mark.parametrize(
    ("name", "register"),
    [
        ("add_url_rule", lambda a: a.add_url_rule("/late", "late", lambda: "")),
        ("route", lambda a: a.route("/late")),
        ("get", lambda a: a.get("/late")),
        ("before_request", lambda a: a.before_request(lambda: None)),
        ("errorhandler", lambda a: a.errorhandler(404)),
        ("url_defaults", lambda a: a.url_defaults(lambda e, v: None)),
        ("teardown_appcontext", lambda a: a.teardown_appcontext(lambda e: None)),
        ("template_filter", lambda a: a.template_filter()),
    ],
)
def test_setup_after_first_request_is_refused(
    app: Demijohn,
    client: DemijohnClient,
    name: str,
    register: t.Callable[[Demijohn], object],
) -> None:
    @app.route("/")
    def index() -> str:
        return "ok"

    client.get("/")
    with pytest.raises(AssertionError) as exc_info:
        register(app)
    message = str(exc_info.value)
    assert f"'{name}'" in message
    assert "first request" in message
    assert "/late" not in [r.rule for r in app.url_map.iter_rules()]


def test_setup_before_first_request_is_allowed_even_after_test_contexts(
    app: Demijohn,
) -> None:
    # Pushing contexts is not handling a request.
    with app.test_request_context("/"):
        pass
    with app.app_context():
        pass

    @app.route("/later")
    def later() -> str:
        return ""

    assert "later" in app.view_functions


def test_misuse_errors_are_assertion_errors_like_flask_and_say_what_they_are() -> None:
    from demijohn.errors import InvalidArgumentsError, MissingArgumentError

    # Flask asserts these; demijohn's errors are AssertionErrors and also the
    # specific error, with a message that explains the fix.
    assert issubclass(InvalidArgumentsError, ValueError)
    assert issubclass(MissingArgumentError, TypeError)
    with pytest.raises(ValueError, match="static_host"):
        Demijohn("misuse", static_host="example.test")
