"""The scheduler's steps against the shared database, safe with any number of nodes.

1. `materialize`: turn each active schedule's fire times up to a short look-ahead into
   occurrence rows. The due schedules are read, their fire times computed with no
   transaction open; then one short transaction locks them (FOR UPDATE SKIP LOCKED on
   PostgreSQL), keeps those whose `next_fire_at` is still the one computed from (a
   compare-and-set), advances them and inserts their occurrences with ON CONFLICT DO
   NOTHING on the unique (schedule, fire time) key, so a fire time never becomes two
   occurrences. A schedule skipped because another node holds it stays due: it is taken
   on a later pass, never passed over. Fire times older than the misfire grace were
   missed (no node was running): the `run_once` policy runs the latest of them now, `skip`
   runs none; every missed one that does not run is recorded as skipped, with the reason.
2. `claim`: one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n)
   RETURNING takes due occurrences, and occurrences whose lease expired (their node died),
   under a lease owned by this node; the claim increments `attempt`, which is the
   claim's fencing token. On SQLite the same single statement is atomic (the database
   has one writer), and write transactions begin IMMEDIATE so they wait for the lock
   instead of failing on upgrade.
3. `execute`: run the script through the executor (no database access), with the
   claim's `RunLease`, which stops the run when the lease is lost or runs out.
4. `finish`: record runs and settle occurrences in one transaction per batch, only where
   the row still carries this node's token: an UPDATE fenced on (id, attempt, owner)
   takes the rows first, and only those get a run record (the unique index on
   runs (occurrence_id, attempt) backs this up). A superseded run records nothing.
   Failures are retried with exponential backoff.
5. `heartbeat` renews this node's leases, fenced the same way, and reports the ones
   lost; `requeue` hands unfinished work back when the node stops.

Every transaction is short: none stays open while a script runs, an HTTP call is made or
fire times are computed, so a node that freezes holds no lock that others wait for
(and the session guards of `store.db.SessionGuards` end any that it does).

`run_due(now)` does one pass of all of them synchronously, which is what tests drive with
an injected clock; `node.SchedulerNode` loops over them with threads in a service.
"""

from __future__ import annotations

__all__ = ["Claim", "Finished", "Scheduler", "SchedulerSettings"]

import datetime as _dt
import logging
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY, Integer, Table, and_, bindparam, case, cast,
    func, literal, or_, select, tuple_, update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, sessionmaker

from ..engine import RunResult
from ..limits import PROFILES, Limits
from ..store.schedules import Occurrence, Schedule
from ..store.runs import InsertedRun, Run, insert_claimed_runs, note_inserted
from ..store.scripts import Script, ScriptVersion, UtcDateTime
from .clock import Clock, SystemClock
from .executor import Executor
from .history import RunHistory
from .inputs import InputDefaults, actor_user, schedule_inputs
from .launcher import node_name
from .lease import RunLease, run_key
from .locking import begin_write
from .schedules import timing_of
from .pgbatch import advance_and_insert, run_id_sequence, settle_fenced

log = logging.getLogger("sluicegate.scheduler")

_US = _dt.timedelta(microseconds=1)
_MAX_SKIPPED_ROWS = 1000   # missed fire times recorded one by one; the rest are counted
_SPREAD = 4   # a backlog of due schedules: a pass takes a random slice of 4 passes' worth
_MAX_BACKOFF = 3600.0
_STILL_RUNNING = "the previous run of this schedule was still running (no-overlap)"
# Core tables, for executemany statements (one round trip for a batch of rows)
_SCHEDULES: Table = Schedule.__table__  # type: ignore[assignment]
_OCCURRENCES: Table = Occurrence.__table__  # type: ignore[assignment]
# what `_materialize_one` and `timing_of` read of a schedule
_TIMING_COLUMNS = (Schedule.id, Schedule.name, Schedule.recurrence, Schedule.timezone,
                   Schedule.end_after, Schedule.end_on, Schedule.misfire,
                   Schedule.misfire_grace, Schedule.next_fire_at, Schedule.fired_count)


