from __future__ import annotations

import logging
import typing as t
from pathlib import Path

import jinja2
import pytest
from markupsafe import Markup

from demijohn import (
    Demijohn,
    before_render_template,
    flash,
    g,
    get_flashed_messages,
    render_template,
    render_template_string,
    request,
    session,
    stream_template,
    stream_template_string,
    template_rendered,
)
from demijohn.json.provider import DefaultJSONProvider
from demijohn.templating import Environment
from demijohn.testing import DemijohnClient

MakeClient = t.Callable[..., DemijohnClient]


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    return folder


@pytest.fixture
def tapp(tmp_path: Path, templates: Path) -> Demijohn:
    application = Demijohn("templating_app", root_path=str(tmp_path))
    application.config.update(TESTING=True, SECRET_KEY="test key")
    return application


# -- finding and rendering templates -----------------------------------------


def test_render_template_from_template_folder(
    tapp: Demijohn, templates: Path, make_client: MakeClient
) -> None:
    write(templates, "hello.html", "Hello {{ name }}!")

    @tapp.route("/")
    def index() -> str:
        return render_template("hello.html", name="World")

    response = make_client(tapp).get("/")
    assert response.status_code == 200
    assert response.text == "Hello World!"


def test_render_template_in_subfolder(tapp: Demijohn, templates: Path) -> None:
    write(templates, "pages/about.txt", "about {{ 1 + 1 }}")
    with tapp.app_context():
        assert render_template("pages/about.txt") == "about 2"


def test_list_of_names_renders_first_existing(tapp: Demijohn, templates: Path) -> None:
    write(templates, "second.html", "second")
    write(templates, "third.html", "third")
    with tapp.app_context():
        rv = render_template(["missing.html", "second.html", "third.html"])
    assert rv == "second"


def test_template_object_is_rendered(tapp: Demijohn) -> None:
    with tapp.app_context():
        template = tapp.jinja_env.from_string("{{ x * 2 }}")
        assert render_template(template, x=21) == "42"


def test_unknown_template_raises_template_not_found_naming_it(tapp: Demijohn) -> None:
    with tapp.app_context(), pytest.raises(jinja2.TemplateNotFound) as exc_info:
        render_template("nope.html")
    assert exc_info.value.name == "nope.html"
    assert "nope.html" in str(exc_info.value)


def test_list_with_no_existing_template_names_all(tapp: Demijohn) -> None:
    with tapp.app_context(), pytest.raises(jinja2.TemplatesNotFound) as exc_info:
        render_template(["a.html", "b.html"])
    assert exc_info.value.templates == ["a.html", "b.html"]


def test_unknown_template_in_view_propagates_in_testing(
    tapp: Demijohn, make_client: MakeClient
) -> None:
    @tapp.route("/")
    def index() -> str:
        return render_template("nope.html")

    with pytest.raises(jinja2.TemplateNotFound, match="nope.html"):
        make_client(tapp).get("/")


