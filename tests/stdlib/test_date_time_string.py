"""toDateTimeString(dateTimeFormat, timeZone) (Zoho Deluge docs:
https://www.zoho.com/deluge/help/functions/datetime/todatetimestring.html), called as
scripts call it, and `sluice check`'s arity for it; the vendor-style examples are in
tests/scripts/dates/to_date_time_string.dg."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sluicegate.checker import check_source
from sluicegate.dispatch import call_function, call_method
from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import RunContext, activate
from sluicegate.stdlib.dates import parse_date_literal

EPOCH = 1704067200000     # 2024-01-01 00:00:00 UTC


@pytest.fixture(autouse=True)
def berlin_run() -> Iterator[RunContext]:
    with activate(RunContext(timezone=ZoneInfo("Europe/Berlin"),
                             now=lambda: dt.datetime(2025, 6, 15, tzinfo=dt.UTC))) as ctx:
        yield ctx


def test_milliseconds_in_a_pattern_and_a_zone() -> None:
    assert call_method(EPOCH, "toDateTimeString", "dd-MMM-yyyy HH:mm:ss",
                       "Asia/Kolkata") == "01-Jan-2024 05:30:00"
    assert call_function("toDateTimeString", EPOCH, "HH:mm z",
                         "America/New_York") == "19:00 EST"
    assert call_method(EPOCH + 1999, "toDateTimeString", "ss.SSS", "UTC") == "01.999"


def test_the_defaults_are_the_runs_zone_and_the_display_form() -> None:
    assert call_method(EPOCH, "toDateTimeString", "HH:mm") == "01:00"
    assert call_method(EPOCH, "toDateTimeString") == "01-Jan-2024 01:00:00"


def test_a_datetime_or_date_text_is_converted_like_a_number() -> None:
    local = parse_date_literal("01-Jan-2024 01:00:00")      # the same instant, in Berlin
    for receiver in (local, "01-Jan-2024 01:00:00"):
        assert call_method(receiver, "toDateTimeString", "yyyy-MM-dd HH:mm XXX",
                           "UTC") == "2024-01-01 00:00 Z"


def test_mistakes_are_named() -> None:
    with pytest.raises(ScriptRuntimeError, match="'soon' is not a valid DATETIME for "
                                                 "toDateTimeString"):
        call_method("soon", "toDateTimeString", "HH:mm")
    with pytest.raises(ScriptRuntimeError, match="Argument 1 of toDateTimeString must be "
                                                 "TEXT"):
        call_method(EPOCH, "toDateTimeString", 5, 6)
    with pytest.raises(ScriptRuntimeError, match="Argument 2 of toDateTimeString must be "
                                                 "TEXT"):
        call_method(EPOCH, "toDateTimeString", "HH:mm", 6)
    with pytest.raises(ScriptRuntimeError, match="Date out of range in toDateTimeString"):
        call_method(10 ** 18, "toDateTimeString", "HH:mm")


def test_check_knows_its_arity() -> None:
    ok = ('x = 1704067200000.toDateTimeString("HH:mm", "UTC");\n'
          'info toDateTimeString(1704067200000, "HH:mm", "UTC") + x;\n')
    assert [d.message for d in check_source(ok, "ok.dg")] == []
    bad = 'info 1704067200000.toDateTimeString("HH:mm", "UTC", "extra");\n'
    assert [d.message for d in check_source(bad, "bad.dg")] == [
        "Function 'toDateTimeString' expects 0 to 2 arguments but got 3"]
