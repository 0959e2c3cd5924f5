"""When schedules fire: every recurrence kind, ends, and daylight-saving transitions."""

from __future__ import annotations

import datetime as dt

import pytest
from sluicegate.triggers.errors import InvalidField
from sluicegate.triggers.recurrence import Recurrence, Timing

UTC = dt.UTC


def fires(rule: dict, start: str, zone: str = "UTC", count: int = 6,
          after: dt.datetime | None = None, **end: object) -> list[str]:
    timing = Timing(Recurrence.from_json(rule), zone, dt.datetime.fromisoformat(start),
                    **end)  # type: ignore[arg-type]
    return [t.astimezone(timing.zone).strftime("%Y-%m-%d %H:%M %Z")
            for t in timing.upcoming(after, count)]


def test_daily_0230_runs_exactly_once_on_the_autumn_change() -> None:
    # Europe/Berlin, 2024-10-27: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice
    assert fires({"kind": "daily"}, "2024-10-26T02:30", "Europe/Berlin", 3) == [
        "2024-10-26 02:30 CEST", "2024-10-27 02:30 CEST", "2024-10-28 02:30 CET"]


def test_daily_0230_is_not_lost_on_the_spring_change() -> None:
    # 2024-03-31: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist and runs at 03:00
    assert fires({"kind": "daily"}, "2024-03-30T02:30", "Europe/Berlin", 3) == [
        "2024-03-30 02:30 CET", "2024-03-31 03:00 CEST", "2024-04-01 02:30 CEST"]


def test_a_fire_time_inside_the_repeated_hour_is_not_fired_again_from_the_second_pass() -> None:
    # asking "what comes after 02:15 CET" (the second 02:15) must not yield 02:30 again
    after = dt.datetime(2024, 10, 27, 1, 15, tzinfo=UTC)
    assert fires({"kind": "daily"}, "2024-10-20T02:30", "Europe/Berlin", 1, after) == [
        "2024-10-28 02:30 CET"]


def test_new_york_daily_job_in_the_repeated_hour_runs_once() -> None:
    assert fires({"kind": "daily"}, "2024-11-02T01:30", "America/New_York", 3) == [
        "2024-11-02 01:30 EDT", "2024-11-03 01:30 EDT", "2024-11-04 01:30 EST"]


def test_hourly_follows_elapsed_time_across_both_changes() -> None:
    assert fires({"kind": "hourly"}, "2024-10-27T01:10", "Europe/Berlin", 4) == [
        "2024-10-27 01:10 CEST", "2024-10-27 02:10 CEST", "2024-10-27 02:10 CET",
        "2024-10-27 03:10 CET"]
    assert fires({"kind": "hourly", "interval": 2}, "2024-03-31T00:15", "Europe/Berlin",
                 3) == ["2024-03-31 00:15 CET", "2024-03-31 03:15 CEST",
                        "2024-03-31 05:15 CEST"]


def test_weekly_on_chosen_days_every_other_week() -> None:
    # 2025-01-01 is a Wednesday: Friday of that week, then two weeks on
    assert fires({"kind": "weekly", "days": ["mon", "fri"], "interval": 2},
                 "2025-01-01T09:00", count=5) == [
        "2025-01-03 09:00 UTC", "2025-01-13 09:00 UTC", "2025-01-17 09:00 UTC",
        "2025-01-27 09:00 UTC", "2025-01-31 09:00 UTC"]


def test_weekly_without_days_repeats_the_start_weekday() -> None:
    assert fires({"kind": "weekly"}, "2025-01-01T09:00", count=2) == [
        "2025-01-01 09:00 UTC", "2025-01-08 09:00 UTC"]


