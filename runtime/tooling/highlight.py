"""Deluge highlighting: the Pygments lexer `deluge` and a token list for browser editors.

`DelugeLexer` is registered through the `pygments.lexers` entry point, so
`pygmentize -l deluge script.dg` and documentation tools (Sphinx, MkDocs) highlight
Deluge. Its word lists are the runtime's (`catalog.words()`), read when the lexer class
is built, the same lists the TextMate grammar is generated from.

`tokens(source)` gives (offset, length, kind) runs for an editor that colours text
itself (the console), kinds being the Pygments token type names (`Keyword`,
`Name.Builtin`, `Comment.Single`, ...).
"""

from __future__ import annotations

__all__ = ["DelugeLexer", "tokens"]

import re

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

from .catalog import words as catalog_words

_W = catalog_words()
_TASK_WORDS = ("invokeurl", "invokeapi", "sendmail")


def _names(items: tuple[str, ...] | list[str]) -> list[str]:
    # Longest first: Pygments' `words` tries the alternatives in order.
    return sorted(set(items), key=lambda w: (-len(w), w))


class DelugeLexer(RegexLexer):
    """Zoho Deluge scripts (custom functions, buttons, schedules)."""

    name = "Deluge"
    aliases = ["deluge", "dg"]
    filenames = ["*.dg", "*.deluge"]
    mimetypes = ["text/x-deluge"]
    url = "https://www.zoho.com/deluge/"
    flags = re.IGNORECASE | re.MULTILINE

    tokens = {
        "root": [
            (r"\n", Whitespace),
            (r"^([^\S\n]*)(" + "|".join(map(re.escape, _names(_W["task_parameters"])))
             + r"|reply to)(\s*:)(?!:)", bygroups(Whitespace, Name.Attribute, Punctuation)),
            (r"[^\S\n]+", Whitespace),
            (r"//.*?$", Comment.Single),
            (r"/\*", Comment.Multiline, "comment"),
            (r'"(\\\\|\\"|[^"])*"', String.Double),
            (r"'(\\\\|\\'|[^'])*'", String.Single),
            (words(_names(_W["types"]), prefix=r"^\s*", suffix=r"\b(?=\s+[A-Za-z_][\w.]*\s*\()"),
             Keyword.Type),
            (r"(?<=[(,])(\s*)(" + "|".join(map(re.escape, _names(_W["types"]))) + r")(\s+)",
             bygroups(Whitespace, Keyword.Type, Whitespace)),
            (r"(?<=\[)(\s*)(" + "|".join(map(re.escape, _names(_W["task_parameters"])))
             + r"|reply to)(\s*:)(?!:)", bygroups(Whitespace, Name.Attribute, Punctuation)),
            (words(_names(_W["tasks"]), suffix=r"\b"), Name.Function.Magic),
            (words(_names(_W["system_values"]), suffix=r"\b"), Name.Builtin.Pseudo),
            (words(_TASK_WORDS, suffix=r"\b"), Keyword.Reserved),
            (words(_names([k for k in _W["keywords"] if k not in _TASK_WORDS]),
                   prefix=r"\b", suffix=r"\b"), Keyword),
            (words(_names(_W["constants"]), prefix=r"\b", suffix=r"\b"), Keyword.Constant),
            (r"[0-9]+\.[0-9]+", Number.Float),
            (r"[0-9]+", Number.Integer),
            (r"(\.)(\s*)(" + "|".join(map(re.escape, _names(_W["methods"]))) + r")(?=\s*\()",
             bygroups(Punctuation, Whitespace, Name.Builtin)),
            (words(_names(list(_W["functions"]) + list(_W["methods"])), prefix=r"(?<![.\w])",
                   suffix=r"(?=\s*\()"), Name.Builtin),
            (r"[A-Za-z_]\w*(?=\s*\()", Name.Function),
            (r"[A-Za-z_]\w*", Name),
            (r"&&|\|\||==|!=|<=|>=|\+=|-=|\*=|/=|%=|[-+*/%<>=!]", Operator),
            (r"[{}\[\]();,.:]", Punctuation),
            (r".", Text),
        ],
        "comment": [
            (r"[^*]+", Comment.Multiline),
            (r"\*/", Comment.Multiline, "#pop"),
            (r"\*", Comment.Multiline),
        ],
    }


def tokens(source: str) -> list[tuple[int, int, str]]:
    """(offset, length, kind) for every non-blank token of `source`, in order."""
    out = []
    for offset, kind, value in DelugeLexer().get_tokens_unprocessed(source):
        if kind in Whitespace or not value.strip():
            continue
        out.append((offset, len(value), str(kind).removeprefix("Token.")))
    return out
