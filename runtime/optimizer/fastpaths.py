"""Inlined fast paths for exact built-in types, added after the policy pass.

Generated code calls a helper for every operator and method (`dg_add(a, b)`,
`dg_m(m, 'get', k)`). For the commonest cases on exact Python types the helper's answer
is known without calling it, so the call is wrapped in a guard that does the work inline
and falls back to the helper for everything else:

    dg_add(A, B)        -> (r if MIN <= (r := t1 + t2) <= MAX else dg_overflow())
                           if dg_type(t1 := A) is dg_type(t2 := B) is dg_int else dg_add(t1, t2)
    dg_lt(A, B)         -> (t1 < t2) if <both int> else dg_lt(t1, t2)       (also <= > >=)
    dg_eq(A, "x")       -> (t1 == "x") if dg_type(t1 := A) is dg_str else dg_eq(t1, "x")
    dg_add("k", A)      -> "k" + t1 (TEXT) or "k" + str(t1) (NUMBER), else dg_add
    dg_mod(A, 3)        -> t1 % 3 when t1 is an int >= 0
    dg_eq(A, null)      -> A is None
    dg_m(M, 'get', K)   -> t1.get(t2) if M is a dict and K a str else dg_m(...)
    M.put(K, V);        -> if <dict, str key, below the size floor>: t1[t2] = V  else: dg_m(...)
    L.add(V);           -> if <list, below the size floor>: t1.append(V)  else: dg_m(...)
    dg_f('ifnull', a, b) -> dg_b_ifnull(a, b)       (built-in functions bound directly)
    dg_m(R, 'name', A)  -> dg_mc_name_1(R, A)        (a caller per call site, dispatch.method_caller)

Variables that only ever hold a NUMBER (`inference.local_kinds`: `n = 0; n = n + 1;`, an index of
`for each index`) skip the type guard; the 64-bit range check always stays.

The guarded forms pay only where code runs many times: in loop bodies and in the
script's functions (which a loop may call). Code that runs once per run, the bare body
outside its loops ("compact_once"), keeps the helper calls and only takes the rewrites
that make the tree no larger (folded constants, `is None`, bound built-ins and method
callers): a long straight-line script compiles to a tree a third to a quarter the size.

Temporaries (`dg_t<N>`) keep every operand evaluated exactly once and in script order.
The guards compare exact types (`type(x) is int`), so bool, BraceMap, TypedList and the
other subclasses always take the helper. Each new node takes the position of the call
it replaces, so errors still point at the operator or method.
"""

from __future__ import annotations

__all__ = ["FastPaths", "FAST_GLOBALS", "OPTIMIZATIONS", "disabled"]

import ast
import operator
from decimal import Decimal
from typing import Any

from ..dispatch import method_caller
from ..errors import ScriptRuntimeError
from ..treepass import TrustedPass
from ..values import MAX_NUMBER, MIN_NUMBER
from .fastnodes import (
    SIZE_FLOOR,
    _is,
    made,
    place,
    placed_again,
    _load,
    _located,
    _recalled,
    _simple,
    _store,
    _type_of,
)
from .faststatements import StatementPaths
from .inference import local_kinds
from .loopversions import LoopVersioning, definitely_set


def _overflow() -> None:
    raise ScriptRuntimeError("Number out of range")


def _text_room(length: int) -> bool:
    """True when a text of `length` characters is within the run's limit; raises
    LimitExceeded (as the `+` helper does) when it is not. Only the limit is checked, not
    charged as work: an in-place append copies its piece, not the text, and charging the
    whole length at every append made building a text quadratic again (the statement
    budget still reads the clock and the run's memory as the loop goes)."""
    from ..limits import current, text_limit_exceeded
    if length > current().limits.max_text:
        raise text_limit_exceeded()
    return True


FAST_GLOBALS: dict[str, Any] = {
    "dg_type": type, "dg_len": len, "dg_int": int, "dg_str": str, "dg_dict": dict,
    "dg_list": list, "dg_overflow": _overflow, "dg_text_room": _text_room,
    # DECIMAL arithmetic is Python's operators in the run's context (engine: a copy of
    # the helpers' DECIMAL_CONTEXT: the same precision, rounding and traps)
    "dg_num": frozenset({int, Decimal}), "dg_dec": Decimal,
    # TEXT methods whose built-ins are exactly these (stdlib/text.py)
    "dg_s_trim": str.strip, "dg_s_upper": str.upper, "dg_s_lower": str.lower,
}
# dg_m(R, name) on a TEXT receiver -> the global above (the lower-case method names)
_TEXT_METHODS = {"trim": "dg_s_trim", "touppercase": "dg_s_upper",
                 "tolowercase": "dg_s_lower", "length": "dg_len", "len": "dg_len"}


