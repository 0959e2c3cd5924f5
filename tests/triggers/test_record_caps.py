"""Issue 11 point 9: what a run record stores is capped per field (64 KB by default,
`SLUICE_RUN_FIELD_BYTES`), and a cut text says so with its full size."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sluicegate.engine import ErrorInfo, RunResult
from sluicegate.triggers import Actor
from sluicegate.triggers.errors import InvalidField
from sluicegate.triggers.history import cut_text, field_cap_from_environment
from sluicegate.triggers.setup import Triggers
from sqlalchemy import text

ME = Actor.named("ada", "42")


def test_an_8_mb_throw_stores_64_kb_marked_as_cut(triggers: Triggers) -> None:
    triggers.catalog.save("big", 'x = "a"; for each i in {1,2,3,4,5,6,7,8,9,10,11,12,13,'
                                 '14,15,16,17,18,19,20,21,22,23} { x = x + x; } throw x;',
                          kind="function")
    out = triggers.launcher.execute_function("big", {}, actor=ME)
    record = triggers.history.get(out.run_id)
    message = record.error["message"]
    assert message.endswith("… [cut: 8,388,608 bytes]"), message[-60:]
    assert len(message.encode()) < 64 * 1024 + 100
    assert message.startswith("a" * 1000)
    with triggers.sessions() as s:
        stored = s.execute(text("select error from runs")).scalar()
    assert len(stored) < 70_000


def test_long_log_lines_are_cut_and_the_logs_field_stays_under_the_cap(
        triggers: Triggers) -> None:
    triggers.catalog.save("chatty", 'x = "b"; for each i in {1,2,3,4,5,6,7,8,9,10,11,12,13,'
                                    '14,15,16,17,18} { x = x + x; } info "short"; info x; '
                                    'info x; return 1;', kind="function")
    out = triggers.launcher.execute_function("chatty", {}, actor=ME)
    record = triggers.history.get(out.run_id)
    assert record.logs[0] == "short"
    assert record.logs[1].endswith("… [cut: 262,144 bytes]")
    assert record.logs[2].endswith("not stored: the history keeps 2000 lines / 64 KB]")
    assert record.logs_truncated
    assert sum(len(line.encode()) for line in record.logs) < 64 * 1024 + 200


def test_the_http_trace_and_mail_keep_the_entries_that_fit(triggers: Triggers) -> None:
    history = triggers.history
    huge = "https://example.com/" + "p" * 200_000
    result = RunResult("failure", None, [], ErrorInfo("RuntimeError", "boom", 1, 1),
                       {"statements": 1},
                       [{"to": ["a@example.com"], "subject": "s", "message": "m" * 100_000}],
                       [{"method": "GET", "url": huge, "status": None, "error": huge}] * 40)
    now = dt.datetime.now(dt.UTC)
    run_id = history.record(trigger="cli", script_id=None, script_name="s",
                            script_version=None, inputs={}, result=result, started_at=now,
                            finished_at=now)
    record = history.get(run_id)
    assert len(json.dumps(record.http)) < 70_000 and len(json.dumps(record.mail)) < 70_000
    assert record.http[0]["url"].endswith("… [cut: 200,020 bytes]")
    assert record.stats["http_truncated"] == 40 - len(record.http)
    assert record.mail[0]["message"].endswith("… [cut: 100,000 bytes]")


def test_the_cap_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert field_cap_from_environment() == 64 * 1024
    monkeypatch.setenv("SLUICE_RUN_FIELD_BYTES", "2048")
    assert field_cap_from_environment() == 2048
    monkeypatch.setenv("SLUICE_RUN_FIELD_BYTES", "12")
    with pytest.raises(InvalidField, match="SLUICE_RUN_FIELD_BYTES"):
        field_cap_from_environment()
    assert cut_text("é" * 10, 5) == "éé… [cut: 20 bytes]"
    assert cut_text("short", 5) == "short"
