"""Java SimpleDateFormat patterns: the `yyyy-MM-dd'T'HH:mm:ssXXX` of `toString(pattern)` and
`toDate(pattern)`, plus the calendar facts they share with the date built-ins.

Deluge runs on the JVM and documents its date patterns as Java's SimpleDateFormat letters
(Zoho Deluge docs: Functions > unixEpoch, "Applicable Date-Time Literals"; toDate,
"dateTimeMapping"). A pattern is translated once into a tuple of literal texts and
`Field(letter, count)` items and cached (bounded LRU), then used to format or to parse.

Formatting follows SimpleDateFormat in the English (US) locale: weeks start on Sunday and
week 1 is the week that holds 1 January (`w`, `W`, `Y`); `y`/`yy`; `M` to `MMMM`; `E` to
`EEEE`; `H k K h m s S a D F u G`; zones `z` (abbreviation, `zzzz` long name where known),
`Z` (`+0530`), `X`/`XX`/`XXX` (`Z` for UTC, else `+05`, `+0530`, `+05:30`); text in single
quotes and `''` for a quote. Any other ASCII letter is an error naming the pattern.

Parsing follows SimpleDateFormat too: names match in any case, a numeric field reads as
many digits as are there unless the next item is also a number (then exactly its count),
`yy` with two digits uses the 80-years-back century window, missing fields default to
1970-01-01 00:00:00, and text after the pattern is ignored (Java's `DateFormat.parse`).
Out-of-range fields are rejected instead of rolled over (chosen: strict, so that a wrong
pattern is noticed).

Time zone names (`toString(pattern, "Asia/Kolkata")`, `unixEpoch("PST")`) resolve like
java.time: IANA names, `GMT+05:30`/`UTC-8` offsets, `Z`/`UTC`/`GMT`, and the JDK short IDs
(`IST`, `PST`, `EST`, ...; `ZoneId.SHORT_IDS`).
"""

from __future__ import annotations

__all__ = [
    "DAY_ABBREVIATIONS",
    "DAY_NAMES",
    "MONTH_ABBREVIATIONS",
    "MONTH_NAMES",
    "Field",
    "compile_pattern",
    "format_pattern",
    "month_from_name",
    "parse_pattern", "reads_two_digit_year",
    "two_digit_year",
    "week_of_month",
    "week_of_year",
    "weekday_from_name",
    "zone_named",
]

import datetime as _dt
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sluicegate.errors import ScriptRuntimeError

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")
MONTH_ABBREVIATIONS = tuple(name[:3] for name in MONTH_NAMES)
# Python's weekday() order: Monday is 0.
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_ABBREVIATIONS = tuple(name[:3] for name in DAY_NAMES)

_MONTHS_BY_NAME = {n.lower(): i + 1 for i, n in enumerate(MONTH_NAMES)}
_MONTHS_BY_NAME.update({n.lower(): i + 1 for i, n in enumerate(MONTH_ABBREVIATIONS)})
_DAYS_BY_NAME = {n.lower(): i for i, n in enumerate(DAY_NAMES)}
_DAYS_BY_NAME.update({n.lower(): i for i, n in enumerate(DAY_ABBREVIATIONS)})

# Regular-expression alternatives, longest first so "March" is not read as "Mar".
MONTH_NAME_RE = "|".join(sorted(_MONTHS_BY_NAME, key=len, reverse=True))
DAY_NAME_RE = "|".join(sorted(_DAYS_BY_NAME, key=len, reverse=True))

_PATTERN_LETTERS = frozenset("GyYMLwWDdFEuaHkKhmsSzZX")
_NUMERIC_LETTERS = frozenset("yYwWDdFuHkKhmsS")
_UTC = _dt.UTC
_SUNDAY = 6


def month_from_name(name: str) -> int | None:
    """1-12 for an English month name or its three-letter abbreviation, any case."""
    return _MONTHS_BY_NAME.get(name.lower())


def weekday_from_name(name: str) -> int | None:
    """Python weekday (Monday 0 ... Sunday 6) for an English day name or abbreviation."""
    return _DAYS_BY_NAME.get(name.strip().lower())


