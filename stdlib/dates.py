"""DATETIME built-ins: date literals, calendar arithmetic, differences and conversions.

A DATE or DATETIME is a `DateTime(value, date_only)`: an aware datetime in the run's time
zone (`limits.current().timezone`), flagged date-only when it carries no time (SPEC §2).

Rules shared by every function here (SPEC §10 Dates, "chosen" where the vendor is silent):
- Days, weeks, months and years move the wall clock (a day later is the same time
  tomorrow, even across a DST change); hours, minutes and seconds move the instant (UTC),
  so `addHour(1)` across a DST change shows a wall-clock jump of 0 or 2 hours. A wall time
  that falls in a DST gap moves forward by the gap, as java.time does.
- `addMonth`/`addYear`/`edate` clamp to the last day of the month (31-Jan + 1 month is
  28/29-Feb). Results outside years 1-9999 raise a RuntimeError naming the function.
- A date-only value gives date-only results, except hour/minute/second arithmetic.
- The vendor accepts date text wherever a date is expected outside Zoho Creator
  ("In services other than Zoho Creator, the value of this parameter can be entered either
  as a text or as a date-time value", Deluge docs: workday, subBusinessDay), so every method
  here also answers a TEXT receiver or argument holding a date; other text is an error.

Public entry points for the translator and the engine: `looks_like_date_literal`,
`parse_date_literal`, `parse_date_text`, `now_value`, `today_value`. The conversions
(toDate, toDateTime, toTime, toString/toText, toDateTimeString, unixEpoch, isDate) are in
`dateconvert`, on the helpers of this module.
"""

from __future__ import annotations

__all__ = [
    "FUNCTIONS",
    "METHODS",
    "looks_like_date_literal",
    "now_value",
    "parse_date_literal",
    "parse_date_text",
    "today_value",
]

import bisect
import calendar
import datetime as _dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import current
from sluicegate.values import DateTime, display, fixed_offset

from .args import want_int, want_text, wrong_type
from .builtin import Builtin, method
from .datepatterns import (
    DAY_NAME_RE,
    MONTH_NAME_RE,
    month_from_name,
    two_digit_year,
    week_of_year,
    weekday_from_name,
)

_UTC = _dt.UTC
_DAY = _dt.timedelta(days=1)
_RECEIVERS = ("DATETIME", "TEXT")

# ----------------------------------------------------------------------------- literals

# The vendor's supported date layouts (Deluge docs: Data types > Date-Time, "Supported Date
# formats", https://www.zoho.com/deluge/help/datatypes/date-time.html). Each may be followed
# by a time `H:mm[:ss[.SSS]] [AM|PM]`; "15-Aug-1947 19:00:00" is the documented example.
_VENDOR_LAYOUTS = (
    "dd-MMM-yy", "dd-MMM-yyyy", "dd-MMMM-yy", "dd-MMMM-yyyy", "MM-dd-yy", "yy-MM-dd",
    "dd-MM-yy", "dd-MM-yyyy", "MM-dd-yyyy", "yyyy-MM-dd", "yy/MM/dd", "dd/MM/yy", "MM/dd/yy",
    "yyyy/MM/dd", "MM/dd/yyyy", "dd/MM/yyyy", "dd MMM,yy", "MMM dd,yy", "dd MMM,yyyy",
    "MMM dd,yyyy", "dd MMMM,yy", "MMMM dd,yy", "dd MMMM,yyyy", "MMMM dd,yyyy",
    "E,MMMM dd,yyyy", "E,MMM dd,yyyy", "MMM dd yy", "dd MMM yy", "MMM dd yyyy", "dd MMM yyyy",
    "MMMM dd yy", "dd MMMM yy", "dd MMMM yyyy", "MMMM dd yyyy", "dd.MM.yy", "MM.dd.yy",
    "yy.MM.dd", "dd MM yyyy", "dd.MM.yyyy", "MM.dd.yyyy", "yyyy.MM.dd",
)
_LAYOUT_TOKEN = re.compile(r"yyyy|yy|MMMM|MMM|MM|dd|E|.")
_TOKEN_RE = {
    "yyyy": r"(?P<y4>\d{4})", "yy": r"(?P<y2>\d{2})", "MMMM": rf"(?P<mn>{MONTH_NAME_RE})",
    "MMM": rf"(?P<mn>{MONTH_NAME_RE})", "MM": r"(?P<m>\d{1,2})", "dd": r"(?P<d>\d{1,2})",
    "E": rf"(?:{DAY_NAME_RE})", ",": ", ?", " ": " ",
}
_TIME_RE = (r"(?: +(?P<H>\d{1,2}):(?P<N>\d{1,2})(?::(?P<S>\d{1,2})(?:\.(?P<F>\d{1,3}))?)?"
            r"(?: *(?P<P>[AaPp][Mm]))?)?")
