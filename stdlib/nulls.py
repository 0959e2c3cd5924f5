"""Null and type checks, the value constructors (`Map()`, `List()`, `Collection()`) and `ifnull`.

These built-ins answer for a value of any type (receiver ANY), null included, so
`x.isNull()` and `x.toString()` work whatever `x` holds. A type with its own row of the
same name takes precedence (DATETIME's `toString(pattern)` lives with the dates).
"""

from __future__ import annotations

__all__ = [
    "FUNCTIONS",
    "METHODS",
    "convert_element",
    "is_numeric_text",
    "new_typed_list",
    "typed_list_name",
]

import re
from decimal import Decimal
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import check_collection
from sluicegate.values import (
    BOOLEAN, DATETIME, DECIMAL, MAP, NUMBER, TEXT, Collection, DateTime, File, TypedList,
    check_number, display, type_name,
)

from .builtin import ANY, Builtin, function, method

# ---------------------------------------------------------------------------------------
# Typed lists

# Deluge type names a `List:<Type>()` may use, by lower-cased spelling. Zoho Deluge docs:
# "Create list of specific data type" (String, Int/Bigint, Decimal, Timestamp, Boolean)
# and the older "List Manipulations" page (List:String, Int, Date, Bool, Float).
_LIST_TYPES: dict[str, str] = {
    "string": TEXT, "text": TEXT,
    "int": NUMBER, "integer": NUMBER, "bigint": NUMBER, "long": NUMBER, "number": NUMBER,
    "decimal": DECIMAL, "float": DECIMAL, "double": DECIMAL,
    "bool": BOOLEAN, "boolean": BOOLEAN,
    "date": DATETIME, "datetime": DATETIME, "timestamp": DATETIME, "time": DATETIME,
    "map": MAP,
}

# How messages name each kind of typed list.
_TYPED_LIST_NAMES: dict[str, str] = {
    TEXT: "List:String", NUMBER: "List:Int", DECIMAL: "List:Decimal",
    BOOLEAN: "List:Bool", DATETIME: "List:Date", MAP: "List:Map",
}

_WHOLE_TEXT = re.compile(r"[+-]?\d+")
_NUMERIC_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")


def new_typed_list(type_name_: str, *initial: Any) -> TypedList:
    """`List:String()`, `List:Int()`, ...: a list that converts or rejects what it holds.

    The translator calls this for the `List:<Type>(...)` constructor; an optional LIST
    argument gives the first elements, converted like added ones. Zoho Deluge docs:
    "Create list of specific data type".
    """
    kind = _LIST_TYPES.get(type_name_.lower())
    if kind is None:
        known = "String, Int, Decimal, Bool, Date, Map"
        raise ScriptRuntimeError(f"Unknown list type 'List:{type_name_}' (known: {known})")
    if len(initial) > 1:
        raise ScriptRuntimeError(
            f"Function 'List:{type_name_}' expects 0 to 1 arguments but got {len(initial)}")
    if not initial or initial[0] is None:
        return TypedList(kind, ())
    source = initial[0]
    if not isinstance(source, list):
        raise ScriptRuntimeError(
            f"Argument 1 of List:{type_name_} must be LIST but found {type_name(source)}")
    name = typed_list_name(kind)
    return TypedList(kind, [convert_element(name, kind, v) for v in source])


def typed_list_name(element_type: str) -> str:
    """`List:Int` and so on, as messages print a typed list."""
    return _TYPED_LIST_NAMES.get(element_type, f"List:{element_type}")


def is_numeric_text(text: str) -> bool:
    """Whether text (spaces around allowed) is a plain decimal number: `12`, `-3.5`, `.5`."""
    return _NUMERIC_TEXT.fullmatch(text.strip()) is not None


