"""Comparing expected and actual values the way a script author means them, and showing
the difference: strict types (NUMBER 1 is not DECIMAL 1.0, `true` is not 1), decimals
equal only with the same scale (12.50 is not 12.5), maps regardless of key order, paths
such as `data[0].id` into results and request bodies.
"""

from __future__ import annotations

__all__ = ["same", "render", "diff", "get_path", "PathMissing"]

import difflib
import json
import re
from decimal import Decimal
from typing import Any

from ..values import type_name

_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


class PathMissing(Exception):
    """A path that leads nowhere in the value; the message says where it stopped."""


def get_path(value: Any, path: str) -> Any:
    """`a.b[0].c` (or `a.b.0.c`) inside nested maps and lists."""
    current = value
    walked = ""
    for m in _PATH_PART.finditer(path):
        index, key = m.group(1), m.group(2)
        if index is None and key is not None and key.isdigit() and isinstance(current, list):
            index = key
        if index is not None:
            if not isinstance(current, list):
                raise PathMissing(f"{walked or 'the value'} is not a list")
            i = int(index)
            if i >= len(current):
                raise PathMissing(f"{walked or 'the list'} has {len(current)} element(s), "
                                  f"no [{i}]")
            current = current[i]
            walked += f"[{i}]"
        else:
            if not isinstance(current, dict):
                raise PathMissing(f"{walked or 'the value'} is not a map")
            if key not in current:
                keys = ", ".join(map(str, list(current)[:10]))
                raise PathMissing(f"{walked or 'the map'} has no key '{key}' (keys: {keys})")
            current = current[key]
            walked += ("." if walked else "") + str(key)
    return current


def same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, Decimal) or isinstance(actual, Decimal):
        return (isinstance(expected, Decimal) and isinstance(actual, Decimal)
                and format(expected, "f") == format(actual, "f"))
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and set(map(str, expected)) == set(map(str, actual))
                and all(same(v, actual.get(k)) for k, v in expected.items()))
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(same(a, b) for a, b in zip(expected, actual, strict=True)))
    if expected is None or actual is None:
        return expected is actual
    return type(expected) is type(actual) and expected == actual


def subset(expected: dict[str, Any], actual: Any) -> list[str]:
    """The keys of `expected` whose value differs in the map `actual` (missing included)."""
    if not isinstance(actual, dict):
        return list(expected)
    return [k for k, v in expected.items() if k not in actual or not same(v, actual[k])]


def render(value: Any, indent: int = 0) -> str:
    """JSON-like text of a value: decimals as written, maps and lists across lines."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = [f'{pad}  {json.dumps(str(k), ensure_ascii=False)}: {render(v, indent + 1)}'
                 for k, v in value.items()]
        return "{\n" + ",\n".join(inner) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if all(not isinstance(v, (dict, list)) for v in value) and len(value) <= 6:
            flat = "[" + ", ".join(render(v) for v in value) + "]"
            if len(flat) <= 72:
                return flat
        inner = [f"{pad}  {render(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(inner) + f"\n{pad}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def diff(expected: Any, actual: Any) -> str:
    """A readable difference: one line for scalars, a unified diff for maps and lists."""
    left, right = render(expected), render(actual)
    if "\n" not in left and "\n" not in right:
        note = ""
        if type_name(expected) != type_name(actual):
            note = f"  ({type_name(expected)} expected, {type_name(actual)} found)"
        elif isinstance(expected, Decimal) and expected == actual:
            note = "  (same value, different scale)"
        return f"expected: {left}\n  actual: {right}{note}"
    lines = difflib.unified_diff(left.splitlines(), right.splitlines(), "expected", "actual",
                                 lineterm="", n=2)
    return "\n".join(lines)
