"""Every run committed to the history is counted and logged once, whatever recorded it.

A session listener notes the `Run` rows a flush inserts (and those a batched Core insert
notes with `store.runs.note_inserted`) and, when their transaction commits, adds them to
the run metrics and writes one `event: "run"` line: run id, script, trigger, status,
duration, statements, HTTP calls, node. A rolled-back write counts nothing. The
launcher, the scheduler's batched writes and CLI commands all go through it without
knowing it is there.
"""

from __future__ import annotations

__all__ = ["install_run_observer", "observe_run"]

import logging
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from ..store.runs import NEW_RUNS, Run
from .logs import log_event
from .metrics import HTTP_CALLS, RUN_SECONDS, RUNS

log = logging.getLogger("sluicegate.runs")
_KEY = NEW_RUNS   # also filled by store.runs.note_inserted (batched Core inserts)
_installed = False


def observe_run(run: Run | Any) -> None:
    """Count and log one recorded run."""
    stats = run.stats or {}
    seconds = None
    if run.started_at is not None and run.finished_at is not None:
        seconds = max(0.0, (run.finished_at - run.started_at).total_seconds())
    RUNS.labels(run.status, run.trigger, run.script_name).inc()
    if seconds is not None:
        RUN_SECONDS.labels(run.trigger, run.script_name).observe(seconds)
    for call in run.http or []:
        status = call.get("status") if isinstance(call, dict) else None
        HTTP_CALLS.labels(str((call or {}).get("connection") or "none"),
                          str(status) if status is not None else "error").inc()
    error = run.error or {}
    log_event(log, f"run {run.id} of {run.script_name}: {run.status}",
              logging.INFO if run.status == "success" else logging.WARNING,
              event="run", run_id=run.id, script=run.script_name,
              version=run.script_version, trigger=run.trigger, status=run.status,
              duration_ms=stats.get("duration_ms"), statements=stats.get("statements"),
              http_calls=stats.get("http_calls"), error_type=error.get("type"),
              node=run.node)


def _finished(obj: Any, session: Session) -> bool:
    """A run written with its outcome: inserted finished, or a queued run's row that
    now gets its final status."""
    if not isinstance(obj, Run) or obj.status in ("queued", "running"):
        return False
    return obj in session.new or inspect(obj).attrs.status.history.has_changes()


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    done = [obj for obj in (*session.new, *session.dirty) if _finished(obj, session)]
    if done:
        session.info.setdefault(_KEY, []).extend(done)


def _after_commit(session: Session) -> None:
    for run in session.info.pop(_KEY, []):
        try:
            observe_run(run)
        except Exception:  # observing must never fail the write it follows
            log.exception("run %s could not be observed", getattr(run, "id", "?"))


def _after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)


def install_run_observer() -> None:
    """Listen on every session of this process (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", lambda s, _t: _after_rollback(s))
    _installed = True
