"""NUMBER and DECIMAL built-ins, called as scripts call them."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from sluicegate.dispatch import call_function, call_method
from sluicegate.errors import ScriptRuntimeError
from sluicegate.values import DateTime, display


def shown(receiver: object, name: str, *args: object) -> tuple[str, str]:
    """The display form and the Python type of a call's result."""
    result = call_method(receiver, name, *args)
    return display(result), type(result).__name__


def raises(message: str, receiver: object, name: str, *args: object) -> None:
    with pytest.raises(ScriptRuntimeError) as info:
        call_method(receiver, name, *args)
    assert info.value.message == message


# ---- abs, ceil, floor -----------------------------------------------------------------------


def test_abs_keeps_the_type_and_scale() -> None:
    assert shown(-7, "abs") == ("7", "int")
    assert shown(Decimal("-2.50"), "abs") == ("2.50", "Decimal")
    assert call_function("abs", Decimal("-2.5")) == Decimal("2.5")


def test_abs_of_the_smallest_number_is_out_of_range() -> None:
    raises("Number out of range", -(2**63), "abs")


def test_ceil_and_floor_give_numbers() -> None:
    assert shown(Decimal("4.2"), "ceil") == ("5", "int")
    assert shown(Decimal("4.2"), "floor") == ("4", "int")
    assert shown(Decimal("-4.2"), "floor") == ("-5", "int")
    assert shown(Decimal("-4.2"), "ceil") == ("-4", "int")
    assert shown(7, "ceil") == ("7", "int")


def test_ceil_beyond_64_bits_raises() -> None:
    raises("Number out of range", Decimal("1E+30"), "ceil")


# ---- round and truncate ---------------------------------------------------------------------


@pytest.mark.parametrize("value, places, expected", [
    # Zoho Deluge docs: Number functions > round (the vendor's examples)
    ("-218.4", 0, "-218"), ("218.5", 0, "219"), ("218.49", 1, "218.5"), ("218.44", 1, "218.4"),
    ("214.2", -1, "210"), ("218.2", -1, "220"), ("218.2", -2, "200"), ("294.2", -2, "300"),
    ("218.222", -3, "0"), ("-150.55", -2, "-200"), ("-192.66", -1, "-190"), ("5.0", 0, "5"),
    ("3.14159", 2, "3.14"), ("3.14159", 4, "3.1416"), ("2.71828", 3, "2.718"),
])
def test_round_follows_the_vendor_examples(value: str, places: int, expected: str) -> None:
    assert display(call_method(Decimal(value), "round", places)) == expected


def test_round_with_places_gives_a_decimal_with_that_scale() -> None:
    assert shown(Decimal("2.5"), "round", 3) == ("2.500", "Decimal")
    assert shown(5, "round", 2) == ("5.00", "Decimal")


def test_round_without_places_or_with_zero_gives_a_number() -> None:
    assert shown(Decimal("2.5"), "round") == ("3", "int")
    assert shown(Decimal("-2.5"), "round", 0) == ("-3", "int")


def test_round_places_are_bounded() -> None:
    raises("round: places must be between -100 and 100 but was 1000000",
           Decimal("1.5"), "round", 1_000_000)


def test_round_with_text_places_reports_wrong_type() -> None:
    raises("Argument 1 of round must be NUMBER but found TEXT", Decimal("1.5"), "round", "two")


@pytest.mark.parametrize("value, places, expected", [
    # Zoho Deluge docs: Number functions > truncate
    ("25.125432", 2, "25.12"), ("9789.852", 0, "9789"), ("9789.852", -2, "9700"),
    ("9.876", 1, "9.8"), ("-9.876", 2, "-9.87"), ("-9.876", 0, "-9"),
])
def test_truncate_cuts_without_rounding(value: str, places: int, expected: str) -> None:
    assert display(call_method(Decimal(value), "truncate", places)) == expected


def test_truncate_zero_gives_a_number() -> None:
    assert shown(Decimal("9.99"), "truncate", 0) == ("9", "int")