def two_digit_year(value: int, now_year: int) -> int:
    """SimpleDateFormat's `yy` window: the century starting 80 years before now."""
    start = now_year - 80
    year = (start // 100) * 100 + value
    if value < start % 100:
        year += 100
    return year


def _week_start(ordinal: int, first_weekday: int) -> int:
    weekday = (ordinal + 6) % 7          # date.fromordinal(1) is a Monday
    return ordinal - (weekday - first_weekday) % 7


def week_of_year(day: _dt.date, first_weekday: int = _SUNDAY) -> tuple[int, int]:
    """(week year, week) with week 1 holding 1 January, as java.util.Calendar in the US.

    Computed on ordinals so that weeks reaching into year 0 or 10000 cause no overflow.
    """
    start = _week_start(day.toordinal(), first_weekday)
    if day.year < 9999 and start + 6 >= _dt.date(day.year + 1, 1, 1).toordinal():
        return day.year + 1, 1
    first = _week_start(_dt.date(day.year, 1, 1).toordinal(), first_weekday)
    return day.year, (start - first) // 7 + 1


def week_of_month(day: _dt.date, first_weekday: int = _SUNDAY) -> int:
    first = _week_start(day.replace(day=1).toordinal(), first_weekday)
    return (day.toordinal() - first) // 7 + 1


@dataclass(frozen=True, slots=True)
class Field:
    """One run of a pattern letter: `yyyy` is Field("y", 4)."""

    letter: str
    count: int


def _bad_pattern(pattern: str, reason: str) -> ScriptRuntimeError:
    shown = pattern if len(pattern) <= 120 else pattern[:117] + "..."
    return ScriptRuntimeError(f"Invalid date pattern '{shown}': {reason}")


# Longest pattern accepted [chosen]: real ones are a few dozen characters, and compiled
# patterns are cached for the whole process, so a megabyte pattern must never get there.
MAX_PATTERN = 1000


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> tuple[str | Field, ...]:
    """Split a SimpleDateFormat pattern into literal texts and fields (cached per pattern)."""
    if len(pattern) > MAX_PATTERN:
        raise _bad_pattern(pattern, f"longer than {MAX_PATTERN} characters")
    items: list[str | Field] = []
    literal: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "'":
            if i + 1 < n and pattern[i + 1] == "'":
                literal.append("'")
                i += 2
                continue
            end = i + 1
            while True:
                end = pattern.find("'", end)
                if end < 0:
                    raise _bad_pattern(pattern, "unterminated quote")
                if end + 1 < n and pattern[end + 1] == "'":
                    literal.append(pattern[i + 1:end] + "'")
                    i = end + 1
                    end += 2
                    continue
                literal.append(pattern[i + 1:end])
                i = end + 1
                break
            continue
        if ("a" <= ch <= "z") or ("A" <= ch <= "Z"):
            if ch not in _PATTERN_LETTERS:
                raise _bad_pattern(pattern, f"illegal pattern character '{ch}'")
            j = i
            while j < n and pattern[j] == ch:
                j += 1
            count = j - i
            if ch == "X" and count > 3:
                raise _bad_pattern(pattern, "X takes at most 3 letters")
            if literal:
                items.append("".join(literal))
                literal = []
            items.append(Field(ch, count))
            i = j
            continue
        literal.append(ch)
        i += 1
    if literal:
        items.append("".join(literal))
    return tuple(items)


# ----------------------------------------------------------------------------- formatting

_LONG_ZONE_NAMES = {
    "UTC": "Coordinated Universal Time", "GMT": "Greenwich Mean Time",
    "EST": "Eastern Standard Time", "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time", "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time", "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time", "PDT": "Pacific Daylight Time",
    "AKST": "Alaska Standard Time", "AKDT": "Alaska Daylight Time",
    "HST": "Hawaii Standard Time", "BST": "British Summer Time",
    "CET": "Central European Standard Time", "CEST": "Central European Summer Time",
    "EET": "Eastern European Standard Time", "EEST": "Eastern European Summer Time",
    "WET": "Western European Standard Time", "WEST": "Western European Summer Time",
    "IST": "India Standard Time", "JST": "Japan Standard Time",
    "AEST": "Australian Eastern Standard Time", "AEDT": "Australian Eastern Daylight Time",
}


def _offset_text(offset: _dt.timedelta, colon: bool, minutes: bool = True) -> str:
    total = int(offset.total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    hours, mins = divmod(abs(total), 60)
    if not minutes:
        return f"{sign}{hours:02d}"
    return f"{sign}{hours:02d}{':' if colon else ''}{mins:02d}"


def _zone_abbreviation(value: _dt.datetime) -> str:
    name = value.tzname() or ""
    offset = value.utcoffset() or _dt.timedelta(0)
    if name in ("UTC", "GMT"):
        return name
    if not name or name[0] in "+-" or name.startswith(("UTC", "GMT")):
        return "GMT" + _offset_text(offset, colon=True) if offset else "GMT"
    return name


def _format_field(value: _dt.datetime, field: Field) -> str:
    letter, count = field.letter, field.count
    if letter == "y" or letter == "Y":
        year = value.year if letter == "y" else week_of_year(value.date())[0]
        if count == 2:
            return f"{year % 100:02d}"
        return str(year).zfill(count)
    if letter == "M" or letter == "L":
        if count >= 4:
            return MONTH_NAMES[value.month - 1]
        if count == 3:
            return MONTH_ABBREVIATIONS[value.month - 1]
        return str(value.month).zfill(count)
    if letter == "E":
        names = DAY_NAMES if count >= 4 else DAY_ABBREVIATIONS
        return names[value.weekday()]
    if letter == "a":
        return "AM" if value.hour < 12 else "PM"
    if letter == "G":
        return "AD"
    if letter == "z":
        short = _zone_abbreviation(value)
        if count >= 4:
            return _LONG_ZONE_NAMES.get(short, short)
        return short
    if letter == "Z":
        return _offset_text(value.utcoffset() or _dt.timedelta(0), colon=False)
    if letter == "X":
        offset = value.utcoffset() or _dt.timedelta(0)
        if not offset:
            return "Z"
        return _offset_text(offset, colon=count == 3, minutes=count > 1)
    number = _numeric_field(value, letter)
    return str(number).zfill(count)


def _numeric_field(value: _dt.datetime, letter: str) -> int:
    if letter == "d":
        return value.day
    if letter == "H":
        return value.hour
    if letter == "m":
        return value.minute
    if letter == "s":
        return value.second
    if letter == "S":
        return value.microsecond // 1000
    if letter == "h":
        return value.hour % 12 or 12
    if letter == "K":
        return value.hour % 12
    if letter == "k":
        return value.hour or 24
    if letter == "D":
        return value.timetuple().tm_yday
    if letter == "w":
        return week_of_year(value.date())[1]
    if letter == "W":
        return week_of_month(value.date())
    if letter == "F":
        return (value.day - 1) // 7 + 1
    if letter == "u":
        return value.isoweekday()
    raise AssertionError(letter)  # every letter of _PATTERN_LETTERS is handled above


def format_pattern(value: _dt.datetime, pattern: str) -> str:
    """Format an aware datetime with a SimpleDateFormat pattern (English names)."""
    parts: list[str] = []
    for item in compile_pattern(pattern):
        parts.append(item if isinstance(item, str) else _format_field(value, item))
    return "".join(parts)


# ----------------------------------------------------------------------------- parsing

_ZONE_TEXT = (r"(?:GMT|UTC|UT)?[+-]\d{1,2}(?::?\d{2})?|Z|[A-Za-z][A-Za-z0-9_+\-]*"
              r"(?:/[A-Za-z0-9_+\-]+)*")


def _field_regex(field: Field, next_is_number: bool) -> str:
    letter, count = field.letter, field.count
    if letter in _NUMERIC_LETTERS:
        return rf"(\d{{{count}}})" if next_is_number else r"(\d+)"
    if letter in "ML":
        if count >= 3:
            return rf"((?i:{MONTH_NAME_RE}))"
        return rf"(\d{{{count}}})" if next_is_number else r"(\d+)"
    if letter == "E":
        return rf"((?i:{DAY_NAME_RE}))"
    if letter == "a":
        return r"((?i:am|pm))"
    if letter == "G":
        return r"((?i:ad|bc))"
    if letter == "Z":
        return r"(Z|[+-]\d{2}:?\d{2})"
    if letter == "X":
        return r"(Z|[+-]\d{2}(?::?\d{2})?)"
    return f"({_ZONE_TEXT})"     # z


def _is_number(item: str | Field) -> bool:
    if isinstance(item, str):
        return False
    return item.letter in _NUMERIC_LETTERS or (item.letter in "ML" and item.count < 3)


@lru_cache(maxsize=256)
def _parser(pattern: str) -> tuple[re.Pattern[str], tuple[Field, ...]]:
    items = compile_pattern(pattern)
    parts: list[str] = []
    fields: list[Field] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            parts.append(re.escape(item))
            continue
        following = items[i + 1] if i + 1 < len(items) else ""
        parts.append(_field_regex(item, _is_number(following)))
        fields.append(item)
    return re.compile("".join(parts)), tuple(fields)


def _offset_zone(text: str) -> _dt.tzinfo:
    if text in ("Z", "z"):
        return _UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4] or 0)
    if hours > 18 or minutes > 59:
        raise ValueError(text)
    return _dt.timezone(sign * _dt.timedelta(hours=hours, minutes=minutes))


