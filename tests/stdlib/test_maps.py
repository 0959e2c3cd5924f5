"""MAP and COLLECTION built-ins, called through the dispatcher exactly as scripts call them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sluicegate.dispatch import call_function, call_method
from sluicegate.errors import LimitExceeded, ScriptRuntimeError
from sluicegate.limits import Limits, RunContext, activate
from sluicegate.values import BraceMap, Collection, display


def raises(message: str, receiver: object, name: str, *args: object) -> None:
    with pytest.raises(ScriptRuntimeError) as info:
        call_method(receiver, name, *args)
    assert info.value.message == message


def collection(*elements: object) -> Collection:
    return call_function("Collection", *elements)  # type: ignore[no-any-return]


# ---- MAP ------------------------------------------------------------------------------------


def test_put_overwrites_an_existing_key_in_place() -> None:
    # Zoho Deluge docs: Map functions > put (Products example)
    products: dict[object, object] = {}
    call_method(products, "put", "Creator", 4)
    call_method(products, "put", "CRM", 3)
    call_method(products, "put", "Creator", 5)
    assert list(products.items()) == [("Creator", 5), ("CRM", 3)]


def test_number_and_text_keys_are_different() -> None:
    m: dict[object, object] = {}
    call_method(m, "put", 1, "number")
    call_method(m, "put", "1", "text")
    assert call_method(m, "size") == 2
    assert call_method(m, "get", 1) == "number"
    assert call_method(m, "get", "1") == "text"


def test_put_with_a_list_key_raises() -> None:
    raises("put: a LIST cannot be a map key", {}, "put", [1], 2)


def test_get_of_a_missing_key_is_null() -> None:
    assert call_method({"name": "Lia"}, "get", "age") is None
    assert call_method({"name": "Lia"}, "get", None) is None
    assert call_method({"name": "Lia"}, "get", [1]) is None


def test_keys_and_values_are_lists_in_insertion_order() -> None:
    m = {"x": 10, "y": 20, "z": 30}
    assert call_method(m, "keys") == ["x", "y", "z"]
    assert call_method(m, "values") == [10, 20, 30]


def test_remove_returns_the_value_and_a_missing_key_does_nothing() -> None:
    m = {"a": 1, "b": 2}
    assert call_method(m, "remove", "b") == 2
    assert call_method(m, "remove", "nope") is None
    assert m == {"a": 1}


def test_put_all_merges_with_the_argument_winning() -> None:
    m = {"a": 1, "c": 3}
    call_method(m, "putAll", {"c": 30, "d": 4})
    assert list(m.items()) == [("a", 1), ("c", 30), ("d", 4)]


def test_put_all_of_null_puts_nothing_and_of_a_list_raises() -> None:
    m = {"a": 1}
    call_method(m, "putAll", None)
    assert m == {"a": 1}
    raises("Argument 1 of putAll must be MAP but found LIST", m, "putAll", [1])


def test_put_past_the_collection_limit_is_a_limit_error() -> None:
    with activate(RunContext(limits=Limits(max_elements=70_000))):
        big = {i: i for i in range(70_000)}
        with pytest.raises(LimitExceeded):
            call_method(big, "put", "one more", 1)


def test_contain_key_and_contains_key_spellings() -> None:
    m = {"id": 7, "tag": "vip"}
    assert call_method(m, "containKey", "id") is True
    assert call_method(m, "containsKey", "nope") is False
    assert call_method(m, "CONTAINSKEY", "tag") is True


def test_contain_value_uses_deluge_equality() -> None:
    m = {"n": 1, "flag": True}
    assert call_method(m, "containValue", Decimal("1.00")) is True
    assert call_method(m, "containsValue", "1") is False
    assert call_method({"flag": True}, "containsValue", 1) is False


def test_is_empty_clear_and_size() -> None:
    m = {"k": 1}
    assert call_method(m, "isEmpty") is False
    call_method(m, "clear")
    assert call_method(m, "isEmpty") is True
    assert call_method(m, "size") == 0
    assert display(m) == "{}"


def test_a_literal_empty_brace_is_a_map() -> None:
    brace = BraceMap()
    assert call_method(brace, "isEmpty") is True
    call_method(brace, "put", "z", 26)
    assert call_method(brace, "get", "z") == 26


def test_map_method_on_a_list_is_unknown() -> None:
    with pytest.raises(ScriptRuntimeError, match="Unknown function 'put' for LIST"):
        call_method([], "put", "a", 1)


# ---- COLLECTION -----------------------------------------------------------------------------


def test_index_value_collection_insert_and_get() -> None:
    c = call_function("Collection")
    call_method(c, "insert", "red")
    call_method(c, "insert", "green", "blue")
    assert call_method(c, "size") == 3
    assert call_method(c, "get", 1) == "green"
    assert call_method(c, "keys") == [0, 1, 2]
    assert call_method(c, "values") == ["red", "green", "blue"]


def test_key_value_collection_insert_and_get() -> None:
    c = call_function("Collection")
    call_method(c, "insert", ("k1", "v1"))
    call_method(c, "insert", ("k2", "v2"), ("k3", "v3"))
    assert call_method(c, "get", "k2") == "v2"
    assert call_method(c, "get", "missing") is None
    assert call_method(c, "keys") == ["k1", "k2", "k3"]
    assert display(c) == '{"k1":"v1","k2":"v2","k3":"v3"}'


def test_collection_get_out_of_range_raises() -> None:
    raises("Index 2 is out of range for get on a COLLECTION of size 1", collection("a"),
           "get", 2)


def test_collection_kind_is_fixed_by_the_first_insert() -> None:
    c = collection("a")
    raises("insert: this collection is index-value and cannot take key:value pairs", c,
           "insert", ("k", "v"))
    kv = collection(("k", "v"))
    raises("insert: this collection is key-value and cannot take plain values", kv,
           "insert", "x")


def test_collection_constructor_refuses_mixed_elements() -> None:
    with pytest.raises(ScriptRuntimeError, match="cannot mix"):
        collection("a", ("k", "v"))


def test_delete_removes_an_element_or_the_pair_with_that_value() -> None:
    # Zoho Deluge docs: Collection functions > delete
    products = collection("Creator", "CRM", "Campaigns")
    call_method(products, "delete", "CRM")
    assert display(products) == "Creator,Campaigns"
    versions = collection(("Creator", 5), ("CRM", 2))
    call_method(versions, "delete", 2)
    assert display(versions) == '{"Creator":5}'
    call_method(versions, "delete", 99)
    assert display(versions) == '{"Creator":5}'


def test_delete_key_by_key_and_by_index() -> None:
    # Zoho Deluge docs: Collection functions > deleteKey
    versions = collection(("Creator", 5), ("CRM", 2))
    call_method(versions, "deleteKey", "CRM")
    assert call_method(versions, "keys") == ["Creator"]
    products = collection("Creator", "CRM", "Campaigns")
    call_method(products, "deleteKey", 1)
    assert call_method(products, "values") == ["Creator", "Campaigns"]
    raises("Index 9 is out of range for deleteKey on a COLLECTION of size 2", products,
           "deleteKey", 9)


def test_delete_keys_and_delete_all() -> None:
    # Zoho Deluge docs: Collection functions > deleteKeys, deleteAll
    versions = collection(("Creator", 5), ("CRM", 2), ("Mail", 8))
    call_method(versions, "deleteKeys", ["CRM", "Mail"])
    assert call_method(versions, "keys") == ["Creator"]
    products = collection("Creator", "CRM", "Mail")
    call_method(products, "deleteKeys", [1, 2])
    assert call_method(products, "values") == ["Creator"]
    campaigns = collection("Creator", "CRM", "Campaigns")
    call_method(campaigns, "deleteAll", ["CRM", "Campaigns"])
    assert call_method(campaigns, "values") == ["Creator"]


def test_contains_key_value_and_not_contains() -> None:
    kv = collection(("a", 1))
    assert call_method(kv, "containsKey", "a") is True
    assert call_method(kv, "containsValue", Decimal("1.0")) is True
    assert call_method(kv, "notContains", 2) is True
    items = collection("x", "y")
    assert call_method(items, "containsKey", 1) is True
    assert call_method(items, "containsKey", 2) is False


def test_get_key_and_get_last_key() -> None:
    items = collection("a", "b", "a")
    assert call_method(items, "getKey", "a") == 0
    assert call_method(items, "getLastKey", "a") == 2
    assert call_method(items, "getKey", "z") is None
    kv = collection(("x", 1), ("y", 1))
    assert call_method(kv, "getKey", 1) == "x"
    assert call_method(kv, "getLastKey", 1) == "y"


def test_update_replaces_an_existing_element() -> None:
    items = collection("a", "b")
    call_method(items, "update", 1, "B")
    assert call_method(items, "values") == ["a", "B"]
    kv = collection(("x", 1))
    call_method(kv, "update", "x", 2)
    assert call_method(kv, "get", "x") == 2
    raises("update: key 'nope' is not in the collection", kv, "update", "nope", 3)


def test_duplicate_distinct_intersect() -> None:
    items = collection(3, 1, 3, 2)
    assert call_method(call_method(items, "duplicate", 1, 3), "values") == [1, 3]
    assert call_method(call_method(items, "distinct"), "values") == [3, 1, 2]
    other = collection(2, 3)
    assert call_method(call_method(items, "intersect", other), "values") == [3, 2]


def test_sort_and_sort_key() -> None:
    items = collection(3, 1, 2)
    assert call_method(call_method(items, "sort"), "values") == [1, 2, 3]
    kv = collection(("b", 2), ("a", 3), ("c", 1))
    assert call_method(call_method(kv, "sort"), "keys") == ["c", "b", "a"]
    assert call_method(call_method(kv, "sortKey", False), "keys") == ["c", "b", "a"]
    assert call_method(call_method(kv, "sortKey"), "keys") == ["a", "b", "c"]


def test_clear_and_is_empty() -> None:
    # Zoho Deluge docs: Collection functions > clear, isEmpty
    versions = collection(("Deluge", 5), ("CRM", 2))
    call_method(versions, "clear")
    assert call_method(versions, "isEmpty") is True
    assert call_method(call_function("Collection"), "isEmpty") is True


def test_aggregates_read_the_collection_values() -> None:
    # Zoho Deluge docs: Number functions > nthLargest (Collection(300,455,124,926,780))
    marks = collection(300, 455, 124, 926, 780)
    assert call_method(marks, "nthlargest", 5) == 124
    assert call_method(marks, "sum") == 2585
    assert call_method(marks, "median") == 455


def test_put_all_counts_only_new_keys_against_the_limit() -> None:
    with activate(RunContext(limits=Limits(max_elements=70_000))):
        big = {i: i for i in range(60_000)}
        call_method(big, "putAll", dict(big))
        assert len(big) == 60_000
        with pytest.raises(LimitExceeded):
            call_method(big, "putAll", {-i: i for i in range(1, 20_000)})
