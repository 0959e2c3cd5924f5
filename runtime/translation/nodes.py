"""Positioned AST nodes for the translator: each carries the script's own line and column
(column as a 0-based character offset), taken from a token or from other nodes, so the
positions Python records for compiled code are script positions. Generated code calls
helpers named `dg_*`; script variables become locals named `v_<name>`."""

from __future__ import annotations

import ast
import re
from typing import Any

from ..larkload import Token


_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r",
            "b": "\b", "f": "\f"}


_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)


def _unescape(body: str) -> str:
    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc[0] == "u" and len(esc) == 5:
            return chr(int(esc[1:], 16))
        return _ESCAPES.get(esc, "\\" + esc)
    return _ESCAPE_RE.sub(repl, body) if "\\" in body else body


def _pos(node: Any, tok: Token) -> Any:
    node.lineno = tok.line
    node.col_offset = tok.column - 1
    node.end_lineno = tok.end_line or tok.line
    node.end_col_offset = (tok.end_column or tok.column) - 1
    return node


def _span(node: Any, first: Any, last: Any | None = None) -> Any:
    """Position `node` from the start of `first` to the end of `last` (AST nodes or tokens)."""
    last = first if last is None else last
    if isinstance(first, Token):
        node.lineno, node.col_offset = first.line, first.column - 1
    else:
        node.lineno, node.col_offset = first.lineno, first.col_offset
    if isinstance(last, Token):
        node.end_lineno = last.end_line or last.line
        node.end_col_offset = (last.end_column or last.column) - 1
    else:
        node.end_lineno, node.end_col_offset = last.end_lineno, last.end_col_offset
    return node


def _name(id_: str, at: Any, store: bool = False) -> ast.Name:
    return _span(ast.Name(id=id_, ctx=ast.Store() if store else ast.Load()), at)


def _const(value: Any, at: Any) -> ast.Constant:
    return _span(ast.Constant(value=value), at)


def _call(helper: str, args: list[ast.expr], at: Any, last: Any | None = None) -> ast.Call:
    func = _name(helper, at)
    return _span(ast.Call(func=func, args=args, keywords=[]), at, last)


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