@dataclass(frozen=True)
class SchedulerSettings:
    """How a node schedules. Seconds throughout."""

    lease: float = 30.0          # a claim lasts this long unless renewed
    lookahead: float = 2.0       # fire times this close are materialized ahead of time
    # occurrences claimed at once: a node's first claim takes `first_batch`, each claim
    # that comes back full makes the next one twice as large, up to `batch`, and one that
    # comes back short makes it half as large again (SchedulerNode)
    batch: int = 128
    first_batch: int = 16
    max_reclaims: int = 3        # lease expiries tolerated before an occurrence fails
    materialize_limit: int = 200  # schedules materialized per pass


@dataclass
class Claim:
    """An occurrence this node holds, with what is needed to run it."""

    occurrence_id: int
    schedule_id: int
    schedule_name: str
    fire_at: _dt.datetime
    attempt: int
    reclaims: int
    manual: bool
    reason: str | None
    script_id: int | None = None
    script_name: str = ""
    version: int | None = None
    source: str | None = None
    inputs: dict[str, Any] | None = None
    no_overlap: bool = False
    retries: int = 0
    retry_backoff: float = 30.0
    skip_reason: str | None = None   # set when the claim must not run
    fail_reason: str | None = None   # set when it cannot run at all
    lease: RunLease | None = None    # the fencing token (attempt) and the local lease

    @property
    def token(self) -> tuple[int, int]:
        """What fences this claim's writes: the occurrence and the attempt it claimed."""
        return self.occurrence_id, self.attempt


@dataclass
class Finished:
    """A claim after execution (or the decision not to execute it)."""

    claim: Claim
    result: RunResult | None
    started_at: _dt.datetime
    finished_at: _dt.datetime
    cancelled: bool = False   # stopped (or never started) because the lease ran out


