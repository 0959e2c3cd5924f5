"""Fencing, on SQLite and PostgreSQL with a manual clock: a claim's attempt is its token;
a node records a run, settles an occurrence or renews a lease only while the row still
carries it; a superseded run records nothing; a run whose lease ran out stops; the
database refuses a second record of one claim; materializing holds no lock while it
computes and passes over no schedule; the PostgreSQL session guards end a frozen
node's transaction and release its locks."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

import pytest
from sluice_testdb import UTC, ManualClock, wait_until
from sluicegate.engine import Runtime
from sluicegate.limits import Limits
from sluicegate.store.db import SessionGuards, make_engine
from sluicegate.store.runs import Run
from sluicegate.store.schedules import Occurrence, Schedule
from sluicegate.triggers import SchedulerSettings
from sluicegate.triggers.lease import RunLease
from sluicegate.triggers.scheduler import Scheduler
from sluicegate.triggers.setup import Triggers
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError


def at(text_: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text_).replace(tzinfo=UTC)


def scheduler(triggers: Triggers, node: str, lease: float = 30.0) -> Scheduler:
    return Scheduler(triggers.sessions, triggers.executor, triggers.history,
                     clock=triggers.clock, settings=SchedulerSettings(lease=lease), node=node)


def once(triggers: Triggers, clock: ManualClock, name: str = "job") -> None:
    clock.set(at("2025-01-06 09:59"))
    triggers.catalog.save(f"{name}_script", 'info "ran"; return 1;', kind="schedule")
    triggers.schedules.add({"name": name, "script": f"{name}_script", "timezone": "UTC",
                            "recurrence": {"kind": "once"}, "start": "2025-01-06T10:00"})


def runs(triggers: Triggers) -> list[tuple[str, int, str]]:
    with triggers.sessions() as s:
        return [(r.node, r.attempt, r.status)
                for r in s.scalars(select(Run).order_by(Run.id))]


def test_a_node_that_lost_its_lease_records_nothing_and_logs_the_run_as_superseded(
        triggers: Triggers, clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    once(triggers, clock)
    a, b = scheduler(triggers, "node-a"), scheduler(triggers, "node-b")
    clock.set(at("2025-01-06 10:00"))
    a.materialize(clock.now())
    [stale] = a.claim(clock.now(), 10)
    done = a.execute(stale)                       # node a ran it ... and froze
    clock.set(at("2025-01-06 10:00:31"))
    assert b.run_due() == 1                       # its lease expired: b ran it again
    with caplog.at_level(logging.WARNING, "sluicegate.scheduler"):
        a.finish([done])                          # a resumes and tries to record its run
    assert runs(triggers) == [("node-b", 2, "success")]   # one record, b's
    [occ] = triggers.schedules.occurrences("job")
    assert (occ.state, occ.attempt, occ.reclaims) == ("succeeded", 2, 1)
    assert any("superseded" in r.getMessage() and f"occurrence {occ.id}" in r.getMessage()
               for r in caplog.records)
    assert a.heartbeat([stale]) == [stale] and stale.lease is not None
    assert stale.lease.lost and stale.lease.is_set()


def test_the_token_is_the_attempt_so_a_stale_claim_of_the_same_node_is_fenced_too(
        triggers: Triggers, clock: ManualClock) -> None:
    """The owner alone is no fence: a node that froze past its lease and then claimed the
    occurrence again holds two claims of it; only the newer one may write."""
    once(triggers, clock)
    a = scheduler(triggers, "node-a")
    clock.set(at("2025-01-06 10:00"))
    a.materialize(clock.now())
    [first] = a.claim(clock.now(), 10)
    clock.set(at("2025-01-06 10:00:31"))
    [second] = a.claim(clock.now(), 10)
    assert (first.attempt, second.attempt) == (1, 2)
    assert a.heartbeat([first, second]) == [first]     # only the current token is renewed
    a.finish([a.execute(first)])
    assert runs(triggers) == []
    assert triggers.schedules.occurrences("job")[0].state == "running"
    a.finish([a.execute(second)])
    assert runs(triggers) == [("node-a", 2, "success")]
    assert triggers.schedules.occurrences("job")[0].state == "succeeded"


def test_a_run_whose_lease_ran_out_on_its_node_is_stopped_and_handed_back(
        triggers: Triggers, clock: ManualClock) -> None:
    once(triggers, clock)
    a = scheduler(triggers, "node-a")
    clock.set(at("2025-01-06 10:00"))
    a.materialize(clock.now())
    [claim] = a.claim(clock.now(), 10)
    assert claim.lease is not None and not claim.lease.is_set()
    claim.lease.renewed(0.0)          # no renewal for a whole lease: the node stalled
    done = a.execute(claim)
    assert done.cancelled and done.result is None
    a.finish([done])                  # nobody took it over: it goes back, to run again
    [occ] = triggers.schedules.occurrences("job")
    assert (occ.state, occ.attempt, occ.reclaims, occ.lease_owner) == ("pending", 1, 1, None)
    assert occ.reason == "the lease of node-a ran out before the run ended; it runs again"
    assert runs(triggers) == []
    a.run_due()
    assert runs(triggers) == [("node-a", 2, "success")]


def test_an_in_process_run_stops_when_its_lease_is_lost() -> None:
    lease = RunLease(1, 30.0)
    stopped: list[bool] = []
    lease.on_stop(lambda: stopped.append(True))
    items = "{" + ",".join(str(i) for i in range(300)) + "}"  # 27 million loops
    source = (f"n = 0;\nfor each a in {items} {{ for each b in {items} {{ for each c in "
              f"{items} {{ n = n + 1; }} }} }}\nreturn n;")
    timer = threading.Timer(0.1, lease.lose)
    timer.start()
    started = time.monotonic()
    result = Runtime().run(source, limits=Limits(max_statements=100_000_000, timeout=60),
                           cancel=lease)
    timer.join()
    assert stopped == [True]
    if result.ok:  # a machine fast enough for a million loops before the timer fired
        pytest.skip("the run ended before its lease was lost")
    assert result.error is not None and result.error.type == "LimitExceeded"
    assert "no longer holds its lease" in result.error.message
    assert time.monotonic() - started < 5


def test_the_database_refuses_a_second_record_of_one_claim(triggers: Triggers) -> None:
    def run(attempt: int) -> Run:
        return Run(trigger="schedule", script_name="x", status="success", occurrence_id=7,
                   attempt=attempt, schedule_id=1, inputs={}, logs=[], stats={}, http=[],
                   mail=[])

    with triggers.sessions() as s:
        s.add_all([run(1), run(2)])     # one record per attempt (retries) is fine
        s.commit()
        s.add(run(2))
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()
        s.add_all([Run(trigger="function", script_name="f", status="success", attempt=1)
                   for _ in range(2)])  # runs without an occurrence are not compared
        s.commit()


def test_materializing_holds_no_lock_while_it_computes_fire_times(
        triggers: Triggers, clock: ManualClock, db_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's")
    clock.set(at("2025-01-06 08:59"))
    triggers.catalog.save("job_script", "return 1;", kind="schedule")
    triggers.schedules.add({"name": "job", "script": "job_script", "timezone": "UTC",
                            "recurrence": {"kind": "hourly"}, "start": "2025-01-06T09:00"})
    a = scheduler(triggers, "node-a")
    other = make_engine(db_url)
    free: list[bool] = []
    compute = Scheduler._materialize_one

    def probing(self: Scheduler, *args: Any) -> Any:
        with other.connect() as conn:   # another node may lock the schedule meanwhile
            conn.execute(text("SET lock_timeout = 2000"))
            conn.execute(text("SELECT id FROM schedules FOR UPDATE NOWAIT"))
            free.append(True)
            conn.rollback()
        return compute(self, *args)

    monkeypatch.setattr(Scheduler, "_materialize_one", probing)
    try:
        clock.set(at("2025-01-06 12:30"))
        assert a.materialize(clock.now()) == 4
    finally:
        other.dispose()
    assert free == [True]


def test_a_schedule_another_node_has_locked_stays_due_and_is_taken_later(
        triggers: Triggers, clock: ManualClock, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's")
    clock.set(at("2025-01-06 08:59"))
    triggers.catalog.save("job_script", "return 1;", kind="schedule")
    for name in ("locked", "free"):
        triggers.schedules.add({"name": name, "script": "job_script", "timezone": "UTC",
                                "recurrence": {"kind": "hourly"},
                                "start": "2025-01-06T09:00"})
    a = scheduler(triggers, "node-a")
    frozen = make_engine(db_url)
    clock.set(at("2025-01-06 09:00"))
    try:
        with frozen.connect() as conn:   # a node frozen in the middle of its write
            conn.execute(text("SELECT id FROM schedules WHERE name = 'locked' FOR UPDATE"))
            assert a.materialize(clock.now()) == 1
            conn.rollback()
    finally:
        frozen.dispose()
    with triggers.sessions() as s:
        due = s.scalar(select(Schedule.next_fire_at).where(Schedule.name == "locked"))
    assert due == at("2025-01-06 09:00")     # not advanced, not passed over
    assert a.materialize(clock.now()) == 1
    assert [(o.fire_at, o.state) for o in triggers.schedules.occurrences("locked")] == [
        (at("2025-01-06 09:00"), "pending")]


def test_session_guards_end_a_frozen_transaction_and_release_its_locks(
        postgres_url: str) -> None:
    guards = SessionGuards(statement_timeout=2.0, lock_timeout=0.5, idle_in_transaction=1.0)
    guarded = make_engine(postgres_url, guards=guards)
    plain = make_engine(postgres_url)
    try:
        with guarded.connect() as conn:
            shown = [conn.execute(text(f"SHOW {name}")).scalar_one() for name in (
                "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")]
            assert shown == ["2s", "500ms", "1s"]
        with plain.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS guard_probe (id int primary key)"))
            conn.execute(text("INSERT INTO guard_probe VALUES (1) ON CONFLICT DO NOTHING"))
        frozen = guarded.connect()
        frozen.execute(text("SELECT id FROM guard_probe FOR UPDATE"))  # ... then stalls
        with plain.connect() as other:
            # a guarded waiter gives up after lock_timeout
            with pytest.raises(DBAPIError), guarded.connect() as waiter:
                waiter.execute(text("SELECT id FROM guard_probe FOR UPDATE"))

            def lockable() -> bool:
                try:
                    other.execute(text("SELECT id FROM guard_probe FOR UPDATE NOWAIT"))
                except DBAPIError:
                    other.rollback()
                    return False
                other.rollback()
                return True
            wait_until(lockable, 15, "the server to end the idle transaction")
        with pytest.raises(DBAPIError):
            frozen.execute(text("SELECT 1"))   # its session was terminated
        frozen.invalidate()
        frozen.close()
    finally:
        with plain.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS guard_probe"))
        guarded.dispose()
        plain.dispose()


def test_a_node_scheduler_uses_guards_shorter_than_its_lease() -> None:
    guards = SessionGuards.for_lease(30.0)
    assert guards.idle_in_transaction < 30.0 and guards.statement_timeout < 30.0
    assert guards.lock_timeout < guards.statement_timeout
    assert Occurrence.__tablename__ == "schedule_occurrences"


def test_retention_deletes_in_short_slices_with_a_limit_per_pass(
        triggers: Triggers, clock: ManualClock) -> None:
    """A node prunes between its lease renewals, never in one statement that could
    outlive its session guards."""
    from sluicegate.triggers.history import RetentionPolicy
    from sluicegate.triggers.launcher import Actor

    triggers.catalog.save("f", "return 1;", kind="function")
    for _ in range(7):
        triggers.launcher.execute_function("f", {}, actor=Actor.named("ada"))
    clock.advance(40 * 86400)
    policy = RetentionPolicy(max_age=dt.timedelta(days=30), max_count=None)
    statements: list[str] = []
    from sqlalchemy import event

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM RUNS"):
            statements.append(statement)
    event.listen(triggers.engine, "before_cursor_execute", count)
    try:
        assert triggers.history.prune(policy, clock.now(), limit=5, batch=2) == 5
        assert len(statements) == 3                  # 2 + 2 + 1: slices, then the limit
        assert triggers.history.prune(policy, clock.now(), batch=2) == 2
    finally:
        event.remove(triggers.engine, "before_cursor_execute", count)
    assert triggers.history.list() == []


def test_the_migration_keeps_earlier_double_records_but_unlinks_the_later_ones(
        tmp_path: Any) -> None:
    """Records written twice for one claim before fencing stay in the history; only the
    first keeps its link to the occurrence, so the unique index can be built."""
    from sluicegate.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine, "0001_triggers")
        with engine.begin() as conn:
            for occurrence, attempt in ((5, 1), (5, 1), (5, 2), (None, 1), (None, 1)):
                conn.execute(text(
                    "INSERT INTO runs (trigger, script_name, status, inputs, logs, "
                    "logs_truncated, stats, http, mail, started_at, finished_at, "
                    "occurrence_id, attempt, node, actor) VALUES ('schedule', 'x', "
                    "'success', '{}', '[]', 0, '{}', '[]', '[]', '2025-01-01 00:00:00', "
                    "'2025-01-01 00:00:00', :o, :a, '', '')"), {"o": occurrence, "a": attempt})
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, occurrence_id, attempt FROM runs "
                                     "ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(1, 5, 1), (2, None, 1), (3, 5, 2), (4, None, 1),
                                        (5, None, 1)]
