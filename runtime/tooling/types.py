"""Type inference over the parser's tree: the value type an expression has, when it is known.

Types are the runtime's tags (TEXT, NUMBER, ...). An expression whose type depends on
values (a record field, an HTTP response, a mix of assignments) has type None, and
nothing is reported about it: the checks speak only when the type is certain.
"""

from __future__ import annotations

__all__ = ["ZOHO_TYPES", "binary_type", "expression_type", "qualified_name", "unescape"]

from typing import Any

from lark import Token, Tree
from sluicegate.stdlib.dates import looks_like_date_literal
from sluicegate.values import (
    BOOLEAN,
    COLLECTION,
    DATETIME,
    DECIMAL,
    LIST,
    MAP,
    NULL,
    NUMBER,
    TEXT,
)

from .catalog import builtin_functions, declared_type, method_rows, methods_for, tasks

# System values' types (`zoho.currentdate.addDay(1)`); the user values are TEXT.
ZOHO_TYPES = {"zoho.currentdate": DATETIME, "zoho.currenttime": DATETIME}
_BOOLEAN_NODES = {"compare", "legacy_equal", "in_op", "and_op", "or_op", "not_op", "true",
                  "false"}
_NUMERIC = {NUMBER, DECIMAL}
# Names that are system values unless the function assigns them (runtime/sandbox.py).
_SYSTEM_NAMES = ("now", "today")


def unescape(quoted: str) -> str:
    """The text of a quoted literal (enough to recognise a date literal)."""
    return quoted[1:-1].replace("\\'", "'").replace('\\"', '"')


def qualified_name(tree: Any) -> str | None:
    """`a.b.c` for a chain of names (`var a` with members b, c); None for anything else."""
    if isinstance(tree, Tree):
        if tree.data == "var":
            return str(tree.children[0])
        if tree.data == "member":
            inner = qualified_name(tree.children[0])
            return f"{inner}.{tree.children[1]}" if inner is not None else None
    return None


def binary_type(op: str, left: str | None, right: str | None) -> str | None:
    """The type of `left op right` when both are known and the operator's result is."""
    if op == "+" and TEXT in (left, right):
        return TEXT
    if left in _NUMERIC and right in _NUMERIC:
        if op == "/":
            return None  # NUMBER or DECIMAL depending on the values
        if left == right == NUMBER:
            return NUMBER
        return DECIMAL if op != "%" else None
    return None


def expression_type(tree: Any, env: dict[str, str | None],
                    functions: dict[str, str] | None = None) -> str | None:
    """The type of an expression tree; `env` maps variables to types, `functions` the
    lower-case names of the file's functions to their declared return types."""
    if not isinstance(tree, Tree):
        return None
    kind = tree.data
    if kind in _BOOLEAN_NODES:
        return BOOLEAN
    simple = _SIMPLE.get(kind)
    if simple is not None:
        return simple
    if kind == "sq_string":
        text = unescape(str(tree.children[0]))
        return DATETIME if looks_like_date_literal(text) else TEXT
    if kind == "var":
        name = str(tree.children[0])
        if name in _SYSTEM_NAMES and name not in env:
            return DATETIME  # `now`/`today` never assigned in the function: the system value
        return env.get(name)
    if kind == "typed_ctor":
        word = str(tree.children[0]).split(":", 1)[0].strip().lower()
        return {"list": LIST, "map": MAP, "collection": COLLECTION}.get(word)
    if kind == "binary":
        left, op, right = tree.children
        return binary_type(str(op), expression_type(left, env, functions),
                           expression_type(right, env, functions))
    if kind in ("negate", "unary_plus"):
        inner = expression_type(tree.children[-1], env, functions)
        return inner if inner in _NUMERIC else None
    if kind == "if_expr":
        a = expression_type(tree.children[2], env, functions)
        b = expression_type(tree.children[3], env, functions)
        return a if a == b else None
    if kind == "member":
        qual = qualified_name(tree)
        return ZOHO_TYPES.get(qual.lower()) if qual else None
    if kind == "call":
        return _call_type(tree, env, functions)
    if kind == "method_call":
        return _method_type(tree, env, functions)
    return None


_SIMPLE = {"number": NUMBER, "decimal": DECIMAL, "string": TEXT, "null": NULL,
           "list_literal": LIST, "map_literal": MAP}


def _call_type(tree: Tree, env: dict[str, str | None],  # type: ignore[type-arg]
               functions: dict[str, str] | None) -> str | None:
    name = str(tree.children[0]).lower()
    sig = builtin_functions().get(name)
    if sig is not None:
        if sig.kind == "function":
            return sig.returns
        returns = {s.returns for s in method_rows(name)}
        return returns.pop() if len(returns) == 1 else None
    if functions:
        found = functions.get(name) or next(
            (t for k, t in functions.items() if k.rsplit(".", 1)[-1] == name), None)
        return declared_type(found) if found else None
    return None


def _method_type(tree: Tree, env: dict[str, str | None],  # type: ignore[type-arg]
                 functions: dict[str, str] | None) -> str | None:
    recv, name_tok, _args = tree.children
    name = str(name_tok)
    qual = qualified_name(recv)
    if qual is not None:
        full = f"{qual}.{name}".lower()
        root = qual.split(".", 1)[0].lower()
        if functions and full in functions:
            return declared_type(functions[full])
        if root == "zoho" and qual.lower() not in ZOHO_TYPES:
            task = tasks().get(full)
            return task.returns if task is not None else None
    recv_type = expression_type(recv, env, functions)
    if recv_type is not None and recv_type != NULL:
        sig = methods_for(recv_type).get(name.lower())
        return sig.returns if sig is not None else None
    returns = {s.returns for s in method_rows(name)}
    return returns.pop() if len(returns) == 1 else None


def is_token(item: Any) -> bool:
    return isinstance(item, Token)
