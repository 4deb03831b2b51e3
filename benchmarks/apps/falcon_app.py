"""The benchmark app on Falcon (WSGI), one resource class per route.

Falcon has no template integration or sessions: templates render with Jinja
directly, and the session is a cookie signed with itsdangerous (the
signing Flask's session uses) in the resource itself.
"""

from __future__ import annotations

import json

import falcon
import itsdangerous

from benchmarks.scenarios import (
    FORM_FIELD,
    HOOK_HEADER,
    HOOK_USER,
    JSON_MESSAGE,
    LOOP_ITEMS,
    LOOP_TITLE,
    PLAINTEXT,
    ROUTE_COUNT,
    SECRET_KEY,
    jinja_environment,
    load_fortunes,
    open_fortunes_db,
    route_text,
)

UNSUPPORTED: dict[str, str] = {}
_jinja = jinja_environment()
_db = open_fortunes_db()
_signer = itsdangerous.URLSafeTimedSerializer(SECRET_KEY, salt="session")


class Plaintext:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = PLAINTEXT


class JsonMessage:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = JSON_MESSAGE


class Numbered:
    def __init__(self, number: int) -> None:
        self.number = number

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, item_id: int, name: str
    ) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = route_text(self.number, item_id, name)


class Template:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        template = _jinja.get_template("loop.html")
        resp.content_type = falcon.MEDIA_HTML
        resp.text = template.render(title=LOOP_TITLE, items=LOOP_ITEMS)


class EchoJson:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"echo": req.get_media()["name"]}


class EchoForm:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = f"echo={req.get_media()[FORM_FIELD]}"


class Session:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = self.load(req.cookies.get("session"))
        data["visits"] = data.get("visits", 0) + 1
        resp.set_cookie("session", _signer.dumps(data), secure=False)
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = f"visits={data['visits']}"

    @staticmethod
    def load(cookie: str | None) -> dict[str, int]:
        if cookie is None:
            return {}
        try:
            return dict(_signer.loads(cookie))
        except (itsdangerous.BadSignature, json.JSONDecodeError):
            return {}


class Fortunes:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        template = _jinja.get_template("fortunes.html")
        resp.content_type = falcon.MEDIA_HTML
        resp.text = template.render(fortunes=load_fortunes(_db))


app = falcon.App()
app.add_route("/plaintext", Plaintext())
app.add_route("/json", JsonMessage())
for _number in range(1, ROUTE_COUNT + 1):
    app.add_route(f"/route{_number}/{{item_id:int}}/{{name}}", Numbered(_number))
app.add_route("/template", Template())
app.add_route("/echo-json", EchoJson())
app.add_route("/echo-form", EchoForm())
app.add_route("/session", Session())
app.add_route("/fortunes", Fortunes())


class Hooks:
    """The hooks of Scenario.hooked as Falcon middleware; its
    ``process_response`` runs at the end of every request, so it is the
    end hook as well."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.user = HOOK_USER

    def process_response(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        resp.set_header(*HOOK_HEADER)


hooked_app = falcon.App(middleware=[Hooks()])
hooked_app.add_route("/plaintext", Plaintext())
