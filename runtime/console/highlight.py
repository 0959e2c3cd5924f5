"""Deluge source as highlighted HTML for the console's editor and source views.

The token runs come from `sluicegate.tooling.highlight.tokens` (the `deluge` Pygments
lexer, whose word lists are the runtime's own tables, as for the TextMate grammar), so
the console, `pygmentize -l deluge` and editors colour a script alike. Every character of
the input appears escaped in the output exactly once, so the highlighted copy lines up
with the textarea above it."""

from __future__ import annotations

__all__ = ["highlight"]

from html import escape

# Pygments token kinds -> the console's classes (the most specific prefix wins)
_CLASSES = (("Name.Function.Magic", "tok-task"), ("Name.Builtin", "tok-builtin"),
            ("Name.Attribute", "tok-attribute"), ("Keyword", "tok-keyword"),
            ("Literal.String", "tok-string"), ("Literal.Number", "tok-number"),
            ("Comment", "tok-comment"))


def _css(kind: str) -> str | None:
    for prefix, css in _CLASSES:
        if kind == prefix or kind.startswith(prefix + "."):
            return css
    return None


def highlight(source: str) -> str:
    """`source` as HTML: keywords, texts, numbers, comments, built-ins and tasks marked."""
    from sluicegate.tooling.highlight import tokens

    out: list[str] = []
    last = 0
    for offset, length, kind in tokens(source):
        if offset < last:   # never emit a character twice
            continue
        css = _css(kind)
        if css is None:
            continue
        out.append(escape(source[last:offset]))
        out.append(f'<span class="{css}">{escape(source[offset:offset + length])}</span>')
        last = offset + length
    out.append(escape(source[last:]))
    return "".join(out)
