"""Type inference for the fast paths: script variables that only ever hold one kind.

`local_kinds(fn)` maps the variables of a translated function to "number", "map", "list"
or "text" when every assignment to them gives that kind (exactly int, dict, list, str),
so the fast paths can drop their type guards. A variable qualifies when it is no
parameter and no loop variable (but the index of `for each index`), never the target of
anything else, and, in the bare body, whose variables may also come from the inputs, the
first top-level statement that names it assigns it without reading it (so an input of
that name is never seen).

Kinds of values: NUMBER arithmetic on NUMBERs is a NUMBER (or raises); `Map()`, a map
literal with literal keys, `List()` and a list literal make exactly a dict and a list;
a text literal is TEXT, and `+` with a TEXT operand is TEXT (SPEC §3); a variable has
its own kind. A built-in method whose every row (for every receiver type, in the stdlib
tables the checker reads its return types from) is annotated to return exactly `str` or
`int` gives TEXT or NUMBER (`s.trim()`, `l.size()`, `t.length()`): whatever the receiver,
the call returns that or raises. Rows annotated `list`/`dict` are not used (some return
a typed list), nor are Any-typed ones (`getJSON`, `toMap`). Each kind is found as the greatest fixed point over these rules, dropping
through a reverse dependency index (linear in the script's size).
"""

from __future__ import annotations

__all__ = ["local_kinds", "method_return_kind", "method_return_kinds", "KINDS"]

import ast
from collections.abc import Callable
from typing import Any

from ..treepass import walk

KINDS = ("number", "map", "list", "text")

_INT_OPS = {"dg_add", "dg_sub", "dg_mul", "dg_mod", "dg_div"}


_EXACT_RETURNS = {"str": "text", "int": "number"}
# TEXT methods that may give back their receiver itself (an empty pad, no occurrence to
# remove, toString of a TEXT): on a caught error's TEXT, a str subclass carrying
# `message`/`lineNo`, the result is that subclass, not exactly a str.
# tests/test_return_inference.py calls every inferred row to keep this list whole.
_RECEIVER_AS_IS = frozenset({
    "left", "leftpad", "rightpad", "removefirstoccurence", "removefirstoccurrence",
    "removelastoccurence", "removelastoccurrence", "tostring", "totext"})
_return_kinds: dict[str, str | None] = {}


def method_return_kind(name: str) -> str | None:
    """"text" or "number" when every built-in method `name` (any case) returns exactly
    that kind (module docstring), else None; the tables of that name alone are loaded
    (stdlib.tables.ensure), not every built-in module."""
    name = name.lower()
    if name in _return_kinds:
        return _return_kinds[name]
    from sluicegate.integrations.records import RECORD_METHOD_NAMES
    from sluicegate.stdlib import tables

    kind: str | None = None
    # a Creator fetch answers RECORD_METHOD_NAMES its own way
    if name not in RECORD_METHOD_NAMES and name not in _RECEIVER_AS_IS:
        tables.ensure(name)
        rets: set[str | None] = set()
        for table in tables.METHODS.values():
            row = table.get(name)
            if row is not None:
                returns = getattr(row.fn, "__annotations__", {}).get("return")
                rets.add(_EXACT_RETURNS.get(returns) if isinstance(returns, str) else None)
        if len(rets) == 1:
            kind = next(iter(rets))
    _return_kinds[name] = kind
    return kind


def method_return_kinds() -> dict[str, str]:
    """Every method name whose return kind is known (for tests and tooling: it loads
    every built-in module)."""
    from sluicegate.stdlib import tables

    tables.load_all()
    names = {name for table in tables.METHODS.values() for name in table}
    return {name: kind for name in sorted(names)
            if (kind := method_return_kind(name)) is not None}


def _method_kind(expr: Any) -> str | None:
    """The kind a built-in method call `dg_m(R, 'name', ...)` returns, when known."""
    if (_call_of(expr, "dg_m") and len(expr.args) >= 2
            and isinstance(expr.args[1], ast.Constant) and type(expr.args[1].value) is str):
        return method_return_kind(expr.args[1].value)
    return None


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in walk(node) if isinstance(n, ast.Name)}


