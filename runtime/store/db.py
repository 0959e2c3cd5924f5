"""The database: where it is, the engine, the declarative Base and sessions.

`SLUICE_DATABASE_URL` selects any SQLAlchemy URL (PostgreSQL for several nodes); the
default is SQLite in `$SLUICE_HOME` (default `~/.local/share/sluicegate`), in WAL mode
with a busy timeout so that a serving process and CLI commands can share it.
"""

from __future__ import annotations

__all__ = ["Base", "DatabaseUrlError", "sluice_home", "database_url", "make_engine",
           "normalize_url", "session_factory", "utcnow"]

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
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


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (default: `database_url()`); SQLite gets WAL and a busy timeout."""
    url = normalize_url(url or database_url())
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 10})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