_ORDERS = ("DMY", "MDY", "YMD")


@dataclass(frozen=True, slots=True)
class _Layout:
    regex: re.Pattern[str]
    order: str          # "DMY", "MDY" or "YMD" for all-numeric layouts, "" for month names
    separator: str


@lru_cache(maxsize=1)
def _compile_layouts() -> tuple[_Layout, ...]:
    """The vendor layouts as patterns, compiled on first use (not at import: a run that
    reads no date literal should not pay for them; see the cold start of `sluice run`)."""
    layouts: dict[str, _Layout] = {}
    for layout in _VENDOR_LAYOUTS:
        tokens = _LAYOUT_TOKEN.findall(layout)
        source = "".join(_TOKEN_RE.get(t, re.escape(t)) for t in tokens) + _TIME_RE
        numeric = "MMM" not in layout
        order = "".join(t[0].upper() for t in tokens if t in ("dd", "MM", "yy", "yyyy"))
        separator = next(t for t in tokens if len(t) == 1 and t != "E")
        if source not in layouts:
            layouts[source] = _Layout(re.compile(source, re.IGNORECASE),
                                      order if numeric else "", separator)
    return tuple(layouts.values())


_LITERAL_HINT = re.compile(r"[0-9A-Za-z][0-9A-Za-z ,./:\-]{4,60}")


@lru_cache(maxsize=16)
def _layouts_for(date_format: str | None) -> tuple[_Layout, ...]:
    """Layouts in reading order: an ambiguous numeric date reads month-first with `/` and
    day-first with `-`, `.` or a space, unless the organization's date format says otherwise
    (SPEC §10 Dates)."""
    preferred = ""
    if date_format:
        positions = {c: date_format.find(c) for c in "dMy" if c in date_format}
        preferred = "".join(c.upper() for c in sorted(positions, key=positions.__getitem__))

    def rank(layout: _Layout) -> int:
        if not layout.order:
            return -1
        default: tuple[str, ...] = ("MDY", "DMY", "YMD") if layout.separator == "/" else _ORDERS
        if preferred in _ORDERS:
            default = (preferred, *(o for o in default if o != preferred))
        return default.index(layout.order)

    return tuple(sorted(_compile_layouts(), key=rank))


def looks_like_date_literal(text: str) -> bool:
    """Whether a single-quoted literal is a DATE/DATETIME rather than TEXT (SPEC §2).

    True when the text has the shape of one of the vendor's layouts, whatever the numbers
    say ('30-Feb-2024' is a date literal that fails at run time, as the vendor reports "a
    runtime error ... if the date value exceeds the number of days in that month").
    """
    if not _LITERAL_HINT.fullmatch(text):
        return False
    return any(layout.regex.fullmatch(text) for layout in _compile_layouts())


def _now_year() -> int:
    return current().current_datetime().year


def _read_layouts(text: str, zone: _dt.tzinfo) -> tuple[bool, DateTime | None]:
    """(matched a layout, the value if one reading is a real date)."""
    date_format = current().date_format
    reading = _layout_wall(text, date_format, 0)  # 0: without reading the clock
    if reading is None:  # a `yy` layout matched first: its century needs the year
        reading = _layout_wall(text, date_format, _now_year())
    matched, wall, date_only = reading  # type: ignore[misc]
    if wall is None:
        return matched, None
    try:
        return True, DateTime(_localize(wall, zone), date_only)
    except (OverflowError, ValueError):
        return True, None


