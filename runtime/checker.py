"""`sluice check`: every problem of a script, from the editor tooling's analysis.

The analysis lives in `sluicegate.tooling` (shared with the language server and the
console); this module keeps the names `check` has always offered.
"""

from __future__ import annotations

__all__ = ["Problem", "check_source"]

from typing import Any

from .tooling import Diagnostic, diagnose

# A problem of `check` is a tooling diagnostic (same fields, same JSON form).
Problem = Diagnostic


def check_source(source: str | bytes, filename: str = "<script>",
                 registry: Any = None) -> list[Problem]:
    return diagnose(source, filename, registry)
