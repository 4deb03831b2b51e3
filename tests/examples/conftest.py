"""Fixtures for the example blog (examples/blog): a fresh app with its own
SQLite file per test, and a client served over WSGI or ASGI.

Set ``BLOG_TEST_DATABASE_URL=postgresql://...`` to run the request tests
against that PostgreSQL database instead (needs psycopg). Its ``users`` and
``posts`` tables are dropped before each test: never point it at real data.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest
from blog_support import Auth  # first: it puts the example on sys.path

# isort: split
from blog import create_app
from blog.db import get_db, init_db

from demijohn import Demijohn
from demijohn.testing import DemijohnClient

POSTGRES_URL = os.environ.get("BLOG_TEST_DATABASE_URL")


@pytest.fixture
def blog_app(tmp_path: Path) -> Demijohn:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test key",
            # scrypt takes 0.3 s a hash: too slow for a hundred logins.
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "DATABASE": str(tmp_path / "blog.sqlite"),
            "DATABASE_URL": POSTGRES_URL,
        }
    )
    with app.app_context():
        if POSTGRES_URL:
            db = get_db()
            with db.transaction():
                db.execute("DROP TABLE IF EXISTS posts, users")
        init_db()
    return app


@pytest.fixture
def blog_client(
    blog_app: Demijohn, make_client: t.Callable[..., DemijohnClient]
) -> DemijohnClient:
    return make_client(blog_app)


@pytest.fixture
def auth(blog_client: DemijohnClient) -> Auth:
    return Auth(blog_client)
