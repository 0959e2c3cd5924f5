"""A finished batch of scheduled runs is recorded with one batched insert (an array per
column on PostgreSQL, a multi-row INSERT elsewhere): every record reads back exactly as
the ORM writes a single run, its id is the one of its own occurrence, and the run
observer logs each of them once, at the commit."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

import pytest
from sluicegate.engine import ErrorInfo, RunResult
from sluicegate.observability import install_run_observer
from sluicegate.store.runs import InsertedRun, Run, insert_claimed_runs, note_inserted
from sluicegate.triggers.setup import Triggers
from sqlalchemy import select

UTC = dt.UTC
# texts that an array literal must escape: quotes, braces, commas, backslashes, NULL
AWKWARD = ['say "hi", {x}', "back\\slash", "NULL", "", "é ✓ \U0001f600", "line\nbreak"]


def _fields(triggers: Triggers, n: int, result: RunResult) -> dict[str, Any]:
    at = dt.datetime(2025, 1, 6, 9, 0, n % 60, n, tzinfo=UTC)
    return dict(trigger="schedule", script_id=None, script_name=f"job{n}",
                script_version=n, inputs={"n": n, "text": AWKWARD[n % len(AWKWARD)],
                                          "password": "hunter2"},
                result=result, started_at=at, finished_at=at + dt.timedelta(seconds=1),
                node="test-node", actor=f"schedule s{n}", schedule_id=n + 100,
                occurrence_id=n + 1000, attempt=1 + n % 3)


def _results() -> list[RunResult]:
    return [
        RunResult("success", Decimal("12.50"), [AWKWARD[0], AWKWARD[1]], None,
                  {"statements": 3, "http_calls": 0}),
        RunResult("success", None, [], None, {"statements": 1}),
        RunResult("failure", None, ["before"], ErrorInfo("RuntimeError", AWKWARD[2], 2, 5,
                                                         "job.dg"), {"statements": 2}),
        RunResult("success", {"list": [1, "two", None], "map": {"k": AWKWARD[4]}},
                  [AWKWARD[5]], None, {"statements": 4}),
        RunResult("success", "NULL", [AWKWARD[3]], None, {}),
    ]


def _stored(run: Run) -> dict[str, Any]:
    keys = ("trigger", "script_id", "script_name", "script_version", "status", "inputs",
            "logs", "logs_truncated", "return_value", "error", "stats", "http", "mail",
            "started_at", "finished_at", "schedule_id", "occurrence_id", "attempt",
            "replay_of", "node", "actor")
    return {k: getattr(run, k) for k in keys}


def test_batched_records_read_back_as_the_orm_writes_them(triggers: Triggers) -> None:
    history = triggers.history
    results = _results()
    fields = [_fields(triggers, n, results[n % len(results)]) for n in range(12)]
    with triggers.sessions() as s:
        # the reference: each run written alone through the ORM
        reference = [history.row(**f) for f in fields]
        for run, f in zip(reference, fields, strict=True):
            run.occurrence_id = f["occurrence_id"] + 5000
        s.add_all(reference)
        s.flush()
        ids = insert_claimed_runs(s.connection(), [history.values(**f) for f in fields])
        s.commit()
    assert len(set(ids)) == len(fields)
    with triggers.sessions() as s:
        batched = {r.id: r for r in s.scalars(select(Run).where(Run.id.in_(ids)))}
        alone = {r.occurrence_id - 5000: r for r in s.scalars(
            select(Run).where(Run.occurrence_id >= 5000))}
        for run_id, f in zip(ids, fields, strict=True):
            got = _stored(batched[run_id])
            # the id returned for a row is the record of that row's own occurrence
            assert got["occurrence_id"] == f["occurrence_id"]
            want = _stored(alone[f["occurrence_id"]])
            want["occurrence_id"] = f["occurrence_id"]
            assert got == want
            assert got["inputs"]["password"] == "[redacted]"


def test_each_batched_record_is_logged_once_at_commit(triggers: Triggers,
                                                      caplog: pytest.LogCaptureFixture
                                                      ) -> None:
    install_run_observer()
    history = triggers.history
    fields = [_fields(triggers, n, _results()[0]) for n in range(3)]
    caplog.set_level(logging.INFO, logger="sluicegate.runs")
    with triggers.sessions() as s:
        rows = [history.values(**f) for f in fields]
        ids = insert_claimed_runs(s.connection(), rows)
        note_inserted(s, [InsertedRun(i, r) for i, r in zip(ids, rows, strict=True)])
        assert not [r for r in caplog.records if r.name == "sluicegate.runs"]
        s.commit()
    logged = [r for r in caplog.records if r.name == "sluicegate.runs"]
    assert sorted(r.sluice_fields["run_id"] for r in logged) == sorted(ids)
    assert {r.sluice_fields["status"] for r in logged} == {"success"}
    # a rolled-back batch is not logged
    caplog.clear()
    with triggers.sessions() as s:
        more = [history.values(**{**f, "occurrence_id": f["occurrence_id"] + 1})
                for f in fields]
        more_ids = insert_claimed_runs(s.connection(), more)
        note_inserted(s, [InsertedRun(i, r) for i, r in zip(more_ids, more, strict=True)])
        s.rollback()
    assert not [r for r in caplog.records if r.name == "sluicegate.runs"]
