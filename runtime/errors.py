"""The exception tree a script run can end with.

    DelugeError (Exception)            anything a script's try/catch may catch
      ├── ScriptRuntimeError             a runtime error: operators, built-ins, throw, tasks
      └── ScriptSyntaxError              source that does not parse (never caught by a script)
    LimitExceeded (BaseException)      a limit of SPEC §8; BaseException so no catch swallows it

Every error carries the script position once it is known (`line`, `column`, both
1-based, and the file name). Positions are attached late: built-ins raise without a
position and the engine fills it in from the traceback of the generated code, so the
hot paths never pass positions around.
"""

from __future__ import annotations

__all__ = [
    "DelugeError",
    "ScriptRuntimeError",
    "ScriptSyntaxError",
    "LimitExceeded",
    "Position",
    "format_diagnostic",
]

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a script: 1-based line and column."""

    line: int
    column: int


class DelugeError(Exception):
    """Base of every error a script can see and catch."""

    type_name = "RuntimeError"

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 filename: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.filename = filename

    def __str__(self) -> str:
        return self.message


class ScriptRuntimeError(DelugeError):
    """A runtime error raised by an operator, a built-in, a task or `throw`."""

    type_name = "RuntimeError"


class ScriptSyntaxError(DelugeError):
    """Source text that is not valid Deluge; `expected` says in words what would fit."""

    type_name = "SyntaxError"


class LimitExceeded(BaseException):
    """A run went over one of its limits (statements, time, depth, sizes, HTTP calls).

    Derives from BaseException so that neither a script's catch nor a broad
    `except Exception` in a built-in can swallow it.
    """

    type_name = "LimitExceeded"

    def __init__(self, message: str, *, limit: str = "", line: int | None = None,
                 column: int | None = None, filename: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
        self.line = line
        self.column = column
        self.filename = filename

    def __str__(self) -> str:
        return self.message


def format_diagnostic(filename: str, source: str | None, line: int | None, column: int | None,
                      kind: str, message: str) -> str:
    """`file:line:col: error: message` followed by the source line and a caret under the column."""
    if line is None:
        return f"{filename}: {kind}: {message}"
    head = f"{filename}:{line}:{column or 1}: {kind}: {message}"
    if source is None:
        return head
    lines = source.split("\n")
    if not 1 <= line <= len(lines):
        return head
    text = lines[line - 1].rstrip("\r").expandtabs(1)
    caret = " " * (max(column or 1, 1) - 1) + "^"
    return f"{head}\n    {text}\n    {caret}"
