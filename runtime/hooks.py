"""The functions generated code calls, by their fixed `dg_*` names.

The translator emits calls to these names only (translator.HELPERS); the sandbox binds
exactly this table, plus the step-budget hooks it adds itself. Nothing else is reachable
from a script: the globals of generated code hold these and an empty `__builtins__`.
The hooks of `LAZY_HOOKS` live in modules most scripts never need (date literals, tasks,
Creator forms): the sandbox binds those a script's code names (`lazy_hooks`), importing
their module then.
"""

from __future__ import annotations

__all__ = ["HOOKS", "LAZY_HOOKS", "lazy_hooks", "CATCHABLE", "caught_value", "error_message"]

from collections.abc import Iterable
from importlib import import_module
from typing import Any

from sluicegate.integrations.records import CreatorRecord, RecordSet
from sluicegate.stdlib.tables import FUNCTIONS, TASKS, ensure, load_all

from . import operators as ops
from .dispatch import arity_error, call_function, call_method
from .errors import DelugeError, LimitExceeded, ScriptRuntimeError
from .limits import RunContext
from .positions import locate, variable_from_name_error
from .values import BraceMap, CaughtError, Collection, clean_text, display, type_name

# What a script's catch catches: script errors, reads of undefined variables, and the
# arithmetic traps of exact decimals (a product past 10^100000 is "Number out of range").
CATCHABLE = (DelugeError, NameError, ArithmeticError)


def error_message(exc: BaseException) -> str:
    """The message a user sees for an error a script raised."""
    if isinstance(exc, NameError):
        name = variable_from_name_error(exc)
        return f"Variable '{name}' is not defined" if name else "Undefined variable"
    if isinstance(exc, (DelugeError, LimitExceeded)):
        return clean_text(exc.message)
    if isinstance(exc, ZeroDivisionError):  # decimal.DivisionByZero derives from it
        return "Division by zero"
    if isinstance(exc, ArithmeticError):
        return "Number out of range"
    return str(exc)


def caught_value(exc: BaseException) -> CaughtError:
    """The value bound by `catch (e)`: the message, answering e.message and e.lineNo."""
    line, _ = locate(exc.__traceback__)
    if line is None and isinstance(exc, DelugeError):
        line = exc.line
    return CaughtError(error_message(exc), line)


def info(ctx: RunContext, value: Any) -> None:
    if ctx.info_truncated:
        return
    text = display(value)
    if not text.isascii():
        text = clean_text(text)
    size = len(text)
    limit = ctx.limits.max_info_bytes
    if ctx.info_bytes + size > limit:
        room = limit - ctx.info_bytes
        if room > 0:
            ctx.logs.append(text[:room])
        ctx.logs.append(f"[info output truncated: limit of {limit} bytes reached]")
        ctx.info_bytes = limit
        ctx.info_truncated = True
        return
    ctx.info_bytes += size
    ctx.logs.append(text)


def iterate(value: Any) -> Any:
    """What `for each` walks: a snapshot of a LIST, the keys of a MAP, a COLLECTION."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return list(value)
    if value is None:
        return ()
    if type(value) is Collection:
        return list(value.items)
    raise ScriptRuntimeError(
        f"for each needs a LIST, MAP or COLLECTION but found {type_name(value)}")


def iterate_index(value: Any) -> range:
    if isinstance(value, list):
        return range(len(value))
    if value is None:
        return range(0)
    if type(value) is Collection and not value.keyed:
        return range(len(value.items))
    raise ScriptRuntimeError(f"for each index needs a LIST but found {type_name(value)}")


def guard_iter(value: Any) -> Any:
    """RestrictedPython's `_getiter_` hook: only the iterables `iterate` produces pass."""
    if type(value) in (list, tuple, range):
        return value
    raise ScriptRuntimeError(f"Cannot iterate over {type_name(value)}")


def get_field(value: Any, name: str) -> Any:
    """`a.b` without parentheses: a MAP key or record field; null when missing."""
    if isinstance(value, dict):
        return value.get(name)
    if type(value) is CaughtError:
        low = name.lower()
        if low == "message":
            return str.__str__(value)
        if low == "lineno":
            return value.line_no
    if type(value) is Collection and value.keyed:
        return value.items.get(name)  # type: ignore[union-attr]
    if type(value) is RecordSet:
        from sluicegate.integrations import forms  # loaded by the fetch

        return forms.get_field(value, name)
    if value is None:
        raise ScriptRuntimeError(f"Cannot read field '{name}' of a null value")
    raise ScriptRuntimeError(f"Cannot read field '{name}' of a {type_name(value)} value")


def set_field(target: Any, name: str, value: Any) -> None:
    if type(target) in _FORM_VALUES:  # a fetched Creator record: updated in Creator
        from sluicegate.integrations import forms  # loaded by the fetch

        return forms.set_field(target, name, value)
    if isinstance(target, dict):
        target[name] = value
        return
    if target is None:
        raise ScriptRuntimeError(f"Cannot set field '{name}' of a null value")
    raise ScriptRuntimeError(f"Cannot set field '{name}' of a {type_name(target)} value")


_FORM_VALUES = (CreatorRecord, RecordSet)


def form_refused(what: str) -> None:
    """Creator criteria the API cannot express (found when the script was translated)."""
    raise ScriptRuntimeError(f"Not supported in this runtime: Creator criteria {what}")


