"""The run history: recording every run, reading it back, and pruning old runs.

What is kept of a run is bounded, so that no script can make every run record megabytes
(an 8 MB `throw`): each field to `max_field_bytes` (64 KB by default,
`SLUICE_RUN_FIELD_BYTES`). A text over it keeps its first bytes and is marked
"… [cut: 8,388,608 bytes]" with its full size: the error message, each log line, and
each text of the HTTP trace and of the mail outbox (to a quarter of it). Logs keep `max_log_lines` lines and
`max_log_bytes` bytes (then one note says how many were dropped); the trace and the
outbox keep their first entries that fit (`stats.http_truncated` and `mail_truncated`
count the rest); the return value is kept whole up to `max_return_bytes` of JSON, else a
note replaces it. Inputs are kept whole (replays need them) up to `max_input_bytes` of JSON
(1 MB by default, `SLUICE_RUN_INPUT_BYTES`), secret-looking keys redacted; larger inputs
are stored cut (their texts cut, then the keys that still do not fit replaced by a note)
and the record says so in `inputs_truncated` with their full size: such a run cannot be
replayed, since its inputs are no longer the ones it ran with.
"""

from __future__ import annotations

__all__ = ["FIELD_BYTES_ENV", "INPUT_BYTES_ENV", "RetentionPolicy", "RunHistory", "RunRecord",
           "cap_inputs", "cap_logs", "cut_text", "field_cap_from_environment",
           "input_cap_from_environment"]

import datetime as _dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, delete, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ..engine import RunResult
from ..mail.outbox import Outbox, outbox_rows, public_mail, with_delivery
from ..store.runs import Run
from ..store.schedules import Occurrence
from ..values import to_json_text, to_plain
from .errors import InvalidField, NotFound, Unavailable, store_failure
from .inputs import redact


@dataclass(frozen=True)
class RetentionPolicy:
    """How much history to keep: runs younger than `max_age`, at most `max_count`."""

    max_age: _dt.timedelta | None = _dt.timedelta(days=30)
    max_count: int | None = 100_000


@dataclass(frozen=True)
class RunRecord:
    """A stored run as the API and the command line show it."""

    id: int
    trigger: str
    script_id: int | None
    script_name: str
    script_version: int | None
    status: str
    inputs: dict[str, Any]
    logs: list[str]
    logs_truncated: bool
    return_value: Any
    error: dict[str, Any] | None
    stats: dict[str, Any]
    http: list[dict[str, Any]]
    mail: list[dict[str, Any]]
    started_at: _dt.datetime
    finished_at: _dt.datetime
    schedule_id: int | None
    occurrence_id: int | None
    attempt: int
    replay_of: int | None
    node: str
    actor: str

    @property
    def inputs_truncated(self) -> dict[str, Any] | None:
        """`{"bytes": N, "cap": C}` when the stored inputs were cut (N bytes of JSON over
        the cap C), else None."""
        marker = self.stats.get(INPUTS_TRUNCATED)
        return marker if isinstance(marker, dict) else None

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "trigger": self.trigger, "script": self.script_name,
                "version": self.script_version, "status": self.status,
                "error": self.error, "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat(),
                "duration_ms": self.stats.get("duration_ms"),
                "schedule_id": self.schedule_id, "occurrence_id": self.occurrence_id,
                "attempt": self.attempt, "replay_of": self.replay_of}

    def to_json(self) -> dict[str, Any]:
        """The run result object of ARCHITECTURE plus what the history adds."""
        return {"run_id": self.id, "status": self.status,
                "state": self.status if self.status in ("queued", "running") else "finished",
                "return": self.return_value,
                "logs": self.logs, "error": self.error, "mail": self.mail, "http": self.http,
                "stats": {k: v for k, v in self.stats.items() if k != INPUTS_TRUNCATED},
                "trigger": self.trigger, "script": self.script_name,
                "version": self.script_version, "inputs": self.inputs,
                "inputs_truncated": self.inputs_truncated,
                "logs_truncated": self.logs_truncated,
                "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat(),
                "schedule_id": self.schedule_id, "occurrence_id": self.occurrence_id,
                "attempt": self.attempt, "replay_of": self.replay_of, "node": self.node,
                "actor": self.actor}


