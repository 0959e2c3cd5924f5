"""NUMBER and DECIMAL methods: rounding, powers and logarithms, conversions and random numbers.

Result types follow SPEC §10 ("Numbers", "More numbers"): `round(n)` gives a DECIMAL
with scale n and `round(0)`, `ceil`, `floor` give a NUMBER; `sqrt`, `exp`, `log` and
`power` with a negative or fractional exponent give a DECIMAL computed to 16 significant
digits (the same rounding as decimal division); NUMBER results are range-checked to 64
bits. The conversions `toDecimal`, `toLong`/`toNumber` also answer for TEXT.
"""

from __future__ import annotations

__all__ = ["FUNCTIONS", "METHODS", "approximate"]

import math
import re
import secrets
from decimal import (
    ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow,
)
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import current
from sluicegate.values import (
    DECIMAL_CONTEXT, MAX_NUMBER, MIN_NUMBER, DateTime, check_number, display,
)

from .args import want_int, want_number
from .builtin import Builtin, function, method

_NUM = ("NUMBER", "DECIMAL")
_CONVERTIBLE = ("NUMBER", "DECIMAL", "TEXT")

# Inexact results (sqrt, exp, log, fractional powers) are computed to 16 significant
# digits, half-up, like decimal division (SPEC §10 "Decimals").
_APPROX = Context(prec=16, rounding=ROUND_HALF_UP, Emax=100_000, Emin=-100_000,
                  traps=[InvalidOperation, Overflow, DivisionByZero])
# A working precision a little above 16 digits, so the final rounding is the only one.
_WORK = Context(prec=34, rounding=ROUND_HALF_UP, Emax=100_000, Emin=-100_000,
                traps=[InvalidOperation, Overflow, DivisionByZero])
_ONE_PLACE = Decimal("0.1")
# round/truncate places beyond this would only build huge digit strings.
_MAX_PLACES = 100
# An exact DECIMAL power is computed when its digits stay below this; else 16 digits.
_MAX_EXACT_DIGITS = 200
_DECIMAL_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")


def approximate(value: Decimal) -> Decimal:
    """An inexact result as SPEC §10 shows it: 16 significant digits half-up, then trailing
    zeros dropped down to one digit after the point (`4.0`, `1.414213562373095`)."""
    q = _APPROX.plus(value)
    if q == q.to_integral_value():
        return q.quantize(_ONE_PLACE, context=DECIMAL_CONTEXT)
    q = q.normalize(_APPROX)
    if q.as_tuple().exponent > 0:  # type: ignore[operator]
        q = q.quantize(_ONE_PLACE, context=DECIMAL_CONTEXT)
    return q


def _to_int(fname: str, value: Decimal) -> int:
    """A whole Decimal as a range-checked NUMBER."""
    if not MIN_NUMBER <= value <= MAX_NUMBER:
        raise ScriptRuntimeError("Number out of range")
    return int(value)


def _places(fname: str, value: Any) -> int:
    n = want_int(fname, 1, value)
    if not -_MAX_PLACES <= n <= _MAX_PLACES:
        raise ScriptRuntimeError(
            f"{fname}: places must be between -{_MAX_PLACES} and {_MAX_PLACES} but was {n}")
    return n


def _dec(value: int | Decimal) -> Decimal:
    return value if type(value) is Decimal else Decimal(value)


# ---------------------------------------------------------------------------------------
# Rounding


def _abs(n: int | Decimal) -> int | Decimal:
    """`abs()`: the absolute value, same type (DECIMAL keeps its scale).

    Zoho Deluge docs: Number functions > abs.
    """
    if type(n) is int:
        return check_number(-n) if n < 0 else n
    return n.copy_abs()  # type: ignore[union-attr]


def _ceil(n: int | Decimal) -> int:
    """`ceil()`: the least whole number not below n, as a NUMBER (SPEC §10).

    Zoho Deluge docs: Number functions > ceil.
    """
    if type(n) is int:
        return n
    return _to_int("ceil", n.to_integral_value(rounding=ROUND_CEILING))  # type: ignore[union-attr]


def _floor(n: int | Decimal) -> int:
    """`floor()`: the greatest whole number not above n, as a NUMBER (SPEC §10).

    Zoho Deluge docs: Number functions > floor.
    """
    if type(n) is int:
        return n
    return _to_int("floor", n.to_integral_value(rounding=ROUND_FLOOR))  # type: ignore[union-attr]


def _round_to(fname: str, n: int | Decimal, places: Any, mode: str) -> int | Decimal:
    p = _places(fname, places)
    d = _dec(n)
    if p > 0:
        try:
            return d.quantize(Decimal(1).scaleb(-p), rounding=mode, context=DECIMAL_CONTEXT)
        except InvalidOperation:
            raise ScriptRuntimeError("Number out of range") from None
    whole = d.scaleb(p).to_integral_value(rounding=mode).scaleb(-p)
    return _to_int(fname, whole)


