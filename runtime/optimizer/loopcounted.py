"""Counted loops: an innermost `for each` whose iterations are all the same price and can
raise nothing, charged once for the whole loop.

A versioned loop (loopversions.py) still pays, at every iteration, a guard at its head
(the countdown, the loop variable's type), its statement charges and a 64-bit range check
at every + - *. When the body is only NUMBER work (assignments of + - * and of / and % by
a positive literal, `if`s on comparisons of them), every path through it charges the same
number of statements K, and nothing in it reads a variable the loop may have left unset,
the loop can be decided once at its entry:

    dg_s = <the LIST walked (the snapshot `for each` takes)>
    if (every element of dg_s is a NUMBER, every variable the body reads is a NUMBER,
        bounds computed from their magnitudes and len(dg_s) keep every + - * of every
        iteration within 64 bits, and the countdown (drawing from the run's budget when
        the whole loop's len(dg_s) * K statements are there) covers the whole loop):
        dg_n -= len(dg_s) * K
        for v in dg_s: <the body as plain Python: no charge, no guard, no range check>
    else:
        <the versioned loop, as before>

The copy can raise no error (no range check can fail, no division is by zero, the
variables it reads are set and NUMBERs), so it runs every iteration to the end and the
count charged at entry is the count the statements would have charged one by one. The
bounds: an element's magnitude is at most M = max(max(dg_s), -min(dg_s)); a variable not
assigned in the body keeps its magnitude; a variable assigned `x = x + e` (or `x - e`,
`e + x`) grows by at most |e| an iteration, so stays within |x0| + len(dg_s) * |e|, and one
assigned `x = e` within |x0| + |e|; |a + b| <= |a| + |b|, |a * b| <= |a| * |b|,
|a / c| <= |a| and |a % c| < c. The sum of the bounds of all + - * must be at most
2^63 - 1 (each is then within 64 bits). A loop that would charge more than MAX_COUNTED
statements runs the versioned loop, whose refills read the clock as it goes, and so does
a list of fewer than MIN_COUNTED elements.
"""

from __future__ import annotations

__all__ = ["CountedPlan", "counted_plan", "entry_test", "entry_function", "bound_terms",
           "int_span", "draw", "walked", "MAX_COUNTED", "COUNTED_GLOBALS"]

import ast
import itertools
import time
from array import array
from typing import Any

from ..hooks import iterate
from ..treepass import is_charge as _charge
from ..treepass import is_refill as _refill
from ..treepass import load as _load
from ..treepass import script_name as _name
from ..treepass import walk

INT_MAX = 2**63 - 1
U32_MAX = 2**32 - 1
# At most this many statements are charged at once (a pure NUMBER statement takes well
# under 100 ns: the clock is read again within about 10 ms, as refills do).
MAX_COUNTED = 1 << 17
# Lists shorter than this take the versioned loop: for them the entry test (a pass over
# the elements for their types and two for their bounds) costs more than it saves.
MIN_COUNTED = 32

_ARITH = {"dg_add": ast.Add, "dg_sub": ast.Sub, "dg_mul": ast.Mult}
_DIVIDE = {"dg_div": ast.FloorDiv, "dg_mod": ast.Mod}
_COMPARE = {"dg_eq": ast.Eq, "dg_ne": ast.NotEq, "dg_lt": ast.Lt, "dg_le": ast.LtE,
            "dg_gt": ast.Gt, "dg_ge": ast.GtE}


def int_span(values: Any, loose: bool = False) -> tuple[int, bool] | None:
    """(the largest magnitude of `values`, whether none is negative) when every element
    of `values` (what `for each` walks) is a NUMBER (an exact int: not a BOOLEAN), else
    None. At C speed: a pass for the types, then one each for the least and the greatest.
    `loose` (the loop's bounds grow at most linearly with the magnitude): when every
    element is in [0, 2^32) (one pass of array("I"), the fastest unsigned conversion),
    2^32 - 1 stands for the magnitude: a bound, not the exact greatest element."""
    if not values:
        return 0, True
    if type(values) is range:
        low, high = min(values[0], values[-1]), max(values[0], values[-1])
        return max(high, -low), low >= 0
    if list(map(type, values)).count(int) != len(values):
        return None
    if loose:
        try:
            array("I", values)
        except OverflowError:  # a negative element or one past 32 bits: the exact bounds
            pass
        else:
            return U32_MAX, True
    low, high = min(values), max(values)
    return max(high, -low), low >= 0