def test_unknown_template_in_view_is_500_in_production(
    tapp: Demijohn, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    tapp.testing = False

    @tapp.route("/")
    def index() -> str:
        return render_template("nope.html")

    with caplog.at_level(logging.ERROR, logger=tapp.name):
        response = make_client(tapp).get("/")
    assert response.status_code == 500
    assert any(
        r.exc_info and r.exc_info[0] is jinja2.TemplateNotFound for r in caplog.records
    )


def test_template_folder_none_finds_nothing(tmp_path: Path, templates: Path) -> None:
    write(templates, "hello.html", "hi")
    application = Demijohn(
        "no_templates", root_path=str(tmp_path), template_folder=None
    )
    with application.app_context(), pytest.raises(jinja2.TemplateNotFound):
        render_template("hello.html")


def test_custom_template_folder(tmp_path: Path) -> None:
    write(tmp_path / "views", "page.html", "from views")
    application = Demijohn("custom", root_path=str(tmp_path), template_folder="views")
    with application.app_context():
        assert render_template("page.html") == "from views"


def test_render_template_outside_app_context_raises() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        render_template("x.html")
    with pytest.raises(RuntimeError, match="application context"):
        render_template_string("x")


def test_render_template_string(app: Demijohn, make_client: MakeClient) -> None:
    @app.route("/<name>")
    def index(name: str) -> str:
        return render_template_string("Hi {{ name }} at {{ request.path }}", name=name)

    assert make_client(app).get("/bob").text == "Hi bob at /bob"


def test_list_templates_lists_app_templates(tapp: Demijohn, templates: Path) -> None:
    write(templates, "a.html", "")
    write(templates, "sub/b.txt", "")
    assert sorted(tapp.jinja_env.list_templates()) == ["a.html", "sub/b.txt"]


# -- streaming -------------------------------------------------------------


def test_stream_template_streams_response(
    tapp: Demijohn, templates: Path, make_client: MakeClient
) -> None:
    write(templates, "stream.html", "{% for i in items %}[{{ i }}]{% endfor %}")

    @tapp.route("/")
    def index() -> t.Any:
        return stream_template("stream.html", items=["<a>", "b"])

    response = make_client(tapp).get("/")
    assert response.status_code == 200
    assert response.text == "[&lt;a&gt;][b]"
    assert "Content-Length" not in response.headers


def test_stream_template_string_has_request_while_streaming(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/path")
    def index() -> t.Any:
        g.value = "from g"
        return stream_template_string(
            "{{ request.path }} {{ request.args.q }} {{ g.value }}"
            " {{ session.get('k') }}"
        )

    response = make_client(app).get("/path?q=x")
    assert response.text == "/path x from g None"


def test_stream_template_tears_down_after_stream_ends(
    app: Demijohn, make_client: MakeClient
) -> None:
    events: list[str] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append("teardown")

    @app.route("/")
    def index() -> t.Any:
        def source() -> t.Iterator[str]:
            events.append("render")
            yield "x"

        return stream_template_string("{{ f() }}", f=lambda: "".join(source()))

    response = make_client(app).get("/")
    assert response.text == "x"
    assert events == ["render", "teardown"]


def test_stream_template_outside_request_is_plain_iterator(
    tapp: Demijohn, templates: Path
) -> None:
    write(templates, "s.txt", "{{ a }}-{{ b }}")
    with tapp.app_context():
        assert "".join(stream_template("s.txt", a=1, b=2)) == "1-2"
        assert "".join(stream_template_string("{{ a }}", a=3)) == "3"


def test_stream_unknown_template_raises_immediately(tapp: Demijohn) -> None:
    with tapp.app_context(), pytest.raises(jinja2.TemplateNotFound):
        stream_template("nope.html")


# -- autoescaping ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("t.html", True),
        ("t.htm", True),
        ("t.xml", True),
        ("t.xhtml", True),
        ("t.svg", True),
        ("t.txt", False),
        ("t.js", False),
        ("t.html.j2", False),
    ],
)
def test_autoescape_by_extension(
    tapp: Demijohn, templates: Path, name: str, escaped: bool
) -> None:
    write(templates, name, "{{ text }}")
    with tapp.app_context():
        rv = render_template(name, text="<b>&")
    assert rv == ("&lt;b&gt;&amp;" if escaped else "<b>&")


def test_template_strings_are_autoescaped(app: Demijohn) -> None:
    with app.app_context():
        assert render_template_string("{{ t }}", t="<p>") == "&lt;p&gt;"
        assert render_template_string("{{ t }}", t=Markup("<p>")) == "<p>"
        assert render_template_string("{{ t|safe }}", t="<p>") == "<p>"
        rv = render_template_string(
            "{% autoescape false %}{{ t }}{% endautoescape %}", t="<p>"
        )
        assert rv == "<p>"


def test_select_jinja_autoescape_can_be_overridden(
    tmp_path: Path, templates: Path
) -> None:
    class App(Demijohn):
        def select_jinja_autoescape(self, filename: str | None) -> bool:
            return filename is not None and filename.endswith(".txt")

    write(templates, "a.txt", "{{ t }}")
    write(templates, "a.html", "{{ t }}")
    application = App("custom_escape", root_path=str(tmp_path))
    with application.app_context():
        assert render_template("a.txt", t="<") == "&lt;"
        assert render_template("a.html", t="<") == "<"


# -- the environment ---------------------------------------------------------


def test_jinja_env_is_demijohn_environment_bound_to_app(app: Demijohn) -> None:
    env = app.jinja_env
    assert isinstance(env, Environment)
    assert env.app is app
    assert app.jinja_env is env


