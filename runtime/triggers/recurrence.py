"""When a schedule fires: a recurrence rule, a start, an IANA time zone and an end.

Kinds: `once`; `hourly`, `daily`, `weekly` (on chosen days), `monthly` (on a day, the
last day, or the n-th / last weekday), `yearly`, each every `interval` units; or a `cron`
expression. The calendar kinds are turned into cron expressions and walked with cronsim,
which handles daylight saving the way Debian cron does (croniter 7 was seen firing a 02:30
job twice on a fall-back day; cronsim does not):

- a wall-clock time that happens twice (autumn) fires once, at its first occurrence;
- a wall-clock time that does not exist (spring) fires at the first real minute after it
  (02:30 on the spring change runs at 03:00), so nothing is lost;
- `hourly` and cron expressions with a wildcard hour follow elapsed time instead: every
  real hour fires, including both 01:xx hours of an autumn night.

The time of day (and the minute of an hourly rule) is the wall-clock time of the start as
given; `interval` counts units from the start's date (days, Monday-based weeks, months,
years) or, for hours, elapsed hours from the start.
"""

from __future__ import annotations

__all__ = [
    "KINDS",
    "WEEKDAYS",
    "Recurrence",
    "Timing",
    "parse_local",
    "parse_weekday",
    "resolve_local",
]

import datetime as _dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from .errors import InvalidField

KINDS = ("once", "hourly", "daily", "weekly", "monthly", "yearly", "cron")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NTH_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_UTC = _dt.UTC
# a filter (every 3rd month, ...) never needs more candidates than this to find a match
_MAX_CANDIDATES = 100_000


def parse_weekday(text: Any, fieldname: str) -> int:
    """An ISO weekday number (1 = Monday) from `mon`, `Monday`, or 1..7."""
    if isinstance(text, int) and not isinstance(text, bool) and 1 <= text <= 7:
        return text
    low = str(text).strip().lower()[:3]
    if low in WEEKDAYS:
        return WEEKDAYS.index(low) + 1
    if low.isdigit() and 1 <= int(low) <= 7:
        return int(low)
    raise InvalidField(fieldname, f"{text!r} is not a weekday (mon..sun)")


