"""A node's lease on one claimed occurrence, as its run sees it: the fencing token and
whether the run may go on.

The fencing token is the occurrence's `attempt`, which every claim increments: a node may
record a run, settle the occurrence or renew the lease only while the row still carries
its token (the check is part of each UPDATE). The run itself cannot ask the database
before every statement, so the lease also keeps, on this node's monotonic clock, until
when it is known to hold: a node frozen (SIGSTOP, a stalled VM) past that instant must
assume that another node took the occurrence over, and stops the run at once instead of
finishing it beside the other node's. Executors poll `is_set()` (the shape of
`threading.Event`, so an Event also fits where a plain cancel flag is enough) and may
register with `on_stop` what must happen at once (kill the run's process).
"""

from __future__ import annotations

__all__ = ["RunLease", "run_key"]

import datetime as _dt
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("sluicegate.scheduler")


class RunLease:
    """This node's hold on one occurrence: its token, its local expiry, lost or not, and
    what to do at once when the run must stop (an isolated executor registers the kill
    of its child, which may be waiting on an HTTP call and polling nothing)."""

    def __init__(self, token: int, seconds: float) -> None:
        self.token = token
        self._lost = False
        self._stopped = threading.Event()
        self._valid_until = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._on_stop: list[Callable[[], None]] = []

    def renewed(self, seconds: float, since: float | None = None) -> None:
        """The database renewed the lease for `seconds` from `since` (monotonic: when the
        renewal was sent, so that a slow answer never extends it past what it holds)."""
        self._valid_until = (time.monotonic() if since is None else since) + seconds

    def lose(self) -> None:
        """Another node holds the occurrence now (or this node gave it up): stop."""
        self._lost = True
        self.stop()

    def stop(self) -> None:
        """Stop the run now: call what was registered with `on_stop`, once."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
            callbacks, self._on_stop = self._on_stop, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # one failed stop must not keep the others from running
                log.exception("stopping a run whose lease was lost failed")

    def on_stop(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` when the run must stop (at once if it must already); returns
        the function that unregisters it, for when the run ended by itself."""
        with self._lock:
            if not self._stopped.is_set():
                self._on_stop.append(callback)

                def unregister() -> None:
                    with self._lock:
                        if callback in self._on_stop:
                            self._on_stop.remove(callback)
                return unregister
        callback()
        return lambda: None

    @property
    def lost(self) -> bool:
        return self._lost

    @property
    def is_stopped(self) -> bool:
        return self._stopped.is_set()

    @property
    def expired(self) -> bool:
        """The lease ran out on this node's clock without a renewal."""
        return time.monotonic() >= self._valid_until

    def is_set(self) -> bool:
        """True when the run must stop now: the lease was lost or ran out."""
        return self._stopped.is_set() or time.monotonic() >= self._valid_until


def run_key(schedule_id: int, occurrence_id: int, fire_at: _dt.datetime) -> str:
    """What identifies an occurrence's execution across re-runs: the same for every
    attempt of one occurrence, different for any other occurrence (the broker derives
    each request's idempotency key from it: sluicegate.http.idempotency)."""
    return f"occurrence:{schedule_id}:{occurrence_id}:{fire_at.astimezone(_dt.UTC).isoformat()}"