def test_jinja_options_are_used() -> None:
    class App(Demijohn):
        jinja_options = {
            "extensions": ["jinja2.ext.do"],
            "trim_blocks": True,
            "variable_start_string": "[[",
            "variable_end_string": "]]",
        }

    application = App("opts", root_path="/nonexistent-root")
    env = application.jinja_env
    assert env.trim_blocks is True
    assert "jinja2.ext.ExprStmtExtension" in env.extensions
    with application.app_context():
        rv = render_template_string("{% set l = [] %}{% do l.append(1) %}[[ l ]]")
    assert rv == "[1]"


def test_jinja_options_can_replace_autoescape_and_loader() -> None:
    class App(Demijohn):
        jinja_options = {
            "autoescape": False,
            "loader": jinja2.DictLoader({"a.html": "{{ v }}"}),
        }

    application = App("opts2", root_path="/nonexistent-root")
    with application.app_context():
        assert render_template("a.html", v="<x>") == "<x>"


def test_jinja_options_are_not_mutated_by_app() -> None:
    class App(Demijohn):
        jinja_options: dict[str, t.Any] = {"trim_blocks": True}

    App("opts3", root_path="/nonexistent-root").jinja_env  # noqa: B018
    assert App.jinja_options == {"trim_blocks": True}


def test_create_jinja_environment_override(app: Demijohn) -> None:
    class App(Demijohn):
        def create_jinja_environment(self) -> Environment:
            env = super().create_jinja_environment()
            env.globals["site"] = "example"
            env.filters["shout"] = lambda s: s.upper() + "!"
            return env

    application = App("override", root_path="/nonexistent-root")
    with application.app_context():
        rv = render_template_string("{{ site|shout }} {{ config.DEBUG }}")
    assert rv == "EXAMPLE! False"


def test_jinja_environment_class_attribute(app: Demijohn) -> None:
    class MyEnvironment(Environment):
        pass

    class App(Demijohn):
        jinja_environment = MyEnvironment

    application = App("envclass", root_path="/nonexistent-root")
    assert type(application.jinja_env) is MyEnvironment


# -- the default context -----------------------------------------------------


def test_default_context_in_request(app: Demijohn, make_client: MakeClient) -> None:
    app.config["CUSTOM"] = "custom-value"

    @app.route("/ctx/<int:n>")
    def ctx(n: int) -> str:
        g.name = "gee"
        session["user"] = "ann"
        return render_template_string(
            "{{ config.CUSTOM }}|{{ request.path }}|{{ session.user }}|"
            "{{ g.name }}|{{ url_for('ctx', n=2) }}|{{ get_flashed_messages() }}"
        )

    rv = make_client(app).get("/ctx/1").text
    assert rv == "custom-value|/ctx/1|ann|gee|/ctx/2|[]"


def test_default_context_objects_are_the_real_ones(app: Demijohn) -> None:
    seen: dict[str, t.Any] = {}

    def receiver(sender: Demijohn, template: t.Any, context: dict[str, t.Any]) -> None:
        seen.update(context)

    with app.test_request_context("/x"), template_rendered.connected_to(receiver, app):
        session["user"] = "ann"
        render_template_string("{{ request.path }}")
        assert seen["request"] is request._get_current_object()  # type: ignore[attr-defined]
        assert seen["g"] is g._get_current_object()  # type: ignore[attr-defined]
        assert "session" not in seen  # a global, as in Flask
        assert render_template_string("{{ session['user'] }}") == "ann"
        assert app.jinja_env.globals["config"] is app.config


def test_session_in_context_does_not_mark_accessed(
    app: Demijohn, make_client: MakeClient
) -> None:
    contexts: list[dict[str, t.Any]] = []

    def receiver(sender: Demijohn, template: t.Any, context: dict[str, t.Any]) -> None:
        contexts.append(context)

    @app.route("/")
    def index() -> str:
        return render_template_string("{% include 'inc' ignore missing %}")

    with template_rendered.connected_to(receiver, app):
        response = make_client(app).get("/")
    assert "session" not in contexts[0]
    assert "Vary" not in response.headers


def test_no_request_objects_in_context_outside_request(app: Demijohn) -> None:
    contexts: list[dict[str, t.Any]] = []

    def receiver(sender: Demijohn, template: t.Any, context: dict[str, t.Any]) -> None:
        contexts.append(context)

    with app.app_context(), template_rendered.connected_to(receiver, app):
        render_template_string("x")
    assert "g" in contexts[0]
    assert "request" not in contexts[0]
    assert "session" not in contexts[0]


