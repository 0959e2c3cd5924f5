"""A script analyzed: `analyze` (its tree, scopes, symbols and diagnostics as a
`Document`) and `diagnose` (the diagnostics alone), as the package documents them."""

from __future__ import annotations

__all__ = ["analyze", "connection_names", "diagnose"]

from collections.abc import Iterable
from typing import Any

from sluicegate.errors import ScriptSyntaxError
from sluicegate.parser import normalize_source, parse_all_errors, parse_tree
from sluicegate.translator import translate, translate_tree

from .analysis import Analyzer
from .model import Diagnostic, Document


def connection_names(registry: Any) -> Iterable[str] | None:
    """The link names of a registry, or the iterable of names given (read only when a
    script names a connection), or None."""
    if registry is None:
        return None
    if hasattr(registry, "list"):
        return (view.link_name for view in registry.list())
    return registry  # type: ignore[no-any-return]


def _syntax(err: ScriptSyntaxError, filename: str) -> Diagnostic:
    return Diagnostic("SyntaxError", err.message, err.line, err.column, filename)


def analyze(source: str | bytes, filename: str = "<script>", registry: Any = None) -> Document:
    """Parse and analyze one script (see the package docstring, sluicegate.tooling)."""
    try:
        text = normalize_source(source, filename)
    except ScriptSyntaxError as err:
        raw = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
        return Document(raw, filename, diagnostics=[_syntax(err, filename)])
    doc = Document(text, filename)
    try:
        tree, comments, parsed, _tokens = parse_tree(text, filename)
        # The translator's checks (reserved words, statements outside functions, task
        # parameters, ...) belong to the syntax: a script it refuses cannot run.
        translate_tree(tree, parsed, filename)
    except ScriptSyntaxError:
        errors = parse_all_errors(text, lambda t: translate(t, filename))
        doc.diagnostics = [_syntax(e, filename) for e in errors]
        return doc
    except RecursionError:
        return _too_deep_to_analyze(doc, text, filename)
    doc.tree, doc.comments = tree, comments
    try:
        Analyzer(doc, connection_names(registry)).run()
    except RecursionError:
        doc.tree = None  # it translates, so it runs; too deep to analyze further
    return doc


def _too_deep_to_analyze(doc: Document, text: str, filename: str) -> Document:
    """A tree too deep for the analysis's recursion: the runtime's own translation
    (which does not recurse over the tree) decides whether it is an error at all."""
    try:
        translate(text, filename)
    except ScriptSyntaxError:
        errors = parse_all_errors(text, lambda t: translate(t, filename))
        doc.diagnostics = [_syntax(e, filename) for e in errors]
    except RecursionError:
        doc.diagnostics = [Diagnostic("SyntaxError", "The script is nested too deeply to "
                                      "compile", 1, 1, filename)]
    return doc


def diagnose(source: str | bytes, filename: str = "<script>",
             registry: Any = None) -> list[Diagnostic]:
    """Every problem of one script, in line order (see the package docstring)."""
    return analyze(source, filename, registry).diagnostics
