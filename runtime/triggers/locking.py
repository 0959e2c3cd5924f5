"""How write transactions begin: IMMEDIATE on SQLite, so a transaction that reads before
it writes waits for the database's single write lock (busy timeout) instead of failing
with "database is locked" when another connection committed in between (WAL rule).
PostgreSQL needs nothing here: it locks rows, and the scheduler adds SKIP LOCKED."""

from __future__ import annotations

__all__ = ["begin_write"]

from sqlalchemy.orm import Session


def begin_write(session: Session) -> None:
    """Call first thing in a session that will write."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
