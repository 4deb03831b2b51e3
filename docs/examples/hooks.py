"""Hooking into the lifecycle without subclassing: the registration
decorators, in the order a request meets them."""

from __future__ import annotations

import time
import typing as t

from demijohn import (
    Blueprint,
    Demijohn,
    Response,
    after_this_request,
    g,
    got_request_exception,
)

app = Demijohn(__name__)
app.config["PROPAGATE_EXCEPTIONS"] = False  # show 500 handling even in tests
errors_seen: list[str] = []

docs = Blueprint("docs", __name__, url_prefix="/<lang>/docs")


@docs.url_value_preprocessor
def take_lang(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
    # 1. Before before_request: reshape the URL's values.
    g.lang = values.pop("lang") if values else "en"


@app.before_request
def start_timer() -> None:
    # 2. Before every view of the app and its blueprints. Returning a value
    # instead of None would skip the view and answer with it.
    g.started = time.perf_counter()


@docs.get("/<page>")
def show(page: str) -> dict[str, str]:
    # 3. The view.
    if page == "private":

        @after_this_request
        def no_cache(response: Response) -> Response:
            # A one-off after_request hook for this request only.
            response.headers["Cache-Control"] = "no-store"
            return response

    if page == "broken":
        raise RuntimeError("this page is broken")
    return {"lang": g.lang, "page": page}


@app.after_request
def add_timing(response: Response) -> Response:
    # 4. After the view, with the response. Not after an unhandled error.
    elapsed = time.perf_counter() - g.started
    response.headers["Server-Timing"] = f"app;dur={elapsed * 1000:.1f}"
    return response


@app.errorhandler(RuntimeError)
def broken(error: RuntimeError) -> tuple[dict[str, str], int]:
    # Instead of the view's response, when the view raised.
    return {"error": str(error)}, 500


@app.teardown_request
def release(exc: BaseException | None) -> None:
    # 5. Always, even after an error: release what the request held.
    g.pop("started", None)


def remember_error(sender: Demijohn, exception: Exception, **extra: t.Any) -> None:
    # Signals observe without changing anything; this one fires for errors
    # that no handler dealt with.
    errors_seen.append(repr(exception))


got_request_exception.connect(remember_error, app)


@app.get("/crash")
def crash() -> str:
    raise KeyError("unhandled")


app.register_blueprint(docs)