@lru_cache(maxsize=256)
def reads_two_digit_year(pattern: str) -> bool:
    """Whether reading with `pattern` needs the current year (a `yy` field's century)."""
    return any(f.letter in "yY" and f.count == 2 for f in _parser(pattern)[1])


@lru_cache(maxsize=256)
def _numeric_reader(pattern: str) -> tuple[re.Pattern[str], tuple[int, ...]] | None:
    """For a pattern of numeric year (not `yy`), month, day, hour, minute and second
    fields, each at most once (`yyyy-MM-dd HH:mm:ss` and its kin): its regex and, for
    each of y M d H m s, the index of its group (-1: absent). None for other patterns."""
    regex, fields = _parser(pattern)
    letters = [f.letter for f in fields]
    if (len(set(letters)) != len(letters) or not set(letters) <= set("yMdHms")
            or regex.groups != len(fields)
            or any(f.count == 2 if f.letter == "y" else f.letter == "M" and f.count >= 3
                   for f in fields)):
        return None
    return regex, tuple(letters.index(x) if x in letters else -1 for x in "yMdHms")


def _read_numeric(reader: tuple[re.Pattern[str], tuple[int, ...]], text: str
                  ) -> tuple[_dt.datetime, None] | None:
    """What the general reading below gives for a `_numeric_reader` pattern: the same
    ints, the same date and time checks."""
    regex, (y, mo, d, h, mi, sec) = reader
    match = regex.match(text)
    if match is None:
        return None
    g = match.groups()
    try:
        day = _dt.date(int(g[y]) if y >= 0 else 1970, int(g[mo]) if mo >= 0 else 1,
                       int(g[d]) if d >= 0 else 1)
        return _dt.datetime(day.year, day.month, day.day, int(g[h]) if h >= 0 else 0,
                            int(g[mi]) if mi >= 0 else 0, int(g[sec]) if sec >= 0 else 0), None
    except (ValueError, OverflowError):
        return None


