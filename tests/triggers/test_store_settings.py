"""How the store is run: SQLite in WAL mode with a busy timeout (a writer waits for
another instead of failing), and a scheduler node that prunes the run history by its
retention policy (age and count)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

from sluice_testdb import UTC, sqlite_copy
from sluicegate.engine import RunResult
from sluicegate.store.db import make_engine
from sluicegate.triggers import RetentionPolicy, SchedulerNode, open_triggers
from sluicegate.triggers.clock import SystemClock
from sluicegate.triggers.setup import Triggers


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def _record(triggers: Triggers, started: dt.datetime) -> int:
    return triggers.history.record(trigger="cli", script_id=None, script_name="x",
                                   script_version=None, inputs={},
                                   result=RunResult("success", 1), started_at=started,
                                   finished_at=started)


def test_a_sqlite_writer_waits_for_another_writer_instead_of_failing(
        tmp_path: Path, _sqlite_template: Path) -> None:
    url = sqlite_copy(_sqlite_template, tmp_path)
    holder, writer = make_engine(url), make_engine(url)
    triggers = open_triggers(writer, migrate=False)
    locked = threading.Event()

    def hold_the_write_lock() -> None:
        with holder.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.exec_driver_sql("INSERT INTO api_tokens (name, role, prefix, digest, "
                                 "created_by, created_at) VALUES ('t', 'runner', 'p', 'd', "
                                 "'', '2025-01-01 00:00:00')")
            locked.set()
            time.sleep(0.5)
            conn.exec_driver_sql("COMMIT")

    thread = threading.Thread(target=hold_the_write_lock)
    thread.start()
    assert locked.wait(5)
    started = time.monotonic()
    run_id = _record(triggers, dt.datetime.now(UTC))
    waited = time.monotonic() - started
    thread.join()
    assert run_id == 1 and waited >= 0.3
    holder.dispose()
    writer.dispose()


def test_a_node_prunes_the_history_by_age_and_count(triggers: Triggers) -> None:
    triggers.clock = SystemClock()
    now = dt.datetime.now(UTC)
    for days in (90, 60, 3, 2, 1, 0):
        _record(triggers, now - dt.timedelta(days=days))
    node = SchedulerNode(triggers.scheduler(), poll=0.05, prune_every=0.0,
                         retention=RetentionPolicy(max_age=dt.timedelta(days=30),
                                                   max_count=3))
    node.scheduler.clock = SystemClock()
    node.start()
    try:
        deadline = time.monotonic() + 10
        while len(triggers.history.list()) > 3:
            assert time.monotonic() < deadline, "the node did not prune"
            time.sleep(0.05)
    finally:
        node.stop(5)
    ages = sorted(round((now - r.started_at).total_seconds() / 86400)
                  for r in triggers.history.list())
    assert ages == [0, 1, 2]
