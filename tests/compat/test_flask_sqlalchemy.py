"""Flask-SQLAlchemy, unmodified, on demijohn, with a SQLite file database."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from demijohn.testing import DemijohnClient

Client = t.Callable[..., DemijohnClient]


class Store(t.NamedTuple):
    app: Flask
    db: SQLAlchemy
    user: t.Any
    #: The Session object each request used, to check teardown.
    sessions: list[Session]


@pytest.fixture
def store(tmp_path: Path) -> t.Iterator[Store]:
    app = Flask(__name__)
    app.config.update(
        TESTING=True, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'app.db'}"
    )

    # Models belong to one declarative base; a new one per test keeps the
    # tests' tables apart.
    class Base(DeclarativeBase):
        pass

    db = SQLAlchemy(app, model_class=Base)
    sessions: list[Session] = []

    class User(db.Model):  # type: ignore[name-defined, misc]
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(unique=True)

    @app.post("/users")
    def add_user() -> tuple[dict[str, t.Any], int]:
        user = User(name=request.form["name"])
        db.session.add(user)
        db.session.commit()
        sessions.append(db.session())
        return {"id": user.id}, 201

    @app.get("/users")
    def list_users() -> list[str]:
        sessions.append(db.session())
        return list(db.session.scalars(sa.select(User.name).order_by(User.name)))

    @app.get("/users/<int:user_id>")
    def get_user(user_id: int) -> dict[str, t.Any]:
        return {"name": db.get_or_404(User, user_id).name}

    @app.get("/page")
    def page() -> dict[str, t.Any]:
        result = db.paginate(sa.select(User).order_by(User.id), per_page=2)
        return {"names": [u.name for u in result.items], "pages": result.pages}

    with app.app_context():
        db.create_all()
    yield Store(app, db, User, sessions)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(store: Store, make_client: Client) -> DemijohnClient:
    return make_client(store.app)


def test_create_all_made_the_table(store: Store) -> None:
    with store.app.app_context():
        assert sa.inspect(store.db.engine).get_table_names() == ["user"]


def test_rows_written_in_one_request_are_read_in_the_next(
    client: DemijohnClient,
) -> None:
    assert client.post("/users", data={"name": "grace"}).get_json() == {"id": 1}
    assert client.post("/users", data={"name": "ada"}).status_code == 201
    assert client.get("/users").get_json() == ["ada", "grace"]


def test_get_or_404_aborts_for_a_missing_row(client: DemijohnClient) -> None:
    client.post("/users", data={"name": "ada"})
    assert client.get("/users/1").get_json() == {"name": "ada"}
    assert client.get("/users/2").status_code == 404


def test_paginate_reads_the_page_from_the_query_string(client: DemijohnClient) -> None:
    for name in ("a", "b", "c"):
        client.post("/users", data={"name": name})
    assert client.get("/page?page=2").get_json() == {"names": ["c"], "pages": 2}
    assert client.get("/page?page=3").status_code == 404


def test_each_request_gets_a_session_removed_at_teardown(
    store: Store, client: DemijohnClient
) -> None:
    client.post("/users", data={"name": "ada"})
    client.get("/users")
    first, second = store.sessions
    assert first is not second
    for session in store.sessions:
        # Removed (closed) when the request's app context tore down: no
        # transaction left open and no objects still held.
        assert not session.in_transaction()
        assert len(session.identity_map) == 0


def test_a_failed_request_leaves_no_transaction_behind(
    store: Store, client: DemijohnClient
) -> None:
    client.post("/users", data={"name": "ada"})
    store.app.config["PROPAGATE_EXCEPTIONS"] = False
    # The unique constraint fails inside the view: a 500.
    assert client.post("/users", data={"name": "ada"}).status_code == 500
    assert client.get("/users").get_json() == ["ada"]
    assert not store.sessions[-1].in_transaction()


def test_models_work_in_an_app_context_outside_requests(store: Store) -> None:
    with store.app.app_context():
        store.db.session.add(store.user(name="ada"))
        store.db.session.commit()
        assert store.db.session.scalar(sa.select(sa.func.count(store.user.id))) == 1