def _reject(fname: str, element_type: str, value: Any, wants: str) -> ScriptRuntimeError:
    shown = display(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return ScriptRuntimeError(
        f"{fname}: {typed_list_name(element_type)} accepts only {wants} but got "
        f"{type_name(value)} '{shown}'")


def convert_element(fname: str, element_type: str, value: Any) -> Any:
    """The value a typed list stores for `value`, or a clear error naming `fname`.

    Zoho Deluge docs, "Create list of specific data type": a text list turns numbers,
    decimals, dates and booleans into text; a number list takes only whole numbers, written
    with or without quotes, and raises for anything else. Decimal, boolean and date lists
    follow the same pattern [chosen]. null is stored as null in every typed list [chosen].
    """
    if value is None:
        return None
    t = type(value)
    if element_type == TEXT:
        if isinstance(value, str):
            return value
        if t is int or t is Decimal or t is bool or t is DateTime:
            return display(value)
        raise _reject(fname, element_type, value, "text, numbers, dates and booleans")
    if element_type == NUMBER:
        if t is int:
            return value
        if isinstance(value, str):
            text = value.strip()
            if _WHOLE_TEXT.fullmatch(text):
                return check_number(int(text))
        raise _reject(fname, element_type, value, "whole numbers")
    if element_type == DECIMAL:
        if t is Decimal:
            return value
        if t is int:
            return Decimal(value).quantize(Decimal("0.1"))
        if isinstance(value, str) and is_numeric_text(value):
            return Decimal(value.strip())
        raise _reject(fname, element_type, value, "numbers")
    if element_type == BOOLEAN:
        if t is bool:
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _reject(fname, element_type, value, "true or false")
    if element_type == DATETIME:
        if t is DateTime:
            return value
        raise _reject(fname, element_type, value, "dates")
    if element_type == MAP:
        if isinstance(value, dict):
            return value
        raise _reject(fname, element_type, value, "maps")
    return value


# ---------------------------------------------------------------------------------------
# Constructors


def _map_constructor(*args: Any) -> dict[Any, Any]:
    """`Map()` / `map()`: a new empty MAP; `Map(m)` a shallow copy of the MAP m.

    Zoho Deluge docs: Map functions > Create map (`Map()`); the copy form is [seen] in
    real scripts; null gives an empty map [chosen].
    """
    if not args or args[0] is None:
        return {}
    source = args[0]
    if isinstance(source, dict):
        return dict(source)
    if type(source) is Collection and source.keyed:
        return dict(source.items)
    raise ScriptRuntimeError(f"Argument 1 of Map must be MAP but found {type_name(source)}")


def _list_constructor(*args: Any) -> list[Any]:
    """`List()` / `list()`: a new empty LIST; `List(l)` copies l; `List("a,b")` splits at commas.

    Zoho Deluge docs: List manipulations > Create list ("If the text value has a comma,
    words (or empty strings) on either side of the comma will be considered as individual
    list elements"); null gives an empty list [chosen].
    """
    if not args or args[0] is None:
        return []
    source = args[0]
    if isinstance(source, list):
        return list(source)
    if isinstance(source, str):
        parts = str.__str__(source).split(",")
        if len(parts) > 65536:
            check_collection(len(parts))
        return parts
    if type(source) is Collection:
        return list(source.items.values() if source.keyed else source.items)
    raise ScriptRuntimeError(
        f"Argument 1 of List must be LIST or TEXT but found {type_name(source)}")


def _collection_constructor(*args: Any) -> Collection:
    """`Collection()`, `Collection(v1, v2)`, `Collection(k1: v1, k2: v2)`.

    Zoho Deluge docs: Collection > Create collection. The first element fixes the kind:
    `key: value` elements (passed by the translator as tuples) make a key-value collection,
    plain values an index-value one; mixing both raises.
    """
    result = Collection()
    if not args:
        return result
    keyed = type(args[0]) is tuple
    if keyed:
        items: dict[Any, Any] = {}
        for arg in args:
            if type(arg) is not tuple:
                raise ScriptRuntimeError(
                    "Collection: cannot mix key:value pairs and plain values")
            items[arg[0]] = arg[1]
        result.items = items
    else:
        for arg in args:
            if type(arg) is tuple:
                raise ScriptRuntimeError(
                    "Collection: cannot mix key:value pairs and plain values")
        result.items = list(args)
    result.keyed = keyed
    return result


def _ifnull(value: Any, fallback: Any) -> Any:
    """`ifnull(a, b)`: b when a is null, else a; `""` is kept.

    Zoho Deluge docs: Null functions > ifNull; SPEC §10 ("ifnull replaces only null").
    """
    return fallback if value is None else value


# ---------------------------------------------------------------------------------------
# Checks answered by every type


def _is_null(value: Any) -> bool:
    """`isNull`: true for null and for empty text (`" "` is not null).

    Zoho Deluge docs: Logical functions > isNull; SPEC §10 (`isNull("")` is true).
    """
    return value is None or (isinstance(value, str) and not value)


def _is_empty(value: Any) -> bool:
    """`isEmpty`: true for null, empty text, and a LIST, MAP or COLLECTION with no elements.

    Zoho Deluge docs: Logical functions > isEmpty (`" ".isEmpty()` is false); a NUMBER,
    DECIMAL, BOOLEAN, DATETIME or FILE is never empty [chosen].
    """
    if value is None:
        return True
    if isinstance(value, (str, list, dict)):
        return not value
    if type(value) is Collection:
        return not value.items
    return False


def _is_blank(value: Any) -> bool:
    """`isBlank`: like isEmpty, and text made only of whitespace is blank too.

    Zoho Deluge docs: Logical functions > isBlank.
    """
    if isinstance(value, str):
        return not value.strip()
    return _is_empty(value)


def _is_number(value: Any) -> bool:
    """`isNumber`: true for a NUMBER or DECIMAL, and for text that is a plain number.

    Zoho Deluge docs: Type check functions > isNumber (checks whether the text is a number);
    `"12.5"`, `"-3"` and `" 7 "` count, `"1e3"`, `"12a"` and `""` do not [chosen].
    """
    t = type(value)
    if t is int or t is Decimal:
        return True
    if isinstance(value, str):
        return is_numeric_text(value)
    return False


def _is_text(value: Any) -> bool:
    """`isText`: true for a TEXT value. Zoho Deluge docs: Type check functions > isText."""
    return isinstance(value, str)


def _is_list(value: Any) -> bool:
    """`isList`: true for a LIST (a typed list too) [chosen: named in SPEC §7]."""
    return isinstance(value, list)


def _is_map(value: Any) -> bool:
    """`isMap`: true for a MAP, a literal `{}` included [chosen: named in SPEC §7]."""
    return isinstance(value, dict)


def _is_file(value: Any) -> bool:
    """`isFile`: true for a FILE. Zoho Deluge docs: Type check functions > isFile."""
    return type(value) is File


def _to_string(value: Any) -> str:
    """`toString` / `toText`: the display form of SPEC §6 (a MAP gives compact JSON).

    Zoho Deluge docs: Common functions > toString; null gives `""` (its display form).
    """
    return display(value)


METHODS: list[Builtin] = [
    method("isNull", _is_null, ANY),
    method("isEmpty", _is_empty, ANY),
    method("isBlank", _is_blank, ANY),
    method("isNumber", _is_number, ANY),
    method("isText", _is_text, ANY),
    method("isList", _is_list, ANY),
    method("isMap", _is_map, ANY),
    method("isFile", _is_file, ANY),
    method(("toString", "toText"), _to_string, ANY),
]

FUNCTIONS: list[Builtin] = [
    function("Map", _map_constructor, 0, 1),
    function("List", _list_constructor, 0, 1),
    function("Collection", _collection_constructor, 0, None),
    function("ifnull", _ifnull, 2),
]
