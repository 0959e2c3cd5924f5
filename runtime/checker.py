"""`sluice check`: every syntax error of a file in one pass, plus static problems.

Static problems are what can be known without running: calls of unknown built-in
functions and unknown integration tasks. Methods depend on the value they are called on,
so they are checked only at run time (SPEC §10 "Names").
"""

from __future__ import annotations

__all__ = ["Problem", "check_source"]

from dataclasses import dataclass
from typing import Any

from .errors import ScriptSyntaxError, format_diagnostic
from .parser import normalize_source, parse_all_errors
from .translator import translate


@dataclass
class Problem:
    type: str
    message: str
    line: int | None
    column: int | None
    filename: str
    # "error": the script cannot run as written (a syntax error, a misspelt built-in);
    # "warning": a name `check` cannot see (a function of the platform or of another
    # script), which fails at run time only if it is really missing.
    severity: str = "error"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "line": self.line,
                "column": self.column, "severity": self.severity}

    def diagnostic(self, source: str | None) -> str:
        return format_diagnostic(self.filename, source, self.line, self.column,
                                 self.severity, self.message)


def _problem(err: ScriptSyntaxError, filename: str, kind: str = "SyntaxError") -> Problem:
    return Problem(kind, err.message, err.line, err.column, filename)


def check_source(source: str | bytes, filename: str = "<script>") -> list[Problem]:
    try:
        text = normalize_source(source, filename)
    except ScriptSyntaxError as err:
        return [_problem(err, filename)]
    try:
        translation = translate(text, filename)
    except ScriptSyntaxError:
        errors = parse_all_errors(text, lambda t: translate(t, filename))
        return [_problem(e, filename) for e in errors]
    except RecursionError:
        return [Problem("SyntaxError", "The script is nested too deeply to compile", 1, 1,
                        filename)]
    problems = [_problem(w, filename, "UnknownName") for w in translation.warnings]
    for p in problems:
        if "did you mean" not in p.message:
            p.severity = "warning"
    return problems
