"""The document model editors work on: spans, diagnostics, symbols, call sites, scopes.

Positions are the script's own: lines and columns are 1-based, and an end column is the
column just after the last character (as Lark reports them). LSP positions (0-based,
UTF-16) are converted at the protocol edge (`tooling.lsp`).
"""

from __future__ import annotations

__all__ = [
    "CallSite",
    "Diagnostic",
    "Document",
    "Fix",
    "Reference",
    "Scope",
    "Span",
    "Symbol",
]

from dataclasses import dataclass, field
from typing import Any

from sluicegate.errors import format_diagnostic

from .catalog import Signature


@dataclass(frozen=True, order=True)
class Span:
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def of(cls, item: Any) -> Span:
        """The span of a Lark token or of a tree (by its propagated meta)."""
        if hasattr(item, "meta"):
            m = item.meta
            return cls(m.line, m.column, m.end_line, m.end_column)
        return cls(item.line, item.column, item.end_line or item.line,
                   item.end_column or item.column)

    def contains(self, line: int, column: int) -> bool:
        """Whether (line, column) is inside, the end column included (a cursor at the
        end of a word is on the word)."""
        if (line, column) < (self.line, self.column):
            return False
        return (line, column) <= (self.end_line, self.end_column)


@dataclass(frozen=True)
class Fix:
    """A replacement that resolves a diagnostic (a did-you-mean)."""

    span: Span
    text: str
    title: str


@dataclass
class Diagnostic:
    """One problem `check` and the language server report.

    `type` names the kind (SyntaxError, UnknownName, ArgumentCount, UnusedVariable,
    UnassignedVariable, UnreachableCode, UnknownConnection); `severity` is "error" (the
    script cannot run as written) or "warning" (it may run, but probably not as meant).
    """

    type: str
    message: str
    line: int | None
    column: int | None
    filename: str
    severity: str = "error"
    end_line: int | None = None
    end_column: int | None = None
    fix: Fix | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "message": self.message, "line": self.line,
                               "column": self.column, "severity": self.severity}
        if self.end_line is not None:
            out["end_line"], out["end_column"] = self.end_line, self.end_column
        if self.fix is not None:
            out["fix"] = self.fix.text
        return out

    def diagnostic(self, source: str | None) -> str:
        """The file:line:col text form, with the line and a caret."""
        return format_diagnostic(self.filename, source, self.line, self.column,
                                 self.severity, self.message)

    @property
    def span(self) -> Span:
        line, col = self.line or 1, self.column or 1
        return Span(line, col, self.end_line or line, self.end_column or col + 1)


@dataclass
class Reference:
    span: Span
    write: bool


@dataclass
class Symbol:
    """A variable, parameter or user function, with every place it is named."""

    name: str
    kind: str                    # variable, parameter, loop, catch, function
    definition: Span
    type: str | None = None
    detail: str = ""
    references: list[Reference] = field(default_factory=list)


@dataclass
class CallSite:
    """A call in the script: what is called and where its arguments are."""

    name: str                    # as written (`toUpperCase`, `zoho.crm.getRecords`)
    name_span: Span
    span: Span                   # the whole call
    open_paren: tuple[int, int] | None
    argument_spans: list[Span]
    signature: Signature | None = None
    function_form: bool = False
    user_function: str | None = None   # lower-case key of a function of this file


@dataclass
class Scope:
    """A function of the script (or the bare body, named '')."""

    name: str
    span: Span
    name_span: Span | None
    return_type: str = ""
    params: list[tuple[str, str]] = field(default_factory=list)  # (declared type, name)
    symbols: dict[str, Symbol] = field(default_factory=dict)


@dataclass
class Document:
    """One analyzed script: its tree, comments, scopes, calls and diagnostics."""

    source: str
    filename: str
    tree: Any = None                      # None when the script has syntax errors
    comments: list[Any] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def scope_at(self, line: int) -> Scope | None:
        for scope in self.scopes:
            if scope.span.line <= line <= scope.span.end_line:
                return scope
        return self.scopes[0] if self.scopes and not self.scopes[0].name else None

    def functions(self) -> dict[str, Scope]:
        """User functions of the file by lower-case qualified name."""
        return {s.name.lower(): s for s in self.scopes if s.name}

    def symbol_at(self, line: int, column: int) -> tuple[Scope, Symbol] | None:
        for scope in self.scopes:
            for sym in scope.symbols.values():
                if sym.definition.contains(line, column):
                    return scope, sym
                for ref in sym.references:
                    if ref.span.contains(line, column):
                        return scope, sym
        return None

    def call_at(self, line: int, column: int) -> CallSite | None:
        """The call whose name is at (line, column)."""
        for call in self.calls:
            if call.name_span.contains(line, column):
                return call
        return None

    def enclosing_call(self, line: int, column: int) -> tuple[CallSite, int] | None:
        """The innermost call whose parentheses hold (line, column), and the argument index."""
        best: tuple[CallSite, int] | None = None
        for call in self.calls:
            if call.open_paren is None or (line, column) <= call.open_paren:
                continue
            if (line, column) >= (call.span.end_line, call.span.end_column):
                continue
            index = sum(1 for a in call.argument_spans
                        if (a.end_line, a.end_column) < (line, column))
            index = min(index, max(len(call.argument_spans) - 1, 0)) if (
                call.argument_spans and any(a.contains(line, column)
                                            for a in call.argument_spans)) else index
            if best is None or call.open_paren > best[0].open_paren:  # type: ignore[operator]
                best = (call, index)
        return best
