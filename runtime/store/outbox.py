"""The mail outbox: one row per message a run sent, delivered after the run by a node.

A row is `pending` until a node claims it (a lease, as scheduler occurrences are claimed:
`FOR UPDATE SKIP LOCKED` on PostgreSQL), then `sent`, or `pending` again with a later
`next_attempt_at` after a temporary failure, or `failed` after a permanent one or the
last attempt. `not_sent` rows were recorded where no SMTP server was configured.
"""

from __future__ import annotations

__all__ = ["MAIL_STATES", "OutboxMessage"]

import datetime as _dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from .db import Base, utcnow
from .runs import Run
from .scripts import JsonText, UtcDateTime

MAIL_STATES = ("pending", "sending", "sent", "failed", "not_sent")
_RunRef = BigInteger().with_variant(Integer(), "sqlite")


class OutboxMessage(Base):
    """One message waiting for delivery, or the record of how its delivery went."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "state", "next_attempt_at"),
                      Index("ix_mail_outbox_sender_sent", "sender", "sent_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(_RunRef, ForeignKey("runs.id", ondelete="CASCADE"),
                                        index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[dict[str, Any]] = mapped_column(JsonText, default=dict)
    # the envelope sender, lower-case: the daily limit counts per sender
    sender: Mapped[str] = mapped_column(String(254), default="")
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(120), default=None)
    lease_until: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    sent_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    # runs gain `outbox`: a run row saved with its messages saves them in one transaction
    # (the database deletes a run's messages with it: pruning deletes runs in bulk)
    run: Mapped[Run] = relationship(backref=backref("outbox", passive_deletes=True))