def draw(ctx: Any, n: int, need: int) -> int:
    """The countdown raised to `need` from the run's budget when the budget holds it (and
    the run may go on: not past its deadline, not stopped), else `n` unchanged: the loop
    then takes its versioned form, whose refills raise the limit where it falls."""
    if need > MAX_COUNTED or ctx.remaining < need - n or time.monotonic() > ctx.deadline:
        return n
    if ctx.cancel is not None and ctx.cancel.is_set():
        return n
    ctx.remaining -= need - n
    return need


def walked(value: Any) -> Any:
    """What `for each` walks in a loop whose body could be counted: a LIST itself (an
    exact list), not a snapshot, since such a body (NUMBER work, ifs, charges) changes
    no LIST; anything else as `iterate` makes it."""
    return value if type(value) is list else iterate(value)


def _call(node: ast.expr, table: dict[str, Any]) -> str | None:
    if (type(node) is ast.Call and type(node.func) is ast.Name  # type: ignore[attr-defined]
            and node.func.id in table and len(node.args) == 2  # type: ignore[attr-defined]
            and not node.keywords):  # type: ignore[attr-defined]
        return node.func.id  # type: ignore[attr-defined]
    return None


class CountedPlan:
    """What the body reads and assigns, its price, and its plain-Python copy."""

    def __init__(self) -> None:
        self.reads: set[str] = set()
        # each assignment: ("add", e) for x = x + e or e + x, ("sub", e), ("set", value)
        self.stores: dict[str, list[tuple[str, ast.expr]]] = {}
        self.ops: list[ast.Call] = []  # every + - * (their bounds are summed)
        self.cost = 0
        self.body: list[ast.stmt] = []
        # a copy in which / and % on dividends that are never negative when the names in
        # `nonneg` (the loop's variable: its elements) are not, are Python's own
        self.unsigned: list[ast.stmt] | None = None
        self.nonneg: set[str] = set()


# what a counted body may hold (a first look, before the body is copied and checked)
_HELPERS = frozenset({*_ARITH, *_DIVIDE, *_COMPARE, "dg_not", "dg_refill"})
_NODES = frozenset({ast.Assign, ast.AugAssign, ast.If, ast.Pass, ast.Name, ast.Constant,
                    ast.Call, ast.BoolOp, ast.Compare, ast.Load, ast.Store, ast.Sub,
                    ast.Lt, ast.And, ast.Or})


def may_count(rest: list[ast.stmt]) -> bool:
    """False when `rest` holds a node no counted body has (a cheap first look)."""
    nodes = _NODES
    for stmt in rest:
        for node in walk(stmt):
            cls = type(node)
            if cls not in nodes or (cls is ast.Call and (
                    type(node.func) is not ast.Name  # type: ignore[attr-defined]
                    or node.func.id not in _HELPERS)):  # type: ignore[attr-defined]
                return False
    return True


def counted_plan(rest: list[ast.stmt], copy_again: Any, loop_charge: int,
                 target: str, set_at_start: frozenset[str], temp: Any) -> CountedPlan | None:
    """The plan of a counted copy of a loop body (`rest`: a copy of the body after the
    loop's own charge; `copy_again()` another, for the unsigned copy), or None when the
    body is not only NUMBER work of one price."""
    plan = CountedPlan()
    builder = _Builder(plan, temp)
    cost = builder.block(rest)
    if cost is None:
        return None
    plan.cost = cost + loop_charge
    if target in plan.stores or not plan.reads <= set_at_start | {target}:
        return None
    stored = set(plan.stores)
    for name, values in plan.stores.items():
        for _, e in values:  # an increment reads no variable the body assigns
            if any(_name(n) in stored for n in ast.walk(e)):  # type: ignore[arg-type]
                return None
    if not builder.divides:
        return plan
    signs = _Signs(plan, target)
    again = _Builder(CountedPlan(), temp, signs)
    again.block(copy_again())
    if signs.used:
        plan.unsigned, plan.nonneg = again.plan.body, signs.needed
    return plan


