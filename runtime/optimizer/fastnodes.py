"""The node vocabulary of the fast paths (fastpaths, faststatements): names, type tests
and calls built without the AST constructors' keyword handling, and the stamping that
gives the nodes of a fast path the position of the script node it replaces."""

from __future__ import annotations

import ast
import threading
from typing import Any, Callable

from ..treepass import position_of, stamp

# Past this many elements, growth goes through the helpers, which check the size limit.
SIZE_FLOOR = 1 << 16

class _Placing(threading.local):
    """The position the nodes built now take (`place`), in each thread (scripts compile
    in several at once): empty outside a fast path, whose nodes `_located` stamps."""

    here: dict[str, Any] = {}
    # the node `here` is the position of, until the next `placed_again` (_located)
    at: ast.AST | None = None


_placing = _Placing()


def place(where: ast.AST | None) -> dict[str, Any]:
    """From now on, the nodes built (through `made`, `_load`, `_store`, `_type_of`, `_is`)
    take the position of `where`, the script node a fast path replaces (None: none, the
    stamping gives one): the position `_located` would stamp them with, given when they
    are built, so that its walk finds nothing left to position (stamping the new nodes
    was ~10% of a loop-dense compile). Returns what to give back to `placed_again`."""
    saved = _placing.here
    if where is not None and "lineno" in where.__dict__:
        _placing.here = position_of(where)
        _placing.at = where
    else:
        _placing.here = {}
        _placing.at = None
    return saved


def placed_again(saved: dict[str, Any]) -> None:
    """Undo a `place` (its return value). The outer placement's node is not known again
    (`_located` stamps in full until the next `place`)."""
    _placing.here = saved
    _placing.at = None


def _placed(cls: Any) -> Any:
    """`cls(*args, **fields)` with the current position (`place`); a position given
    in `fields` wins."""
    names = cls._fields
    new = cls.__new__

    def make(*args: Any, **fields: Any) -> Any:
        node = new(cls)
        if args:
            values = dict(_placing.here)
            values.update(zip(names, args))
            values.update(fields)
            node.__dict__ = values
        else:  # the usual call, by keywords: one dictionary built, not three steps
            node.__dict__ = {**_placing.here, **fields}
        return node
    return make


class made:
    """The node classes the fast paths build, positioned as `place` says."""

    Call = staticmethod(_placed(ast.Call))
    Compare = staticmethod(_placed(ast.Compare))
    IfExp = staticmethod(_placed(ast.IfExp))
    Constant = staticmethod(_placed(ast.Constant))
    BoolOp = staticmethod(_placed(ast.BoolOp))
    NamedExpr = staticmethod(_placed(ast.NamedExpr))
    Assign = staticmethod(_placed(ast.Assign))
    BinOp = staticmethod(_placed(ast.BinOp))
    Expr = staticmethod(_placed(ast.Expr))
    If = staticmethod(_placed(ast.If))
    Subscript = staticmethod(_placed(ast.Subscript))
    Attribute = staticmethod(_placed(ast.Attribute))


def _literal_text(expr: ast.expr) -> str | None:
    """The text a literal piece adds to a TEXT: itself, or a NUMBER's digits."""
    if isinstance(expr, ast.Constant) and type(expr.value) in (str, int):
        return str(expr.value)
    return None


_NAME, _CALL, _COMPARE, _IS = ast.Name, ast.Call, ast.Compare, ast.Is()


def _load(name: str) -> ast.Name:
    """`ast.Name(id=name, ctx=ast.Load())` at the current position (`place`)."""
    node = _NAME.__new__(_NAME)
    node.__dict__ = {"id": name, "ctx": _LOAD, **_placing.here}
    return node


def _store(name: str) -> ast.Name:
    """`ast.Name(id=name, ctx=ast.Store())` at the current position."""
    node = _NAME.__new__(_NAME)
    node.__dict__ = {"id": name, "ctx": _STORE, **_placing.here}
    return node


def _type_of(expr: ast.expr) -> ast.Call:
    """`dg_type(expr)` (built as the constructor would, without its keyword handling)."""
    node = _CALL.__new__(_CALL)
    node.__dict__ = {"func": _load("dg_type"), "args": [expr], "keywords": [], **_placing.here}
    return node


def _is(left: ast.expr, right: ast.expr) -> ast.Compare:
    """`left is right`."""
    node = _COMPARE.__new__(_COMPARE)
    node.__dict__ = {"left": left, "ops": [_IS], "comparators": [right], **_placing.here}
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
    points at the argument, and the pass stays linear in the size of the tree.

    Nodes built while `old` is placed (`place`) took its position, and what they hold
    is either built so too or positioned already: when `new` is at `old`'s position,
    the stamping would change nothing, and is not made (nearly every stamping walk of
    the fast paths on a loop-dense script, with `_built`)."""
    placing = _placing
    if placing.at is old:
        fields = new.__dict__
        here = placing.here
        if (fields.get("lineno") == here["lineno"]
                and fields.get("col_offset") == here["col_offset"]
                and fields.get("end_lineno") == here["end_lineno"]
                and fields.get("end_col_offset") == here["end_col_offset"]):
            return new
    return stamp(new, old)


def _built(where: ast.AST, build: Callable[[], Any]) -> Any:
    """`_located(build(), where)` with `build`'s new nodes placed at `where` when built
    (`place`): what else they hold is positioned already, so the stamping walk is not
    made. (A leaf built earlier and left unpositioned is stamped by the caller first.)"""
    saved = place(where)
    try:
        return _located(build(), where)
    finally:
        placed_again(saved)


def _recalled(node: ast.Call, function: str, args: list[ast.expr]) -> ast.Call:
    """`node` made a call of `function` with `args` (already visited), in place: the
    call keeps its position, its new name takes the old one's (nothing to stamp)."""
    old = node.func if "lineno" in node.func.__dict__ else node
    node.func = ast.Name(id=function, ctx=_LOAD, lineno=old.lineno,
                         col_offset=old.col_offset, end_lineno=old.end_lineno,
                         end_col_offset=old.end_col_offset)
    node.args = args
    return node


_LOAD, _STORE = ast.Load(), ast.Store()
