"""Patterns that are plain text: the literal a pattern stands for ("\\." is "."), and
literal search and replacement, ignoring case in linear time for long texts.
"""

from __future__ import annotations

__all__ = ["find_ignore_case", "literal_regex", "literal_text", "replace_literal"]

import functools
import itertools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass
from sluicegate.limits import PYTHON_STEP, check_text, spend

from .bounds import CACHE_SIZE, CACHED_LITERAL, MAX_PATTERN, SMALL_RESULT
from .javasyntax import PatternError, Translator
from .replacement import replace_plain

_LITERALS: dict[str, str | None] = {}


def literal_text(pattern: str) -> str | None:
    """The text a pattern stands for when it has no regex meaning ("\\." is "."), else None.

    The hot path of replaceAll: a plain dictionary, emptied when it grows large.
    """
    try:
        return _LITERALS[pattern]
    except KeyError:
        pass
    if len(pattern) > MAX_PATTERN:
        return None  # compile_pattern refuses it
    try:
        literal = Translator(pattern).run().literal
    except PatternError:
        literal = None
    if len(_LITERALS) >= 8 * CACHE_SIZE:
        _LITERALS.clear()
    _LITERALS[pattern] = literal
    return literal


def literal_regex(old: str, ignore_case: bool, at_end: bool = False) -> re.Pattern[str]:
    """A stdlib pattern matching `old` literally (anchored at the end of the text when
    at_end); without a quantifier the backtracking engine stays linear. Short texts are
    compiled once per process; a long one (a script's own data) every time."""
    if len(old) > CACHED_LITERAL:
        spend(len(old))
        return _literal_regex.__wrapped__(old, ignore_case, at_end)
    return _literal_regex(old, ignore_case, at_end)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _literal_regex(old: str, ignore_case: bool, at_end: bool) -> re.Pattern[str]:
    anchor = r"\Z" if at_end else ""
    return re.compile(re.escape(old) + anchor, re.IGNORECASE if ignore_case else 0)


# Past this many character comparisons in the worst case (text length times literal
# length), a case-insensitive literal search goes to RE2: the backtracking engine tries
# the whole literal at every position, quadratic in C and beyond the run's clock.
_QUADRATIC = 1 << 22


def find_ignore_case(text: str, old: str, count: int = 0) -> list[tuple[int, int]]:
    """Character spans of the non-overlapping occurrences of `old` in `text` ignoring
    case, left to right, at most `count` (0: all). A match is as long as `old`: case
    is compared character by character."""
    if old and len(text) * len(old) > _QUADRATIC:
        return _folded_spans(text, old, count)
    found = literal_regex(old, True).finditer(text)
    return [m.span() for m in (itertools.islice(found, count) if count else found)]


def _folded_spans(text: str, old: str, count: int) -> list[tuple[int, int]]:
    """find_ignore_case in linear time: both texts folded one character to one, the way
    re.IGNORECASE compares characters, then a plain substring search."""
    spend(128 * (len(text) + len(old)))  # two translations, a dictionary read a character
    folded, needle = _fold(text), _fold(old)
    spans: list[tuple[int, int]] = []
    n = len(old)
    pos = 0
    while not count or len(spans) < count:
        spend(len(text) - pos + PYTHON_STEP)
        i = folded.find(needle, pos)
        if i < 0:
            break
        spans.append((i, i + n))
        pos = i + n
    return spans


def _fold(text: str) -> str:
    # İ is the one character whose lower case is two characters; its simple lower case,
    # the one re.IGNORECASE uses, is i. The extra cases join ſ and s, ς and σ, and so on.
    return text.translate(_DOTTED_I).lower().translate(_EXTRA_FOLD)


_DOTTED_I = {0x130: 0x69}
try:
    from re._casefix import _EXTRA_CASES
except ImportError:  # pragma: no cover - another Python's private layout
    _EXTRA_CASES = {}
_EXTRA_FOLD = {k: min(k, *v) for k, v in _EXTRA_CASES.items()}


def replace_literal(text: str, old: str, new: str, ignore_case: bool = False,
                    count: int = 0) -> str:
    """Replace `old` by `new`, both taken literally (count 0: all occurrences)."""
    if not ignore_case:
        return replace_plain(text, old, new, count)
    if not old:  # an empty literal matches at every position
        n = len(text)
        if n + (n + 1) * len(new) > SMALL_RESULT:
            check_text(n + (min(count, n + 1) if count else n + 1) * len(new))
        return literal_regex(old, True).sub(lambda _m: new, text, count)
    spans = find_ignore_case(text, old, count)
    n = len(text)
    if n + len(spans) * len(new) > SMALL_RESULT:
        check_text(n + len(spans) * (len(new) - len(old)))
    out: list[str] = []
    last = 0
    for start, stop in spans:
        out.append(text[last:start])
        out.append(new)
        last = stop
    out.append(text[last:])
    return "".join(out)
