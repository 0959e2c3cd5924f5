"""The one method dispatcher: (value type, lower-cased method name) -> stdlib built-in.

Generated code calls `call_method(receiver, "spelling", *args)` for every `.method(...)`
on a script value and `call_function(...)` for a built-in called by name. Names are
case-insensitive; the spelling the script used is remembered in the tables after its
first lookup so later calls cost two dictionary reads. The tables fill as names are first
used (`stdlib.tables`): a lookup that misses loads the modules defining the name
(`ensure`) and looks again.
"""

from __future__ import annotations

__all__ = ["call_method", "call_function", "lookup_method", "arity_error", "unknown_method",
           "method_caller", "suggest_method"]

from decimal import Decimal
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.integrations.records import RecordSet
from sluicegate.stdlib.builtin import ANY, Builtin
from sluicegate.stdlib.tables import FUNCTIONS, METHODS, ensure, method_names

from .values import (
    BOOLEAN, COLLECTION, DATETIME, DECIMAL, FILE, LIST, MAP, NULL, NUMBER, TEXT, BraceMap,
    CaughtError, Collection, DateTime, File, TypedList, display, type_name,
)

_TAGS: dict[type, str] = {
    str: TEXT, CaughtError: TEXT, int: NUMBER, Decimal: DECIMAL, bool: BOOLEAN,
    type(None): NULL, DateTime: DATETIME, list: LIST, TypedList: LIST, dict: MAP,
    BraceMap: MAP, Collection: COLLECTION, File: FILE,
}
_ANY_TABLE = METHODS[ANY]
# Spellings seen in scripts are added to the tables; bound the growth per table.
_MAX_SPELLINGS = 4096


def _tag(value: Any) -> str:
    tag = _TAGS.get(type(value))
    return tag if tag is not None else type_name(value)


def suggest_method(tag: str, name: str) -> str | None:
    """The method of this type a misspelt `name` most probably meant (did-you-mean)."""
    import difflib  # imported when first used (cold start)

    lowered = {n.lower(): n for n in method_names(tag)}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[close[0]] if close else None


def unknown_method(tag: str, name: str) -> ScriptRuntimeError:
    if tag == NULL:
        return ScriptRuntimeError(f"Cannot call '{name}' on a null value")
    close = suggest_method(tag, name)
    hint = f" (did you mean '{close}'?)" if close else ""
    return ScriptRuntimeError(f"Unknown function '{name}' for {tag}{hint}")


def arity_error(row: Builtin, given: int, function_form: bool = False) -> ScriptRuntimeError:
    """`given` counts what the script wrote; a method called in function form
    (`daysBetween(a, b)`) takes its receiver as the first argument, so it counts too."""
    lo, hi = row.min_args, row.max_args
    if function_form:
        lo, hi = lo + 1, (hi + 1 if hi is not None else None)
    if hi == lo:
        want = f"{lo} argument{'s' if lo != 1 else ''}"
    elif hi is None:
        want = f"at least {lo} argument{'s' if lo != 1 else ''}"
    else:
        want = f"{lo} to {hi} arguments"
    return ScriptRuntimeError(f"Function '{row.name}' expects {want} but got {given}")


def lookup_method(tag: str, name: str) -> Builtin | None:
    table = METHODS.get(tag)
    if table is None:
        return None
    row = table.get(name)
    if row is not None:
        return row
    lower = name.lower()
    ensure(lower)
    row = table.get(lower) or _ANY_TABLE.get(lower)
    if row is not None and len(table) < _MAX_SPELLINGS:
        table[name] = row
    return row


def _as_text(row: Builtin) -> Builtin:
    """A TEXT method applied to a DATETIME's text (`zoho.currenttime.indexOf(" ")`, as
    published scripts do: the vendor converts the value to its display text)."""
    def on_text(receiver: Any, *args: Any) -> Any:
        return row.fn(display(receiver), *args)
    return Builtin(row.names, on_text, row.min_args, row.max_args, row.receivers,
                   row.function_form)


_TEXT_ON_DATETIME: dict[str, Builtin] = {}


