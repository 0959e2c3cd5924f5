"""The node vocabulary of the fast paths (fastpaths, faststatements): names, type tests
and calls built without the AST constructors' keyword handling, and the stamping that
gives the nodes of a fast path the position of the script node it replaces."""

from __future__ import annotations

import ast
from typing import Any

from ..treepass import load, stamp, store

# Past this many elements, growth goes through the helpers, which check the size limit.
SIZE_FLOOR = 1 << 16


def _literal_text(expr: ast.expr) -> str | None:
    """The text a literal piece adds to a TEXT: itself, or a NUMBER's digits."""
    if isinstance(expr, ast.Constant) and type(expr.value) in (str, int):
        return str(expr.value)
    return None


_load, _store = load, store
_CALL, _COMPARE, _IS = ast.Call, ast.Compare, ast.Is()


def _type_of(expr: ast.expr) -> ast.Call:
    """`dg_type(expr)` (built as the constructor would, without its keyword handling)."""
    node = _CALL.__new__(_CALL)
    fields = node.__dict__
    fields["func"] = load("dg_type")
    fields["args"] = [expr]
    fields["keywords"] = []
    return node


def _is(left: ast.expr, right: ast.expr) -> ast.Compare:
    """`left is right`."""
    node = _COMPARE.__new__(_COMPARE)
    fields = node.__dict__
    fields["left"] = left
    fields["ops"] = [_IS]
    fields["comparators"] = [right]
    return node


def _helper_call(node: ast.expr, helper: str) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == helper)


def _simple(node: ast.expr) -> bool:
    return isinstance(node, (ast.Name, ast.Constant))


def _located(new: Any, old: ast.AST) -> Any:
    """Give the nodes built for a fast path the position of the script node they replace.

    Subtrees that already have a position (the script's own operands, fast paths built
    below this one) keep theirs and are not walked again: an error inside an argument
    points at the argument, and the pass stays linear in the size of the tree."""
    return stamp(new, old)


def _recalled(node: ast.Call, function: str, args: list[ast.expr]) -> ast.Call:
    """`node` made a call of `function` with `args` (already visited), in place: the
    call keeps its position, its new name takes the old one's (nothing to stamp)."""
    old = node.func if "lineno" in node.func.__dict__ else node
    node.func = ast.Name(id=function, ctx=_LOAD, lineno=old.lineno,
                         col_offset=old.col_offset, end_lineno=old.end_lineno,
                         end_col_offset=old.end_col_offset)
    node.args = args
    return node


_LOAD = ast.Load()
