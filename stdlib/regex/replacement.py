"""Replacement texts in Java's syntax ($1, ${name}, a backslash quotes the next character),
and building a replaced text with its size checked against the run's text limit before
(or while) the result is built.
"""

from __future__ import annotations

__all__ = ["Expander", "Replacement", "parse_replacement", "replace_plain", "splice"]

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass
from sluicegate.limits import check_text, current

from .bounds import CACHE_SIZE, SMALL_RESULT


@dataclass(frozen=True)
class Replacement:
    parts: tuple[str | int, ...]   # literal text or a group number
    error: str | None
    literal: str | None            # the whole text when it has no group reference
    py_template: str               # for re / regex .sub
    refs: int
    literal_len: int


@functools.lru_cache(maxsize=CACHE_SIZE)
def parse_replacement(template: str, groups: int,
                       names: tuple[tuple[str, int], ...]) -> Replacement:
    parts: list[str | int] = []
    buf: list[str] = []
    error: str | None = None
    i = 0
    n = len(template)
    while i < n and error is None:
        c = template[i]
        if c == "\\":
            if i + 1 >= n:
                error = "character to be escaped is missing"
                break
            buf.append(template[i + 1])
            i += 2
        elif c == "$":
            i += 1
            if i >= n:
                error = "Illegal group reference: group index is missing"
            elif template[i] == "{":
                end = template.find("}", i)
                if end < 0:
                    error = "named capturing group is missing trailing '}'"
                    break
                name = template[i + 1:end]
                number = dict(names).get(name)
                if number is None:
                    error = f"No group with name {{{name}}}"
                    break
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(number)
                i = end + 1
            elif "0" <= template[i] <= "9":
                number = int(template[i])
                i += 1
                while i < n and "0" <= template[i] <= "9" and number * 10 + int(template[i]) <= groups:
                    number = number * 10 + int(template[i])
                    i += 1
                if number > groups:
                    error = f"No group {number}"
                    break
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(number)
            else:
                error = "Illegal group reference"
        else:
            buf.append(c)
            i += 1
    if buf:
        parts.append("".join(buf))
    if error is not None:
        return Replacement((), error, None, "", 0, 0)
    refs = sum(1 for part in parts if isinstance(part, int))
    literal = "".join(part for part in parts if isinstance(part, str))
    template_py = "".join(
        part.replace("\\", "\\\\") if isinstance(part, str) else f"\\g<{part}>"
        for part in parts)
    return Replacement(tuple(parts), None, literal if refs == 0 else None, template_py,
                        refs, len(literal))


def splice(text: str, matches: list[re.Match[str]], rep: Replacement, small: bool) -> str:
    """The text with each match replaced by the expanded replacement."""
    if not matches:
        return text
    out: list[str] = []
    last = 0
    size = 0
    limit = 0 if small else current().limits.max_text
    for m in matches:
        start, stop = m.span()
        out.append(text[last:start])
        piece = "".join(p if isinstance(p, str) else (m.group(p) or "") for p in rep.parts)
        out.append(piece)
        if limit:
            size += start - last + len(piece)
            if size > limit:
                check_text(size)
        last = stop
    if limit:
        check_text(size + len(text) - last)
    out.append(text[last:])
    return "".join(out)


class Expander:
    """A re/regex replacement callback that expands Java parts and watches the size."""

    __slots__ = ("limit", "parts", "size")

    def __init__(self, rep: Replacement, text_length: int) -> None:
        self.parts = rep.parts
        self.size = text_length         # the result's length so far, if nothing else matched
        self.limit = current().limits.max_text

    def __call__(self, m: re.Match[str]) -> str:
        piece = "".join(p if isinstance(p, str) else (m.group(p) or "") for p in self.parts)
        self.size += len(piece) - (m.end() - m.start())
        if self.size > self.limit:
            check_text(self.size)
        return piece


def replace_plain(text: str, old: str, new: str, count: int) -> str:
    """str.replace with the size check done before the result is built."""
    if len(new) > len(old):
        n = len(text)
        bound = n + (n + 1) * len(new)
        if bound > SMALL_RESULT:
            found = text.count(old) if old else n + 1
            if count:
                found = min(found, count)
            check_text(n + found * (len(new) - len(old)))
    return text.replace(old, new, count) if count else text.replace(old, new)
