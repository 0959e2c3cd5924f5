"""Deluge source as highlighted HTML for the console's editor and source views.

The word lists are the runtime's own: the parser's reserved words and the built-in and
task tables of `sluicegate.stdlib`, so a name the runtime knows is shown as known. The
scanner is a single left-to-right pass (comments, texts, numbers, words), linear in the
source, and every character of the input appears escaped in the output exactly once, so
the highlighted copy lines up with the textarea above it."""

from __future__ import annotations

__all__ = ["highlight"]

import re
from functools import lru_cache
from html import escape

_TOKEN = re.compile(r"""
    (?P<comment>//[^\n]*|/\*[\s\S]*?(?:\*/|\Z))
  | (?P<string>"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?)
  | (?P<number>\b\d+(?:\.\d+)?\b)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
""", re.VERBOSE)
_EXTRA_KEYWORDS = {"each", "index", "info", "string", "int", "map", "list", "bool", "date",
                   "datetime", "decimal", "number", "collection", "standalone", "button",
                   "automation", "input", "insert", "into", "delete", "from", "sort", "by",
                   "range", "to", "alert", "cancel", "submit"}


@lru_cache(maxsize=1)
def _words() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    from sluicegate.stdlib import FUNCTIONS, METHODS, TASKS

    from ..parser import RESERVED

    keywords = frozenset(RESERVED | _EXTRA_KEYWORDS)
    builtins = frozenset(FUNCTIONS) | frozenset(n for table in METHODS.values() for n in table)
    tasks = frozenset(TASKS)
    return keywords, builtins, tasks


def _word(text: str) -> str:
    keywords, builtins, tasks = _words()
    low = text.lower()
    if low in keywords:
        return f'<span class="tok-keyword">{escape(text)}</span>'
    if low.startswith("zoho.") or low in tasks:
        return f'<span class="tok-task">{escape(text)}</span>'
    head, _, tail = text.rpartition(".")
    if not head and low in builtins:
        return f'<span class="tok-builtin">{escape(text)}</span>'
    if head and tail.lower() in builtins:
        return f'{_word(head)}.<span class="tok-builtin">{escape(tail)}</span>'
    return escape(text)


def highlight(source: str) -> str:
    """`source` as HTML: keywords, texts, numbers, comments, built-ins and tasks marked."""
    out: list[str] = []
    last = 0
    for match in _TOKEN.finditer(source):
        out.append(escape(source[last:match.start()]))
        kind = match.lastgroup
        text = match.group()
        if kind == "word":
            out.append(_word(text))
        else:
            out.append(f'<span class="tok-{kind}">{escape(text)}</span>')
        last = match.end()
    out.append(escape(source[last:]))
    return "".join(out)
