"""MAP and COLLECTION methods: putting, reading, searching and removing keys and values.

A MAP is a Python dict in insertion order; a literal `{}` (BraceMap) is a MAP in every
respect here. `1` and `"1"` are different keys (SPEC §10). Values are compared with the
`==` of SPEC §3 (`values.deluge_equal`). A COLLECTION is index-value (like a LIST) or
key-value (like a MAP), fixed by its first insert; the translator passes a `key: value`
argument as a Python tuple `(key, value)`.
"""

from __future__ import annotations

__all__ = ["FUNCTIONS", "METHODS"]

from collections.abc import Callable
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import PYTHON_STEP, check_collection, spend
from sluicegate.values import Collection, deluge_equal, type_name

from .args import want_int, want_list, want_map
from .builtin import Builtin, method
from .lists import AGGREGATES, sort_values

_MAP = "MAP"
_COLLECTION = "COLLECTION"
_CHECK_FLOOR = 65536


def _bad_key(fname: str, key: Any) -> ScriptRuntimeError:
    return ScriptRuntimeError(f"{fname}: a {type_name(key)} cannot be a map key")


def _has_value(values: Any, value: Any) -> bool:
    if len(values) > 4096:
        spend(PYTHON_STEP * len(values))
    for item in values:
        if deluge_equal(item, value):
            return True
    return False


# ---------------------------------------------------------------------------------------
# MAP


_NO_VALUE = object()


def _put(m: dict[Any, Any], key: Any, value: Any = _NO_VALUE) -> None:
    """`put(k, v)`: set key k to v; an existing key keeps its place (insertion order).

    Zoho Deluge docs: Map functions > put. `put(otherMap)` with one MAP argument puts all
    of its keys, as `putAll` [seen: published Cliq and CRM scripts write it].
    """
    if value is _NO_VALUE:
        if not isinstance(key, dict):
            raise ScriptRuntimeError("Function 'put' expects 2 arguments (a key and a value)"
                                     " but got 1 that is not a MAP")
        _put_all(m, key)
        return
    try:
        m[key] = value
    except TypeError:
        raise _bad_key("put", key) from None
    if len(m) > _CHECK_FLOOR:
        check_collection(len(m))


def _put_all(m: dict[Any, Any], other: Any) -> None:
    """`putAll(m2)`: put every key of m2, m2's values winning. Zoho Deluge docs: Map > putAll.

    A null argument puts nothing [chosen].
    """
    if other is None:
        return
    source = want_map("putAll", 1, other)
    if len(m) + len(source) > _CHECK_FLOOR:
        check_collection(len(m) + sum(1 for key in source if key not in m))
    m.update(source)


def _get(m: dict[Any, Any], key: Any) -> Any:
    """`get(k)`: the value of key k, null when absent (SPEC §10). Zoho Deluge docs: Map > get."""
    try:
        return m.get(key)
    except TypeError:
        return None


def _keys(m: dict[Any, Any]) -> list[Any]:
    """`keys()`: the keys as a LIST in insertion order. Zoho Deluge docs: Map > keys."""
    return list(m)


def _values(m: dict[Any, Any]) -> list[Any]:
    """`values()`: the values as a LIST in insertion order. Zoho Deluge docs: Map > values."""
    return list(m.values())


def _remove(m: dict[Any, Any], key: Any) -> Any:
    """`remove(k)`: remove key k and return its value; a missing key does nothing and gives
    null (SPEC §10). Zoho Deluge docs: Map functions > remove.
    """
    try:
        return m.pop(key, None)
    except TypeError:
        return None


def _size(m: dict[Any, Any]) -> int:
    """`size()`: the number of keys. Zoho Deluge docs: Map functions > size."""
    return len(m)


def _is_empty(m: dict[Any, Any]) -> bool:
    """`isEmpty()`: true when the map has no key. Zoho Deluge docs: Map functions > isEmpty."""
    return not m


def _clear(m: dict[Any, Any]) -> None:
    """`clear()`: remove every key. Zoho Deluge docs: Map functions > clear."""
    m.clear()