# What _candidates does with a node, by its class (one dictionary read per node instead
# of up to six isinstance tests; most nodes are calls, constants and operators, which
# it passes by): the class of the test it passes, _OTHER for none.
_ROLE_TESTS: tuple[tuple[Any, type], ...] = (
    (ast.Name, ast.Name), (ast.Assign, ast.Assign), ((ast.For, ast.AsyncFor), ast.For),
    ((ast.AugAssign, ast.AnnAssign), ast.AugAssign), (ast.NamedExpr, ast.NamedExpr),
    ((ast.FunctionDef, ast.Lambda, ast.With, ast.Delete), ast.FunctionDef))
_OTHER = object
_ROLES: dict[type, type] = {}


def _role(cls: type) -> type:
    role = _ROLES[cls] = next((r for test, r in _ROLE_TESTS if issubclass(cls, test)), _OTHER)
    return role


def _candidates(fn: ast.FunctionDef) -> tuple[set[str], dict[str, list[Any]]] | None:
    """The variables of `fn` that may be inferred (see the module docstring) and the
    values assigned to each; None when `fn` has a shape the translator never writes."""
    disqualified = {a.arg for a in fn.args.args}
    values: dict[str, list[Any]] = {}
    body = fn.body
    guarded = body[-1] if body and isinstance(body[-1], ast.Try) else None
    if guarded is None:
        return None
    from_inputs = set()
    for stmt in body[:-1]:  # the input prologue of the runtime nodes
        from_inputs |= {n.id for n in walk(stmt)
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    statement_names: list[set[str]] = []
    roles = _ROLES
    # Statements the runtime nodes pass walked already (sandbox._names) are not again.
    walks: dict[int, list[ast.AST]] = fn.__dict__.pop("dg_walks", None) or {}
    for stmt in guarded.body:  # one walk: the names of each statement and the assignments
        names: set[str] = set()
        statement_names.append(names)
        nodes = walks.get(id(stmt))
        for node in walk(stmt) if nodes is None else nodes:
            role = roles.get(type(node))
            if role is None:
                role = _role(type(node))
            if role is _OTHER:
                continue
            if role is ast.Name:
                names.add(node.id)
            elif role is ast.Assign:
                if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    values.setdefault(node.targets[0].id, []).append(node.value)
                else:
                    disqualified |= {n.id for t in node.targets for n in walk(t)
                                     if isinstance(n, ast.Name)}
            elif role is ast.For:
                target, source = node.target, node.iter
                if (isinstance(source, ast.Call) and isinstance(source.func, ast.Name)
                        and source.func.id == "_getiter_" and len(source.args) == 1):
                    source = source.args[0]  # the policy pass's iteration guard
                index_loop = (isinstance(source, ast.Call)
                              and isinstance(source.func, ast.Name)
                              and source.func.id == "dg_iter_index")
                if isinstance(target, ast.Name) and index_loop:
                    values.setdefault(target.id, []).append(ast.Constant(0))
                else:
                    disqualified |= {n.id for n in walk(target) if isinstance(n, ast.Name)}
            elif role is ast.AugAssign:
                disqualified |= {n.id for n in walk(node.target)
                                 if isinstance(n, ast.Name)}
            elif role is ast.NamedExpr:
                disqualified.add(node.target.id)
            else:
                return None  # not a shape the translator writes: infer nothing
    # The first statement naming each variable and how many name it, in one pass (a
    # search per variable would be quadratic in a long script of distinct names).
    first_mention: dict[str, int] = {}
    mention_count: dict[str, int] = {}
    for i, names in enumerate(statement_names):
        for name in names:
            first_mention.setdefault(name, i)
            mention_count[name] = mention_count.get(name, 0) + 1
    for name in from_inputs & set(values):
        index = first_mention.get(name)
        first = guarded.body[index] if index is not None else None
        assigned_first = (isinstance(first, ast.Assign) and len(first.targets) == 1
                          and isinstance(first.targets[0], ast.Name)
                          and first.targets[0].id == name
                          and name not in _names_in(first.value))
        # A loop variable used only inside its own loop never shows an input's value.
        loop_only = (isinstance(first, ast.For) and isinstance(first.target, ast.Name)
                     and first.target.id == name and mention_count.get(name) == 1)
        if not (assigned_first or loop_only):
            disqualified.add(name)
    return {n for n in values if n.startswith("v_")} - disqualified, values


def local_kinds(fn: ast.FunctionDef) -> dict[str, str]:
    """The kind of every variable of `fn` that only ever holds one (module docstring)."""
    found = _candidates(fn)
    if found is None:
        return {}
    candidates, values = found
    kinds: dict[str, str] = {}
    for kind, shape in _SHAPES.items():
        for name in _only_kind(candidates - kinds.keys(), values, shape):
            kinds[name] = kind
    return kinds


def _number_shape(expr: Any, deps: set[str]) -> bool:
    """Whether `expr` gives a NUMBER provided every variable it adds to `deps` does."""
    if isinstance(expr, ast.Constant):
        return type(expr.value) is int
    if isinstance(expr, ast.Name):
        deps.add(expr.id)
        return True
    if (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name)
            and not expr.keywords):
        if expr.func.id in _INT_OPS and len(expr.args) == 2:
            return _number_shape(expr.args[0], deps) and _number_shape(expr.args[1], deps)
        if expr.func.id == "dg_neg" and len(expr.args) == 1:
            return _number_shape(expr.args[0], deps)
    return _method_kind(expr) == "number"


