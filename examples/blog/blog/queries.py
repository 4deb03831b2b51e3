"""The SQL the views run, one function per question or change.

Views never write SQL themselves: this is the one place to look when the
schema changes. Posts come back as dicts with the author's ``username``
joined in, ready for templates and JSON alike.
"""

from __future__ import annotations

import datetime
import typing as t

from .db import IntegrityError, Row, get_db

_POST_COLUMNS = (
    "p.id, p.title, p.body, p.created, p.author_id, u.username"
    " FROM posts p JOIN users u ON u.id = p.author_id"
)


class UsernameTaken(Exception):
    """Registering a username that already exists."""


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def get_user(user_id: int) -> Row | None:
    """The user with this id, or ``None``."""
    return get_db().fetch_one(
        "SELECT id, username, password_hash FROM users WHERE id = ?", (user_id,)
    )


def get_user_by_name(username: str) -> Row | None:
    """The user with this username, or ``None``."""
    return get_db().fetch_one(
        "SELECT id, username, password_hash FROM users WHERE username = ?",
        (username,),
    )


def create_user(username: str, password_hash: str) -> int:
    """Add a user; returns the new id.

    :raises UsernameTaken: when the name exists already. The unique
        constraint decides, so two simultaneous sign-ups cannot both win.
    """
    db = get_db()
    try:
        with db.transaction():
            return db.insert(
                "INSERT INTO users (username, password_hash) VALUES (?, ?)",
                (username, password_hash),
            )
    except IntegrityError:
        raise UsernameTaken(username) from None


def list_posts(limit: int) -> list[Row]:
    """The newest ``limit`` posts, newest first."""
    return get_db().fetch_all(
        f"SELECT {_POST_COLUMNS} ORDER BY p.created DESC, p.id DESC LIMIT ?",
        (limit,),
    )


def get_post(post_id: int) -> Row | None:
    """The post with this id, or ``None``."""
    return get_db().fetch_one(f"SELECT {_POST_COLUMNS} WHERE p.id = ?", (post_id,))


def create_post(author_id: int, title: str, body: str) -> Row:
    """Add a post; returns it as :func:`get_post` would."""
    db = get_db()
    with db.transaction():
        post_id = db.insert(
            "INSERT INTO posts (author_id, created, title, body) VALUES (?, ?, ?, ?)",
            (author_id, _now(), title, body),
        )
    return t.cast(Row, get_post(post_id))


def update_post(post_id: int, title: str, body: str) -> None:
    """Change a post's title and body."""
    db = get_db()
    with db.transaction():
        db.execute(
            "UPDATE posts SET title = ?, body = ? WHERE id = ?",
            (title, body, post_id),
        )


def delete_post(post_id: int) -> None:
    """Remove a post."""
    db = get_db()
    with db.transaction():
        db.execute("DELETE FROM posts WHERE id = ?", (post_id,))


def count_rows() -> dict[str, int]:
    """How many users and posts there are."""
    db = get_db()
    users = db.fetch_one("SELECT COUNT(*) AS n FROM users")
    posts = db.fetch_one("SELECT COUNT(*) AS n FROM posts")
    return {
        "users": int(users["n"]) if users else 0,
        "posts": int(posts["n"]) if posts else 0,
    }