def _decimal(left: ast.expr, op: type[ast.operator], right: ast.expr) -> ast.expr:
    """+ - * of two numbers at least one of which is a DECIMAL (the other a DECIMAL or a
    NUMBER, never a boolean): Python's operator, in the run's context. The helpers'
    DECIMAL_CONTEXT.add (and subtract, multiply) compute the same digits with the same
    traps (an int operand is converted exactly by both); the operator saves the call,
    about half the time of a DECIMAL-and-NUMBER step (`qty * rate`, `amount - 1`)."""
    return made.BinOp(left=left, op=op(), right=right)


# Every optimization by name: a name in `disabled` turns it off for the compiles that
# follow (the differential fuzz tests run each script with and without each one; the
# compile cache must be cleared around a change).
OPTIMIZATIONS = frozenset({
    "number_inference",   # variables that only hold NUMBERs skip type guards
    "constant_folding",   # NUMBER arithmetic on two literals is computed once
    "text_append",        # `x = x + y` on a TEXT appends in place (linear text building)
    "integer_division",   # NUMBER / and % on a non-negative dividend and positive divisor
    "decimal_arithmetic",  # DECIMAL + - * and NUMBER/DECIMAL order comparisons inline
    "list_get",           # LIST.get(constant index) reads the element
    "literal_equality",   # == and != against a TEXT literal (or most NUMBER ones) unguarded
    "text_methods",       # trim, toUpperCase, toLowerCase, length, contains on a TEXT
    "type_inference",     # variables that only hold a MAP, LIST or TEXT skip type guards
    "loop_versioning",    # an innermost loop body also in a version for NUMBER variables
    "loop_counted",       # ... and, when only NUMBER work of one price, charged once
    "compact_once",       # code run once (the bare body outside loops) calls the helpers
})
disabled: set[str] = set()

_ARITH = {"dg_add": ast.Add, "dg_sub": ast.Sub, "dg_mul": ast.Mult}
_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
_ORDER = {"dg_lt": ast.Lt, "dg_le": ast.LtE, "dg_gt": ast.Gt, "dg_ge": ast.GtE}
_EQUALITY = {"dg_eq": ast.Eq, "dg_ne": ast.NotEq}


def _numeric(node: Any, helper: str, reads: frozenset[str] | None) -> Any:
    """Mark what - * / % give (never a TEXT: a NUMBER, a DECIMAL, or an error), for a
    TEXT literal joined to it (`_concat`), and the guarded variables an operator's
    result is a NUMBER with (`_general`)."""
    if isinstance(node, ast.expr):
        if helper != "dg_add":
            node.dg_numeric = True  # type: ignore[attr-defined]
        if reads is not None:
            node.dg_reads = reads  # type: ignore[attr-defined]
    return node


def _compacts_any(walks: dict[int, list[ast.AST]] | None) -> bool:
    """Whether `FastPaths._compact` may rewrite any call among a function's nodes (by
    statement, as sandbox._names walked them), each call's arguments as they are: true
    of every call it rewrites (NUMBER arithmetic on two literals, a comparison with a
    null literal, a method or built-in function), and of a few it leaves. Every rewrite
    of code run once starts at such a call (a parent's arguments change only then), so
    where there is none, visiting the function would change nothing. (The lists are
    freed before the visit: the nodes it makes reuse their memory, still in cache.)"""
    if walks is None:
        return True
    call_type, name_type, constant = ast.Call, ast.Name, ast.Constant
    arithmetic, equality, helpers = _ARITH, _EQUALITY, _COMPACTED
    for nodes in walks.values():
        for node in nodes:
            if type(node) is not call_type:
                continue
            func = node.func
            if type(func) is not name_type or func.id not in helpers:
                continue
            args = node.args
            if func.id in arithmetic:
                found = (len(args) == 2 and isinstance(args[0], constant)
                         and isinstance(args[1], constant))
            elif func.id in equality:
                found = len(args) == 2 and any(isinstance(a, constant) and a.value is None
                                               for a in args)
            else:  # dg_m, dg_f
                found = True
            if found:
                return True
    return False


# The helpers whose calls `_compact` may rewrite.
_COMPACTED = frozenset({*_ARITH, *_EQUALITY, "dg_m", "dg_f"})


