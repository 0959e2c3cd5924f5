"""Logging of `serve` and `worker`: JSON lines when stderr is not a terminal (or
`SLUICE_LOG_FORMAT=json`), readable text on a terminal (or `SLUICE_LOG_FORMAT=text`).

Each line is one object: `ts` (UTC, ISO 8601), `level`, `logger`, `message`, and the
structured fields of the event (`event: "run"` or `"request"` lines carry their ids,
names, status and timings). Fields are chosen where the line is written, never copied
from inputs or headers, so no secret reaches a log.
"""

from __future__ import annotations

__all__ = ["JsonFormatter", "configure_logging", "log_event"]

import datetime as _dt
import json
import logging
import os
import sys
from typing import Any, TextIO

_FIELDS = "sluice_fields"


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _dt.datetime.fromtimestamp(record.created, _dt.timezone.utc)
            .isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage()}
        out.update(getattr(record, _FIELDS, None) or {})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    """Text with the structured fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, _FIELDS, None)
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items() if k != "event")
        return line


def log_format(stream: TextIO | None = None) -> str:
    """`json` or `text`: SLUICE_LOG_FORMAT, else json unless `stream` is a terminal."""
    chosen = (os.environ.get("SLUICE_LOG_FORMAT") or "").strip().lower()
    if chosen in ("json", "text"):
        return chosen
    stream = stream or sys.stderr
    try:
        return "text" if stream.isatty() else "json"
    except (AttributeError, ValueError):
        return "json"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each record to what `sys.stderr` is when the record is emitted, not when
    logging was configured: a host (or a test runner) that replaces stderr and closes the
    old one must not make later records fail."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """StreamHandler.__init__ sets it; the property always reads sys.stderr."""


def configure_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Send the `sluicegate` and `uvicorn` loggers to `stream` (stderr) in the chosen
    format; replaces what an earlier call installed."""
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    stream = stream or sys.stderr
    handler.set_name("sluicegate")
    if log_format(stream) == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # uvicorn runs with log_config=None, so its records (uvicorn.error propagates to
    # uvicorn) reach this handler only
    for name in ("sluicegate", "uvicorn"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == "sluicegate"]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


def log_event(logger: logging.Logger, message: str, level: int = logging.INFO,
              **fields: Any) -> None:
    """Log `message` with structured `fields` (shown as JSON keys or key=value)."""
    if logger.isEnabledFor(level):
        logger.log(level, message, extra={_FIELDS: fields})