def _round(n: int | Decimal, places: Any = 0) -> int | Decimal:
    """`round(n)`: round half-up (away from zero on ties) to n decimal places.

    SPEC §10: a DECIMAL with scale n; `round(0)` (the default) gives a NUMBER; a negative
    n rounds left of the point and gives a NUMBER. Zoho Deluge docs: Number functions >
    round (`218.49.round(1)` is 218.5, `214.2.round(-1)` is 210, `-218.4.round(0)` is -218).
    """
    return _round_to("round", n, places, ROUND_HALF_UP)


def _truncate(n: int | Decimal, places: Any = 0) -> int | Decimal:
    """`truncate(n)`: like round(n) but cutting digits toward zero (SPEC §10).

    Zoho Deluge docs: Number functions > truncate (`25.125432.truncate(2)` is 25.12,
    `9789.852.truncate(0)` is 9789, `9789.852.truncate(-2)` is 9700).
    """
    return _round_to("truncate", n, places, ROUND_DOWN)


def _frac(n: int | Decimal) -> Decimal | int:
    """`frac()`: the fractional part, with the sign of n (`24.6` gives 0.6, `-24.6` gives -0.6).

    Zoho Deluge docs: Number functions > frac. A NUMBER gives 0 [chosen].
    """
    if type(n) is int:
        return 0
    d: Decimal = n  # type: ignore[assignment]
    return DECIMAL_CONTEXT.subtract(d, d.to_integral_value(rounding=ROUND_DOWN))


# ---------------------------------------------------------------------------------------
# Powers, roots, logarithms


def _sqrt(n: int | Decimal) -> Decimal:
    """`sqrt()`: the square root as a DECIMAL (SPEC §10); a negative number raises.

    Zoho Deluge docs: Number functions > sqrt.
    """
    if n < 0:
        raise ScriptRuntimeError(f"sqrt: cannot take the square root of {display(n)}")
    return approximate(_WORK.sqrt(_dec(n)))


def _exp(n: int | Decimal) -> Decimal:
    """`exp()`: e raised to n, as a DECIMAL (SPEC §10). Zoho Deluge docs: Number > exp."""
    try:
        return approximate(_WORK.exp(_dec(n)))
    except (Overflow, InvalidOperation):
        raise ScriptRuntimeError("Number out of range") from None


def _log_of(fname: str, n: int | Decimal, ten: bool) -> Decimal:
    if n <= 0:
        raise ScriptRuntimeError(f"{fname}: the logarithm of {display(n)} is undefined")
    d = _dec(n)
    return approximate(_WORK.log10(d) if ten else _WORK.ln(d))


def _log(n: int | Decimal) -> Decimal:
    """`log()`: the natural logarithm as a DECIMAL (SPEC §10); n <= 0 raises.

    Zoho Deluge docs: Number functions > log (base e; `log10` is the base-10 form).
    """
    return _log_of("log", n, False)


def _log10(n: int | Decimal) -> Decimal:
    """`log10()`: the base-10 logarithm as a DECIMAL; n <= 0 raises.

    Zoho Deluge docs: Number functions > log10.
    """
    return _log_of("log10", n, True)


def _int_power(base: int, exponent: int) -> int:
    """A NUMBER to a whole non-negative power, refusing huge results before computing them."""
    if base in (0, 1) or exponent == 0:
        return 1 if exponent == 0 else base
    if base == -1:
        return 1 if exponent % 2 == 0 else -1
    # |base| >= 2, so anything past 63 bits is out of range whatever the exponent.
    if exponent > 63 or exponent * (abs(base).bit_length() - 1) > 63:
        raise ScriptRuntimeError("Number out of range")
    return check_number(base ** exponent)


def _decimal_power(base: Decimal, exponent: int) -> Decimal:
    """An exact DECIMAL power (scale grows like Java BigDecimal.pow) when it stays small."""
    digits = len(base.as_tuple().digits)
    if abs(exponent) * digits <= _MAX_EXACT_DIGITS and exponent >= 0:
        result = DECIMAL_CONTEXT.power(base, exponent)
        if result.as_tuple().exponent >= 0:  # type: ignore[operator]
            result = result.quantize(_ONE_PLACE, context=DECIMAL_CONTEXT)
        return result
    return approximate(_WORK.power(base, exponent))