def _only_kind(candidates: set[str], values: dict[str, list[Any]],
               shape: Callable[[Any, set[str]], bool]) -> set[str]:
    """The greatest subset of `candidates` whose every assigned value has `shape` given
    that the subset's variables do: drop the variables with another value, then, through
    a reverse dependency index, whatever depends on a dropped one (linear, where repeated
    whole passes would be quadratic in a long chain of assignments)."""
    kept = set(candidates)
    users: dict[str, list[str]] = {}
    dropped: list[str] = []
    for name in candidates:
        deps: set[str] = set()
        if all(shape(v, deps) for v in values[name]):
            for dep in deps:
                users.setdefault(dep, []).append(name)
            if deps - candidates:
                dropped.append(name)
        else:
            dropped.append(name)
    for name in dropped:
        kept.discard(name)
    while dropped:
        for user in users.get(dropped.pop(), ()):
            if user in kept:
                kept.discard(user)
                dropped.append(user)
    return kept


def _call_of(expr: Any, helper: str) -> bool:
    return (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name)
            and expr.func.id == helper and not expr.keywords)


def _constructor(expr: Any, name: str) -> bool:
    """`Map()` / `List()` with no argument (the built-in makes a new, exact dict/list)."""
    return (_call_of(expr, "dg_f") and len(expr.args) == 1
            and isinstance(expr.args[0], ast.Constant)
            and str(expr.args[0].value).lower() == name)


def _map_shape(expr: Any, deps: set[str]) -> bool:
    if isinstance(expr, ast.Name):
        deps.add(expr.id)
        return True
    return isinstance(expr, ast.Dict) or _constructor(expr, "map")


def _list_shape(expr: Any, deps: set[str]) -> bool:
    if isinstance(expr, ast.Name):
        deps.add(expr.id)
        return True
    return isinstance(expr, ast.List) or _constructor(expr, "list")


def _text_shape(expr: Any, deps: set[str]) -> bool:
    """A TEXT literal, or `+` with a TEXT operand (its leftmost one, or a literal)."""
    if isinstance(expr, ast.Constant):
        return type(expr.value) is str
    if isinstance(expr, ast.Name):
        deps.add(expr.id)
        return True
    if _call_of(expr, "dg_add") and len(expr.args) == 2:
        left, right = expr.args
        if any(isinstance(a, ast.Constant) and type(a.value) is str for a in (left, right)):
            return True
        return _text_shape(left, deps)
    return _method_kind(expr) == "text"


_SHAPES: dict[str, Callable[[Any, set[str]], bool]] = {
    "number": _number_shape, "map": _map_shape, "list": _list_shape, "text": _text_shape}
