"""The TOML reading of test files: plain values with decimals' written scale, and the
source line of every key, so that a spec error names `file:line`.

tomlkit keeps the source text of each item (it is a style-preserving parser, which
`--update` needs anyway), so a TOML float is read as a DECIMAL with the scale it was
written with: `12.50` stays `12.50`, never the binary float 12.5.

Lines are found by walking the parsed tree in source order with a cursor over the text:
each key is the next occurrence of its written form after the previous item.
"""

from __future__ import annotations

__all__ = ["Located", "TomlError", "load_toml"]

import datetime as _dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import tomlkit
from tomlkit import items as _items
from tomlkit.container import Container, OutOfOrderTableProxy
from tomlkit.exceptions import ParseError

Path = tuple[Any, ...]


class TomlError(Exception):
    """A test file that is not valid TOML, or holds a value TOML allows and we do not."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class Located:
    """A parsed test file: plain values, the line of each key path, and the tomlkit
    document (kept for `--update`)."""

    data: dict[str, Any]
    lines: dict[Path, int]
    document: Any
    text: str

    def line(self, path: Path) -> int:
        """The line of `path`, or of its nearest located parent."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1


def load_toml(text: str) -> Located:
    try:
        document = tomlkit.parse(text)
    except ParseError as exc:
        message = str(exc).split(" at line ")[0]
        raise TomlError(f"not valid TOML: {message}", exc.line) from None
    lines: dict[Path, int] = {}
    _Locator(text, lines).container(document.body, (), 0)
    return Located(_plain(document, (), lines), lines, document, text)


# ---- plain values -------------------------------------------------------------------------
def _plain(item: Any, path: Path, lines: dict[Path, int]) -> Any:
    if isinstance(item, OutOfOrderTableProxy):
        item = {k: item[k] for k in item}
    if isinstance(item, (Container, _items.Table, _items.InlineTable, dict)):
        return {str(k): _plain(v, path + (str(k),), lines) for k, v in item.items()}
    if isinstance(item, (_items.AoT, _items.Array, list)):
        return [_plain(v, path + (i,), lines) for i, v in enumerate(item)]
    if isinstance(item, _items.Bool) or isinstance(item, bool):
        return bool(item)
    if isinstance(item, _items.Float):
        written = item.as_string().replace("_", "")
        try:
            value = Decimal(written)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise TomlError(f"'{written}' is not a number a script can hold",
                            _nearest(lines, path))
        if "e" in written.lower():
            value = Decimal(format(value, "f"))
        return value
    if isinstance(item, _items.Integer) or (isinstance(item, int) and not isinstance(item, bool)):
        return int(item)
    if isinstance(item, _items.String) or isinstance(item, str):
        return str(item)
    if isinstance(item, _dt.datetime):  # only the clock accepts dates (the schema says so)
        return _dt.datetime(item.year, item.month, item.day, item.hour, item.minute,
                            item.second, item.microsecond, item.tzinfo)
    if isinstance(item, _dt.date):
        return _dt.date(item.year, item.month, item.day)
    if isinstance(item, _dt.time):
        return _dt.time(item.hour, item.minute, item.second, item.microsecond)
    return item


def _nearest(lines: dict[Path, int], path: Path) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


# ---- lines --------------------------------------------------------------------------------
class _Locator:
    def __init__(self, text: str, lines: dict[Path, int]) -> None:
        self.text = text
        self.lines = lines
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def _line_of(self, offset: int) -> int:
        lo, hi = 0, len(self.newlines)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.newlines[mid] < offset:
                lo = mid + 1
            else:
                hi = mid
        return lo + 1

    def _find_key(self, written: str, cursor: int, header: bool) -> int | None:
        follow = r"\s*(?:\]|\.)" if header else r"\s*(?:=|\.)"
        pattern = re.compile(r"(?<![\w\"'-])" + re.escape(written) + follow)
        m = pattern.search(self.text, cursor)
        if m is None and header:
            m = re.compile(r"(?<![\w\"'-])" + re.escape(written) + r"\s*(?:=|\.|\])"
                           ).search(self.text, cursor)
        return m.start() if m else None

    def container(self, body: list[tuple[Any, Any]], path: Path, cursor: int) -> int:
        for key, item in body:
            if key is None:
                continue
            cursor = self.item(key, item, path, cursor)
        return cursor

    def item(self, key: Any, item: Any, path: Path, cursor: int) -> int:
        name = key.key
        written = key.as_string().strip()
        here = path + (name,)
        if isinstance(item, _items.AoT):
            for i, table in enumerate(item.body):
                found = self._find_key(written, cursor, header=True)
                if found is None:
                    continue
                self.lines.setdefault(here, self._line_of(found))
                self.lines[here + (i,)] = self._line_of(found)
                cursor = self.container(table.value.body, here + (i,), found + len(written))
            return cursor
        found = self._find_key(written, cursor, header=isinstance(item, _items.Table))
        if found is None:
            return cursor
        self.lines[here] = self._line_of(found)
        cursor = found + len(written)
        if isinstance(item, (_items.Table, _items.InlineTable)):
            return self.container(item.value.body, here, cursor)
        if isinstance(item, _items.Array):
            return self.array(item, here, cursor)
        return self._past(item, cursor)

    def array(self, array: Any, path: Path, cursor: int) -> int:
        for i, element in enumerate(array):
            start = self.text.find(element.as_string().strip() or "\0", cursor)
            if start < 0:
                continue
            self.lines[path + (i,)] = self._line_of(start)
            if isinstance(element, _items.InlineTable):
                cursor = self.container(element.value.body, path + (i,), start + 1)
            else:
                cursor = start + len(element.as_string().strip())
        return cursor

    def _past(self, item: Any, cursor: int) -> int:
        written = item.as_string()
        at = self.text.find(written, cursor) if written else -1
        return at + len(written) if at >= 0 else cursor