def test_monthly_on_a_day_the_last_day_and_the_nth_weekday() -> None:
    assert fires({"kind": "monthly", "day": 15}, "2025-01-20T08:00", count=2) == [
        "2025-02-15 08:00 UTC", "2025-03-15 08:00 UTC"]
    assert fires({"kind": "monthly", "day": "last"}, "2025-01-01T08:00", count=3) == [
        "2025-01-31 08:00 UTC", "2025-02-28 08:00 UTC", "2025-03-31 08:00 UTC"]
    assert fires({"kind": "monthly", "nth": "second", "weekday": "tue"},
                 "2025-01-01T08:00", count=3) == [
        "2025-01-14 08:00 UTC", "2025-02-11 08:00 UTC", "2025-03-11 08:00 UTC"]
    assert fires({"kind": "monthly", "nth": "last", "weekday": "fri", "interval": 3},
                 "2025-01-01T08:00", count=2) == ["2025-01-31 08:00 UTC",
                                                  "2025-04-25 08:00 UTC"]


def test_yearly_on_a_date_and_on_the_nth_weekday_of_a_month() -> None:
    assert fires({"kind": "yearly"}, "2024-02-29T12:00", count=2) == [
        "2024-02-29 12:00 UTC", "2028-02-29 12:00 UTC"]
    assert fires({"kind": "yearly", "month": "nov", "nth": 4, "weekday": "thu"},
                 "2025-01-01T10:00", count=2) == ["2025-11-27 10:00 UTC",
                                                  "2026-11-26 10:00 UTC"]


def test_cron_expressions_in_a_time_zone() -> None:
    assert fires({"kind": "cron", "cron": "*/20 9 * * 1-5"}, "2025-01-03T00:00",
                 "Asia/Kolkata", 4) == ["2025-01-03 09:00 IST", "2025-01-03 09:20 IST",
                                        "2025-01-03 09:40 IST", "2025-01-06 09:00 IST"]


def test_once_fires_at_the_start_only() -> None:
    assert fires({"kind": "once"}, "2025-05-01T10:30:15") == ["2025-05-01 10:30 UTC"]
    after = dt.datetime(2025, 5, 2, tzinfo=UTC)
    assert fires({"kind": "once"}, "2025-05-01T10:30", after=after) == []


def test_ends_after_n_runs_or_on_a_date() -> None:
    assert len(fires({"kind": "daily"}, "2025-01-01T08:00", count=10, end_after=3)) == 3
    end = dt.datetime(2025, 1, 4, 0, 0, tzinfo=UTC)
    assert fires({"kind": "daily"}, "2025-01-01T08:00", count=10, end_on=end) == [
        "2025-01-01 08:00 UTC", "2025-01-02 08:00 UTC", "2025-01-03 08:00 UTC"]


@pytest.mark.parametrize("rule, field", [
    ({"kind": "fortnightly"}, "recurrence.kind"),
    ({"kind": "daily", "days": "mon"}, "recurrence.days"),
    ({"kind": "weekly", "days": "funday"}, "recurrence.days"),
    ({"kind": "monthly", "day": 32}, "recurrence.day"),
    ({"kind": "monthly", "nth": 2}, "recurrence.weekday"),
    ({"kind": "monthly", "day": 3, "nth": 2, "weekday": "mon"}, "recurrence.nth"),
    ({"kind": "cron", "cron": "61 * * * *"}, "recurrence.cron"),
    ({"kind": "cron"}, "recurrence.cron"),
    ({"kind": "daily", "interval": 0}, "recurrence.interval"),
    ({"kind": "once", "interval": 2}, "recurrence.interval"),
])
def test_invalid_rules_name_the_field(rule: dict, field: str) -> None:
    with pytest.raises(InvalidField) as err:
        Recurrence.from_json(rule)
    assert err.value.field == field


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(InvalidField, match="not an IANA time zone"):
        Timing(Recurrence("daily"), "Mars/Olympus", dt.datetime(2025, 1, 1))


def test_rules_describe_themselves() -> None:
    wall = dt.datetime(2025, 1, 1, 9, 0)
    assert Recurrence.from_json({"kind": "weekly", "days": "mon,fri", "interval": 2}) \
        .describe(wall) == "every 2 weeks on mon,fri at 09:00"
    assert Recurrence.from_json({"kind": "monthly", "nth": "last", "weekday": "fri"}) \
        .describe(wall) == "every month on the last fri at 09:00"
