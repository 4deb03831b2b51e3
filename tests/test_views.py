"""Class-based views: View.as_view, its attributes and decorators,
instance reuse, and MethodView's method dispatch and method inference."""

from __future__ import annotations

import asyncio
import functools
import typing as t

import pytest

from demijohn import Blueprint, Demijohn, g, request, url_for
from demijohn.testing import DemijohnClient
from demijohn.views import MethodView, View, http_method_funcs

# -- View ---------------------------------------------------------------------


class Greeting(View):
    """Greets someone."""

    def __init__(self, greeting: str, punctuation: str = "!") -> None:
        self.greeting = greeting
        self.punctuation = punctuation

    def dispatch_request(self, name: str) -> str:  # type: ignore[override]
        return f"{self.greeting}, {name}{self.punctuation}"


def test_as_view_passes_url_values_and_class_arguments(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.add_url_rule(
        "/hello/<name>", view_func=Greeting.as_view("hello", "Hello", punctuation="?")
    )
    assert client.get("/hello/Ann").data == b"Hello, Ann?"
    with app.test_request_context():
        assert url_for("hello", name="Bo") == "/hello/Bo"


def test_as_view_sets_the_function_attributes() -> None:
    view = Greeting.as_view("greet", "Hi")
    attrs = t.cast(t.Any, view)
    assert attrs.view_class is Greeting
    assert view.__name__ == "greet"
    assert view.__doc__ == "Greets someone."
    assert view.__module__ == __name__
    assert attrs.methods is None
    assert attrs.provide_automatic_options is None


def test_view_without_dispatch_request_raises() -> None:
    with pytest.raises(NotImplementedError):
        View().dispatch_request()


def test_default_methods_are_get_head_options(
    app: Demijohn, client: DemijohnClient
) -> None:
    class Index(View):
        def dispatch_request(self) -> str:
            return request.method

    app.add_url_rule("/", view_func=Index.as_view("index"))
    assert client.get("/").data == b"GET"
    assert client.head("/").status_code == 200
    assert client.post("/").status_code == 405
    assert sorted(client.options("/").allow) == ["GET", "HEAD", "OPTIONS"]


def test_methods_attribute_sets_the_rules_methods(
    app: Demijohn, client: DemijohnClient
) -> None:
    class Submit(View):
        methods = ["POST", "PUT"]

        def dispatch_request(self) -> str:
            return request.method

    app.add_url_rule("/", view_func=Submit.as_view("submit"))
    assert client.post("/").data == b"POST"
    assert client.put("/").data == b"PUT"
    rv = client.get("/")
    assert rv.status_code == 405
    assert sorted(rv.allow) == ["OPTIONS", "POST", "PUT"]


def test_provide_automatic_options_false(app: Demijohn, client: DemijohnClient) -> None:
    class NoOptions(View):
        provide_automatic_options = False

        def dispatch_request(self) -> str:
            return "ok"

    app.add_url_rule("/", view_func=NoOptions.as_view("index"))
    assert client.get("/").data == b"ok"
    assert client.options("/").status_code == 405


def test_handles_options_itself(app: Demijohn, client: DemijohnClient) -> None:
    class Options(View):
        methods = ["GET", "OPTIONS"]

        def dispatch_request(self) -> str:
            return f"own {request.method}"

    app.add_url_rule("/", view_func=Options.as_view("index"))
    assert client.options("/").data == b"own OPTIONS"


def test_new_instance_for_every_request(app: Demijohn, client: DemijohnClient) -> None:
    created: list[View] = []

    class Counting(View):
        def __init__(self) -> None:
            created.append(self)

        def dispatch_request(self) -> str:
            return str(id(self))

    app.add_url_rule("/", view_func=Counting.as_view("index"))
    assert created == []
    first = client.get("/").data
    second = client.get("/").data
    assert len(created) == 2
    assert first != second


def test_one_instance_when_init_every_request_is_false(
    app: Demijohn, client: DemijohnClient
) -> None:
    created: list[View] = []

    class Shared(View):
        init_every_request = False

        def __init__(self, prefix: str) -> None:
            created.append(self)
            self.prefix = prefix
            self.count = 0

        def dispatch_request(self) -> str:
            self.count += 1
            return f"{self.prefix}{self.count}"

    app.add_url_rule("/", view_func=Shared.as_view("index", "n"))
    assert len(created) == 1
    assert client.get("/").data == b"n1"
    assert client.get("/").data == b"n2"
    assert len(created) == 1


def test_view_class_can_be_replaced_on_the_function(
    app: Demijohn, client: DemijohnClient
) -> None:
    class Real(View):
        def dispatch_request(self) -> str:
            return "real"

    class Fake(View):
        def dispatch_request(self) -> str:
            return "fake"

    view = Real.as_view("index")
    app.add_url_rule("/", view_func=view)
    t.cast(t.Any, view).view_class = Fake
    assert client.get("/").data == b"fake"


def tag(label: str) -> t.Callable[[t.Callable[..., str]], t.Callable[..., str]]:
    def decorator(f: t.Callable[..., str]) -> t.Callable[..., str]:
        @functools.wraps(f)
        def wrapper(**kwargs: t.Any) -> str:
            return f"{label}({f(**kwargs)})"

        return wrapper

    return decorator


def test_decorators_wrap_the_view_in_list_order(
    app: Demijohn, client: DemijohnClient
) -> None:
    seen_names: list[str] = []

    def record_name(f: t.Callable[..., str]) -> t.Callable[..., str]:
        seen_names.append(f.__name__)
        return f

    class Decorated(View):
        decorators = [record_name, tag("inner"), tag("outer")]

        def dispatch_request(self, item: str) -> str:  # type: ignore[override]
            return item

    view = Decorated.as_view("decorated")
    app.add_url_rule("/<item>", view_func=view)
    # The first decorator is applied first, so it ends up innermost.
    assert client.get("/x").data == b"outer(inner(x))"
    # Decorators see the endpoint name, not the inner function's name.
    assert seen_names == ["decorated"]
    assert view.__name__ == "decorated"
    assert t.cast(t.Any, view).view_class is Decorated


def test_decorator_can_refuse_the_request(
    app: Demijohn, client: DemijohnClient
) -> None:
    def require_token(f: t.Callable[..., str]) -> t.Callable[..., t.Any]:
        def wrapper(**kwargs: t.Any) -> t.Any:
            if request.headers.get("X-Token") != "secret":
                return "denied", 403
            return f(**kwargs)

        return wrapper

    class Private(View):
        decorators = [require_token]

        def dispatch_request(self) -> str:
            return "private"

    app.add_url_rule("/", view_func=Private.as_view("private"))
    assert client.get("/").status_code == 403
    assert client.get("/", headers={"X-Token": "secret"}).data == b"private"


def test_async_dispatch_request(app: Demijohn, client: DemijohnClient) -> None:
    class AsyncView(View):
        async def dispatch_request(self, n: int) -> str:  # type: ignore[override]
            await asyncio.sleep(0)
            g.seen = request.path
            return f"async {n} {g.seen}"

    app.add_url_rule("/<int:n>", view_func=AsyncView.as_view("index"))
    assert client.get("/3").data == b"async 3 /3"


def test_view_on_a_blueprint(app: Demijohn, client: DemijohnClient) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/<name>", view_func=Greeting.as_view("greet", "Hey"))
    app.register_blueprint(bp)
    assert client.get("/bp/Cy").data == b"Hey, Cy!"
    assert "bp.greet" in app.view_functions


def test_view_name_with_a_dot_is_refused_on_a_blueprint() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="'view_func' name may not contain a dot"):
        bp.add_url_rule("/", view_func=Greeting.as_view("a.b", "x"))