# Literals are read each time their statement runs, so the reading (not the zone-dependent
# value) is cached; the century window of `yy` depends on the year, hence the key.
@lru_cache(maxsize=1024)
def _layout_wall(text: str, date_format: str | None, now_year: int
                 ) -> tuple[bool, _dt.datetime | None, bool] | None:
    """(matched a layout, its wall-clock reading, date-only); None when `now_year` is 0
    and the first layout that matches has a two-digit year."""
    matched = False
    for layout in _layouts_for(date_format):
        match = layout.regex.fullmatch(text)
        if match is None:
            continue
        if not now_year and not match.groupdict().get("y4"):  # as _match_wall reads it
            return None
        matched = True
        reading = _match_wall(match, now_year)
        if reading is not None:
            return True, reading[0], reading[1]
    return matched, None, False


def _match_wall(match: re.Match[str], now_year: int) -> tuple[_dt.datetime, bool] | None:
    """The wall-clock time a layout match names and whether it is date-only."""
    groups = match.groupdict()
    day = int(groups["d"])
    month = int(groups["m"]) if groups.get("m") else month_from_name(groups["mn"]) or 0
    year = (int(groups["y4"]) if groups.get("y4")
            else two_digit_year(int(groups["y2"]), now_year))
    if not (1 <= year <= 9999 and 1 <= month <= 12
            and 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    if groups["H"] is None:
        return _dt.datetime(year, month, day), True
    hour, minute = int(groups["H"]), int(groups["N"])
    second = int(groups["S"] or 0)
    millis = int((groups["F"] or "0").ljust(3, "0"))
    marker = (groups["P"] or "").lower()
    if marker == "pm" and hour < 12:
        hour += 12
    elif marker == "am" and hour == 12:
        hour = 0
    # Vendor rule (Deluge docs: subBusinessDay, dateTimeValue): an hour of 24 or more resets
    # the time to 00:00:00, minutes of 60 or more reset mm:ss, seconds of 60 or more reset ss.
    if hour >= 24:
        hour = minute = second = millis = 0
    elif minute >= 60:
        minute = second = millis = 0
    elif second >= 60:
        second = millis = 0
    return _dt.datetime(year, month, day, hour, minute, second, millis * 1000), False


# How many distinct date literals a run keeps read (a script has few).
LITERALS_KEPT = 256


def parse_date_literal(text: str) -> DateTime:
    """The value of a single-quoted date literal, in the run's time zone (SPEC §2, §10).

    Day and month numbers take one or two digits, month and day names any case. A literal
    whose numbers make no date ('31-Apr-2024') raises a RuntimeError.
    """
    ctx = current()
    key = (text, ctx.timezone, ctx.date_format)
    known = ctx.date_literals.get(key)
    if known is not None:
        return known  # type: ignore[no-any-return]
    matched, value = _read_layouts(text, ctx.timezone)
    if value is None:
        raise ScriptRuntimeError(f"'{_clip(text)}' is not a valid date" if matched
                                 else f"'{_clip(text)}' is not a date literal")
    # A literal read each time its statement runs is the same value for the whole run
    # (DateTime values are never changed in place), unless its century comes from the
    # current year (`yy`), which the clock may turn over.
    if len(ctx.date_literals) < LITERALS_KEPT and _layout_wall(text, ctx.date_format, 0) \
            is not None:
        ctx.date_literals[key] = value
    return value


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[Tt ](\d{1,2}):(\d{2})"
                  r"(?::(\d{2})(?:[.,](\d{1,9}))?)? ?(Z|z|[+-]\d{2}(?::?\d{2})?)?")
_TIME_ONLY = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?: *([AaPp][Mm]))?")


