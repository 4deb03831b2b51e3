"""Registering, logging in and out, and who the current user is.

:func:`load_logged_in_user` runs before every request of the app and sets
``g.user`` (a dict, or ``None`` when logged out); views and templates read
it. :func:`login_required` guards the HTML views that need a user.
"""

from __future__ import annotations

import functools
import typing as t

from werkzeug.security import check_password_hash, generate_password_hash

from demijohn import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from . import queries
from .forms import Submission, validate_credentials

bp = Blueprint("auth", __name__, url_prefix="/auth")

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


@bp.before_app_request
def load_logged_in_user() -> None:
    """Set ``g.user`` from the id kept in the session."""
    user_id = session.get("user_id")
    g.user = None if user_id is None else queries.get_user(user_id)


def login_required(view: F) -> F:
    """Send a logged-out visitor to the login page, and back here after."""

    @functools.wraps(view)
    def wrapped(**kwargs: t.Any) -> t.Any:
        if g.user is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(**kwargs)

    return t.cast(F, wrapped)


def _safe_next(target: str | None) -> str | None:
    # Only paths on this site: "//evil.example" or "https://..." would turn
    # the login form into an open redirect.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


def _form_page(template: str, form: Submission) -> tuple[str, int]:
    return render_template(template, form=form), 200 if form.ok else 400


@bp.route("/register", methods=["GET", "POST"])
def register() -> t.Any:
    """Show the sign-up form; on a valid submission create the user."""
    form = Submission(values={})
    if request.method == "POST":
        form = validate_credentials(request.form, current_app.config)
        if form.ok:
            try:
                queries.create_user(
                    form.values["username"],
                    generate_password_hash(
                        form.values["password"],
                        method=current_app.config["PASSWORD_HASH_METHOD"],
                    ),
                )
            except queries.UsernameTaken:
                form.errors["username"] = "That username is taken."
            else:
                flash("Registered. You can log in now.")
                return redirect(url_for("auth.login"))
    return _form_page("auth/register.html", form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> t.Any:
    """Show the login form; on valid credentials start a session."""
    form = Submission(values={"next": request.args.get("next", "")})
    if request.method == "POST":
        form = validate_credentials(request.form, current_app.config)
        form.values["next"] = request.form.get("next", "")
        if form.ok:
            user = queries.get_user_by_name(form.values["username"])
            if user is None or not check_password_hash(
                user["password_hash"], form.values["password"]
            ):
                # One message for both cases, so the form does not tell
                # which usernames exist.
                form.errors["form"] = "Incorrect username or password."
            else:
                session.clear()
                session["user_id"] = user["id"]
                flash(f"Welcome back, {user['username']}.")
                return redirect(
                    _safe_next(form.values["next"]) or url_for("posts.index")
                )
    return _form_page("auth/login.html", form)


@bp.post("/logout")
def logout() -> t.Any:
    """End the session. POST only, so a link on another site cannot log
    the user out."""
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("posts.index"))
