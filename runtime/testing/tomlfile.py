"""The TOML reading of test files: plain values with decimals' written scale, and the
source line of every key, so that a spec error or a failing expectation names
`file:line`.

Values come from `tomllib` with `parse_float=Decimal`: a TOML float is read as a DECIMAL
with the scale it was written with (`12.50` stays `12.50`, never the binary float 12.5).
Lines come from a small scanner of the same text that follows table headers
(`[case.expect]`, `[[case]]`) and the keys at the start of lines (`logs = [`,
`expect.return = 3`); a key inside an inline table or a multi-line array is reported at
the line of the key that holds it. tomlkit, which keeps comments and layout, is loaded
only by `--update`, which rewrites the file.
"""

from __future__ import annotations

__all__ = ["Located", "TomlError", "load_toml"]

import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Path = tuple[Any, ...]


class TomlError(Exception):
    """A test file that is not valid TOML, or holds a value TOML allows and we do not."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class Located:
    """A parsed test file: plain values, the line of each key path, and its text."""

    data: dict[str, Any]
    lines: dict[Path, int]
    text: str

    def line(self, path: Path) -> int:
        """The line of `path`, or of its nearest located parent."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1


_AT = re.compile(r"\s*\(at line (\d+), column \d+\)$")


def load_toml(text: str) -> Located:
    try:
        data = tomllib.loads(text, parse_float=_decimal)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _AT.search(message)
        raise TomlError(f"not valid TOML: {_AT.sub('', message)}",
                        int(m.group(1)) if m else None) from None
    except _NotANumber as exc:
        raise TomlError(f"'{exc}' is not a number a script can hold",
                        _line_of(text, str(exc))) from None
    return Located(data, _scan(text), text)


class _NotANumber(ValueError):
    pass


def _decimal(written: str) -> Decimal:
    value = Decimal(written.replace("_", ""))
    # beyond ±1000 digits a number is a typo, and writing it out in full would be huge
    if not value.is_finite() or abs(value.adjusted()) > 1000:
        raise _NotANumber(written)
    if "e" in written.lower():  # 1e3 is the DECIMAL 1000, not 1E+3
        value = Decimal(format(value, "f"))
    return value


def _line_of(text: str, token: str) -> int | None:
    at = text.find(token)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


# ---- the line scanner ---------------------------------------------------------------------
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _key_parts(text: str) -> tuple[list[str], int] | None:
    """A dotted key at the start of `text` (bare or quoted parts) and where it ends."""
    parts: list[str] = []
    i = 0
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] in "\"'":
            quote = text[i]
            end = i + 1
            while end < len(text) and text[end] != quote:
                end += 2 if text[end] == "\\" and quote == '"' else 1
            if end >= len(text):
                return None
            raw = text[i + 1:end]
            parts.append(raw.encode().decode("unicode_escape") if quote == '"' and "\\" in raw
                         else raw)
            i = end + 1
        else:
            m = _BARE.match(text, i)
            if not m:
                return None
            parts.append(m.group(0))
            i = m.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return parts, i


def _scan(text: str) -> dict[Path, int]:
    """The line of every table header and of every key that starts a line, by path (array
    of tables entries as indexes: ('case', 2, 'expect', 'logs'))."""
    lines: dict[Path, int] = {}
    counts: dict[Path, int] = {}
    table: Path = ()
    depth = 0  # open brackets/braces of a value that spans lines
    in_multiline: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline is not None:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        stripped = line.strip()
        if depth == 0 and stripped.startswith("["):
            is_array = stripped.startswith("[[")
            parsed = _key_parts(stripped[2 if is_array else 1:])
            if parsed is None:
                continue
            path = _resolve(tuple(parsed[0]), counts)
            if is_array:
                index = counts.get(path, 0)
                counts[path] = index + 1
                lines.setdefault(path, number)
                table = path + (index,)
            else:
                table = path
            lines.setdefault(table, number)
            continue
        if depth == 0 and stripped and not stripped.startswith("#"):
            parsed = _key_parts(line)
            if parsed is not None and parsed[1] < len(line) and line[parsed[1]] == "=":
                keys = parsed[0]
                for n in range(1, len(keys) + 1):
                    lines.setdefault(table + tuple(keys[:n]), number)
                line = line[parsed[1] + 1:]
        depth, in_multiline = _track(line, depth)
    return lines


def _resolve(path: Path, counts: dict[Path, int]) -> Path:
    """`[case.expect]` inside the third `[[case]]` is ('case', 2, 'expect')."""
    out: Path = ()
    for part in path[:-1]:
        out += (part,)
        if out in counts:
            out += (counts[out] - 1,)
    return out + path[-1:]


def _track(value: str, depth: int) -> tuple[int, str | None]:
    """Bracket depth after a line of value text, and an opened multi-line string."""
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "#":
            break
        if value.startswith('"""', i) or value.startswith("'''", i):
            quote = value[i:i + 3]
            end = value.find(quote, i + 3)
            if end < 0:
                return depth, quote
            i = end + 3
            continue
        if ch in "\"'":
            end = i + 1
            while end < len(value) and value[end] != ch:
                end += 2 if value[end] == "\\" and ch == '"' else 1
            i = end + 1
            continue
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    return depth, None
