"""Loop versioning for the fast paths: an innermost `for each` body in two versions.

A loop over values of unknown type (`for each n in numbers`, an accumulator fed from
them) pays a type guard at every operator. When a few variables are NUMBERs at the start
of an iteration and every assignment to them in the body keeps them NUMBERs, the body
runs a copy in which they are known NUMBERs (no type guards: only the 64-bit range and
value checks stay); the guard is tested once per iteration, after the statement charge:

    for v_n in ...:
        dg_n -= 2
        if dg_n < 0: dg_n = dg_refill(dg_ctx, dg_n)
        if dg_type(v_n) is dg_type(v_total) is dg_int:
            <body, v_n and v_total known NUMBERs>
        else:
            <body as before>

The guard only reads variables that are certainly set when the iteration starts (the
loop's own variable, a function parameter, or a variable assigned on every path before
the loop), so it never raises: an unset variable is still reported where the script
reads it. Both versions run the same statements and charges, in the same order.
"""

from __future__ import annotations

__all__ = ["LoopVersioning", "definitely_set", "version_candidates", "kind_candidates",
           "iteration_charge", "without_refills", "MAX_BODY_NODES"]

import ast
import copy
from typing import Any

from .treepass import stamp, walk

# Bodies larger than this (in AST nodes) are not copied: the code would grow too much.
MAX_BODY_NODES = 600

_INT_HELPERS = frozenset({"dg_add", "dg_sub", "dg_mul", "dg_div", "dg_mod"})
_GUARDED_HELPERS = _INT_HELPERS | {"dg_lt", "dg_le", "dg_gt", "dg_ge", "dg_eq", "dg_ne"}


def _script_name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) and node.id.startswith("v_") else None


def definitely_set(fn: ast.FunctionDef) -> dict[int, frozenset[str]]:
    """For each `for` statement of `fn` (by id): the script variables certainly set when
    an iteration of it starts (its own variable included)."""
    found: dict[int, frozenset[str]] = {}
    params = {a.arg for a in fn.args.args if a.arg.startswith("v_")}
    _block(fn.body, set(params), found)
    return found


def _block(stmts: list[ast.stmt], assigned: set[str], found: dict[int, frozenset[str]]
           ) -> set[str]:
    """Walk a block in order; returns what is set after it (when it ends normally)."""
    for stmt in stmts:
        assigned = _statement(stmt, assigned, found)
    return assigned


def _statement(stmt: ast.stmt, assigned: set[str], found: dict[int, frozenset[str]]
               ) -> set[str]:
    if isinstance(stmt, ast.Assign):
        names = [_script_name(t) for t in stmt.targets]
        if all(names):
            return assigned | set(names)  # type: ignore[arg-type]
        return assigned
    if isinstance(stmt, ast.For):
        inner = set(assigned)
        target = _script_name(stmt.target)
        if target:
            inner.add(target)
        found[id(stmt)] = frozenset(inner)
        _block(stmt.body, inner, found)
        _block(stmt.orelse, set(assigned), found)
        return assigned  # the body may run no time
    if isinstance(stmt, ast.If):
        then = _block(stmt.body, set(assigned), found)
        other = _block(stmt.orelse, set(assigned), found)
        return then & other
    if isinstance(stmt, ast.Try):
        if not stmt.handlers:  # the function's own guard: its body runs in order
            after = _block(stmt.body, assigned, found)
            _block(stmt.finalbody, set(assigned), found)
            return after
        _block(stmt.body, set(assigned), found)
        for handler in stmt.handlers:
            _block(handler.body, set(assigned), found)
        _block(stmt.orelse, set(assigned), found)
        _block(stmt.finalbody, set(assigned), found)
        return assigned
    if isinstance(stmt, (ast.While, ast.With, ast.AsyncFor, ast.AsyncWith, ast.Match)):
        for field in ("body", "orelse"):
            _block(getattr(stmt, field, []) or [], set(assigned), found)
        return assigned
    return assigned


def _int_valued(expr: ast.expr, ints: set[str]) -> bool:
    """An expression the fast paths compute as a NUMBER when the names in `ints` are."""
    if isinstance(expr, ast.Constant):
        return type(expr.value) is int
    if isinstance(expr, ast.Name):
        return expr.id in ints
    return (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name)
            and expr.func.id in _INT_HELPERS and len(expr.args) == 2 and not expr.keywords
            and all(_int_valued(a, ints) for a in expr.args))


