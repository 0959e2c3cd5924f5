"""The statement fast paths (mixed into fastpaths.FastPaths): `x = x + a + ...` on a TEXT
built in place, `M.put(K, V);` and `L.add(V);` on exact dicts and lists. See the
fastpaths module docstring for the forms and their guards."""

from __future__ import annotations

import ast
from typing import Any

from ..treepass import stamp
from .fastnodes import (
    SIZE_FLOOR,
    _built,
    _helper_call,
    made,
    place,
    placed_again,
    _is,
    _literal_text,
    _load,
    _located,
    _simple,
    _store,
    _type_of,
)

# First pieces of `x = x + a ...` read before the TEXT/other branch (_append): the forms
# of inline fast paths, large enough to be worth a temporary (not a call or a name).
_INLINED = frozenset({ast.IfExp, ast.BoolOp, ast.Compare, ast.BinOp, ast.NamedExpr,
                      ast.UnaryOp})

# `x = x + a + b + ...` is built in place for at most this many pieces (the fallbacks
# repeat the pieces that follow, so the code grows with the square of the count).
_APPEND_PIECES = 4


def _append_pieces(node: ast.Assign, ints: set[str]) -> \
        tuple[ast.Name, list[tuple[ast.Call, ast.expr]]] | None:
    """The `x` read first and the (operator call, right operand) pairs of
    `x = x + a + b ...`, left to right; None for any other assignment (and for
    variables known to hold a NUMBER)."""
    if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
        return None
    target = node.targets[0].id
    if target in ints:
        return None
    pieces: list[tuple[ast.Call, ast.expr]] = []
    value = node.value
    while _helper_call(value, "dg_add") and len(value.args) == 2 \
            and not value.keywords:  # type: ignore[attr-defined]
        pieces.append((value, value.args[1]))  # type: ignore[arg-type,attr-defined]
        value = value.args[0]  # type: ignore[attr-defined]
        if len(pieces) > _APPEND_PIECES:
            return None
    if not (pieces and isinstance(value, ast.Name) and value.id == target):
        return None
    pieces.reverse()
    return value, pieces