def test_frac_keeps_the_sign() -> None:
    assert shown(Decimal("24.6"), "frac") == ("0.6", "Decimal")
    assert shown(Decimal("-24.6"), "frac") == ("-0.6", "Decimal")
    assert shown(24, "frac") == ("0", "int")


# ---- powers, roots, logarithms --------------------------------------------------------------


def test_sqrt_gives_a_decimal() -> None:
    assert shown(16, "sqrt") == ("4.0", "Decimal")
    assert shown(2, "sqrt") == ("1.414213562373095", "Decimal")
    assert call_method(16, "sqrt") == 4


def test_sqrt_of_a_negative_number_raises() -> None:
    raises("sqrt: cannot take the square root of -4", -4, "sqrt")


def test_power_of_numbers_with_whole_exponent_is_a_number() -> None:
    assert shown(2, "power", 10) == ("1024", "int")
    assert shown(-2, "power", 63) == (str(-(2**63)), "int")
    assert shown(7, "power", 0) == ("1", "int")
    assert shown(0, "power", 0) == ("1", "int")


def test_power_out_of_64_bits_raises() -> None:
    raises("Number out of range", 2, "power", 63)
    raises("Number out of range", 3, "power", 40)


def test_huge_power_fails_fast() -> None:
    start = time.monotonic()
    raises("Number out of range", 2, "power", 100_000_000)
    raises("Number out of range", Decimal("1.5"), "power", 100_000_000)
    raises("Number out of range", 10, "power", Decimal("100000000.5"))
    assert time.monotonic() - start < 1.0


def test_power_of_one_and_minus_one_with_huge_exponent() -> None:
    assert call_method(1, "power", 10**15) == 1
    assert call_method(-1, "power", 10**15 + 1) == -1


def test_power_with_negative_or_fractional_exponent_gives_a_decimal() -> None:
    assert shown(2, "power", -1) == ("0.5", "Decimal")
    assert shown(2, "power", Decimal("0.5")) == ("1.414213562373095", "Decimal")
    assert shown(4, "power", Decimal("0.5")) == ("2.0", "Decimal")


def test_decimal_power_is_exact_with_a_growing_scale() -> None:
    assert shown(Decimal("1.5"), "power", 2) == ("2.25", "Decimal")
    assert shown(Decimal("1.10"), "power", 2) == ("1.2100", "Decimal")


def test_power_domain_errors() -> None:
    raises("Division by zero", 0, "power", -1)
    raises("power: -8 cannot be raised to the fractional power 0.5", -8, "power",
           Decimal("0.5"))
    raises("Argument 1 of power must be NUMBER or DECIMAL but found NULL", 2, "power", None)


def test_exp_and_log() -> None:
    assert shown(1, "exp") == ("2.718281828459045", "Decimal")
    assert shown(0, "exp") == ("1.0", "Decimal")
    assert shown(1, "log") == ("0.0", "Decimal")
    assert shown(100, "log10") == ("2.0", "Decimal")
    raises("log: the logarithm of 0 is undefined", 0, "log")
    raises("log10: the logarithm of -1 is undefined", -1, "log10")
    raises("Number out of range", 100_000_000, "exp")


def test_trigonometry_in_radians() -> None:
    assert shown(0, "sin") == ("0.0", "Decimal")
    assert display(call_method(1, "cos")) == "0.5403023058681398"
    assert display(call_method(1, "atan2", 1)) == "0.7853981633974483"
    raises("acos: 2 is outside the function's domain", 2, "acos")


# ---- min, max, even, odd --------------------------------------------------------------------


def test_min_and_max_keep_the_chosen_value() -> None:
    assert call_method(12, "min", 7) == 7
    assert call_method(12, "max", 7) == 12
    assert shown(12, "max", Decimal("12.5")) == ("12.5", "Decimal")
    assert call_function("max", 3, 9, 4) == 9
    raises("Argument 1 of min must be NUMBER or DECIMAL but found TEXT", 1, "min", "x")