def version_candidates(loop: ast.For, body: list[ast.stmt], known_ints: set[str],
                       set_at_start: frozenset[str]) -> list[str]:
    """The variables to guard for a NUMBER version of an innermost loop's `body` (the
    statements after the charge), sorted; empty when versioning would not pay or not
    be safe."""
    nodes = 0
    operands: set[str] = set()
    stores: dict[str, list[ast.expr | None]] = {}  # the value of each assignment
    store_names: dict[str, int] = {}  # every place a variable is stored to
    for stmt in body:
        for node in walk(stmt):
            nodes += 1
            if isinstance(node, (ast.For, ast.While, ast.FunctionDef, ast.Lambda)):
                return []  # innermost loops only (a nested copy would grow the code again)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in _GUARDED_HELPERS:
                operands.update(a.id for a in node.args  # type: ignore[attr-defined]
                                if _script_name(a))
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                store_names[node.id] = store_names.get(node.id, 0) + 1
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    name = _script_name(target)
                    if name:
                        stores.setdefault(name, []).append(node.value)
            elif isinstance(node, (ast.AugAssign, ast.NamedExpr)):
                name = _script_name(node.target)  # type: ignore[arg-type]
                if name:
                    stores.setdefault(name, []).append(None)  # not checked: never versioned
        if nodes > MAX_BODY_NODES:
            return []
    candidates = {name for name in operands - known_ints if name in set_at_start}
    changed = True
    while changed:  # drop a variable an assignment may make other than a NUMBER
        changed = False
        ints = candidates | known_ints
        for name in sorted(candidates):
            values = stores.get(name, [])
            if store_names.get(name, 0) != len(values) or any(
                    v is None or not _int_valued(v, ints) for v in values):
                candidates.discard(name)
                changed = True
                break
    return sorted(candidates)


# The kind a method call asks of its receiver, for the fast paths that skip a receiver's
# type guard when its kind is known (fastpaths: _map_get, _put, _add, _text_method).
_TEXT_METHODS = frozenset({"trim", "touppercase", "tolowercase", "length", "len", "contains"})


def _receiver_kind(call: ast.Call) -> str | None:
    args = call.args
    if len(args) < 2 or not isinstance(args[1], ast.Constant) or type(args[1].value) is not str:
        return None
    method = args[1].value.lower()
    if method == "get" and len(args) == 3 and isinstance(args[2], ast.Constant):
        key = args[2].value
        return "map" if type(key) is str else "list" if type(key) is int else None
    if method == "put" and len(args) == 4:
        return "map"
    if method == "add" and len(args) == 3:
        return "list"
    if method in _TEXT_METHODS:
        return "text"
    return None


def kind_candidates(body: list[ast.stmt], known_kinds: dict[str, str],
                    set_at_start: frozenset[str]) -> dict[str, str]:
    """Variables certainly set at an iteration's start, never assigned in `body`, used
    there only as receivers of methods of one kind ("map", "list" or "text"): guarded
    once per iteration, they skip the receiver's type guard at each call."""
    wanted: dict[str, set[str]] = {}
    stored: set[str] = set()
    for stmt in body:
        for node in walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                stored.add(node.id)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "dg_m" and node.args):
                name = _script_name(node.args[0])
                if name:
                    kind = _receiver_kind(node)
                    wanted.setdefault(name, set()).add(kind or "?")
    return {name: next(iter(kinds)) for name, kinds in wanted.items()
            if len(kinds) == 1 and "?" not in kinds and name in set_at_start
            and name not in stored and name not in known_kinds}


def _is_charge(node: ast.AST) -> int | None:
    """k for the runtime-nodes pass's `dg_n -= k`, else None."""
    if (isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name)
            and node.target.id == "dg_n" and isinstance(node.op, ast.Sub)
            and isinstance(node.value, ast.Constant) and type(node.value.value) is int):
        return node.value.value
    return None


def _is_refill(node: ast.AST) -> bool:
    """The runtime-nodes pass's `if dg_n < 0: dg_n = dg_refill(dg_ctx, dg_n)`."""
    return (isinstance(node, ast.If) and not node.orelse and len(node.body) == 1
            and isinstance(node.test, ast.Compare) and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "dg_n" and isinstance(node.body[0], ast.Assign)
            and isinstance(node.body[0].value, ast.Call)
            and isinstance(node.body[0].value.func, ast.Name)
            and node.body[0].value.func.id == "dg_refill")