def _parse_month(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 12:
        return value
    low = str(value).strip().lower()
    if low[:3] in _MONTHS and not low.isdigit():
        return _MONTHS.index(low[:3]) + 1
    if low.isdigit() and 1 <= int(low) <= 12:
        return int(low)
    raise InvalidField("recurrence.month", f"{value!r} is not a month (1..12 or jan..dec)")


def _parse_day(value: Any) -> int:
    if isinstance(value, str) and value.strip().lower() == "last":
        return -1
    try:
        day = int(value)
    except (TypeError, ValueError):
        raise InvalidField("recurrence.day", f"{value!r} is not a day of the month "
                           "(1..31 or last)") from None
    if day == -1 or 1 <= day <= 31:
        return day
    raise InvalidField("recurrence.day", f"{value!r} is not a day of the month (1..31 or last)")


def _parse_nth(value: Any) -> int:
    if isinstance(value, str) and value.strip().lower() in _NTH_WORDS:
        return _NTH_WORDS[value.strip().lower()]
    try:
        nth = int(value)
    except (TypeError, ValueError):
        raise InvalidField("recurrence.nth", f"{value!r} is not first..fifth, last or "
                           "1..5") from None
    if nth == -1 or 1 <= nth <= 5:
        return nth
    raise InvalidField("recurrence.nth", f"{value!r} is not first..fifth, last or 1..5")


def parse_local(text: str, fieldname: str) -> _dt.datetime:
    """An ISO date-time (`2025-03-30T02:30`, optionally with an offset) or date."""
    try:
        return _dt.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InvalidField(fieldname, f"{text!r} is not an ISO date-time such as "
                           "2025-03-30T02:30") from None


def resolve_local(wall: _dt.datetime, zone: ZoneInfo) -> _dt.datetime:
    """The instant a wall-clock time names in `zone`: the first of two in an autumn
    overlap, the first real minute after it in a spring gap (cronsim's rule)."""
    local = wall.replace(tzinfo=zone, fold=0)
    while local.astimezone(_UTC).astimezone(zone).replace(tzinfo=None) != \
            local.replace(tzinfo=None):
        wall = (wall + _dt.timedelta(minutes=1)).replace(second=0, microsecond=0)
        local = wall.replace(tzinfo=zone, fold=0)
    return local


@dataclass(frozen=True)
class Recurrence:
    """A recurrence rule as data; `from_json` validates every field."""

    kind: str
    interval: int = 1
    days: tuple[int, ...] = ()          # weekly: ISO weekdays
    day: int | None = None              # monthly / yearly: 1..31, -1 = last day
    nth: int | None = None              # monthly / yearly: n-th (1..5) or last (-1) ...
    weekday: int | None = None          # ... of this ISO weekday
    month: int | None = None            # yearly
    cron: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recurrence:
        if not isinstance(data, Mapping):
            raise InvalidField("recurrence", "must be an object with a 'kind'")
        kind = str(data.get("kind") or "").lower()
        if kind not in KINDS:
            raise InvalidField("recurrence.kind", f"{data.get('kind')!r} is not one of "
                               f"{', '.join(KINDS)}")
        try:
            raw = data.get("interval")
            interval = 1 if raw is None else int(raw)
        except (TypeError, ValueError):
            raise InvalidField("recurrence.interval", "must be a whole number") from None
        if not 1 <= interval <= 1000:
            raise InvalidField("recurrence.interval", "must be between 1 and 1000")
        if kind in ("once", "cron") and interval != 1:
            raise InvalidField("recurrence.interval", f"does not apply to {kind} schedules")
        raw_days = data.get("days") or ()
        if isinstance(raw_days, str):
            raw_days = [d for d in raw_days.split(",") if d.strip()]
        days = tuple(sorted({parse_weekday(d, "recurrence.days") for d in raw_days}))
        day = _parse_day(data["day"]) if data.get("day") not in (None, "") else None
        nth = _parse_nth(data["nth"]) if data.get("nth") not in (None, "") else None
        weekday = (parse_weekday(data["weekday"], "recurrence.weekday")
                   if data.get("weekday") not in (None, "") else None)
        month = _parse_month(data["month"]) if data.get("month") not in (None, "") else None
        cron = data.get("cron") or None
        if days and kind != "weekly":
            raise InvalidField("recurrence.days", "only weekly schedules run on chosen days")
        if (day is not None or nth is not None) and kind not in ("monthly", "yearly"):
            raise InvalidField("recurrence.day", "only monthly and yearly schedules pick a day")
        if day is not None and nth is not None:
            raise InvalidField("recurrence.nth", "give either a day of the month or an "
                               "n-th weekday, not both")
        if (nth is None) != (weekday is None):
            raise InvalidField("recurrence.weekday", "an n-th weekday needs both 'nth' "
                               "and 'weekday' (e.g. second tue)")
        if month is not None and kind != "yearly":
            raise InvalidField("recurrence.month", "only yearly schedules pick a month")
        if kind == "cron":
            if not isinstance(cron, str):
                raise InvalidField("recurrence.cron", "a cron schedule needs an expression")
            try:
                CronSim(cron, _dt.datetime(2000, 1, 1))
            except CronSimError as exc:
                raise InvalidField("recurrence.cron", f"{cron!r}: {exc}") from None
        elif cron:
            raise InvalidField("recurrence.cron", "only cron schedules take an expression")
        return cls(kind, interval, days, day, nth, weekday, month, cron)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.interval != 1:
            out["interval"] = self.interval
        if self.days:
            out["days"] = [WEEKDAYS[d - 1] for d in self.days]
        if self.day is not None:
            out["day"] = "last" if self.day == -1 else self.day
        if self.nth is not None:
            out["nth"] = "last" if self.nth == -1 else self.nth
            out["weekday"] = WEEKDAYS[(self.weekday or 1) - 1]
        if self.month is not None:
            out["month"] = self.month
        if self.cron:
            out["cron"] = self.cron
        return out

    def describe(self, wall: _dt.datetime) -> str:
        """A short sentence: `every 2 weeks on mon,fri at 09:00`."""
        at = f"at {wall:%H:%M}"
        unit = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month",
                "yearly": "year"}.get(self.kind, "")
        every = f"every {self.interval} {unit}s" if self.interval > 1 else f"every {unit}"
        if self.kind == "once":
            return f"once at {wall:%Y-%m-%d %H:%M}"
        if self.kind == "cron":
            return f"cron '{self.cron}'"
        if self.kind == "hourly":
            return f"{every} at minute {wall.minute}"
        if self.kind == "weekly":
            days = ",".join(WEEKDAYS[d - 1] for d in (self.days or (wall.isoweekday(),)))
            return f"{every} on {days} {at}"
        if self.kind in ("monthly", "yearly"):
            month = f" of {_MONTHS[(self.month or wall.month) - 1]}" if self.kind == "yearly" \
                else ""
            if self.nth is not None:
                nth = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th", -1: "last"}[self.nth]
                return f"{every} on the {nth} {WEEKDAYS[(self.weekday or 1) - 1]}{month} {at}"
            day = self.day if self.day is not None else wall.day
            return f"{every} on day {'last' if day == -1 else day}{month} {at}"
        return f"{every} {at}"

    def cron_expression(self, wall: _dt.datetime) -> str:
        """The cron expression whose matches are this rule's candidates (before the
        `interval` filter); the time of day comes from the start's wall-clock time."""
        m, h = wall.minute, wall.hour
        if self.kind == "cron":
            return self.cron or ""
        if self.kind == "hourly":
            return f"{m} * * * *"
        if self.kind == "daily":
            return f"{m} {h} * * *"
        if self.kind == "weekly":
            days = self.days or (wall.isoweekday(),)
            return f"{m} {h} * * {','.join(str(d % 7) for d in days)}"
        month = str(self.month or wall.month) if self.kind == "yearly" else "*"
        if self.nth is not None:
            dow = (self.weekday or 1) % 7
            return f"{m} {h} * {month} {dow}L" if self.nth == -1 else \
                f"{m} {h} * {month} {dow}#{self.nth}"
        day = self.day if self.day is not None else wall.day
        return f"{m} {h} {'L' if day == -1 else day} {month} *"


