"""The application logger, its default handler and wsgi_errors_stream."""

from __future__ import annotations

import io
import itertools
import logging
import sys
import typing as t

import pytest

from demijohn import Demijohn, request
from demijohn.logging import (
    create_logger,
    default_handler,
    has_level_handler,
    wsgi_errors_stream,
)
from demijohn.testing import DemijohnClient

MakeClient = t.Callable[..., DemijohnClient]

_names = itertools.count()


@pytest.fixture
def name() -> t.Iterator[str]:
    """A fresh logger name, reset afterwards: loggers are process-global."""
    logger_name = f"demijohn_log_test_{next(_names)}"
    yield logger_name
    logger = logging.getLogger(logger_name)
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def isolate(name: str) -> logging.Logger:
    """A logger with no handler reachable, as in an unconfigured process.

    pytest attaches capture handlers to the root logger, so propagation is
    turned off to get the situation of a program that configured nothing.
    Call it inside the test: pytest also attaches its handlers to loggers
    that do not propagate when a test phase starts.
    """
    logger = logging.getLogger(name)
    logger.propagate = False
    return logger


def make_app(name: str, **config: t.Any) -> Demijohn:
    application = Demijohn(name, root_path="/nonexistent-root")
    application.config.update({"TESTING": True, "SECRET_KEY": "k", **config})
    return application


# -- the logger ------------------------------------------------------------


def test_logger_is_named_after_app(name: str) -> None:
    application = make_app(name)
    assert application.logger.name == name == application.name
    assert application.logger is logging.getLogger(name)
    assert application.logger is application.logger


def test_logger_name_for_main_module_app(monkeypatch: pytest.MonkeyPatch) -> None:
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "__file__", "/srv/project/wsgi_entry.py", raising=False)
    application = Demijohn("__main__", root_path="/nonexistent-root")
    assert application.name == "wsgi_entry"
    assert application.logger.name == "wsgi_entry"
    logging.getLogger("wsgi_entry").handlers.clear()


def test_debug_app_logger_level_is_debug(name: str) -> None:
    application = make_app(name, DEBUG=True)
    assert application.logger.level == logging.DEBUG
    assert application.logger.isEnabledFor(logging.DEBUG)


def test_non_debug_app_logger_level_is_unset(name: str) -> None:
    application = make_app(name)
    assert application.logger.level == logging.NOTSET


def test_debug_does_not_override_configured_level(name: str) -> None:
    logging.getLogger(name).setLevel(logging.WARNING)
    application = make_app(name, DEBUG=True)
    assert application.logger.level == logging.WARNING


def test_default_handler_added_without_handlers(name: str) -> None:
    isolate(name)
    application = make_app(name)
    assert application.logger.handlers == [default_handler]


def test_default_handler_not_added_when_handler_configured(name: str) -> None:
    isolated = isolate(name)
    handler = logging.StreamHandler(io.StringIO())
    isolated.addHandler(handler)
    application = make_app(name)
    assert application.logger.handlers == [handler]


def test_default_handler_not_added_when_root_handles(name: str) -> None:
    # pytest's capture handlers on the root logger count as configuration.
    assert has_level_handler(logging.getLogger(name))
    application = make_app(name)
    assert default_handler not in application.logger.handlers


def test_default_handler_added_when_handler_level_too_high(name: str) -> None:
    isolated = isolate(name)
    quiet = logging.StreamHandler(io.StringIO())
    quiet.setLevel(logging.CRITICAL)
    isolated.addHandler(quiet)
    isolated.setLevel(logging.INFO)
    application = make_app(name)
    assert application.logger.handlers == [quiet, default_handler]


def test_default_handler_can_be_removed(name: str) -> None:
    isolate(name)
    application = make_app(name)
    application.logger.removeHandler(default_handler)
    assert application.logger.handlers == []


