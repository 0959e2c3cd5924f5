"""The database: where it is, the engine, the declarative Base and sessions.

`SLUICE_DATABASE_URL` selects any SQLAlchemy URL (PostgreSQL for several nodes); the
default is SQLite in `$SLUICE_HOME` (default `~/.local/share/sluicegate`), in WAL mode
with a busy timeout so that a serving process and CLI commands can share it.

On PostgreSQL, the engines of long-running nodes carry `SessionGuards`: session limits
that end a statement, a lock wait or a transaction left idle (a frozen node) within a
fraction of the scheduler's lease, so that the server releases a stalled node's row locks
and the other nodes take its work over instead of waiting behind it.
"""

from __future__ import annotations

__all__ = ["Base", "DatabaseUrlError", "SessionGuards", "sluice_home", "database_url",
           "insert_arrays", "make_engine", "normalize_url", "session_factory",
           "typed_unnest", "unnest_arrays", "utcnow"]

import datetime as _dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, MetaData, Table, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every model; constraint names are stable for migrations."""

    metadata = MetaData(naming_convention=_NAMING)


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def sluice_home() -> Path:
    """`$SLUICE_HOME`, created with mode 0700 on first use."""
    home = Path(os.environ.get("SLUICE_HOME") or Path.home() / ".local/share/sluicegate")
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


class DatabaseUrlError(ValueError):
    """A database URL this runtime cannot use; the message names the accepted forms."""


_ACCEPTED = ("postgresql://USER@HOST:PORT/DB (also postgres:// and postgresql+psycopg://) "
             "or sqlite:///PATH")
# PostgreSQL goes through psycopg 3 whatever the URL names; hosts hand out postgres://
_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}
_SQLITE_SCHEMES = {"sqlite", "sqlite+pysqlite"}


def normalize_url(url: str) -> str:
    """`url` in the form SQLAlchemy loads with the drivers this package installs:
    `postgres://` and `postgresql://` become `postgresql+psycopg://`; any other driver or
    database is a DatabaseUrlError naming the accepted forms (never a traceback)."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        raise DatabaseUrlError(f"SLUICE_DATABASE_URL: not a database URL; use {_ACCEPTED}")
    scheme = scheme.lower()
    if scheme in _POSTGRES_SCHEMES:
        normalized = "postgresql+psycopg://" + rest
    elif scheme in _SQLITE_SCHEMES:
        normalized = "sqlite://" + rest
    else:
        raise DatabaseUrlError(f"SLUICE_DATABASE_URL: the scheme {scheme}:// is not "
                               f"supported; use {_ACCEPTED}")
    try:
        make_url(normalized)
    except ArgumentError:
        raise DatabaseUrlError(f"SLUICE_DATABASE_URL: not a valid URL; use {_ACCEPTED}") \
            from None
    return normalized


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file owner-only (0600) before SQLite does (0644 by umask): it
    holds ciphertexts, API token digests and every run's inputs. SQLite gives its -wal
    and -shm files the database file's mode."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:   # another process created it first
        pass


def database_url() -> str:
    url = os.environ.get("SLUICE_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{sluice_home() / 'sluicegate.db'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@dataclass(frozen=True)
class SessionGuards:
    """PostgreSQL session limits, in seconds (0: none)."""

    statement_timeout: float
    lock_timeout: float
    idle_in_transaction: float

    @classmethod
    def for_lease(cls, lease: float) -> SessionGuards:
        """Guards for a scheduler node whose leases last `lease` seconds. Its loop renews
        leases every third of a lease, so no statement of it may take longer than that; a
        lock it waits for longer than a sixth is held by a stalled node (it moves on and
        retries), and a transaction idle for a third of a lease belongs to a frozen node,
        whose session the server ends, releasing its locks well before its leases expire."""
        third = max(lease / 3, 1.0)
        return cls(statement_timeout=third, lock_timeout=max(lease / 6, 0.5),
                   idle_in_transaction=third)

    def statements(self) -> list[str]:
        return [f"SET {name} = {int(seconds * 1000)}" for name, seconds in (
            ("statement_timeout", self.statement_timeout),
            ("lock_timeout", self.lock_timeout),
            ("idle_in_transaction_session_timeout", self.idle_in_transaction))]

    def install(self, engine: Engine) -> None:
        """Set the guards on every connection `engine` opens (PostgreSQL only)."""
        if engine.dialect.name != "postgresql":
            return
        statements = self.statements()

        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
            dbapi_connection.commit()  # SET outlives the transaction that ran it

        event.listen(engine, "connect", on_connect)


def make_engine(url: str | None = None, *, guards: SessionGuards | None = None,
                **kwargs: Any) -> Engine:
    """An engine for `url` (default: `database_url()`); SQLite gets WAL and a busy timeout,
    PostgreSQL the session `guards` when given."""
    url = normalize_url(url or database_url())
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 10})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if guards is not None:
        guards.install(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def unnest_arrays(dialect: Any, table: Table, rows: list[dict[str, Any]], *,
                  prefix: str = "c") -> tuple[list[str], str, dict[str, Any]]:
    """PostgreSQL only: `rows` (values keyed by column name of `table`, every row with
    the same keys) as `unnest(...)` of one array parameter per column, sent in binary;
    returns the column names, the `unnest(...)` text and its parameters (named `prefix`
    and a number). Values go through each column type's bind processing."""
    names = list(rows[0])
    fields = []
    arrays: dict[str, list[Any]] = {}
    for i, name in enumerate(names):
        column = table.c[name]
        process = column.type.bind_processor(dialect)
        values = [row[name] for row in rows]
        arrays[f"{prefix}{i}"] = [process(v) for v in values] if process else values
        fields.append((f"{prefix}{i}", column.type.compile(dialect)))
    unnest, params = typed_unnest(fields, arrays)
    return names, unnest, params


def typed_unnest(fields: Sequence[tuple[str, str]],
                 arrays: dict[str, list[Any]]) -> tuple[str, dict[str, Any]]:
    """PostgreSQL only: `unnest(...)` of one array parameter per field, each a (name,
    PostgreSQL element type) of `fields`, in that order, sent in binary (psycopg's `%b`)
    and cast to its array type; `arrays` holds each field's values by name. Returns the
    `unnest(...)` text and its parameters. The one place the scheduler's batched
    statements and `insert_arrays` spell their array parameters."""
    casts = ", ".join(f"%({name})b::{kind}[]" for name, kind in fields)
    return f"unnest({casts})", {name: arrays[name] for name, _ in fields}


def insert_arrays(connection: Connection, table: Table, rows: list[dict[str, Any]], *,
                  tail: str = "") -> CursorResult[Any]:
    """PostgreSQL only: insert `rows` (values keyed by column name, every row with the
    same keys) as INSERT ... SELECT FROM unnest(...) with one array parameter per
    column, sent in binary, then `tail` (ON CONFLICT ..., RETURNING ...).

    The statement is the same short text whatever the number of rows, so the driver
    parses it once; a multi-row VALUES list is a new statement of rows x columns
    placeholders at each call, parsed every time, and an executemany a message per row.
    Values go through each column type's bind processing, as in any other insert."""
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    names, unnest, params = unnest_arrays(dialect, table, rows)
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
           f"SELECT * FROM {unnest} {tail}")
    return connection.exec_driver_sql(sql, params)