class _Signs:
    """Which dividends are never negative, given that the loop's elements and the
    entry values of some variables are not (those it needed are collected)."""

    def __init__(self, plan: CountedPlan, target: str) -> None:
        self.plan, self.target = plan, target
        self.needed: set[str] = set()
        self.used = False

    def __call__(self, node: ast.expr) -> bool:
        needed: set[str] = set()
        if self._nonneg(node, needed, 0):
            self.needed |= needed
            self.used = True
            return True
        return False

    def _nonneg(self, node: ast.expr, needed: set[str], depth: int) -> bool:
        if depth > 20:
            return False
        if type(node) is ast.Constant:
            return type(node.value) is int and node.value >= 0
        name = _name(node)
        if name is not None:
            needed.add(name)
            return name == self.target or all(
                kind != "sub" and self._nonneg(e, needed, depth + 1)
                for kind, e in self.plan.stores.get(name, []))
        helper = _call(node, {**_ARITH, **_DIVIDE})
        if helper in ("dg_add", "dg_mul", "dg_div", "dg_mod"):
            return all(self._nonneg(a, needed, depth + 1) for a in node.args)  # type: ignore
        return False


class _Builder:
    """Checks a body and builds its plain-Python copy in one walk."""

    def __init__(self, plan: CountedPlan, temp: Any, plain: Any = None) -> None:
        self.plan = plan
        self.temp = temp
        self.plain = plain  # which dividends take Python's / and % (see _Signs)
        self.divides = False

    def block(self, stmts: list[ast.stmt]) -> int | None:
        """The statements charged by `stmts` on every path, or None; appends the copy of
        its statements to self.out."""
        out = self.out = []  # type: list[ast.stmt]
        cost = 0
        for stmt in stmts:
            k = _charge(stmt)
            if k is not None:
                cost += k
                continue
            if _refill(stmt):
                continue
            if type(stmt) is ast.Assign:
                name = _name(stmt.targets[0]) if len(stmt.targets) == 1 else None
                value = self.expr(stmt.value)
                if name is None or value is None:
                    return None
                self._store(name, stmt.value)
                out.append(ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())],
                                      value=value))
            elif type(stmt) is ast.If:
                test = self.test(stmt.test)
                then = self.block(stmt.body)
                then_body = self.out
                other = self.block(stmt.orelse)
                other_body = self.out
                self.out = out
                if test is None or then is None or then != other:
                    return None
                cost += then
                out.append(ast.If(test=test, body=then_body or [ast.Pass()],
                                  orelse=other_body))
            elif type(stmt) is not ast.Pass:
                return None
        self.plan.body = out
        return cost

    def _store(self, name: str, value: ast.expr) -> None:
        helper = _call(value, {"dg_add": 1, "dg_sub": 1})
        args = value.args if helper else []  # type: ignore[attr-defined]
        if helper and _name(args[0]) == name:
            entry = (helper[3:], args[1])
        elif helper == "dg_add" and _name(args[1]) == name:
            entry = ("add", args[0])
        else:
            entry = ("set", value)
        self.plan.stores.setdefault(name, []).append(entry)

    def expr(self, node: ast.expr) -> ast.expr | None:
        """Plain Python for a NUMBER expression, or None."""
        if type(node) is ast.Constant:
            return node if type(node.value) is int else None
        name = _name(node)
        if name is not None:
            self.plan.reads.add(name)
            return node
        helper = _call(node, _ARITH)
        if helper:
            left, right = (self.expr(a) for a in node.args)  # type: ignore[attr-defined]
            if left is None or right is None:
                return None
            self.plan.ops.append(node)  # type: ignore[arg-type]
            return ast.BinOp(left=left, op=_ARITH[helper](), right=right)
        helper = _call(node, _DIVIDE)
        if helper:
            divisor = node.args[1]  # type: ignore[attr-defined]
            dividend = self.expr(node.args[0])  # type: ignore[attr-defined]
            if dividend is None or type(divisor) is not ast.Constant or type(
                    divisor.value) is not int or divisor.value <= 0:
                return None
            self.divides = True
            if self.plain is not None and self.plain(node.args[0]):  # type: ignore
                return ast.BinOp(left=dividend, op=_DIVIDE[helper](), right=divisor)
            # Python's // and % equal Deluge's on a non-negative dividend; the helper
            # (which cannot fail for a positive divisor) takes the others
            if type(dividend) in (ast.Name, ast.Constant):
                first, again = dividend, dividend
            else:
                held = self.temp()
                first = ast.NamedExpr(target=ast.Name(id=held, ctx=ast.Store()),
                                      value=dividend)
                again = ast.Name(id=held, ctx=ast.Load())
            return ast.IfExp(
                test=ast.Compare(left=first, ops=[ast.GtE()], comparators=[ast.Constant(0)]),
                body=ast.BinOp(left=again, op=_DIVIDE[helper](), right=divisor),
                orelse=ast.Call(func=ast.Name(id=helper, ctx=ast.Load()),
                                args=[again, divisor], keywords=[]))
        return None

    def test(self, node: ast.expr) -> ast.expr | None:
        """Plain Python for a condition of comparisons of NUMBERs, or None."""
        helper = _call(node, _COMPARE)
        if helper:
            left, right = (self.expr(a) for a in node.args)  # type: ignore[attr-defined]
            if left is None or right is None:
                return None
            return ast.Compare(left=left, ops=[_COMPARE[helper]()], comparators=[right])
        if type(node) is ast.BoolOp:
            values = [self.test(v) for v in node.values]
            if any(v is None for v in values):
                return None
            return ast.BoolOp(op=node.op, values=values)  # type: ignore[arg-type]
        if (type(node) is ast.Call and type(node.func) is ast.Name
                and node.func.id == "dg_not" and len(node.args) == 1 and not node.keywords):
            inner = self.test(node.args[0])
            return None if inner is None else ast.UnaryOp(op=ast.Not(), operand=inner)
        return None


