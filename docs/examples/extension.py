"""A small extension: one SQLite connection per application context.

It follows the conventions Flask extensions use, which work unchanged here:
an ``init_app`` method for application factories, state in
``app.extensions``, the connection on ``g`` and closed at teardown.
"""

from __future__ import annotations

import sqlite3
import typing as t

import click

from demijohn import Blueprint, Demijohn, current_app, g
from demijohn.blueprints import BlueprintSetupState
from demijohn.cli import with_appcontext


class Database:
    def __init__(self, app: Demijohn | None = None) -> None:
        # Nothing app-specific is stored on the extension object itself, so
        # one instance serves any number of applications.
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Demijohn) -> None:
        app.config.setdefault("DATABASE", ":memory:")
        app.extensions["database"] = self
        # Runs after every request, and at the end of every
        # "with app.app_context():" block, even when an error occurred.
        app.teardown_appcontext(self.close)
        app.cli.add_command(init_db_command)

    @property
    def connection(self) -> sqlite3.Connection:
        """The connection of the current application context, opened on
        first use."""
        if "database" not in g:
            # A request's sync code stays on one thread, under WSGI and
            # under ASGI alike, so SQLite's same-thread check holds.
            g.database = sqlite3.connect(current_app.config["DATABASE"])
            g.database.row_factory = sqlite3.Row
        return t.cast(sqlite3.Connection, g.database)

    def close(self, exc: BaseException | None) -> None:
        connection = g.pop("database", None)
        if connection is not None:
            connection.close()


@click.command("init-db")
@with_appcontext  # a plain click command gets no app context by itself
def init_db_command() -> None:
    """Create the tables."""
    db: Database = current_app.extensions["database"]
    db.connection.execute("create table if not exists note (body text)")
    db.connection.commit()
    click.echo("Initialized the database.")


# An extension that ships views ships a blueprint. ``record_once`` runs
# setup once per application, however many times the blueprint is
# registered on it.
notes = Blueprint("notes", __name__, url_prefix="/notes")


@notes.record_once
def require_database(state: BlueprintSetupState) -> None:
    if "database" not in state.app.extensions:
        Database(state.app)


@notes.get("/")
def list_notes() -> dict[str, list[str]]:
    db: Database = current_app.extensions["database"]
    rows = db.connection.execute("select body from note").fetchall()
    return {"notes": [row["body"] for row in rows]}


# Using it: the extension object at module level, attached in the factory.
db = Database()


def create_app(database: str = "notes.sqlite") -> Demijohn:
    app = Demijohn(__name__)
    app.config["DATABASE"] = database
    db.init_app(app)
    app.register_blueprint(notes)
    return app
