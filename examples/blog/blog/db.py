"""Storage: one database connection per application context, on ``g``.

The rest of the app talks to a :class:`Database`, a thin wrapper that hides
the two differences between the drivers it supports:

- the parameter placeholder (``?`` for sqlite3, ``%s`` for psycopg): queries
  are written with ``?`` and translated by the :class:`Dialect`, so they must
  not contain a literal ``?`` or ``%``;
- how a new row's id is returned (``lastrowid`` or ``RETURNING id``).

SQLite from the standard library is the default (a file in the instance
folder). Set ``DATABASE_URL=postgresql://...`` to use PostgreSQL through
``psycopg``, an optional dependency: ``pip install -e 'examples/blog[postgres]'``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sqlite3
import typing as t
from importlib import resources

import click

from demijohn import current_app, g

from .settings import ConfigError

if t.TYPE_CHECKING:
    from demijohn import Demijohn

Row = dict[str, t.Any]
Params = t.Sequence[t.Any]

_POSTGRES_SCHEMES = ("postgres://", "postgresql://")
_SQLITE_SCHEME = "sqlite:///"


class IntegrityError(Exception):
    """A write broke a constraint (a duplicate unique value, say), whichever
    driver reported it."""


class SchemaMissing(Exception):
    """A query needed a table that does not exist: ``init-db`` was not run
    on this database."""


def _sqlite_missing_table(error: Exception) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "no such table" in str(error)


@dataclasses.dataclass(frozen=True)
class Dialect:
    """What differs between the supported databases."""

    name: str
    #: The driver's parameter placeholder, replacing ``?`` in queries.
    placeholder: str
    #: The schema file in ``blog/schema/``.
    schema_file: str
    #: The driver's exceptions for constraint violations.
    integrity_errors: tuple[type[Exception], ...]
    #: Whether ``INSERT ... RETURNING id`` is used to learn a new row's id
    #: (else the cursor's ``lastrowid``, which works on any SQLite version).
    insert_returning: bool
    #: Whether a driver error means a table is missing.
    is_missing_table: t.Callable[[Exception], bool]

    def translate(self, sql: str) -> str:
        """``sql`` with each ``?`` replaced by this driver's placeholder."""
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)


SQLITE = Dialect(
    name="sqlite",
    placeholder="?",
    schema_file="sqlite.sql",
    integrity_errors=(sqlite3.IntegrityError,),
    insert_returning=False,
    is_missing_table=_sqlite_missing_table,
)


@functools.cache
def _postgres_dialect() -> Dialect:
    import psycopg

    def is_missing_table(error: Exception) -> bool:
        return isinstance(error, psycopg.errors.UndefinedTable)

    return Dialect(
        name="postgresql",
        placeholder="%s",
        schema_file="postgresql.sql",
        integrity_errors=(psycopg.IntegrityError,),
        insert_returning=True,
        is_missing_table=is_missing_table,
    )


class Database:
    """A connection and its :class:`Dialect`; rows come back as dicts."""

    def __init__(self, connection: t.Any, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect

    def _execute(self, sql: str, params: Params) -> t.Any:
        try:
            return self.connection.execute(self.dialect.translate(sql), params)
        except self.dialect.integrity_errors as e:
            raise IntegrityError(str(e)) from e
        except Exception as e:
            if self.dialect.is_missing_table(e):
                raise SchemaMissing(str(e)) from e
            raise

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a query."""
        return [dict(row) for row in self._execute(sql, params).fetchall()]

    def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or ``None``."""
        row = self._execute(sql, params).fetchone()
        return None if row is None else dict(row)

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run a write; returns the number of rows it changed.

        :raises IntegrityError: when a constraint refused it.
        """
        return int(self._execute(sql, params).rowcount)

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run an ``INSERT`` into a table with an ``id`` key; returns the id.

        :raises IntegrityError: when a constraint refused it.
        """
        if self.dialect.insert_returning:
            return int(self._execute(f"{sql} RETURNING id", params).fetchone()["id"])
        return int(self._execute(sql, params).lastrowid)

    @contextlib.contextmanager
    def transaction(self) -> t.Iterator[Database]:
        """Commit the writes made in the block, or roll them all back if it
        raises."""
        try:
            yield self
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()

    def create_schema(self) -> None:
        """Create the tables that do not exist yet; existing data is kept."""
        # One name per joinpath call: Python 3.10 takes no more.
        schema = resources.files("blog").joinpath("schema")
        script = schema.joinpath(self.dialect.schema_file).read_text(encoding="utf-8")
        if self.dialect.name == "sqlite":
            self.connection.executescript(script)
        else:
            self.connection.execute(script)
        self.connection.commit()

    def close(self) -> None:
        """Close the connection; uncommitted writes are discarded."""
        self.connection.close()


def describe_target(config: t.Mapping[str, t.Any]) -> tuple[str, str]:
    """``(dialect name, target)`` for the configured database: the
    PostgreSQL URL or the SQLite file path.

    :raises ConfigError: for a ``DATABASE_URL`` of an unsupported kind, or a
        PostgreSQL one when ``psycopg`` is not installed.
    """
    url = config.get("DATABASE_URL")
    if not url:
        return "sqlite", str(config["DATABASE"])
    if url.startswith(_SQLITE_SCHEME):
        return "sqlite", url[len(_SQLITE_SCHEME) :]
    if url.startswith(_POSTGRES_SCHEMES):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise ConfigError(
                "DATABASE_URL points at PostgreSQL, but psycopg is not installed:"
                " pip install 'psycopg[binary]'"
            ) from None
        return "postgresql", url
    raise ConfigError(
        "DATABASE_URL must start with postgresql://, postgres:// or sqlite:///;"
        f" got {url.split(':', 1)[0]!r}."
    )


def connect(config: t.Mapping[str, t.Any]) -> Database:
    """Open a new connection to the configured database."""
    kind, target = describe_target(config)
    if kind == "postgresql":
        import psycopg
        from psycopg.rows import dict_row

        return Database(
            psycopg.connect(target, row_factory=dict_row), _postgres_dialect()
        )
    directory = os.path.dirname(target)
    if directory:
        # The instance folder is created on first use, not at import.
        os.makedirs(directory, exist_ok=True)
    # A connection serves one request at a time, but not always from one
    # thread: /api/stats runs its query in a worker thread, and under ASGI a
    # request's sync hooks, view and teardown may each run on a different
    # worker thread. sqlite3 refuses that unless told otherwise.
    connection = sqlite3.connect(target, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA foreign_keys = ON")
    return Database(connection, SQLITE)


def get_db() -> Database:
    """The current application context's connection, opened on first use
    and closed when the context ends."""
    if "db" not in g:
        g.db = connect(current_app.config)
    return t.cast(Database, g.db)


def close_db(exc: BaseException | None = None) -> None:
    """Close the context's connection, if one was opened; registered with
    ``teardown_appcontext``."""
    db: Database | None = g.pop("db", None)
    if db is not None:
        db.close()


def init_db() -> None:
    """Create the schema in the configured database (safe to repeat)."""
    get_db().create_schema()


def init_app(app: Demijohn) -> None:
    """Check the database settings, close connections after each context,
    and add the ``init-db`` command.

    :raises ConfigError: when the database settings are unusable.
    """
    describe_target(app.config)
    app.teardown_appcontext(close_db)

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Create the database tables (keeps existing data; safe to rerun)."""
        init_db()
        kind, target = describe_target(current_app.config)
        if kind == "postgresql":
            # Only the scheme and database name: the URL may hold a password.
            target = target.rsplit("/", 1)[-1]
        click.echo(f"Initialized the {kind} database: {target}")
