"""Subclassing the application, request and response classes.

Each override here is a documented method or ``*_class`` attribute, so it
applies under WSGI and ASGI alike.
"""

from __future__ import annotations

import dataclasses
import typing as t

from werkzeug.exceptions import HTTPException
from werkzeug.utils import cached_property

from demijohn import Demijohn, Request, Response, request
from demijohn.json.provider import DefaultJSONProvider


class APIRequest(Request):
    @cached_property
    def api_version(self) -> int:
        """The version the client asked for in ``Accept-Version``."""
        value = self.headers.get("Accept-Version", "1")
        return int(value) if value.isdigit() else 1


class APIResponse(Response):
    # Views that return plain strings answer JSON-looking text by default.
    default_mimetype = "application/json"


class CompactJSON(DefaultJSONProvider):
    # Keep the order the view built; no spaces.
    sort_keys = False
    compact = True


class APIApp(Demijohn):
    request_class = APIRequest
    response_class = APIResponse
    json_provider_class = CompactJSON

    def make_response(self, rv: t.Any) -> Response:
        # Let views return dataclasses; everything else as usual.
        if dataclasses.is_dataclass(rv) and not isinstance(rv, type):
            rv = dataclasses.asdict(rv)
        return super().make_response(rv)

    def process_response(self, response: Response) -> Response:
        # after_request functions and session saving still run in super().
        response = super().process_response(response)
        response.headers["X-API-Version"] = str(request.api_version)
        return response

    def handle_http_exception(self, e: HTTPException) -> t.Any:
        # Every HTTP error answers JSON, unless a handler was registered.
        rv = super().handle_http_exception(e)
        if rv is e:
            return {"error": e.name, "status": e.code}, e.code
        return rv


@dataclasses.dataclass
class Point:
    x: int
    y: int


app = APIApp(__name__)


@app.get("/point")
def point() -> Point:
    return Point(x=1, y=2)  # type: ignore[return-value]


@app.get("/version")
def version() -> dict[str, int]:
    return {"version": request.api_version}  # type: ignore[attr-defined]