def _contains_key(m: dict[Any, Any], key: Any) -> bool:
    """`containKey(k)` / `containsKey(k)`: whether key k is present.

    Zoho Deluge docs: Map functions > containKey; the `containsKey` spelling is [seen].
    """
    try:
        return key in m
    except TypeError:
        return False


def _contains_value(m: dict[Any, Any], value: Any) -> bool:
    """`containValue(v)` / `containsValue(v)`: whether some key has a value equal to v.

    Zoho Deluge docs: Map functions > containValue; `containsValue` is [seen].
    """
    return _has_value(m.values(), value)


# ---------------------------------------------------------------------------------------
# COLLECTION


def _fix_kind(fname: str, c: Collection, keyed: bool) -> None:
    """Fix the collection's kind on first use; refuse the other kind afterwards."""
    if c.keyed is None:
        if not c.items:
            c.items = {} if keyed else []
        c.keyed = keyed
    elif c.keyed != keyed:
        kind = "key-value" if c.keyed else "index-value"
        raise ScriptRuntimeError(
            f"{fname}: this collection is {kind} and cannot take "
            f"{'key:value pairs' if keyed else 'plain values'}")


def _insert(c: Collection, *elements: Any) -> None:
    """`insert(v, ...)` / `insert(k: v, ...)`: append values, or put key-value pairs.

    Zoho Deluge docs: Collection functions > insert. The first insert fixes the kind;
    mixing plain values and pairs raises [chosen].
    """
    for element in elements:
        if type(element) is tuple:
            _fix_kind("insert", c, True)
            key, value = element
            try:
                c.items[key] = value
            except TypeError:
                raise _bad_key("insert", key) from None
        else:
            _fix_kind("insert", c, False)
            c.items.append(element)  # type: ignore[union-attr]
    if len(c.items) > _CHECK_FLOOR:
        check_collection(len(c.items))


def _insert_all(c: Collection, other: Any) -> None:
    """`insertAll(c2)`: insert every element (or pair) of a COLLECTION, LIST or MAP.

    Zoho Deluge docs: Collection functions > insertAll.
    """
    if other is None:
        return
    if type(other) is Collection:
        if other.keyed:
            _insert(c, *other.items.items())  # type: ignore[union-attr]
        else:
            _insert(c, *other.items)
    elif isinstance(other, dict):
        _insert(c, *other.items())
    elif isinstance(other, list):
        _insert(c, *other)
    else:
        raise ScriptRuntimeError(
            f"Argument 1 of insertAll must be COLLECTION, LIST or MAP but found "
            f"{type_name(other)}")


def _coll_get(c: Collection, key: Any) -> Any:
    """`get(i)` / `get(k)`: the element at 0-based index i (out of range raises, SPEC §10) or
    the value of key k (null when absent). Zoho Deluge docs: Collection functions > get.
    """
    items = c.items
    if c.keyed:
        try:
            return items.get(key)  # type: ignore[union-attr]
        except TypeError:
            return None
    i = want_int("get", 1, key)
    if 0 <= i < len(items):
        return items[i]  # type: ignore[index]
    raise ScriptRuntimeError(
        f"Index {i} is out of range for get on a COLLECTION of size {len(items)}")


def _coll_keys(c: Collection) -> list[Any]:
    """`keys()`: the keys of a key-value collection, the indexes of an index-value one.

    Zoho Deluge docs: Collection functions > keys.
    """
    if c.keyed:
        return list(c.items)
    return list(range(len(c.items)))


def _coll_values(c: Collection) -> list[Any]:
    """`values()`: the values as a LIST. Zoho Deluge docs: Collection functions > values."""
    if c.keyed:
        return list(c.items.values())  # type: ignore[union-attr]
    return list(c.items)


def _coll_size(c: Collection) -> int:
    """`size()`: the number of elements. Zoho Deluge docs: Collection functions > size."""
    return len(c.items)