def _power(n: int | Decimal, exponent: Any) -> int | Decimal:
    """`power(e)`: n raised to e.

    SPEC §10: NUMBERs with a whole non-negative exponent give a NUMBER (range-checked
    before computing, so `2.power(100000000)` fails at once with `Number out of range`);
    a negative or fractional exponent, or a DECIMAL base, gives a DECIMAL. Zoho Deluge
    docs: Number functions > power.
    """
    e = want_number("power", 1, exponent)
    try:
        if isinstance(e, int):
            if isinstance(n, int) and e >= 0:
                return _int_power(n, e)
            if n == 0 and e < 0:
                raise ScriptRuntimeError("Division by zero")
            return _decimal_power(_dec(n), e)
        base = _dec(n)
        if base == 0 and e < 0:
            raise ScriptRuntimeError("Division by zero")
        if base < 0 and e != e.to_integral_value():
            raise ScriptRuntimeError(
                f"power: {display(n)} cannot be raised to the fractional power {display(e)}")
        if e == e.to_integral_value() and abs(e) <= MAX_NUMBER:
            return _decimal_power(base, int(e))
        return approximate(_WORK.power(base, e))
    except (Overflow, InvalidOperation):
        raise ScriptRuntimeError("Number out of range") from None


def _trig(name: str, fn: Any) -> Any:
    def apply(n: int | Decimal, *rest: Any) -> Decimal:
        args = [float(n)] + [float(want_number(name, i + 1, v)) for i, v in enumerate(rest)]
        try:
            result = fn(*args)
        except (ValueError, OverflowError):
            raise ScriptRuntimeError(
                f"{name}: {', '.join(display(a) for a in (n, *rest))} is outside the "
                f"function's domain") from None
        return approximate(Decimal(repr(result)))

    apply.__name__ = f"_{name}"
    apply.__doc__ = (f"`{name}()`: the {name} of n (radians), as a DECIMAL of 16 digits.\n\n"
                     f"Zoho Deluge docs: Number functions > {name} (computed in binary floating "
                     f"point, like the vendor's Java runtime).")
    return apply


# ---------------------------------------------------------------------------------------
# Comparisons and predicates


def _min(n: int | Decimal, *others: Any) -> int | Decimal:
    """`min(b, ...)`: the least of the receiver and the arguments, each keeping its type.

    Zoho Deluge docs: Number functions > min. Numeric text arguments are read as numbers.
    """
    best = n
    for i, other in enumerate(others):
        value = want_number("min", i + 1, other)
        best = min(best, value)
    return best


def _max(n: int | Decimal, *others: Any) -> int | Decimal:
    """`max(b, ...)`: the greatest of the receiver and the arguments, each keeping its type.

    Zoho Deluge docs: Number functions > max.
    """
    best = n
    for i, other in enumerate(others):
        value = want_number("max", i + 1, other)
        best = max(best, value)
    return best


def _whole(fname: str, n: int | Decimal) -> int:
    if type(n) is int:
        return n
    if n == n.to_integral_value():  # type: ignore[union-attr]
        return int(n)
    raise ScriptRuntimeError(f"{fname}: {display(n)} is not a whole number")


def _is_even(n: int | Decimal) -> bool:
    """`isEven()`: true for an even whole number; a fraction raises [chosen].

    Zoho Deluge docs: Number functions > isEven.
    """
    return _whole("isEven", n) % 2 == 0


def _is_odd(n: int | Decimal) -> bool:
    """`isOdd()`: true for an odd whole number (`1234.isOdd()` is false); a fraction raises.

    Zoho Deluge docs: Number functions > isOdd.
    """
    return _whole("isOdd", n) % 2 == 1


# ---------------------------------------------------------------------------------------
# Conversions


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def _to_decimal(value: Any) -> Decimal:
    """`toDecimal()`: a DECIMAL. Text keeps its written scale (`"3.25"` gives 3.25, `"100"`
    gives 100); a NUMBER gives scale 1 (`5` gives 5.0) (SPEC §10). Empty or non-numeric
    text raises.

    Zoho Deluge docs: Common functions > toDecimal ("Empty texts will throw an error during
    runtime. Text should contain only numerical values.").
    """
    t = type(value)
    if t is Decimal:
        return value  # type: ignore[no-any-return]
    if t is int:
        return Decimal(value).quantize(_ONE_PLACE)
    text = value.strip()
    if _DECIMAL_TEXT.fullmatch(text):
        return Decimal(text)
    raise ScriptRuntimeError(f"toDecimal: text '{_shown(value)}' is not a number")


def _to_long_as(fname: str, value: Any) -> int:
    t = type(value)
    if t is int:
        return value  # type: ignore[no-any-return]
    if t is Decimal:
        return _to_int(fname, value.to_integral_value(rounding=ROUND_DOWN))
    if t is DateTime:
        return check_number(int(value.value.timestamp() * 1000))
    text = value.strip()
    if _DECIMAL_TEXT.fullmatch(text):
        return _to_int(fname, Decimal(text).to_integral_value(rounding=ROUND_DOWN))
    raise ScriptRuntimeError(f"{fname}: text '{_shown(value)}' is not a number")


