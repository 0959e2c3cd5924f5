"""The errors of trigger operations (stored scripts, schedules, runs), drawn once here.

    TriggerError            anything a caller of the trigger layer should report plainly
      ├── NotFound            no script, version, schedule or run by that name or id
      ├── InvalidField        a field of a request is wrong: `field` says which, `reason` why
      ├── InvalidSource       a script that does not compile cannot be published
      └── Conflict            the request fits the fields but not the current state

The command line turns InvalidField into `sluice <cmd>: error: <field>: <reason>` (exit
2), InvalidSource into the script's diagnostic (exit 1); the HTTP API answers 422 for
both, 404 for NotFound and 409 for Conflict.
"""

from __future__ import annotations

__all__ = ["Conflict", "InvalidField", "InvalidSource", "NotFound", "TriggerError"]


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