def _coll_is_empty(c: Collection) -> bool:
    """`isEmpty()`: true with no elements. Zoho Deluge docs: Collection functions > isEmpty."""
    return not c.items


def _coll_clear(c: Collection) -> None:
    """`clear()`: remove every element (the kind stays). Zoho Deluge docs: Collection > clear."""
    c.items.clear()


def _coll_contains_key(c: Collection, key: Any) -> bool:
    """`containsKey(k)`: a key of a key-value collection, or a valid index of an index-value one.

    Zoho Deluge docs: Collection functions > containsKey.
    """
    if c.keyed:
        try:
            return key in c.items
        except TypeError:
            return False
    return type(key) is int and 0 <= key < len(c.items)


def _coll_values_iter(c: Collection) -> Any:
    return c.items.values() if c.keyed else c.items  # type: ignore[union-attr]


def _coll_contains_value(c: Collection, value: Any) -> bool:
    """`containsValue(v)`: whether an element (or value) equals v.

    Zoho Deluge docs: Collection functions > containsValue.
    """
    return _has_value(_coll_values_iter(c), value)


def _coll_not_contains(c: Collection, value: Any) -> bool:
    """`notContains(v)`: true when no element (or value) equals v.

    Zoho Deluge docs: Collection functions > notContains.
    """
    return not _has_value(_coll_values_iter(c), value)


def _coll_delete(c: Collection, value: Any) -> None:
    """`delete(v)`: remove the first element equal to v (index-value), or the first pair whose
    value equals v (key-value); nothing happens when absent.

    Zoho Deluge docs: Collection functions > delete (`Collection("Creator":5, "CRM":2)
    .delete(2)` leaves `{"Creator":5}`).
    """
    if c.keyed:
        for key, item in c.items.items():  # type: ignore[union-attr]
            if deluge_equal(item, value):
                del c.items[key]
                return
        return
    items: list[Any] = c.items  # type: ignore[assignment]
    for i, item in enumerate(items):
        if deluge_equal(item, value):
            del items[i]
            return


def _coll_delete_all(c: Collection, values: Any) -> None:
    """`deleteAll(list)`: delete every element (or pair) whose value is in the list.

    Zoho Deluge docs: Collection functions > deleteAll.
    """
    targets = want_list("deleteAll", 1, values)
    if c.keyed:
        c.items = {k: v for k, v in c.items.items()  # type: ignore[union-attr]
                   if not _has_value(targets, v)}
    else:
        c.items = [v for v in c.items if not _has_value(targets, v)]


def _coll_delete_key(c: Collection, key: Any) -> None:
    """`deleteKey(k)` / `deleteKey(i)`: delete a key and its value (nothing when absent), or the
    element at index i (out of range raises).

    Zoho Deluge docs: Collection functions > deleteKey.
    """
    if c.keyed:
        try:
            c.items.pop(key, None)  # type: ignore[call-arg]
        except TypeError:
            pass
        return
    i = want_int("deleteKey", 1, key)
    if not 0 <= i < len(c.items):
        raise ScriptRuntimeError(
            f"Index {i} is out of range for deleteKey on a COLLECTION of size {len(c.items)}")
    del c.items[i]


def _coll_delete_keys(c: Collection, keys: Any) -> None:
    """`deleteKeys(list)`: delete the listed keys, or the elements at the listed indexes.

    Zoho Deluge docs: Collection functions > deleteKeys (`products.deleteKeys({1, 2})`).
    Indexes refer to the collection before any deletion [chosen].
    """
    targets = want_list("deleteKeys", 1, keys)
    if c.keyed:
        for key in targets:
            _coll_delete_key(c, key)
        return
    indexes = {want_int("deleteKeys", 1, k) for k in targets}
    size = len(c.items)
    for i in indexes:
        if not 0 <= i < size:
            raise ScriptRuntimeError(
                f"Index {i} is out of range for deleteKeys on a COLLECTION of size {size}")
    c.items = [v for i, v in enumerate(c.items) if i not in indexes]


