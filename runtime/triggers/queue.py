"""Asynchronous runs: accepted now (`?wait=false`, 202 with a run id), run by any node.

    queue = RunQueue(triggers.sessions, triggers.launcher, clock=..., node=...)
    run_id = queue.enqueue(live, inputs, trigger="function", actor=actor)
    queue.run_due()              # on a node: claim what is queued, run it, record it

`enqueue` writes the run's row (status `queued`) and a `queued_runs` row in one
transaction. Nodes claim queued rows with a lease, as they claim schedule occurrences
(one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) on PostgreSQL, under
SQLite's write lock otherwise), so each queued run starts on one node; the run's row goes
to `running` and then gets its result. A node that dies mid-run leaves the lease to
expire and another node runs it again, at most `max_attempts` times in all.
`QueueNode` runs the loop on threads of a `serve` or `worker` process.
"""

from __future__ import annotations

__all__ = ["QueueNode", "RunQueue"]

import datetime as _dt
import logging
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ..engine import ErrorInfo, RunResult
from ..store.queue import QueuedRun
from ..store.runs import Run
from .clock import Clock, SystemClock
from .history import INPUTS_TRUNCATED
from .launcher import Actor, Launcher
from .locking import begin_write
from .scripts import LiveScript

log = logging.getLogger("sluicegate.queue")


@dataclass(frozen=True)
class QueuedClaim:
    """A queued run this node holds."""

    id: int
    run_id: int
    kind: str
    trigger: str
    script_id: int
    script_version: int
    inputs: dict[str, Any]
    actor: str
    attempts: int