def parse_date_text(text: str) -> DateTime | None:
    """A date held in TEXT (`"2024-06-10".toDate()`, `"05-Mar-2024".addDay(1)`), or None.

    Accepts the literal layouts (surrounding spaces ignored) and ISO 8601 date-times as
    REST APIs send them (`2024-06-10T09:30:00+05:30`, `...Z`, with fractions); an explicit
    offset is converted to the run's time zone. Chosen: the vendor documents the literal
    layouts; ISO text is what Zoho's own APIs return.
    """
    text = text.strip()
    zone = current().timezone
    if len(text) > 64:
        return None
    _, value = _read_layouts(text, zone)
    if value is not None:
        return value
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute = (int(g) for g in match.groups()[:5])
    second = int(match.group(6) or 0)
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    try:
        wall = _dt.datetime(year, month, day, hour, minute, second, micro)
        if match.group(8):
            offset = _offset(match.group(8))
            return DateTime(wall.replace(tzinfo=offset).astimezone(zone), False)
        return DateTime(_localize(wall, zone), False)
    except (OverflowError, ValueError):
        return None


def _offset(text: str) -> _dt.tzinfo:
    if text in ("Z", "z"):
        return _UTC
    digits = text[1:].replace(":", "")
    delta = _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return _dt.timezone(-delta if text[0] == "-" else delta)


