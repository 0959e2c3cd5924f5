"""Settling a finished batch, on SQLite and PostgreSQL with a manual clock: in one batch,
the claims still held are settled and recorded (each occurrence pointing at its own run
record), their no-overlap guards freed, while a superseded claim writes nothing, not
even the guard that the node which took it over now holds. On PostgreSQL the batch is
two statements (the fenced settlement with the guards' release, and the records'
insert) and the commit, each occurrence row written once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sluice_testdb import UTC, ManualClock
from sluicegate.store.runs import Run
from sluicegate.store.schedules import Occurrence, Schedule
from sluicegate.triggers import SchedulerSettings
from sluicegate.triggers.scheduler import Scheduler
from sluicegate.triggers.setup import Triggers
from sqlalchemy import event, select


def at(text_: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text_).replace(tzinfo=UTC)


def scheduler(triggers: Triggers, node: str, portable: bool = False) -> Scheduler:
    """A scheduler of `node`; `portable`: it settles as on SQLite (fence, record, settle
    and release as separate statements), as PostgreSQL does when the runs table has no
    sequence to number the records from."""
    sched = Scheduler(triggers.sessions, triggers.executor, triggers.history,
                      clock=triggers.clock, settings=SchedulerSettings(lease=30), node=node)
    if portable:
        sched._run_seq = ""
    return sched


def schedules(triggers: Triggers, clock: ManualClock, names: list[str],
              source: str = 'info "ran " + n; return n;', retries: int = 0) -> None:
    clock.set(at("2025-01-06 09:59"))
    triggers.catalog.save("job_script", source, kind="schedule")
    for i, name in enumerate(names):
        triggers.schedules.add({"name": name, "script": "job_script", "timezone": "UTC",
                                "recurrence": {"kind": "once"}, "retries": retries,
                                "start": "2025-01-06T10:00", "inputs": {"n": i}})


def state(triggers: Triggers) -> dict[str, tuple[Any, ...]]:
    """Each schedule's occurrence (state, attempt, run id, guard holder) by name."""
    with triggers.sessions() as s:
        rows = s.execute(select(Schedule.name, Occurrence.state, Occurrence.attempt,
                                Occurrence.run_id, Schedule.busy_occurrence_id,
                                Occurrence.id)
                         .join(Occurrence, Occurrence.schedule_id == Schedule.id)).all()
    return {r.name: (r.state, r.attempt, r.run_id, r.busy_occurrence_id == r.id)
            for r in rows}


def records(triggers: Triggers) -> dict[int, tuple[int | None, int, str, str]]:
    with triggers.sessions() as s:
        return {r.id: (r.occurrence_id, r.attempt, r.node, r.status)
                for r in s.scalars(select(Run))}


@pytest.mark.parametrize("portable", [False, True], ids=["native", "portable"])
def test_a_batch_settles_and_records_only_the_claims_it_still_holds(
        triggers: Triggers, clock: ManualClock, db_url: str, portable: bool) -> None:
    if portable and not db_url.startswith("postgresql"):
        pytest.skip("SQLite always settles the portable way (the 'native' case)")
    schedules(triggers, clock, ["kept", "taken", "other"])
    a, b = scheduler(triggers, "node-a", portable), scheduler(triggers, "node-b", portable)
    clock.set(at("2025-01-06 10:00"))
    a.materialize(clock.now())
    claims = a.claim(clock.now(), 10)
    assert len(claims) == 3
    done = [a.execute(c) for c in claims]
    assert state(triggers)["taken"][3]             # a holds every guard while running
    # a froze past its lease; b took one of them over and is running it now
    clock.set(at("2025-01-06 10:00:31"))
    taken = next(c for c in claims if c.schedule_name == "taken")
    with triggers.sessions() as s:
        s.get(Occurrence, taken.occurrence_id).due_at = at("2025-01-06 10:00:30")
        others = [c.occurrence_id for c in claims if c is not taken]
        for occ in s.scalars(select(Occurrence).where(Occurrence.id.in_(others))):
            occ.lease_expires_at = at("2025-01-06 10:01:00")   # a's other leases renewed
        s.commit()
    [again] = b.claim(clock.now(), 10)
    assert again.occurrence_id == taken.occurrence_id and again.attempt == 2
    a.finish(done)
    after = state(triggers)
    assert after["taken"][:2] == ("running", 2) and after["taken"][2] is None
    assert after["taken"][3], "b's guard was freed by a's superseded claim"
    for name in ("kept", "other"):
        status, attempt, run_id, guarded = after[name]
        assert (status, attempt, guarded) == ("succeeded", 1, False)
        occurrence = next(c.occurrence_id for c in claims if c.schedule_name == name)
        assert records(triggers)[run_id] == (occurrence, 1, "node-a", "success")
    assert len(records(triggers)) == 2
    b.finish([b.execute(again)])
    assert state(triggers)["taken"][:2] == ("succeeded", 2)
    assert sorted(v[2] for v in records(triggers).values()) == ["node-a", "node-a",
                                                                 "node-b"]


def test_a_failed_run_is_recorded_and_its_retry_keeps_the_record_link(
        triggers: Triggers, clock: ManualClock) -> None:
    schedules(triggers, clock, ["flaky"], source='throw "nope";', retries=1)
    a = scheduler(triggers, "node-a")
    clock.set(at("2025-01-06 10:00"))
    a.materialize(clock.now())
    [claim] = a.claim(clock.now(), 10)
    a.finish([a.execute(claim)])
    status, attempt, run_id, guarded = state(triggers)["flaky"]
    assert (status, attempt, guarded) == ("pending", 1, False)
    assert records(triggers)[run_id] == (claim.occurrence_id, 1, "node-a", "failure")


def test_postgres_settles_a_batch_in_two_statements_writing_each_row_once(
        triggers: Triggers, clock: ManualClock, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the single-statement settlement is PostgreSQL's")
    names = [f"s{i}" for i in range(6)]
    schedules(triggers, clock, names)
    a = scheduler(triggers, "node-a")
    clock.set(at("2025-01-06 10:00"))
    a.materialize(clock.now())
    claims = a.claim(clock.now(), 10)
    done = [a.execute(c) for c in claims]
    a.finish(done[:1])                      # the first batch looks the sequence up
    statements: list[str] = []
    engine = triggers.sessions.kw["bind"]

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", seen)
    try:
        a.finish(done[1:])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # the fenced UPDATE of the occurrences (with the guards' release) and the records'
    # INSERT: no separate fencing UPDATE writing each row a second time
    assert statements == ["WITH", "INSERT"], statements
    after = state(triggers)
    assert {after[n][0] for n in names} == {"succeeded"}
    assert all(after[n][2] in records(triggers) for n in names)
