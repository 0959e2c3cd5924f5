"""The errors of trigger operations (stored scripts, schedules, runs), drawn once here.

    TriggerError            anything a caller of the trigger layer should report plainly
      ├── NotFound            no script, version, schedule or run by that name or id
      ├── InvalidField        a field of a request is wrong: `field` says which, `reason` why
      ├── InvalidSource       a script that does not compile cannot be published
      ├── Conflict            the request fits the fields but not the current state
      └── Unavailable         the database could not be read or written (connection lost,
                              disk full); `result` keeps a run that finished but could
                              not be recorded

The command line turns InvalidField into `sluice <cmd>: error: <field>: <reason>` (exit
2), InvalidSource into the script's diagnostic (exit 1), Conflict and Unavailable into a
one-line message (exit 1); the HTTP API answers 422 for the first two, 404 for NotFound,
409 for Conflict and 503 for Unavailable.
"""

from __future__ import annotations

import errno
import os
from typing import Any

__all__ = ["Conflict", "InvalidField", "InvalidSource", "NotFound", "TriggerError",
           "Unavailable", "store_failure"]


class TriggerError(Exception):
    """Base of the trigger layer's errors; the message reads like a sentence."""


class NotFound(TriggerError):
    """Nothing by that name or id."""


class InvalidField(TriggerError):
    """A field with a value that cannot be used."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidSource(TriggerError):
    """A script with a syntax error; `diagnostic` shows the line with a caret."""

    def __init__(self, message: str, *, line: int | None, column: int | None,
                 diagnostic: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.diagnostic = diagnostic


class Conflict(TriggerError):
    """A valid request that the current state does not allow."""


class Unavailable(TriggerError):
    """The store failed under a request; nothing of the failed transaction was kept."""

    def __init__(self, message: str, *, result: Any = None) -> None:
        super().__init__(message)
        self.result = result


def store_failure(exc: BaseException) -> str:
    """Why a database or file write failed, in a few words and without SQL or values
    (the driver's first line, or the operating system's text for an OSError)."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return os.strerror(exc.errno) + (" (disk full)" if exc.errno == errno.ENOSPC else "")
    inner = getattr(exc, "orig", None) or exc
    if isinstance(inner, OSError) and inner.errno is not None:
        return store_failure(inner)
    text = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {text[0][:200]}" if text else type(inner).__name__