# -- MethodView -----------------------------------------------------------------


class Item(MethodView):
    def get(self, item_id: int) -> str:
        return f"get {item_id}"

    def post(self, item_id: int) -> str:
        return f"post {item_id}"


def test_http_method_funcs() -> None:
    assert http_method_funcs == {
        "get",
        "post",
        "head",
        "options",
        "delete",
        "put",
        "trace",
        "patch",
    }


def test_method_view_dispatches_by_method(
    app: Demijohn, client: DemijohnClient
) -> None:
    app.add_url_rule("/item/<int:item_id>", view_func=Item.as_view("item"))
    assert client.get("/item/1").data == b"get 1"
    assert client.post("/item/2").data == b"post 2"


def test_methods_are_inferred_from_the_class() -> None:
    assert Item.methods == {"GET", "POST"}
    assert MethodView.methods is None
    assert t.cast(t.Any, Item.as_view("item")).methods == {"GET", "POST"}


def test_unimplemented_method_is_a_405(app: Demijohn, client: DemijohnClient) -> None:
    app.add_url_rule("/item/<int:item_id>", view_func=Item.as_view("item"))
    rv = client.put("/item/1")
    assert rv.status_code == 405
    assert sorted(rv.allow) == ["GET", "HEAD", "OPTIONS", "POST"]
    assert client.delete("/item/1").status_code == 405


