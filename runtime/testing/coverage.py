"""`sluice test --coverage`: which script statements the cases ran, per script, as a
summary line and as a self-contained HTML page with run and missed lines highlighted.

No generated code changes for this: the translator already gives every generated
statement its script line, so a line tracer (`sys.settrace`) limited to frames of
generated script code (`positions.SCRIPT_FILENAME`) sees script lines directly. The
tracer is installed only around the runs of a coverage session; normal runs pay nothing.

A script's statements are the statements of its translation (the same units the step
budget counts: simple statements, if/else-if tests, loops, a whole task block; `try` is
not one, and a `catch` counts through the line it starts on). The granularity is the
line: several statements on one line are run or missed together.
"""

from __future__ import annotations

__all__ = ["LineTracer", "statement_lines", "report_coverage", "html_report"]

import ast
import html
import os
import sys
from collections import Counter
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any, TextIO

from ..errors import ScriptSyntaxError
from ..positions import SCRIPT_FILENAME


class LineTracer:
    """Collects the lines of one script executed while it is active (a context manager):
    frames of the code objects compiled from that script, not of others it calls."""

    def __init__(self, code: Any) -> None:
        self.lines: set[int] = set()
        self.codes = _code_objects(code)
        self._previous: Any = None

    def _calls(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code in self.codes:
            return self._lines
        return None

    def _lines(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines.add(frame.f_lineno)
        return self._lines

    def __enter__(self) -> LineTracer:
        self._previous = sys.gettrace()
        sys.settrace(self._calls)
        return self

    def __exit__(self, *exc: Any) -> None:
        sys.settrace(self._previous)


def _code_objects(code: Any) -> set[Any]:
    found = set()
    stack = [code]
    while stack:
        item = stack.pop()
        if isinstance(item, CodeType) and item.co_filename == SCRIPT_FILENAME:
            found.add(item)
            stack.extend(item.co_consts)
    return found


def statement_lines(source: bytes, filename: str) -> Counter[int]:
    """Script line -> number of statements on it."""
    from ..translator import translate

    module = translate(source, filename).module
    counts: Counter[int] = Counter()
    for node in ast.walk(module):
        if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.Try,
                                                                 ast.Pass)):
            counts[node.lineno] += 1
    return counts


@dataclass
class ScriptCoverage:
    path: str
    source: str
    statements: Counter[int]
    run: set[int]

    @property
    def total(self) -> int:
        return sum(self.statements.values())

    @property
    def covered(self) -> int:
        return sum(n for line, n in self.statements.items() if line in self.run)

    @property
    def missed_lines(self) -> list[int]:
        return sorted(line for line in self.statements if line not in self.run)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0


def collect(session: Any) -> list[ScriptCoverage]:
    run: dict[str, set[int]] = {}
    for outcome in session.outcomes:
        for path, lines in outcome.covered.items():
            run.setdefault(path, set()).update(lines)
    found = []
    for path in sorted(session.sources):
        source = session.sources[path]
        try:
            statements = statement_lines(source, path)
        except ScriptSyntaxError:
            statements = Counter()
        text = source.decode("utf-8", "replace").lstrip("\ufeff")
        found.append(ScriptCoverage(path, text, statements, run.get(path, set())))
    return found


def _ranges(lines: list[int]) -> str:
    parts: list[str] = []
    start = prev = None
    for line in lines:
        if start is None:
            start = prev = line
        elif prev is not None and line == prev + 1:
            prev = line
        else:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = line
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(parts)


def report_coverage(session: Any, out: TextIO, html_path: str) -> list[ScriptCoverage]:
    scripts = collect(session)
    out.write("coverage (statements run):\n")
    for s in scripts:
        line = f"  {s.path}: {s.percent:.0f}% of {s.total} statements"
        if s.missed_lines:
            line += f"; never run: lines {_ranges(s.missed_lines)}"
        out.write(line + "\n")
    try:
        folder = os.path.dirname(os.path.abspath(html_path))
        os.makedirs(folder, exist_ok=True)
        with open(html_path, "w", encoding="utf-8") as f:
            f.write(html_report(scripts))
    except OSError as exc:
        raise CoverageReportError(f"cannot write the coverage report {html_path} "
                                  f"({exc.strerror})") from None
    out.write(f"coverage report: {html_path}\n")
    return scripts


class CoverageReportError(Exception):
    """The HTML report could not be written (a usage error: exit 2)."""


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #1d1d1f; }
table.summary td, table.summary th { padding: 0.2em 1em; text-align: left; }
pre { margin: 0; }
table.code { border-collapse: collapse; font-family: ui-monospace, monospace;
             font-size: 13px; width: 100%; }
table.code td { padding: 0 0.6em; white-space: pre; vertical-align: top; }
td.n { color: #888; text-align: right; user-select: none; width: 3em; }
tr.run td.src { background: #e3f6e3; }
tr.missed td.src { background: #fbe1e1; }
tr.missed td.n { color: #b00; font-weight: bold; }
.legend span { padding: 0 0.5em; margin-right: 1em; }
"""


def html_report(scripts: list[ScriptCoverage]) -> str:
    """One self-contained page (inline CSS, no script, nothing loaded from elsewhere)."""
    e = html.escape
    parts = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<title>sluice test coverage</title>", f"<style>{_STYLE}</style></head><body>",
             "<h1>sluice test coverage</h1>",
             "<p class=\"legend\"><span style=\"background:#e3f6e3\">run</span>"
             "<span style=\"background:#fbe1e1\">never run</span></p>",
             "<table class=\"summary\"><tr><th>script</th><th>statements</th><th>run</th>"
             "<th>never run (lines)</th></tr>"]
    for i, s in enumerate(scripts):
        parts.append(f"<tr><td><a href=\"#s{i}\">{e(s.path)}</a></td><td>{s.total}</td>"
                     f"<td>{s.percent:.0f}%</td><td>{e(_ranges(s.missed_lines))}</td></tr>")
    parts.append("</table>")
    for i, s in enumerate(scripts):
        parts.append(f"<h2 id=\"s{i}\">{e(s.path)} ({s.percent:.0f}%)</h2>"
                     "<table class=\"code\">")
        for number, text in enumerate(s.source.splitlines(), start=1):
            kind = ("run" if number in s.run else "missed") if number in s.statements else ""
            parts.append(f"<tr class=\"{kind}\"><td class=\"n\">{number}</td>"
                         f"<td class=\"src\">{e(text)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