def parse_pattern(text: str, pattern: str, now_year: int
                  ) -> tuple[_dt.datetime, _dt.tzinfo | None] | None:
    """Read `text` with a SimpleDateFormat pattern.

    Returns the wall-clock (naive) datetime and the zone the text named, if any, or None
    when the text does not match or names an impossible date.
    """
    reader = _numeric_reader(pattern)
    if reader is not None:
        return _read_numeric(reader, text)
    regex, fields = _parser(pattern)
    match = regex.match(text)
    if match is None:
        return None
    values: dict[str, int] = {}
    zone: _dt.tzinfo | None = None
    pm: bool | None = None
    year_digits = 0
    try:
        for field, raw in zip(fields, match.groups(), strict=True):
            letter = field.letter
            if letter in "ML" and field.count >= 3:
                values["M"] = month_from_name(raw) or 0
            elif letter == "a":
                pm = raw.lower() == "pm"
            elif letter in "EG":
                continue
            elif letter in "zZX":
                zone = zone_named(raw) if letter == "z" else _offset_zone(raw)
                if zone is None:
                    return None
            else:
                if letter in "yY":
                    year_digits = len(raw) if field.count == 2 else 0
                values[letter] = int(raw)
        return _assemble(values, pm, year_digits, now_year), zone
    except (ValueError, OverflowError):
        return None


