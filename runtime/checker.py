"""`sluice check`: every syntax error of a file in one pass, plus static problems.

Static problems are what can be known without running: calls of unknown built-in
functions, unknown integration tasks of the services this runtime calls and task calls with
the wrong number of arguments (from `sluicegate.integrations.signatures()`), Creator
criteria the API cannot express. Methods depend on the value they are called on, so they
are checked only at run time (SPEC §10 "Names").
"""

from __future__ import annotations

__all__ = ["Problem", "check_source"]

import ast
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
    problems += _task_problems(translation.module, filename)
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems


def _task_problems(module: ast.Module, filename: str) -> list[Problem]:
    """Integration task calls the tables know are wrong: an unknown task of a covered
    service (`zoho.desk.searchRecord`), or a known task with too few or too many
    arguments (errors); Creator criteria the API cannot express (a warning). Tasks of
    other products (`zoho.cliq.*`) and versioned families (`zoho.crm.v8.*`) are left to
    run time."""
    import difflib

    from .integrations import namespaces, signatures

    sigs = signatures()
    by_lower = {name.lower(): sig for name, sig in sigs.items()}
    covered = namespaces()
    out = []
    for node in ast.walk(module):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id == "dg_task" and len(node.args) >= 2:
            sig = by_lower.get(str(getattr(node.args[1], "value", "")))
            given = len(node.args) - 2
            if sig is None or sig.min_args <= given <= sig.max_args:
                continue
            want = (f"{sig.min_args}" if sig.min_args == sig.max_args
                    else f"{sig.min_args} to {sig.max_args}")
            names = ", ".join(p.name + ("?" if p.optional else "") for p in sig.params)
            out.append(Problem("ArityError", f"{sig.name} takes {want} arguments ({names}) "
                               f"but is given {given}", node.lineno, node.col_offset + 1,
                               filename))
        elif node.func.id == "dg_form_refused" and node.args:
            # Valid Deluge that this runtime cannot send to Creator: runs fail, checks pass.
            out.append(Problem("Unsupported", "Creator criteria "
                               f"{getattr(node.args[0], 'value', '')}", node.lineno,
                               node.col_offset + 1, filename, "warning"))
        elif node.func.id == "dg_unsupported_task" and node.args:
            name = str(getattr(node.args[0], "value", ""))
            parts = name.lower().split(".")
            if len(parts) != 3 or ".".join(parts[:2]) not in covered:
                continue
            # A near miss of a known task is a typo (error); another name may be a task of
            # the vendor's this runtime does not call (warning: it fails only when run).
            # Near misses are judged on the task's own name within its service.
            ns = ".".join(parts[:2]) + "."
            own = {k[len(ns):]: sig for k, sig in by_lower.items() if k.startswith(ns)}
            close = difflib.get_close_matches(parts[2], list(own), n=1, cutoff=0.8)
            if close:
                out.append(Problem("UnknownName", f"Unknown integration task '{name}' (did "
                                   f"you mean '{own[close[0]].name}'?)", node.lineno,
                                   node.col_offset + 1, filename))
            else:
                out.append(Problem("UnknownName", f"Integration task '{name}' is not one this "
                                   "runtime calls", node.lineno, node.col_offset + 1,
                                   filename, "warning"))
    return out
