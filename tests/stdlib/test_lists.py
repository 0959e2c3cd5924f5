"""LIST built-ins, called through the dispatcher exactly as scripts call them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sluicegate.dispatch import call_function, call_method
from sluicegate.errors import LimitExceeded, ScriptRuntimeError
from sluicegate.limits import Limits, RunContext, activate
from sluicegate.stdlib.nulls import new_typed_list
from sluicegate.values import TypedList, display


def raises(message: str, receiver: object, name: str, *args: object) -> None:
    with pytest.raises(ScriptRuntimeError) as info:
        call_method(receiver, name, *args)
    assert info.value.message == message


# ---- adding and reading ------------------------------------------------------------------


def test_add_appends_and_get_reads_zero_based() -> None:
    # Zoho Deluge docs: List functions > add, get
    sports: list[object] = []
    call_method(sports, "add", "Hockey")
    call_method(sports, "add", "Cricket")
    assert call_method(sports, "get", 1) == "Cricket"
    assert call_method(sports, "size") == 2


def test_get_out_of_range_raises_with_the_size() -> None:
    raises("Index 3 is out of range for get on a LIST of size 3", [1, 2, 3], "get", 3)


def test_get_negative_index_raises() -> None:
    raises("Index -1 is out of range for get on a LIST of size 2", [1, 2], "get", -1)


def test_get_on_empty_list_raises() -> None:
    raises("Index 0 is out of range for get on a LIST of size 0", [], "get", 0)


def test_get_accepts_numeric_text_and_whole_decimal_index() -> None:
    assert call_method(["a", "b"], "get", "1") == "b"
    assert call_method(["a", "b"], "get", Decimal("1.0")) == "b"


def test_get_with_text_index_reports_wrong_type() -> None:
    raises("Argument 1 of get must be NUMBER but found TEXT", [1], "get", "x")


def test_get_with_null_index_reports_wrong_type() -> None:
    raises("Argument 1 of get must be NUMBER but found NULL", [1], "get", None)


def test_add_all_appends_every_element() -> None:
    a = [1, 2]
    call_method(a, "addAll", [3, 4, 5])
    assert a == [1, 2, 3, 4, 5]


def test_add_all_of_null_adds_nothing() -> None:
    a = [1]
    call_method(a, "addAll", None)
    assert a == [1]


def test_add_all_of_a_map_reports_wrong_type() -> None:
    raises("Argument 1 of addAll must be LIST but found MAP", [1], "addAll", {"a": 1})


def test_add_past_the_collection_limit_is_a_limit_error() -> None:
    with activate(RunContext(limits=Limits(max_elements=70_000))):
        big = list(range(70_000))
        with pytest.raises(LimitExceeded, match="Collection size limit of 70000"):
            call_method(big, "add", 1)


def test_add_all_checks_the_resulting_size_before_extending() -> None:
    with activate(RunContext(limits=Limits(max_elements=70_000))):
        big = list(range(60_000))
        with pytest.raises(LimitExceeded):
            call_method(big, "addAll", list(range(20_000)))
        assert len(big) == 60_000


def test_is_empty_and_clear() -> None:
    items = [1, 2, 3]
    assert call_method(items, "isEmpty") is False
    call_method(items, "clear")
    assert call_method(items, "isEmpty") is True
    assert call_method(items, "size") == 0


# ---- searching ------------------------------------------------------------------------------


def test_contains_uses_deluge_equality() -> None:
    assert call_method([1, 2], "contains", Decimal("1.0")) is True
    assert call_method([1, 2], "contains", "1") is False
    assert call_method([1, 2], "contains", True) is False
    assert call_method([True, 1], "contains", 1) is True
    assert call_method([True], "contains", 1) is False
    assert call_method([None, "a"], "contains", None) is True


def test_contains_compares_nested_lists_and_maps_by_value() -> None:
    assert call_method([[1, 2], {"a": 1}], "contains", {"a": 1}) is True
    assert call_method([[True]], "contains", [1]) is False


def test_not_contains_is_the_negation() -> None:
    assert call_method(["x", "y"], "notContains", "w") is True
    assert call_method(["x", "y"], "notContains", "x") is False


def test_index_of_and_last_index_of_give_minus_one_when_absent() -> None:
    items = ["x", "y", "z", "y"]
    assert call_method(items, "indexOf", "y") == 1
    assert call_method(items, "lastIndexOf", "y") == 3
    assert call_method(items, "indexOf", "w") == -1
    assert call_method(items, "lastIndexOf", "w") == -1


def test_index_of_skips_a_python_only_match() -> None:
    assert call_method([True, 1], "indexOf", 1) == 1
    assert call_method([True, 2], "indexOf", 1) == -1


# ---- removing -------------------------------------------------------------------------------


def test_remove_by_index_returns_the_removed_element() -> None:
    items = ["a", "b", "c"]
    assert call_method(items, "remove", 0) == "a"
    assert items == ["b", "c"]


def test_remove_out_of_range_raises() -> None:
    raises("Index 5 is out of range for remove on a LIST of size 1", ["a"], "remove", 5)


def test_remove_element_removes_only_the_first_occurrence() -> None:
    items = [5, 1, 5]
    assert call_method(items, "removeElement", 5) is True
    assert items == [1, 5]
    assert call_method(items, "removeElement", 9) is False


def test_remove_all_removes_every_occurrence_of_each_value() -> None:
    items = [1, 2, 3, 2, 4]
    call_method(items, "removeAll", [2, Decimal("4.0")])
    assert items == [1, 3]


# ---- order and sets -------------------------------------------------------------------------


def test_sort_is_in_place_and_returns_the_list() -> None:
    # Zoho Deluge docs: List functions > sort (capitals sort before lower case)
    names = ["Creator", "crm", "Zoho Creator"]
    result = call_method(names, "sort", True)
    assert result is names
    assert names == ["Creator", "Zoho Creator", "crm"]


def test_sort_descending_with_false() -> None:
    assert call_method([5, 3, 9, 1], "sort", False) == [9, 5, 3, 1]


def test_sort_mixes_numbers_and_decimals_by_value() -> None:
    assert call_method([2, Decimal("1.5"), 1], "sort") == [1, Decimal("1.5"), 2]


def test_sort_of_mixed_types_raises() -> None:
    raises("sort: cannot order NUMBER and TEXT elements in one list", [1, "a"], "sort")


def test_sort_of_maps_raises() -> None:
    raises("sort: cannot order MAP elements", [{"a": 1}], "sort")


def test_sort_puts_nulls_first_ascending_and_last_descending() -> None:
    assert call_method([3, None, 1], "sort") == [None, 1, 3]
    assert call_method([3, None, 1], "sort", False) == [3, 1, None]


def test_sort_with_a_text_flag_reports_wrong_type() -> None:
    raises("Argument 1 of sort must be BOOLEAN but found TEXT", [1], "sort", "asc")


def test_distinct_keeps_first_occurrences_in_order() -> None:
    assert call_method([3, 1, 3, 2, 1], "distinct") == [3, 1, 2]


def test_distinct_treats_one_and_one_point_zero_as_equal_but_not_text() -> None:
    assert call_method([1, Decimal("1.0"), "1", True], "distinct") == [1, "1", True]


def test_distinct_compares_maps_by_value() -> None:
    assert call_method([{"a": 1}, {"a": 1}, {"a": 2}], "distinct") == [{"a": 1}, {"a": 2}]


def test_intersect_keeps_receiver_order_without_duplicates() -> None:
    # Zoho Deluge docs: List functions > intersect
    one = ["Zoho Creator", "Zoho CRM", "Zoho Projects"]
    two = ["Zoho Mail", "Zoho Analytics", "Zoho Creator"]
    assert call_method(one, "intersect", two) == ["Zoho Creator"]
    assert call_method([2, 1, 2, 3], "intersect", [3, 2]) == [2, 3]


def test_sub_list_is_end_exclusive() -> None:
    # Zoho Deluge docs: List functions > subList ({1,2,3,4}.subList(0, 3) is {1,2,3})
    assert call_method([1, 2, 3, 4], "subList", 0, 3) == [1, 2, 3]
    assert call_method(["a", "b", "c"], "subList", 1) == ["b", "c"]
    assert call_method(["a"], "subList", 1, 1) == []


def test_sub_list_out_of_range_raises() -> None:
    raises("Index 4 is out of range for subList on a LIST of size 3", [1, 2, 3], "subList", 0, 4)
    raises("subList: end index 1 is before start index 2", [1, 2, 3], "subList", 2, 1)


def test_typed_list_results_stay_typed() -> None:
    typed = new_typed_list("String", ["b", "a", "b"])
    assert isinstance(call_method(typed, "distinct"), TypedList)
    assert isinstance(call_method(typed, "subList", 0, 1), TypedList)


# ---- aggregates -----------------------------------------------------------------------------


def test_sum_of_numbers_is_a_number() -> None:
    assert call_method([4, 8, 15, 16, 22], "sum") == 65


def test_sum_with_a_decimal_keeps_the_scale() -> None:
    total = call_method([Decimal("1.50"), 2], "sum")
    assert display(total) == "3.50"


def test_sum_of_empty_list_is_zero() -> None:
    assert call_method([], "sum") == 0


def test_sum_out_of_64_bits_raises() -> None:
    raises("Number out of range", [2**62, 2**62], "sum")


def test_sum_of_text_raises() -> None:
    raises("sum: element 1 is TEXT, expected NUMBER or DECIMAL", [1, "x"], "sum")


def test_numeric_text_counts_in_aggregates() -> None:
    # Zoho Deluge docs: median ("Numerical values can be specified in double quotes")
    assert call_method(["1", "2.5"], "sum") == Decimal("3.5")


def test_average_is_a_decimal() -> None:
    result = call_method([4, 8, 15, 16, 22], "average")
    assert type(result) is Decimal and display(result) == "13.0"
    assert display(call_method([1, 2], "average")) == "1.5"


def test_average_median_largest_smallest_of_empty_list_are_null() -> None:
    for name in ("average", "median", "largest", "smallest"):
        assert call_method([], name) is None


def test_largest_and_smallest() -> None:
    assert call_method([4, 8, 22, 15], "largest") == 22
    assert call_method([4, 8, 22, 15], "smallest") == 4
    assert call_method(["b", "a"], "largest") == "b"
    assert call_method([None, 3, 1], "smallest") == 1


def test_median_of_odd_count_is_the_middle_element() -> None:
    assert call_method([300, 455, 124, 926, 780], "median") == 455


def test_median_of_even_count_is_the_decimal_mean_of_the_middle_two() -> None:
    # Zoho Deluge docs: List functions > median ({1, 5, 2, 3}.median() is 2.5)
    assert display(call_method([1, 5, 2, 3], "median")) == "2.5"
    assert display(call_method([1, 3], "median")) == "2.0"


def test_nth_largest_and_smallest_count_from_one() -> None:
    # Zoho Deluge docs: nthLargest / nthSmallest (marks = {300,455,124,926,780})
    marks = [300, 455, 124, 926, 780]
    assert call_method(marks, "nthLargest", 5) == 124
    assert call_method(marks, "nthLargest", 1) == 926
    assert call_method(marks, "nthSmallest", 2) == 300


def test_nth_largest_out_of_range_raises() -> None:
    raises("nthLargest: position 0 is out of range for a LIST of 2 elements "
           "(positions count from 1)", [1, 2], "nthLargest", 0)
    raises("nthSmallest: position 3 is out of range for a LIST of 2 elements "
           "(positions count from 1)", [1, 2], "nthSmallest", 3)


# ---- typed lists ----------------------------------------------------------------------------


def test_string_list_turns_numbers_into_text() -> None:
    texts = new_typed_list("String")
    call_method(texts, "add", 5)
    call_method(texts, "add", Decimal("2.50"))
    call_method(texts, "add", True)
    assert texts == ["5", "2.50", "true"]


def test_int_list_accepts_whole_numbers_and_numeric_text() -> None:
    numbers = new_typed_list("Int")
    call_method(numbers, "add", 4)
    call_method(numbers, "add", " 12 ")
    assert numbers == [4, 12]


@pytest.mark.parametrize("value, shown", [
    ("twelve", "TEXT 'twelve'"), ("12.5", "TEXT '12.5'"), (Decimal("2.5"), "DECIMAL '2.5'"),
    (True, "BOOLEAN 'true'"),
])
def test_int_list_rejects_what_is_not_a_whole_number(value: object, shown: str) -> None:
    numbers = new_typed_list("Int")
    raises(f"add: List:Int accepts only whole numbers but got {shown}", numbers, "add", value)
    assert numbers == []


def test_int_list_add_all_converts_each_element() -> None:
    numbers = new_typed_list("Int")
    call_method(numbers, "addAll", ["1", 2])
    assert numbers == [1, 2]
    raises("addAll: List:Int accepts only whole numbers but got TEXT 'x'", numbers,
           "addAll", ["3", "x"])
    assert numbers == [1, 2]


def test_decimal_and_bool_lists_convert() -> None:
    decimals = new_typed_list("Decimal", [1, "2.50"])
    assert [display(v) for v in decimals] == ["1.0", "2.50"]
    flags = new_typed_list("Bool", ["TRUE", False])
    assert flags == [True, False]


def test_unknown_typed_list_kind_raises() -> None:
    with pytest.raises(ScriptRuntimeError, match="Unknown list type 'List:Foo'"):
        new_typed_list("Foo")


# ---- function form and wrong receivers ------------------------------------------------------


def test_list_methods_work_in_function_form() -> None:
    assert call_function("sum", [1, 2]) == 3
    assert call_function("distinct", [1, 1]) == [1]


def test_list_method_on_a_number_is_unknown() -> None:
    with pytest.raises(ScriptRuntimeError, match="Unknown function 'distinct' for NUMBER"):
        call_method(5, "distinct")