class StatementPaths:
    """The statement rewrites of the fast paths; the transformer's state and expression
    rewrites (`on`, `once`, `ints`, `_kind`, `_rewrite`, `_temp`, `visit`) are
    fastpaths.FastPaths's."""

    on: frozenset[str]
    once: bool
    ints: set[str]
    known_set: set[str]
    visit: Any
    generic_visit: Any
    _kind: Any
    _rewrite: Any
    _temp: Any

    def visit_Assign(self, node: ast.Assign) -> Any:
        value = node.value
        if (type(value) is ast.Call and type(value.func) is ast.Name
                and value.func.id == "dg_charge"):
            # the runtime-nodes pass's charge of a block that runs once: its call takes
            # names and a constant, and is no helper with a fast path (the visit below
            # would give it back as it is)
            return node
        if "text_append" in self.on and not self.once:
            found = _append_pieces(node, self.ints)
            if found is not None:
                return self._append(node, *found)
        self.generic_visit(node)
        return node

    def _append(self, node: ast.Assign, read: ast.Name,
                pieces: list[tuple[ast.Call, ast.expr]]) -> ast.stmt:
        """`x = x + a + b ...` built in place when x is a TEXT (see _append_level)."""
        target = node.targets[0].id  # type: ignore[attr-defined]
        exprs = [self.visit(piece) for _, piece in pieces]
        calls = [call for call, _ in pieces]
        # x is no TEXT: the operators' own fast paths, as without this one (NUMBER
        # accumulators); with a TEXT literal among the pieces x is all but surely a TEXT,
        # and the helpers keep the code small.
        texty = any(isinstance(e, ast.Constant) and type(e.value) is str for e in exprs)
        is_text = self._kind(read) == "text"
        setup: list[ast.stmt] = []
        piece: str | None = None
        if type(exprs[0]) in _INLINED and not is_text:
            # x's type, then the first piece (an inline fast path), each read once before
            # the branch, in the order of both branches: the piece's code is built once,
            # not once per branch
            kind, piece = self._temp(), self._temp()
            saved = place(calls[0])  # where stamping these would put them (_built)
            try:
                setup = [_located(made.Assign(targets=[_store(kind)], value=_type_of(read)),
                                  calls[0]),
                         _located(made.Assign(targets=[_store(piece)], value=exprs[0]),
                                  calls[0])]
                held, read = _load(piece), _load(kind)
            finally:
                placed_again(saved)
            for mark in ("dg_reads", "dg_numeric"):  # what it is known as (fastpaths)
                if mark in exprs[0].__dict__:
                    held.__dict__[mark] = exprs[0].__dict__[mark]
            exprs = [held, *exprs[1:]]
        value: ast.expr | None = None
        for call, expr in zip(calls, exprs):
            step = _built(call, lambda: made.Call(
                func=_load("dg_add"), args=[_load(target) if value is None else value, expr],
                keywords=[]))
            value = step if texty else self._rewrite(step)
        other = _built(node, lambda: made.Assign(targets=[_store(target)], value=value))
        # x is read first, where the script reads it (an unset x is reported there)
        first = _built(calls[0], lambda: _is(read if setup else _type_of(read),
                                              _load("dg_str")))
        body = self._append_level(node, target, calls, exprs, [], None, piece)
        if is_text:  # read anyway: an unset x is reported there
            return [_built(node, lambda: made.Expr(value=read)), *body]
        return [*setup, _built(node, lambda: made.If(test=first, body=body, orelse=[other]))]

    def _append_level(self, node: ast.Assign, target: str, calls: list[ast.Call],
                      exprs: list[ast.expr], held: list[ast.expr],
                      length: str | None, pinned: str | None = None) -> list[ast.stmt]:
        """Statements for pieces `len(held)`... of `x = x + p0 + p1 ...` once x is a TEXT.

        Each piece is evaluated once, in script order, into a temporary; a TEXT (or a
        NUMBER, as its digits) goes on, with the length the result will have checked
        against the text limit before anything is built, at the operator that would
        build it (so the limit is reported where the helper would report it). When all
        pieces are in, `x = x + p` per piece: CPython appends in place when x holds the
        only reference. Any other piece ends in the helpers, given the pieces already
        evaluated and the rest as written. A literal piece always goes on: it needs only
        its length check, and no branch. `pinned`: the temporary the first piece was
        evaluated into already (see _append)."""
        out: list[ast.stmt] = []
        k = len(held)
        while k < len(exprs):
            call, expr = calls[k], exprs[k]
            literal = _literal_text(expr)
            saved = place(call)  # this piece's checks, where stamping would put them
            try:
                before = (made.Call(func=_load("dg_len"), args=[_load(target)], keywords=[])
                          if length is None else _load(length))
                total = self._temp()
                size: ast.expr
                if literal is not None:
                    size = made.Constant(len(literal))
                elif k == 0 and pinned is not None:
                    name = pinned
                    size = made.Call(func=_load("dg_len"), args=[_load(name)], keywords=[])
                else:
                    name = self._temp()
                    out.append(_located(made.Assign(targets=[_store(name)], value=expr),
                                        call))
                    size = made.Call(func=_load("dg_len"), args=[_load(name)], keywords=[])
                counted = made.NamedExpr(target=_store(total),
                                         value=made.BinOp(left=before, op=ast.Add(), right=size))
                fits = made.BoolOp(op=ast.Or(), values=[
                    made.Compare(left=counted, ops=[ast.LtE()],
                                 comparators=[made.Constant(SIZE_FLOOR)]),
                    made.Call(func=_load("dg_text_room"), args=[_load(total)], keywords=[])])
                if literal is not None:
                    out.append(_located(made.Expr(value=_located(fits, call)), call))
                else:
                    as_text = made.BoolOp(op=ast.And(), values=[
                        _is(_type_of(_load(name)), _load("dg_int")),
                        made.NamedExpr(target=_store(name), value=made.Call(
                            func=_load("dg_str"), args=[_load(name)], keywords=[]))])
                    # (- * / % give no TEXT: a NUMBER's digits, or the helper)
                    is_text = as_text if getattr(expr, "dg_numeric", False) else made.BoolOp(
                        op=ast.Or(), values=[_is(_type_of(_load(name)), _load("dg_str")),
                                             as_text])
                    guard = _located(made.BoolOp(op=ast.And(), values=[is_text, fits]), call)
            finally:
                placed_again(saved)
            length = total
            # a held piece is built unpositioned: it takes the position of the first
            # statement that holds it (the appends below, or a fallback)
            if literal is not None:
                held = [*held, made.Constant(literal)]
                k += 1
                continue
            held = [*held, _load(name)]
            body = self._append_level(node, target, calls, exprs, held, total)
            value: ast.expr | None = None
            for c, p in zip(calls, held + exprs[k + 1:]):
                if "lineno" not in p.__dict__:
                    stamp(p, c)
                value = _built(c, lambda: made.Call(
                    func=_load("dg_add"), args=[_load(target) if value is None else value, p],
                    keywords=[]))
            fallback = _built(node, lambda: made.Assign(targets=[_store(target)], value=value))
            out.append(_built(node, lambda: made.If(test=guard, body=body, orelse=[fallback])))
            return out
        # every piece is in and fits: append them, adjacent literals as one
        saved = place(node)
        try:
            pieces: list[ast.expr] = []
            for p in held:
                if (pieces and isinstance(p, ast.Constant)
                        and isinstance(pieces[-1], ast.Constant)):
                    pieces[-1] = made.Constant(pieces[-1].value + p.value)
                else:
                    pieces.append(p)
            for p in pieces:
                if "lineno" not in p.__dict__:
                    stamp(p, node)
                out.append(_located(made.Assign(targets=[_store(target)], value=made.BinOp(
                    left=_load(target), op=ast.Add(), right=p)), node))
        finally:
            placed_again(saved)
        return out

    def visit_Expr(self, node: ast.Expr) -> Any:
        call = node.value
        if (not self.once and _helper_call(call, "dg_m")
                and len(call.args) >= 2  # type: ignore[attr-defined]
                and isinstance(call.args[1], ast.Constant)):  # type: ignore[attr-defined]
            method = str(call.args[1].value).lower()  # type: ignore[attr-defined]
            if method == "put" and len(call.args) == 4:  # type: ignore[attr-defined]
                return self._put(node, call)  # type: ignore[arg-type]
            if method == "add" and len(call.args) == 3:  # type: ignore[attr-defined]
                return self._add(node, call)  # type: ignore[arg-type]
        self.generic_visit(node)
        return node

    def _pin(self, expr: ast.expr, where: ast.AST, setup: list[ast.stmt],
             names_too: bool = False) -> ast.expr:
        """`expr` bound to a temporary by a statement added to `setup` (a constant is
        left as it is; so is a name unless `names_too`, and a variable certainly set
        here: read after the value, it is what it was before, as no expression assigns a
        variable, and reading it raises nothing)."""
        if isinstance(expr, ast.Constant) or (isinstance(expr, ast.Name) and (
                not names_too or expr.id in self.known_set)):
            return expr
        name = self._temp()
        setup.append(_located(made.Assign(targets=[_store(name)], value=expr), where))
        return _load(name)

    def _put(self, node: ast.Expr, call: ast.Call) -> list[ast.stmt]:
        for i in range(len(call.args)):
            call.args[i] = self.visit(call.args[i])
        saved = place(node)  # every new node at the statement's position (_located)
        try:
            return self._put_at(node, call)
        finally:
            placed_again(saved)

    def _put_at(self, node: ast.Expr, call: ast.Call) -> list[ast.stmt]:
        receiver, name, key, value = call.args
        setup: list[ast.stmt] = []
        # The value is bound once, not copied into both branches (which doubled the tree
        # at each nesting level); receiver and key are read before it, as the helper
        # call reads them, so a missing variable is reported first either way.
        pin_value = not _simple(value)
        recv = self._pin(receiver, node, setup, names_too=pin_value)
        k = self._pin(key, node, setup, names_too=pin_value)
        if pin_value:
            value = self._pin(value, node, setup)
        checks: list[ast.expr] = []
        if self._kind(receiver) != "map":
            checks.append(_is(_type_of(recv), _load("dg_dict")))
        if not self._text_key(key):
            checks.append(_is(_type_of(k), _load("dg_str")))
        checks.append(made.Compare(left=made.Call(func=_load("dg_len"), args=[recv], keywords=[]),
                                  ops=[ast.Lt()], comparators=[made.Constant(SIZE_FLOOR)]))
        store = made.Assign(targets=[made.Subscript(value=recv, slice=k, ctx=ast.Store())],
                           value=value)
        slow = made.Expr(value=made.Call(func=call.func, args=[recv, name, k, value],
                                       keywords=[]))
        test = checks[0] if len(checks) == 1 else made.BoolOp(op=ast.And(), values=checks)
        branch = made.If(test=test, body=[store], orelse=[slow])
        return [*setup, _located(branch, node)]

    def _add(self, node: ast.Expr, call: ast.Call) -> list[ast.stmt]:
        for i in range(len(call.args)):
            call.args[i] = self.visit(call.args[i])
        saved = place(node)  # as in _put
        try:
            return self._add_at(node, call)
        finally:
            placed_again(saved)

    def _add_at(self, node: ast.Expr, call: ast.Call) -> list[ast.stmt]:
        receiver, name, value = call.args
        setup: list[ast.stmt] = []
        pin_value = not _simple(value)  # bound once, as in _put
        recv = self._pin(receiver, node, setup, names_too=pin_value)
        if pin_value:
            value = self._pin(value, node, setup)
        checks: list[ast.expr] = [] if self._kind(receiver) == "list" else [
            _is(_type_of(recv), _load("dg_list"))]
        checks.append(made.Compare(left=made.Call(func=_load("dg_len"), args=[recv], keywords=[]),
                                  ops=[ast.Lt()], comparators=[made.Constant(SIZE_FLOOR)]))
        append = made.Expr(value=made.Call(
            func=made.Attribute(value=recv, attr="append", ctx=ast.Load()), args=[value],
            keywords=[]))
        slow = made.Expr(value=made.Call(func=call.func, args=[recv, name, value], keywords=[]))
        test = checks[0] if len(checks) == 1 else made.BoolOp(op=ast.And(), values=checks)
        branch = made.If(test=test, body=[append], orelse=[slow])
        return [*setup, _located(branch, node)]
