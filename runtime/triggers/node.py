"""A scheduler node: the loop that keeps one process claiming and running occurrences.

One loop thread does all database work (materialize, claim, record, heartbeat, prune);
`concurrency` runner threads only execute scripts. The loop sleeps until the next known
due time (at most `poll` seconds, so work added by other nodes is seen) and wakes early
when runs finish. Under load its database work is per batch, not per run: finished runs
are recorded together (the loop waits up to `_LINGER` for more to finish unless runners
are about to run dry), new schedules are looked for on the timer (every `poll`) rather
than after every run, and occurrences are claimed when the runs waiting to start fall to
`concurrency` or fewer, so that each claim takes many. The size of a claim follows the
backlog: it starts at the settings' `first_batch`, doubles each time a claim comes back
full (more are due than it asked for), up to `batch`, and halves each time one comes back
less than half full. A deep queue is then claimed and recorded in batches of up to
`batch` (a transaction per ~100 runs instead of per 16), while a few due occurrences are
claimed a few at a time and shared between nodes instead of queuing behind one node's
runners. `stop(grace)` stops claiming, lets
in-flight runs finish for up to `grace` seconds, and hands the rest back to the database
for another node.

Leases are renewed first thing in a pass, every third of a lease, so that a node
resuming from a freeze learns at once which occurrences other nodes took over meanwhile;
their runs are stopped (the isolated child killed) and recorded nowhere. A run whose
lease runs out on this node's clock (the database unreachable, the node stalled) stops by
itself, without waiting for the database to answer.
"""

from __future__ import annotations

__all__ = ["SchedulerNode"]

import datetime as _dt
import logging
import queue
import threading
import time

from ..engine import ErrorInfo, RunResult
from .history import RetentionPolicy
from .scheduler import Claim, Finished, Scheduler

log = logging.getLogger("sluicegate.scheduler")

_PRUNE_SLICE = 10_000   # runs deleted per pass at most
# How long finished runs may wait to be recorded together with the next ones (seconds);
# half a claim batch of finished runs, or runners running out of work, settles at once.
# A record costs several times more CPU in a transaction of 4 than in one of 30.
_LINGER = 0.1