def _degree(node: ast.expr, plan: CountedPlan, target: str) -> int:
    """The degree, in the magnitude of the loop's elements, of the bound `entry_test`
    computes for a NUMBER expression of the body (a variable's bound is the sum of its
    entry value's and of what its assignments add; these read no assigned variable)."""
    if type(node) is ast.Constant:
        return 0
    name = _name(node)
    if name is not None:
        if name == target:
            return 1
        return max((_degree(e, plan, target) for _, e in plan.stores.get(name, [])),
                   default=0)
    helper = node.func.id  # type: ignore[attr-defined]
    a, b = node.args  # type: ignore[attr-defined]
    if helper == "dg_mul":
        return _degree(a, plan, target) + _degree(b, plan, target)
    if helper in ("dg_add", "dg_sub"):
        return max(_degree(a, plan, target), _degree(b, plan, target))
    if helper == "dg_div":
        return _degree(a, plan, target)
    return 0  # dg_mod by a positive literal


# A bound is a polynomial with non-negative coefficients in the magnitudes the entry
# reads: {factors: coefficient}, a factor being _ELEMENT (the largest magnitude of the
# elements), _LENGTH (the list's) or _FIRST + i (the i-th variable's).
_ELEMENT, _LENGTH, _FIRST = 0, 1, 2
# Past this many terms a body's bound is not worth evaluating at each entry: no counted copy.
_MAX_TERMS = 48
Polynomial = dict[tuple[int, ...], int]


