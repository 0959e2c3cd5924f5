"""Asynchronous runs waiting for a node (`?wait=false`), and incoming webhooks.

A queued run is a `runs` row with status `queued` (so its id is known at once and GET
/api/v1/runs/{id} shows it) plus a `queued_runs` row that nodes claim as they claim
schedule occurrences: a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL. The queue row
holds the run's inputs unredacted until the run ends (it needs them to run), then drops
them.

A webhook exposes one script at a URL whose secret token is stored only as a digest.
"""

from __future__ import annotations

__all__ = ["QUEUE_STATES", "QueuedRun", "Webhook"]

import datetime as _dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, utcnow
from .scripts import JsonText, UtcDateTime

QUEUE_STATES = ("queued", "running", "finished")
_RunRef = BigInteger().with_variant(Integer(), "sqlite")


class QueuedRun(Base):
    """A run accepted with `?wait=false`, waiting for (or held by) a node."""

    __tablename__ = "queued_runs"
    __table_args__ = (Index("ix_queued_runs_claim", "state", "lease_until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(_RunRef, ForeignKey("runs.id", ondelete="CASCADE"),
                                        unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    script_id: Mapped[int] = mapped_column(ForeignKey("scripts.id", ondelete="CASCADE"))
    script_version: Mapped[int] = mapped_column(Integer)
    inputs: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)
    actor: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16), default="queued")
    lease_owner: Mapped[str | None] = mapped_column(String(120), default=None)
    lease_until: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)


class Webhook(Base):
    """A script exposed at /hooks/{token}; the token is kept as its SHA-256 digest."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    script_id: Mapped[int] = mapped_column(ForeignKey("scripts.id", ondelete="CASCADE"),
                                           index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)