def _method_row(tag: str, name: str, receiver: Any = None) -> Builtin | None:
    """The built-in for `name` on a value of `tag`; a DATETIME also answers TEXT methods
    it has none of its own for, a Creator fetch kept in a variable `count()`."""
    row = lookup_method(tag, name)
    if row is None and type(receiver) is RecordSet:
        from sluicegate.integrations.forms import RECORD_METHODS  # loaded by the fetch

        return RECORD_METHODS.get(name.lower())
    if row is None and tag == DATETIME:
        text_row = lookup_method(TEXT, name)
        if text_row is not None:
            row = _TEXT_ON_DATETIME.get(name)
            if row is None:
                row = _TEXT_ON_DATETIME[name] = _as_text(text_row)
    return row


def call_method(receiver: Any, name: str, *args: Any) -> Any:
    tag = _TAGS.get(type(receiver)) or _tag(receiver)
    row = METHODS[tag].get(name) if tag in METHODS else None
    if row is None:
        row = _method_row(tag, name, receiver)
        if row is None:
            raise unknown_method(tag, name)
    n = len(args)
    if n < row.min_args or (row.max_args is not None and n > row.max_args):
        raise arity_error(row, n)
    return row.fn(receiver, *args)


# ---- per-call-site callers -------------------------------------------------------------
# A call site knows its method spelling and argument count when it is compiled; what is
# left to find at run time depends only on the receiver's type. `method_caller(name, n)`
# gives a function that remembers the built-in per receiver type, so a warm call is one
# dictionary read and the call itself (the generic `call_method` reads four tables and
# checks the arity on every call). Errors are the same as `call_method`'s.
_CALLERS: dict[tuple[str, int], Any] = {}
_CALLERS_MAX = 4096


def method_caller(name: str, nargs: int) -> Any:
    key = (name, nargs)
    caller = _CALLERS.get(key)
    if caller is None:
        caller = _make_caller(name, nargs)
        if len(_CALLERS) < _CALLERS_MAX:
            _CALLERS[key] = caller
    return caller


def _make_caller(name: str, nargs: int) -> Any:
    cache: dict[type, Any] = {}

    def resolve(receiver: Any) -> Any:
        kind = type(receiver)
        tag = _TAGS.get(kind) or _tag(receiver)
        row = _method_row(tag, name, receiver) if tag in METHODS else None
        if row is None:
            raise unknown_method(tag, name)
        if nargs < row.min_args or (row.max_args is not None and nargs > row.max_args):
            raise arity_error(row, nargs)
        if kind in _TAGS:  # the answer depends on the type alone
            cache[kind] = row.fn
        return row.fn

    get = cache.get
    if nargs == 0:
        def call0(receiver: Any) -> Any:
            return (get(type(receiver)) or resolve(receiver))(receiver)
        return call0
    if nargs == 1:
        def call1(receiver: Any, a: Any) -> Any:
            return (get(type(receiver)) or resolve(receiver))(receiver, a)
        return call1
    if nargs == 2:
        def call2(receiver: Any, a: Any, b: Any) -> Any:
            return (get(type(receiver)) or resolve(receiver))(receiver, a, b)
        return call2

    def call(receiver: Any, *args: Any) -> Any:
        return (get(type(receiver)) or resolve(receiver))(receiver, *args)
    return call


def call_function(name: str, *args: Any) -> Any:
    """A built-in called by name: a FUNCTIONS row, else the method form on the first argument."""
    lower = name.lower()
    row = FUNCTIONS.get(lower)
    if row is None and ensure(lower):
        row = FUNCTIONS.get(lower)
    if row is not None:
        n = len(args)
        if n < row.min_args or (row.max_args is not None and n > row.max_args):
            raise arity_error(row, n)
        return row.fn(*args)
    if not args:
        method = lookup_any_method(name)
        if method is None or not method.function_form:
            raise ScriptRuntimeError(f"Unknown function '{name}'")
        raise arity_error(method, 0, function_form=True)
    tag = _tag(args[0])
    method = _method_row(tag, name)
    if method is None or not method.function_form:
        if lookup_any_method(name) is None:
            raise ScriptRuntimeError(f"Unknown function '{name}'")
        raise unknown_method(tag, name)
    n = len(args) - 1
    if n < method.min_args or (method.max_args is not None and n > method.max_args):
        raise arity_error(method, len(args), function_form=True)
    return call_method(args[0], name, *args[1:])


def lookup_any_method(name: str) -> Builtin | None:
    """The first method row of any type with this name (used by `check` and function form)."""
    lower = name.lower()
    ensure(lower)
    for table in METHODS.values():
        row = table.get(lower)
        if row is not None:
            return row
    return None