def _sum(a: Polynomial, b: Polynomial) -> Polynomial:
    out = dict(a)
    for factors, coefficient in b.items():
        out[factors] = out.get(factors, 0) + coefficient
    return out


def _product(a: Polynomial, b: Polynomial) -> Polynomial:
    out: Polynomial = {}
    for fa, ca in a.items():
        for fb, cb in b.items():
            factors = tuple(sorted(fa + fb))
            out[factors] = out.get(factors, 0) + ca * cb
    return out


def bound_terms(plan: CountedPlan, target: str, variables: list[str]
                ) -> tuple[tuple[int, tuple[int, ...]], ...] | None:
    """The sum of the bounds of every + - * of the body (module docstring), expanded into
    (coefficient, factors) terms: the same integer as the bounds summed one by one (for
    `entry_function`); None when it has too many terms."""
    index = {name: _FIRST + i for i, name in enumerate(variables)}

    def bound(node: ast.expr) -> Polynomial:
        if type(node) is ast.Constant:
            return {(): abs(node.value)} if node.value else {}
        name = _name(node)
        if name is not None:
            if name == target:
                return {(_ELEMENT,): 1}
            value: Polynomial = {(index[name],): 1}
            steps: Polynomial = {}
            for kind, e in plan.stores.get(name, []):
                if kind == "set":
                    value = _sum(value, bound(e))
                else:
                    steps = _sum(steps, bound(e))
            return _sum(value, _product({(_LENGTH,): 1}, steps))
        helper = node.func.id  # type: ignore[attr-defined]
        a, b = node.args  # type: ignore[attr-defined]
        if helper == "dg_mul":
            return _product(bound(a), bound(b))
        if helper in ("dg_add", "dg_sub"):
            return _sum(bound(a), bound(b))
        if helper == "dg_div":
            return bound(a)
        return {(): b.value}  # dg_mod by a positive literal

    total: Polynomial = {}
    for op in plan.ops:
        total = _sum(total, bound(op))
        if len(total) > _MAX_TERMS:
            return None
    return tuple(sorted((c, f) for f, c in total.items() if c))


# The entry functions made so far, by their plan (loops of one shape share one); past
# _MAX_ENTRIES distinct plans, each compile makes its own.
_ENTRIES: dict[tuple[Any, ...], tuple[str, Any]] = {}
_MAX_ENTRIES = 4096
_made_entries = itertools.count()


def entry_function(cost: int, loose: bool, terms: tuple[tuple[int, tuple[int, ...]], ...],
                   count: int, unsigned: tuple[bool, tuple[int, ...]] | None
                   ) -> tuple[str, Any]:
    """(global name, function) of a counted loop's entry test past its length test:
    `entry(ctx, n, values, length, v0, v1, ...)` (the countdown, the LIST walked, its
    length, the variables the body reads) gives None when the loop cannot be counted,
    else the countdown with the whole loop's charge paid (drawn from the run's budget
    when needed) and, with an unsigned copy, whether it may run: `(countdown, unsigned)`.

    In order, as the test inline in the loop did: the variables are NUMBERs, so are the
    elements (`int_span`, `loose` its bound), the bounds of every + - * of every
    iteration (`terms`: bound_terms; m the elements' magnitude, the length, |vi|) sum to
    at most 2^63 - 1, and the charge (`cost` an iteration) is covered; only the last
    step changes anything (`draw`, when it succeeds). Its source is made of these
    integers and fixed names only (no script text), compiled once per plan: a call
    instead of a hundred nodes at every loop, at the speed of the inline test."""
    key = (cost, loose, terms, count, unsigned)
    found = _ENTRIES.get(key)
    if found is not None:
        return found
    variables = [f"v{i}" for i in range(count)]
    lines = [f"def entry(ctx, n, values, length{''.join(', ' + v for v in variables)}):"]
    if variables:
        lines += ["    if " + " or ".join(f"type({v}) is not int" for v in variables) + ":",
                  "        return None"]
    lines += [f"    span = int_span(values, {bool(loose)})", "    if span is None:",
              "        return None"]
    if terms:
        names = ["span[0]", "length", *(f"abs({v})" for v in variables)]
        total = " + ".join("*".join([str(int(c)), *(names[i] for i in f)]) for c, f in terms)
        lines += [f"    if {total} > {INT_MAX}:", "        return None"]
    lines += [f"    need = length * {int(cost)}", "    if n < need:",
              "        n = draw(ctx, n, need)", "        if n < need:", "            return None"]
    if unsigned is None:
        lines.append("    return n - need")
    else:
        elements, signed = unsigned
        signs = ["span[1]"] * bool(elements) + [f"{variables[i]} >= 0" for i in signed]
        lines.append(f"    return n - need, {' and '.join(signs) or 'True'}")
    space: dict[str, Any] = {"__builtins__": {}, "type": type, "int": int, "abs": abs,
                             "int_span": int_span, "draw": draw}
    exec(compile("\n".join(lines) + "\n", "<counted loop entry>", "exec"),  # noqa: S102
         space)  # trusted: integers and fixed names
    made = (f"dg_counted_{next(_made_entries)}", space["entry"])
    if len(_ENTRIES) < _MAX_ENTRIES:
        _ENTRIES[key] = made
    return made