@dataclass(frozen=True)
class Timing:
    """A recurrence placed in time: wall-clock start in a zone, and an optional end."""

    recurrence: Recurrence
    zone_name: str
    start_wall: _dt.datetime            # naive wall-clock start in `zone_name`
    end_after: int | None = None
    end_on: _dt.datetime | None = None  # aware; no fire time after it
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "zone", ZoneInfo(self.zone_name))
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidField("timezone", f"{self.zone_name!r} is not an IANA time zone "
                               "(such as Europe/Berlin)") from None
        if self.end_after is not None and self.end_after < 1:
            raise InvalidField("end.after", "must be at least 1")

    @property
    def start(self) -> _dt.datetime:
        """The start as an instant (UTC)."""
        return resolve_local(self.start_wall, self.zone).astimezone(_UTC)

    def fire_times(self, after: _dt.datetime | None = None) -> Iterator[_dt.datetime]:
        """Fire times (UTC), in order, at or after the start and strictly after `after`;
        stops at `end_on` (the `end_after` count is the caller's, who knows how many
        fired)."""
        for instant in self._candidates(after):
            if self.end_on is not None and instant > self.end_on:
                return
            yield instant

    def upcoming(self, after: _dt.datetime | None, count: int, fired: int = 0) -> \
            list[_dt.datetime]:
        """The next `count` fire times after `after`, given `fired` already happened."""
        out: list[_dt.datetime] = []
        left = None if self.end_after is None else self.end_after - fired
        for instant in self.fire_times(after):
            if len(out) >= count or (left is not None and len(out) >= left):
                break
            out.append(instant)
        return out

    def _candidates(self, after: _dt.datetime | None) -> Iterator[_dt.datetime]:
        start = self.start
        rule = self.recurrence
        if rule.kind == "once":
            if after is None or start > after:
                yield start
            return
        wall = self.start_wall.replace(second=0, microsecond=0)
        first = resolve_local(wall, self.zone).astimezone(_UTC)
        begin = first if after is None or after < first else after
        # cronsim yields matches strictly after the instant it is given
        cursor = begin.astimezone(self.zone) - _dt.timedelta(seconds=1) \
            if begin == first else begin.astimezone(self.zone)
        expr = rule.cron_expression(wall)
        misses = 0
        for local in CronSim(expr, cursor):
            instant = local.astimezone(_UTC)
            if instant < first or (after is not None and instant <= after):
                continue  # a wall time of an autumn night before the cursor's instant
            if self._in_interval(local, instant, first):
                misses = 0
                yield instant
            else:
                misses += 1
                if misses > _MAX_CANDIDATES:
                    return

    def _in_interval(self, local: _dt.datetime, instant: _dt.datetime,
                     first: _dt.datetime) -> bool:
        n = self.recurrence.interval
        if n == 1:
            return True
        kind = self.recurrence.kind
        anchor = self.start_wall.date()
        day = local.date()
        if kind == "hourly":
            return round((instant - first).total_seconds() / 3600) % n == 0
        if kind == "daily":
            return (day - anchor).days % n == 0
        if kind == "weekly":
            monday = anchor - _dt.timedelta(days=anchor.weekday())
            return ((day - monday).days // 7) % n == 0
        if kind == "monthly":
            return ((day.year * 12 + day.month) - (anchor.year * 12 + anchor.month)) % n == 0
        return (day.year - anchor.year) % n == 0
