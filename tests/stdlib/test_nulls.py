"""Null and type checks, constructors and ifnull, called as scripts call them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sluicegate.dispatch import call_function, call_method
from sluicegate.errors import LimitExceeded, ScriptRuntimeError
from sluicegate.limits import Limits, RunContext, activate
from sluicegate.values import BraceMap, Collection, File, TypedList


# ---- constructors ---------------------------------------------------------------------------


def test_map_and_list_constructors_make_new_empty_values() -> None:
    for name in ("Map", "map"):
        made = call_function(name)
        assert made == {} and type(made) is dict
    for name in ("List", "list"):
        made = call_function(name)
        assert made == [] and type(made) is list
    assert call_function("Map") is not call_function("Map")


def test_map_of_a_map_is_a_copy() -> None:
    # Zoho Deluge docs: Collection functions > isEmpty (Map({"key1":"value1", ...}))
    source = {"key1": "value1", "key2": "value2"}
    copy = call_function("Map", source)
    assert copy == source and copy is not source
    copy["key3"] = "x"
    assert "key3" not in source


def test_map_of_a_list_reports_wrong_type() -> None:
    with pytest.raises(ScriptRuntimeError, match="Argument 1 of Map must be MAP but found LIST"):
        call_function("Map", [1])


def test_list_of_text_splits_at_commas() -> None:
    # Zoho Deluge docs: List manipulations > Create list (words either side of a comma)
    assert call_function("List", "a,b,,c") == ["a", "b", "", "c"]
    assert call_function("List", [1, 2]) == [1, 2]


def test_collection_constructor_takes_values_or_pairs() -> None:
    items = call_function("Collection", "Creator", "CRM")
    assert type(items) is Collection and items.keyed is False
    assert items.items == ["Creator", "CRM"]
    pairs = call_function("collection", ("Creator", 5), ("CRM", 2))
    assert pairs.keyed is True and pairs.items == {"Creator": 5, "CRM": 2}
    empty = call_function("Collection")
    assert empty.keyed is None and empty.items == []


# ---- ifnull ---------------------------------------------------------------------------------


def test_ifnull_replaces_only_null() -> None:
    assert call_function("ifnull", None, "Unknown") == "Unknown"
    assert call_function("ifNull", "Zed", "Unknown") == "Zed"
    assert call_function("IFNULL", "", "x") == ""
    assert call_function("ifnull", 0, 5) == 0


def test_ifnull_needs_two_arguments() -> None:
    with pytest.raises(ScriptRuntimeError, match="'ifnull' expects 2 arguments but got 1"):
        call_function("ifnull", None)


# ---- isNull / isEmpty / isBlank -------------------------------------------------------------


def test_is_null_is_true_for_null_and_empty_text() -> None:
    # Zoho Deluge docs: isNull/isBlank/isEmpty difference; SPEC §10
    assert call_function("isNull", None) is True
    assert call_function("isNull", "") is True
    assert call_method(" ", "isNull") is False
    assert call_method("x", "isNull") is False
    assert call_method(0, "isNull") is False
    assert call_method([], "isNull") is False


def test_is_empty() -> None:
    assert call_method("", "isEmpty") is True
    assert call_method(" ", "isEmpty") is False
    assert call_method(None, "isEmpty") is True
    assert call_method([], "isEmpty") is True
    assert call_method({}, "isEmpty") is True
    assert call_method(BraceMap(), "isEmpty") is True
    assert call_method(Collection(), "isEmpty") is True
    assert call_method(0, "isEmpty") is False
    assert call_method(False, "isEmpty") is False


def test_is_blank_also_counts_whitespace_only_text() -> None:
    assert call_method(" \t\n", "isBlank") is True
    assert call_method("", "isBlank") is True
    assert call_method(None, "isBlank") is True
    assert call_method(" a ", "isBlank") is False
    assert call_method([], "isBlank") is True
    assert call_method([None], "isBlank") is False


# ---- type checks ----------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    (5, True), (Decimal("2.5"), True), ("12", True), ("-3.5", True), (" 7 ", True),
    (".5", True), ("", False), ("12a", False), ("1e3", False), (True, False), (None, False),
    ([1], False),
])
def test_is_number(value: object, expected: bool) -> None:
    assert call_method(value, "isNumber") is expected


def test_is_text_list_map_file() -> None:
    assert call_method("a", "isText") is True
    assert call_method(1, "isText") is False
    assert call_method([1], "isList") is True
    assert call_method(TypedList("TEXT"), "isList") is True
    assert call_method({}, "isList") is False
    assert call_method(BraceMap(), "isMap") is True
    assert call_method([], "isMap") is False
    assert call_method(File("a.txt", "text/plain", b"x"), "isFile") is True
    assert call_method("a.txt", "isFile") is False
    assert call_function("isFile", None) is False


# ---- toString / toText ----------------------------------------------------------------------


def test_to_string_gives_the_display_form() -> None:
    assert call_method(12, "toString") == "12"
    assert call_method(Decimal("12.50"), "toText") == "12.50"
    assert call_method(True, "toString") == "true"
    assert call_method([1, "a", None], "toString") == "1,a,"
    assert call_method({"a": [1, 2], "b": None}, "toString") == '{"a":[1,2],"b":null}'
    assert call_method(None, "toString") == ""


def test_to_string_on_a_map_accepts_no_argument() -> None:
    # NUMBER and TEXT take a date pattern (stdlib.dates); other types take nothing.
    with pytest.raises(ScriptRuntimeError, match="'toString' expects 0 arguments but got 1"):
        call_method({"a": 1}, "toString", "x")


def test_list_of_a_huge_comma_text_is_a_limit_error() -> None:
    run = RunContext(limits=Limits(max_elements=70_000))
    with activate(run), pytest.raises(LimitExceeded):
        call_function("List", "," * 80_000)
