"""Environment variables under both names: ``DEMIJOHN_<NAME>`` first, then
Flask's ``FLASK_<NAME>``, for the helpers and the application that read
them (the command line's options are tested in test_cli.py,
``from_prefixed_env`` in test_config.py)."""

from __future__ import annotations

import os
import typing as t

import pytest
import werkzeug.serving

from demijohn import Demijohn
from demijohn.environment import adopt_flask_variables, getenv
from demijohn.helpers import get_debug_flag, get_load_dotenv


@pytest.fixture(autouse=True)
def _no_framework_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DEMIJOHN_", "FLASK_")):
            monkeypatch.delenv(name)


def test_getenv_prefers_the_demijohn_spelling(monkeypatch: pytest.MonkeyPatch) -> None:
    assert getenv("ANSWER") is None
    monkeypatch.setenv("FLASK_ANSWER", "flask")
    assert getenv("ANSWER") == "flask"
    monkeypatch.setenv("DEMIJOHN_ANSWER", "demijohn")
    assert getenv("ANSWER") == "demijohn"
    # Set but empty still counts as set: it is not replaced by Flask's.
    monkeypatch.setenv("DEMIJOHN_ANSWER", "")
    assert getenv("ANSWER") == ""


def test_adopt_flask_variables_fills_only_unset_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLASK_APP", "hello")
    monkeypatch.setenv("FLASK_RUN_PORT", "8000")
    monkeypatch.setenv("DEMIJOHN_RUN_PORT", "9000")
    monkeypatch.setenv("NOT_FLASK_X", "1")
    adopt_flask_variables()
    assert os.environ["DEMIJOHN_APP"] == "hello"
    assert os.environ["DEMIJOHN_RUN_PORT"] == "9000"
    assert "DEMIJOHN_X" not in os.environ


@pytest.mark.parametrize(
    ("flask", "demijohn", "expected"),
    [
        ("1", None, True),
        ("0", None, False),
        ("false", None, False),
        ("1", "0", False),
        ("0", "1", True),
        (None, None, False),
    ],
)
def test_debug_flag_reads_flask_debug_when_demijohn_debug_is_unset(
    monkeypatch: pytest.MonkeyPatch,
    flask: str | None,
    demijohn: str | None,
    expected: bool,
) -> None:
    if flask is not None:
        monkeypatch.setenv("FLASK_DEBUG", flask)
    if demijohn is not None:
        monkeypatch.setenv("DEMIJOHN_DEBUG", demijohn)
    assert get_debug_flag() is expected
    assert Demijohn("sample").debug is expected


def test_load_dotenv_flag_reads_flask_skip_dotenv(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert get_load_dotenv() is True
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")
    assert get_load_dotenv() is False
    monkeypatch.setenv("DEMIJOHN_SKIP_DOTENV", "0")
    assert get_load_dotenv() is True


@pytest.mark.parametrize("name", ["DEMIJOHN_RUN_FROM_CLI", "FLASK_RUN_FROM_CLI"])
def test_app_run_does_nothing_under_either_command(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    calls: list[dict[str, t.Any]] = []
    monkeypatch.setattr(
        werkzeug.serving, "run_simple", lambda *a, **kw: calls.append(kw)
    )
    monkeypatch.setenv(name, "true")
    Demijohn("sample").run(load_dotenv=False)
    assert calls == []
    monkeypatch.delenv(name)
    Demijohn("sample").run(load_dotenv=False)
    assert len(calls) == 1
