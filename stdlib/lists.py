"""LIST methods: adding, reading, searching, removing, sorting and aggregating list elements.

Indexes count from 0. Element equality (contains, indexOf, distinct, intersect, remove...)
is the `==` of SPEC §3 (`values.deluge_equal`): `1` equals `1.0`, but not `"1"`, and
`true` is not `1`. Typed lists (`List:Int()` ...) convert or reject what is added
(`nulls.convert_element`). Growth past 65,536 elements is checked against the run's
collection limit.
"""

from __future__ import annotations

__all__ = ["AGGREGATES", "FUNCTIONS", "METHODS", "sort_values"]

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import PYTHON_STEP, check_collection, spend
from sluicegate.operators import divide_decimal
from sluicegate.values import (
    DECIMAL_CONTEXT, DateTime, TypedList, check_number, deluge_equal, type_name,
)

from .args import want_bool, want_int, want_list
from .builtin import Builtin, method
from .nulls import convert_element, is_numeric_text

_LIST = "LIST"
# Collection sizes below this are never checked against the limit (hot path stays cheap).
_CHECK_FLOOR = 65536


def _out_of_range(fname: str, index: int, size: int) -> ScriptRuntimeError:
    return ScriptRuntimeError(
        f"Index {index} is out of range for {fname} on a LIST of size {size}")


def _same_kind_list(source: list[Any], items: list[Any]) -> list[Any]:
    """A new list holding `items`, typed like `source` (a typed list stays typed)."""
    if isinstance(source, TypedList):
        return TypedList(source.element_type, items)
    return items


# ---------------------------------------------------------------------------------------
# Adding


def _add(lst: list[Any], value: Any) -> None:
    """`add(v)`: append v. Zoho Deluge docs: List functions > add.

    A typed list converts v first, or raises (Zoho Deluge docs: "Create list of specific
    data type").
    """
    if type(lst) is not list:
        value = convert_element("add", lst.element_type, value)  # type: ignore[attr-defined]
    lst.append(value)
    if len(lst) > 65536:
        check_collection(len(lst))


def _add_all(lst: list[Any], other: Any) -> None:
    """`addAll(list2)`: append every element of list2. Zoho Deluge docs: List functions > addAll.

    A null argument adds nothing [chosen]. The resulting size is checked before extending.
    """
    if other is None:
        return
    items = want_list("addAll", 1, other)
    if len(lst) + len(items) > _CHECK_FLOOR:
        check_collection(len(lst) + len(items))
    if isinstance(lst, TypedList):
        kind = lst.element_type
        lst.extend([convert_element("addAll", kind, v) for v in items])
    else:
        lst.extend(items)


# ---------------------------------------------------------------------------------------
# Reading


def _get(lst: list[Any], index: Any) -> Any:
    """`get(i)`: the element at 0-based index i; out of range raises (SPEC §10).

    Zoho Deluge docs: List functions > get. A negative index raises too [chosen].
    """
    if type(index) is int and index >= 0:
        try:
            return lst[index]
        except IndexError:
            pass
    i = want_int("get", 1, index)
    if 0 <= i < len(lst):
        return lst[i]
    raise _out_of_range("get", i, len(lst))


def _size(lst: list[Any]) -> int:
    """`size()`: the number of elements. Zoho Deluge docs: List functions > size."""
    return len(lst)


def _is_empty(lst: list[Any]) -> bool:
    """`isEmpty()`: true when the list has no element. Zoho Deluge docs: List functions > isEmpty."""
    return not lst


def _clear(lst: list[Any]) -> None:
    """`clear()`: remove every element. Zoho Deluge docs: List functions > clear."""
    lst.clear()


def _to_list(lst: list[Any]) -> list[Any]:
    """`toList()` on a LIST: a copy of the list [chosen; the vendor documents toList on TEXT]."""
    return _same_kind_list(lst, list(lst))


# ---------------------------------------------------------------------------------------
# Searching


# Scans of longer lists are charged to the run's work budget (limits.spend), so a loop
# of them reads the clock; shorter ones cost less than the charge would.
_LONG = 4096
# Units per element of a scan: C compares, with Deluge's own equality behind a match.
_SCAN = 64


def _contains(lst: list[Any], value: Any) -> bool:
    """`contains(v)`: whether an element equals v (SPEC §3 `==`).

    Zoho Deluge docs: List functions > contains. Python's `==` is looser than Deluge's
    (it also matches `true` with `1`), so the first Python match is confirmed and only a
    false match falls back to the full scan; text matches only text either way.
    """
    if len(lst) > _LONG:
        spend(_SCAN * len(lst))
    if type(value) is str:
        return value in lst
    try:
        first = lst.index(value)
    except ValueError:
        return False
    if deluge_equal(lst[first], value):
        return True
    return any(deluge_equal(item, value) for item in lst[first + 1:])


