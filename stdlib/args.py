"""Argument checking shared by every built-in, so that all report wrong types the same way.

Messages name the function and the argument (1-based), e.g.
`Argument 1 of getSuffix must be TEXT but found NUMBER`.
"""

from __future__ import annotations

__all__ = [
    "wrong_type", "want_text", "want_int", "want_number", "want_bool", "want_list",
    "want_map", "want_date", "to_int_arg",
]

from decimal import Decimal
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.values import DateTime, type_name


def wrong_type(fname: str, index: int, value: Any, expected: str) -> ScriptRuntimeError:
    return ScriptRuntimeError(
        f"Argument {index} of {fname} must be {expected} but found {type_name(value)}")


def want_text(fname: str, index: int, value: Any) -> str:
    if isinstance(value, str):
        return value
    raise wrong_type(fname, index, value, "TEXT")


def want_int(fname: str, index: int, value: Any) -> int:
    """A whole NUMBER; a DECIMAL with no fraction and numeric TEXT are accepted too."""
    t = type(value)
    if t is int:
        return value  # type: ignore[no-any-return]
    if t is Decimal and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise wrong_type(fname, index, value, "NUMBER")


to_int_arg = want_int


def want_number(fname: str, index: int, value: Any) -> int | Decimal:
    """A NUMBER or DECIMAL (numeric TEXT is converted)."""
    t = type(value)
    if t is int or t is Decimal:
        return value  # type: ignore[no-any-return]
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                return Decimal(text)
            except ArithmeticError:
                pass
    raise wrong_type(fname, index, value, "NUMBER or DECIMAL")


def want_bool(fname: str, index: int, value: Any) -> bool:
    if value is True or value is False:
        return value
    raise wrong_type(fname, index, value, "BOOLEAN")


def want_list(fname: str, index: int, value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    raise wrong_type(fname, index, value, "LIST")


def want_map(fname: str, index: int, value: Any) -> dict[Any, Any]:
    if isinstance(value, dict):
        return value
    raise wrong_type(fname, index, value, "MAP")


def want_date(fname: str, index: int, value: Any) -> DateTime:
    if type(value) is DateTime:
        return value
    raise wrong_type(fname, index, value, "DATETIME")
