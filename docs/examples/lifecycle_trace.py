"""Watch the request lifecycle: a subclass that records each overridable
step as it runs. Run ``python lifecycle_trace.py`` to print the steps of one
request under WSGI and under ASGI."""

from __future__ import annotations

import typing as t

from demijohn import Demijohn
from demijohn.testing import ASGIClient


def traced(name: str) -> t.Callable[..., t.Any]:
    def step(self: TracingApp, *args: t.Any, **kwargs: t.Any) -> t.Any:
        self.trace.append(name)
        return getattr(super(TracingApp, self), name)(*args, **kwargs)

    step.__name__ = name
    return step


class TracingApp(Demijohn):
    trace: list[str]

    # Overriding a step is all it takes for both protocols to call it.
    full_dispatch_request = traced("full_dispatch_request")
    preprocess_request = traced("preprocess_request")
    dispatch_request = traced("dispatch_request")
    finalize_request = traced("finalize_request")
    make_response = traced("make_response")
    process_response = traced("process_response")
    handle_user_exception = traced("handle_user_exception")
    handle_exception = traced("handle_exception")
    do_teardown_request = traced("do_teardown_request")
    do_teardown_appcontext = traced("do_teardown_appcontext")


def make_app() -> TracingApp:
    app = TracingApp(__name__)
    app.trace = []

    @app.get("/")
    def index() -> str:
        return "hello"

    return app


if __name__ == "__main__":
    for name, make_client in [
        ("WSGI", lambda app: app.test_client()),
        ("ASGI", lambda app: ASGIClient(app, app.response_class)),
    ]:
        app = make_app()
        make_client(app).get("/")
        print(f"{name}: {' -> '.join(app.trace)}")
