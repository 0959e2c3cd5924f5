"""A compiled pattern (`Pattern`) and the engine each call runs it on: str methods for a
literal, stdlib `re` when its backtracking is bounded small for this text, RE2 (linear)
for everything it expresses, and the `regex` package, under a per-call clock, for the
rest. Matches are found as Java's Matcher.find finds them.
"""

from __future__ import annotations

__all__ = ["Pattern"]

import itertools
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Self

import re2

if TYPE_CHECKING:
    import regex
from re2 import _re2  # the compiled RE2 object; the re2 wrapper's Python loop is slow
from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import PYTHON_STEP, check_text, current, spend, time_exceeded

from . import bounds
from .bounds import MAX_PATTERN, RE_BUDGET, SMALL_RESULT, invalid, shown, too_long
from .javasyntax import PatternError, Translator
from .replacement import Expander, Replacement, parse_replacement, replace_plain, splice

_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
_ANCHOR_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH
# what the regex package appends to its messages: a position in the translated text
_POSITION = re.compile(r"\s+at position \d+$")


class Pattern:
    """A script's pattern, translated and compiled for the engines that can run it.

    Use `replace`, `fullmatch`, `search` and `find_all`; each call picks the engine for
    the text at hand (see the package docstring).
    """

    __slots__ = (
        "_py",
        "_re2",
        "_rx",
        "_rx_failed",
        "_t",
        "groups",
        "ignore_case",
        "literal",
        "names",
        "source",
    )

    def __init__(self, source: str, ignore_case: bool) -> None:
        self.source = source
        self.ignore_case = ignore_case
        if len(source) > MAX_PATTERN:
            raise invalid(source, f"longer than {MAX_PATTERN} characters")
        spend(PYTHON_STEP * len(source))  # the translator reads it in Python, then 2 compiles
        try:
            t = Translator(source).run()
        except PatternError as exc:
            raise invalid(source, str(exc)) from None
        self._t = t
        self.literal = t.literal if not ignore_case else None
        self.groups = t.groups
        self.names = t.names
        self._py: re.Pattern[str] | None = None
        self._re2: _re2.RE2 | None = None
        self._rx: regex.Pattern[str] | None = None
        self._rx_failed: str | None = None
        if t.re2 is not None:
            options = re2.Options()
            options.log_errors = False
            options.case_sensitive = not ignore_case
            compiled = _re2.RE2(t.re2.encode("utf-8", "surrogatepass"), options)
            if compiled.ok():
                self._re2 = compiled
        if t.py is not None and not t.nested:
            try:
                self._py = re.compile(t.py, re.IGNORECASE if ignore_case else 0)
            except (re.error, RecursionError):
                self._py = None
        if self._re2 is None:
            self._compile_rx()
            if self._rx is None:
                raise invalid(source, self._rx_failed or "not a valid pattern")

    def _compile_rx(self) -> regex.Pattern[str] | None:
        if self._rx is None and self._rx_failed is None:
            import regex  # the backtracking engine, imported when first needed (cold start)

            flags = regex.V1 | (regex.IGNORECASE if self.ignore_case else 0)
            try:
                self._rx = regex.compile("(?-f)" + self._t.rx, flags)
            except regex.error as exc:
                # Positions would point into the translated text, not the script's.
                self._rx_failed = _POSITION.sub("", str(exc))
            except RecursionError:
                self._rx_failed = "the pattern is nested too deeply"
        return self._rx

    def _use_py(self, n: int) -> bool:
        """True when stdlib re provably finishes quickly on a text of length n."""
        if self._py is None:
            return False
        if not self._t.repeats and self._t.branch_factor <= 64:
            return True     # constant work per position: linear, and C beats our loops
        cost = (n + 1) * self._t.branch_factor
        for lo, hi in self._t.repeats:
            top = n if hi is None or hi > n else hi
            cost *= max(top - lo, 0) + 1
            if cost > RE_BUDGET:
                return False
        return cost <= RE_BUDGET

    def _rx_or_raise(self) -> regex.Pattern[str]:
        rx = self._compile_rx()
        if rx is None:
            raise invalid(self.source, self._rx_failed or "not a valid pattern")
        return rx

    # -- matching ---------------------------------------------------------------
    def fullmatch(self, text: str) -> bool:
        """Whether the whole text matches (Java String.matches)."""
        if self.literal is not None:
            return text == self.literal
        if len(text) > SMALL_RESULT:
            spend(len(text))  # one pass over the text, whichever engine
        if self._use_py(len(text)):
            return self._py.fullmatch(text) is not None  # type: ignore[union-attr]
        data = self._encoded(text)
        if data is not None:
            spans = self._re2.Match(_ANCHOR_BOTH, data, 0, len(data))  # type: ignore[union-attr]
            return spans[0][0] >= 0
        with _Clock(self.source) as clock:
            return self._rx_or_raise().fullmatch(text, timeout=clock.left()) is not None

    def search(self, text: str) -> bool:
        """Whether the pattern matches somewhere in the text (Java Matcher.find)."""
        if self.literal is not None:
            return self.literal in text
        if len(text) > SMALL_RESULT:
            spend(len(text))
        if self._use_py(len(text)):
            return self._py.search(text) is not None  # type: ignore[union-attr]
        data = self._encoded(text)
        if data is not None:
            spans = self._re2.Match(_UNANCHORED, data, 0, len(data))  # type: ignore[union-attr]
            return spans[0][0] >= 0
        with _Clock(self.source) as clock:
            return self._rx_or_raise().search(text, timeout=clock.left()) is not None

    def find_all(self, text: str) -> list[str]:
        """The text of every match, left to right (Java: while (m.find()) m.group())."""
        if self.literal is not None:
            if not self.literal:
                return [""] * (len(text) + 1)
            return [self.literal] * text.count(self.literal)
        if self._use_py(len(text)):
            return [m.group() for m in self._find_py(text, 0)]
        data = self._encoded(text)
        if data is not None:
            return [data[s[0][0]:s[0][1]].decode("utf-8") for s in self._re2_spans(data, 0)]
        return [m.group() for m in self._find_rx(text, 0)]

    def replace(self, text: str, replacement: str, count: int = 0) -> str:
        """Java replaceAll (count 0) / replaceFirst (count 1) with a Java replacement text."""
        rep = parse_replacement(replacement, self.groups, self.names)
        if rep.error is not None:
            if self.search(text):
                raise ScriptRuntimeError(
                    f"Invalid replacement text '{shown(replacement)}': {rep.error}")
            return text
        if self.literal is not None and rep.literal is not None:
            return replace_plain(text, self.literal, rep.literal, count)
        n = len(text)
        small = n + (n + 1) * (rep.literal_len + rep.refs * n) <= SMALL_RESULT
        if self._use_py(n):
            py = self._py
            assert py is not None
            if self._t.can_be_empty:
                return splice(text, self._find_py(text, count), rep, small)
            if small:
                return py.sub(rep.py_template, text, count)
            return py.sub(Expander(rep, n), text, count)
        data = self._encoded(text)
        if data is not None:
            return self._re2_replace(data, text, rep, count, small)
        if self._t.can_be_empty:
            return splice(text, self._find_rx(text, count), rep, small)
        with _Clock(self.source) as clock:
            rx = self._rx_or_raise()
            if small:
                return rx.sub(rep.py_template, text, count, timeout=clock.left())
            return rx.sub(Expander(rep, n), text, count, timeout=clock.left())

    # -- Java's find loop for the backtracking engines ------------------------------
    # Python's finditer/sub may try a non-empty match where an empty one just ended;
    # Java moves one character on. Patterns that can never match "" use the C loop.
    def _find_py(self, text: str, limit: int) -> list[re.Match[str]]:
        py = self._py
        assert py is not None
        if not self._t.can_be_empty:
            found = py.finditer(text)
            return list(itertools.islice(found, limit)) if limit else list(found)
        return _java_find(py.search, text, limit)

    def _find_rx(self, text: str, limit: int) -> list[re.Match[str]]:
        rx = self._rx_or_raise()
        with _Clock(self.source) as clock:
            if not self._t.can_be_empty:
                found = rx.finditer(text, timeout=clock.left())
                return list(itertools.islice(found, limit)) if limit else list(found)
            return _java_find(lambda t, pos: rx.search(t, pos, timeout=clock.left()),
                              text, limit)

    # -- RE2 ----------------------------------------------------------------------
    def _encoded(self, text: str) -> bytes | None:
        if self._re2 is None:
            return None
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:      # a lone surrogate: RE2 reads only valid UTF-8
            return None

    def _re2_spans(self, data: bytes, limit: int) -> list[list[tuple[int, int]]]:
        """Spans of successive matches (Java's find loop), at most `limit` (0: all)."""
        match = self._re2.Match  # type: ignore[union-attr]
        end = len(data)
        pos = 0
        found = []
        while pos <= end:
            # One search may read to the end of the text (`a(.*z)?` does, at every "a"):
            # linear per search, quadratic over a find loop, so each is charged as such.
            spend(end - pos + PYTHON_STEP)
            spans = match(_UNANCHORED, data, pos, end)
            start, stop = spans[0]
            if start < 0:
                break
            found.append(spans)
            if limit and len(found) >= limit:
                break
            if stop == start:               # empty match: step over one character
                if stop >= end:
                    break
                lead = data[stop]
                pos = stop + (1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4)
            else:
                pos = stop
        return found

    def _re2_replace(self, data: bytes, text: str, rep: Replacement, count: int,
                     small: bool) -> str:
        matches = self._re2_spans(data, count)
        if not matches:
            return text
        parts = [p.encode("utf-8", "surrogatepass") if isinstance(p, str) else p
                 for p in rep.parts]
        out: list[bytes] = []
        last = 0
        size = 0
        limit = 0 if small else current().limits.max_text
        for spans in matches:
            start, stop = spans[0]
            out.append(data[last:start])
            mark = len(out)
            for part in parts:
                if isinstance(part, int):
                    s, e = spans[part]
                    if s >= 0:
                        out.append(data[s:e])
                else:
                    out.append(part)
            if limit:
                # UTF-8 bytes: at least a quarter as many characters
                size += start - last + sum(map(len, out[mark:]))
                if size > 4 * limit:
                    check_text(size // 4)
            last = stop
        out.append(data[last:])
        result = b"".join(out).decode("utf-8")
        if limit and len(result) > limit:
            check_text(len(result))
        return result


class _Clock:
    """The time budget of one call into the `regex` package, shared by its searches."""

    __slots__ = ("deadline", "run_ends", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.deadline = 0.0
        self.run_ends = False

    def __enter__(self) -> Self:
        self.deadline = time.monotonic() + bounds.REGEX_TIMEOUT
        run_deadline = current().deadline
        self.run_ends = bool(run_deadline) and run_deadline < self.deadline
        if self.run_ends:
            self.deadline = run_deadline
        return self

    def left(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self._expired()
        return remaining

    def _expired(self) -> BaseException:
        # the run's own deadline came first: the run is over, not just this pattern
        return time_exceeded(current()) if self.run_ends else too_long(self.source)

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if isinstance(exc, TimeoutError):
            raise self._expired() from None


def _java_find(search: Callable[[str, int], re.Match[str] | None], text: str,
               limit: int) -> list[re.Match[str]]:
    """Successive matches as Java's Matcher.find gives them (after an empty match the
    next search starts one character later)."""
    found: list[re.Match[str]] = []
    pos = 0
    n = len(text)
    while pos <= n:
        spend(n - pos + PYTHON_STEP)
        m = search(text, pos)
        if m is None:
            break
        found.append(m)
        if limit and len(found) >= limit:
            break
        start, stop = m.span()
        pos = stop + 1 if stop == start else stop
    return found


