"""WebSocket handlers: an echo, a JSON protocol with a subprotocol, and a
``before_websocket`` check that refuses connections."""

from __future__ import annotations

from demijohn import Demijohn, WebsocketDisconnect, request, session, websocket

app = Demijohn(__name__)
app.config["SECRET_KEY"] = "change me"


@app.websocket("/echo")
async def echo() -> None:
    # receive() accepts the connection first; it raises WebsocketDisconnect
    # when the client leaves, which ends the handler normally.
    while True:
        message = await websocket.receive()
        await websocket.send(message)


@app.websocket("/rooms/<room>")
async def room(room: str) -> None:
    if "json" in websocket.requested_subprotocols:
        await websocket.accept(subprotocol="json")
    # The handshake is a request: its query string, headers and cookies
    # (and so the session) are available as usual.
    user = session.get("user", request.args.get("as", "guest"))
    await websocket.send_json({"joined": room, "user": user})
    try:
        while True:
            data = await websocket.receive_json()
            await websocket.send_json(
                {"room": room, "user": user, "said": data["text"]}
            )
    except WebsocketDisconnect:
        pass  # clean up the user's presence here


@app.before_websocket
def require_token() -> tuple[str, int] | None:
    # A returned value refuses the connection with that HTTP response.
    if request.path.startswith("/rooms/") and request.args.get("token") != "secret":
        return "a token is required", 403
    return None


@app.get("/rooms/<room>")
def room_page(room: str) -> str:
    return f"room {room}: connect with a WebSocket client"
