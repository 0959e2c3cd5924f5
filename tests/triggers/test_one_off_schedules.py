"""A `--repeat once` schedule whose start has already passed: within the misfire grace it
runs once, promptly; beyond it, it is refused (CLI exit 2, API 422) — never accepted and
silent ("next runs: none")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sluice_testdb import UTC, ManualClock
from sluicegate.cli import main
from sluicegate.triggers import SchedulerSettings
from sluicegate.triggers.errors import InvalidField
from sluicegate.triggers.scheduler import Scheduler
from sluicegate.triggers.setup import Triggers


def _add(triggers: Triggers, **request: object) -> None:
    triggers.catalog.save("tick", 'info "tick"; return 1;', kind="schedule")
    triggers.schedules.add({"name": "one", "script": "tick", "timezone": "UTC",
                            "recurrence": {"kind": "once"}, **request})


def _run_all(triggers: Triggers) -> list[str]:
    Scheduler(triggers.sessions, triggers.executor, triggers.history, clock=triggers.clock,
              settings=SchedulerSettings(), node="n").run_due()
    return [o.state for o in triggers.schedules.occurrences("one", 10)]


@pytest.mark.parametrize("ago", [0.1, 3.0, 59.0])
def test_a_start_just_past_runs_once_at_once(triggers: Triggers, clock: ManualClock,
                                             ago: float) -> None:
    start = clock.now() - dt.timedelta(seconds=ago)
    _add(triggers, start=start.isoformat())
    assert triggers.schedules.get("one").next_fire_at is not None
    assert _run_all(triggers) == ["succeeded"]
    clock.advance(3600)
    assert _run_all(triggers) == ["succeeded"]


def test_no_start_means_now(triggers: Triggers, clock: ManualClock) -> None:
    clock.set(dt.datetime(2025, 1, 6, 9, 0, 42, tzinfo=UTC))
    _add(triggers)
    assert _run_all(triggers) == ["succeeded"]


def test_a_start_beyond_the_grace_is_refused_naming_the_field(triggers: Triggers,
                                                              clock: ManualClock) -> None:
    with pytest.raises(InvalidField) as refused:
        _add(triggers, start=(clock.now() - dt.timedelta(minutes=5)).isoformat())
    assert refused.value.field == "start"
    assert "misfire grace of 60 s" in refused.value.reason
    assert triggers.schedules.list() == []


def test_a_larger_grace_accepts_an_older_start(triggers: Triggers, clock: ManualClock) -> None:
    _add(triggers, start=(clock.now() - dt.timedelta(minutes=5)).isoformat(),
         misfire_grace=600)
    assert _run_all(triggers) == ["succeeded"]


def test_the_command_line_exits_2_for_a_past_one_off(db_url: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SLUICE_DATABASE_URL", db_url)
    script = tmp_path / "tick.dg"
    script.write_text('info "tick";\n')
    assert main(["scripts", "add", "tick", str(script), "--kind", "schedule"]) == 0
    yesterday = (dt.datetime.now(UTC) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    code = main(["schedules", "add", "once", "--script", "tick", "--repeat", "once",
                 "--start", yesterday, "--timezone", "UTC"])
    err = capsys.readouterr().err
    assert code == 2
    assert "start:" in err and "in the past" in err and "Traceback" not in err
    assert main(["schedules", "list"]) == 0
    assert "once" not in capsys.readouterr().out
