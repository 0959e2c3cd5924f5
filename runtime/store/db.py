"""The database: where it is, the engine, the declarative Base and sessions.

`SLUICE_DATABASE_URL` selects any SQLAlchemy URL (PostgreSQL for several nodes); the
default is SQLite in `$SLUICE_HOME` (default `~/.local/share/sluicegate`), in WAL mode
with a busy timeout so that a serving process and CLI commands can share it.
"""

from __future__ import annotations

__all__ = ["Base", "sluice_home", "database_url", "make_engine", "session_factory",
           "utcnow"]

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
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
    url = url or database_url()
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 10})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