class RunQueue:
    """The queue of asynchronous runs over one database."""

    def __init__(self, sessions: sessionmaker[Session], launcher: Launcher, *,
                 clock: Clock | None = None, node: str = "", lease: float = 1200.0,
                 max_attempts: int = 3) -> None:
        self.sessions = sessions
        self.launcher = launcher
        self.clock = clock or SystemClock()
        self.node = node or launcher.node
        # longer than any run may take (functions 30 s, buttons 10 s by default)
        self.lease = lease
        self.max_attempts = max_attempts

    def enqueue(self, live: LiveScript, inputs: dict[str, Any], *, trigger: str,
                actor: Actor) -> int:
        """Queue a run of `live` with prepared `inputs`; returns its run id."""
        now = self.clock.now()
        # the run row shows what its record will keep (the queue row holds them whole)
        stored, cut = self.launcher.history.stored_inputs(inputs)
        with self.sessions() as s:
            run = Run(trigger=trigger, script_id=live.script_id, script_name=live.name,
                      script_version=live.version, status="queued",
                      inputs=stored, logs=[], logs_truncated=False, return_value=None,
                      error=None, stats={} if cut is None else {INPUTS_TRUNCATED: cut},
                      http=[], mail=[],
                      started_at=now, finished_at=now, node="", actor=actor.name)
            s.add(run)
            s.flush()
            s.add(QueuedRun(run_id=run.id, kind=live.kind, trigger=trigger,
                            script_id=live.script_id, script_version=live.version,
                            inputs=dict(inputs), actor=actor.name, state="queued",
                            attempts=0, created_at=now))
            s.commit()
            return run.id

    def claim(self, limit: int = 1) -> list[QueuedClaim]:
        """Take up to `limit` queued runs (and runs whose node's lease expired)."""
        now = self.clock.now()
        Q = QueuedRun
        due = or_(Q.state == "queued", (Q.state == "running") & (Q.lease_until < now))
        pick = select(Q.id).where(due).order_by(Q.id).limit(limit)
        with self.sessions() as s:
            if s.get_bind().dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            begin_write(s)
            rows = s.execute(
                update(Q).where(Q.id.in_(pick.scalar_subquery()))
                .values(state="running", lease_owner=self.node, attempts=Q.attempts + 1,
                        lease_until=now + _dt.timedelta(seconds=self.lease))
                .returning(Q.id, Q.run_id, Q.kind, Q.trigger, Q.script_id, Q.script_version,
                           Q.inputs, Q.actor, Q.attempts)
                .execution_options(synchronize_session=False)).all()
            if rows:
                s.execute(update(Run).where(Run.id.in_([r.run_id for r in rows]))
                          .values(status="running", node=self.node, started_at=now)
                          .execution_options(synchronize_session=False))
            s.commit()
        return [QueuedClaim(*row) for row in rows]

    def run(self, claim: QueuedClaim) -> None:
        """Run a claimed run and record it in its reserved row; the queue row ends."""
        actor = Actor(claim.actor, {"name": claim.actor})
        if claim.attempts > self.max_attempts:
            self._give_up(claim)
        else:
            try:
                live = self.launcher.catalog.live_by_id(claim.script_id, claim.script_version)
                self.launcher.run_prepared(live, claim.inputs, trigger=claim.trigger,
                                           actor=actor, run_id=claim.run_id)
            except Exception as exc:   # the script is gone, or the store failed
                log.exception("queued run %s could not run", claim.run_id)
                self._record_failure(claim, f"The queued run could not be executed: "
                                     f"{type(exc).__name__}")
        self._finish(claim)

    def _give_up(self, claim: QueuedClaim) -> None:
        self._record_failure(claim, f"The run was started {claim.attempts - 1} times and "
                             "its node stopped each time; it is not tried again")

    def _record_failure(self, claim: QueuedClaim, message: str) -> None:
        now = self.clock.now()
        result = RunResult("failure", None, [], ErrorInfo("InternalError", message),
                           {"statements": 0, "http_calls": 0})
        self.launcher.history.record(trigger=claim.trigger, script_id=claim.script_id,
                                     script_name=self._name(claim),
                                     script_version=claim.script_version, inputs=claim.inputs,
                                     result=result, started_at=now, finished_at=now,
                                     node=self.node, actor=claim.actor, id=claim.run_id)

    def _name(self, claim: QueuedClaim) -> str:
        with self.sessions() as s:
            run = s.get(Run, claim.run_id)
            return run.script_name if run is not None else ""

    def _finish(self, claim: QueuedClaim) -> None:
        Q = QueuedRun
        with self.sessions() as s:
            s.execute(update(Q).where(Q.id == claim.id, Q.lease_owner == self.node)
                      .values(state="finished", inputs={}, lease_until=None,
                              finished_at=self.clock.now())
                      .execution_options(synchronize_session=False))
            s.commit()

    def run_due(self, limit: int = 1) -> int:
        """Claim and run up to `limit` queued runs on this thread; returns how many."""
        claims = self.claim(limit)
        for claim in claims:
            self.run(claim)
        return len(claims)


class QueueNode:
    """`concurrency` threads that each claim and run one queued run at a time.

    Only one of them polls the database while the queue is empty (the others wait their
    turn): an idle node asks once per `poll`, not `concurrency` times. A thread that
    claimed a run hands the turn on at once, so a burst of queued runs is claimed as
    fast as threads free up."""

    def __init__(self, queue: RunQueue, *, concurrency: int = 2, poll: float = 1.0) -> None:
        self.queue = queue
        self.concurrency = max(1, concurrency)
        self.poll = poll
        self._stop = threading.Event()
        self._turn = threading.Lock()   # held by the one thread polling
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for n in range(self.concurrency):
            thread = threading.Thread(target=self._loop, name=f"sluice-queue-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._turn.acquire(timeout=max(self.poll, 0.05)):
                continue
            try:
                claims = self._next()
            finally:
                self._turn.release()
            for claim in claims:
                try:
                    self.queue.run(claim)
                except Exception:  # the store failed under the run's writes
                    log.exception("run queue: queued run %s failed", claim.run_id)

    def _next(self) -> list[QueuedClaim]:
        """Poll until a queued run is claimed (or the node stops)."""
        while not self._stop.is_set():
            try:
                claims = self.queue.claim(1)
            except Exception:  # the database is away: try again after the poll interval
                log.exception("run queue: cannot claim")
                claims = []
            if claims:
                return claims
            self._stop.wait(self.poll)
        return []

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; a run in progress finishes (or its lease hands it on)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