def test_default_context_in_app_context_only(app: Demijohn) -> None:
    app.config["SERVER_NAME"] = "example.com"
    app.add_url_rule("/page", "page", lambda: "")
    with app.app_context():
        g.x = 1
        rv = render_template_string(
            "{{ config.SERVER_NAME }} {{ g.x }} {{ url_for('page') }}"
            " {{ request is defined and not request }}"
        )
    assert rv == "example.com 1 http://example.com/page True"


def test_flashed_messages_in_template(app: Demijohn, make_client: MakeClient) -> None:
    @app.route("/flash")
    def do_flash() -> str:
        flash("saved", "info")
        return ""

    @app.route("/show")
    def show() -> str:
        return render_template_string(
            "{% for c, m in get_flashed_messages(with_categories=true) %}"
            "{{ c }}:{{ m }}{% endfor %}"
        )

    client = make_client(app)
    client.get("/flash")
    assert client.get("/show").text == "info:saved"
    assert client.get("/show").text == ""


def test_rendering_without_touching_session_adds_no_vary(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/")
    def index() -> str:
        return render_template_string("{{ request.path }} {{ g }}")

    response = make_client(app).get("/")
    assert response.status_code == 200
    assert "Cookie" not in response.vary
    assert "Set-Cookie" not in response.headers


def test_reading_session_in_template_adds_vary(
    app: Demijohn, make_client: MakeClient
) -> None:
    @app.route("/")
    def index() -> str:
        return render_template_string("{{ session.get('x') }}")

    response = make_client(app).get("/")
    assert response.text == "None"
    assert "Cookie" in response.vary


# -- context processors --------------------------------------------------------


def test_context_processor_adds_values(app: Demijohn, make_client: MakeClient) -> None:
    @app.context_processor
    def inject_user() -> dict[str, t.Any]:
        return {"user": "ann", "path": request.path}

    @app.route("/p")
    def index() -> str:
        return render_template_string("{{ user }} {{ path }}")

    assert make_client(app).get("/p").text == "ann /p"


def test_render_values_win_over_context_processors(app: Demijohn) -> None:
    app.context_processor(lambda: {"value": "processor", "other": "kept"})
    with app.app_context():
        rv = render_template_string("{{ value }} {{ other }}", value="given")
    assert rv == "given kept"


def test_later_context_processors_win(app: Demijohn) -> None:
    app.context_processor(lambda: {"value": "first"})
    app.context_processor(lambda: {"value": "second"})
    with app.app_context():
        assert render_template_string("{{ value }}") == "second"


def test_context_processor_value_wins_over_global(app: Demijohn) -> None:
    app.add_template_global(lambda: "global", "value")
    app.context_processor(lambda: {"value": "processor"})
    with app.app_context():
        assert render_template_string("{{ value }}") == "processor"


def test_async_context_processor(app: Demijohn) -> None:
    @app.context_processor
    async def inject() -> dict[str, t.Any]:
        return {"value": "async"}

    with app.app_context():
        assert render_template_string("{{ value }}") == "async"


def test_update_template_context_in_place(app: Demijohn) -> None:
    app.context_processor(lambda: {"a": 1, "b": 2})
    context: dict[str, t.Any] = {"b": 3}
    with app.test_request_context():
        app.update_template_context(context)
        assert context["request"] is request._get_current_object()  # type: ignore[attr-defined]
    assert context["a"] == 1
    assert context["b"] == 3


def test_render_values_win_over_the_builtin_processor(app: Demijohn) -> None:
    # With only the built-in processor registered, a g or request passed
    # to the render call still wins, and the other one is still added.
    with app.test_request_context("/real"):
        rv = render_template_string(
            "{{ request }}|{{ g.__class__.__name__ }}", request="given"
        )
        assert rv == "given|_AppCtxGlobals"
        rv = render_template_string("{{ g }}|{{ request.path }}", g="given")
        assert rv == "given|/real"


def test_builtin_processor_runs_through_an_overridden_ensure_sync() -> None:
    wrapped: list[str] = []

    class Tracing(Demijohn):
        def ensure_sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
            wrapped.append(getattr(func, "__name__", "?"))
            return super().ensure_sync(func)

    app = Tracing(__name__)
    with app.test_request_context("/"):
        assert render_template_string("{{ request.path }}") == "/"
    assert "_default_template_ctx_processor" in wrapped


def test_context_processor_error_propagates(app: Demijohn) -> None:
    @app.context_processor
    def broken() -> dict[str, t.Any]:
        raise LookupError("processor failed")

    with app.app_context(), pytest.raises(LookupError, match="processor failed"):
        render_template_string("x")


# -- filters, tests and globals ------------------------------------------------


def test_template_filter_decorator_without_name(app: Demijohn) -> None:
    @app.template_filter()
    def backwards(s: str) -> str:
        return s[::-1]

    assert app.jinja_env.filters["backwards"] is backwards
    with app.app_context():
        assert render_template_string("{{ 'abc'|backwards }}") == "cba"


def test_template_filter_decorator_with_name(app: Demijohn) -> None:
    @app.template_filter("rev")
    def backwards(s: str) -> str:
        return s[::-1]

    assert "backwards" not in app.jinja_env.filters
    assert app.jinja_env.filters["rev"] is backwards
    with app.app_context():
        assert render_template_string("{{ 'abc'|rev }}") == "cba"


def test_add_template_filter(app: Demijohn) -> None:
    def double(n: int) -> int:
        return n * 2

    app.add_template_filter(double)
    app.add_template_filter(double, "twice")
    with app.app_context():
        assert render_template_string("{{ 2|double }} {{ 3|twice }}") == "4 6"


def test_template_test_decorator_and_add(app: Demijohn) -> None:
    @app.template_test()
    def boolean(value: object) -> bool:
        return isinstance(value, bool)

    @app.template_test("even_number")
    def is_even(n: int) -> bool:
        return n % 2 == 0

    app.add_template_test(lambda v: v is None, "nothing")
    app.add_template_test(is_even)
    with app.app_context():
        rv = render_template_string(
            "{{ true is boolean }} {{ 1 is boolean }} {{ 4 is even_number }}"
            " {{ none is nothing }} {{ 3 is is_even }}"
        )
    assert rv == "True False True True False"


def test_template_global_decorator_and_add(app: Demijohn) -> None:
    @app.template_global()
    def answer() -> int:
        return 42

    @app.template_global("greet")
    def say_hello(name: str) -> str:
        return f"hello {name}"

    def triple(n: int) -> int:
        return n * 3

    app.add_template_global(triple)
    app.add_template_global(triple, "thrice")
    assert app.jinja_env.globals["answer"] is answer
    with app.app_context():
        rv = render_template_string(
            "{{ answer() }} {{ greet('x') }} {{ triple(2) }} {{ thrice(3) }}"
        )
    assert rv == "42 hello x 6 9"


def test_template_filter_after_first_request_is_refused(
    app: Demijohn, make_client: MakeClient
) -> None:
    app.add_url_rule("/", "index", lambda: "ok")
    make_client(app).get("/")
    with pytest.raises(AssertionError, match="add_template_filter"):
        app.add_template_filter(str.upper, "upper2")
    with pytest.raises(AssertionError, match="template_global"):
        app.template_global()(str.upper)


# -- reloading -------------------------------------------------------------


def test_auto_reload_defaults_to_debug() -> None:
    application = Demijohn("reload", root_path="/nonexistent-root")
    assert application.config["TEMPLATES_AUTO_RELOAD"] is None
    assert application.jinja_env.auto_reload is False
    application.debug = True
    assert application.jinja_env.auto_reload is True
    application.debug = False
    assert application.jinja_env.auto_reload is False


def test_auto_reload_debug_before_env_created() -> None:
    application = Demijohn("reload2", root_path="/nonexistent-root")
    application.config["DEBUG"] = True
    assert application.jinja_env.auto_reload is True


@pytest.mark.parametrize("value", [True, False])
def test_templates_auto_reload_config_wins_over_debug(value: bool) -> None:
    application = Demijohn("reload3", root_path="/nonexistent-root")
    application.config["TEMPLATES_AUTO_RELOAD"] = value
    application.config["DEBUG"] = not value
    assert application.jinja_env.auto_reload is value
    application.debug = value
    assert application.jinja_env.auto_reload is value


def test_auto_reload_rereads_changed_template(tapp: Demijohn, templates: Path) -> None:
    tapp.config["TEMPLATES_AUTO_RELOAD"] = True
    path = templates / "r.txt"
    path.write_text("one")
    with tapp.app_context():
        assert render_template("r.txt") == "one"
        path.write_text("two")
        import os

        stat = path.stat()
        os.utime(path, (stat.st_atime + 5, stat.st_mtime + 5))
        assert render_template("r.txt") == "two"


# -- tojson --------------------------------------------------------------------


def test_tojson_is_safe_inside_script(app: Demijohn) -> None:
    value = "</script><b>&'\""
    with app.app_context():
        rv = render_template_string(
            "<script>var x = {{ value|tojson }};</script>", value=value
        )
    inner = rv[len("<script>var x = ") : -len(";</script>")]
    assert "</script>" not in inner
    for char in "<>&'":
        assert char not in inner
    assert inner == ('"\\u003c/script\\u003e\\u003cb\\u003e\\u0026\\u0027\\""')
    import json

    assert json.loads(inner) == value


def test_tojson_uses_app_json_provider(app: Demijohn) -> None:
    class Provider(DefaultJSONProvider):
        sort_keys = False

        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            if isinstance(obj, set):
                obj = sorted(obj)
            return super().dumps(obj, **kwargs)

    class App(Demijohn):
        json_provider_class = Provider

    application = App("tojson", root_path="/nonexistent-root")
    with application.app_context():
        rv = render_template_string("{{ value|tojson }}", value={3, 1, 2})
    assert rv == "[1, 2, 3]"


def test_tojson_serializes_default_provider_types(app: Demijohn) -> None:
    import uuid

    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    with app.app_context():
        rv = render_template_string("{{ v|tojson }}", v={"b": value, "a": 1})
    assert rv == '{"a": 1, "b": "12345678-1234-5678-1234-567812345678"}'


def test_tojson_unserializable_raises_type_error(app: Demijohn) -> None:
    with app.app_context(), pytest.raises(TypeError, match="object"):
        render_template_string("{{ v|tojson }}", v=object())


# -- EXPLAIN_TEMPLATE_LOADING ------------------------------------------------


def test_explain_template_loading_logs_found(
    tapp: Demijohn, templates: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(templates, "found.html", "x")
    tapp.config["EXPLAIN_TEMPLATE_LOADING"] = True
    with caplog.at_level(logging.INFO, logger=tapp.name), tapp.app_context():
        assert render_template("found.html") == "x"
    (record,) = [r for r in caplog.records if r.name == tapp.name]
    message = record.getMessage()
    assert "'found.html'" in message
    assert "templating_app" in message
    assert "FileSystemLoader" in message
    assert str(templates / "found.html") in message


def test_explain_template_loading_logs_not_found(
    tapp: Demijohn, templates: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tapp.config["EXPLAIN_TEMPLATE_LOADING"] = True
    with (
        caplog.at_level(logging.INFO, logger=tapp.name),
        tapp.app_context(),
        pytest.raises(jinja2.TemplateNotFound),
    ):
        render_template("missing.html")
    (record,) = [r for r in caplog.records if r.name == tapp.name]
    message = record.getMessage()
    assert "'missing.html'" in message
    assert str(templates) in message
    assert "no match" in message
    assert "Error: the template could not be found." in message
    assert "blueprint" not in message


def test_explain_template_loading_names_blueprint_folders(
    tapp: Demijohn,
    templates: Path,
    tmp_path: Path,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from demijohn import Blueprint

    write(templates, "both.html", "from app")
    write(tmp_path / "bp_templates", "both.html", "from blueprint")
    tapp.config["EXPLAIN_TEMPLATE_LOADING"] = True
    bp = Blueprint(
        "admin", __name__, root_path=str(tmp_path), template_folder="bp_templates"
    )

    @bp.route("/<name>")
    def page(name: str) -> str:
        return render_template(name)

    tapp.register_blueprint(bp)
    client = make_client(tapp)
    with caplog.at_level(logging.INFO, logger=tapp.name):
        assert client.get("/both.html").text == "from app"
        with pytest.raises(jinja2.TemplateNotFound):
            client.get("/missing.html")
    found, missing = [
        r.getMessage()
        for r in caplog.records
        if r.name == tapp.name and "Locating" in r.getMessage()
    ]
    assert "application 'templating_app'" in found
    assert "blueprint 'admin'" in found
    assert str(tmp_path / "bp_templates") in found
    assert "Warning: multiple loaders" in found
    assert "Error: the template could not be found." in missing
    assert "blueprint 'admin'" in missing.splitlines()[-1]
    # Flask's phrase, which tests written for Flask look for.
    assert "looked up from an endpoint that belongs to the blueprint 'admin'" in missing
    assert "See https://flask.palletsprojects.com/blueprints/#templates" in missing


def test_explain_template_loading_off_logs_nothing(
    tapp: Demijohn, templates: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(templates, "found.html", "x")
    with caplog.at_level(logging.DEBUG), tapp.app_context():
        render_template("found.html")
        with pytest.raises(jinja2.TemplateNotFound):
            render_template("missing.html")
    assert not [r for r in caplog.records if r.name == tapp.name]


# -- signals ---------------------------------------------------------------


def test_render_signals_get_template_and_context(
    tapp: Demijohn, templates: Path, make_client: MakeClient
) -> None:
    write(templates, "sig.html", "{{ who }}")
    calls: list[tuple[str, t.Any, t.Any, dict[str, t.Any]]] = []

    def before(sender: Demijohn, template: t.Any, context: dict[str, t.Any]) -> None:
        calls.append(("before", sender, template, dict(context)))
        context["who"] = "changed"

    def after(sender: Demijohn, template: t.Any, context: dict[str, t.Any]) -> None:
        calls.append(("after", sender, template, dict(context)))

    @tapp.route("/")
    def index() -> str:
        return render_template("sig.html", who="me")

    with (
        before_render_template.connected_to(before, tapp),
        template_rendered.connected_to(after, tapp),
    ):
        rv = make_client(tapp).get("/").text

    assert rv == "changed"
    assert [c[0] for c in calls] == ["before", "after"]
    for _, sender, template, context in calls:
        assert sender is tapp
        assert template.name == "sig.html"
        assert "request" in context and "g" in context
    assert calls[0][3]["who"] == "me"
    assert calls[1][3]["who"] == "changed"


def test_stream_signals_order(app: Demijohn, make_client: MakeClient) -> None:
    events: list[str] = []

    @app.route("/")
    def index() -> t.Any:
        return stream_template_string(
            "{{ step() }}", step=lambda: events.append("render") or "x"
        )

    with (
        before_render_template.connected_to(
            lambda s, **kw: events.append("before"), app
        ),
        template_rendered.connected_to(lambda s, **kw: events.append("after"), app),
    ):
        assert make_client(app).get("/").text == "x"
    assert events == ["before", "render", "after"]


def test_render_signals_not_sent_for_other_app(app: Demijohn) -> None:
    other = Demijohn("other", root_path="/nonexistent-root")
    calls: list[t.Any] = []
    with (
        template_rendered.connected_to(lambda s, **kw: calls.append(s), other),
        before_render_template.connected_to(lambda s, **kw: calls.append(s), other),
        app.app_context(),
    ):
        render_template_string("x")
    assert calls == []


def test_get_flashed_messages_global_is_the_helper(app: Demijohn) -> None:
    assert app.jinja_env.globals["get_flashed_messages"] is get_flashed_messages


def test_templates_see_globals_as_jinja_resolves_them(tapp: Demijohn) -> None:
    # The render context merges the template's own globals over the
    # environment's, and sees environment globals added after the template
    # was loaded, as Jinja's own Template does.
    env = tapp.jinja_env
    env.globals["who"] = "environment"
    env.globals["late"] = "missing"
    template = env.from_string(
        "{{ who }} {{ mine }} {{ late }} {{ range(2)|list }}", globals={"mine": "own"}
    )
    shadowing = env.from_string("{{ who }}", globals={"who": "template"})
    env.globals["late"] = "added later"
    with tapp.test_request_context():
        assert template.render() == "environment own added later [0, 1]"
        assert shadowing.render() == "template"
        assert template.render(who="argument") == "argument own added later [0, 1]"
    # The same through a plain Jinja environment and template class.
    plain_env = jinja2.Environment()
    plain_env.globals.update(who="environment", late="added later")
    plain = plain_env.from_string(
        "{{ who }} {{ mine }} {{ late }} {{ range(2)|list }}", globals={"mine": "own"}
    )
    with tapp.test_request_context():
        assert template.render() == plain.render()
