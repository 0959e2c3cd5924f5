"""Positioned AST nodes for the translator: each carries the script's own line and column
(column as a 0-based character offset), taken from a token or from other nodes, so the
positions Python records for compiled code are script positions. Generated code calls
helpers named `dg_*`; script variables become locals named `v_<name>`."""

from __future__ import annotations

import ast
import re
from typing import Any

from ..parsing.tokens import Token

_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r",
            "b": "\b", "f": "\f"}


_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)


def _unescape(body: str) -> str:
    return _ESCAPE_RE.sub(_unescaped, body) if "\\" in body else body


def _unescaped(m: re.Match[str]) -> str:
    esc = m.group(1)
    if esc[0] == "u" and len(esc) == 5:
        return chr(int(esc[1:], 16))
    return _ESCAPES.get(esc, "\\" + esc)


# Nodes are made without their constructor's keyword handling and positioned by writing
# their instance dictionary (where an AST node keeps its fields): the translator makes
# a dozen per line. Contexts carry no state: one of each serves every name.
_LOAD, _STORE = ast.Load(), ast.Store()
_NAME, _CONSTANT, _CALL, _AST = ast.Name, ast.Constant, ast.Call, ast.AST


def _node(cls: type, **fields: Any) -> Any:
    """`cls(**fields)` without the constructor's keyword handling: the fields become the
    node's instance dictionary at once (an optional field left out reads as None, as
    from the constructor)."""
    node = cls.__new__(cls)
    node.__dict__ = fields
    return node


def _pos(node: Any, tok: Token) -> Any:
    d = node.__dict__
    d["lineno"] = tok.line
    d["col_offset"] = tok.column - 1
    d["end_lineno"] = tok.end_line or tok.line
    d["end_col_offset"] = (tok.end_column or tok.column) - 1
    return node


def _span(node: Any, first: Any, last: Any | None = None) -> Any:
    """Position `node` from the start of `first` to the end of `last` (AST nodes or tokens).

    Whether each is a node is asked of `ast.AST`, not of `Token`: a test against Token's
    ABC metaclass is ten times slower for what is not a token (Lark's are registered)."""
    d = node.__dict__
    if isinstance(first, _AST):
        d["lineno"], d["col_offset"] = first.lineno, first.col_offset
    else:
        d["lineno"], d["col_offset"] = first.line, first.column - 1
    if last is None:
        last = first
    if isinstance(last, _AST):
        d["end_lineno"], d["end_col_offset"] = last.end_lineno, last.end_col_offset
    else:
        d["end_lineno"] = last.end_line or last.line
        d["end_col_offset"] = (last.end_column or last.column) - 1
    return node


def _name(id_: str, at: Any, store: bool = False) -> ast.Name:
    node = _NAME.__new__(_NAME)
    d = node.__dict__
    d["id"] = id_
    d["ctx"] = _STORE if store else _LOAD
    return _span(node, at)


def _const(value: Any, at: Any) -> ast.Constant:
    node = _CONSTANT.__new__(_CONSTANT)
    node.__dict__["value"] = value
    return _span(node, at)


def _call(helper: str, args: list[ast.expr], at: Any, last: Any | None = None) -> ast.Call:
    node = _CALL.__new__(_CALL)
    d = node.__dict__
    d["func"] = _name(helper, at)
    d["args"] = args
    d["keywords"] = []
    return _span(node, at, last)


_BOOLEAN_HELPERS = {"dg_eq", "dg_ne", "dg_lt", "dg_le", "dg_gt", "dg_ge", "dg_not", "dg_cond"}


def _test(node: ast.expr) -> ast.expr:
    """A condition (SPEC §3: must be BOOLEAN); comparisons are BOOLEAN already."""
    if isinstance(node, ast.BoolOp) or (isinstance(node, ast.Constant)
                                         and type(node.value) is bool):
        return node
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _BOOLEAN_HELPERS):
        return node
    return _call("dg_cond", [node], node)


def _filled(body: list[ast.stmt] | None, at: Any) -> list[ast.stmt]:
    """An empty `{ }` block as Python needs it: one `pass`."""
    return body if body else [_span(ast.Pass(), at)]


def _var(name: str) -> str:
    return "v_" + name
