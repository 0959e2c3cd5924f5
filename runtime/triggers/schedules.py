"""The schedule book: creating schedules, pausing, resuming, running now, previews and
the list of what each occurrence became.

A schedule request (from the command line or the API) is a JSON object:

    {"name": "nightly", "script": "sync_invoices",
     "recurrence": {"kind": "daily"},            # or weekly + days, monthly + day|nth
     "start": "2025-03-01T02:30", "timezone": "Europe/Berlin",
     "end": {"after": 10} | {"on": "2025-12-31"} | null,
     "misfire": "run_once" | "skip", "misfire_grace": 60,
     "no_overlap": true, "retries": 2, "retry_backoff": 30, "inputs": {...}}
"""

from __future__ import annotations

__all__ = ["OccurrenceInfo", "ScheduleBook", "ScheduleInfo", "parse_request", "timing_of"]

import datetime as _dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..store.schedules import MISFIRE_POLICIES, Occurrence, Schedule
from ..store.scripts import Script
from .clock import Clock, SystemClock
from .errors import Conflict, InvalidField, NotFound
from .locking import begin_write
from .recurrence import Recurrence, Timing, parse_local, resolve_local
from .scripts import NAME_PATTERN

_MAX_RETRIES = 10


@dataclass(frozen=True)
class OccurrenceInfo:
    """One fire time and what became of it."""

    id: int
    fire_at: _dt.datetime
    due_at: _dt.datetime
    state: str
    manual: bool
    attempt: int
    reclaims: int
    lease_owner: str | None
    reason: str | None
    run_id: int | None
    started_at: _dt.datetime | None
    finished_at: _dt.datetime | None

    def to_json(self) -> dict[str, Any]:
        def iso(t: _dt.datetime | None) -> str | None:
            return t.isoformat() if t else None
        return {"id": self.id, "fire_at": iso(self.fire_at), "due_at": iso(self.due_at),
                "state": self.state, "manual": self.manual, "attempt": self.attempt,
                "reclaims": self.reclaims, "node": self.lease_owner, "reason": self.reason,
                "run_id": self.run_id, "started_at": iso(self.started_at),
                "finished_at": iso(self.finished_at)}


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as shown to users, with its next fire times."""

    id: int
    name: str
    script: str
    recurrence: dict[str, Any]
    description: str
    timezone: str
    start: str
    end_after: int | None
    end_on: _dt.datetime | None
    misfire: str
    misfire_grace: float
    no_overlap: bool
    retries: int
    retry_backoff: float
    inputs: dict[str, Any]
    paused: bool
    fired_count: int
    next_fire_at: _dt.datetime | None
    upcoming: list[_dt.datetime]
    created_by: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "script": self.script,
                "recurrence": self.recurrence, "description": self.description,
                "timezone": self.timezone, "start": self.start,
                "end": ({"after": self.end_after} if self.end_after else
                        {"on": self.end_on.isoformat()} if self.end_on else None),
                "misfire": self.misfire, "misfire_grace": self.misfire_grace,
                "no_overlap": self.no_overlap, "retries": self.retries,
                "retry_backoff": self.retry_backoff, "inputs": self.inputs,
                "paused": self.paused, "fired_count": self.fired_count,
                "next_fire_at": self.next_fire_at.isoformat() if self.next_fire_at else None,
                "next_runs": [t.isoformat() for t in self.upcoming],
                "created_by": self.created_by}


def timing_of(schedule: Schedule) -> Timing:
    """The Timing of a stored schedule."""
    rule = dict(schedule.recurrence)
    wall = _dt.datetime.fromisoformat(rule.pop("start_wall"))
    return Timing(Recurrence.from_json(rule), schedule.timezone, wall, schedule.end_after,
                  schedule.end_on)


def _number(data: Mapping[str, Any], key: str, default: float, low: float,
            high: float) -> float:
    value = data.get(key, default)
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidField(key, "must be a number") from None
    if isinstance(value, bool) or not low <= number <= high:
        raise InvalidField(key, f"must be between {low:g} and {high:g}")
    return number


def parse_request(data: Mapping[str, Any], now: _dt.datetime) -> dict[str, Any]:
    """Validate a schedule request; returns the fields of a Schedule row (no script id)."""
    if not isinstance(data, Mapping):
        raise InvalidField("schedule", "must be a JSON object")
    name = data.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidField("name", "must start with a letter and hold only letters, digits, "
                           "'_', '.' or '-' (at most 100)")
    zone_name = data.get("timezone") or os.environ.get("SLUICE_TIMEZONE") or "UTC"
    if not isinstance(zone_name, str):
        raise InvalidField("timezone", "must be an IANA time zone name")
    rule = Recurrence.from_json(data.get("recurrence") or {})
    probe = Timing(rule, zone_name, _dt.datetime(2000, 1, 1))  # validates the zone
    raw_start = data.get("start")
    if raw_start in (None, ""):
        wall = now.astimezone(probe.zone).replace(tzinfo=None, microsecond=0)
        if rule.kind != "once":   # the next whole minute; a one-off runs now
            wall = wall.replace(second=0) + _dt.timedelta(minutes=1)
    elif isinstance(raw_start, str):
        parsed = parse_local(raw_start, "start")
        wall = (parsed.astimezone(probe.zone).replace(tzinfo=None) if parsed.tzinfo
                else parsed)
    else:
        raise InvalidField("start", "must be an ISO date-time text")
    end = data.get("end") or {}
    if not isinstance(end, Mapping) or set(end) - {"after", "on"} or len(end) > 1:
        raise InvalidField("end", "must be null, {\"after\": N} or {\"on\": DATE}")
    end_after = None
    end_on = None
    if "after" in end:
        try:
            end_after = int(end["after"])
        except (TypeError, ValueError):
            raise InvalidField("end.after", "must be a whole number of runs") from None
    if "on" in end:
        if not isinstance(end["on"], str):
            raise InvalidField("end.on", "must be an ISO date or date-time")
        text = end["on"].strip()
        parsed = parse_local(text, "end.on")
        if len(text) <= 10:  # a date: the whole day counts
            parsed = parsed.replace(hour=23, minute=59, second=59, microsecond=999999)
        end_on = (parsed if parsed.tzinfo else resolve_local(parsed, probe.zone)) \
            .astimezone(_dt.UTC)
    timing = Timing(rule, zone_name, wall, end_after, end_on)
    if end_on is not None and end_on < timing.start:
        raise InvalidField("end.on", "is before the start")
    misfire = str(data.get("misfire") or "run_once").replace("-", "_")
    if misfire not in MISFIRE_POLICIES:
        raise InvalidField("misfire", "must be run_once or skip")
    retries = int(_number(data, "retries", 0, 0, _MAX_RETRIES))
    inputs = data.get("inputs") or {}
    if not isinstance(inputs, Mapping):
        raise InvalidField("inputs", "must be a JSON object of input values")
    no_overlap = data.get("no_overlap", True)
    if not isinstance(no_overlap, bool):
        raise InvalidField("no_overlap", "must be true or false")
    return {"name": name, "recurrence": {**rule.to_json(), "start_wall": wall.isoformat()},
            "timezone": zone_name, "start_at": timing.start, "end_after": end_after,
            "end_on": end_on, "misfire": misfire,
            "misfire_grace": _number(data, "misfire_grace", 60.0, 0, 366 * 86400),
            "no_overlap": no_overlap, "retries": retries,
            "retry_backoff": _number(data, "retry_backoff", 30.0, 0, 86400),
            "inputs": dict(inputs), "timing": timing}


def _first_fire(timing: Timing, now: _dt.datetime, grace: float) -> _dt.datetime | None:
    """The first fire time of a new schedule. A repeating schedule's fire times before now
    are history, not misfires: it counts from now. A one-off whose start has just passed
    (within the misfire grace: adding many schedules takes time) runs at once; one further
    in the past would never run, so it is refused rather than accepted and silent."""
    if timing.recurrence.kind == "once":
        late = (now - timing.start).total_seconds()
        if late > grace:
            raise InvalidField("start", f"{timing.start_wall:%Y-%m-%d %H:%M:%S} "
                               f"({timing.zone_name}) is {_duration(late)} in the past, "
                               f"beyond the misfire grace of {grace:g} s: a one-off schedule "
                               "would never run; choose a later start (or none, to run now)")
        return timing.start
    return next(iter(timing.fire_times(after=now - _dt.timedelta(microseconds=1)
                                       if timing.start < now else None)), None)


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


class ScheduleBook:
    """Creates and changes schedules; the scheduler does the firing."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self.sessions = sessions
        self.clock = clock or SystemClock()

    def add(self, request: Mapping[str, Any], *, by: str = "") -> ScheduleInfo:
        now = self.clock.now()
        fields = parse_request(request, now)
        timing: Timing = fields.pop("timing")
        script_name = request.get("script")
        with self.sessions() as s:
            begin_write(s)
            script = s.scalar(select(Script).where(Script.name == script_name))
            if script is None:
                raise InvalidField("script", f"no script named {script_name!r}")
            if script.kind != "schedule":
                raise InvalidField("script", f"'{script_name}' is a {script.kind} script; "
                                   "schedules run schedule scripts")
            first = _first_fire(timing, now, fields["misfire_grace"])
            schedule = Schedule(script_id=script.id, next_fire_at=first, fired_count=0,
                                paused=False, created_by=by, created_at=now, updated_at=now,
                                **fields)
            s.add(schedule)
            try:
                s.commit()
            except IntegrityError:
                raise Conflict(f"A schedule named '{fields['name']}' already exists") from None
            return self._info(schedule, script.name)

    def list(self) -> list[ScheduleInfo]:
        with self.sessions() as s:
            rows = s.execute(select(Schedule, Script.name).join(Script)
                             .order_by(Schedule.name)).all()
            return [self._info(sch, name, preview=1) for sch, name in rows]

    def get(self, name: str, preview: int = 5) -> ScheduleInfo:
        with self.sessions() as s:
            schedule = self._schedule(s, name)
            return self._info(schedule, self._script_name(s, schedule), preview=preview)

    def pause(self, name: str) -> ScheduleInfo:
        """Stop materializing fire times; occurrences already due are skipped as paused."""
        with self.sessions() as s:
            begin_write(s)
            schedule = self._schedule(s, name)
            schedule.paused = True
            schedule.updated_at = self.clock.now()
            s.commit()
            return self._info(schedule, self._script_name(s, schedule))

    def resume(self, name: str) -> ScheduleInfo:
        """Fire again from now on; fire times that passed while paused are not run."""
        now = self.clock.now()
        with self.sessions() as s:
            begin_write(s)
            schedule = self._schedule(s, name)
            if schedule.paused:
                timing = timing_of(schedule)
                left = None if schedule.end_after is None else \
                    schedule.end_after - schedule.fired_count
                after = max(now - _dt.timedelta(microseconds=1),
                            schedule.next_fire_at - _dt.timedelta(microseconds=1)
                            if schedule.next_fire_at else now)
                schedule.next_fire_at = None if left is not None and left <= 0 else next(
                    iter(timing.fire_times(after=after)), None)
                schedule.paused = False
                schedule.updated_at = now
                s.commit()
            return self._info(schedule, self._script_name(s, schedule))

    def run_now(self, name: str) -> OccurrenceInfo:
        """Add an occurrence due now (runs even while the schedule is paused)."""
        now = self.clock.now()
        with self.sessions() as s:
            schedule = self._schedule(s, name)
            for nudge in range(5):
                fire = now + _dt.timedelta(microseconds=nudge)
                occ = Occurrence(schedule_id=schedule.id, fire_at=fire, due_at=fire,
                                 state="pending", manual=True, attempt=0, reclaims=0,
                                 created_at=now, reason="run now")
                s.add(occ)
                try:
                    s.commit()
                except IntegrityError:
                    s.rollback()
                    continue
                return _occurrence_info(occ)
            raise Conflict("Could not add the occurrence; try again")

    UPDATABLE = ("script", "recurrence", "start", "timezone", "end", "misfire",
                 "misfire_grace", "no_overlap", "retries", "retry_backoff", "inputs")
    _TIMING = ("recurrence", "start", "timezone", "end")

    def update(self, name: str, changes: Mapping[str, Any], *, by: str = "") -> ScheduleInfo:
        """Change a schedule's fields (those not given keep their value). A new timing
        (recurrence, start, zone, end) fires from now on, as a new schedule would; fire
        times already due keep their occurrences."""
        unknown = sorted(set(changes) - set(self.UPDATABLE))
        if unknown:
            raise InvalidField(unknown[0], "cannot be changed (fields: "
                               + ", ".join(self.UPDATABLE) + ")")
        if not changes:
            raise InvalidField("schedule", "nothing to change")
        now = self.clock.now()
        with self.sessions() as s:
            begin_write(s)
            schedule = self._schedule(s, name)
            current = self._info(schedule, self._script_name(s, schedule), 0).to_json()
            request = {key: current[key] for key in ("name", *self.UPDATABLE)}
            request.update(changes)
            fields = parse_request(request, now)
            timing: Timing = fields.pop("timing")
            if "script" in changes:
                script = s.scalar(select(Script).where(Script.name == changes["script"]))
                if script is None or script.kind != "schedule":
                    raise InvalidField("script", f"no schedule script named "
                                       f"{changes['script']!r}")
                schedule.script_id = script.id
            for key, value in fields.items():
                setattr(schedule, key, value)
            if any(key in changes for key in self._TIMING):
                schedule.fired_count = 0
                schedule.next_fire_at = _first_fire(timing, now, fields["misfire_grace"])
            schedule.updated_at = now
            s.commit()
            return self._info(schedule, self._script_name(s, schedule))

    def delete(self, name: str) -> None:
        with self.sessions() as s:
            begin_write(s)
            s.delete(self._schedule(s, name))
            s.commit()

    def occurrences(self, name: str, limit: int = 50) -> list[OccurrenceInfo]:
        """The most recent occurrences first."""
        with self.sessions() as s:
            schedule = self._schedule(s, name)
            rows = s.scalars(select(Occurrence).where(Occurrence.schedule_id == schedule.id)
                             .order_by(Occurrence.fire_at.desc()).limit(limit))
            return [_occurrence_info(o) for o in rows]

    @staticmethod
    def _schedule(s: Session, name: str) -> Schedule:
        schedule = s.scalar(select(Schedule).where(Schedule.name == name))
        if schedule is None:
            raise NotFound(f"No schedule named '{name}'")
        return schedule

    @staticmethod
    def _script_name(s: Session, schedule: Schedule) -> str:
        return s.scalar(select(Script.name).where(Script.id == schedule.script_id)) or ""

    @staticmethod
    def _info(schedule: Schedule, script_name: str, preview: int = 5) -> ScheduleInfo:
        timing = timing_of(schedule)
        upcoming: list[_dt.datetime] = []
        if schedule.next_fire_at is not None and not schedule.paused:
            upcoming = timing.upcoming(schedule.next_fire_at - _dt.timedelta(microseconds=1),
                                       preview, schedule.fired_count)
        rule = dict(schedule.recurrence)
        start = rule.pop("start_wall")
        return ScheduleInfo(schedule.id, schedule.name, script_name, rule,
                            timing.recurrence.describe(timing.start_wall),
                            schedule.timezone, start, schedule.end_after, schedule.end_on,
                            schedule.misfire, schedule.misfire_grace, schedule.no_overlap,
                            schedule.retries, schedule.retry_backoff, dict(schedule.inputs),
                            schedule.paused, schedule.fired_count, schedule.next_fire_at,
                            upcoming, schedule.created_by)


def _occurrence_info(o: Occurrence) -> OccurrenceInfo:
    return OccurrenceInfo(o.id, o.fire_at, o.due_at, o.state, o.manual, o.attempt, o.reclaims,
                          o.lease_owner, o.reason, o.run_id, o.started_at, o.finished_at)
