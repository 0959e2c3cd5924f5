"""The operators of SPEC §3: arithmetic, concatenation, comparison and conditions.

Each function takes already evaluated operands and raises the vendor's message when the
operand types do not fit. The generated code calls these by fixed names (see sandbox).
"""

from __future__ import annotations

__all__ = [
    "add", "subtract", "multiply", "divide", "modulo", "negate", "less", "less_equal",
    "greater", "greater_equal", "equal", "not_equal", "condition", "logical_not",
    "operator_error", "divide_decimal",
]

from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from .errors import ScriptRuntimeError
from .values import (
    DECIMAL_CONTEXT, MAX_NUMBER, MIN_NUMBER, DateTime, check_number, deluge_equal, display,
    type_name,
)

_DIVISION_CONTEXT = Context(prec=16, rounding=ROUND_HALF_UP, Emax=100_000, Emin=-100_000)
# Concatenation results are checked against the run's text limit only past this size,
# so the common case costs one length comparison (see limits.check_text).
_TEXT_CHECK_FLOOR = 1 << 16


def operator_error(left: Any, right: Any, op: str) -> ScriptRuntimeError:
    return ScriptRuntimeError(
        f"Left expression is of type {type_name(left)} and right expression is of type "
        f"{type_name(right)} and operator {op} is not valid")


def _is_num(v: Any) -> bool:
    t = type(v)
    return t is int or t is Decimal


def _dec(v: Any) -> Decimal:
    return v if type(v) is Decimal else Decimal(v)


def _text_result(text: str) -> str:
    if len(text) > _TEXT_CHECK_FLOOR:
        from .limits import check_text
        check_text(len(text))
    return text


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        r = a + b
        if MIN_NUMBER <= r <= MAX_NUMBER:
            return r
        raise ScriptRuntimeError("Number out of range")
    if ta is str and (tb is str or tb is int):  # display() of these, without the calls
        text = a + b if tb is str else a + str(b)
        if len(text) > _TEXT_CHECK_FLOOR:
            return _text_result(text)
        return text
    if isinstance(a, str) or isinstance(b, str):
        return _text_result(display(a) + display(b))
    if _is_num(a) and _is_num(b):
        return DECIMAL_CONTEXT.add(_dec(a), _dec(b))
    raise operator_error(a, b, "+")


def subtract(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        r = a - b
        if MIN_NUMBER <= r <= MAX_NUMBER:
            return r
        raise ScriptRuntimeError("Number out of range")
    if _is_num(a) and _is_num(b):
        return DECIMAL_CONTEXT.subtract(_dec(a), _dec(b))
    raise operator_error(a, b, "-")


def multiply(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        r = a * b
        if MIN_NUMBER <= r <= MAX_NUMBER:
            return r
        raise ScriptRuntimeError("Number out of range")
    if _is_num(a) and _is_num(b):
        return DECIMAL_CONTEXT.multiply(_dec(a), _dec(b))
    raise operator_error(a, b, "*")


def divide_decimal(a: Decimal, b: Decimal) -> Decimal:
    """Decimal division of SPEC §10: 16 significant digits half-up, trailing zeros dropped to one."""
    if not b:
        raise ScriptRuntimeError("Division by zero")
    q = _DIVISION_CONTEXT.divide(a, b)
    if q == q.to_integral_value():
        return q.quantize(Decimal("0.1"), context=DECIMAL_CONTEXT)
    q = q.normalize(_DIVISION_CONTEXT)
    if q.as_tuple().exponent > 0:  # type: ignore[operator]
        q = q.quantize(Decimal("0.1"), context=DECIMAL_CONTEXT)
    return q


def divide(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if b == 0:
            raise ScriptRuntimeError("Division by zero")
        q = abs(a) // abs(b)
        if (a < 0) != (b < 0):
            q = -q
        return check_number(q)
    if _is_num(a) and _is_num(b):
        return divide_decimal(_dec(a), _dec(b))
    raise operator_error(a, b, "/")


def modulo(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if b == 0:
            raise ScriptRuntimeError("Division by zero")
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    if _is_num(a) and _is_num(b):
        if not b:
            raise ScriptRuntimeError("Division by zero")
        return DECIMAL_CONTEXT.remainder(_dec(a), _dec(b))
    raise operator_error(a, b, "%")


def negate(a: Any) -> Any:
    t = type(a)
    if t is int:
        return check_number(-a)
    if t is Decimal:
        return DECIMAL_CONTEXT.minus(a)
    raise ScriptRuntimeError(f"Expression is of type {type_name(a)} and operator - is not valid")


def member_of(value: Any, collection: Any) -> bool:
    """`value in collection`: an element of a LIST, a key of a MAP, a part of a TEXT."""
    if isinstance(collection, list):
        if len(collection) > 4096:
            from .limits import PYTHON_STEP, spend
            spend(PYTHON_STEP * len(collection))
        return any(deluge_equal(value, item) for item in collection)
    if isinstance(collection, dict):
        try:
            return value in collection
        except TypeError:
            return False
    if isinstance(collection, str):
        return display(value) in collection
    if collection is None:
        return False
    raise ScriptRuntimeError(f"Expression is of type {type_name(collection)} and operator "
                             "in is not valid")


def plus(a: Any) -> Any:
    """Unary `+`: a NUMBER or DECIMAL unchanged."""
    if type(a) is int or type(a) is Decimal:
        return a
    raise ScriptRuntimeError(f"Expression is of type {type_name(a)} and operator + is not valid")


def _comparable(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if _is_num(a) and _is_num(b):
        return True
    if isinstance(a, str) and isinstance(b, str):
        return True
    return ta is DateTime and tb is DateTime


def less(a: Any, b: Any) -> bool:
    if _comparable(a, b):
        return a < b  # type: ignore[no-any-return]
    raise operator_error(a, b, "<")


def less_equal(a: Any, b: Any) -> bool:
    if _comparable(a, b):
        return a <= b  # type: ignore[no-any-return]
    raise operator_error(a, b, "<=")


def greater(a: Any, b: Any) -> bool:
    if _comparable(a, b):
        return a > b  # type: ignore[no-any-return]
    raise operator_error(a, b, ">")


def greater_equal(a: Any, b: Any) -> bool:
    if _comparable(a, b):
        return a >= b  # type: ignore[no-any-return]
    raise operator_error(a, b, ">=")


def equal(a: Any, b: Any) -> bool:
    return deluge_equal(a, b)


def not_equal(a: Any, b: Any) -> bool:
    return not deluge_equal(a, b)


def condition(value: Any) -> bool:
    """A condition of if / && / || / ! / if(): must be BOOLEAN."""
    if value is True or value is False:
        return value
    raise ScriptRuntimeError(f"Condition must be a BOOLEAN value but found {type_name(value)}")


def logical_not(value: Any) -> bool:
    if value is True:
        return False
    if value is False:
        return True
    raise ScriptRuntimeError(f"Condition must be a BOOLEAN value but found {type_name(value)}")
