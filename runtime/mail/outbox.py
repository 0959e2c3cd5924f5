"""The outbox: messages recorded with their run, delivered afterwards by any node.

    outbox_rows(mail, deliver)   the rows a run's messages become (saved with the run)
    public_mail(mail)            the messages as the run record shows them (no file bytes)
    Outbox                       claim due messages (a lease; FOR UPDATE SKIP LOCKED on
                                 PostgreSQL, as scheduler occurrences), record the outcome,
                                 read a run's delivery states, count the backlog
    MailCourier                  a node's loop: claim, send, record, with backoff

A message whose node dies mid-delivery is claimed again when its lease expires, so
delivery is at least once: a server that accepted the message just before the node died
gets it twice. Temporary failures are retried after 30 s, 1 min, 2 min, ... up to one hour
apart, eight attempts in all; a permanent failure (a 5xx answer, a bad address) is final.
A sender that sent 500 messages in the last 24 hours (the vendor's daily sendmail limit)
has its next messages deferred, not failed, until the window frees.
"""

from __future__ import annotations

__all__ = ["NO_SMTP", "MailCourier", "Outbox", "outbox_rows", "public_mail"]

import datetime as _dt
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ..store.db import utcnow
from ..store.outbox import OutboxMessage
from .message import BadMessage, build_message, envelope
from .smtp import PartialDelivery, PermanentFailure, TemporaryFailure

log = logging.getLogger("sluicegate.mail")

NO_SMTP = "not delivered: no SMTP configured"
DAILY_LIMIT = 500   # messages a sender may send in 24 hours (the vendor's sendmail limit)
_DAY = _dt.timedelta(days=1)
_PRIVATE = ("files",)   # keys of a recorded message kept only in the outbox