def _coll_get_key(c: Collection, value: Any) -> Any:
    """`getKey(v)`: the key (or index) of the first element equal to v; null when absent.

    Zoho Deluge docs: Collection functions > getKey.
    """
    if c.keyed:
        for key, item in c.items.items():  # type: ignore[union-attr]
            if deluge_equal(item, value):
                return key
        return None
    for i, item in enumerate(c.items):
        if deluge_equal(item, value):
            return i
    return None


def _coll_get_last_key(c: Collection, value: Any) -> Any:
    """`getLastKey(v)`: the key (or index) of the last element equal to v; null when absent.

    Zoho Deluge docs: Collection functions > getLastKey.
    """
    found = None
    pairs = c.items.items() if c.keyed else enumerate(c.items)  # type: ignore[union-attr]
    for key, item in pairs:
        if deluge_equal(item, value):
            found = key
    return found


def _coll_update(c: Collection, key: Any, value: Any) -> None:
    """`update(k, v)` / `update(i, v)`: replace the value of an existing key, or the element at
    index i. A missing key or index raises [chosen].

    Zoho Deluge docs: Collection functions > update.
    """
    if c.keyed:
        try:
            present = key in c.items
        except TypeError:
            present = False
        if not present:
            raise ScriptRuntimeError(f"update: key '{key}' is not in the collection")
        c.items[key] = value
        return
    i = want_int("update", 1, key)
    if not 0 <= i < len(c.items):
        raise ScriptRuntimeError(
            f"Index {i} is out of range for update on a COLLECTION of size {len(c.items)}")
    c.items[i] = value  # type: ignore[index]


def _coll_duplicate(c: Collection, *bounds: Any) -> Collection:
    """`duplicate([start, end])`: a new collection with the same elements (from index start to
    end-1 for an index-value collection).

    Zoho Deluge docs: Collection functions > duplicate.
    """
    copy = Collection()
    copy.keyed = c.keyed
    if c.keyed:
        copy.items = dict(c.items)
        return copy
    items: list[Any] = c.items  # type: ignore[assignment]
    size = len(items)
    start = want_int("duplicate", 1, bounds[0]) if bounds else 0
    end = want_int("duplicate", 2, bounds[1]) if len(bounds) > 1 else size
    if not 0 <= start <= end <= size:
        raise ScriptRuntimeError(
            f"duplicate: range {start} to {end} is out of range for a COLLECTION of size {size}")
    copy.items = items[start:end]
    return copy


def _coll_distinct(c: Collection) -> Collection:
    """`distinct()`: a new collection without repeated elements (first occurrences kept).

    Zoho Deluge docs: Collection functions > distinct. For a key-value collection the keys
    are already distinct: it is a copy [chosen].
    """
    copy = Collection()
    copy.keyed = c.keyed
    if c.keyed:
        copy.items = dict(c.items)
        return copy
    kept: list[Any] = []
    for item in c.items:
        if not _has_value(kept, item):
            kept.append(item)
    copy.items = kept
    return copy


def _coll_intersect(c: Collection, other: Any) -> Collection:
    """`intersect(c2)`: a new collection of the elements (or pairs) present in both.

    Zoho Deluge docs: Collection functions > intersect.
    """
    copy = Collection()
    copy.keyed = c.keyed
    if type(other) is Collection:
        other_values = list(_coll_values_iter(other))
        other_pairs = other.items if other.keyed else None
    elif isinstance(other, dict):
        other_values, other_pairs = list(other.values()), other
    elif isinstance(other, list):
        other_values, other_pairs = other, None
    else:
        raise ScriptRuntimeError(
            f"Argument 1 of intersect must be COLLECTION but found {type_name(other)}")
    if c.keyed:
        pairs = other_pairs or {}
        copy.items = {k: v for k, v in c.items.items()  # type: ignore[union-attr]
                      if k in pairs and deluge_equal(pairs[k], v)}
        return copy
    kept: list[Any] = []
    for item in c.items:
        if _has_value(other_values, item) and not _has_value(kept, item):
            kept.append(item)
    copy.items = kept
    return copy


