"""DATETIME built-ins (stdlib/dates.py, stdlib/datepatterns.py), called as scripts call them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sluicegate.dispatch import call_function, call_method
from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import RunContext, activate
from sluicegate.stdlib import datepatterns
from sluicegate.stdlib.dates import (
    looks_like_date_literal,
    now_value,
    parse_date_literal,
    parse_date_text,
    today_value,
)
from sluicegate.values import DateTime, display

FIXED_NOW = dt.datetime(2025, 6, 15, 9, 30, 45, 123456, tzinfo=dt.UTC)


def _context(zone: str = "UTC", date_format: str | None = None) -> RunContext:
    return RunContext(timezone=ZoneInfo(zone), date_format=date_format, now=lambda: FIXED_NOW)


@pytest.fixture(autouse=True)
def utc_run() -> Iterator[RunContext]:
    with activate(_context()) as ctx:
        yield ctx


@pytest.fixture
def new_york() -> Iterator[RunContext]:
    with activate(_context("America/New_York")) as ctx:
        yield ctx


def d(text: str) -> DateTime:
    return parse_date_literal(text)


def show(value: object) -> str:
    return display(value)


def m(receiver: object, name: str, *args: object) -> object:
    return call_method(receiver, name, *args)


def error_of(fn: object, *args: object) -> str:
    with pytest.raises(ScriptRuntimeError) as caught:
        fn(*args)  # type: ignore[operator]
    return caught.value.message


# ----------------------------------------------------------------------------- literals

# Deluge docs: Data types > Date-Time, "Supported Date formats", every example shown there
# (https://www.zoho.com/deluge/help/datatypes/date-time.html): all read as 15-Aug-1947.
VENDOR_EXAMPLES = [
    "15-Aug-47", "15-Aug-1947", "15-August-47", "15-August-1947", "08-15-47", "47-08-15",
    "15-08-47", "15-08-1947", "08-15-1947", "1947-08-15", "47/08/15", "15/08/47", "08/15/47",
    "1947/08/15", "08/15/1947", "15/08/1947", "15 Aug,47", "Aug 15,47", "15 Aug,1947",
    "Aug 15,1947", "15 August,47", "August 15,47", "15 August,1947", "August 15,1947",
    "Fri,August 15,1947", "Fri,Aug 15,1947", "Aug 15 47", "15 Aug 47", "Aug 15 1947",
    "15 Aug 1947", "August 15 47", "15 August 47", "15 August 1947", "August 15 1947",
    "15.08.47", "08.15.47", "47.08.15", "15 08 1947", "15.08.1947", "08.15.1947",
    "1947.08.15",
]


@pytest.mark.parametrize("text", VENDOR_EXAMPLES)
def test_every_vendor_literal_layout_reads_as_the_documented_date(text: str) -> None:
    assert looks_like_date_literal(text)
    value = d(text)
    assert show(value) == "15-Aug-1947"
    assert value.date_only


@pytest.mark.parametrize("text", ["Authorization", "", "abc-def", "Bearer abc", "hello world",
                                  "12345", "1.2.3", "a-b-c", "15-Aug", "2024", "15-Foo-2024",
                                  "15-Aug-2024 25", "v1.10.2024x"])
def test_ordinary_single_quoted_text_stays_text(text: str) -> None:
    assert not looks_like_date_literal(text)


def test_literal_detection_does_not_depend_on_the_time_zone() -> None:
    with activate(_context("Pacific/Kiritimati")):
        east = [looks_like_date_literal(t) for t in [*VENDOR_EXAMPLES, "Authorization"]]
    with activate(_context("Pacific/Pago_Pago")):
        west = [looks_like_date_literal(t) for t in [*VENDOR_EXAMPLES, "Authorization"]]
    assert east == west == [True] * len(VENDOR_EXAMPLES) + [False]


def test_literal_with_time_is_a_datetime_in_the_run_time_zone() -> None:
    with activate(_context("Asia/Kolkata")):
        value = d("15-Aug-1947 19:00:00")
    assert show(value) == "15-Aug-1947 19:00:00"
    assert not value.date_only
    assert value.value.utcoffset() == dt.timedelta(hours=5, minutes=30)


def test_day_and_month_accept_one_or_two_digits_and_any_case() -> None:
    assert show(d("1-Jan-2019")) == "01-Jan-2019"
    assert show(d("1-JAN-2019")) == "01-Jan-2019"
    assert show(d("5-march-2024")) == "05-Mar-2024"
    assert show(d("3/5/2024")) == "05-Mar-2024"


def test_ambiguous_numeric_dates_read_month_first_with_slash_and_day_first_otherwise() -> None:
    assert show(d("05/03/2024")) == "03-May-2024"
    assert show(d("05-03-2024")) == "05-Mar-2024"
    assert show(d("05.03.2024")) == "05-Mar-2024"
    assert show(d("05 03 2024")) == "05-Mar-2024"


def test_impossible_first_reading_falls_back_to_the_other_order() -> None:
    assert show(d("31/12/2024")) == "31-Dec-2024"
    assert show(d("12-31-2024")) == "31-Dec-2024"


def test_organization_date_format_decides_ambiguous_dates() -> None:
    with activate(_context(date_format="dd/MM/yyyy")):
        assert show(d("05/03/2024")) == "05-Mar-2024"
    with activate(_context(date_format="MM-dd-yyyy")):
        assert show(d("05-03-2024")) == "03-May-2024"


def test_two_digit_years_use_the_java_century_window() -> None:
    # The run clock says 2025, so the window is 1945-2044.
    assert show(d("15-Aug-47")) == "15-Aug-1947"
    assert show(d("15-Aug-44")) == "15-Aug-2044"
    assert show(d("15-Aug-45")) == "15-Aug-1945"


def test_literal_naming_an_impossible_date_raises() -> None:
    assert looks_like_date_literal("30-Feb-2024")
    assert error_of(parse_date_literal, "30-Feb-2024") == "'30-Feb-2024' is not a valid date"
    assert error_of(parse_date_literal, "00-Jan-2024") == "'00-Jan-2024' is not a valid date"


def test_twelve_hour_times_and_fractions_in_literals() -> None:
    assert show(d("15-Aug-1947 7:05 PM")) == "15-Aug-1947 19:05:00"
    assert show(d("15-Aug-1947 12:00:00 am")) == "15-Aug-1947 00:00:00"
    assert d("15-Aug-1947 10:00:00.250").value.microsecond == 250_000


def test_out_of_range_time_fields_reset_as_the_vendor_documents() -> None:
    # Deluge docs: Date-time functions > subBusinessDay, dateTimeValue: an hour of 24 or
    # more resets to 00:00:00, minutes of 60 or more reset mm:ss, seconds reset ss.
    assert show(d("15-Aug-1947 24:10:10")) == "15-Aug-1947 00:00:00"
    assert show(d("15-Aug-1947 10:60:10")) == "15-Aug-1947 10:00:00"
    assert show(d("15-Aug-1947 10:10:60")) == "15-Aug-1947 10:10:00"


def test_date_text_accepts_iso_timestamps_from_apis() -> None:
    with activate(_context("Asia/Kolkata")):
        value = parse_date_text("2020-12-09T17:25:24-07:00")
        assert value is not None and show(value) == "10-Dec-2020 05:55:24"
        local = parse_date_text(" 2024-06-10T09:30:00 ")
        assert local is not None and show(local) == "10-Jun-2024 09:30:00"
    assert parse_date_text("not a date") is None


def test_now_and_today_come_from_the_run_clock_in_the_run_time_zone() -> None:
    with activate(_context("Asia/Tokyo")):
        now, today = now_value(), today_value()
    assert show(now) == "15-Jun-2025 18:30:45"
    assert now.value.microsecond == 123000
    assert show(today) == "15-Jun-2025"
    assert today.date_only and today.value.hour == 0


# ----------------------------------------------------------------------------- arithmetic

def test_add_and_sub_of_days_weeks_months_years() -> None:
    assert show(m(d("30-Dec-2023"), "addDay", 3)) == "02-Jan-2024"
    assert show(m(d("02-Jan-2024"), "subDay", 3)) == "30-Dec-2023"
    assert show(m(d("01-Mar-2024"), "addWeek", -1)) == "23-Feb-2024"
    assert show(m(d("10-Oct-2024"), "subWeek", 2)) == "26-Sep-2024"
    assert show(m(d("15-Nov-2024"), "addMonth", 3)) == "15-Feb-2025"
    assert show(m(d("15-Nov-2024"), "subYear", 24)) == "15-Nov-2000"


def test_add_month_and_year_clamp_to_the_last_day_of_the_month() -> None:
    assert show(m(d("31-Jan-2023"), "addMonth", 1)) == "28-Feb-2023"
    assert show(m(d("31-Jan-2024"), "addMonth", 1)) == "29-Feb-2024"
    assert show(m(d("31-Mar-2024"), "subMonth", 1)) == "29-Feb-2024"
    assert show(m(d("31-May-2024"), "edate", 1)) == "30-Jun-2024"


def test_leap_day_plus_a_year_is_the_28th_and_plus_four_years_the_29th() -> None:
    assert show(m(d("29-Feb-2024"), "addYear", 1)) == "28-Feb-2025"
    assert show(m(d("29-Feb-2024"), "addYear", 4)) == "29-Feb-2028"
    assert show(m(d("29-Feb-2024"), "subYear", 124)) == "28-Feb-1900"


def test_date_only_stays_date_only_except_clock_arithmetic() -> None:
    assert m(d("01-Jan-2024"), "addDay", 1).date_only  # type: ignore[union-attr]
    assert m(d("01-Jan-2024"), "addMonth", 1).date_only  # type: ignore[union-attr]
    moved = m(d("01-Jan-2024"), "addHour", 5)
    assert show(moved) == "01-Jan-2024 05:00:00"
    assert show(m(d("01-Jan-2024 10:00:00"), "addDay", 1)) == "02-Jan-2024 10:00:00"


def test_hours_minutes_and_seconds() -> None:
    t = d("31-Dec-2023 23:59:30")
    assert show(m(t, "addSeconds", 45)) == "01-Jan-2024 00:00:15"
    assert show(m(t, "addMinutes", 1)) == "01-Jan-2024 00:00:30"
    assert show(m(t, "subHour", 24)) == "30-Dec-2023 23:59:30"
    assert show(m(t, "subMinutes", -1)) == "01-Jan-2024 00:00:30"
    assert show(m(t, "subSeconds", 30)) == "31-Dec-2023 23:59:00"


def test_amounts_may_be_numeric_text_or_whole_decimals() -> None:
    assert show(m(d("01-Jan-2024"), "addDay", "15")) == "16-Jan-2024"
    assert show(m(d("01-Jan-2024"), "addDay", Decimal("2.0"))) == "03-Jan-2024"


def test_day_arithmetic_keeps_the_wall_clock_across_dst(new_york: RunContext) -> None:
    # 10-Mar-2024: New York springs forward at 02:00; 03-Nov-2024 it falls back at 02:00.
    assert show(m(d("09-Mar-2024 12:00:00"), "addDay", 1)) == "10-Mar-2024 12:00:00"
    assert show(m(d("02-Nov-2024 12:00:00"), "addDay", 1)) == "03-Nov-2024 12:00:00"
    assert show(m(d("10-Feb-2024 09:00:00"), "addMonth", 1)) == "10-Mar-2024 09:00:00"


def test_hour_arithmetic_counts_elapsed_time_across_dst(new_york: RunContext) -> None:
    assert show(m(d("10-Mar-2024 01:30:00"), "addHour", 1)) == "10-Mar-2024 03:30:00"
    assert show(m(d("10-Mar-2024 03:30:00"), "subHour", 1)) == "10-Mar-2024 01:30:00"
    assert show(m(d("03-Nov-2024 00:30:00"), "addHour", 2)) == "03-Nov-2024 01:30:00"
    assert show(m(d("03-Nov-2024 00:30:00"), "addHour", 3)) == "03-Nov-2024 02:30:00"
    assert show(m(d("10-Mar-2024 01:59:00"), "addMinutes", 2)) == "10-Mar-2024 03:01:00"
    assert call_function("hoursBetween", d("09-Mar-2024 12:00:00"),
                         d("10-Mar-2024 12:00:00")) == 23
    assert call_function("hoursBetween", d("02-Nov-2024 12:00:00"),
                         d("03-Nov-2024 12:00:00")) == 25


def test_a_wall_time_in_the_dst_gap_moves_forward_by_the_gap(new_york: RunContext) -> None:
    assert show(d("10-Mar-2024 02:30:00")) == "10-Mar-2024 03:30:00"
    assert show(m(d("09-Mar-2024 02:30:00"), "addDay", 1)) == "10-Mar-2024 03:30:00"


def test_the_repeated_hour_reads_as_the_earlier_offset(new_york: RunContext) -> None:
    value = d("03-Nov-2024 01:30:00")
    assert value.value.utcoffset() == dt.timedelta(hours=-4)
    assert m(value, "toString", "HH:mm XXX") == "01:30 -04:00"


@pytest.mark.parametrize("receiver,name,amount", [
    ("31-Dec-9999", "addDay", 1), ("01-Jan-0001", "subDay", 1),
    ("15-Jun-2024", "addYear", 8000), ("15-Jun-2024", "subMonth", 2024 * 12),
    ("31-Dec-9999 23:00:00", "addHour", 1), ("15-Jun-2024", "addDay", 10**15),
    ("15-Jun-2024", "addSeconds", 2**62), ("15-Jun-2024", "addWeek", 600_000),
])
def test_dates_outside_years_1_to_9999_raise(receiver: str, name: str, amount: int) -> None:
    message = error_of(call_method, d(receiver), name, amount)
    assert message == f"Date out of range in {name}: years run from 1 to 9999"


def test_the_first_and_last_representable_days_work() -> None:
    assert show(m(d("30-Dec-9999"), "addDay", 1)) == "31-Dec-9999"
    assert show(m(d("0001-01-02"), "subDay", 1)) == "01-Jan-0001"
    assert call_function("daysBetween", d("0001-01-01"), d("9999-12-31")) == 3652058


# ----------------------------------------------------------------------------- business days

def _brute_business(start: dt.date, n: int, weekend: set[int], holidays: set[dt.date]) -> dt.date:
    step = 1 if n > 0 else -1
    day, left = start, abs(n)
    while left:
        day += dt.timedelta(days=step)
        if day.weekday() not in weekend and day not in holidays:
            left -= 1
    return day


def test_workday_vendor_examples() -> None:
    # Deluge docs: Date-time functions > workday.
    assert show(m(d("15-Mar-2019"), "workday", 1)) == "18-Mar-2019"
    assert show(m(d("23-May-2020"), "workday", 5, ["Sunday"], [d("25-May-2020")])) \
        == "30-May-2020"


def test_workday_drops_the_time_and_ignores_negative_counts() -> None:
    assert show(m(d("15-Mar-2019 10:00:00"), "workday", 1)) == "18-Mar-2019"
    assert show(m(d("15-Mar-2019 10:00:00"), "workday", -3)) == "15-Mar-2019"


def test_business_days_keep_the_time_and_skip_weekends() -> None:
    assert show(m(d("15-Mar-2019 10:00:00"), "addBusinessDay", 1)) == "18-Mar-2019 10:00:00"
    assert show(m(d("18-Mar-2019"), "subBusinessDay", 1)) == "15-Mar-2019"
    assert show(m(d("16-Mar-2019"), "addBusinessDay", 1)) == "18-Mar-2019"
    assert show(m(d("18-Mar-2019"), "addBusinessDay", -1)) == "15-Mar-2019"
    assert show(m(d("16-Mar-2019"), "addBusinessDay", 0)) == "16-Mar-2019"


def test_business_days_accept_weekend_names_in_any_case_and_text_holidays() -> None:
    value = m(d("01-Jan-2024"), "addBusinessDay", 3, ["friday", "SAT"], ["02-Jan-2024"])
    assert show(value) == "07-Jan-2024"


def test_large_business_day_counts_match_day_by_day_counting() -> None:
    holidays = {dt.date(2024, 12, 25), dt.date(2025, 1, 1), dt.date(2025, 7, 4),
                dt.date(2024, 12, 28), dt.date(2026, 5, 25)}
    texts = [h.strftime("%d-%b-%Y") for h in holidays]
    start = dt.date(2024, 12, 20)
    for n in (1, 5, 6, 7, 11, 250, 1000, 3333):
        for weekend, names in (({5, 6}, ["Saturday", "Sunday"]), ({4}, ["Friday"]),
                               (set(), [])):
            expected = _brute_business(start, n, weekend, holidays)
            got = m(d("20-Dec-2024"), "addBusinessDay", n, names, texts)
            assert got.value.date() == expected, (n, names)  # type: ignore[union-attr]
            expected_back = _brute_business(start, -n, weekend, holidays)
            back = m(d("20-Dec-2024"), "subBusinessDay", n, names, texts)
            assert back.value.date() == expected_back, (n, names)  # type: ignore[union-attr]


def test_business_day_argument_errors() -> None:
    assert error_of(call_method, d("01-Jan-2024"), "addBusinessDay", 1, ["Funday"]) \
        == "Argument 2 of addBusinessDay must list days of the week but found 'Funday'"
    everyday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert error_of(call_method, d("01-Jan-2024"), "workday", 1, everyday) \
        == "Argument 2 of workday leaves no business day in the week"
    assert error_of(call_method, d("01-Jan-2024"), "workday", 1, None, ["soon"]) \
        == "Argument 3 of workday must be DATETIME but found TEXT"
    assert error_of(call_method, d("01-Jan-2024"), "workday", 1, 5) \
        == "Argument 2 of workday must be LIST but found NUMBER"


# ----------------------------------------------------------------------------- parts

def test_component_getters_and_their_short_names() -> None:
    t = d("09-Nov-2024 21:04:05")
    got = {name: m(t, name) for name in (
        "getDay", "day", "getMonth", "month", "getYear", "year", "getHour", "hour",
        "getMinutes", "minute", "getSeconds", "second", "getDayOfWeek", "weekday",
        "getDayOfYear")}
    assert got == {"getDay": 9, "day": 9, "getMonth": 11, "month": 11, "getYear": 2024,
                   "year": 2024, "getHour": 21, "hour": 21, "getMinutes": 4, "minute": 4,
                   "getSeconds": 5, "second": 5, "getDayOfWeek": 7, "weekday": 7,
                   "getDayOfYear": 314}


def test_weekday_counts_from_sunday() -> None:
    # Deluge docs: Date-time functions > weekday ('15-Mar-2019' is a Friday, 6).
    assert m(d("15-Mar-2019"), "weekday") == 6
    assert [m(d(f"{day}-Mar-2019"), "getDayOfWeek") for day in range(17, 24)] \
        == [1, 2, 3, 4, 5, 6, 7]


def test_week_of_year_starts_on_sunday_and_week_one_holds_first_january() -> None:
    # Deluge docs: Date-time functions > getWeekOfYear ('7-Feb-2021' is week 7).
    assert m(d("7-Feb-2021"), "getWeekOfYear") == 7
    assert m(d("6-Feb-2021"), "getWeekOfYear") == 6
    assert m(d("31-Dec-2020"), "getWeekOfYear") == 1
    assert m(d("7-Feb-2021"), "getWeekOfYear", "Monday") == 6
    assert error_of(call_method, d("7-Feb-2021"), "getWeekOfYear", "Someday") \
        == "Argument 1 of getWeekOfYear must be a day of the week but found 'Someday'"


# ----------------------------------------------------------------------------- differences

def test_days_between_counts_calendar_days_and_ignores_time() -> None:
    # Deluge docs: Date-time functions > daysBetween.
    assert call_function("daysBetween", d("31-Dec-1989"), d("01-Jan-1990")) == 1
    assert m(d("01-Jan-2024 23:59:00"), "daysBetween", d("02-Jan-2024 00:01:00")) == 1
    assert m(d("10-Jan-2024"), "daysBetween", d("01-Jan-2024")) == -9
    assert m("01-Mar-2024", "daysBetween", "2024-02-01") == -29


def test_hours_between_truncates_toward_zero() -> None:
    assert m(d("01-Jan-2024 10:00:00"), "hoursBetween", d("01-Jan-2024 12:59:59")) == 2
    assert m(d("01-Jan-2024 12:59:59"), "hoursBetween", d("01-Jan-2024 10:00:00")) == -2


def test_months_and_years_between_count_completed_periods() -> None:
    assert m(d("31-Jan-2024"), "monthsBetween", d("29-Feb-2024")) == 0
    assert m(d("31-Jan-2024"), "monthsBetween", d("31-Mar-2024")) == 2
    assert m(d("15-Jan-2024 10:00:00"), "monthsBetween", d("15-Feb-2024 09:00:00")) == 0
    assert m(d("15-Apr-2024"), "monthsBetween", d("16-Jan-2024")) == -2
    assert m(d("29-Feb-2024"), "yearsBetween", d("28-Feb-2025")) == 0
    assert m(d("29-Feb-2024"), "yearsBetween", d("01-Mar-2025")) == 1
    assert m(d("01-Mar-2025"), "yearsBetween", d("29-Feb-2024")) == -1


def test_days360_follows_the_us_30_360_count() -> None:
    # Deluge docs: Date-time functions > days360 (the 31-Dec-1989 example is 1).
    assert call_function("days360", d("31-Dec-1989"), d("01-Jan-1990")) == 1
    assert call_function("days360", d("30-Jan-2024"), d("31-Mar-2024")) == 60
    assert call_function("days360", d("01-Jan-2024"), d("31-Jan-2024")) == 30
    assert call_function("days360", d("28-Feb-2023"), d("31-Mar-2023")) == 30
    assert call_function("days360", d("15-Mar-2024"), d("15-Jan-2024")) == -60


# ----------------------------------------------------------------------------- boundaries

def test_start_of_month_and_week() -> None:
    assert show(m(d("20-Aug-2024 13:00:00"), "toStartOfMonth")) == "01-Aug-2024 00:00:00"
    assert show(m(d("20-Aug-2024"), "toStartOfMonth")) == "01-Aug-2024"
    # Deluge docs: Date-time functions > toStartOfWeek.
    assert show(m(d("15-Mar-2019 15:00:00"), "toStartOfWeek")) == "10-Mar-2019 00:00:00"
    assert show(m(d("10-Mar-2019"), "toStartOfWeek")) == "10-Mar-2019"
    assert error_of(call_method, d("01-Jan-0001"), "toStartOfWeek") \
        == "Date out of range in toStartOfWeek: years run from 1 to 9999"


def test_eomonth_moves_to_the_end_of_a_month_n_months_away() -> None:
    assert show(m(d("01-Jan-2019"), "eomonth", 1)) == "28-Feb-2019"
    assert show(m(d("15-Feb-2024"), "eomonth", 0)) == "29-Feb-2024"
    assert show(m(d("15-Feb-2024 10:00:00"), "eomonth", -2)) == "31-Dec-2023 00:00:00"


def test_unix_epoch_is_milliseconds_since_1970_utc() -> None:
    assert m(d("01-Jan-1970"), "unixEpoch") == 0
    assert m(d("02-Jan-1970 00:00:01"), "unixEpoch") == 86_401_000
    assert m(d("01-Jan-1970"), "unixEpoch", "Asia/Kolkata") == -19_800_000
    assert m(d("01-Jan-1970"), "unixEpoch", "No/Such_Zone") == 0
    assert m("1970-01-01 00:00:10", "unixEpoch") == 10_000
    # Deluge docs: unixEpoch, "If the function fails to recognise the date-time value, it
    # will simply return the given value in text format."
    assert m("someday", "unixEpoch") == "someday"


# ----------------------------------------------------------------------------- conversions

def test_to_date_of_text_number_and_datetime() -> None:
    assert show(m("2024-06-10", "toDate")) == "10-Jun-2024"
    assert show(m("10/06/2024", "toDate", "dd/MM/yyyy")) == "10-Jun-2024"
    assert show(m(d("10-Jun-2024 18:00:00"), "toDate")) == "10-Jun-2024"
    assert show(m(d("10-Jun-2024 18:00:00"), "toDate", "ignored")) == "10-Jun-2024"
    assert show(m(0, "toDate")) == "01-Jan-1970"
    assert show(m(1_718_000_000_000, "toDateTime")) == "10-Jun-2024 06:13:20"
    assert show(call_function("toDate", "05-Mar-2024 10:00:00")) == "05-Mar-2024"


def test_to_date_time_and_to_time() -> None:
    assert show(m(d("10-Jun-2024"), "toDateTime")) == "10-Jun-2024 00:00:00"
    assert show(m("2024-06-10T10:00:00+05:30", "toDateTime", "yyyy-MM-dd'T'HH:mm:ssXXX")) \
        == "10-Jun-2024 04:30:00"
    assert show(m("2024-06-10T10:00:00-07:00", "toDateTime", "yyyy-MM-dd'T'HH:mm:ss")) \
        == "10-Jun-2024 10:00:00"
    assert show(m("2:15 PM", "toTime")) == "15-Jun-2025 14:15:00"
    assert show(m("07-11-2024 08:05", "toTime", "dd-MM-yyyy HH:mm")) == "07-Nov-2024 08:05:00"


def test_to_date_with_patterns_names_and_two_digit_years() -> None:
    assert show(m("March 5, 24", "toDate", "MMMM d, yy")) == "05-Mar-2024"
    assert show(m("TUE 05-mar-2024", "toDate", "EEE dd-MMM-yyyy")) == "05-Mar-2024"
    assert show(m("20240305", "toDate", "yyyyMMdd")) == "05-Mar-2024"
    assert show(m("05/03/2024 07:45 pm", "toDateTime", "dd/MM/yyyy hh:mm a")) \
        == "05-Mar-2024 19:45:00"
    assert show(m("2024-065", "toDate", "yyyy-DDD")) == "05-Mar-2024"


def test_conversion_errors_name_the_text_and_pattern() -> None:
    assert error_of(call_method, "tomorrow", "toDate") \
        == "'tomorrow' is not a valid DATETIME for toDate"
    assert error_of(call_method, "2024-13-01", "toDate", "yyyy-MM-dd") \
        == "'2024-13-01' does not match the date pattern 'yyyy-MM-dd' in toDate"
    assert error_of(call_method, "2024-01-01", "toDate", 5) \
        == "Argument 1 of toDate must be TEXT but found NUMBER"
    assert error_of(call_method, "2024-01-01", "toDate", "yyyy-MM-dd qq") \
        == "Invalid date pattern 'yyyy-MM-dd qq': illegal pattern character 'q'"


def test_is_date() -> None:
    assert m(d("01-Jan-2024"), "isDate") is True
    assert m("01-Jan-2024", "isDate") is True
    assert m("2024-06-10T10:00:00Z", "isDate") is True
    assert m("Authorization", "isDate") is False
    assert m("31-Feb-2024", "isDate") is False
    assert call_function("isDate", 20240101) is False
    assert call_function("isDate", None) is False


# ----------------------------------------------------------------------------- patterns

def test_to_string_with_java_patterns() -> None:
    t = d("05-Mar-2024 14:07:09")
    cases = {
        "yyyy-MM-dd'T'HH:mm:ssXXX": "2024-03-05T14:07:09Z",
        "dd-MMM-yyyy": "05-Mar-2024",
        "hh:mm a": "02:07 PM",
        "EEEE": "Tuesday",
        "E EEE": "Tue Tue",
        "MMMM d, yyyy": "March 5, 2024",
        "M/d/yy": "3/5/24",
        "H k K h": "14 14 2 2",
        "D w W F u": "65 10 2 1 2",
        "yyyyy G": "02024 AD",
        "'Week' w 'of' yyyy, 'o''clock'": "Week 10 of 2024, o'clock",
        "''yy''": "'24'",
        "Z X XX XXX z": "+0000 Z Z Z UTC",
    }
    for pattern, expected in cases.items():
        assert m(t, "toString", pattern) == expected, pattern


def test_milliseconds_and_midnight_hours() -> None:
    t = parse_date_text("2024-03-05T00:00:00.007")
    assert t is not None
    assert m(t, "toString", "HH:mm:ss.SSS k K h a") == "00:00:00.007 24 0 12 AM"
    assert m(t, "toString", "S") == "7"


def test_to_string_converts_to_a_named_time_zone() -> None:
    t = d("05-Mar-2024 14:07:09")
    assert m(t, "toString", "yyyy-MM-dd HH:mm z", "America/New_York") == "2024-03-05 09:07 EST"
    assert m(t, "toString", "HH:mm XXX", "Asia/Kolkata") == "19:37 +05:30"
    assert m(t, "toString", "HH:mm X", "Asia/Kolkata") == "19:37 +05"
    assert m(t, "toString", "HH:mm zzzz", "IST") == "19:37 India Standard Time"
    assert m(t, "toString", "HH:mm Z", "PST") == "06:07 -0800"
    assert m(t, "toString", "HH:mm z", "GMT+05:30") == "19:37 GMT+05:30"
    assert m(t, "toString", "HH:mm z", "Nowhere/Special") == "14:07 UTC"


def test_week_year_differs_from_year_at_the_turn_of_the_year() -> None:
    assert m(d("31-Dec-2024"), "toString", "YYYY-'W'ww yyyy") == "2025-W01 2024"


def test_to_string_without_a_pattern_is_the_display_form() -> None:
    assert m(d("05-Mar-2024 14:07:09"), "toString") == "05-Mar-2024 14:07:09"
    assert m(d("05-Mar-2024"), "toText") == "05-Mar-2024"
    assert m(d("05-Mar-2024"), "toText", "dd.MM.yyyy") == "05.03.2024"


def test_to_string_with_a_pattern_formats_date_text_and_milliseconds() -> None:
    assert m("2024-03-05 14:07:09", "toString", "dd/MM/yyyy HH:mm") == "05/03/2024 14:07"
    assert m(1_718_000_000_000, "toString", "yyyy-MM-dd HH:mm", "Asia/Kolkata") \
        == "2024-06-10 11:43"
    assert m("plain", "toString") == "plain"
    assert m(42, "toText") == "42"
    assert error_of(call_method, "plain", "toString", "yyyy") \
        == "'plain' is not a valid DATETIME for toString"


@pytest.mark.parametrize("pattern,reason", [
    ("yyyy-MM-dd'T", "unterminated quote"),
    ("yyyy-bb", "illegal pattern character 'b'"),
    ("XXXX", "X takes at most 3 letters"),
])
def test_a_bad_pattern_is_an_error_naming_it(pattern: str, reason: str) -> None:
    assert error_of(call_method, d("05-Mar-2024"), "toString", pattern) \
        == f"Invalid date pattern '{pattern}': {reason}"


def test_patterns_are_translated_once_and_the_cache_is_bounded() -> None:
    datepatterns.compile_pattern.cache_clear()
    for _ in range(3):
        m(d("05-Mar-2024"), "toString", "dd/MM/yyyy")
    info = datepatterns.compile_pattern.cache_info()
    assert info.misses == 1 and info.hits == 2
    assert info.maxsize == 256


# ----------------------------------------------------------------------------- receivers, types

def test_date_methods_accept_date_text_receivers() -> None:
    # Deluge docs: workday / subBusinessDay: "In services other than Zoho Creator, the value
    # of this parameter can be entered either as a text or as a date-time value."
    assert show(m("01-Jan-2020", "addDay", 1)) == "02-Jan-2020"
    assert m("2024-02-29", "getDayOfYear") == 60
    assert show(call_function("addMonth", "31-Jan-2024", 1)) == "29-Feb-2024"


def test_wrong_types_are_reported_with_the_function_name() -> None:
    assert error_of(call_method, d("01-Jan-2024"), "addDay", "x") \
        == "Argument 1 of addDay must be NUMBER but found TEXT"
    assert error_of(call_method, d("01-Jan-2024"), "addMonth", None) \
        == "Argument 1 of addMonth must be NUMBER but found NULL"
    assert error_of(call_method, d("01-Jan-2024"), "addHour", Decimal("1.5")) \
        == "Argument 1 of addHour must be NUMBER but found DECIMAL"
    assert error_of(call_method, d("01-Jan-2024"), "daysBetween", 5) \
        == "Argument 1 of daysBetween must be DATETIME but found NUMBER"
    assert error_of(call_method, d("01-Jan-2024"), "daysBetween", "soon") \
        == "Argument 1 of daysBetween must be DATETIME but found TEXT"
    assert error_of(call_method, "abc", "addDay", 1) == "'abc' is not a valid DATETIME for addDay"
    assert error_of(call_method, d("01-Jan-2024"), "toString", 5) \
        == "Argument 1 of toString must be TEXT but found NUMBER"
    assert error_of(call_method, d("01-Jan-2024"), "addDay") \
        == "Function 'addDay' expects 1 argument but got 0"


def test_date_methods_do_not_exist_on_numbers() -> None:
    assert error_of(call_method, 5, "addDay", 1).startswith("Unknown function 'addDay' for NUMBER")


# ----------------------------------------------------------------------------- properties

_MOMENTS = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                        timezones=st.just(ZoneInfo("UTC")))
_PROPERTY = settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@_PROPERTY
@given(_MOMENTS)
def test_display_text_reads_back_as_the_same_value(moment: dt.datetime) -> None:
    value = DateTime(moment.replace(microsecond=0), False)
    assert parse_date_literal(show(value)) == value


@_PROPERTY
@given(_MOMENTS, st.sampled_from(["yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "dd MMMM yyyy hh:mm:ss.SSS a",
                                  "EEE, d MMM yyyy HH:mm:ss.SSS Z", "yyyyMMddHHmmssSSS"]))
def test_formatting_then_parsing_with_a_pattern_is_lossless(moment: dt.datetime,
                                                            pattern: str) -> None:
    value = DateTime(moment.replace(microsecond=moment.microsecond // 1000 * 1000), False)
    text = m(value, "toString", pattern)
    assert m(text, "toDateTime", pattern) == value


@_PROPERTY
@given(_MOMENTS, st.integers(-30_000, 30_000))
def test_adding_then_subtracting_days_returns_the_start(moment: dt.datetime, n: int) -> None:
    value = DateTime(moment, False)
    try:
        moved = m(value, "addDay", n)
    except ScriptRuntimeError:
        return
    assert m(moved, "subDay", n) == value
    assert m(value, "daysBetween", moved) == n
