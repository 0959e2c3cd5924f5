"""The scheduler's steps on SQLite and PostgreSQL, driven by a manual clock: daylight
saving, misfires after downtime, no-overlap, pause and resume, run-now, ends, retries
with backoff, leases (expiry, heartbeat, re-queue) and the node loop's shutdown."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sluice_testdb import UTC, ManualClock
from sluicegate.engine import RunResult
from sluicegate.limits import Limits
from sluicegate.store.schedules import Occurrence, Schedule
from sluicegate.triggers import SchedulerNode, SchedulerSettings
from sluicegate.triggers.clock import SystemClock
from sluicegate.triggers.errors import Conflict, InvalidField
from sluicegate.triggers.executor import Executor
from sluicegate.triggers.scheduler import Scheduler
from sluicegate.triggers.setup import Triggers
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def scheduler(triggers: Triggers, node: str = "node-a", lease: float = 30.0,
              executor: Executor | None = None) -> Scheduler:
    return Scheduler(triggers.sessions, executor or triggers.executor, triggers.history,
                     clock=triggers.clock, settings=SchedulerSettings(lease=lease), node=node)


def add(triggers: Triggers, name: str = "job", script: str = "return 1;",
        **request: Any) -> None:
    if name == "job" or not any(s.name == f"{name}_script" for s in
                                triggers.catalog.list()):
        triggers.catalog.save(f"{name}_script", script, kind="schedule")
    triggers.schedules.add({"name": name, "script": f"{name}_script", "timezone": "UTC",
                            **request})


def occurrences(triggers: Triggers, name: str = "job") -> list[tuple[str, str, int]]:
    """(fire time, state, attempt), oldest first."""
    return [(o.fire_at.strftime("%Y-%m-%d %H:%M"), o.state, o.attempt)
            for o in reversed(triggers.schedules.occurrences(name, 1000))]


def sweep(sched: Scheduler, clock: ManualClock, until: dt.datetime, step: float) -> None:
    while clock.now() < until:
        clock.advance(step)
        sched.run_due()


# -- daylight saving -----------------------------------------------------------------------
def test_a_0230_daily_job_runs_once_on_the_autumn_change_and_once_on_the_spring_change(
        triggers: Triggers, clock: ManualClock) -> None:
    clock.set(at("2024-10-26 00:00"))
    add(triggers, recurrence={"kind": "daily"}, start="2024-10-26T02:30",
        timezone="Europe/Berlin")
    sched = scheduler(triggers)
    sweep(sched, clock, at("2024-10-28 12:00"), 1800)
    assert occurrences(triggers) == [("2024-10-26 00:30", "succeeded", 1),
                                     ("2024-10-27 00:30", "succeeded", 1),
                                     ("2024-10-28 01:30", "succeeded", 1)]
    clock.set(at("2025-03-29 00:00"))
    add(triggers, "spring", recurrence={"kind": "daily"}, start="2025-03-29T02:30",
        timezone="Europe/Berlin")
    sweep(sched, clock, at("2025-03-31 12:00"), 1800)
    # 2025-03-30 has no 02:30 in Berlin: the run happens at 03:00 CEST (01:00 UTC)
    assert occurrences(triggers, "spring") == [("2025-03-29 01:30", "succeeded", 1),
                                               ("2025-03-30 01:00", "succeeded", 1),
                                               ("2025-03-31 00:30", "succeeded", 1)]


def test_scheduled_runs_see_the_schedule_time_zone_and_inputs(triggers: Triggers,
                                                              clock: ManualClock) -> None:
    clock.set(at("2025-01-06 04:00"))
    add(triggers, script='return organization.get("time_zone") + " " + user.get("name") + '
        '" " + region;', recurrence={"kind": "once"}, start="2025-01-06T10:00",
        timezone="Asia/Kolkata", inputs={"region": "south"})
    clock.set(at("2025-01-06 04:30"))
    scheduler(triggers).run_due()
    [run] = triggers.history.list()
    assert (run.trigger, run.status, run.return_value) == ("schedule", "success",
                                                           "Asia/Kolkata schedule job south")


# -- misfires --------------------------------------------------------------------------------
def test_after_downtime_run_once_runs_the_latest_missed_time_and_records_the_rest(
        triggers: Triggers, clock: ManualClock) -> None:
    clock.set(at("2025-01-06 08:59"))
    add(triggers, recurrence={"kind": "hourly"}, start="2025-01-06T09:00")
    clock.set(at("2025-01-06 14:30"))  # no scheduler ran from 09:00 to 14:30
    scheduler(triggers).run_due()
    assert occurrences(triggers) == [
        ("2025-01-06 09:00", "skipped", 0), ("2025-01-06 10:00", "skipped", 0),
        ("2025-01-06 11:00", "skipped", 0), ("2025-01-06 12:00", "skipped", 0),
        ("2025-01-06 13:00", "skipped", 0), ("2025-01-06 14:00", "succeeded", 1)]
    reasons = {o.reason for o in triggers.schedules.occurrences("job") if o.state ==
               "skipped"}
    assert reasons == {"missed while no scheduler was running; misfire policy run_once "
                       "runs only the latest missed time"}
    clock.set(at("2025-01-06 15:00"))
    scheduler(triggers).run_due()
    assert occurrences(triggers)[-1] == ("2025-01-06 15:00", "succeeded", 1)


def test_after_downtime_skip_runs_none_of_the_missed_times(triggers: Triggers,
                                                           clock: ManualClock) -> None:
    clock.set(at("2025-01-06 08:59"))
    add(triggers, recurrence={"kind": "hourly"}, start="2025-01-06T09:00", misfire="skip")
    clock.set(at("2025-01-06 11:30"))
    scheduler(triggers).run_due()
    assert occurrences(triggers) == [("2025-01-06 09:00", "skipped", 0),
                                     ("2025-01-06 10:00", "skipped", 0),
                                     ("2025-01-06 11:00", "skipped", 0)]
    assert triggers.schedules.occurrences("job")[0].reason == (
        "missed while no scheduler was running; misfire policy skip runs none of them")
    assert triggers.history.list() == []


def test_a_run_within_the_misfire_grace_is_on_time(triggers: Triggers,
                                                   clock: ManualClock) -> None:
    clock.set(at("2025-01-06 08:59"))
    add(triggers, recurrence={"kind": "hourly"}, start="2025-01-06T09:00", misfire="skip",
        misfire_grace=120)
    clock.set(at("2025-01-06 09:01:30"))
    scheduler(triggers).run_due()
    assert occurrences(triggers) == [("2025-01-06 09:00", "succeeded", 1)]


# -- no overlap, pause, run now, ends ------------------------------------------------------
def test_no_overlap_skips_an_occurrence_while_the_previous_run_is_still_running(
        triggers: Triggers, clock: ManualClock) -> None:
    clock.set(at("2025-01-06 09:59:59"))
    add(triggers, recurrence={"kind": "cron", "cron": "* * * * *"},
        start="2025-01-06T10:00")
    a, b = scheduler(triggers, "node-a", lease=600), scheduler(triggers, "node-b")
    clock.set(at("2025-01-06 10:00"))
    a.materialize(clock.now())
    [long_run] = a.claim(clock.now(), 10)          # node a is still running it
    clock.set(at("2025-01-06 10:01"))
    b.run_due()
    assert occurrences(triggers)[1] == ("2025-01-06 10:01", "skipped", 1)
    assert triggers.schedules.occurrences("job")[0].reason == (
        "the previous run of this schedule was still running (no-overlap)")
    a.finish([a.execute(long_run)])
    clock.set(at("2025-01-06 10:02"))
    b.run_due()
    assert occurrences(triggers) == [("2025-01-06 10:00", "succeeded", 1),
                                     ("2025-01-06 10:01", "skipped", 1),
                                     ("2025-01-06 10:02", "succeeded", 1)]


def test_overlapping_runs_are_allowed_when_asked(triggers: Triggers,
                                                 clock: ManualClock) -> None:
    clock.set(at("2025-01-06 09:59:59"))
    add(triggers, recurrence={"kind": "cron", "cron": "* * * * *"},
        start="2025-01-06T10:00", no_overlap=False)
    a, b = scheduler(triggers, "node-a", lease=600), scheduler(triggers, "node-b")
    clock.set(at("2025-01-06 10:00"))
    a.materialize(clock.now())
    [long_run] = a.claim(clock.now(), 10)
    clock.set(at("2025-01-06 10:01"))
    b.run_due()
    a.finish([a.execute(long_run)])
    assert [state for _, state, _ in occurrences(triggers)] == ["succeeded", "succeeded"]


def test_pause_resume_and_run_now(triggers: Triggers, clock: ManualClock) -> None:
    clock.set(at("2025-01-06 08:59"))
    add(triggers, recurrence={"kind": "hourly"}, start="2025-01-06T09:00")
    sched = scheduler(triggers)
    clock.set(at("2025-01-06 08:59:59"))
    sched.materialize(clock.now())       # 09:00 is materialized ahead of time ...
    triggers.schedules.pause("job")      # ... and then the schedule is paused
    clock.set(at("2025-01-06 09:00"))
    sched.run_due()
    assert occurrences(triggers) == [("2025-01-06 09:00", "skipped", 1)]
    assert triggers.schedules.occurrences("job")[0].reason == "the schedule was paused"
    clock.set(at("2025-01-06 11:10"))
    sched.run_due()
    assert len(occurrences(triggers)) == 1  # nothing fires while paused
    manual = triggers.schedules.run_now("job")
    sched.run_due()
    assert occurrences(triggers)[-1] == ("2025-01-06 11:10", "succeeded", 1)
    assert triggers.history.get(triggers.history.list()[0].id).occurrence_id == manual.id
    info = triggers.schedules.resume("job")
    assert info.next_fire_at == at("2025-01-06 12:00")
    assert info.upcoming[:2] == [at("2025-01-06 12:00"), at("2025-01-06 13:00")]
    clock.set(at("2025-01-06 12:00"))
    sched.run_due()
    assert occurrences(triggers)[-1] == ("2025-01-06 12:00", "succeeded", 1)


def test_a_schedule_ends_after_n_runs(triggers: Triggers, clock: ManualClock) -> None:
    clock.set(at("2025-01-06 09:59"))
    add(triggers, recurrence={"kind": "cron", "cron": "*/2 * * * *"},
        start="2025-01-06T10:00", end={"after": 3})
    sweep(scheduler(triggers), clock, at("2025-01-06 10:20"), 60)
    assert [t for t, _, _ in occurrences(triggers)] == [
        "2025-01-06 10:00", "2025-01-06 10:02", "2025-01-06 10:04"]
    info = triggers.schedules.get("job")
    assert (info.fired_count, info.next_fire_at, info.upcoming) == (3, None, [])


def test_a_schedule_ends_on_a_date(triggers: Triggers, clock: ManualClock) -> None:
    clock.set(at("2025-01-06 00:00"))
    add(triggers, recurrence={"kind": "daily"}, start="2025-01-06T10:00",
        end={"on": "2025-01-08"})
    assert [t.day for t in triggers.schedules.get("job", preview=10).upcoming] == [6, 7, 8]


def test_schedule_requests_are_checked(triggers: Triggers) -> None:
    triggers.catalog.save("f", "return 1;", kind="function")
    with pytest.raises(InvalidField, match="schedules run schedule scripts"):
        triggers.schedules.add({"name": "x", "script": "f", "recurrence": {"kind": "daily"}})
    add(triggers, recurrence={"kind": "daily"})
    with pytest.raises(Conflict, match="already exists"):
        add(triggers, recurrence={"kind": "daily"})
    for request, field in (({"misfire": "later"}, "misfire"), ({"retries": 99}, "retries"),
                           ({"end": {"after": 0}}, "end.after"),
                           ({"start": "tomorrow"}, "start"),
                           ({"timezone": "Nowhere/City"}, "timezone")):
        with pytest.raises(InvalidField) as err:
            triggers.schedules.add({"name": "y", "script": "job_script",
                                    "recurrence": {"kind": "daily"}, **request})
        assert err.value.field == field


# -- retries and leases --------------------------------------------------------------------
def test_failed_runs_are_retried_with_exponential_backoff(triggers: Triggers,
                                                          clock: ManualClock) -> None:
    clock.set(at("2025-01-06 09:59"))
    add(triggers, script="x = 1 / 0;", recurrence={"kind": "once"},
        start="2025-01-06T10:00", retries=2, retry_backoff=10)
    sched = scheduler(triggers)
    clock.set(at("2025-01-06 10:00"))
    sched.run_due()
    first = triggers.schedules.occurrences("job")[0]
    assert (first.state, first.attempt, first.due_at) == ("pending", 1,
                                                          at("2025-01-06 10:00:10"))
    assert first.reason is not None and first.reason.startswith("retry 1 of 2 in 10 s")
    clock.set(at("2025-01-06 10:00:09"))
    assert sched.run_due() == 0
    clock.set(at("2025-01-06 10:00:10"))
    sched.run_due()
    assert triggers.schedules.occurrences("job")[0].due_at == at("2025-01-06 10:00:30")
    clock.set(at("2025-01-06 10:00:30"))
    sched.run_due()
    final = triggers.schedules.occurrences("job")[0]
    assert (final.state, final.attempt) == ("failed", 3)
    assert [(r.attempt, r.status) for r in triggers.history.list()] == [
        (3, "failure"), (2, "failure"), (1, "failure")]


def test_an_expired_lease_is_reclaimed_as_a_retry_and_the_old_holder_cannot_settle_it(
        triggers: Triggers, clock: ManualClock) -> None:
    clock.set(at("2025-01-06 09:59"))
    add(triggers, recurrence={"kind": "once"}, start="2025-01-06T10:00")
    a, b = scheduler(triggers, "node-a", lease=30), scheduler(triggers, "node-b", lease=30)
    clock.set(at("2025-01-06 10:00"))
    a.materialize(clock.now())
    [stale] = a.claim(clock.now(), 10)
    clock.set(at("2025-01-06 10:00:29"))
    assert b.run_due() == 0                       # the lease still holds
    clock.set(at("2025-01-06 10:00:31"))
    assert b.run_due() == 1
    [occ] = triggers.schedules.occurrences("job")
    assert (occ.state, occ.attempt, occ.reclaims, occ.reason) == (
        "succeeded", 2, 1, "re-claimed after the lease of node-a expired")
    a.finish([a.execute(stale)])                  # node a comes back too late
    [occ] = triggers.schedules.occurrences("job")
    assert (occ.state, occ.attempt) == ("succeeded", 2)


def test_a_heartbeat_keeps_the_lease(triggers: Triggers, clock: ManualClock) -> None:
    clock.set(at("2025-01-06 09:59"))
    add(triggers, recurrence={"kind": "once"}, start="2025-01-06T10:00")
    a, b = scheduler(triggers, "node-a", lease=30), scheduler(triggers, "node-b", lease=30)
    clock.set(at("2025-01-06 10:00"))
    a.materialize(clock.now())
    [held] = a.claim(clock.now(), 10)
    clock.set(at("2025-01-06 10:00:20"))
    assert a.heartbeat([held]) == []
    clock.set(at("2025-01-06 10:00:45"))
    assert b.run_due() == 0
    a.finish([a.execute(held)])
    assert triggers.schedules.occurrences("job")[0].state == "succeeded"


def test_requeued_work_runs_on_another_node_without_counting_an_attempt(
        triggers: Triggers, clock: ManualClock) -> None:
    clock.set(at("2025-01-06 09:59"))
    add(triggers, recurrence={"kind": "once"}, start="2025-01-06T10:00")
    a, b = scheduler(triggers, "node-a"), scheduler(triggers, "node-b")
    clock.set(at("2025-01-06 10:00"))
    a.materialize(clock.now())
    [held] = a.claim(clock.now(), 10)
    assert a.requeue([held]) == 1
    [occ] = triggers.schedules.occurrences("job")
    assert (occ.state, occ.attempt) == ("pending", 0)
    assert occ.reason == "re-queued: node node-a stopped before the run ended"
    b.run_due()
    [occ] = triggers.schedules.occurrences("job")
    assert (occ.state, occ.attempt, occ.reclaims) == ("succeeded", 1, 0)


def test_two_nodes_materializing_together_create_each_occurrence_once(
        triggers: Triggers, clock: ManualClock) -> None:
    clock.set(at("2025-01-06 09:00"))
    add(triggers, recurrence={"kind": "hourly"}, start="2025-01-06T10:00")
    clock.set(at("2025-01-06 13:30"))  # misfires too: every fire time becomes one row
    a, b = scheduler(triggers, "node-a"), scheduler(triggers, "node-b")
    created = a.materialize(clock.now()) + b.materialize(clock.now())
    assert created == 4 and len(occurrences(triggers)) == 4
    with triggers.sessions() as s:
        schedule_id = s.scalar(select(Schedule.id))
        s.add(Occurrence(schedule_id=schedule_id, fire_at=at("2025-01-06 10:00"),
                         due_at=at("2025-01-06 10:00"), state="pending"))
        with pytest.raises(IntegrityError):
            s.commit()


def test_next_wakeup_is_the_earliest_due_work(triggers: Triggers, clock: ManualClock) -> None:
    clock.set(at("2025-01-06 09:00"))
    sched = scheduler(triggers)
    assert sched.next_wakeup(clock.now()) is None
    add(triggers, recurrence={"kind": "hourly"}, start="2025-01-06T10:00")
    assert sched.next_wakeup(clock.now()) == at("2025-01-06 09:59:58")


# -- the node loop ---------------------------------------------------------------------------
class SlowExecutor:
    def __init__(self, inner: Executor, seconds: float) -> None:
        self.inner, self.seconds = inner, seconds
        self.started = threading.Event()

    def execute(self, source: str, inputs: dict[str, Any], limits: Limits, *,
                entry: str | None = None, filename: str = "<script>",
                **run: Any) -> RunResult:
        self.started.set()
        time.sleep(self.seconds)
        return self.inner.execute(source, inputs, limits, entry=entry, filename=filename,
                                  **run)


@pytest.mark.parametrize("grace, state", [(5.0, "succeeded"), (0.1, "pending")])
def test_stopping_a_node_finishes_or_requeues_in_flight_runs(triggers: Triggers, grace: float,
                                                             state: str) -> None:
    triggers.clock = SystemClock()
    triggers.schedules.clock = SystemClock()
    add(triggers, recurrence={"kind": "once"}, start="2099-01-01T00:00")
    slow = SlowExecutor(triggers.executor, 0.6)
    sched = Scheduler(triggers.sessions, slow, triggers.history, clock=SystemClock(),
                      settings=SchedulerSettings(lease=30), node="node-a")
    node = SchedulerNode(sched, poll=0.05)
    node.start()
    triggers.schedules.run_now("job")
    assert slow.started.wait(10)
    node.stop(grace)
    [occ] = triggers.schedules.occurrences("job")
    assert occ.state == state
    if state == "pending":
        assert (occ.attempt, occ.lease_owner) == (0, None)
        assert triggers.history.list() == []
    else:
        assert len(triggers.history.list()) == 1