def public_mail(mail: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages without their attachments' bytes (the run record and API answers)."""
    return [{k: v for k, v in m.items() if k not in _PRIVATE} if isinstance(m, dict) else m
            for m in mail]


def outbox_rows(mail: list[dict[str, Any]], *, deliver: bool) -> list[OutboxMessage]:
    """One row per message: `pending` when this host delivers mail, else `not_sent`."""
    rows = []
    for position, message in enumerate(mail):
        if not isinstance(message, dict):
            continue
        sender = str(message.get("from") or "").strip().lower()[:254]
        rows.append(OutboxMessage(position=position, message=dict(message), sender=sender,
                                  state="pending" if deliver else "not_sent",
                                  attempts=0, next_attempt_at=utcnow(),
                                  last_error=None if deliver else NO_SMTP))
    return rows


@dataclass(frozen=True)
class Claimed:
    """A message this node is delivering."""

    id: int
    run_id: int
    message: dict[str, Any]
    attempts: int


class Outbox:
    """The outbox table: claims, outcomes and read-outs."""

    def __init__(self, sessions: sessionmaker[Session], *, max_attempts: int = 8,
                 first_backoff: float = 30.0, max_backoff: float = 3600.0,
                 now: Callable[[], _dt.datetime] = utcnow) -> None:
        self.sessions = sessions
        self.max_attempts = max_attempts
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.now = now

    def claim(self, node: str, limit: int, lease: float) -> list[Claimed]:
        """Take up to `limit` due messages (and those whose lease expired) for `node`."""
        now = self.now()
        M = OutboxMessage
        due = or_(((M.state == "pending") & (M.next_attempt_at <= now)),
                  ((M.state == "sending") & (M.lease_until < now)))
        pick = select(M.id).where(due).order_by(M.next_attempt_at).limit(limit)
        with self.sessions() as s:
            dialect = s.get_bind().dialect.name
            if dialect == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            else:
                s.connection().exec_driver_sql("BEGIN IMMEDIATE")
            rows = s.execute(
                update(M).where(M.id.in_(pick.scalar_subquery()))
                .values(state="sending", claimed_by=node,
                        lease_until=now + _dt.timedelta(seconds=lease),
                        attempts=M.attempts + 1)
                .returning(M.id, M.run_id, M.message, M.attempts)
                .execution_options(synchronize_session=False)).all()
            s.commit()
        return [Claimed(r.id, r.run_id, r.message, r.attempts) for r in rows]

    def _finish(self, claimed: Claimed, node: str, **values: Any) -> bool:
        M = OutboxMessage
        with self.sessions() as s:
            done = s.execute(update(M).where(M.id == claimed.id, M.claimed_by == node,
                                             M.state == "sending")
                             .values(lease_until=None, **values)
                             .execution_options(synchronize_session=False)).rowcount
            s.commit()
        return bool(done)

    def sent(self, claimed: Claimed, node: str, note: str | None = None) -> bool:
        return self._finish(claimed, node, state="sent", sent_at=self.now(), last_error=note)

    def failed(self, claimed: Claimed, node: str, error: str, *, permanent: bool) -> str:
        """Record a failure; returns the new state (`pending` again, or `failed`)."""
        if permanent or claimed.attempts >= self.max_attempts:
            self._finish(claimed, node, state="failed", last_error=error)
            return "failed"
        delay = min(self.max_backoff, self.first_backoff * 2 ** (claimed.attempts - 1))
        self._finish(claimed, node, state="pending", last_error=error,
                     next_attempt_at=self.now() + _dt.timedelta(seconds=delay))
        return "pending"

    def sent_since(self, sender: str, since: _dt.datetime) -> tuple[int, _dt.datetime | None]:
        """How many messages `sender` had sent since `since`, and the oldest of them."""
        M = OutboxMessage
        with self.sessions() as s:
            count, oldest = s.execute(select(func.count(), func.min(M.sent_at)).where(
                M.sender == sender, M.state == "sent", M.sent_at > since)).one()
        return int(count), oldest

    def defer(self, claimed: Claimed, node: str, until: _dt.datetime, reason: str) -> None:
        """Put a message back, not counted as an attempt, until `until`."""
        self._finish(claimed, node, state="pending", last_error=reason,
                     attempts=max(0, claimed.attempts - 1), next_attempt_at=until)

    def states(self, run_id: int) -> dict[int, dict[str, Any]]:
        """The delivery state of each message of a run, by its position in the run."""
        with self.sessions() as s:
            rows = s.scalars(select(OutboxMessage).where(OutboxMessage.run_id == run_id)
                             .order_by(OutboxMessage.position)).all()
        return {r.position: _delivery(r) for r in rows}

    def backlog(self) -> dict[str, int]:
        """How many messages are in each state (the metrics' outbox gauge)."""
        with self.sessions() as s:
            rows = s.execute(select(OutboxMessage.state, func.count())
                             .group_by(OutboxMessage.state)).all()
        return {state: int(count) for state, count in rows}


def _delivery(row: OutboxMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"state": row.state, "attempts": row.attempts}
    if row.last_error:
        out["error" if row.state != "not_sent" else "reason"] = row.last_error
    if row.sent_at is not None:
        out["sent_at"] = row.sent_at.isoformat()
    if row.state == "pending" and (row.attempts or row.last_error):
        out["next_attempt_at"] = row.next_attempt_at.isoformat()
    return out


def with_delivery(mail: list[dict[str, Any]], states: dict[int, dict[str, Any]]
                  ) -> list[dict[str, Any]]:
    """The run's messages, each with its `delivery` state when the outbox has one."""
    return [{**m, "delivery": states[i]} if i in states and isinstance(m, dict) else m
            for i, m in enumerate(mail)]


class MailCourier:
    """A node's delivery loop on a thread: claims due messages and sends them."""

    def __init__(self, outbox: Outbox, transport: Any, *, node: str | None = None,
                 poll: float = 1.0, batch: int = 10, lease: float = 300.0,
                 daily_limit: int = DAILY_LIMIT,
                 observe: Callable[[str], None] | None = None) -> None:
        self.outbox = outbox
        self.transport = transport
        self.node = node or f"{socket.gethostname()}:mail"
        self.poll = poll
        self.batch = batch
        self.lease = lease
        self.daily_limit = daily_limit
        self.observe = observe or (lambda outcome: None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._domain = socket.getfqdn()

    def deliver_due(self) -> int:
        """Claim and send what is due now; returns how many messages were handled."""
        claimed = self.outbox.claim(self.node, self.batch, self.lease)
        for item in claimed:
            if self._stop.is_set():
                break
            self._deliver(item)
        return len(claimed)

    def _over_daily_limit(self, item: Claimed, sender: str) -> bool:
        """Defer the message when its sender reached the daily limit (the vendor's:
        500 messages a day); it goes out when the oldest of those is a day old."""
        now = self.outbox.now()
        count, oldest = self.outbox.sent_since(sender.lower(), now - _DAY)
        if count < self.daily_limit:
            return False
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=_dt.timezone.utc)
        until = (oldest or now) + _DAY
        self.outbox.defer(item, self.node, until, f"deferred: {sender} sent "
                          f"{self.daily_limit} messages in the last 24 hours (the daily "
                          "limit); it goes out after " + until.isoformat(timespec="seconds"))
        self.observe("deferred")
        return True

    def _deliver(self, item: Claimed) -> None:
        try:
            sender, recipients = envelope(item.message)
            if self._over_daily_limit(item, sender):
                return
            self.transport.send(build_message(item.message, domain=self._domain), sender,
                                recipients)
        except PartialDelivery as exc:
            self.outbox.sent(item, self.node, note=str(exc))
            self.observe("partial")
        except (BadMessage, PermanentFailure) as exc:
            self.outbox.failed(item, self.node, str(exc), permanent=True)
            log.warning("mail %s of run %s not delivered: %s", item.id, item.run_id, exc)
            self.observe("failed")
        except TemporaryFailure as exc:
            state = self.outbox.failed(item, self.node, str(exc), permanent=False)
            log.warning("mail %s of run %s: attempt %s failed (%s); %s", item.id,
                        item.run_id, item.attempts, exc,
                        "will retry" if state == "pending" else "giving up")
            self.observe("retry" if state == "pending" else "failed")
        except Exception as exc:  # a bug of ours must not stop the loop for every message
            log.exception("mail %s of run %s: internal error", item.id, item.run_id)
            self.outbox.failed(item, self.node, f"internal error: {type(exc).__name__}",
                               permanent=False)
            self.observe("retry")
        else:
            self.outbox.sent(item, self.node)
            self.observe("sent")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sluice-mail", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                handled = self.deliver_due()
            except Exception:  # the database is away: try again after the poll interval
                log.exception("mail delivery loop: cannot read the outbox")
                handled = 0
            if handled < self.batch:
                self._stop.wait(self.poll)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