def _coll_sort(c: Collection, ascending: Any = True) -> Collection:
    """`sort([asc])`: sort the elements (index-value) or the pairs by value (key-value) in
    place and return the collection. Zoho Deluge docs: Collection functions > sort.
    """
    if c.keyed:
        pairs = list(c.items.items())  # type: ignore[union-attr]
        order = sort_values("sort", [v for _, v in pairs], ascending, with_index=True)
        c.items = {pairs[i][0]: pairs[i][1] for i in order}
    else:
        sort_values("sort", c.items, ascending)  # type: ignore[arg-type]
    return c


def _coll_sort_key(c: Collection, ascending: Any = True) -> Collection:
    """`sortKey([asc])`: sort a key-value collection by its keys, in place; returns it.

    Zoho Deluge docs: Collection functions > sortKey.
    """
    if not c.keyed:
        raise ScriptRuntimeError("sortKey: the collection is not key-value")
    keys = list(c.items)
    sort_values("sortKey", keys, ascending)
    c.items = {k: c.items[k] for k in keys}
    return c


def _on_values(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A LIST aggregate applied to a COLLECTION's values."""
    def apply(c: Collection, *args: Any) -> Any:
        return fn(_coll_values(c), *args)

    apply.__name__ = fn.__name__
    apply.__doc__ = (fn.__doc__ or "") + (
        "\n\nOn a COLLECTION it reads the values (Zoho Deluge docs: Number functions > "
        "nthLargest, `Collection(300,455,124,926,780).nthlargest(5)`).")
    return apply


METHODS: list[Builtin] = [
    method("put", _put, _MAP, 1, 2),
    method("putAll", _put_all, _MAP, 1),
    method("get", _get, _MAP, 1),
    method("keys", _keys, _MAP),
    method("values", _values, _MAP),
    method("remove", _remove, _MAP, 1),
    method("size", _size, _MAP),
    method("isEmpty", _is_empty, _MAP),
    method("clear", _clear, _MAP),
    method(("containKey", "containsKey"), _contains_key, _MAP, 1),
    method(("containValue", "containsValue"), _contains_value, _MAP, 1),
    method("insert", _insert, _COLLECTION, 1, None),
    method("insertAll", _insert_all, _COLLECTION, 1),
    method("get", _coll_get, _COLLECTION, 1),
    method("keys", _coll_keys, _COLLECTION),
    method("values", _coll_values, _COLLECTION),
    method("size", _coll_size, _COLLECTION),
    method("isEmpty", _coll_is_empty, _COLLECTION),
    method("clear", _coll_clear, _COLLECTION),
    method(("containsKey", "containKey"), _coll_contains_key, _COLLECTION, 1),
    method(("containsValue", "containValue", "contains"), _coll_contains_value, _COLLECTION, 1),
    method("notContains", _coll_not_contains, _COLLECTION, 1),
    method("delete", _coll_delete, _COLLECTION, 1),
    method("deleteAll", _coll_delete_all, _COLLECTION, 1),
    method("deleteKey", _coll_delete_key, _COLLECTION, 1),
    method("deleteKeys", _coll_delete_keys, _COLLECTION, 1),
    method("getKey", _coll_get_key, _COLLECTION, 1),
    method("getLastKey", _coll_get_last_key, _COLLECTION, 1),
    method("update", _coll_update, _COLLECTION, 2),
    method("duplicate", _coll_duplicate, _COLLECTION, 0, 2),
    method("distinct", _coll_distinct, _COLLECTION),
    method("intersect", _coll_intersect, _COLLECTION, 1),
    method("sort", _coll_sort, _COLLECTION, 0, 1),
    method("sortKey", _coll_sort_key, _COLLECTION, 0, 1),
    *(method(name, _on_values(fn), _COLLECTION, lo, hi) for name, fn, lo, hi in AGGREGATES),
]

FUNCTIONS: list[Builtin] = []