def call_user(ctx: RunContext, _banked: int, name: str, *args: Any) -> Any:
    """A call of a user function by qualified name, with the nested-call limit."""
    # `name` is spelled as the script wrote it (messages keep it); lookups ignore case.
    key = name.lower()
    entry = ctx.functions.get(key)
    if entry is None and ctx.resolver is not None:
        entry = ctx.resolver(key)
    if entry is None:
        raise ScriptRuntimeError(f"Unknown function '{name}'")
    fn, params, display_name = entry
    if len(args) > len(params):
        raise ScriptRuntimeError(
            f"Function '{display_name}' takes {len(params)} argument"
            f"{'s' if len(params) != 1 else ''} but got {len(args)}")
    converted = list(args) + [None] * (len(params) - len(args))
    from .values import convert_to_type
    for i, (ptype, pname) in enumerate(params):
        try:
            converted[i] = convert_to_type(converted[i], ptype)
        except ValueError as exc:
            raise ScriptRuntimeError(
                f"Argument '{pname}' of {display_name}: {exc}") from None
    ctx.depth += 1
    try:
        if ctx.depth > ctx.limits.max_call_depth:
            raise LimitExceeded(
                f"Nested call limit of {ctx.limits.max_call_depth} exceeded calling "
                f"'{display_name}'", limit="call_depth")
        return fn(ctx, *converted)
    finally:
        ctx.depth -= 1


def call_task(ctx: RunContext, name: str, *args: Any) -> Any:
    row = TASKS.get(name)
    if row is None and ensure(name):
        row = TASKS.get(name)
    if row is None:
        raise ScriptRuntimeError(f"Unknown integration task '{name}'")
    n = len(args)
    if n < row.min_args or (row.max_args is not None and n > row.max_args):
        raise arity_error(row, n)
    return row.fn(*args)


def throw(value: Any) -> None:
    raise ScriptRuntimeError(display(value))


def brace() -> BraceMap:
    return BraceMap()


def brace_list(value: Any) -> Any:
    """An untouched literal `{}` becomes a LIST on its first `add` (SPEC §2)."""
    if type(value) is BraceMap and not value:
        return []
    return value


def map_of(*pairs: tuple[Any, Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, value in pairs:
        try:
            out[key] = value
        except TypeError:
            raise ScriptRuntimeError(
                f"A MAP key cannot be a {type_name(key)}") from None
    return out


def unsupported(what: str) -> None:
    raise ScriptRuntimeError(f"Not supported in this runtime: {what}")


def unsupported_task(name: str) -> None:
    """An integration task of a product this runtime does not call (Cliq, Desk, Creator...);
    a near miss of a supported task is named."""
    import difflib

    load_all()
    close = difflib.get_close_matches(name.lower(), list(TASKS), n=1, cutoff=0.85)
    hint = ""
    if close:
        row = TASKS[close[0]]
        spelled = next((n for n in row.names if n.lower() == close[0]), close[0])
        hint = f" (did you mean '{spelled}'?)"
    raise ScriptRuntimeError(f"Not supported in this runtime: integration task '{name}'{hint}")


def arity(name: str, given: int) -> None:
    ensure(name.lower())
    raise arity_error(FUNCTIONS[name.lower()], given)


HOOKS: dict[str, Any] = {
    "dg_add": ops.add, "dg_sub": ops.subtract, "dg_mul": ops.multiply, "dg_div": ops.divide,
    "dg_mod": ops.modulo, "dg_neg": ops.negate, "dg_pos": ops.plus,
    "dg_member": ops.member_of, "dg_lt": ops.less, "dg_le": ops.less_equal,
    "dg_gt": ops.greater, "dg_ge": ops.greater_equal, "dg_eq": ops.equal,
    "dg_ne": ops.not_equal, "dg_cond": ops.condition, "dg_not": ops.logical_not,
    "dg_m": call_method, "dg_f": call_function, "dg_info": info, "dg_iter": iterate,
    "dg_iter_index": iterate_index, "dg_field": get_field, "dg_set_field": set_field,
    "dg_user": call_user, "dg_task": call_task,
    "dg_unsupported_task": unsupported_task, "dg_throw": throw, "dg_caught": caught_value, "dg_errors": CATCHABLE, "dg_brace": brace,
    "dg_brace_list": brace_list, "dg_map_of": map_of,
    "dg_unsupported": unsupported, "dg_arity": arity,
    "dg_form_refused": form_refused,
    "_getiter_": guard_iter,
}

# Hooks bound only into the code that names them: name -> (module, attribute).
LAZY_HOOKS: dict[str, tuple[str, str]] = {
    "dg_sys": ("sluicegate.stdlib.tasks", "system_value"),
    "dg_typed_list": ("sluicegate.stdlib.nulls", "new_typed_list"),
    "dg_date": ("sluicegate.stdlib.dates", "parse_date_literal"),
    "dg_invokeurl": ("sluicegate.stdlib.tasks", "invokeurl"),
    "dg_invokeapi": ("sluicegate.stdlib.tasks", "invokeapi"),
    "dg_sendmail": ("sluicegate.stdlib.tasks", "sendmail"),
    "dg_form_fetch": ("sluicegate.integrations.forms", "fetch"),
    "dg_form_insert": ("sluicegate.integrations.forms", "insert"),
    "dg_form_delete": ("sluicegate.integrations.forms", "delete"),
    "dg_form_method": ("sluicegate.integrations.forms", "form_method"),
}


def lazy_hooks(names: Iterable[str]) -> dict[str, Any]:
    """The `LAZY_HOOKS` among `names` (the global names generated code reads), bound."""
    return {name: getattr(import_module(LAZY_HOOKS[name][0]), LAZY_HOOKS[name][1])
            for name in names if name in LAZY_HOOKS}