class Scheduler:
    """Materializes, claims, executes and settles schedule occurrences for one node."""

    def __init__(self, sessions: sessionmaker[Session], executor: Executor,
                 history: RunHistory, *, clock: Clock | None = None,
                 settings: SchedulerSettings | None = None, node: str | None = None,
                 defaults: InputDefaults | None = None, limits: Limits | None = None) -> None:
        self.sessions = sessions
        self.executor = executor
        self.history = history
        self.clock = clock or SystemClock()
        self.settings = settings or SchedulerSettings()
        self.node = node or node_name()
        self.defaults = defaults or InputDefaults.from_environment()
        self.limits = limits or PROFILES["schedule"]
        bind = sessions.kw.get("bind")
        self.dialect = bind.dialect.name if bind is not None else "sqlite"
        # the last `materialize` found a full slice of due schedules: there may be more
        self.backlog = False
        self._run_seq: str | None = None   # PostgreSQL: the sequence of run ids ("": none)

    # -- one synchronous pass ------------------------------------------------------------
    def run_due(self, now: _dt.datetime | None = None) -> int:
        """Materialize, claim, run and settle everything due at `now`; returns how many
        occurrences were settled."""
        now = now or self.clock.now()
        self.materialize(now)
        settled = 0
        while True:
            claims = self.claim(now, self.settings.batch)
            if not claims:
                return settled
            done = [self.execute(c, now) for c in claims]
            self.finish(done, now)
            settled += len(done)

    # -- 1. materialize ------------------------------------------------------------------
    def materialize(self, now: _dt.datetime) -> int:
        """Create the occurrences of fire times up to now + lookahead; returns how many.

        The fire times are computed outside any transaction; the write is one short
        transaction whatever the number of schedules: on PostgreSQL one statement (the
        locked compare-and-set and the insert, `pgbatch.advance_and_insert`) and the
        commit; elsewhere the re-read of their `next_fire_at` under the write lock, one
        batched compare-and-set, one batched insert and the commit."""
        horizon = now + _dt.timedelta(seconds=self.settings.lookahead)
        limit = self.settings.materialize_limit
        with self.sessions() as s:
            ids = s.scalars(select(Schedule.id).where(Schedule.paused.is_(False),
                                                      Schedule.next_fire_at.is_not(None),
                                                      Schedule.next_fire_at <= horizon)
                            .order_by(Schedule.next_fire_at)
                            .limit(limit * _SPREAD)).all()
            self.backlog = len(ids) > limit
            if len(ids) > limit:
                # more are due than one pass takes (many schedules firing at one
                # instant): each node takes a random slice of the earliest, so that
                # nodes materializing at the same time mostly take different schedules
                # instead of computing the same ones and losing them to the lock
                ids = random.sample(ids, limit)
            # the columns fire times are computed from, as plain rows (not ORM objects)
            due = s.execute(select(*_TIMING_COLUMNS).where(Schedule.id.in_(ids))
                            .order_by(Schedule.next_fire_at)).all() if ids else []
        if not due:
            return 0
        planned: dict[int, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        for schedule in due:
            try:
                planned[schedule.id] = self._materialize_one(schedule, now, horizon)
            except Exception:  # one unreadable schedule must not stop all the others
                log.exception("schedule %s (id %s) could not be materialized; skipped",
                              schedule.name, schedule.id)
        if not planned:
            return 0
        if self.dialect == "postgresql":
            # one statement: locked compare-and-set, and the occurrences of exactly the
            # schedules it advanced (pgbatch.advance_and_insert)
            advances = [advance for advance, _ in planned.values()]
            rows = [row for _, occurrences in planned.values() for row in occurrences]
            with self.sessions() as s:
                advanced = advance_and_insert(s.connection(), _OCCURRENCES, advances, rows)
                s.commit()
            return sum(len(planned[sid][1]) for sid in advanced)
        with self.sessions() as s:
            begin_write(s)   # SQLite: the database's write lock, taken before the re-read
            current = {row.id: row.next_fire_at for row in s.execute(
                select(Schedule.id, Schedule.next_fire_at).where(
                    Schedule.id.in_(list(planned))))}
            advances: list[dict[str, Any]] = []
            rows: list[dict[str, Any]] = []
            for schedule_id, (advance, occurrences) in planned.items():
                if schedule_id in current and current[schedule_id] == advance["b_old"]:
                    advances.append(advance)
                    rows.extend(occurrences)
            if advances:
                # the write lock is held; the compare-and-set on the old value is a
                # second guard
                self._advance(s, advances)
            if rows:
                s.execute(sqlite.insert(Occurrence).on_conflict_do_nothing(
                    index_elements=["schedule_id", "fire_at"]), rows)
            s.commit()
        return len(rows)

    def _advance(self, s: Session, advances: list[dict[str, Any]]) -> None:
        """Move each schedule's next fire time on, compare-and-set on the old one (the
        portable path; PostgreSQL's is part of `pgbatch.advance_and_insert`)."""
        t = _SCHEDULES.c
        s.connection().execute(
            update(_SCHEDULES).where(t.id == bindparam("b_id"),
                                     t.next_fire_at == bindparam("b_old"))
            .values(next_fire_at=bindparam("b_next"), fired_count=bindparam("b_count")),
            advances)

    def _materialize_one(self, schedule: Any, now: _dt.datetime,
                         horizon: _dt.datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The schedule's advance (for the batched update) and its new occurrence rows."""
        timing = timing_of(schedule)
        grace = _dt.timedelta(seconds=schedule.misfire_grace)
        old_next = schedule.next_fire_at
        assert old_next is not None
        count = schedule.fired_count
        on_time: list[_dt.datetime] = []
        missed: list[_dt.datetime] = []
        missed_total = 0
        next_fire: _dt.datetime | None = None
        for fire in timing.fire_times(after=old_next - _US):
            if schedule.end_after is not None and count >= schedule.end_after:
                break
            if fire > horizon:
                next_fire = fire
                break
            count += 1
            if fire < now - grace:
                missed_total += 1
                if len(missed) < _MAX_SKIPPED_ROWS:
                    missed.append(fire)
                else:
                    missed[-1] = fire  # keep the latest, for run_once
            else:
                on_time.append(fire)
        advance = {"b_id": schedule.id, "b_old": old_next, "b_next": next_fire,
                   "b_count": count}
        rows: list[dict[str, Any]] = []
        run_latest = schedule.misfire == "run_once" and missed and not on_time
        why = ("missed while no scheduler was running; misfire policy "
               + ("run_once runs only the latest missed time" if schedule.misfire ==
                  "run_once" else "skip runs none of them"))
        for i, fire in enumerate(missed):
            if run_latest and i == len(missed) - 1:
                rows.append(self._pending(schedule.id, fire, now, now,
                                          f"missed at {fire.isoformat()}; run once after "
                                          "downtime (misfire policy run_once)"))
                continue
            reason = why
            if on_time and schedule.misfire == "run_once":
                reason = "missed while no scheduler was running; an on-time run follows"
            if i == len(missed) - 1 and missed_total > len(missed):
                reason += f" ({missed_total - len(missed)} more missed times not listed)"
            rows.append({"schedule_id": schedule.id, "fire_at": fire, "due_at": fire,
                         "state": "skipped", "manual": False, "attempt": 0, "reclaims": 0,
                         "reason": reason, "created_at": now, "finished_at": now})
        for fire in on_time:
            rows.append(self._pending(schedule.id, fire, fire, now, None))
        return advance, rows

    @staticmethod
    def _pending(schedule_id: int, fire: _dt.datetime, due: _dt.datetime,
                 now: _dt.datetime, reason: str | None) -> dict[str, Any]:
        # every row carries the same keys: one multi-row INSERT for the whole batch
        return {"schedule_id": schedule_id, "fire_at": fire, "due_at": due,
                "state": "pending", "manual": False, "attempt": 0, "reclaims": 0,
                "reason": reason, "created_at": now, "finished_at": None}

    # -- 2. claim ------------------------------------------------------------------------
    def claim(self, now: _dt.datetime, limit: int) -> list[Claim]:
        """Take up to `limit` due or abandoned occurrences under a lease of this node."""
        if limit <= 0:
            return []
        lease_until = now + _dt.timedelta(seconds=self.settings.lease)
        O = Occurrence
        due = or_(and_(O.state == "pending", O.due_at <= now),
                  and_(O.state == "running", O.lease_expires_at < now))
        pick = select(O.id).where(due).order_by(O.due_at).limit(limit)
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        expired = O.state == "running"
        stmt = (update(O).where(O.id.in_(pick.scalar_subquery()))
                .values(state="running", lease_owner=self.node, lease_expires_at=lease_until,
                        attempt=O.attempt + 1, started_at=now,
                        reclaims=O.reclaims + case((expired, 1), else_=0),
                        reason=case((expired, literal("re-claimed after the lease of ")
                                     + func.coalesce(O.lease_owner, "?")
                                     + literal(" expired")), else_=O.reason))
                .returning(O.id, O.schedule_id, O.fire_at, O.attempt, O.reclaims, O.manual,
                           O.reason)
                .execution_options(synchronize_session=False))
        sent = time.monotonic()  # the local lease counts from before the database's
        with self.sessions() as s:
            begin_write(s)
            rows = s.execute(stmt).all()
            claims = [Claim(r.id, r.schedule_id, "", r.fire_at, r.attempt, r.reclaims,
                            r.manual, r.reason, lease=RunLease(r.attempt, 0.0))
                      for r in rows]
            for c in claims:
                assert c.lease is not None
                c.lease.renewed(self.settings.lease, sent)
            if claims:
                self._prepare(s, claims, now, lease_until)
            s.commit()
        return claims

    def _prepare(self, s: Session, claims: list[Claim], now: _dt.datetime,
                 lease_until: _dt.datetime) -> None:
        ids = {c.schedule_id for c in claims}
        # the columns a run needs (not whole Schedule objects: their recurrence is not
        # needed here), then the source of each live version once, not once per claim
        rows = s.execute(
            select(Schedule.id, Schedule.name, Schedule.script_id, Schedule.no_overlap,
                   Schedule.retries, Schedule.retry_backoff, Schedule.inputs,
                   Schedule.timezone, Schedule.created_by, Schedule.paused,
                   Script.name.label("script_name"),
                   Script.published_version.label("published"))
            .join(Script, Script.id == Schedule.script_id)
            .where(Schedule.id.in_(ids))).all()
        info = {row.id: row for row in rows}
        live = {(row.script_id, row.published) for row in rows if row.published is not None}
        sources: dict[tuple[int, int], str] = {}
        if live:
            sources = {(r.script_id, r.number): r.source for r in s.execute(
                select(ScriptVersion.script_id, ScriptVersion.number, ScriptVersion.source)
                .where(tuple_(ScriptVersion.script_id, ScriptVersion.number)
                       .in_(sorted(live))))}
        guarded: dict[int, Claim] = {}   # schedule id -> the claim that wants its guard
        defaults = self.defaults.snapshot()   # the organization profile, read once
        for c in claims:
            if c.schedule_id not in info:
                c.fail_reason = "the schedule was deleted"
                continue
            schedule = info[c.schedule_id]
            script_name = schedule.script_name
            source = sources.get((schedule.script_id, schedule.published))
            number = schedule.published if source is not None else None
            c.schedule_name = schedule.name
            c.script_id = schedule.script_id
            c.script_name = script_name
            c.version = number
            c.source = source
            c.no_overlap = schedule.no_overlap
            c.retries = schedule.retries
            c.retry_backoff = schedule.retry_backoff
            c.inputs = schedule_inputs(schedule.inputs, time_zone=schedule.timezone,
                                       defaults=defaults,
                                       actor=actor_user(schedule.created_by or
                                                        f"schedule {schedule.name}"))
            if c.attempt > 1 + c.retries + self.settings.max_reclaims:
                c.fail_reason = (f"gave up after {c.attempt - 1} attempts "
                                 f"({c.reclaims} lost with their node)")
            elif source is None:
                c.fail_reason = f"script '{script_name}' has no published version"
            elif schedule.paused and not c.manual:
                c.skip_reason = "the schedule was paused"
            elif c.no_overlap:
                if c.schedule_id in guarded:  # an earlier claim of this batch runs first
                    c.skip_reason = _STILL_RUNNING
                else:
                    guarded[c.schedule_id] = c
        if guarded:
            held = self._hold(s, guarded, now, lease_until)
            for schedule_id, c in guarded.items():
                if schedule_id not in held:
                    c.skip_reason = _STILL_RUNNING

    def _hold(self, s: Session, guarded: dict[int, Claim], now: _dt.datetime,
              lease_until: _dt.datetime) -> set[int]:
        """Take the no-overlap guard of each schedule for its claim (one compare-and-set
        for the batch); returns the schedules whose guard was taken."""
        if self.dialect == "postgresql":
            # (schedule, occurrence) pairs as two array parameters: one short statement
            # whatever the batch size (a CASE of a WHEN per schedule is a new statement
            # of hundreds of placeholders at every batch, built and parsed each time)
            pairs = select(
                func.unnest(cast(bindparam("h_sids", list(guarded)), ARRAY(Integer)))
                .label("sid"),
                func.unnest(cast(bindparam("h_oids", [c.occurrence_id
                                                      for c in guarded.values()]),
                                 ARRAY(Integer))).label("oid")).subquery()
            holder: Any = pairs.c.oid
            which = Schedule.id == pairs.c.sid
        else:
            holder = case({sid: c.occurrence_id for sid, c in guarded.items()},
                          value=Schedule.id)
            which = Schedule.id.in_(list(guarded))
        taken = s.execute(
            update(Schedule).where(which,
                                   or_(Schedule.busy_occurrence_id.is_(None),
                                       Schedule.busy_occurrence_id == holder,
                                       Schedule.busy_until < now))
            .values(busy_occurrence_id=holder, busy_until=lease_until)
            .returning(Schedule.id)
            .execution_options(synchronize_session=False))
        return set(taken.scalars())

    # -- 3. execute ----------------------------------------------------------------------
    def execute(self, claim: Claim, now: _dt.datetime | None = None) -> Finished:
        """Run a claim's script (or not, when it must be skipped or failed, or when its
        lease ran out before it started). The run stops as soon as its lease does."""
        started = now or self.clock.now()
        if claim.skip_reason or claim.fail_reason or claim.source is None:
            return Finished(claim, None, started, started)
        lease = claim.lease
        if lease is not None and lease.is_set():
            return Finished(claim, None, started, started, cancelled=True)
        result = self.executor.execute(
            claim.source, dict(claim.inputs or {}), self.limits,
            filename=f"{claim.script_name}.dg",
            run_key=run_key(claim.schedule_id, claim.occurrence_id, claim.fire_at),
            cancel=lease)
        # a run that failed once its lease was gone was (most likely) stopped for it
        cancelled = lease is not None and lease.is_set() and not result.ok
        return Finished(claim, result, started, self.clock.now() if now is None else now,
                        cancelled)

    # -- 4. finish -----------------------------------------------------------------------
    def finish(self, done: Sequence[Finished], now: _dt.datetime | None = None, *,
               again: bool = False) -> None:
        """Record runs and settle the occurrences, in one transaction: either all of it
        is written or none of it (a connection lost or a disk full midway rolls back,
        and the caller may call again with `again=True`, which skips runs already
        recorded in case the first commit did land).

        Fenced: the first statement is an UPDATE that takes only the rows still carrying
        this node's token (occurrence, attempt, owner, running) and locks them until the
        commit. A run whose occurrence another node re-claimed meanwhile (its lease was
        lost) is superseded: nothing of it is recorded, the other node's run is the
        occurrence's result. A run stopped because its lease ran out on this node's
        clock, on an occurrence nobody took over, is handed back to run again."""
        if not done:
            return
        now = now or self.clock.now()
        with self.sessions() as s:
            begin_write(s)
            recorded: set[tuple[int, int]] = set()
            if again:
                ids = [f.claim.occurrence_id for f in done]
                recorded = {(r.occurrence_id, r.attempt) for r in s.execute(
                    select(Run.occurrence_id, Run.attempt)
                    .where(Run.occurrence_id.in_(ids), Run.node == self.node))}
            if self.dialect == "postgresql" and self._run_sequence(s):
                held = self._finish_fenced(s, done, recorded, now)
            else:
                held = self._finish_portable(s, done, recorded, now)
            for f in done:
                c = f.claim
                if c.token not in held and c.token not in recorded:
                    log.warning("occurrence %s of schedule %s (attempt %s): superseded; "
                                "the lease was lost before the run ended and another "
                                "node has it now, so nothing of this run is recorded",
                                c.occurrence_id, c.schedule_name, c.attempt)
            s.commit()

    def _finish_portable(self, s: Session, done: Sequence[Finished],
                         recorded: set[tuple[int, int]],
                         now: _dt.datetime) -> set[tuple[int, int]]:
        """Fence, record, settle and release as four statements (SQLite, or a database
        whose run ids are not a sequence); returns the tokens held."""
        held = self._fence(s, [f.claim.token for f in done])
        run_ids = self._record(s, [(f, None) for f in done if self._records(f, recorded)
                                   and f.claim.token in held])
        settle: list[dict[str, Any]] = []
        release: list[tuple[int, int]] = []
        for f in done:
            c = f.claim
            if c.token in held:
                settle.append(self._settlement(f, run_ids.get(id(f)), now))
                if c.no_overlap and not c.skip_reason:
                    release.append((c.schedule_id, c.occurrence_id))
        if settle:
            self._settle(s, settle)
        if release:
            self._release(s, release)
        return held

    def _finish_fenced(self, s: Session, done: Sequence[Finished],
                       recorded: set[tuple[int, int]],
                       now: _dt.datetime) -> set[tuple[int, int]]:
        """PostgreSQL: one statement settles the rows still held (fenced in its UPDATE),
        numbers their run records and frees their guards (`pgbatch.settle_fenced`);
        then the records of exactly those rows are inserted with those ids. Returns the
        tokens held."""
        settle = []
        for f in done:
            values = self._settlement(f, None, now)
            values["o_record"] = self._records(f, recorded)
            values["o_release"] = f.claim.no_overlap and not f.claim.skip_reason
            settle.append(values)
        assert self._run_seq is not None
        rows = settle_fenced(s.connection(), self.node, self._run_seq, settle)
        run_ids = {(oid, attempt): run_id for oid, attempt, run_id in rows}
        self._record(s, [(f, run_ids[f.claim.token]) for f in done
                         if run_ids.get(f.claim.token) is not None])
        return set(run_ids)

    @staticmethod
    def _records(f: Finished, recorded: set[tuple[int, int]]) -> bool:
        """Whether a finished claim gets a run record (it ran, was not cancelled, and
        the record is not already there from a first try whose commit landed)."""
        return f.result is not None and not f.cancelled and f.claim.token not in recorded

    def _run_sequence(self, s: Session) -> str | None:
        if self._run_seq is None:
            self._run_seq = run_id_sequence(s.connection()) or ""
        return self._run_seq

    def _record(self, s: Session, done: list[tuple[Finished, int | None]]) -> dict[int, int]:
        """Insert the run records of `done` (the fenced, held claims, each with the id
        its record takes, or None for a new one); returns run ids by `id(finished)`.
        One INSERT for the batch, without ORM objects (`store.runs.insert_claimed_runs`);
        runs that sent mail go through the ORM, which writes their outbox rows with
        them."""
        run_ids: dict[int, int] = {}
        plain: list[tuple[Finished, dict[str, Any]]] = []
        mailed: list[tuple[Finished, Run]] = []
        for f, run_id in done:
            c = f.claim
            assert f.result is not None
            fields = dict(trigger="schedule", script_id=c.script_id,
                          script_name=c.script_name, script_version=c.version,
                          inputs=c.inputs or {}, result=f.result, started_at=f.started_at,
                          finished_at=f.finished_at, node=self.node,
                          actor=f"schedule {c.schedule_name}", schedule_id=c.schedule_id,
                          occurrence_id=c.occurrence_id, attempt=c.attempt)
            if run_id is not None:
                fields["id"] = run_id
            if f.result.mail:
                mailed.append((f, self.history.row(**fields)))
            else:
                plain.append((f, self.history.values(**fields)))
        if plain:
            rows = [values for _, values in plain]
            ids = insert_claimed_runs(s.connection(), rows)
            run_ids.update((id(f), run_id) for (f, _), run_id in zip(plain, ids, strict=True))
            note_inserted(s, [InsertedRun(run_id, values)
                              for run_id, values in zip(ids, rows, strict=True)])
        if mailed:
            s.add_all([run for _, run in mailed])
            s.flush()
            run_ids.update((id(f), run.id) for f, run in mailed)
        return run_ids

    def _settle(self, s: Session, settle: list[dict[str, Any]]) -> None:
        """Write the settlements, each fenced in its UPDATE: only a row that still
        carries the claim's token (id, attempt) under this node's running lease. The
        portable path's (PostgreSQL settles in `pgbatch.settle_fenced` instead, unless
        the runs table has no sequence to number the records from)."""
        O = _OCCURRENCES.c
        fence = [O.lease_owner == self.node, O.state == "running"]
        new = dict(lease_owner=None, lease_expires_at=None)
        s.connection().execute(
            update(_OCCURRENCES).where(O.id == bindparam("o_id"),
                                       O.attempt == bindparam("o_attempt"), *fence)
            .values(state=bindparam("o_state"), reason=bindparam("o_reason"),
                    run_id=bindparam("o_run"), reclaims=O.reclaims + bindparam("o_lost"),
                    due_at=func.coalesce(bindparam("o_due", type_=UtcDateTime()), O.due_at),
                    finished_at=bindparam("o_finished", type_=UtcDateTime()), **new),
            settle)

    def _fence(self, s: Session, tokens: list[tuple[int, int]]) -> set[tuple[int, int]]:
        """Lock the occurrences that still carry these tokens under this node's lease
        (one UPDATE: the check and the lock are one step); returns the tokens held."""
        O = _OCCURRENCES.c
        rows = s.connection().execute(
            update(_OCCURRENCES).where(tuple_(O.id, O.attempt).in_(tokens),
                                       O.lease_owner == self.node, O.state == "running")
            .values(lease_owner=O.lease_owner).returning(O.id, O.attempt))
        return {(r.id, r.attempt) for r in rows}

    def _settlement(self, f: Finished, run_id: int | None,
                    now: _dt.datetime) -> dict[str, Any]:
        """The new state of a settled occurrence, as parameters of the batched update."""
        c = f.claim
        values: dict[str, Any] = {"o_id": c.occurrence_id, "o_attempt": c.attempt,
                                  "o_run": run_id, "o_due": None, "o_finished": now,
                                  "o_lost": 0}
        if f.cancelled:
            # stopped because the lease ran out here (a stalled node) while nobody took
            # the occurrence over: it runs again, counted like a lease lost with a node
            values.update(o_state="pending", o_due=now, o_finished=None, o_lost=1,
                          o_reason=f"the lease of {self.node} ran out before the run "
                                   "ended; it runs again")
        elif c.fail_reason:
            values.update(o_state="failed", o_reason=c.fail_reason)
        elif c.skip_reason:
            values.update(o_state="skipped", o_reason=c.skip_reason)
        elif f.result is not None and f.result.ok:
            values.update(o_state="succeeded", o_reason=c.reason)
        else:
            error = f.result.error if f.result is not None else None
            message = error.message if error else "the run failed"
            failures = c.attempt - c.reclaims
            if failures <= c.retries:
                delay = min(c.retry_backoff * 2 ** (failures - 1), _MAX_BACKOFF)
                values.update(o_state="pending", o_due=now + _dt.timedelta(seconds=delay),
                              o_finished=None,
                              o_reason=f"retry {failures} of {c.retries} in {delay:g} s "
                                       f"after: {message}")
            else:
                values.update(o_state="failed", o_reason=message)
        return values

    # -- 5. leases -----------------------------------------------------------------------
    def heartbeat(self, claims: Iterable[Claim], now: _dt.datetime | None = None) -> \
            list[Claim]:
        """Renew this node's leases on `claims`, fenced by their tokens; returns the
        claims whose lease is lost (another node re-claimed the occurrence, or it was
        handed back), after marking their `lease` lost so that their runs stop."""
        claims = list(claims)
        if not claims:
            return []
        now = now or self.clock.now()
        until = now + _dt.timedelta(seconds=self.settings.lease)
        sent = time.monotonic()
        O = Occurrence
        with self.sessions() as s:
            begin_write(s)
            held = {(r.id, r.attempt) for r in s.execute(
                update(O).where(tuple_(O.id, O.attempt).in_([c.token for c in claims]),
                                O.lease_owner == self.node, O.state == "running")
                .values(lease_expires_at=until).returning(O.id, O.attempt)
                .execution_options(synchronize_session=False))}
            if held:
                # by primary key: the guard of a schedule only ever holds one of its own
                # occurrences, so the schedules to look at are those of the claims
                ids = sorted({i for i, _ in held})
                s.execute(update(Schedule).where(
                    Schedule.id.in_(sorted({c.schedule_id for c in claims
                                            if c.token in held})),
                    Schedule.busy_occurrence_id.in_(ids))
                          .values(busy_until=until)
                          .execution_options(synchronize_session=False))
            s.commit()
        lost = []
        for c in claims:
            if c.token in held:
                if c.lease is not None:
                    c.lease.renewed(self.settings.lease, sent)
            else:
                if c.lease is not None:
                    c.lease.lose()
                lost.append(c)
        return lost

    def requeue(self, claims: Iterable[Claim], now: _dt.datetime | None = None) -> int:
        """Hand unfinished occurrences back (due now, attempt not counted)."""
        claims = list(claims)
        if not claims:
            return 0
        now = now or self.clock.now()
        O = Occurrence
        with self.sessions() as s:
            begin_write(s)
            ids = [(r.schedule_id, r.id) for r in s.execute(
                update(O).where(tuple_(O.id, O.attempt).in_([c.token for c in claims]),
                                O.lease_owner == self.node, O.state == "running")
                .values(state="pending", due_at=now, lease_owner=None, lease_expires_at=None,
                        attempt=O.attempt - 1,
                        reason=f"re-queued: node {self.node} stopped before the run ended")
                .returning(O.schedule_id, O.id).execution_options(synchronize_session=False))]
            if ids:
                self._release(s, ids)
            s.commit()
        for c in claims:
            if c.lease is not None:
                c.lease.lose()
        return len(ids)

    def next_wakeup(self, now: _dt.datetime) -> _dt.datetime | None:
        """The earliest instant at which there may be work: a due occurrence, a fire time
        to materialize, or a lease to take over."""
        ahead = _dt.timedelta(seconds=self.settings.lookahead)
        with self.sessions() as s:
            due, fire, lease = s.execute(select(
                select(func.min(Occurrence.due_at))
                .where(Occurrence.state == "pending").scalar_subquery(),
                select(func.min(Schedule.next_fire_at))
                .where(Schedule.paused.is_(False)).scalar_subquery(),
                select(func.min(Occurrence.lease_expires_at))
                .where(Occurrence.state == "running",
                       Occurrence.lease_owner != self.node).scalar_subquery())).one()
        candidates = [t for t in (due, fire - ahead if fire else None, lease) if t is not None]
        return _as_utc(min(candidates)) if candidates else None

    # -- helpers -------------------------------------------------------------------------
    def _release(self, s: Session, held: list[tuple[int, int]]) -> None:
        """Free the no-overlap guards held by these (schedule, occurrence) pairs; found
        by the schedules' primary key (an occurrence only ever holds the guard of its
        own schedule), not by a scan of every schedule's guard."""
        s.execute(update(Schedule).where(Schedule.id.in_(sorted({sid for sid, _ in held})),
                                         Schedule.busy_occurrence_id.in_(
                                             sorted({oid for _, oid in held})))
                  .values(busy_occurrence_id=None, busy_until=None)
                  .execution_options(synchronize_session=False))


def _as_utc(value: Any) -> _dt.datetime:
    """Aggregates bypass the column type on some drivers: normalize to aware UTC."""
    if isinstance(value, str):
        value = _dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=_dt.UTC)
    return value.astimezone(_dt.UTC)