def _assemble(values: dict[str, int], pm: bool | None, year_digits: int,
              now_year: int) -> _dt.datetime:
    year = values.get("y", values.get("Y", 1970))
    if year_digits == 2:
        year = two_digit_year(year, now_year)
    if "D" in values and "M" not in values and "d" not in values:
        day = _dt.date(year, 1, 1) + _dt.timedelta(days=values["D"] - 1)
        if day.year != year:
            raise ValueError("day of year")
    else:
        day = _dt.date(year, values.get("M", 1), values.get("d", 1))
    if "H" in values:
        hour = values["H"]
    elif "k" in values:
        hour = 0 if values["k"] == 24 else values["k"]
    elif "h" in values or "K" in values:
        hour = values["h"] % 12 if "h" in values else values["K"]
        if hour > 11:
            raise ValueError("hour")
        if pm:
            hour += 12
    else:
        hour = 12 if pm else 0
    result = _dt.datetime(day.year, day.month, day.day, hour, values.get("m", 0),
                          values.get("s", 0))
    if "S" in values:
        result += _dt.timedelta(milliseconds=values["S"])
    return result


# ----------------------------------------------------------------------------- time zones

# java.time.ZoneId.SHORT_IDS: the three-letter IDs Java still accepts.
_JAVA_SHORT_IDS = {
    "EST": "-05:00", "MST": "-07:00", "HST": "-10:00",
    "ACT": "Australia/Darwin", "AET": "Australia/Sydney",
    "AGT": "America/Argentina/Buenos_Aires", "ART": "Africa/Cairo",
    "AST": "America/Anchorage", "BET": "America/Sao_Paulo", "BST": "Asia/Dhaka",
    "CAT": "Africa/Harare", "CNT": "America/St_Johns", "CST": "America/Chicago",
    "CTT": "Asia/Shanghai", "EAT": "Africa/Addis_Ababa", "ECT": "Europe/Paris",
    "IET": "America/Indiana/Indianapolis", "IST": "Asia/Kolkata", "JST": "Asia/Tokyo",
    "MIT": "Pacific/Apia", "NET": "Asia/Yerevan", "NST": "Pacific/Auckland",
    "PLT": "Asia/Karachi", "PNT": "America/Phoenix", "PRT": "America/Puerto_Rico",
    "PST": "America/Los_Angeles", "SST": "Pacific/Guadalcanal", "VST": "Asia/Ho_Chi_Minh",
}
_OFFSET_ID = re.compile(r"(?:GMT|UTC|UT)?([+-])(\d{1,2})(?::?(\d{2}))?")
_ZONE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*")


@lru_cache(maxsize=512)
def zone_named(name: str) -> _dt.tzinfo | None:
    """The time zone a script names, or None when Java would not know it either."""
    name = name.strip()
    if name in ("Z", "UTC", "GMT", "UT", "Etc/UTC", "Etc/GMT"):
        return _UTC
    name = _JAVA_SHORT_IDS.get(name, name)
    match = _OFFSET_ID.fullmatch(name)
    if match:
        hours, minutes = int(match.group(2)), int(match.group(3) or 0)
        if hours > 18 or minutes > 59:
            return None
        delta = _dt.timedelta(hours=hours, minutes=minutes)
        return _dt.timezone(-delta if match.group(1) == "-" else delta)
    if not _ZONE_ID.fullmatch(name) or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