def now_value() -> DateTime:
    """`zoho.currenttime` / `now`: the run clock in the run's time zone, to the millisecond."""
    value = current().current_datetime()
    return DateTime(value.replace(microsecond=value.microsecond // 1000 * 1000), False)


def today_value() -> DateTime:
    """`zoho.currentdate` / `today`: the run clock's date, date-only."""
    value = current().current_datetime()
    wall = _dt.datetime(value.year, value.month, value.day)
    return DateTime(_localize(wall, value.tzinfo or current().timezone), True)


# ----------------------------------------------------------------------------- helpers

def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _localize(wall: _dt.datetime, zone: _dt.tzinfo) -> _dt.datetime:
    """Attach a zone to a wall-clock time; a time in a DST gap moves forward by the gap
    (java.time's rule), an ambiguous time takes the earlier offset."""
    if fixed_offset(zone):  # no gap, no fold: the wall time as it is
        return wall.replace(tzinfo=zone, fold=0)
    aware = wall.replace(tzinfo=zone, fold=0)
    before, after = aware.utcoffset(), aware.replace(fold=1).utcoffset()
    if before is not None and after is not None and after > before:
        # In a gap fold=0 reads the wall time with the old offset; the instant it names
        # shown on the new offset is the wall time plus the gap.
        return (wall + (after - before)).replace(tzinfo=zone)
    return aware


def _out_of_range(fname: str) -> ScriptRuntimeError:
    return ScriptRuntimeError(f"Date out of range in {fname}: years run from 1 to 9999")


def _receiver(fname: str, value: Any) -> DateTime:
    if type(value) is DateTime:
        return value
    if isinstance(value, str):
        parsed = parse_date_text(value)
        if parsed is not None:
            return parsed
        raise ScriptRuntimeError(f"'{_clip(value)}' is not a valid DATETIME for {fname}")
    raise wrong_type(fname, 1, value, "DATETIME")


def _date_arg(fname: str, index: int, value: Any) -> DateTime:
    if type(value) is DateTime:
        return value
    if isinstance(value, str):
        parsed = parse_date_text(value)
        if parsed is not None:
            return parsed
    raise wrong_type(fname, index, value, "DATETIME")


def _wall(value: DateTime) -> _dt.datetime:
    return value.value.replace(tzinfo=None)


def _zone(value: DateTime) -> _dt.tzinfo:
    return value.value.tzinfo or current().timezone


def _at(fname: str, wall: _dt.datetime, zone: _dt.tzinfo, date_only: bool) -> DateTime:
    try:
        return DateTime(_localize(wall, zone), date_only)
    except (OverflowError, ValueError):
        raise _out_of_range(fname) from None


def _midnight(day: _dt.date) -> _dt.datetime:
    return _dt.datetime(day.year, day.month, day.day)


def _plus_days(fname: str, value: DateTime, days: int) -> DateTime:
    aware = value.value
    if aware.tzinfo is not None and fixed_offset(aware.tzinfo):
        # no gap or fold to localize around: the same wall-clock arithmetic, fold 0
        try:
            return DateTime(aware + _dt.timedelta(days=days), value.date_only)
        except OverflowError:
            raise _out_of_range(fname) from None
    try:
        wall = _wall(value) + _dt.timedelta(days=days)
    except OverflowError:
        raise _out_of_range(fname) from None
    return _at(fname, wall, _zone(value), value.date_only)


def _plus_months(fname: str, value: DateTime, months: int) -> DateTime:
    wall = _wall(value)
    year, month0 = divmod(wall.year * 12 + wall.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        raise _out_of_range(fname)
    day = min(wall.day, calendar.monthrange(year, month0 + 1)[1])
    return _at(fname, wall.replace(year=year, month=month0 + 1, day=day), _zone(value),
               value.date_only)


def _plus_exact(fname: str, value: DateTime, delta: _dt.timedelta) -> DateTime:
    try:
        moved = (value.value.astimezone(_UTC) + delta).astimezone(_zone(value))
    except (OverflowError, ValueError):
        raise _out_of_range(fname) from None
    return DateTime(moved, False)


def _instant_us(value: _dt.datetime) -> int:
    """Microseconds since 0001-01-01 UTC, computed without datetime overflow at the edges."""
    offset = value.utcoffset() or _dt.timedelta(0)
    seconds = (value.toordinal() * 86400 + value.hour * 3600 + value.minute * 60
               + value.second) - int(offset.total_seconds())
    return seconds * 1_000_000 + value.microsecond


_EPOCH_US = _instant_us(_dt.datetime(1970, 1, 1, tzinfo=_UTC))


def _deluge_weekday(day: _dt.date) -> int:
    return (day.weekday() + 1) % 7 + 1


# ----------------------------------------------------------------------------- arithmetic

def _adder(name: str, sign: int, unit: str) -> Builtin:
    """A row for addDay ... subSeconds: one NUMBER argument, negative amounts allowed."""

    def add(receiver: Any, amount: Any) -> DateTime:
        value = _receiver(name, receiver)
        n = sign * want_int(name, 1, amount)
        if unit == "day":
            return _plus_days(name, value, n)
        if unit == "week":
            return _plus_days(name, value, 7 * n)
        if unit == "month":
            return _plus_months(name, value, n)
        if unit == "year":
            return _plus_months(name, value, 12 * n)
        try:
            delta = _dt.timedelta(**{unit + "s": n})
        except OverflowError:
            raise _out_of_range(name) from None
        return _plus_exact(name, value, delta)

    verb = "adds" if sign > 0 else "subtracts"
    clock = "wall-clock" if unit in ("day", "week", "month", "year") else "elapsed (UTC)"
    add.__name__ = name
    add.__doc__ = (f"{name}(n) {verb} n {unit}s as {clock} time; months and years clamp to the "
                   f"month's last day. Zoho Deluge docs: Date-time functions > {name}; "
                   f"SPEC §10 Dates.")
    return method(name, add, _RECEIVERS, 1)


def _weekend_days(fname: str, value: Any) -> frozenset[int]:
    if value is None:
        return frozenset((5, 6))
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise wrong_type(fname, 2, value, "LIST")
    days = set()
    for item in items:
        day = weekday_from_name(item) if isinstance(item, str) else None
        if day is None:
            raise ScriptRuntimeError(
                f"Argument 2 of {fname} must list days of the week but found '{display(item)}'")
        days.add(day)
    if len(days) == 7:
        raise ScriptRuntimeError(f"Argument 2 of {fname} leaves no business day in the week")
    return frozenset(days)


def _holiday_ordinals(fname: str, value: Any) -> list[int]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return sorted({_date_arg(fname, 3, item).value.date().toordinal() for item in items})


def _step_business(fname: str, start: _dt.date, count: int, direction: int,
                   weekend: frozenset[int], holidays: list[int]) -> _dt.date:
    """The date `count` business days from `start` (not counted itself) in `direction`."""
    per_week = 7 - len(weekend)
    off = [h for h in holidays if (h + 6) % 7 not in weekend]
    off_set = set(off)
    ordinal, remaining = start.toordinal(), count
    last = _dt.date.max.toordinal()
    # Whole weeks first, so a count of a million costs a few steps, not a million.
    while remaining > per_week + len(off):
        weeks = (remaining - len(off) - 1) // per_week
        target = ordinal + direction * 7 * weeks
        if not 1 <= target <= last:
            raise _out_of_range(fname)
        if direction > 0:
            hits = bisect.bisect_right(off, target) - bisect.bisect_right(off, ordinal)
        else:
            hits = bisect.bisect_left(off, ordinal) - bisect.bisect_left(off, target)
        remaining -= weeks * per_week - hits
        ordinal = target
    while remaining > 0:
        ordinal += direction
        if not 1 <= ordinal <= last:
            raise _out_of_range(fname)
        if (ordinal + 6) % 7 in weekend or ordinal in off_set:
            continue
        remaining -= 1
    return _dt.date.fromordinal(ordinal)


def _business(fname: str, receiver: Any, amount: Any, weekends: Any, holidays: Any,
              sign: int) -> tuple[DateTime, _dt.date]:
    value = _receiver(fname, receiver)
    n = sign * want_int(fname, 1, amount)
    weekend = _weekend_days(fname, weekends)
    days = _holiday_ordinals(fname, holidays)
    start = _wall(value).date()
    if n == 0:
        return value, start
    return value, _step_business(fname, start, abs(n), 1 if n > 0 else -1, weekend, days)


def _add_business_day(receiver: Any, amount: Any, weekends: Any = None,
                      holidays: Any = None) -> DateTime:
    """addBusinessDay(n [, weekends] [, holidays]): n business days later, keeping the time.
    Weekends default to Saturday and Sunday; holidays are skipped only when given; a negative
    n counts backwards (chosen). Zoho Deluge docs: Date-time functions > addBusinessDay."""
    value, day = _business("addBusinessDay", receiver, amount, weekends, holidays, 1)
    wall = _dt.datetime.combine(day, _wall(value).time())
    return _at("addBusinessDay", wall, _zone(value), value.date_only)


def _sub_business_day(receiver: Any, amount: Any, weekends: Any = None,
                      holidays: Any = None) -> DateTime:
    """subBusinessDay(n [, weekends] [, holidays]): n business days earlier, keeping the time.
    Zoho Deluge docs: Date-time functions > subBusinessDay ("By default, Monday to Friday,
    irrespective of any day being a holiday, are considered as business days")."""
    value, day = _business("subBusinessDay", receiver, amount, weekends, holidays, -1)
    wall = _dt.datetime.combine(day, _wall(value).time())
    return _at("subBusinessDay", wall, _zone(value), value.date_only)


def _workday(receiver: Any, amount: Any, weekends: Any = None, holidays: Any = None) -> DateTime:
    """workday(n [, weekends] [, holidays]): the date n business days later, without time;
    a negative n returns the date unchanged. Zoho Deluge docs: Date-time functions > workday
    ('15-Mar-2019'.workday(1) is '18-Mar-2019')."""
    value = _receiver("workday", receiver)
    if want_int("workday", 1, amount) < 0:
        amount = 0
    _, day = _business("workday", value, amount, weekends, holidays, 1)
    return _at("workday", _midnight(day), _zone(value), True)


# ----------------------------------------------------------------------------- parts

def _getter(names: tuple[str, ...], part: str) -> Builtin:
    def get(receiver: Any) -> int:
        wall = _wall(_receiver(names[0], receiver))
        if part == "weekday":
            return _deluge_weekday(wall.date())
        if part == "yday":
            return wall.timetuple().tm_yday
        return getattr(wall, part)  # type: ignore[no-any-return]

    get.__name__ = names[0]
    get.__doc__ = (f"{names[0]}(): the {part} of the date in its time zone "
                   "(months 1-12, weekday 1 = Sunday). Zoho Deluge docs: Date-time functions "
                   f"> {names[0]}; SPEC §10 Dates.")
    return method(names, get, _RECEIVERS, 0)


def _week_of_year(receiver: Any, start_day: Any = None) -> int:
    """getWeekOfYear([startDay]): week 1 holds 1 January; weeks start on Sunday unless a day
    name is given. Zoho Deluge docs: Date-time functions > getWeekOfYear ('7-Feb-2021' is 7)."""
    value = _receiver("getWeekOfYear", receiver)
    first = 6
    if start_day is not None:
        day = weekday_from_name(want_text("getWeekOfYear", 1, start_day))
        if day is None:
            raise ScriptRuntimeError(
                f"Argument 1 of getWeekOfYear must be a day of the week but found '{start_day}'")
        first = day
    return week_of_year(_wall(value).date(), first)[1]


# ----------------------------------------------------------------------------- differences

def _days_between(receiver: Any, other: Any) -> int:
    """daysBetween(d): calendar days from the receiver to d, time ignored, negative when d is
    earlier. Zoho Deluge docs: Date-time functions > daysBetween
    (daysBetween('01-Jan-2019', '31-Dec-2019') is 364); SPEC §10 Dates."""
    start = _wall(_receiver("daysBetween", receiver)).date()
    end = _wall(_date_arg("daysBetween", 1, other)).date()
    return (end - start).days


def _hours_between(receiver: Any, other: Any) -> int:
    """hoursBetween(d): whole elapsed hours (UTC, so DST changes count as they happened),
    truncated toward zero. Zoho Deluge docs: Date-time functions > hoursBetween."""
    start = _instant_us(_receiver("hoursBetween", receiver).value)
    end = _instant_us(_date_arg("hoursBetween", 1, other).value)
    hours = abs(end - start) // 3_600_000_000
    return hours if end >= start else -hours


def _time_between(receiver: Any, other: Any) -> str:
    """timeBetween(end): the elapsed time as TEXT `HH:mm:ss`, hours counted past a day
    (1 day 10 h is `34:...`); a difference of whole hours is written `HH`, of hours and
    minutes `HH:mm`. The end must not be before the start. Zoho Deluge docs: Date-time
    functions > timeBetween ("HH: in case of differences in just the hour. HH:mm: in
    case of differences in just the hour and minute"; "End time has to be greater")."""
    start = _instant_us(_receiver("timeBetween", receiver).value)
    end = _instant_us(_date_arg("timeBetween", 1, other).value)
    if end < start:
        raise ScriptRuntimeError("timeBetween: the end time is before the start time")
    seconds = (end - start) // 1_000_000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if secs:
        return f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if minutes:
        return f"{hours:02d}:{minutes:02d}"
    return f"{hours:02d}"


def _months_between_values(fname: str, receiver: Any, other: Any) -> int:
    start = _wall(_receiver(fname, receiver))
    end = _wall(_date_arg(fname, 1, other))
    months = (end.year * 12 + end.month) - (start.year * 12 + start.month)
    start_rest = (start.day, start.time())
    end_rest = (end.day, end.time())
    if months > 0 and end_rest < start_rest:
        months -= 1
    elif months < 0 and end_rest > start_rest:
        months += 1
    return months


def _months_between(receiver: Any, other: Any) -> int:
    """monthsBetween(d): completed months from the receiver to d (java.time's rule: 31-Jan to
    28-Feb is 0). Zoho Deluge docs: Date-time functions > monthsBetween; SPEC §10."""
    return _months_between_values("monthsBetween", receiver, other)


def _years_between(receiver: Any, other: Any) -> int:
    """yearsBetween(d): completed years from the receiver to d (29-Feb to 28-Feb is 0).
    Zoho Deluge docs: Date-time functions > yearsBetween; SPEC §10 More dates."""
    months = _months_between_values("yearsBetween", receiver, other)
    return months // 12 if months >= 0 else -(-months // 12)


def _is_month_end(day: _dt.date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _days360(receiver: Any, other: Any) -> int:
    """days360(d): days from the receiver to d on a 360-day year, 30/360 US (NASD) as
    spreadsheets count it: a start on the month's last day counts as the 30th; an end on the
    31st counts as the 30th when the start is the 30th, else as the 1st of the next month.
    Zoho Deluge docs: Date-time functions > days360 (days360('31-Dec-1989', '01-Jan-1990') is
    1); SPEC §10 More dates."""
    start = _wall(_receiver("days360", receiver)).date()
    end = _wall(_date_arg("days360", 1, other)).date()
    d1 = 30 if _is_month_end(start) else start.day
    d2, m2 = end.day, end.month
    if d2 == 31:
        if d1 < 30:
            d2, m2 = 1, m2 + 1
        else:
            d2 = 30
    return (end.year - start.year) * 360 + (m2 - start.month) * 30 + (d2 - d1)


# ----------------------------------------------------------------------------- boundaries

def _to_start_of_month(receiver: Any) -> DateTime:
    """toStartOfMonth(): the first day of the month at 00:00:00 (date-only stays date-only).
    Zoho Deluge docs: Date-time functions > toStartOfMonth."""
    value = _receiver("toStartOfMonth", receiver)
    wall = _midnight(_wall(value).date().replace(day=1))
    return _at("toStartOfMonth", wall, _zone(value), value.date_only)


def _to_start_of_week(receiver: Any) -> DateTime:
    """toStartOfWeek(): the Sunday that starts the week, at 00:00:00. Zoho Deluge docs:
    Date-time functions > toStartOfWeek ('15-Mar-2019 15:00:00' gives '10-Mar-2019
    00:00:00')."""
    value = _receiver("toStartOfWeek", receiver)
    day = _wall(value).date()
    try:
        sunday = day - _dt.timedelta(days=(day.weekday() + 1) % 7)
    except OverflowError:
        raise _out_of_range("toStartOfWeek") from None
    return _at("toStartOfWeek", _midnight(sunday), _zone(value), value.date_only)


def _eomonth(receiver: Any, months: Any) -> DateTime:
    """eomonth(n): the last day of the month n months away, at 00:00:00. Zoho Deluge docs:
    Date-time functions > eomonth ('01-Jan-2019'.eomonth(1) is '28-Feb-2019')."""
    value = _receiver("eomonth", receiver)
    moved = _plus_months("eomonth", value, want_int("eomonth", 1, months))
    day = _wall(moved).date()
    last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return _at("eomonth", _midnight(last), _zone(value), value.date_only)


def _edate(receiver: Any, months: Any) -> DateTime:
    """edate(n): the same day n months away, clamped to the month's end, time kept.
    Zoho Deluge docs: Date-time functions > edate; SPEC §10 Dates (clamping)."""
    value = _receiver("edate", receiver)
    return _plus_months("edate", value, want_int("edate", 1, months))


METHODS: list[Builtin] = [
    _adder("addDay", 1, "day"), _adder("subDay", -1, "day"),
    _adder("addWeek", 1, "week"), _adder("subWeek", -1, "week"),
    _adder("addMonth", 1, "month"), _adder("subMonth", -1, "month"),
    _adder("addYear", 1, "year"), _adder("subYear", -1, "year"),
    _adder("addHour", 1, "hour"), _adder("subHour", -1, "hour"),
    _adder("addMinutes", 1, "minute"), _adder("subMinutes", -1, "minute"),
    _adder("addSeconds", 1, "second"), _adder("subSeconds", -1, "second"),
    method("addBusinessDay", _add_business_day, _RECEIVERS, 1, 3),
    method("subBusinessDay", _sub_business_day, _RECEIVERS, 1, 3),
    method("workday", _workday, _RECEIVERS, 1, 3),
    _getter(("getDay", "day"), "day"),
    _getter(("getMonth", "month"), "month"),
    _getter(("getYear", "year"), "year"),
    _getter(("getHour", "hour"), "hour"),
    _getter(("getMinutes", "minute"), "minute"),
    _getter(("getSeconds", "second"), "second"),
    _getter(("getDayOfWeek", "weekday"), "weekday"),
    _getter(("getDayOfYear",), "yday"),
    method("getWeekOfYear", _week_of_year, _RECEIVERS, 0, 1),
    method("daysBetween", _days_between, _RECEIVERS, 1),
    method("hoursBetween", _hours_between, _RECEIVERS, 1),
    method("timeBetween", _time_between, _RECEIVERS, 1),
    method("monthsBetween", _months_between, _RECEIVERS, 1),
    method("yearsBetween", _years_between, _RECEIVERS, 1),
    method("days360", _days360, _RECEIVERS, 1),
    method("toStartOfMonth", _to_start_of_month, _RECEIVERS, 0),
    method("toStartOfWeek", _to_start_of_week, _RECEIVERS, 0),
    method("eomonth", _eomonth, _RECEIVERS, 1),
    method("edate", _edate, _RECEIVERS, 1),
]

FUNCTIONS: list[Builtin] = []
