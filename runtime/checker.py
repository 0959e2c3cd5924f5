"""`sluice check`: every problem of a script, from the editor tooling's analysis, plus the
Creator criteria this runtime cannot send to the Creator API (a warning: valid Deluge,
refused only when run).

The analysis lives in `sluicegate.tooling` (shared with the language server and the
console); this module keeps the names `check` has always offered.
"""

from __future__ import annotations

__all__ = ["Problem", "check_source"]

import ast
from typing import Any

from .tooling import Diagnostic, diagnose

# A problem of `check` is a tooling diagnostic (same fields, same JSON form).
Problem = Diagnostic


def check_source(source: str | bytes, filename: str = "<script>",
                 registry: Any = None) -> list[Problem]:
    problems = diagnose(source, filename, registry)
    if any(p.severity == "error" and p.type == "SyntaxError" for p in problems):
        return problems
    problems += _creator_problems(source, filename)
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems


def _creator_problems(source: str | bytes, filename: str) -> list[Problem]:
    """Creator criteria the Creator API cannot express (`Qty * 2 > 5`), which the
    translator turns into a refusal at run time."""
    from .errors import ScriptSyntaxError
    from .parser import normalize_source
    from .translator import translate

    try:
        module = translate(normalize_source(source, filename), filename).module
    except (ScriptSyntaxError, RecursionError):
        return []
    out = []
    for node in ast.walk(module):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "dg_form_refused" and node.args):
            out.append(Diagnostic("Unsupported", "Creator criteria "
                                  f"{getattr(node.args[0], 'value', '')}", node.lineno,
                                  node.col_offset + 1, filename, "warning"))
    return out
