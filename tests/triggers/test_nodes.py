"""Several scheduler processes on one database: every occurrence runs exactly once, and
one whose node dies mid-run is re-claimed after its lease and marked as a retry."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sluice_testdb import wait_until
from sluicegate.store.db import make_engine
from sluicegate.store.runs import Run
from sluicegate.store.schedules import Occurrence
from sluicegate.triggers import open_triggers
from sluicegate.triggers.setup import Triggers
from sqlalchemy import func, select

HERE = Path(__file__).resolve().parent
UTC = dt.UTC


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "SLUICE_DATABASE_URL": url, "SLUICE_TIMEZONE": "UTC"}


@pytest.fixture
def real_triggers(db_url: str) -> Iterator[Triggers]:
    engine = make_engine(db_url)
    yield open_triggers(engine, migrate=False, node="test")
    engine.dispose()


def _worker(url: str, node: str, processes: list[subprocess.Popen[str]]) -> \
        subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sluicegate.cli", "worker", "--node", node, "--poll", "0.05",
         "--lease", "5", "--batch", "16", "--concurrency", "4", "--grace", "5"],
        env=_env(url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    processes.append(proc)
    return proc


def _ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        if "ready" in line:
            # a worker logs a JSON line per run: keep its pipe drained, or a worker that
            # ran most of the occurrences blocks on a full pipe and never exits
            threading.Thread(target=lambda s=proc.stderr: [None for _ in s],
                             daemon=True).start()
            return
    raise AssertionError(f"worker exited before it was ready (exit {proc.wait()})")


def test_two_worker_processes_run_200_occurrences_exactly_once(
        real_triggers: Triggers, db_url: str, processes: list[subprocess.Popen[str]]) -> None:
    real_triggers.catalog.save("tick", 'info "tick " + n; return n;', kind="schedule")
    workers = [_worker(db_url, f"w{i}", processes) for i in (1, 2)]
    for w in workers:
        _ready(w)
    first = dt.datetime.now(UTC) + dt.timedelta(seconds=0.5)
    for n in range(200):  # due over 1.5 s
        start = first + dt.timedelta(milliseconds=7.5 * n)
        real_triggers.schedules.add({"name": f"once{n}", "script": "tick",
                                     "recurrence": {"kind": "once"}, "timezone": "UTC",
                                     "start": start.isoformat(), "inputs": {"n": n}})
    with real_triggers.sessions() as s:
        def runs() -> int:
            return s.scalar(select(func.count()).select_from(Run)) or 0
        wait_until(lambda: runs() >= 200, 60, "200 runs")
        for w in workers:  # stopped and gone: nothing more can arrive
            w.send_signal(signal.SIGTERM)
        assert [w.wait(20) for w in workers] == [0, 0]
        assert runs() == 200
        distinct = s.scalar(select(func.count(func.distinct(Run.occurrence_id))))
        assert distinct == 200
        states = dict(s.execute(select(Occurrence.state, func.count())
                                .group_by(Occurrence.state)).all())
        assert states == {"succeeded": 200}
        returns = sorted(int(v) for v in s.scalars(select(Run.return_value)))
        assert returns == list(range(200))
        nodes = set(s.scalars(select(Run.node)))
    assert nodes <= {"w1", "w2"}


def test_a_worker_killed_mid_run_has_its_occurrence_reclaimed_after_the_lease(
        real_triggers: Triggers, db_url: str, processes: list[subprocess.Popen[str]]) -> None:
    real_triggers.catalog.save("slow", 'return "done";', kind="schedule")
    holder = subprocess.Popen([sys.executable, str(HERE / "holding_worker.py"), db_url,
                               "doomed", "1.0"], env=_env(db_url), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    processes.append(holder)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    real_triggers.schedules.add({"name": "slow", "script": "slow", "timezone": "UTC",
                                 "recurrence": {"kind": "once"},
                                 "start": "2099-01-01T00:00", "inputs": {"hold": 60}})
    occurrence = real_triggers.schedules.run_now("slow").id
    with real_triggers.sessions() as s:
        def row() -> Occurrence:
            s.expire_all()
            found = s.get(Occurrence, occurrence)
            assert found is not None
            return found
        wait_until(lambda: row().state == "running", 20, "the doomed node to claim it")
        assert row().lease_owner == "doomed"
        # the lease is renewed while the node lives: another node cannot take it
        rescuer = _worker(db_url, "rescuer", processes)
        _ready(rescuer)
        first_expiry = row().lease_expires_at
        assert first_expiry is not None
        # past the first expiry, with the rescuer polling all the while: renewed, kept
        wait_until(lambda: row().lease_expires_at > first_expiry + dt.timedelta(seconds=1.5),
                   30, "the doomed node to renew its lease past its first expiry")
        assert (row().state, row().lease_owner, row().attempt) == ("running", "doomed", 1)
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        wait_until(lambda: row().state == "succeeded", 20, "the rescuer to re-claim and run it")
        final = row()
        assert (final.attempt, final.reclaims) == (2, 1)
        assert final.reason == "re-claimed after the lease of doomed expired"
        runs = s.scalars(select(Run).where(Run.occurrence_id == occurrence)).all()
        assert [(r.node, r.attempt, r.status) for r in runs] == [("rescuer", 2, "success")]
