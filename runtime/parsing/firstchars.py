"""The characters a match of a regular expression may start with, read off `re`'s own
parse of it: what lets the exported lexers (parsertables) try, at a character, only the
terminals that may start there, and take the blanks after a token along with it.

Only ASCII characters are told apart; where the first character is not plain from the
expression's first item (any character, a possibly empty match, a lookaround, a
case-insensitive character outside ASCII that may fold into it...) the answer is None:
any character. Needs `re`'s private parser: used when the tables are exported only.
"""

from __future__ import annotations

__all__ = ["first_chars"]

import re
from re import _parser  # type: ignore[attr-defined]
from typing import Any

_ASCII = 0x7F
_IGNORECASE = int(re.IGNORECASE)
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
# The ASCII members of the character categories (`re` reads str categories as Unicode)
_CATEGORIES = {
    "CATEGORY_DIGIT": frozenset(range(0x30, 0x3A)),
    "CATEGORY_WORD": frozenset(c for c in range(_ASCII + 1)
                               if chr(c).isalnum() or chr(c) == "_"),
    "CATEGORY_SPACE": frozenset(c for c in range(_ASCII + 1) if chr(c).isspace()),
}


def first_chars(pattern: str, flags: int = 0) -> frozenset[int] | None:
    """The codes of the ASCII characters a match of `pattern` may start with (codes past
    ASCII in the set say nothing), or None for any character."""
    parsed = _parser.parse(pattern, flags)
    return _first(list(parsed), flags | parsed.state.flags)


def _first(items: list[Any], flags: int) -> frozenset[int] | None:
    if not items:
        return None
    op, arg = items[0]
    kind = str(op)
    if kind == "SUBPATTERN":
        _group, add, remove, inner = arg
        return _first(list(inner), (flags | add) & ~remove)
    if kind == "BRANCH":
        found: set[int] = set()
        for branch in arg[1]:
            codes = _first(list(branch), flags)
            if codes is None:
                return None
            found |= codes
        return frozenset(found)
    if kind in _REPEATS:
        low, _high, inner = arg
        return None if low == 0 else _first(list(inner), flags)
    if kind == "LITERAL":
        codes: set[int] | None = {arg}
    elif kind == "IN":
        codes = _in_class(arg)
    else:
        return None
    if codes is None:
        return None
    if flags & _IGNORECASE:
        if any(code > _ASCII for code in codes):
            return None  # K (Kelvin) or long s fold into ASCII letters
        codes |= {ord(chr(code).swapcase()) for code in codes}
    return frozenset(codes)


def _in_class(items: list[Any]) -> set[int] | None:
    """The codes of a character class (`[...]`), its ranges cut at ASCII (one code past
    it kept to say there were more); None for a negated class or an unknown item."""
    codes: set[int] = set()
    for op, value in items:
        kind = str(op)
        if kind == "LITERAL":
            codes.add(value)
        elif kind == "RANGE":
            low, high = value
            codes.update(range(low, min(high, _ASCII) + 1))
            if high > _ASCII:
                codes.add(max(low, _ASCII + 1))
        elif kind == "CATEGORY" and str(value) in _CATEGORIES:
            codes |= _CATEGORIES[str(value)]
        else:
            return None
    return codes
