"""DATETIME conversions: text, numbers and dates to one another, in patterns and time zones
(toDate, toDateTime, toTime, toString/toText, toDateTimeString, unixEpoch, isDate).

A NUMBER is milliseconds since 1970-01-01 00:00:00 UTC wherever the vendor converts
one (toDate/toDateTime/toTime: "every increase in 1000 will add 1 second"; unixEpoch:
"the number of milliseconds"). A pattern is a Java SimpleDateFormat pattern (SPEC §7,
`datepatterns`); an unknown time-zone name means GMT, as Java's TimeZone reads it. The
rules shared with the other date built-ins are in the docstring of `dates`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import current
from sluicegate.values import DateTime, display, fixed_offset

from .args import want_text, wrong_type
from .builtin import ANY, Builtin, method
from .datepatterns import format_pattern, parse_pattern, reads_two_digit_year, zone_named
from .dates import (
    _EPOCH_US,
    _RECEIVERS,
    _TIME_ONLY,
    _UTC,
    _at,
    _clip,
    _instant_us,
    _localize,
    _midnight,
    _now_year,
    _out_of_range,
    _receiver,
    _wall,
    _zone,
    parse_date_text,
)

__all__ = ["FUNCTIONS", "METHODS"]


def _unix_epoch(receiver: Any, zone_name: Any = None) -> int | str:
    """unixEpoch([timeZone]): milliseconds since 1970-01-01 00:00:00 UTC. With a time zone the
    wall-clock time is read in that zone (an unknown zone means GMT); text that is not a date
    is returned unchanged. Zoho Deluge docs: Date-time functions > unixEpoch."""
    if isinstance(receiver, str):
        parsed = parse_date_text(receiver)
        if parsed is None:
            return receiver
        receiver = parsed
    value = _receiver("unixEpoch", receiver)
    instant = value.value
    if zone_name is not None:
        zone = zone_named(want_text("unixEpoch", 1, zone_name)) or _UTC
        instant = _localize(_wall(value), zone)
    return (_instant_us(instant) - _EPOCH_US) // 1000


# ----------------------------------------------------------------------------- conversions

def _from_millis(fname: str, millis: int) -> _dt.datetime:
    zone = current().timezone
    try:
        epoch = _dt.datetime(1970, 1, 1, tzinfo=_UTC)
        return (epoch + _dt.timedelta(milliseconds=millis)).astimezone(zone)
    except (OverflowError, ValueError):
        raise _out_of_range(fname) from None


def _text_value(fname: str, text: str, pattern: Any, time_only_ok: bool,
                day_only: bool = False) -> DateTime:
    """`text` read as a DATETIME; `day_only` (toDate) may answer its date part at once."""
    if pattern is not None:
        pattern_text = want_text(fname, 1, pattern)
        # the clock is read only for a `yy` field's century window
        now_year = _now_year() if reads_two_digit_year(pattern_text) else 0
        parsed = parse_pattern(text, pattern_text, now_year)
        if parsed is None:
            raise ScriptRuntimeError(
                f"'{_clip(text)}' does not match the date pattern '{pattern_text}' in {fname}")
        wall, zone = parsed
        run_zone = current().timezone
        if zone is not None:
            try:
                return DateTime(wall.replace(tzinfo=zone).astimezone(run_zone), False)
            except (OverflowError, ValueError):
                raise _out_of_range(fname) from None
        if day_only and fixed_offset(run_zone):
            # what toDate makes of _at(wall): its midnight, localized (no gap, no fold)
            return DateTime(_dt.datetime(wall.year, wall.month, wall.day, tzinfo=run_zone),
                            True)
        return _at(fname, wall, run_zone, False)
    value = parse_date_text(text)
    if value is not None:
        return value
    match = _TIME_ONLY.fullmatch(text.strip()) if time_only_ok else None
    if match is not None:
        hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
        marker = (match.group(4) or "").lower()
        if marker == "pm" and hour < 12:
            hour += 12
        elif marker == "am" and hour == 12:
            hour = 0
        if hour < 24 and minute < 60 and second < 60:
            today = current().current_datetime().date()
            return _at(fname, _dt.datetime.combine(today, _dt.time(hour, minute, second)),
                       current().timezone, False)
    raise ScriptRuntimeError(f"'{_clip(text)}' is not a valid DATETIME for {fname}")


def _convert(fname: str, receiver: Any, pattern: Any, time_only_ok: bool,
             day_only: bool = False) -> DateTime:
    if type(receiver) is DateTime:
        return receiver
    if type(receiver) is int:
        return DateTime(_from_millis(fname, receiver), False)
    if isinstance(receiver, str):
        return _text_value(fname, receiver, pattern, time_only_ok, day_only)
    raise wrong_type(fname, 1, receiver, "TEXT, NUMBER or DATETIME")


def _to_date(receiver: Any, pattern: Any = None) -> DateTime:
    """toDate([pattern]): the date part, date-only. TEXT is read in the literal layouts or
    with a SimpleDateFormat pattern; a NUMBER is milliseconds since 1970 (UTC); a DATETIME
    ignores the pattern. Zoho Deluge docs: Common functions > toDate."""
    value = _convert("toDate", receiver, pattern, False, True)
    if value.date_only:
        return value
    return _at("toDate", _midnight(value.value.date()), _zone(value), True)


def _to_date_time(receiver: Any, pattern: Any = None) -> DateTime:
    """toDateTime([pattern]): a DATETIME with its time (a date gets 00:00:00), read like
    toDate. Zoho Deluge docs: Common functions > toDateTime."""
    value = _convert("toDateTime", receiver, pattern, False)
    return DateTime(value.value, False) if value.date_only else value


def _to_time(receiver: Any, pattern: Any = None, zone_name: Any = None) -> DateTime:
    """toTime([pattern [, timeZone]]): like toDateTime; text with only a time ("10:30",
    "2:15 PM") is that time today (chosen). `timeZone` is the zone the text's wall-clock
    time is in; the result is that instant in the run's zone (an unknown zone means GMT,
    as Java's TimeZone does; a DATETIME or NUMBER ignores both arguments). Zoho Deluge
    docs: Common functions > toTime ("The timeZone param is used to denote the time zone
    in which the given date-time value (in the expression) falls in")."""
    if zone_name is not None and isinstance(receiver, str):
        zone = zone_named(want_text("toTime", 2, zone_name)) or _UTC
        value = _convert("toTime", receiver, pattern, True)
        value = DateTime(value.value, False) if value.date_only else value
        try:
            instant = _localize(_wall(value), zone) if not _has_own_zone(receiver, pattern) \
                else value.value
            return DateTime(instant.astimezone(current().timezone), False)
        except (OverflowError, ValueError):
            raise _out_of_range("toTime") from None
    value = _convert("toTime", receiver, pattern, True)
    return DateTime(value.value, False) if value.date_only else value


def _has_own_zone(text: str, pattern: Any) -> bool:
    """Whether the text names its own zone through the pattern (z, Z or X letters):
    then that zone wins over the timeZone argument."""
    if pattern is None:
        return False
    parsed = parse_pattern(text, want_text("toTime", 1, pattern), _now_year())
    return parsed is not None and parsed[1] is not None


def _to_string(receiver: Any, pattern: Any = None, zone_name: Any = None) -> str:
    """toString([pattern [, timeZone]]) / toText: the display form (SPEC §6), or the date in a
    Java SimpleDateFormat pattern, converted to timeZone when given (an unknown zone means
    GMT, as Java's TimeZone does). Zoho Deluge docs: Common functions > toString ("The
    function will return a DATE-TIME expression in the specified dateTimeFormat, converted
    into the specified time zone")."""
    value = _receiver("toString", receiver)
    if pattern is None:
        return display(value)
    pattern_text = want_text("toString", 1, pattern)
    instant = value.value
    if zone_name is not None:
        zone = zone_named(want_text("toString", 2, zone_name)) or _UTC
        try:
            instant = instant.astimezone(zone)
        except (OverflowError, ValueError):
            raise _out_of_range("toString") from None
    return format_pattern(instant, pattern_text)


def _to_string_of_text_or_millis(receiver: Any, pattern: Any = None,
                                 zone_name: Any = None) -> str:
    """toString / toText on TEXT or NUMBER: the display form without a pattern; with one, date
    text or milliseconds since 1970 formatted like a DATETIME. Zoho Deluge docs: Common
    functions > toString ("If the expression is of type number (milliseconds), you can specify
    two optional arguments, dateTimeFormat and timeZone"; outside Zoho Creator also "a TEXT in
    date-time format", and text that is not a date is an error there)."""
    if pattern is None:
        return display(receiver)
    if type(receiver) is int:
        value = DateTime(_from_millis("toString", receiver), False)
    else:
        value = _receiver("toString", receiver)
    return _to_string(value, pattern, zone_name)


def _to_date_time_string(receiver: Any, pattern: Any = None, zone_name: Any = None) -> str:
    """toDateTimeString([dateTimeFormat [, timeZone]]): a NUMBER of milliseconds since
    1970-01-01 00:00:00 UTC (what unixEpoch returns), a DATETIME or date text, as text in
    a Java SimpleDateFormat pattern (without one, the display form `dd-MMM-yyyy
    HH:mm:ss`), in timeZone (default: the run's zone; an unknown zone means GMT, as Java's
    TimeZone does); daylight saving applies, names are English. Zoho Deluge docs:
    https://www.zoho.com/deluge/help/functions/datetime/todatetimestring.html ("used to
    handle Unix epoch conversion"; "<input_data>.toDateTimeString(<dateTimeFormat>,
    <timeZone>)"). The page does not say seconds or milliseconds: milliseconds, as every
    other Deluge epoch number (unixEpoch, toString/toTime of a NUMBER)."""
    fname = "toDateTimeString"
    if type(receiver) is int:
        value = DateTime(_from_millis(fname, receiver), False)
    else:
        value = _receiver(fname, receiver)
    pattern_text = None if pattern is None else want_text(fname, 1, pattern)
    zone = current().timezone if zone_name is None else \
        zone_named(want_text(fname, 2, zone_name)) or _UTC
    try:
        instant = value.value.astimezone(zone)
    except (OverflowError, ValueError):
        raise _out_of_range(fname) from None
    if pattern_text is None:
        return display(DateTime(instant, False))
    return format_pattern(instant, pattern_text)


def _is_date(value: Any) -> bool:
    """isDate(): true for a DATETIME and for text holding a date in a supported layout, false
    for anything else. Zoho Deluge docs: Common functions > isDate."""
    if type(value) is DateTime:
        return True
    if isinstance(value, str):
        return parse_date_text(value) is not None
    return False

METHODS: list[Builtin] = [
    method("unixEpoch", _unix_epoch, _RECEIVERS, 0, 1),
    method("toDate", _to_date, ("DATETIME", "TEXT", "NUMBER"), 0, 1),
    method("toDateTime", _to_date_time, ("DATETIME", "TEXT", "NUMBER"), 0, 1),
    method("toTime", _to_time, ("DATETIME", "TEXT", "NUMBER"), 0, 2),
    method(("toString", "toText"), _to_string, "DATETIME", 0, 2),
    method(("toString", "toText"), _to_string_of_text_or_millis, ("TEXT", "NUMBER"), 0, 2),
    method("toDateTimeString", _to_date_time_string, ("NUMBER", "DATETIME", "TEXT"), 0, 2),
    method("isDate", _is_date, ANY, 0),
]

FUNCTIONS: list[Builtin] = []
