"""A busy node does its database work per batch, not per run: runs that finish together
are recorded in one `finish` transaction, and an idle queue of asynchronous runs is
polled by one thread, not by every one."""

from __future__ import annotations

import threading
import time
from typing import Any

from sluice_testdb import wait_until
from sluicegate.engine import RunResult
from sluicegate.limits import Limits
from sluicegate.triggers import SchedulerNode, SchedulerSettings
from sluicegate.triggers.clock import SystemClock
from sluicegate.triggers.queue import QueueNode, RunQueue
from sluicegate.triggers.scheduler import Scheduler
from sluicegate.triggers.setup import Triggers


class GateExecutor:
    """Holds every run until the test opens the gate, then lets them all finish."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = 0
        self.lock = threading.Lock()

    def execute(self, source: str, inputs: dict[str, Any], limits: Limits,
                **run: Any) -> RunResult:
        with self.lock:
            self.started += 1
        self.gate.wait(30)
        return RunResult("success", inputs.get("n"), [], None, {"statements": 1})


class CountingScheduler(Scheduler):
    """Counts the `finish` transactions and the runs they record."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[int] = []

    def finish(self, done: Any, now: Any = None, *, again: bool = False) -> None:
        super().finish(done, now, again=again)
        self.batches.append(len(done))


def _one_off_schedules(triggers: Triggers, count: int) -> None:
    """`count` one-off schedules of a script that returns its input, far in the future
    (they run when run_now makes them due), on the wall clock."""
    triggers.clock = SystemClock()
    triggers.schedules.clock = SystemClock()
    triggers.catalog.save("tick", "return n;", kind="schedule")
    for n in range(count):
        triggers.schedules.add({"name": f"once{n}", "script": "tick", "timezone": "UTC",
                                "recurrence": {"kind": "once"},
                                "start": "2099-01-01T00:00", "inputs": {"n": n}})


def test_runs_finishing_together_are_recorded_in_few_transactions(
        triggers: Triggers) -> None:
    count = 24
    _one_off_schedules(triggers, count)
    gate = GateExecutor()
    sched = CountingScheduler(triggers.sessions, gate, triggers.history,
                              clock=SystemClock(), node="node-a",
                              settings=SchedulerSettings(lease=30, batch=count))
    node = SchedulerNode(sched, concurrency=4, poll=0.05)
    node.start()
    try:
        for n in range(count):
            triggers.schedules.run_now(f"once{n}")
        wait_until(lambda: gate.started == 4, 20, "four runs started")
        gate.gate.set()
        wait_until(lambda: len(triggers.history.list(limit=100)) == count, 30,
                   "every run recorded")
    finally:
        node.stop(5)
    assert sum(sched.batches) == count
    # 24 runs finishing at once on 4 runners: batches, not a transaction per run
    assert len(sched.batches) < count / 2, sched.batches
    states = {o.state for n in range(count)
              for o in triggers.schedules.occurrences(f"once{n}")}
    assert states == {"succeeded"}


class CountingQueue(RunQueue):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.claims = 0

    def claim(self, limit: int = 1) -> Any:
        self.claims += 1
        return super().claim(limit)


def test_an_idle_queue_is_polled_by_one_thread(triggers: Triggers) -> None:
    queue = CountingQueue(triggers.sessions, triggers.launcher, node="node-a")
    node = QueueNode(queue, concurrency=4, poll=0.05)
    started = time.monotonic()
    node.start()
    try:
        wait_until(lambda: queue.claims >= 8, 20, "eight polls of the empty queue")
    finally:
        node.stop()
    elapsed = time.monotonic() - started
    # one poller: about one claim per poll interval (four threads polling: four times as
    # many); a loaded machine only makes fewer
    assert queue.claims <= elapsed / 0.05 + 3, (queue.claims, elapsed)


