"""The HTML pages for posts: the index, one post, and writing, editing and
deleting one's own posts."""

from __future__ import annotations

import typing as t

from demijohn import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from . import live, queries
from .auth import login_required
from .db import Row
from .forms import Submission, validate_post

bp = Blueprint("posts", __name__)


def get_own_post(post_id: int) -> Row:
    """The post, if the current user wrote it.

    :raises NotFound: (404) when there is no such post.
    :raises Forbidden: (403) when someone else wrote it.
    """
    post = queries.get_post(post_id)
    if post is None:
        abort(404, description=f"There is no post {post_id}.")
    if post["author_id"] != g.user["id"]:
        abort(403, description="Only the author can change a post.")
    return post


def _form_page(template: str, form: Submission, **context: t.Any) -> t.Any:
    return render_template(template, form=form, **context), 200 if form.ok else 400


@bp.get("/")
def index() -> str:
    """The newest posts."""
    posts = queries.list_posts(current_app.config["POSTS_PER_PAGE"])
    return render_template("posts/index.html", posts=posts)


@bp.get("/<int:post_id>")
def detail(post_id: int) -> str:
    """One post."""
    post = queries.get_post(post_id)
    if post is None:
        abort(404, description=f"There is no post {post_id}.")
    return render_template("posts/detail.html", post=post)


@bp.route("/create", methods=["GET", "POST"])
@login_required
def create() -> t.Any:
    """Write a new post; connected live clients hear about it."""
    form = Submission(values={})
    if request.method == "POST":
        form = validate_post(request.form, current_app.config)
        if form.ok:
            post = queries.create_post(
                g.user["id"], form.values["title"], form.values["body"]
            )
            live.announce_post(post)
            flash("Your post is published.")
            return redirect(url_for("posts.index"))
    return _form_page("posts/create.html", form)


@bp.route("/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit(post_id: int) -> t.Any:
    """Change one of the current user's posts."""
    post = get_own_post(post_id)
    form = Submission(values={"title": post["title"], "body": post["body"]})
    if request.method == "POST":
        form = validate_post(request.form, current_app.config)
        if form.ok:
            queries.update_post(post_id, form.values["title"], form.values["body"])
            flash("Your post is updated.")
            return redirect(url_for("posts.detail", post_id=post_id))
    return _form_page("posts/edit.html", form, post=post)


@bp.post("/<int:post_id>/delete")
@login_required
def delete(post_id: int) -> t.Any:
    """Remove one of the current user's posts."""
    get_own_post(post_id)
    queries.delete_post(post_id)
    flash("Your post is deleted.")
    return redirect(url_for("posts.index"))
