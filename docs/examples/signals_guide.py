"""Signals: observe what the application does without changing it."""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import typing as t

from blinker import Namespace
from jinja2 import Template

from demijohn import (
    Demijohn,
    Response,
    render_template_string,
    request_finished,
    template_rendered,
)

app = Demijohn(__name__)

# Count responses by status code: a receiver of request_finished gets the
# sender (the application) and the response.
status_counts: dict[int, int] = {}


def count_status(sender: Demijohn, response: Response, **extra: t.Any) -> None:
    status_counts[response.status_code] = status_counts.get(response.status_code, 0) + 1


# Passing the application as sender: only its own requests are counted.
request_finished.connect(count_status, app)


# Your own signals, for other code to subscribe to.
my_signals = Namespace()
order_placed = my_signals.signal("order-placed")


@app.post("/orders")
def place_order() -> tuple[str, int]:
    order_placed.send(app, order_id=42)
    return "ok", 201


@app.get("/hello")
def hello() -> str:
    return render_template_string("Hello {{ name }}", name="signals")


@contextlib.contextmanager
def captured_templates(
    app: Demijohn,
) -> cabc.Iterator[list[tuple[Template, dict[str, t.Any]]]]:
    """Record every template the application renders, with its context: a
    helper for tests."""
    recorded: list[tuple[Template, dict[str, t.Any]]] = []

    def record(
        sender: Demijohn, template: Template, context: dict[str, t.Any], **extra: t.Any
    ) -> None:
        recorded.append((template, context))

    with template_rendered.connected_to(record, app):
        yield recorded
