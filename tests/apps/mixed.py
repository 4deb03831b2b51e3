"""An application with mixed endpoints, driven under load in test_load_faults.py.

Every request carries its own id, sent as both the ``X-Request-Id`` header and
the ``rid`` query or form parameter. Each view echoes the id from every place
it can read it (the arguments, the header, ``g``, the session, a template), so
a response that carries another request's data shows up as a mismatch.

When ``DEMIJOHN_TEST_MARKER`` names a file, the serving hooks, the start of
slow requests and every request teardown append one line to it; ``O_APPEND``
writes of one short line are atomic, so several workers can share the file.
That makes startup, shutdown and teardown observable from the test process.
"""

from __future__ import annotations

import asyncio
import os
import time
import typing as t

from demijohn import (
    Demijohn,
    g,
    render_template_string,
    request,
    session,
    stream_with_context,
)

app = Demijohn(__name__)
app.config["SECRET_KEY"] = "mixed-app-secret"

TEMPLATE = "<p>{{ rid }}|{{ request.headers['X-Request-Id'] }}|{{ g.rid }}</p>"


def _mark(line: str) -> None:
    # Read the variable on every call, not at import: gunicorn may import the
    # app in the master before the environment is final, and the test process
    # imports this module only to decode session cookies.
    marker = os.environ.get("DEMIJOHN_TEST_MARKER")
    if marker:
        with open(marker, "a") as f:
            f.write(line + "\n")


def _ids() -> dict[str, t.Any]:
    return {
        "rid": request.values.get("rid"),
        "header": request.headers.get("X-Request-Id"),
        "g": g.rid,
    }


@app.before_serving
def started() -> None:
    _mark(f"before_serving {os.getpid()}")


@app.after_serving
async def stopped() -> None:
    await asyncio.sleep(0)
    _mark(f"after_serving {os.getpid()}")


@app.before_request
def remember_id() -> None:
    g.rid = request.headers.get("X-Request-Id")


@app.teardown_request
def record_teardown(exc: BaseException | None) -> None:
    _mark(f"teardown {g.get('rid')} {os.getpid()}")


@app.get("/json")
def json_view() -> dict[str, t.Any]:
    return _ids()


@app.post("/form")
def form_view() -> dict[str, t.Any]:
    return {**_ids(), "size": len(request.form["payload"])}


@app.get("/template")
def template_view() -> str:
    return render_template_string(TEMPLATE, rid=request.args["rid"])


@app.get("/session")
def session_view() -> dict[str, t.Any]:
    session["rid"] = request.args["rid"]
    return {**_ids(), "session": session["rid"]}


@app.get("/stream")
def stream_view() -> t.Any:
    def generate() -> t.Iterator[str]:
        # Each chunk reads the request again after the view returned, which
        # only works because stream_with_context keeps its context pushed.
        yield request.args["rid"] + ";"
        yield g.rid + ";"
        yield request.headers["X-Request-Id"] + ";"

    return stream_with_context(generate())


@app.get("/async")
async def async_view() -> dict[str, t.Any]:
    before = _ids()
    await asyncio.sleep(0.003)
    return {**_ids(), "before": before}


@app.get("/slow")
def slow_view() -> dict[str, t.Any]:
    _mark(f"start {g.rid} {os.getpid()}")
    time.sleep(float(request.args.get("delay", "1")))
    return _ids()


@app.get("/pid")
def pid_view() -> dict[str, int]:
    return {"pid": os.getpid()}
