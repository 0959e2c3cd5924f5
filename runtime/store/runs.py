"""The run history: one row per execution of a stored script, whatever triggered it.

A row keeps what is needed to understand and replay a run: the trigger, the script and
version, the inputs (secrets redacted), logs (capped), the return value, the error with
its position, statistics, the HTTP trace, the mail outbox, and when it started and ended.
"""

from __future__ import annotations

__all__ = ["NEW_RUNS", "RUN_TRIGGERS", "InsertedRun", "Run", "insert_claimed_runs",
           "note_inserted"]

import datetime as _dt
from typing import Any

from sqlalchemy import (
    BigInteger, Boolean, Connection, ForeignKey, Index, Integer, String, insert,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, insert_arrays, utcnow
from .scripts import JsonText, UtcDateTime

RUN_TRIGGERS = ("function", "button", "schedule", "replay", "cli", "webhook")

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids
_RunId = BigInteger().with_variant(Integer(), "sqlite")


class Run(Base):
    """One recorded execution."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_script_started", "script_name", "started_at"),
        # one record per claim of an occurrence (the fencing token): migration 0002
        Index("uq_runs_occurrence_attempt", "occurrence_id", "attempt", unique=True),
        # newest-first pages of one status / trigger / script (the console): migration 0003
        Index("ix_runs_status_id", "status", "id"),
        Index("ix_runs_trigger_id", "trigger", "id"),
        Index("ix_runs_script_id_order", "script_name", "id"),
    )

    id: Mapped[int] = mapped_column(_RunId, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))
    script_id: Mapped[int | None] = mapped_column(
        ForeignKey("scripts.id", ondelete="SET NULL"), default=None)
    script_name: Mapped[str] = mapped_column(String(100))
    script_version: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(16))
    inputs: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)
    logs: Mapped[list[str]] = mapped_column(JsonText, default=list)
    logs_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    return_value: Mapped[Any] = mapped_column("return", JsonText, nullable=True, default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(JsonText, default=None)
    stats: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)
    http: Mapped[list[dict[str, Any]]] = mapped_column(JsonText, default=list)
    mail: Mapped[list[dict[str, Any]]] = mapped_column(JsonText, default=list)
    started_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    finished_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # no foreign key: a run outlives the schedule that fired it
    schedule_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    occurrence_id: Mapped[int | None] = mapped_column(Integer, default=None)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    replay_of: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), default=None)
    node: Mapped[str] = mapped_column(String(120), default="")
    actor: Mapped[str] = mapped_column(String(200), default="")


# Where a session keeps the runs it wrote until its transaction commits (the run
# observer of `observability.runs` counts and logs them then, once).
NEW_RUNS = "sluice_new_runs"


class InsertedRun:
    """A run row written by a batched Core INSERT (no ORM object): what the run observer
    reads of a `Run`, under the same attribute names."""

    __slots__ = ("id", "trigger", "script_name", "script_version", "status", "stats",
                 "http", "error", "started_at", "finished_at", "node")

    def __init__(self, run_id: int, values: dict[str, Any]) -> None:
        self.id = run_id
        for name in self.__slots__[1:]:
            setattr(self, name, values.get(name))


def note_inserted(session: Session, runs: list[InsertedRun]) -> None:
    """Runs inserted without the ORM in `session`'s transaction: observed at its commit
    like those the ORM flushed (dropped with a rollback)."""
    session.info.setdefault(NEW_RUNS, []).extend(runs)


def insert_claimed_runs(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the records of claimed runs (column values keyed by column name, every
    row with the same keys, `occurrence_id` and `attempt` set and distinct between
    rows); returns their ids in the order of `rows`. Rows may carry their `id` (every
    row then), taken from the runs' sequence beforehand.

    On PostgreSQL, one INSERT from an array per column (`db.insert_arrays`: the same
    short statement whatever the batch size); ids are matched to rows by their
    (occurrence, attempt). Elsewhere, a multi-row INSERT ... RETURNING in the order of
    the rows."""
    table = Run.__table__
    if connection.dialect.name == "postgresql" and "id" in rows[0]:
        # ids taken from the runs' sequence beforehand (the scheduler's fenced settlement)
        insert_arrays(connection, table, rows)
        return [row["id"] for row in rows]
    if connection.dialect.name != "postgresql":
        return list(connection.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            rows).scalars())
    ids = {(occurrence, attempt): run_id for run_id, occurrence, attempt in insert_arrays(
        connection, table, rows, tail="RETURNING id, occurrence_id, attempt")}
    return [ids[(row["occurrence_id"], row["attempt"])] for row in rows]