def iteration_charge(body: list[ast.stmt]) -> int | None:
    """The most statements one iteration of `body` can charge (the sum of its charges:
    each block runs at most once), or None when that is not known: a loop inside (its
    blocks run many times), or something else changes the countdown (a user function
    call banks it)."""
    total = 0
    stores = refills = charges = 0
    for stmt in body:
        for node in walk(stmt):
            if isinstance(node, (ast.For, ast.While, ast.AsyncFor, ast.FunctionDef,
                                 ast.Lambda)):
                return None  # a block that may run many times per iteration
            k = _is_charge(node)
            if k is not None:
                total += k
                charges += 1
            elif _is_refill(node):
                refills += 1
            elif isinstance(node, ast.Name) and node.id == "dg_n" \
                    and isinstance(node.ctx, ast.Store):
                stores += 1
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("dg_user", "dg_bank"):
                return None
    # every store to the countdown is a charge's or a refill's own (each Name node of
    # theirs was counted above as a store: one per charge, one per refill)
    if stores != charges + refills:
        return None
    return total


def without_refills(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """`stmts` (a copy) with every refill check removed, the charges kept: for an
    iteration that starts with more budget than it can charge, where no check fires."""
    out = []
    for stmt in stmts:
        if _is_refill(stmt):
            continue
        for node in walk(stmt):
            for field in ("body", "orelse", "finalbody"):
                block = getattr(node, field, None)
                if type(block) is list and any(_is_refill(s) for s in block):
                    kept = [s for s in block if not _is_refill(s)]
                    setattr(node, field, kept or [ast.copy_location(ast.Pass(), block[0])])
        out.append(stmt)
    return out


def _load(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _type_of(expr: ast.expr) -> ast.Call:
    return ast.Call(func=_load("dg_type"), args=[expr], keywords=[])


_KIND_TYPES = {"map": "dg_dict", "list": "dg_list", "text": "dg_str"}


class LoopVersioning:
    """The loop part of the fast paths (fastpaths.FastPaths mixes it in): its `ints`,
    `kinds`, `set_at_start` and `on`, and its visit, decide and rewrite each copy."""

    ints: set[str]
    kinds: dict[str, str]
    set_at_start: dict[int, frozenset[str]]
    on: frozenset[str]
    visit: Any  # the transformer's own
    generic_visit: Any

    def _visit_block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            new = self.visit(stmt)
            if isinstance(new, list):
                out.extend(new)
            elif new is not None:
                out.append(new)
        return out

    def visit_For(self, node: ast.For) -> Any:
        """An innermost loop runs its body in two versions, chosen at each iteration
        (runtime/loopversions.py): when the countdown holds more than the iteration can
        charge, a copy without the refill checks (none could fire), and in that copy the
        variables of NUMBER work known to be NUMBERs when they are at its start."""
        start = self.set_at_start.get(id(node))
        body = node.body
        # the statement charge the runtime-nodes pass put first stays outside the versions
        k = 2 if (len(body) > 2 and isinstance(body[0], ast.AugAssign)
                  and isinstance(body[0].target, ast.Name)
                  and body[0].target.id == "dg_n") else 0
        rest = body[k:]
        versioned = start is not None and k > 0 and "loop_versioning" in self.on
        names = version_candidates(node, rest, self.ints, start) if versioned else []
        kinds = kind_candidates(rest, self.kinds, start) if versioned else {}
        for name in names:
            kinds.pop(name, None)
        budget = iteration_charge(body) if versioned and (names or kinds or any(
            isinstance(s, ast.If) for s in walk(ast.Module(body=rest, type_ignores=[])))) \
            else None
        if budget is None:
            self.generic_visit(node)
            return node
        special = without_refills(copy.deepcopy(rest))
        node.target = self.visit(node.target)
        node.iter = self.visit(node.iter)
        charge = self._visit_block(body[:k])
        generic = self._visit_block(rest)
        outer = self.ints, self.kinds
        self.ints = self.ints | set(names)
        self.kinds = {**{n: kind for n, kind in self.kinds.items() if n not in names}, **kinds}
        try:
            special = self._visit_block(special)
        finally:
            self.ints, self.kinds = outer
        tests: list[ast.expr] = [ast.Compare(left=_load("dg_n"), ops=[ast.GtE()],
                                             comparators=[ast.Constant(budget)])]
        if names:
            tests.append(ast.Compare(
                left=_type_of(_load(names[0])), ops=[ast.Is()] * len(names),
                comparators=[*(_type_of(_load(n)) for n in names[1:]), _load("dg_int")]))
        for name, kind in sorted(kinds.items()):
            tests.append(ast.Compare(left=_type_of(_load(name)), ops=[ast.Is()],
                                     comparators=[_load(_KIND_TYPES[kind])]))
        test = tests[0] if len(tests) == 1 else ast.BoolOp(op=ast.And(), values=tests)
        fast = [copy.deepcopy(charge[0]), *special]  # the charge, without its check
        node.body = [stamp(ast.If(test=test, body=fast, orelse=[*charge, *generic]),
                              body[0])]
        node.orelse = self._visit_block(node.orelse)
        return node
