"""Schedules and their occurrences.

A schedule says when a schedule script runs (its recurrence, time zone, start and end),
what happens after downtime (misfire policy), whether runs may overlap, and how failures
are retried. Every fire time becomes an `Occurrence` row whose (schedule, fire time) key
is unique, so that however many nodes materialize the same schedule, an occurrence exists
once; nodes claim due occurrences under a lease (`lease_owner`, `lease_expires_at`) that
they renew while the run lasts, and a lease that expires makes the occurrence claimable
again, as a retry.

Occurrence states: pending (waiting until `due_at`) -> running (leased) -> succeeded |
failed | skipped; running -> pending again for a retry or when a node shuts down.
"""

from __future__ import annotations

__all__ = ["MISFIRE_POLICIES", "OCCURRENCE_STATES", "Occurrence", "Schedule"]

import datetime as _dt
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, utcnow
from .scripts import JsonText, UtcDateTime

OCCURRENCE_STATES = ("pending", "running", "succeeded", "failed", "skipped")
MISFIRE_POLICIES = ("run_once", "skip")


class Schedule(Base):
    """When and how a schedule script runs."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    script_id: Mapped[int] = mapped_column(ForeignKey("scripts.id", ondelete="CASCADE"),
                                           index=True)
    # the recurrence rule as data (kind, interval, days, ...): triggers.recurrence
    recurrence: Mapped[dict[str, Any]] = mapped_column(JsonText)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    start_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime)
    end_after: Mapped[int | None] = mapped_column(Integer, default=None)
    end_on: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    misfire: Mapped[str] = mapped_column(String(16), default="run_once")
    misfire_grace: Mapped[float] = mapped_column(Float, default=60.0)
    no_overlap: Mapped[bool] = mapped_column(Boolean, default=True)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    retry_backoff: Mapped[float] = mapped_column(Float, default=30.0)
    inputs: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # the earliest fire time not yet materialized as an occurrence; null once ended
    next_fire_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None,
                                                              index=True)
    fired_count: Mapped[int] = mapped_column(Integer, default=0)
    # no-overlap guard: the occurrence that holds the schedule, and until when
    busy_occurrence_id: Mapped[int | None] = mapped_column(Integer, default=None)
    busy_until: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Occurrence(Base):
    """One fire time of a schedule and what became of it."""

    __tablename__ = "schedule_occurrences"
    __table_args__ = (
        UniqueConstraint("schedule_id", "fire_at"),
        Index("ix_schedule_occurrences_claim", "state", "due_at"),
        Index("ix_schedule_occurrences_lease", "state", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    fire_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    reclaims: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(120), default=None)
    lease_expires_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    run_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    finished_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)
