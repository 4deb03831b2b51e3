"""The JSON API under ``/api``.

Errors are JSON too (``{"error": ..., "message": ...}``, see
:mod:`blog.errors`). Creating a post needs a logged-in session cookie, as
the HTML pages do.
"""

from __future__ import annotations

import asyncio
import typing as t

from demijohn import Blueprint, abort, current_app, g, request, url_for

from . import live, queries
from .forms import validate_post

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/posts")
def list_posts() -> dict[str, t.Any]:
    """The newest posts: ``{"posts": [...]}``."""
    return {"posts": queries.list_posts(current_app.config["POSTS_PER_PAGE"])}


@bp.get("/posts/<int:post_id>")
def get_post(post_id: int) -> dict[str, t.Any]:
    """One post, or a 404 error."""
    post = queries.get_post(post_id)
    if post is None:
        abort(404, description=f"There is no post {post_id}.")
    return post


@bp.post("/posts")
def create_post() -> t.Any:
    """Create a post from ``{"title": ..., "body": ...}``; answers 201 with
    the post and its ``Location``.

    Errors: 401 when logged out; 400 when the body is not a JSON object, or
    with a ``fields`` object naming each invalid field.
    """
    if g.user is None:
        abort(401, description="Log in to create posts.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description='Send a JSON object: {"title": "...", "body": "..."}.')
    form = validate_post(data, current_app.config)
    if not form.ok:
        return {
            "error": "Bad Request",
            "message": "Some fields are invalid.",
            "fields": form.errors,
        }, 400
    post = queries.create_post(g.user["id"], form.values["title"], form.values["body"])
    live.announce_post(post)
    return post, 201, {"Location": url_for("api.get_post", post_id=post["id"])}


@bp.get("/stats")
async def stats() -> dict[str, int]:
    """Counts of users and posts, and of clients watching the live feed.

    An async view: the blocking database calls run in a thread, so under an
    ASGI server the event loop keeps serving websockets meanwhile.
    """
    counts = await asyncio.to_thread(queries.count_rows)
    return {**counts, "live_clients": live.get_hub().subscriber_count}
