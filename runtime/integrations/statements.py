"""The generated code of Creator form statements (used by the translator).

    Form[criteria] sort by F desc range from a to b
        -> dg_form_fetch(dg_ctx, "Form", <criteria template>, [values], "F", True, a, b)
    insert into Form [ F = v ... ]   -> dg_form_insert(dg_ctx, "Form", [("F", v), ...])
    delete from Form[criteria]       -> dg_form_delete(dg_ctx, "Form", <template>, [values])
    Form[c].count() / .sum(F) / Form[c].F.getAll()
        -> dg_form_method(<fetch>, "F" or None, "count", ...)

Criteria the Creator API cannot express, and `sort`/`range` clauses that are not
`sort by F [asc|desc]` / `range from a to b`, compile to `dg_form_refused(...)`, which names
them when the statement runs: such scripts still parse and check clean (SPEC §4).
"""

from __future__ import annotations

__all__ = ["fetch", "insert", "delete", "method_call"]

import ast
from typing import Any

from sluicegate.parsing.tokens import Token

from .criteria import Untranslatable, compile_criteria
from .records import FORM_METHODS


def _at(node: Any, tok: Any) -> Any:
    """Position `node` (and its unpositioned children) at a token or another node."""
    if isinstance(tok, Token):
        line, col = tok.line, tok.column - 1
        end_line, end_col = tok.end_line or tok.line, (tok.end_column or tok.column) - 1
    else:
        line, col, end_line, end_col = (tok.lineno, tok.col_offset, tok.end_lineno,
                                        tok.end_col_offset)
    for child in ast.walk(node):
        if isinstance(child, (ast.expr, ast.stmt)) and getattr(child, "lineno", None) is None:
            child.lineno, child.col_offset = line, col
            child.end_lineno, child.end_col_offset = end_line, end_col
    return node


def _call(helper: str, args: list[ast.expr], at: Any) -> ast.Call:
    return _at(ast.Call(func=ast.Name(id=helper, ctx=ast.Load()), args=args, keywords=[]), at)


def _ctx(at: Any) -> ast.expr:
    return _at(ast.Name(id="dg_ctx", ctx=ast.Load()), at)


def _const(value: Any, at: Any) -> ast.expr:
    return _at(ast.Constant(value=value), at)


def _source_of(source: str, node: ast.AST) -> str:
    """The script text a translated node came from (its whole span, all children)."""
    spans = [(n.lineno, n.col_offset, n.end_lineno, n.end_col_offset) for n in ast.walk(node)
             if getattr(n, "lineno", None) is not None and getattr(n, "end_lineno", None)]
    if not spans:
        return "?"
    start = min((s[0], s[1]) for s in spans)
    end = max((s[2], s[3]) for s in spans)
    lines = source.splitlines()
    if start[0] == end[0]:
        return lines[start[0] - 1][start[1]:end[1]]
    text = [lines[start[0] - 1][start[1]:]] + lines[start[0]:end[0] - 1] + [
        lines[end[0] - 1][:end[1]]]
    return " ".join(t.strip() for t in text)


def _criteria(source: str, expr: ast.expr | None, at: Any) -> tuple[ast.expr, ast.expr] | str:
    """The template and values of criteria, or what makes them untranslatable."""
    if expr is None:
        return _const(None, at), _at(ast.List(elts=[], ctx=ast.Load()), at)
    try:
        parts, values = compile_criteria(expr, lambda n: _source_of(source, n))
    except Untranslatable as exc:
        return (f"'{exc.what}': only Field == value comparisons (== != < <= > >=), "
                "&&, ||, 'Field in list' and Field.contains/startsWith/endsWith(value) can "
                "be sent to the Creator API")
    return _const(parts, at), _at(ast.List(elts=values, ctx=ast.Load()), at)


def _tail(tokens: list[Token]) -> tuple[str | None, bool, Any, Any] | str:
    """`sort by F [asc|desc]` and `range from a to b` (a, b: numbers or variables)."""
    words = list(tokens)
    sort, descending, start, end = None, False, None, None

    def bound(tok: Token) -> ast.expr:
        if tok.type == "NUMBER":
            return _const(int(tok.value), tok)
        return _at(ast.Name(id="v_" + tok.value, ctx=ast.Load()), tok)

    while words:
        head = words[0].value.lower()
        if head == "sort" and len(words) >= 3 and words[1].value.lower() == "by":
            sort, words = words[2].value, words[3:]
            if words and words[0].value.lower() in ("asc", "desc"):
                descending, words = words[0].value.lower() == "desc", words[1:]
        elif (head == "range" and len(words) >= 5 and words[1].value.lower() == "from"
              and words[3].value.lower() == "to"):
            start, end, words = bound(words[2]), bound(words[4]), words[5:]
        else:
            return " ".join(t.value for t in words)
    return sort, descending, start, end


def _refused(what: str, at: Any) -> ast.Call:
    return _call("dg_form_refused", [_const(what, at)], at)


def fetch(source: str, form: Token, expr: ast.expr | None, tail: list[Token]) -> ast.expr:
    criteria = _criteria(source, expr, form)
    if isinstance(criteria, str):
        return _refused(criteria, form)
    clauses = _tail(tail)
    if isinstance(clauses, str):
        return _refused(f"clause '{clauses}' after {form.value}[...]: expected 'sort by "
                        "Field [asc|desc]' and 'range from a to b'", form)
    sort, descending, start, end = clauses
    node = _call("dg_form_fetch", [_ctx(form), _const(form.value, form), *criteria,
                                   _const(sort, form), _const(descending, form),
                                   start if start is not None else _const(None, form),
                                   end if end is not None else _const(None, form)], form)
    node.dg_form = True  # type: ignore[attr-defined]
    return node


def insert(form: Token, fields: list[tuple[Token, ast.expr]], at: Token) -> ast.expr:
    pairs = [_at(ast.Tuple(elts=[_const(name.value, name), value], ctx=ast.Load()), name)
             for name, value in fields]
    return _call("dg_form_insert", [_ctx(at), _const(form.value, form),
                                    _at(ast.List(elts=pairs, ctx=ast.Load()), at)], at)


def delete(source: str, form: Token, expr: ast.expr, at: Token) -> ast.expr:
    criteria = _criteria(source, expr, form)
    if isinstance(criteria, str):
        return _refused(criteria, form)
    return _call("dg_form_delete", [_ctx(at), _const(form.value, form), *criteria], at)


def method_call(recv: ast.expr, name: Token, args: list[ast.expr]) -> ast.expr | None:
    """`Form[c].count()`, `.sum(Amount)` (a bare field name), `Form[c].Field.getAll()` and
    `rows.Field.getAll()` (a variable that may hold a fetch: decided when it runs); None
    for any other method (called on the value as usual)."""
    key = name.value.lower()
    if key not in FORM_METHODS:
        return None
    field: ast.expr = _const(None, name)
    target = recv
    form_field = getattr(recv, "dg_form_field", None) or (
        getattr(recv, "dg_member", None) if key == "getall" else None)
    if form_field is not None:  # `rows.Field.getAll()`: rows may hold a fetch
        target, field = form_field[0], _const(form_field[1], name)
    elif key == "getall":
        return None
    if args and isinstance(args[0], ast.Name) and args[0].id.startswith("v_"):
        args = [_const(args[0].id[2:], args[0]), *args[1:]]  # `sum(Amount)`: a field name
    return _call("dg_form_method", [target, field, _const(name.value, name), *args], name)