class FastPaths(StatementPaths, LoopVersioning, TrustedPass):
    """Rewrites helper calls on exact types into inline code (see the module docstring)."""

    def __init__(self, builtin_functions: dict[str, Any]) -> None:
        self.builtin_functions = builtin_functions
        self.bound: dict[str, Any] = {}
        self.counter = 0
        self.ints: set[str] = set()
        self.kinds: dict[str, str] = {}
        self.set_at_start: dict[int, frozenset[str]] = {}
        # (left read, its type's temporary, right read, its type's temporary) of the last
        # two-sided guard `_both` built, for `_numbers` right after it
        self.held_types: tuple[ast.expr, str, ast.expr, str] | None = None
        self.on = OPTIMIZATIONS - disabled
        # Visiting code that runs once per run (see `_compact`).
        self.once = False
        # Visiting the general version of a loop whose NUMBER version guards these
        # variables (loopversions; see `_general`).
        self.general: frozenset[str] = frozenset()
        # The script variables certainly set at the statement visited (in loop bodies:
        # loopversions._visit_body), which a put or add need not read before its value.
        self.known_set: set[str] = set()
        # ... and those certainly holding a TEXT there (loopversions._visit_body).
        self.texts: set[str] = set()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        # The bare body runs once per run; a script's function may be called from a loop.
        once = node.name == "dg_main" and "compact_once" in self.on
        # Code that runs once needs no variable's kind: without a loop (sandbox._names
        # saw none) nothing here does.
        infer = not once or node.__dict__.pop("dg_loops", True)
        if not infer and not _compacts_any(node.__dict__.pop("dg_walks", None)):
            return node
        kinds = (local_kinds(node) if infer and self.on & {"number_inference",
                                                            "type_inference"} else {})
        ints = ({n for n, k in kinds.items() if k == "number"}
                if "number_inference" in self.on else set())
        if "type_inference" not in self.on:
            kinds = {}
        outer = self.ints, self.kinds, self.set_at_start, self.once
        self.ints, self.kinds = ints, kinds
        self.set_at_start = (definitely_set(node) if infer and "loop_versioning" in self.on
                             else {})
        self.once = once
        try:
            self.generic_visit(node)
        finally:
            self.ints, self.kinds, self.set_at_start, self.once = outer
        return node

    def visit_For(self, node: ast.For) -> Any:
        """The loop's source is read once per loop, where the code around it runs; its
        body runs at each iteration: the fast paths (and loop versions) there."""
        node.iter = self.visit(node.iter)
        once, self.once = self.once, False
        try:
            return self._loop_body(node)
        finally:
            self.once = once

    def _kind(self, expr: ast.expr) -> str | None:
        """"map", "list" or "text" for a variable known to hold only that (or, at this
        statement, a TEXT: `texts`), else None."""
        if not isinstance(expr, ast.Name):
            return None
        return "text" if expr.id in self.texts else self.kinds.get(expr.id)

    def _is_kind(self, expr: ast.expr, kind: str, type_global: str) -> ast.expr | None:
        """`dg_type(expr) is <type>`, or None when `expr` is known to be of that kind."""
        if self._kind(expr) == kind:
            return None
        return _is(_type_of(expr), _load(type_global))

    def _text_key(self, key: ast.expr) -> bool:
        """A key known to be exactly a TEXT: a text literal, or a variable that only ever
        holds one (type inference)."""
        return (isinstance(key, ast.Constant) and type(key.value) is str) or \
            self._kind(key) == "text"

    def _known_int(self, expr: ast.expr) -> bool:
        """An operand that is a NUMBER whenever it is evaluated without error."""
        if isinstance(expr, ast.Constant):
            return type(expr.value) is int
        if isinstance(expr, ast.Name):
            return expr.id in self.ints
        return bool(getattr(expr, "dg_known_int", False))

    def _temp(self) -> str:
        self.counter += 1
        return f"dg_t{self.counter}"

    def _hold(self, expr: ast.expr) -> tuple[ast.expr, ast.expr]:
        """(expression that evaluates `expr` once, expression that reads it again)."""
        if _simple(expr):
            return expr, expr
        name = self._temp()
        return made.NamedExpr(target=_store(name), value=expr), _load(name)

    # ---- expressions -----------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> Any:
        self.generic_visit(node)
        return self._rewrite(node)

    def _rewrite(self, node: ast.Call) -> Any:
        """The fast path of a helper call whose arguments were visited already, its new
        nodes built at the call's position (fastnodes.place; code run once builds few,
        and they are stamped)."""
        if not isinstance(node.func, ast.Name):
            return node
        if self.once:
            return self._compact(node)
        saved = place(node)
        try:
            return self._rewrite_call(node)
        finally:
            placed_again(saved)

    def _rewrite_call(self, node: ast.Call) -> Any:
        helper = node.func.id
        if helper == "dg_add" and len(node.args) == 2 and self._text_constant(node):
            return _located(self._concat(node), node)
        if helper in _ARITH and len(node.args) == 2:
            reads = self._general(node) if self.general else None
            if reads == self.general and "decimal_arithmetic" in self.on:
                fast = self._general_arith(node, _ARITH[helper])
            else:
                fast = self._arith(node, _ARITH[helper])
            return _numeric(_located(fast, node), helper, reads)
        if helper in ("dg_mod", "dg_div") and len(node.args) == 2:
            reads = self._general(node) if self.general else None
            if reads == self.general:  # the helper (the NUMBER version's case: _general)
                return _numeric(node, helper, reads)
            if "integer_division" in self.on:
                fast = self._modulo(node) if helper == "dg_mod" else self._division(node)
                return _numeric(_located(fast, node), helper, reads)
        if helper in _ORDER and len(node.args) == 2:
            return _located(self._order(node, _ORDER[helper]), node)
        if helper in _EQUALITY and len(node.args) == 2:
            return _located(self._equality(node, _EQUALITY[helper]), node)
        if helper == "dg_m" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            method = str(node.args[1].value).lower()
            if method == "get" and len(node.args) == 3:
                return _located(self._map_get(node), node)
            if method == "size" and len(node.args) == 2:
                return _located(self._size(node), node)
            return self._method_caller(node)
        if helper == "dg_f" and node.args and isinstance(node.args[0], ast.Constant):
            return self._bind_function(node)
        return node

    def _compact(self, node: ast.Call) -> Any:
        """A helper call in code that runs once per run: only the rewrites that make the
        tree no larger (a folded constant, `x is None`, a bound built-in, a method's
        caller); everything else stays the helper call that the fast paths fall back to.
        A guarded fast path saves nanoseconds once but costs compiling both of its
        branches, the bulk of a long straight-line script's compile time. A rewrite added
        here is added to `_compacts_any` too (a function without one is not visited)."""
        helper = node.func.id  # type: ignore[attr-defined]
        args = node.args
        if helper in _ARITH and len(args) == 2:
            folded = self._folded(args[0], args[1], _ARITH[helper])
            return node if folded is None else _located(folded, node)
        if helper in _EQUALITY and len(args) == 2:
            nothing = self._null_test(args[0], args[1], _EQUALITY[helper])
            return node if nothing is None else _located(nothing, node)
        if helper == "dg_m" and len(args) >= 2 and isinstance(args[1], ast.Constant):
            method = str(args[1].value).lower()
            kind = self._kind(args[0])
            if len(args) == 2 and ((method == "size" and kind in ("map", "list"))
                                   or (kind == "text" and method in _TEXT_METHODS
                                       and "text_methods" in self.on)):
                # a receiver of a known kind: the method is one call without a guard
                function = "dg_len" if method == "size" else _TEXT_METHODS[method]
                return _located(made.Call(func=_load(function), args=[args[0]], keywords=[]),
                                node)
            return self._method_caller(node, inline=False)
        if helper == "dg_f" and args and isinstance(args[0], ast.Constant):
            return self._bind_function(node, inline=False)
        return node

    def _folded(self, left: ast.expr, right: ast.expr,
                op: type[ast.operator]) -> ast.Constant | None:
        """NUMBER arithmetic on two literals, computed once (None when it is not that,
        or overflows: the overflow is raised when it runs)."""
        if ("constant_folding" in self.on and isinstance(left, ast.Constant)
                and isinstance(right, ast.Constant) and type(left.value) is int
                and type(right.value) is int):
            value = _FOLD[op](left.value, right.value)
            if MIN_NUMBER <= value <= MAX_NUMBER:
                folded = made.Constant(value)
                folded.dg_known_int = True  # type: ignore[attr-defined]
                return folded
        return None

    @staticmethod
    def _null_test(left: ast.expr, right: ast.expr,
                   op: type[ast.cmpop]) -> ast.expr | None:
        """`x == null` is true for null alone (SPEC §3): an identity test (None when
        neither side is a null literal)."""
        for known, other in ((right, left), (left, right)):
            if isinstance(known, ast.Constant) and known.value is None:
                if isinstance(other, ast.Constant):  # both written out: fold it
                    return made.Constant((other.value is None) == (op is ast.Eq))
                return made.Compare(left=other, ops=[ast.Is() if op is ast.Eq else ast.IsNot()],
                                   comparators=[made.Constant(None)])
        return None

    def _both(self, node: ast.Call, kind: str) -> tuple[ast.expr | None, ast.expr, ast.expr]:
        """A guard that both operands are exactly `kind`, and the re-reads of them; no
        guard (None) when both are known NUMBERs."""
        self.held_types = None
        left, right = node.args
        if kind == "dg_int":
            left_known, right_known = self._known_int(left), self._known_int(right)
            if left_known and right_known:
                return None, left, right
            if left_known or right_known:
                other = right if left_known else left
                other_once, other_again = self._hold(other)
                guard = _is(_type_of(other_once), _load(kind))
                return (guard, left, other_again) if left_known else (guard, other_again,
                                                                       right)
        literal = int if kind == "dg_int" else str
        for known, other in ((right, left), (left, right)):
            if isinstance(known, ast.Constant) and type(known.value) is literal:
                other_once, other_again = self._hold(other)
                guard = _is(_type_of(other_once), _load(kind))
                return (guard, other_again, known) if known is right else (guard, known,
                                                                            other_again)
        left_once, left_again = self._hold(left)
        right_once, right_again = self._hold(right)
        # the two types are kept: the DECIMAL test that may follow reads them again
        left_type, right_type = self._temp(), self._temp()
        self.held_types = (left_again, left_type, right_again, right_type)
        guard = made.Compare(
            left=made.NamedExpr(target=_store(left_type), value=_type_of(left_once)),
            ops=[ast.Is(), ast.Is()],
            comparators=[made.NamedExpr(target=_store(right_type), value=_type_of(right_once)),
                         _load(kind)])
        return guard, left_again, right_again

    def _general(self, node: ast.Call) -> frozenset[str] | None:
        """In the general version of a loop (`self.general`: every variable its NUMBER
        version guards, when it guards no receiver's kind): the guarded variables the
        operands of `node` read, when both are NUMBERs whenever those are (else None).

        When they are all of `self.general`, both operands NUMBERs means every guard held:
        the general version runs that case only for an iteration whose countdown was
        low, so the helper takes it and the inline NUMBER form is not built a second
        time. An operator reading only some of them stays inline: NUMBER work beside an
        accumulator that holds a DECIMAL or a TEXT runs the general version each time."""
        left, right = (self._reads(a) for a in node.args)
        if left is None or right is None:
            return None
        return left | right

    def _reads(self, expr: ast.expr) -> frozenset[str] | None:
        """The guarded variables `expr` reads, when it is a NUMBER whenever they are."""
        if isinstance(expr, ast.Constant):
            return frozenset() if type(expr.value) is int else None
        reads = getattr(expr, "dg_reads", None)
        if reads is not None:
            return reads  # type: ignore[no-any-return]
        if isinstance(expr, ast.Name):
            if expr.id in self.general:
                return frozenset((expr.id,))
            return frozenset() if expr.id in self.ints else None
        return frozenset() if getattr(expr, "dg_known_int", False) else None

    def _general_arith(self, node: ast.Call, op: type[ast.operator]) -> ast.expr:
        """+ - * in a loop's general version on operands `_general` accepts: DECIMAL and
        DECIMAL, or DECIMAL and NUMBER, inline (`_decimal`), else the helper (which
        computes NUMBER and NUMBER exactly as the inline form, range check included).
        Operands are read in the order and as often as `_arith` reads them."""
        left, right = node.args
        if self._known_int(left) or self._known_int(right):
            other = right if self._known_int(left) else left
            once, again = self._hold(other)
            a, b = (left, again) if other is right else (again, right)
            result: ast.expr = made.IfExp(
                test=_is(_type_of(once), _load("dg_dec")),
                body=_decimal(a, op, b), orelse=self._fallback(node, a, b))
        else:
            left_once, a = self._hold(left)
            right_once, b = self._hold(right)
            left_type, right_type = self._temp(), self._temp()
            # the same tests as `_arith`'s, in its order, but for the NUMBER branch
            same = made.Compare(
                left=made.NamedExpr(target=_store(left_type), value=_type_of(left_once)),
                ops=[ast.Is()],
                comparators=[made.NamedExpr(target=_store(right_type), value=_type_of(right_once))])
            alike = made.IfExp(test=_is(_load(left_type), _load("dg_dec")),
                              body=made.BinOp(left=a, op=op(), right=b),
                              orelse=self._fallback(node, a, b))
            mixed = made.BoolOp(op=ast.And(), values=[
                made.Compare(left=_load(left_type), ops=[ast.In()], comparators=[_load("dg_num")]),
                made.Compare(left=_load(right_type), ops=[ast.In()],
                            comparators=[_load("dg_num")])])
            result = made.IfExp(test=same, body=alike, orelse=made.IfExp(
                test=mixed, body=_decimal(a, op, b), orelse=self._fallback(node, a, b)))
        return result

    def _fallback(self, node: ast.Call, left: ast.expr, right: ast.expr) -> ast.Call:
        return made.Call(func=node.func, args=[left, right], keywords=[])

    def _arith(self, node: ast.Call, op: type[ast.operator]) -> ast.expr:
        folded = self._folded(node.args[0], node.args[1], op)
        if folded is not None:
            return folded
        guard, left, right = self._both(node, "dg_int")
        result = self._temp()
        computed = made.NamedExpr(target=_store(result), value=made.BinOp(left=left, op=op(),
                                                                         right=right))
        in_range = made.Compare(left=made.Constant(MIN_NUMBER), ops=[ast.LtE(), ast.LtE()],
                               comparators=[computed, made.Constant(MAX_NUMBER)])
        overflow = made.Call(func=_load("dg_overflow"), args=[], keywords=[])
        fast = made.IfExp(test=in_range, body=_load(result), orelse=overflow)
        if guard is None:
            fast.dg_known_int = True  # type: ignore[attr-defined]
            return fast
        slow: ast.expr = self._fallback(node, left, right)
        if "decimal_arithmetic" in self.on:
            # Not both NUMBER, both numeric: a DECIMAL result (`_decimal`)
            held = self.held_types
            slow = made.IfExp(test=self._numbers(left, right), body=_decimal(left, op, right),
                              orelse=slow)
            if held is not None:  # both DECIMAL (amounts): the operator itself, in the
                # run's context (engine: a copy of the helpers' DECIMAL_CONTEXT, so the
                # same digits, rounding and traps; no call). Both types are tested once
                # for being the same, then DECIMAL or NUMBER (two tests for a DECIMAL
                # where the chain `a is b is int`, then `a is b is Decimal`, took four;
                # DECIMAL first: NUMBERs known as such never come here, and amounts of
                # unknown type, in records, are DECIMALs more often than not).
                same = made.Compare(left=guard.left, ops=[ast.Is()],  # type: ignore
                                   comparators=[guard.comparators[0]])  # type: ignore
                alike = made.IfExp(
                    test=_is(_load(held[1]), _load("dg_dec")),
                    body=made.BinOp(left=left, op=op(), right=right),
                    orelse=made.IfExp(test=_is(_load(held[1]), _load("dg_int")), body=fast,
                                     orelse=self._fallback(node, left, right)))
                return made.IfExp(test=same, body=alike, orelse=slow)
        return made.IfExp(test=guard, body=fast, orelse=slow)

    @staticmethod
    def _text_constant(node: ast.Call) -> bool:
        return any(isinstance(a, ast.Constant) and type(a.value) is str for a in node.args)

    def _concat(self, node: ast.Call) -> ast.expr:
        """TEXT constant + TEXT or NUMBER: joined inline when the result is short (its
        length is known before it is built); long results take the helper, which checks
        the text size limit."""
        left, right = node.args
        const_left = isinstance(left, ast.Constant) and type(left.value) is str
        constant = left if const_left else right
        room = SIZE_FLOOR - len(constant.value)  # type: ignore[attr-defined]
        if room < 20:  # a NUMBER's digits would not fit under the floor either
            return node
        other = right if const_left else left

        def join(value: ast.expr) -> ast.expr:
            return made.BinOp(left=left if const_left else value, op=ast.Add(),
                             right=value if const_left else right)

        if self._known_int(other):  # a NUMBER: its digits, always short enough (room)
            return join(made.Call(func=_load("dg_str"), args=[other], keywords=[]))
        once, again = self._hold(other)
        fallback = made.Call(func=node.func, args=[left if const_left else again,
                                                  again if const_left else right], keywords=[])
        number_text = made.Call(func=_load("dg_str"), args=[again], keywords=[])
        if getattr(other, "dg_numeric", False):  # - * / % give no TEXT: NUMBER or else
            return made.IfExp(test=_is(_type_of(once), _load("dg_int")), body=join(number_text),
                             orelse=fallback)
        short = made.Compare(left=made.Call(func=_load("dg_len"), args=[again], keywords=[]),
                            ops=[ast.LtE()], comparators=[made.Constant(room)])
        text_case = made.IfExp(test=short, body=join(again), orelse=fallback)
        number_case = made.IfExp(test=_is(_type_of(again), _load("dg_int")),
                                body=join(number_text), orelse=fallback)
        return made.IfExp(test=_is(_type_of(once), _load("dg_str")), body=text_case,
                         orelse=number_case)

    def _modulo(self, node: ast.Call) -> ast.expr:
        """Python's % agrees with Deluge's (sign of the dividend) for a non-negative
        dividend and a positive divisor."""
        return self._integer_division(node, ast.Mod())

    def _division(self, node: ast.Call) -> ast.expr:
        """NUMBER / NUMBER truncates toward zero (SPEC §3): Python's // for a
        non-negative dividend and a positive divisor, which stays in range."""
        return self._integer_division(node, ast.FloorDiv())

    def _integer_division(self, node: ast.Call, op: ast.operator) -> ast.expr:
        """`op` (// or %) on NUMBERs when the dividend is non-negative and the divisor
        positive (what a constant shows needs no check), else the helper."""
        guard, left, right = self._both(node, "dg_int")
        checks: list[ast.expr] = [] if guard is None else [guard]
        if not (isinstance(left, ast.Constant) and type(left.value) is int
                and left.value >= 0):
            left_once = left
            if guard is None:  # a known NUMBER expression is read again below: once
                left_once, left = self._hold(left)
            checks.append(made.Compare(left=left_once, ops=[ast.GtE()],
                                      comparators=[made.Constant(0)]))
        if not (isinstance(right, ast.Constant) and type(right.value) is int
                and right.value > 0):
            checks.append(made.Compare(left=right, ops=[ast.Gt()], comparators=[made.Constant(0)]))
        fast = made.BinOp(left=left, op=op, right=right)
        if not checks:
            fast.dg_known_int = True  # type: ignore[attr-defined]
            return fast
        test = checks[0] if len(checks) == 1 else made.BoolOp(op=ast.And(), values=checks)
        result = made.IfExp(test=test, body=fast, orelse=self._fallback(node, left, right))
        if guard is None:  # NUMBER op NUMBER is a NUMBER on either branch
            result.dg_known_int = True  # type: ignore[attr-defined]
        return result

    def _numbers(self, left: ast.expr, right: ast.expr) -> ast.expr:
        """Both operands NUMBER or DECIMAL (the operands are read again, not evaluated;
        their types too when the guard before kept them)."""
        held = self.held_types
        self.held_types = None

        def type_of(side: ast.expr) -> ast.expr:
            if held is not None and side is held[0]:
                return _load(held[1])
            if held is not None and side is held[2]:
                return _load(held[3])
            return _type_of(side)

        checks: list[ast.expr] = [
            made.Compare(left=type_of(side), ops=[ast.In()], comparators=[_load("dg_num")])
            for side in (left, right) if not self._known_int(side)]  # (a NUMBER is one)
        if not checks:
            return made.Constant(True)
        return checks[0] if len(checks) == 1 else made.BoolOp(op=ast.And(), values=checks)

    def _numbers_only(self, node: ast.Call) -> bool:
        """Both operands are NUMBERs or DECIMALs whenever they are evaluated without error
        (a NUMBER literal, a known NUMBER, what - * / % give: `_numeric`), which compare
        in Python exactly as the helpers compare them (NaN included: `==` false, an
        order raises as theirs does)."""
        return "decimal_arithmetic" in self.on and all(
            self._known_int(a) or getattr(a, "dg_numeric", False) for a in node.args)

    def _order(self, node: ast.Call, op: type[ast.cmpop]) -> ast.expr:
        if self._numbers_only(node):
            return made.Compare(left=node.args[0], ops=[op()], comparators=[node.args[1]])
        guard, left, right = self._both(node, "dg_int")
        fast = made.Compare(left=left, ops=[op()], comparators=[right])
        if guard is None:
            return fast
        slow: ast.expr = self._fallback(node, left, right)
        if "decimal_arithmetic" in self.on:
            # NUMBER and DECIMAL compare exactly in Python, as the helper compares them
            slow = made.IfExp(test=self._numbers(left, right),
                             body=made.Compare(left=left, ops=[op()], comparators=[right]),
                             orelse=slow)
        return made.IfExp(test=guard, body=fast, orelse=slow)

    def _equality(self, node: ast.Call, op: type[ast.cmpop]) -> ast.expr:
        left, right = node.args
        if self._numbers_only(node):
            return made.Compare(left=left, ops=[op()], comparators=[right])
        nothing = self._null_test(left, right, op)
        if nothing is not None:
            return nothing
        constant = next((a for a in (right, left) if isinstance(a, ast.Constant)
                         and type(a.value) in (str, int)), None)
        if constant is None:
            guard, left_again, right_again = self._both(node, "dg_str")
        elif "literal_equality" in self.on and (type(constant.value) is str
                                                or constant.value not in (0, 1)):
            # Python's == is the helper's here, for every runtime value: only a TEXT
            # (str or CaughtError, str's own ==) equals a TEXT literal; only a NUMBER or a
            # DECIMAL of its value equals a NUMBER literal (a BOOLEAN equals 0 or 1 in
            # Python, never in Deluge: those keep the guard); the other values' __eq__
            # (DateTime, File, Collection, lists, maps) answer False, nothing raises
            return made.Compare(left=left, ops=[op()], comparators=[right])
        else:
            other = left if constant is right else right
            kind = "dg_str" if type(constant.value) is str else "dg_int"
            if kind == "dg_int" and self._known_int(other):
                return made.Compare(left=left, ops=[op()], comparators=[right])
            other_once, other_again = self._hold(other)
            guard = _is(_type_of(other_once), _load(kind))
            left_again, right_again = ((other_again, constant) if constant is right
                                       else (constant, other_again))
        fast = made.Compare(left=left_again, ops=[op()], comparators=[right_again])
        return made.IfExp(test=guard, body=fast,
                         orelse=self._fallback(node, left_again, right_again))

    def _map_get(self, node: ast.Call) -> ast.expr:
        receiver, name, key = node.args
        if not _simple(key) or isinstance(receiver, ast.Constant):
            # a computed key would be evaluated twice by the guard; a literal receiver is
            # never a map or list (and `0[0]` would draw a SyntaxWarning from compile())
            return node
        if (isinstance(key, ast.Constant) and type(key.value) is int and key.value >= 0
                and "list_get" in self.on):
            # LIST.get(i) within the list is its element; anything else, the helper
            recv_once, recv_again = self._hold(receiver)
            within = made.Compare(left=key, ops=[ast.Lt()], comparators=[
                made.Call(func=_load("dg_len"), args=[recv_once], keywords=[])])
            is_list = self._is_kind(recv_once, "list", "dg_list")
            guard: ast.expr = within if is_list is None else made.BoolOp(
                op=ast.And(), values=[is_list, made.Compare(left=key, ops=[ast.Lt()],
                                                           comparators=[made.Call(
                    func=_load("dg_len"), args=[recv_again], keywords=[])])])
            fast = made.Subscript(value=recv_again, slice=key, ctx=ast.Load())
            slow = made.Call(func=node.func, args=[recv_again, name, key], keywords=[])
            return made.IfExp(test=guard, body=fast, orelse=slow)
        is_map = self._is_kind(receiver, "map", "dg_dict")
        recv_once, recv_again = self._hold(receiver)
        checks: list[ast.expr] = []
        if is_map is not None:
            checks.append(_is(_type_of(recv_once), _load("dg_dict")))
            receiver_read = recv_again
        else:
            receiver_read = recv_once
        if not self._text_key(key):
            checks.append(_is(_type_of(key), _load("dg_str")))
        fast = made.Call(func=made.Attribute(value=receiver_read, attr="get", ctx=ast.Load()),
                        args=[key], keywords=[])
        if not checks:
            return fast
        slow = made.Call(func=node.func, args=[recv_again, name, key], keywords=[])
        guard = checks[0] if len(checks) == 1 else made.BoolOp(op=ast.And(), values=checks)
        return made.IfExp(test=guard, body=fast, orelse=slow)

    def _size(self, node: ast.Call) -> ast.expr:
        receiver, name = node.args
        if self._kind(receiver) in ("map", "list"):
            return made.Call(func=_load("dg_len"), args=[receiver], keywords=[])
        recv_once, recv_again = self._hold(receiver)
        guard = made.BoolOp(op=ast.Or(), values=[
            _is(_type_of(recv_once), _load("dg_list")),
            _is(_type_of(recv_again), _load("dg_dict"))])
        fast = made.Call(func=_load("dg_len"), args=[recv_again], keywords=[])
        slow = made.Call(func=node.func, args=[recv_again, name], keywords=[])
        return made.IfExp(test=guard, body=fast, orelse=slow)

    def _method_caller(self, node: ast.Call, inline: bool = True) -> ast.expr:
        """`dg_m(R, 'name', A...)` -> `dg_mc_name_N(R, A...)`: the call site's own caller,
        which remembers the built-in per receiver type (dispatch.method_caller); with
        `inline`, a TEXT method on a TEXT receiver is done inline."""
        name = str(node.args[1].value)  # type: ignore[attr-defined]
        if not name.isidentifier() or not name.isascii():
            return node
        nargs = len(node.args) - 2
        global_name = f"dg_mc_{name}_{nargs}"
        self.bound[global_name] = method_caller(name, nargs)
        if inline and "text_methods" in self.on:
            fast = self._text_method(node, name.lower(), nargs, global_name)
            if fast is not None:
                return _located(fast, node)
        return _recalled(node, global_name, [node.args[0], *node.args[2:]])

    def _text_method(self, node: ast.Call, name: str, nargs: int,
                     caller: str) -> ast.expr | None:
        """The hottest TEXT methods on a TEXT receiver: the Python operation their
        built-in is (stdlib/text.py); any other receiver, the call site's caller."""
        if nargs == 0 and name in _TEXT_METHODS:
            if self._kind(node.args[0]) == "text":
                return made.Call(func=_load(_TEXT_METHODS[name]), args=[node.args[0]],
                                keywords=[])
            once, again = self._hold(node.args[0])
            fast = made.Call(func=_load(_TEXT_METHODS[name]), args=[again], keywords=[])
            slow = made.Call(func=_load(caller), args=[again], keywords=[])
            return made.IfExp(test=_is(_type_of(once), _load("dg_str")), body=fast,
                             orelse=slow)
        if nargs == 1 and name == "contains":
            # both evaluated first, in order (a chained `is`), then tested
            recv_once, recv = self._hold(node.args[0])
            arg_once, arg = self._hold(node.args[2])
            guard: ast.expr
            if isinstance(arg_once, ast.Constant) and type(arg_once.value) is str:
                guard = _is(_type_of(recv_once), _load("dg_str"))
            else:
                guard = made.Compare(left=_type_of(recv_once), ops=[ast.Is(), ast.Is()],
                                    comparators=[_type_of(arg_once), _load("dg_str")])
            fast = made.Compare(left=arg, ops=[ast.In()], comparators=[recv])
            slow = made.Call(func=_load(caller), args=[recv, arg], keywords=[])
            return made.IfExp(test=guard, body=fast, orelse=slow)
        return None

    def _bind_function(self, node: ast.Call, inline: bool = True) -> ast.expr:
        name = str(node.args[0].value).lower()  # type: ignore[attr-defined]
        if (inline and name == "ifnull" and len(node.args) == 3
                and isinstance(node.args[2], ast.Constant)):
            # ifnull(x, constant): a conditional expression, not a call. (With any other
            # fallback the call stays, so both arguments are evaluated as before.)
            if isinstance(node.args[1], ast.Constant):
                first = node.args[1]
                return first if first.value is not None else node.args[2]
            once, again = self._hold(node.args[1])
            test = made.Compare(left=once, ops=[ast.IsNot()], comparators=[made.Constant(None)])
            return _located(made.IfExp(test=test, body=again, orelse=node.args[2]), node)
        row = self.builtin_functions.get(name)
        if row is None or not name.isidentifier():
            return node
        n = len(node.args) - 1
        if n < row.min_args or (row.max_args is not None and n > row.max_args):
            return node
        global_name = f"dg_b_{name}"
        self.bound[global_name] = row.fn
        return _recalled(node, global_name, node.args[1:])