class SchedulerNode:
    """Runs a Scheduler continuously on threads of this process."""

    def __init__(self, scheduler: Scheduler, *, concurrency: int = 4, poll: float = 1.0,
                 retention: RetentionPolicy | None = None, prune_every: float = 600.0) -> None:
        self.scheduler = scheduler
        self.concurrency = max(1, concurrency)
        self.poll = poll
        self.retention = retention
        self.prune_every = prune_every
        self._work: queue.Queue[Claim | None] = queue.Queue()
        self._done: queue.Queue[Finished | Claim] = queue.Queue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._grace = 10.0
        # claimed here and not yet settled, by token: a node may hold a stale claim of an
        # occurrence beside its newer one (it stalled past its lease, then re-claimed it)
        self._held: dict[tuple[int, int], Claim] = {}
        self._finished: list[Finished] = []  # ran, waiting to be recorded
        self._returned: list[Claim] = []     # never started, waiting to be handed back
        self._finish_failed = False          # the last write of _finished failed
        # a run finished since the loop last drained `_done` (the first one wakes it);
        # set by runners and cleared by the loop under `_signal_lock`
        self._signal_lock = threading.Lock()
        self._signalled = False
        settings = scheduler.settings
        # occurrences the next claim asks for (adapted to the backlog: `_claimed`), never
        # fewer than the first claim's
        self._first_claim = max(1, min(settings.first_batch, settings.batch))
        self.claim_size = self._first_claim
        self._timer_pass = True   # the loop woke on its timer, not for finished runs
        self._loop: threading.Thread | None = None
        self._runners: list[threading.Thread] = []
        self.errors = 0

    # -- control -------------------------------------------------------------------------
    def start(self) -> None:
        """Run the loop on a background thread (as `sluice serve` does)."""
        self._loop = threading.Thread(target=self.run, name="sluice-scheduler", daemon=True)
        self._loop.start()

    def stop(self, grace: float = 10.0, wait: bool = True) -> None:
        """Stop claiming; finish or re-queue in-flight runs within `grace` seconds."""
        self._grace = grace
        self._stopping.set()
        self._wake.set()
        if wait and self._loop is not None and self._loop is not threading.current_thread():
            self._loop.join(grace + 30)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        """The loop itself; returns after `stop`."""
        self._runners = [threading.Thread(target=self._runner, name=f"sluice-run-{i}",
                                          daemon=True) for i in range(self.concurrency)]
        for t in self._runners:
            t.start()
        clock = self.scheduler.clock
        lease = self.scheduler.settings.lease
        last_beat = clock.now()
        last_prune = clock.now()
        last_look = time.monotonic() - self.poll   # schedules last materialized
        try:
            while not self._stopping.is_set():
                try:
                    now = clock.now()
                    self._stop_expired()
                    if (now - last_beat).total_seconds() >= lease / 3 and self._held:
                        self._renew(now)
                        last_beat = now
                    self._settle()
                    # woken for finished runs: record them and claim more; the schedules
                    # (other nodes' new ones, the next fire times) are looked at on the
                    # timer, at least every `poll`, and on every pass while more are due
                    # than one pass materializes
                    timer = (self._timer_pass or self.scheduler.backlog
                             or time.monotonic() - last_look >= self.poll)
                    if timer:
                        self.scheduler.materialize(now)
                        last_look = time.monotonic()
                    # claim only while the runners are about to run out of work: a
                    # node whose runs are slow leaves the backlog to nodes with room
                    room = self.scheduler.settings.batch - len(self._held)
                    if room > 0 and self._work.qsize() <= self.concurrency:
                        asked = min(self.claim_size, room)
                        claims = self.scheduler.claim(clock.now(), asked)
                        for c in claims:
                            self._held[c.token] = c
                            self._work.put(c)
                        self._claimed(asked, len(claims))
                    # retention: a slice per pass, between lease renewals; a backlog is
                    # worked off on the passes that follow
                    if (self.retention and (now - last_prune).total_seconds() >=
                            self.prune_every and self.scheduler.history.prune(
                                self.retention, now, limit=_PRUNE_SLICE) < _PRUNE_SLICE):
                        last_prune = now
                    self._sleep(now, lease)
                except Exception:  # the database went away, a bug: keep the node alive
                    self.errors += 1
                    log.exception("scheduler pass failed; retrying")
                    self._wake.wait(min(self.poll, 1.0))
                    self._wake.clear()
            self._drain(clock.now() + _dt.timedelta(seconds=self._grace))
        finally:
            for _ in self._runners:
                self._work.put(None)

    def _claimed(self, asked: int, got: int) -> None:
        """Adapt the next claim to the backlog this one saw: a full claim means more are
        due than were asked for (twice as many next time, up to `batch`); one less than
        half full means the backlog is worked off (half as many, down to `first_batch`)."""
        if got >= asked:
            self.claim_size = min(self.claim_size * 2, self.scheduler.settings.batch)
        elif got * 2 < asked:
            self.claim_size = max(self.claim_size // 2, self._first_claim)

    @property
    def _settle_at(self) -> int:
        """Finished runs that wake the loop at once: half a claim."""
        return max(2 * self.concurrency, self.claim_size // 2)

    def _sleep(self, now: _dt.datetime, lease: float) -> None:
        if self._done.empty():
            timeout = self.poll
            if len(self._held) < self.scheduler.settings.batch:
                wake_at = self.scheduler.next_wakeup(now)
                if wake_at is not None:
                    timeout = min(timeout, max(0.0, (wake_at - now).total_seconds()))
            if self._held:
                timeout = min(timeout, lease / 3)
            woke = timeout > 0 and self._wake.wait(timeout)
            self._wake.clear()
            self._timer_pass = not woke
            if not woke or self._done.empty():
                return
        else:
            self._timer_pass = False
            self._wake.clear()
        # finished runs wait a moment for more, to be recorded together; not when there
        # are enough already or the runners are about to run out of claimed work (a
        # runner then wakes the loop at once)
        if (self._done.qsize() < self._settle_at and self._work.qsize() > self.concurrency
                and not self._stopping.is_set()):
            self._wake.wait(_LINGER)
            self._wake.clear()

    def _stop_expired(self) -> None:
        """Stop the runs whose lease ran out on this node's clock (a stall, a database
        that does not answer): another node may hold their occurrences by now."""
        for c in self._held.values():
            if c.lease is not None and c.lease.expired and not c.lease.is_stopped:
                log.warning("occurrence %s of schedule %s (attempt %s): the lease ran out "
                            "before it could be renewed; its run here is stopped",
                            c.occurrence_id, c.schedule_name or c.schedule_id, c.attempt)
                c.lease.stop()

    def _renew(self, now: _dt.datetime | None = None) -> None:
        """Renew the leases of the runs in flight; stop those another node took over."""
        live = [c for c in self._held.values() if c.lease is None or not c.lease.lost]
        for c in self.scheduler.heartbeat(live, now):
            log.warning("occurrence %s of schedule %s (attempt %s): lease lost to another "
                        "node; its run here is stopped and will not be recorded",
                        c.occurrence_id, c.schedule_name or c.schedule_id, c.attempt)

    def _settle(self) -> None:
        """Record what the runners finished and hand back what they did not start. A
        batch whose write fails (connection lost, disk full) is kept and written again
        on the next pass; its leases are still renewed meanwhile, so no other node
        takes the occurrences over while the result waits to be recorded."""
        with self._signal_lock:   # before draining: a run finished after this wakes us
            self._signalled = False
        while True:
            try:
                item = self._done.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Finished):
                self._finished.append(item)
            else:
                self._returned.append(item)
        if self._finished:
            batch = list(self._finished)
            try:
                self.scheduler.finish(batch, again=self._finish_failed)
            except Exception:
                self._finish_failed = True
                raise
            self._finish_failed = False
            del self._finished[:len(batch)]
            for f in batch:
                self._held.pop(f.claim.token, None)
        if self._returned:
            returned = list(self._returned)
            self.scheduler.requeue(returned)
            del self._returned[:len(returned)]
            for c in returned:
                self._held.pop(c.token, None)

    def _drain(self, deadline: _dt.datetime) -> None:
        """Stopping: settle what finishes before `deadline`, re-queue the rest."""
        clock = self.scheduler.clock
        lease = self.scheduler.settings.lease
        last_beat = clock.now()
        while self._held and clock.now() < deadline:
            try:
                self._stop_expired()
                self._settle()
                if (clock.now() - last_beat).total_seconds() >= lease / 3 and self._held:
                    self._renew()
                    last_beat = clock.now()
            except Exception:
                log.exception("scheduler settle failed while stopping")
            if self._held:
                self._wake.wait(0.05)
                self._wake.clear()
        try:
            try:
                self._settle()
            except Exception:
                log.exception("recording finished runs failed while stopping")
            if self._finished:
                log.error("%d finished run(s) could not be recorded; their occurrences are "
                          "handed back and will run again", len(self._finished))
                self._finished.clear()
            if self._held:
                count = self.scheduler.requeue(list(self._held.values()))
                log.warning("re-queued %d unfinished occurrence(s) for other nodes", count)
                self._held.clear()
        except Exception:
            log.exception("could not re-queue unfinished occurrences; their leases will "
                          "expire and another node will re-claim them")

    def _runner(self) -> None:
        while True:
            claim = self._work.get()
            if claim is None:
                return
            if self._stopping.is_set():
                self._done.put(claim)  # not started: hand it back
            else:
                started = time.perf_counter()
                try:
                    self._done.put(self.scheduler.execute(claim))
                except Exception as exc:  # executors report script failures; this is ours
                    log.exception("executing occurrence %s failed", claim.occurrence_id)
                    now = self.scheduler.clock.now()
                    error = ErrorInfo("InternalError", f"Internal error: {type(exc).__name__}")
                    self._done.put(Finished(claim, RunResult("failure", error=error), now,
                                            now))
                log.debug("occurrence %s ran in %.1f ms", claim.occurrence_id,
                          (time.perf_counter() - started) * 1000)
            if self._should_wake():
                self._wake.set()

    def _should_wake(self) -> bool:
        """Whether the run a runner just put in `_done` wakes the loop. The loop records
        finished runs in batches: the first one since the loop last drained `_done` wakes
        it (it then lingers a moment for more), so does half a claim of them, and so do
        runners about to run out of claimed work. "The first" is a flag, not the queue's
        length: two runs finishing together both see a length of 2, and the loop would
        sleep until its timer (up to `poll`) before recording either."""
        with self._signal_lock:
            first = not self._signalled
            self._signalled = True
        return (first or self._done.qsize() >= self._settle_at
                or self._work.qsize() <= self.concurrency or self._stopping.is_set())