COUNTED_GLOBALS = {"dg_walked": walked}


def entry_test(plan: CountedPlan, target: str, snapshot: str, temp: Any
               ) -> tuple[ast.expr, list[ast.stmt], bool, tuple[str, Any]] | None:
    """The test at the loop's entry, the statement that pays the whole loop's charge
    when it holds, whether that statement also leaves the unsigned copy's test in
    `dg_t<k>`, and the entry function to bind (`entry_function`); None when the bounds
    have too many terms to be worth it.

    The length is tested inline first: a short list (its entry test would cost more
    than its iterations' guards) and one so long that its charge could never be drawn
    (`draw`) pay no call. The rest is the entry function's."""
    variables = sorted(plan.reads - {target})
    index = {name: i for i, name in enumerate(variables)}
    terms = bound_terms(plan, target, variables) if plan.ops else ()
    if terms is None:
        return None
    # bounds at most linear in the elements' magnitude take its cheaper bound (int_span)
    loose = all(_degree(op, plan, target) <= 1 for op in plan.ops)
    unsigned: tuple[bool, tuple[int, ...]] | None = None
    if plan.unsigned is not None:
        unsigned = (target in plan.nonneg,
                    tuple(index[name] for name in sorted(plan.nonneg - {target})))
    entry = entry_function(plan.cost, loose, terms, len(variables), unsigned)
    length, result = temp(), temp()
    short = ast.Compare(left=ast.Constant(MIN_COUNTED), ops=[ast.LtE(), ast.LtE()], comparators=[
        ast.NamedExpr(target=ast.Name(id=length, ctx=ast.Store()),
                      value=ast.Call(func=_load("dg_len"), args=[_load(snapshot)],
                                     keywords=[])),
        ast.Constant(MAX_COUNTED // plan.cost)])
    call = ast.Call(func=_load(entry[0]), args=[
        _load("dg_ctx"), _load("dg_n"), _load(snapshot), _load(length),
        *(_load(name) for name in variables)], keywords=[])
    held = ast.Compare(left=ast.NamedExpr(target=ast.Name(id=result, ctx=ast.Store()),
                                          value=call),
                       ops=[ast.IsNot()], comparators=[ast.Constant(None)])
    if unsigned is None:
        pay: ast.stmt = ast.Assign(targets=[ast.Name(id="dg_n", ctx=ast.Store())],
                                   value=_load(result))
    else:
        pay = ast.Assign(targets=[ast.Tuple(elts=[ast.Name(id="dg_n", ctx=ast.Store()),
                                                  ast.Name(id=result, ctx=ast.Store())],
                                            ctx=ast.Store())], value=_load(result))
    return ast.BoolOp(op=ast.And(), values=[short, held]), [pay], unsigned is not None, entry