FIELD_BYTES_ENV = "SLUICE_RUN_FIELD_BYTES"
DEFAULT_FIELD_BYTES = 64 * 1024
INPUT_BYTES_ENV = "SLUICE_RUN_INPUT_BYTES"
DEFAULT_INPUT_BYTES = 1024 * 1024
_MIN_FIELD_BYTES = 1024
# the key of the stats column that marks cut inputs (shown as the run's `inputs_truncated`)
INPUTS_TRUNCATED = "inputs_truncated"
# A line cut to fit the room left is worth keeping only if that room is this large.
_MIN_PIECE = 64


def field_cap_from_environment() -> int:
    """`SLUICE_RUN_FIELD_BYTES`, or 64 KB; InvalidField names the variable when it is not
    a whole number of at least 1024."""
    return _bytes_setting(FIELD_BYTES_ENV, DEFAULT_FIELD_BYTES)


def input_cap_from_environment() -> int:
    """`SLUICE_RUN_INPUT_BYTES`, or 1 MB: the most JSON a run record keeps of its inputs;
    InvalidField names the variable when it is not a whole number of at least 1024."""
    return _bytes_setting(INPUT_BYTES_ENV, DEFAULT_INPUT_BYTES)


def _bytes_setting(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < _MIN_FIELD_BYTES:
        raise InvalidField(name, f"must be a whole number of bytes, at least "
                                 f"{_MIN_FIELD_BYTES}, not {text!r}")
    return int(text)


def cut_text(text: str, max_bytes: int) -> str:
    """`text` if its UTF-8 fits `max_bytes`, else its first bytes (whole characters) and
    a mark with its full size."""
    if len(text) * 4 <= max_bytes:  # cannot be over: skip the encoding
        return text
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return text
    kept = data[:max_bytes].decode("utf-8", "ignore")
    return f"{kept}… [cut: {len(data):,} bytes]"


def _cut_texts(value: Any, max_bytes: int) -> Any:
    if isinstance(value, str):
        return cut_text(value, max_bytes)
    if isinstance(value, dict):
        return {k: _cut_texts(v, max_bytes) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut_texts(v, max_bytes) for v in value]
    return value


def _first_that_fit(items: list[Any], max_bytes: int) -> tuple[list[Any], int]:
    """The leading items whose JSON fits `max_bytes` together (the first always), and how
    many were left out; each text in an item cut to a quarter of `max_bytes` first (a
    trace entry holds the URL twice, in `url` and in `error`)."""
    kept: list[Any] = []
    size = 0
    for item in items:
        cut = _cut_texts(item, max_bytes // 4)
        size += len(to_json_text(cut))
        if kept and size > max_bytes:
            break
        kept.append(cut)
    return kept, len(items) - len(kept)


def _json_bytes(value: Any) -> int:
    return len(to_json_text(value).encode("utf-8", "surrogatepass"))


def cap_inputs(inputs: Mapping[str, Any], max_bytes: int) -> \
        tuple[dict[str, Any], dict[str, Any] | None]:
    """`inputs` and None when their JSON fits `max_bytes`; else a cut copy that fits, and
    the marker `{"bytes": full size, "cap": max_bytes}`.

    The copy keeps the keys in order: each value with its texts cut to a quarter of the
    cap while it fits the room left, else a note with the value's size in its place; keys
    past the point where not even a note fits are left out (`keys_left_out` counts them)."""
    text = to_json_text(dict(inputs))
    # 4 bytes a character at most: most inputs fit without encoding their JSON
    if len(text) * 4 <= max_bytes:
        return dict(inputs), None
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= max_bytes:
        return dict(inputs), None
    kept: dict[str, Any] = {}
    used = 2                                    # the braces
    left_out = 0
    for key, value in inputs.items():
        cut = _cut_texts(value, max_bytes // 4)
        entry = _json_bytes({key: cut}) - 1     # `"key":value` and a comma
        if used + entry > max_bytes:
            cut = f"[not stored: {_json_bytes(value):,} bytes of JSON]"
            entry = _json_bytes({key: cut}) - 1
            if used + entry > max_bytes:
                left_out += 1
                continue
        kept[key] = cut
        used += entry
    marker: dict[str, Any] = {"bytes": size, "cap": max_bytes}
    if left_out:
        marker["keys_left_out"] = left_out
    return kept, marker


def cap_logs(logs: list[str], max_lines: int, max_bytes: int) -> tuple[list[str], bool]:
    """The first lines of `logs` that fit both caps, and a note when some were dropped; a
    line too long for the room left is kept cut (and marked) when the room is worth it."""
    kept: list[str] = []
    size = 0
    for line in logs:
        length = len(line.encode("utf-8", "surrogatepass")) + 1
        room = max_bytes - size - 1
        if len(kept) < max_lines and size + length > max_bytes and room >= _MIN_PIECE:
            kept.append(cut_text(line, room))
            size = max_bytes
            continue
        size += length
        if len(kept) >= max_lines or size > max_bytes:
            dropped = len(logs) - len(kept)
            kept.append(f"[{dropped} more log line{'s' if dropped != 1 else ''} not stored: "
                        f"the history keeps {max_lines} lines / {max_bytes // 1024} KB]")
            return kept, True
        kept.append(line)
    return kept, False


class RunHistory:
    """Writes and reads runs; `row` builds a record for callers batching their writes."""

    def __init__(self, sessions: sessionmaker[Session], *, max_log_lines: int = 2000,
                 max_log_bytes: int | None = None,
                 max_return_bytes: int = 1024 * 1024,
                 max_field_bytes: int = DEFAULT_FIELD_BYTES,
                 max_input_bytes: int = DEFAULT_INPUT_BYTES) -> None:
        self.sessions = sessions
        self.max_field_bytes = max_field_bytes
        self.max_input_bytes = max_input_bytes
        self.max_log_lines = max_log_lines
        self.max_log_bytes = max_field_bytes if max_log_bytes is None else max_log_bytes
        self.max_return_bytes = max_return_bytes
        self.outbox = Outbox(sessions)

    def values(self, *, trigger: str, script_id: int | None, script_name: str,
               script_version: int | None, inputs: Mapping[str, Any], result: RunResult,
               started_at: _dt.datetime, finished_at: _dt.datetime, node: str = "",
               actor: str = "", **extra: Any) -> dict[str, Any]:
        """The column values of a record of `result`, capped and redacted, keyed by
        column (`return` holds the return value): one row of a batched insert. Its mail
        goes to the outbox only through `row`."""
        cap = self.max_field_bytes
        logs, truncated = cap_logs(result.logs, self.max_log_lines, self.max_log_bytes)
        value = to_plain(result.value)
        stats = dict(result.stats)
        error = result.error.to_json() if result.error else None
        if error is not None:
            error["message"] = cut_text(str(error.get("message") or ""), cap)
        http, dropped = _first_that_fit(list(result.http), cap)
        if dropped:
            stats["http_truncated"] = dropped
        mail, dropped = _first_that_fit(public_mail(list(result.mail)), cap)
        if dropped:
            stats["mail_truncated"] = dropped
        size = len(to_json_text(value))
        if size > self.max_return_bytes:
            value = (f"[return value not stored: {size} bytes of JSON, over the cap of "
                     f"{self.max_return_bytes}]")
            stats["return_truncated"] = True
        stored, cut = self.stored_inputs(inputs)
        if cut is not None:
            stats[INPUTS_TRUNCATED] = cut
        return {"trigger": trigger, "script_id": script_id, "script_name": script_name,
                "script_version": script_version, "status": result.status,
                "inputs": stored, "logs": logs, "logs_truncated": truncated,
                "return": value, "error": error, "stats": stats, "http": http, "mail": mail,
                "started_at": started_at, "finished_at": finished_at, "node": node,
                "actor": actor, **extra}

    def row(self, *, result: RunResult, **fields: Any) -> Run:
        """An unsaved Run for `result` (the arguments of `values`), capped and redacted,
        with its mail in the outbox."""
        values = self.values(result=result, **fields)
        values["return_value"] = values.pop("return")
        run = Run(**values)
        # the messages go to the outbox in the run's own transaction: recorded together
        # (a run without mail leaves the collection alone: setting it, even empty, costs
        # more than the rest of the record)
        if result.mail:
            run.outbox = outbox_rows(list(result.mail),  # type: ignore[attr-defined]
                                     deliver=bool(os.environ.get("SLUICE_SMTP_URL")))
        return run

    def stored_inputs(self, inputs: Mapping[str, Any]) -> \
            tuple[dict[str, Any], dict[str, Any] | None]:
        """What a record keeps of `inputs`: redacted, capped (`cap_inputs`)."""
        return cap_inputs(redact(dict(inputs)), self.max_input_bytes)

    def record(self, **fields: Any) -> int:
        """Store one run (the arguments of `row`) and return its id.

        A connection that died under the write (a database restart, a killed backend) is
        replaced and the write tried once more; any other failure of the store (disk
        full, database gone) raises Unavailable, with nothing of the run written."""
        for attempt in (1, 2):
            run = self.row(**fields)
            try:
                with self.sessions() as s:
                    if run.id is not None:   # a queued run's reserved row: fill it in
                        run = s.merge(run)
                    else:
                        s.add(run)
                    s.commit()
                    return run.id
            except DBAPIError as exc:
                if attempt == 1 and exc.connection_invalidated:
                    continue
                raise Unavailable(f"The run finished but could not be recorded: "
                                  f"{store_failure(exc)}") from exc
            except (SQLAlchemyError, OSError) as exc:
                raise Unavailable(f"The run finished but could not be recorded: "
                                  f"{store_failure(exc)}") from exc
        raise AssertionError("unreachable")

    def get(self, run_id: int) -> RunRecord:
        with self.sessions() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise NotFound(f"No run with id {run_id}")
            record = _record(run)
        states = self.outbox.states(run_id)
        return replace(record, mail=with_delivery(record.mail, states)) if states else record

    def list(self, *, script: str | None = None, trigger: str | None = None,
             status: str | None = None, schedule_id: int | None = None,
             before: int | None = None, limit: int = 50,
             since: _dt.datetime | None = None,
             until: _dt.datetime | None = None) -> list[RunRecord]:
        """Newest first; `before` pages back from a run id; `since`/`until` bound the
        start time."""
        if not 1 <= limit <= 1000:
            raise InvalidField("limit", "must be between 1 and 1000")
        query = select(Run).order_by(Run.id.desc()).limit(limit)
        if script:
            query = query.where(Run.script_name == script)
        if trigger:
            query = query.where(Run.trigger == trigger)
        if status:
            query = query.where(Run.status == status)
        if schedule_id is not None:
            query = query.where(Run.schedule_id == schedule_id)
        if before is not None:
            query = query.where(Run.id < before)
        if since is not None:
            query = query.where(Run.started_at >= since)
        if until is not None:
            query = query.where(Run.started_at < until)
        with self.sessions() as s:
            return [_record(r) for r in s.scalars(query)]

    def prune(self, policy: RetentionPolicy, now: _dt.datetime, *,
              limit: int | None = None, batch: int = 2000) -> int:
        """Delete runs (and finished occurrences) outside the policy; returns runs deleted.

        Deletes `batch` rows per statement, each in its own short transaction, so that no
        statement outlives a node's session guards and no lock is held for long; with
        `limit`, stops after about that many runs (a node prunes a backlog a slice per
        pass, between its lease renewals)."""
        deleted = 0
        if policy.max_age is not None:
            cutoff = now - policy.max_age
            deleted += self._delete_batches(Run, Run.started_at < cutoff, batch, limit)
            self._delete_batches(Occurrence, and_(
                Occurrence.state.in_(("succeeded", "failed", "skipped")),
                Occurrence.finished_at < cutoff), batch, limit)
        if policy.max_count is not None and (limit is None or deleted < limit):
            with self.sessions() as s:
                edge = s.scalar(select(Run.id).order_by(Run.id.desc())
                                .offset(policy.max_count).limit(1))
            if edge is not None:
                deleted += self._delete_batches(
                    Run, Run.id <= edge, batch, None if limit is None else limit - deleted)
        return deleted

    def _delete_batches(self, model: Any, condition: Any, batch: int,
                        limit: int | None) -> int:
        deleted = 0
        while limit is None or deleted < limit:
            size = batch if limit is None else min(batch, limit - deleted)
            with self.sessions() as s:
                picked = select(model.id).where(condition).limit(size).scalar_subquery()
                count = s.execute(delete(model).where(model.id.in_(picked))
                                  .execution_options(synchronize_session=False)
                                  ).rowcount or 0
                s.commit()
            deleted += count
            if count < size:
                break
        return deleted


def _record(run: Run) -> RunRecord:
    return RunRecord(run.id, run.trigger, run.script_id, run.script_name, run.script_version,
                     run.status, run.inputs or {}, run.logs or [], run.logs_truncated,
                     run.return_value, run.error, run.stats or {}, run.http or [],
                     run.mail or [], run.started_at, run.finished_at, run.schedule_id,
                     run.occurrence_id, run.attempt, run.replay_of, run.node, run.actor)