def _to_long(value: Any) -> int:
    """`toLong()`: a NUMBER. A DECIMAL loses its fraction (`99.9` gives 99); numeric text
    converts, and text with a fraction is truncated the same way (`"12.5"` gives 12); empty
    or non-numeric text raises; a DATETIME gives its milliseconds since the epoch.

    Zoho Deluge docs: Common functions > toLong ("Decimals will be truncated off their
    fraction parts", "Empty texts will throw an error during runtime"). Reading `"12.5"`
    as 12 applies that truncation note to decimal text [chosen].
    """
    return _to_long_as("toLong", value)


def _to_number(value: Any) -> int:
    """`toNumber()`: the same conversion as toLong.

    Zoho Deluge docs: Common functions > toNumber ("Decimals ... will lose their fraction
    parts"; "If a piece of text has alphanumeric data (say, 1000abc) in it, then toNumber
    function will throw an error message"; `"134A123B".toNumber()` is an error).
    """
    return _to_long_as("toNumber", value)


def _to_hex(n: int | Decimal) -> str:
    """`toHex()`: the hexadecimal text of a whole number, lower case (`100` gives `64`).

    Zoho Deluge docs: Common functions > toHex. A negative number gives its 64-bit two's
    complement (`-1` gives `ffffffffffffffff`, like Java's Long.toHexString) [chosen].
    """
    whole = _whole("toHex", n)
    if whole < 0:
        whole += 1 << 64
    return format(whole, "x")


def _scale(value: Decimal) -> int:
    return max(0, -value.as_tuple().exponent)  # type: ignore[operator]


def _random_number(start: Any, end: Any) -> int | Decimal:
    """`randomNumber(min, max)`: a random number from min to max, both bounds included.

    SPEC §10 (both bounds included; the vendor page's note that the end limit is never
    returned contradicts its own syntax line, and SPEC decides). Zoho Deluge docs: Number
    functions > randomNumber: when either bound is a DECIMAL the result is a DECIMAL (here
    with the larger scale of the two bounds), else a NUMBER. min greater than max raises
    [chosen]. Uses the operating system's random source.
    """
    lo = want_number("randomNumber", 1, start)
    hi = want_number("randomNumber", 2, end)
    if lo > hi:
        raise ScriptRuntimeError(
            f"randomNumber: start limit {display(lo)} is greater than end limit {display(hi)}")
    source = current().random or secrets
    if type(lo) is int and type(hi) is int:
        return lo + source.randbelow(hi - lo + 1)  # type: ignore[no-any-return]
    scale = max(_scale(_dec(lo)), _scale(_dec(hi)))
    step = Decimal(1).scaleb(-scale)
    low = int(_dec(lo).scaleb(scale))
    high = int(_dec(hi).scaleb(scale))
    pick = low + source.randbelow(high - low + 1)
    return (Decimal(pick) * step).quantize(step)


METHODS: list[Builtin] = [
    method("abs", _abs, _NUM),
    method("ceil", _ceil, _NUM),
    method("floor", _floor, _NUM),
    method("round", _round, _NUM, 0, 1),
    method("truncate", _truncate, _NUM, 0, 1),
    method("frac", _frac, _NUM),
    method("sqrt", _sqrt, _NUM),
    method("exp", _exp, _NUM),
    method("log", _log, _NUM),
    method("log10", _log10, _NUM),
    method("power", _power, _NUM, 1),
    method("sin", _trig("sin", math.sin), _NUM),
    method("cos", _trig("cos", math.cos), _NUM),
    method("tan", _trig("tan", math.tan), _NUM),
    method("asin", _trig("asin", math.asin), _NUM),
    method("acos", _trig("acos", math.acos), _NUM),
    method("atan", _trig("atan", math.atan), _NUM),
    method("sinh", _trig("sinh", math.sinh), _NUM),
    method("cosh", _trig("cosh", math.cosh), _NUM),
    method("tanh", _trig("tanh", math.tanh), _NUM),
    method("asinh", _trig("asinh", math.asinh), _NUM),
    method("acosh", _trig("acosh", math.acosh), _NUM),
    method("atanh", _trig("atanh", math.atanh), _NUM),
    method("atan2", _trig("atan2", math.atan2), _NUM, 1),
    method("min", _min, _NUM, 1, None),
    method("max", _max, _NUM, 1, None),
    method("isEven", _is_even, _NUM),
    method("isOdd", _is_odd, _NUM),
    method("toDecimal", _to_decimal, _CONVERTIBLE),
    method("toLong", _to_long, (*_CONVERTIBLE, "DATETIME")),
    method("toNumber", _to_number, (*_CONVERTIBLE, "DATETIME")),
    method("toHex", _to_hex, _NUM),
]

FUNCTIONS: list[Builtin] = [
    function("randomNumber", _random_number, 2),
]