def test_default_handler_format(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    isolate(name)
    application = make_app(name)
    application.logger.warning("careful %s", "now")
    err = capsys.readouterr().err
    assert err.startswith("[")
    assert err.endswith("] WARNING in test_logging: careful now\n")


def test_create_logger_directly(name: str) -> None:
    isolated = isolate(name)
    application = make_app(name, DEBUG=True)
    logger = create_logger(application)
    assert logger is isolated
    assert logger.level == logging.DEBUG
    assert logger.handlers == [default_handler]


# -- has_level_handler -------------------------------------------------------


def test_has_level_handler(name: str) -> None:
    isolated = isolate(name)
    assert not has_level_handler(isolated)
    handler = logging.StreamHandler(io.StringIO())
    handler.setLevel(logging.ERROR)
    isolated.addHandler(handler)
    isolated.setLevel(logging.INFO)
    assert not has_level_handler(isolated)
    isolated.setLevel(logging.ERROR)
    assert has_level_handler(isolated)


def test_has_level_handler_follows_propagation(name: str) -> None:
    isolated = isolate(name)
    child = logging.getLogger(f"{name}.child")
    try:
        assert not has_level_handler(child)
        isolated.addHandler(logging.StreamHandler(io.StringIO()))
        assert has_level_handler(child)
        child.propagate = False
        assert not has_level_handler(child)
    finally:
        child.propagate = True


# -- wsgi_errors_stream ------------------------------------------------------


def test_wsgi_errors_stream_outside_request_is_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    wsgi_errors_stream.write("to stderr\n")
    wsgi_errors_stream.flush()
    assert capsys.readouterr().err == "to stderr\n"


def test_wsgi_errors_stream_in_request_context(
    app: Demijohn, capsys: pytest.CaptureFixture[str]
) -> None:
    errors = io.StringIO()
    with app.test_request_context(errors_stream=errors):
        wsgi_errors_stream.write("to request\n")
    assert errors.getvalue() == "to request\n"
    assert capsys.readouterr().err == ""


def test_default_handler_writes_to_request_errors_stream(
    name: str,
    make_client: MakeClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    isolate(name)
    application = make_app(name)
    errors = io.StringIO()

    @application.before_request
    def capture_errors() -> None:
        request.environ["wsgi.errors"] = errors

    @application.route("/")
    def index() -> str:
        application.logger.error("logged in request")
        return "ok"

    assert make_client(application).get("/").text == "ok"
    assert "ERROR in test_logging: logged in request" in errors.getvalue()
    assert capsys.readouterr().err == ""


def test_the_test_clients_errors_stream_receives_the_log(
    name: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # errors_stream= sets the request's wsgi.errors, under ASGI too.
    isolate(name)
    application = make_app(name)
    application.testing = False

    @application.route("/")
    def index() -> str:
        raise LookupError("lost")

    errors = io.StringIO()
    reply = make_client(application).get("/", errors_stream=errors)
    assert reply.status_code == 500
    assert "Exception on / [GET]" in errors.getvalue()
    assert "LookupError: lost" in errors.getvalue()
    assert capsys.readouterr().err == ""


# -- unhandled exceptions ----------------------------------------------------


def test_unhandled_exception_is_logged(
    app: Demijohn, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.testing = False

    @app.route("/fail/<int:n>", methods=["GET", "POST"])
    def fail(n: int) -> str:
        raise ZeroDivisionError("divided")

    client = make_client(app)
    with caplog.at_level(logging.ERROR, logger=app.name):
        assert client.get("/fail/1").status_code == 500
        assert client.post("/fail/2?q=1").status_code == 500
    records = [r for r in caplog.records if r.name == app.name]
    assert [r.getMessage() for r in records] == [
        "Exception on /fail/1 [GET]",
        "Exception on /fail/2 [POST]",
    ]
    for record in records:
        assert record.levelno == logging.ERROR
        assert record.exc_info is not None
        assert record.exc_info[0] is ZeroDivisionError


def test_propagated_exception_is_not_logged(
    app: Demijohn, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError

    with (
        caplog.at_level(logging.ERROR, logger=app.name),
        pytest.raises(ZeroDivisionError),
    ):
        make_client(app).get("/")
    assert [r for r in caplog.records if r.name == app.name] == []


def test_handled_exception_is_not_logged(
    app: Demijohn, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.testing = False
    app.register_error_handler(ZeroDivisionError, lambda e: ("handled", 500))

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError

    with caplog.at_level(logging.ERROR, logger=app.name):
        assert make_client(app).get("/").text == "handled"
    assert [r for r in caplog.records if r.name == app.name] == []


def test_log_exception_can_be_overridden(make_client: MakeClient) -> None:
    seen: list[t.Any] = []

    class App(Demijohn):
        def log_exception(self, exc_info: t.Any) -> None:
            seen.append((request.path, exc_info[0]))

    application = App("log_override", root_path="/nonexistent-root")

    @application.route("/x")
    def index() -> str:
        raise KeyError

    assert make_client(application).get("/x").status_code == 500
    assert seen == [("/x", KeyError)]


def test_exception_log_reaches_request_errors_stream(
    name: str, make_client: MakeClient
) -> None:
    isolate(name)
    application = make_app(name, TESTING=False)
    errors = io.StringIO()

    @application.before_request
    def capture_errors() -> None:
        request.environ["wsgi.errors"] = errors

    @application.route("/boom")
    def boom() -> str:
        raise ValueError("bad value")

    assert make_client(application).get("/boom").status_code == 500
    output = errors.getvalue()
    assert "] ERROR in " in output
    assert ": Exception on /boom [GET]\nTraceback" in output
    assert "Traceback" in output
    assert "ValueError: bad value" in output