def test_is_even_and_is_odd() -> None:
    # Zoho Deluge docs: Number functions > isOdd (1234.isOdd() is false)
    assert call_method(1234, "isOdd") is False
    assert call_method(12, "isEven") is True
    assert call_method(-3, "isOdd") is True
    assert call_method(Decimal("4.0"), "isEven") is True
    raises("isEven: 2.5 is not a whole number", Decimal("2.5"), "isEven")


# ---- conversions ----------------------------------------------------------------------------


def test_to_decimal_of_a_number_has_scale_one() -> None:
    assert shown(5, "toDecimal") == ("5.0", "Decimal")


def test_to_decimal_of_text_keeps_the_written_scale() -> None:
    # Zoho Deluge docs: Common functions > toDecimal ("100" returns 100)
    assert shown("3.25", "toDecimal") == ("3.25", "Decimal")
    assert shown("100", "toDecimal") == ("100", "Decimal")
    assert shown(" -1.50 ", "toDecimal") == ("-1.50", "Decimal")
    assert shown(Decimal("99.9"), "toDecimal") == ("99.9", "Decimal")


def test_to_decimal_of_empty_or_non_numeric_text_raises() -> None:
    raises("toDecimal: text '' is not a number", "", "toDecimal")
    raises("toDecimal: text '12abc' is not a number", "12abc", "toDecimal")


def test_to_long_truncates_decimals() -> None:
    # Zoho Deluge docs: Common functions > toLong (toLong(99.9) is 99, "100" is 100)
    assert call_function("toLong", Decimal("99.9")) == 99
    assert call_method("100", "toLong") == 100
    assert call_method(Decimal("-99.9"), "toLong") == -99


def test_to_long_of_decimal_text_truncates_too() -> None:
    assert call_method("12.5", "toLong") == 12
    assert call_method("12.5", "toNumber") == 12


def test_to_number_rejects_alphanumeric_and_empty_text() -> None:
    # Zoho Deluge docs: Common functions > toNumber ("134A123B".toNumber() is an error)
    raises("toNumber: text '134A123B' is not a number", "134A123B", "toNumber")
    raises("toLong: text '' is not a number", "", "toLong")


def test_to_number_of_a_huge_text_is_out_of_range() -> None:
    raises("Number out of range", "99999999999999999999", "toNumber")


def test_to_long_of_a_date_time_gives_epoch_milliseconds() -> None:
    import datetime as dt

    moment = DateTime(dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.UTC))
    assert call_method(moment, "toLong") == 1000


def test_to_number_on_null_is_a_null_call_error() -> None:
    with pytest.raises(ScriptRuntimeError, match="Cannot call 'toNumber' on a null value"):
        call_method(None, "toNumber")


def test_to_hex() -> None:
    # Zoho Deluge docs: Common functions > toHex (100 returns 64)
    assert call_method(100, "toHex") == "64"
    assert call_method(255, "toHex") == "ff"
    assert call_method(-1, "toHex") == "ffffffffffffffff"


# ---- randomNumber ---------------------------------------------------------------------------


def test_random_number_includes_both_bounds() -> None:
    seen = {call_function("randomNumber", 1, 3) for _ in range(300)}
    assert seen == {1, 2, 3}


def test_random_number_with_a_decimal_bound_gives_a_decimal() -> None:
    for _ in range(50):
        value = call_function("randomNumber", Decimal("1.789"), Decimal("34.54"))
        assert type(value) is Decimal
        assert Decimal("1.789") <= value <= Decimal("34.54")
        assert value.as_tuple().exponent == -3


def test_random_number_of_equal_bounds() -> None:
    assert call_function("randomNumber", 5, 5) == 5


def test_random_number_with_reversed_bounds_raises() -> None:
    with pytest.raises(ScriptRuntimeError,
                       match="start limit 6 is greater than end limit 1"):
        call_function("randomNumber", 6, 1)


def test_random_number_needs_two_arguments() -> None:
    with pytest.raises(ScriptRuntimeError, match="expects 2 arguments but got 1"):
        call_function("randomNumber", 6)