def _not_contains(lst: list[Any], value: Any) -> bool:
    """`notContains(v)`: the negation of contains. Zoho Deluge docs: List functions > notContains."""
    return not _contains(lst, value)


def _index_of(lst: list[Any], value: Any) -> int:
    """`indexOf(v)`: the index of the first element equal to v, -1 when absent (SPEC §10).

    Zoho Deluge docs: List functions > indexOf.
    """
    if len(lst) > _LONG:
        spend(_SCAN * len(lst))
    try:
        first = lst.index(value)
    except ValueError:
        return -1
    if type(value) is str or deluge_equal(lst[first], value):
        return first
    for i in range(first + 1, len(lst)):
        if deluge_equal(lst[i], value):
            return i
    return -1


def _last_index_of(lst: list[Any], value: Any) -> int:
    """`lastIndexOf(v)`: the index of the last element equal to v, -1 when absent (SPEC §10).

    Zoho Deluge docs: List functions > lastIndexOf.
    """
    if len(lst) > _LONG:
        spend(PYTHON_STEP // 4 * len(lst))  # Deluge's equality, in Python
    for i in range(len(lst) - 1, -1, -1):
        if deluge_equal(lst[i], value):
            return i
    return -1


# ---------------------------------------------------------------------------------------
# Removing


def _remove(lst: list[Any], index: Any) -> Any:
    """`remove(i)`: remove the element at index i and return it; out of range raises.

    Zoho Deluge docs: List functions > remove (by index); SPEC §10 (returns the element).
    """
    i = want_int("remove", 1, index)
    if 0 <= i < len(lst):
        return lst.pop(i)
    raise _out_of_range("remove", i, len(lst))


def _remove_element(lst: list[Any], value: Any) -> bool:
    """`removeElement(v)`: remove the first element equal to v; true when one was removed.

    Zoho Deluge docs: List functions > removeElement; SPEC §10 (first occurrence only).
    The boolean result is [chosen].
    """
    if len(lst) > _LONG:
        spend(PYTHON_STEP // 4 * len(lst))  # Deluge's equality, in Python
    for i, item in enumerate(lst):
        if deluge_equal(item, value):
            del lst[i]
            return True
    return False


def _remove_all(lst: list[Any], other: Any) -> bool:
    """`removeAll(list2)`: remove every element equal to any element of list2.

    Zoho Deluge docs: List functions > removeAll ("removes all elements present in list2
    from list1"); every occurrence goes [chosen]. True when something was removed [chosen].
    """
    if other is None:
        return False
    targets = want_list("removeAll", 1, other)
    kept = [item for item in lst if not _member(item, targets)]
    removed = len(kept) != len(lst)
    lst[:] = kept
    return removed


def _member(value: Any, items: list[Any]) -> bool:
    spend(_SCAN * len(items) + PYTHON_STEP)  # once per element of another list: quadratic
    if value not in items:
        return False
    if type(value) is str:
        return True
    return any(deluge_equal(value, item) for item in items)


# ---------------------------------------------------------------------------------------
# Ordering and sets


def _sort_family(value: Any) -> str:
    t = type(value)
    if t is int or t is Decimal:
        return "number"
    if isinstance(value, str):
        return "text"
    if t is DateTime:
        return "date"
    if t is bool:
        return "boolean"
    return type_name(value)


def _check_comparable(fname: str, items: list[Any]) -> None:
    """Raise unless every non-null element belongs to one comparable family."""
    first = None
    family = None
    for item in items:
        if item is None:
            continue
        kind = _sort_family(item)
        if family is None:
            if kind not in ("number", "text", "date", "boolean"):
                raise ScriptRuntimeError(f"{fname}: cannot order {kind} elements")
            first, family = item, kind
        elif kind != family:
            raise ScriptRuntimeError(
                f"{fname}: cannot order {type_name(first)} and {type_name(item)} elements "
                f"in one list")


def _null_first(value: Any) -> tuple[bool, Any]:
    return (value is not None, value)


def sort_values(fname: str, items: list[Any], ascending: Any = True,
                with_index: bool = False) -> list[Any]:
    """Sort `items` in place (or, `with_index`, return the sorted order of their indexes).

    Numbers order by value, text by code point, dates by time, false before true; nulls
    come first (last when descending) [chosen]; mixed families raise (SPEC §10).
    """
    asc = want_bool(fname, 1, ascending)
    _check_comparable(fname, items)
    n = len(items)
    if n > _LONG:
        spend(_SCAN * n * n.bit_length())  # about n log n comparisons
    has_null = None in items
    if n > 1 and not has_null and type(items[0]) is DateTime:
        # a DATETIME compares in Python; its instant once per element compares in C
        keys = [item._instant() for item in items]
        if with_index:
            return sorted(range(n), key=keys.__getitem__, reverse=not asc)
        order = sorted(range(n), key=keys.__getitem__, reverse=not asc)
        items[:] = [items[i] for i in order]
        return items
    if with_index:
        if has_null:
            return sorted(range(len(items)), key=lambda i: _null_first(items[i]),
                          reverse=not asc)
        return sorted(range(len(items)), key=items.__getitem__, reverse=not asc)
    if has_null:
        items.sort(key=_null_first, reverse=not asc)
    else:
        items.sort(reverse=not asc)
    return items


def _sort(lst: list[Any], ascending: Any = True) -> list[Any]:
    """`sort([asc])`: sort in place (ascending unless asc is false) and return the list.

    Zoho Deluge docs: List functions > sort (text by code point, so capitals sort before
    lower case); SPEC §10: mixed types raise. nulls sort first [chosen].
    """
    return sort_values("sort", lst, ascending)


def _hash_key(value: Any) -> Any:
    """A key under which Deluge-equal scalars collide, or None for values without one."""
    t = type(value)
    if t is str or t is int or t is Decimal:
        return value
    if t is bool:
        return ("bool", value)
    if value is None:
        return ("null",)
    if t is DateTime:
        return ("date", value.value)
    if isinstance(value, str):
        return str.__str__(value)
    return None


def _distinct(lst: list[Any]) -> list[Any]:
    """`distinct()`: a new list without duplicates, keeping first occurrences in order.

    Zoho Deluge docs: List functions > distinct.
    """
    seen: set[Any] = set()
    others: list[Any] = []
    result = []
    for item in lst:
        key = _hash_key(item)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        else:
            spend(PYTHON_STEP * (len(others) + 1))  # LISTs and MAPs are compared pairwise
            if any(deluge_equal(item, o) for o in others):
                continue
            others.append(item)
        result.append(item)
    return _same_kind_list(lst, result)


def _intersect(lst: list[Any], other: Any) -> list[Any]:
    """`intersect(list2)`: elements of the list also in list2, in the receiver's order, once each.

    Zoho Deluge docs: List functions > intersect; SPEC §10.
    """
    items = want_list("intersect", 1, other)
    common = [item for item in _distinct(lst) if _member(item, items)]
    return _same_kind_list(lst, common)


def _sub_list(lst: list[Any], start: Any, end: Any = None) -> list[Any]:
    """`subList(start[, end])`: a new list of elements start..end-1 (end defaults to the size).

    Zoho Deluge docs: List functions > subList. start or end outside 0..size, or end
    before start, raise [chosen; like subString in SPEC §10].
    """
    size = len(lst)
    s = want_int("subList", 1, start)
    e = size if end is None else want_int("subList", 2, end)
    if not 0 <= s <= size:
        raise _out_of_range("subList", s, size)
    if not 0 <= e <= size:
        raise _out_of_range("subList", e, size)
    if e < s:
        raise ScriptRuntimeError(f"subList: end index {e} is before start index {s}")
    return _same_kind_list(lst, lst[s:e])


# ---------------------------------------------------------------------------------------
# Aggregates


def _numbers(fname: str, lst: list[Any]) -> list[int | Decimal]:
    """The elements as numbers: numeric text is read as a number, anything else raises.

    Zoho Deluge docs: List functions > median ("Numerical values can be specified in double
    quotes"); the same reading is used by every numeric aggregate [chosen].
    """
    out: list[int | Decimal] = []
    for i, item in enumerate(lst):
        t = type(item)
        if t is int or t is Decimal:
            out.append(item)
        elif isinstance(item, str) and is_numeric_text(item):
            text = item.strip()
            out.append(check_number(int(text)) if text.lstrip("+-").isdigit() else Decimal(text))
        else:
            raise ScriptRuntimeError(
                f"{fname}: element {i} is {type_name(item)}, expected NUMBER or DECIMAL")
    return out


def _total(values: list[int | Decimal]) -> int | Decimal:
    if all(type(v) is int for v in values):
        return check_number(sum(values))  # type: ignore[arg-type]
    total = Decimal(0)
    for v in values:
        total = DECIMAL_CONTEXT.add(total, v)
    return total


def _sum(lst: list[Any]) -> int | Decimal:
    """`sum()`: the sum of the elements; NUMBER unless a DECIMAL is present; 0 when empty.

    SPEC §7 (List). Non-numeric elements raise [chosen].
    """
    return _total(_numbers("sum", lst))


def _average(lst: list[Any]) -> Decimal | None:
    """`average()`: the mean as a DECIMAL (SPEC §10), by decimal division; null when empty.

    Zoho Deluge docs: List functions > average. The empty-list result is [chosen].
    """
    values = _numbers("average", lst)
    if not values:
        return None
    return divide_decimal(Decimal(_total(values)), Decimal(len(values)))


def _ordered(fname: str, lst: list[Any]) -> list[Any]:
    """The non-null elements sorted ascending; one comparable family only."""
    _check_comparable(fname, lst)
    return sorted(v for v in lst if v is not None)


def _largest(lst: list[Any]) -> Any:
    """`largest()`: the greatest element (numbers, text or dates); null when empty.

    Zoho Deluge docs: List functions > largest. nulls are ignored [chosen].
    """
    ordered = _ordered("largest", lst)
    return ordered[-1] if ordered else None


def _smallest(lst: list[Any]) -> Any:
    """`smallest()`: the least element (numbers, text or dates); null when empty.

    Zoho Deluge docs: List functions > smallest. nulls are ignored [chosen].
    """
    ordered = _ordered("smallest", lst)
    return ordered[0] if ordered else None


def _median(lst: list[Any]) -> Any:
    """`median()`: the middle element of the sorted numbers; for an even count the DECIMAL
    mean of the middle two (SPEC §10); null when empty.

    Zoho Deluge docs: List functions > median.
    """
    values = sorted(_numbers("median", lst))
    n = len(values)
    if not n:
        return None
    if n % 2:
        return values[n // 2]
    pair = DECIMAL_CONTEXT.add(Decimal(values[n // 2 - 1]), Decimal(values[n // 2]))
    return divide_decimal(pair, Decimal(2))


def _nth(fname: str, lst: list[Any], n: Any, largest: bool) -> Any:
    position = want_int(fname, 1, n)
    ordered = _ordered(fname, lst)
    if not 1 <= position <= len(ordered):
        raise ScriptRuntimeError(
            f"{fname}: position {position} is out of range for a LIST of {len(ordered)} "
            f"element{'s' if len(ordered) != 1 else ''} (positions count from 1)")
    return ordered[-position] if largest else ordered[position - 1]


def _nth_largest(lst: list[Any], n: Any) -> Any:
    """`nthLargest(n)`: the n-th greatest element, counting from 1 (SPEC §10).

    Zoho Deluge docs: List functions > nthLargest (`{300,455,124,926,780}.nthLargest(5)` is
    124). Out of range raises [chosen].
    """
    return _nth("nthLargest", lst, n, True)


def _nth_smallest(lst: list[Any], n: Any) -> Any:
    """`nthSmallest(n)`: the n-th least element, counting from 1 (SPEC §10).

    Zoho Deluge docs: List functions > nthSmallest. Out of range raises [chosen].
    """
    return _nth("nthSmallest", lst, n, False)


# The numeric and ordering aggregates, shared with COLLECTION (maps): (name, fn, min, max).
AGGREGATES: tuple[tuple[str, Callable[..., Any], int, int], ...] = (
    ("sum", _sum, 0, 0),
    ("average", _average, 0, 0),
    ("largest", _largest, 0, 0),
    ("smallest", _smallest, 0, 0),
    ("median", _median, 0, 0),
    ("nthLargest", _nth_largest, 1, 1),
    ("nthSmallest", _nth_smallest, 1, 1),
)

METHODS: list[Builtin] = [
    method("add", _add, _LIST, 1),
    method("addAll", _add_all, _LIST, 1),
    method("get", _get, _LIST, 1),
    method("size", _size, _LIST),
    method("isEmpty", _is_empty, _LIST),
    method("clear", _clear, _LIST),
    method("toList", _to_list, _LIST),
    method("contains", _contains, _LIST, 1),
    method("notContains", _not_contains, _LIST, 1),
    method("indexOf", _index_of, _LIST, 1),
    method("lastIndexOf", _last_index_of, _LIST, 1),
    method("remove", _remove, _LIST, 1),
    method("removeElement", _remove_element, _LIST, 1),
    method("removeAll", _remove_all, _LIST, 1),
    method("sort", _sort, _LIST, 0, 1),
    method("distinct", _distinct, _LIST),
    method("intersect", _intersect, _LIST, 1),
    method("subList", _sub_list, _LIST, 1, 2),
    *(method(name, fn, _LIST, lo, hi) for name, fn, lo, hi in AGGREGATES),
]

FUNCTIONS: list[Builtin] = []