class ClaimLog(Scheduler):
    """Records what each claim asked for and what it took."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.claims: list[tuple[int, int]] = []

    def claim(self, now: Any, limit: int) -> Any:
        taken = super().claim(now, limit)
        if limit:
            self.claims.append((limit, len(taken)))
        return taken


class Instant:
    def execute(self, source: str, inputs: dict[str, Any], limits: Limits,
                **run: Any) -> RunResult:
        return RunResult("success", inputs.get("n"), [], None, {"statements": 1})


def test_claims_grow_while_the_queue_is_deep_and_shrink_once_it_is_worked_off(
        triggers: Triggers) -> None:
    """A deep queue is claimed in batches growing from `first_batch` to `batch`; a few
    due occurrences are claimed a few at a time (so that other nodes get a share)."""
    count = 150
    _one_off_schedules(triggers, count)
    for n in range(count):
        triggers.schedules.run_now(f"once{n}")
    sched = ClaimLog(triggers.sessions, Instant(), triggers.history, clock=SystemClock(),
                     node="node-a",
                     settings=SchedulerSettings(lease=30, batch=64, first_batch=4))
    node = SchedulerNode(sched, concurrency=2, poll=0.05)
    assert node.claim_size == 4
    node.start()
    try:
        wait_until(lambda: len(triggers.history.list(limit=1000)) == count, 60,
                   "every run recorded")
        # idle passes find nothing due: the claim size falls back to the first size
        wait_until(lambda: node.claim_size == 4, 20, "claims small again")
    finally:
        node.stop(5)
    asked = [limit for limit, _ in sched.claims]
    assert asked[:4] == [4, 8, 16, 32], sched.claims
    # never past `batch` (nor past the room left under it: claimed and not settled)
    assert max(asked) <= 64, sched.claims
    assert sum(took for _, took in sched.claims) == count
    # after a full claim the next asks twice as much (up to the room left under
    # `batch`); after one less than half full, at most half as much
    for (limit, took), (after, _) in zip(sched.claims, sched.claims[1:]):
        if took * 2 < limit:
            assert after <= max(4, limit // 2), sched.claims
    states = {o.state for n in range(count)
              for o in triggers.schedules.occurrences(f"once{n}")}
    assert states == {"succeeded"}


def test_a_batch_smaller_than_the_first_claim_caps_it(triggers: Triggers) -> None:
    sched = Scheduler(triggers.sessions, Instant(), triggers.history, node="node-a",
                      settings=SchedulerSettings(batch=3))
    node = SchedulerNode(sched, concurrency=1)
    assert node.claim_size == 3
    node._claimed(3, 3)
    assert node.claim_size == 3
    node._claimed(3, 0)
    assert node.claim_size == 3


def test_a_node_whose_runs_are_slow_stops_claiming_and_leaves_the_backlog_to_others(
        triggers: Triggers) -> None:
    """Claims grow with the backlog only while the runners keep up: with every runner
    held, the node waits for its queue to run short instead of claiming more on each
    timer pass (which would hold up to `batch` occurrences away from idle nodes)."""
    count = 150
    _one_off_schedules(triggers, count)
    for n in range(count):
        triggers.schedules.run_now(f"once{n}")
    gate = GateExecutor()
    sched = ClaimLog(triggers.sessions, gate, triggers.history, clock=SystemClock(),
                     node="node-a",
                     settings=SchedulerSettings(lease=30, batch=128, first_batch=4))
    node = SchedulerNode(sched, concurrency=2, poll=0.02)
    node.start()
    try:
        # both runners take a run from the first claim, which leaves the queue short:
        # the loop tops it up once (on whichever pass comes first), then must stop
        wait_until(lambda: gate.started == 2 and node._work.qsize() > node.concurrency,
                   20, "both runners busy and the queue topped up")
        passes = len(sched.claims)
        deadline = time.monotonic() + 0.5   # about 25 timer passes
        wait_until(lambda: time.monotonic() >= deadline, 5, "timer passes")
        # what it holds: the runs under way, the queue it claimed while they were short
        assert len(node._held) <= 2 * node.concurrency + sched.claims[-1][0], sched.claims
        assert len(sched.claims) == passes, sched.claims
    finally:
        gate.gate.set()
        node.stop(5)


def test_the_first_run_finished_since_the_loop_drained_always_wakes_it(
        triggers: Triggers) -> None:
    """Two runs finishing together both see two finished runs waiting; with claimed work
    still queued, a rule of "the queue holds exactly one" woke the loop for neither, and
    their records waited for the timer (up to `poll`). The first run finished since the
    loop last drained wakes it, whatever the queue's length; the ones after it do not
    until the loop has drained again."""
    sched = Scheduler(triggers.sessions, Instant(), triggers.history, node="node-a",
                      settings=SchedulerSettings(batch=64, first_batch=16))
    node = SchedulerNode(sched, concurrency=2)
    for _ in range(8):   # more claimed work than runners: no runner is about to run dry
        node._work.put(None)
    node._done.put(object())   # type: ignore[arg-type]
    node._done.put(object())   # type: ignore[arg-type]
    assert node._should_wake() is True
    assert node._should_wake() is False
    while not node._done.empty():
        node._done.get_nowait()
    node._settle()   # the loop drains (nothing left to record): the next run wakes it
    node._done.put(object())   # type: ignore[arg-type]
    assert node._should_wake() is True
