"""An application served by real WSGI and ASGI servers in test_servers.py."""

from __future__ import annotations

import asyncio
import os
import threading
import typing as t

from demijohn import Demijohn, g, request, session, stream_with_context, websocket

app = Demijohn(__name__)
app.config["SECRET_KEY"] = "served-app-secret"
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024

_MARKER = os.environ.get("DEMIJOHN_TEST_MARKER")


@app.before_serving
async def started() -> None:
    if _MARKER:
        with open(_MARKER, "a") as f:
            f.write("startup\n")


@app.after_serving
def stopped() -> None:
    if _MARKER:
        with open(_MARKER, "a") as f:
            f.write("shutdown\n")


@app.get("/")
def index() -> str:
    return "hello"


@app.post("/echo")
def echo() -> dict[str, t.Any]:
    return {"json": request.get_json(), "path": request.path}


@app.get("/async")
async def slow() -> dict[str, t.Any]:
    delay = float(request.args.get("delay", "0"))
    g.token = request.args.get("token")
    await asyncio.sleep(delay)
    return {"token": g.token, "arg": request.args.get("token")}


@app.get("/session")
async def session_echo() -> dict[str, t.Any]:
    token = request.args["token"]
    session["token"] = token
    g.token = token
    await asyncio.sleep(0.01)
    return {"g": g.token, "session": session["token"], "arg": token}


@app.get("/threads")
def threads() -> dict[str, int]:
    return {"threads": threading.active_count()}


@app.get("/stream")
def stream() -> t.Any:
    def generate() -> t.Iterator[str]:
        for i in range(3):
            yield f"{request.args.get('p', '')}{i};"

    return stream_with_context(generate())


@app.get("/astream")
async def astream() -> t.Any:
    async def generate() -> t.AsyncIterator[str]:
        for i in range(3):
            await asyncio.sleep(0)
            yield f"a{i};"

    return generate()


@app.websocket("/ws")
async def ws() -> None:
    await websocket.accept()
    while True:
        message = await websocket.receive()
        await websocket.send(f"echo:{message}")