def test_methods_are_inherited_and_extended() -> None:
    class Mixin:
        def delete(self) -> str:
            return "deleted"

    class Base(MethodView):
        methods = ["PATCH"]

        def get(self) -> str:
            return "get"

        def patch(self) -> str:
            return "patch"

    class Child(Mixin, Base):
        def put(self) -> str:
            return "put"

    class GrandChild(Child):
        pass

    # A class that sets ``methods`` keeps exactly what it says.
    assert Base.methods == ["PATCH"]
    assert set(Child.methods or ()) == {"PATCH", "GET", "PUT", "DELETE"}
    assert set(GrandChild.methods or ()) == {"PATCH", "GET", "PUT", "DELETE"}
    assert isinstance(Child.methods, set)


def test_inherited_methods_are_served(app: Demijohn, client: DemijohnClient) -> None:
    class Base(MethodView):
        def get(self) -> str:
            return "base get"

    class Child(Base):
        def delete(self) -> str:
            return "child delete"

    app.add_url_rule("/", view_func=Child.as_view("index"))
    assert client.get("/").data == b"base get"
    assert client.delete("/").data == b"child delete"


def test_head_falls_back_to_get(app: Demijohn, client: DemijohnClient) -> None:
    calls: list[str] = []

    class Page(MethodView):
        def get(self) -> tuple[str, dict[str, str]]:
            calls.append(request.method)
            return "body", {"X-From": "get"}

    app.add_url_rule("/", view_func=Page.as_view("page"))
    rv = client.head("/")
    assert rv.status_code == 200
    assert rv.headers["X-From"] == "get"
    assert rv.data == b""
    assert calls == ["HEAD"]


def test_head_method_wins_over_get(app: Demijohn, client: DemijohnClient) -> None:
    class Page(MethodView):
        def get(self) -> str:
            return "get"

        def head(self) -> tuple[str, dict[str, str]]:
            return "", {"X-From": "head"}

    app.add_url_rule("/", view_func=Page.as_view("page"))
    assert client.head("/").headers["X-From"] == "head"


def test_missing_method_raises_assertion_error(app: Demijohn) -> None:
    with app.test_request_context(method="PUT"):
        view = Item()
        with pytest.raises(AssertionError, match="Unimplemented method 'PUT'"):
            view.dispatch_request(item_id=1)


def test_head_without_get_raises_assertion_error(app: Demijohn) -> None:
    class OnlyPost(MethodView):
        def post(self) -> str:
            return ""

    view = OnlyPost()
    with (
        app.test_request_context(method="HEAD"),
        pytest.raises(AssertionError, match="Unimplemented method 'HEAD'"),
    ):
        view.dispatch_request()


def test_async_methods(app: Demijohn, client: DemijohnClient) -> None:
    class AsyncItem(MethodView):
        async def get(self, item_id: int) -> str:
            await asyncio.sleep(0)
            return f"async get {item_id}"

        def post(self, item_id: int) -> str:
            return f"sync post {item_id}"

    app.add_url_rule("/<int:item_id>", view_func=AsyncItem.as_view("item"))
    assert AsyncItem.methods == {"GET", "POST"}
    assert client.get("/5").data == b"async get 5"
    assert client.post("/6").data == b"sync post 6"
    assert client.head("/7").status_code == 200


def test_method_view_with_decorators_and_class_arguments(
    app: Demijohn, client: DemijohnClient
) -> None:
    class Store(MethodView):
        decorators = [tag("wrapped")]
        init_every_request = False

        def __init__(self, items: dict[str, str]) -> None:
            self.items = items

        def get(self, key: str) -> str:
            return self.items[key]

        def put(self, key: str) -> str:
            self.items[key] = request.get_data(as_text=True)
            return "stored"

    app.add_url_rule("/<key>", view_func=Store.as_view("store", {"a": "1"}))
    assert client.put("/b", data="2").data == b"wrapped(stored)"
    assert client.get("/b").data == b"wrapped(2)"
    assert client.get("/a").data == b"wrapped(1)"


def test_method_view_routes_on_a_blueprint(
    app: Demijohn, client: DemijohnClient
) -> None:
    bp = Blueprint("api", __name__, url_prefix="/api")

    class Thing(MethodView):
        def get(self, thing_id: int) -> str:
            return url_for(".thing", thing_id=thing_id + 1)

    bp.add_url_rule("/things/<int:thing_id>", view_func=Thing.as_view("thing"))
    app.register_blueprint(bp)
    assert client.get("/api/things/1").data == b"/api/things/2"
