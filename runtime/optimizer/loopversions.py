"""Loop versioning for the fast paths: an innermost `for each` body in two versions.

A loop over values of unknown type (`for each n in numbers`, an accumulator fed from
them) pays a type guard at every operator, and a refill check after every statement
charge. When a few variables are NUMBERs at the start of an iteration and every
assignment to them in the body keeps them NUMBERs (or a variable is only the receiver of
MAP, LIST or TEXT methods and never assigned), and the step countdown holds at least what
the iteration can charge (the sum of its charges), the iteration runs a copy in which
those variables are known (no type guards: the 64-bit range and value checks stay) and
the refill checks are gone (none could fire: the countdown stays at 0 or above):

    for v_n in ...:
        if dg_n >= 4 and dg_type(v_n) is dg_type(v_total) is dg_int:
            dg_n -= 2
            <body: v_n and v_total known NUMBERs, its charges without refill checks>
        else:
            dg_n -= 2
            if dg_n < 0: dg_n = dg_refill(dg_ctx, dg_n)
            <body as before>

A loop is versioned only when some variable is guarded (a copy for the refill checks
alone does not pay for compiling its body twice), it holds no loop, its body is small,
and no statement of it waits on the outside world (invokeurl, sendmail, an integration
task, a form's records): a guard saves tens of nanoseconds an iteration, a request takes
milliseconds, and the copy would double the compile of the loops real scripts write
most (one request per record).
The guard only reads variables that are certainly set when the iteration starts (the
loop's own variable, a function parameter, or a variable assigned on every path before
the loop), so it never raises: an unset variable is still reported where the script
reads it. Both versions run the same statements and charges, in the same order.
"""

from __future__ import annotations

__all__ = ["LoopVersioning", "LoopFacts", "loop_facts", "definitely_set",
           "version_candidates", "kind_candidates", "iteration_charge", "without_refills",
           "copy_tree", "MAX_BODY_NODES"]

import ast
from typing import Any

from ..treepass import is_charge as _is_charge
from ..treepass import is_refill as _is_refill
from ..treepass import load, stamp, walk
from ..treepass import script_name as _script_name
from .fastnodes import _built, _is, _located, _store, _type_of, made, place, placed_again
from .fastnodes import _load as _placed_load
from .loopcounted import COUNTED_GLOBALS, counted_plan, entry_test, may_count

# Bodies larger than this (in AST nodes) are not copied: the code would grow too much.
MAX_BODY_NODES = 600

_INT_HELPERS = frozenset({"dg_add", "dg_sub", "dg_mul", "dg_div", "dg_mod"})
# Hooks that wait on the outside world (runtime/hooks.py); dg_task is one too unless it
# names a task computed locally (the zoho.encryption family).
_WAITING_HOOKS = frozenset({"dg_invokeurl", "dg_invokeapi", "dg_sendmail", "dg_form_fetch",
                            "dg_form_insert", "dg_form_delete", "dg_form_method"})
# The legacy functions that make a request (stdlib/tasks.py), called as dg_f(name, ...).
_WAITING_FUNCTIONS = frozenset({"geturl", "posturl", "invokeurl"})
_LOCAL_TASKS = "zoho.encryption."
_GUARDED_HELPERS = _INT_HELPERS | {"dg_lt", "dg_le", "dg_gt", "dg_ge", "dg_eq", "dg_ne"}


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


class LoopFacts:
    """What one walk over a loop body finds (see loop_facts)."""

    def __init__(self) -> None:
        self.operands: set[str] = set()  # script variables read by an operator helper
        self.stores: dict[str, list[ast.expr | None]] = {}  # each assignment's value
        self.store_names: dict[str, int] = {}  # every place a variable is stored to
        self.receivers: dict[str, set[str]] = {}  # kinds asked of a method receiver
        self.charge = 0  # the sum of the statement charges
        self.charges = self.refills = self.countdown_stores = 0
        self.banks = False  # a user function call (or a bank) changes the countdown
        self.waits = False  # a statement waits on the outside world (_WAITING_HOOKS)


def loop_facts(body: list[ast.stmt]) -> LoopFacts | None:
    """The facts of a loop body for versioning, in one walk; None when it holds a loop
    (its blocks run many times an iteration, and a nested copy would grow the code
    again) or is too large to copy."""
    if _holds_loop(body):  # found before walking every expression of the body
        return None
    facts = LoopFacts()
    nodes = 0
    for stmt in body:
        found = walk(stmt)
        nodes += len(found)
        if nodes > MAX_BODY_NODES:
            return None
        for node in found:
            cls = type(node)
            if cls is ast.Name:
                if type(node.ctx) is ast.Store:  # type: ignore[attr-defined]
                    name = node.id  # type: ignore[attr-defined]
                    if name == "dg_n":
                        facts.countdown_stores += 1
                    else:
                        facts.store_names[name] = facts.store_names.get(name, 0) + 1
            elif cls is ast.Call:
                func = node.func  # type: ignore[attr-defined]
                if type(func) is not ast.Name:
                    continue
                if func.id in _GUARDED_HELPERS:
                    facts.operands.update(a.id for a in node.args  # type: ignore
                                          if _script_name(a))
                elif func.id == "dg_m" and node.args:  # type: ignore[attr-defined]
                    name = _script_name(node.args[0])  # type: ignore[attr-defined]
                    if name:
                        facts.receivers.setdefault(name, set()).add(
                            _receiver_kind(node) or "?")  # type: ignore[arg-type]
                elif func.id in ("dg_user", "dg_bank"):
                    facts.banks = True
                elif _waits(func.id, node.args):  # type: ignore[attr-defined]
                    facts.waits = True
            elif cls is ast.Assign:
                for target in node.targets:  # type: ignore[attr-defined]
                    name = _script_name(target)
                    if name:
                        facts.stores.setdefault(name, []).append(node.value)  # type: ignore
            elif cls is ast.AugAssign:
                k = _is_charge(node)
                if k is not None:
                    facts.charge += k
                    facts.charges += 1
                name = _script_name(node.target)  # type: ignore[attr-defined]
                if name:
                    facts.stores.setdefault(name, []).append(None)  # never versioned
            elif cls is ast.NamedExpr:
                name = _script_name(node.target)  # type: ignore[attr-defined]
                if name:
                    facts.stores.setdefault(name, []).append(None)
            elif cls is ast.If and _is_refill(node):
                facts.refills += 1
            elif cls in _LOOPS:
                return None
    return facts


_LOOPS = (ast.For, ast.While, ast.AsyncFor, ast.FunctionDef, ast.Lambda)


def _waits(helper: str, args: list[ast.expr]) -> bool:
    """Whether a call of `helper` may wait on the outside world: a hook of
    _WAITING_HOOKS, any `dg_task(dg_ctx, name, ...)` but a local task, or a
    `dg_f(name, ...)` of a legacy request function."""
    if helper in _WAITING_HOOKS:
        return True
    if helper == "dg_task":
        return not (len(args) >= 2 and type(args[1]) is ast.Constant
                    and type(args[1].value) is str and args[1].value.startswith(_LOCAL_TASKS))
    if helper == "dg_f":
        return (bool(args) and type(args[0]) is ast.Constant
                and str(args[0].value).lower() in _WAITING_FUNCTIONS)
    return False


def _stored(stmt: ast.stmt) -> set[str]:
    """The variables `stmt` stores to, at any depth."""
    return {n.id for n in walk(stmt)  # type: ignore[attr-defined]
            if type(n) is ast.Name and type(n.ctx) is ast.Store}  # type: ignore[attr-defined]


def _text_assigned(stmt: ast.stmt) -> str | None:
    """The variable `x = <TEXT literal>` or `x = A + B` with a TEXT literal operand
    assigns: the operator gives a TEXT (exactly a str) whatever the other operand is, or
    raises (inference._text_shape's rule)."""
    if type(stmt) is not ast.Assign or len(stmt.targets) != 1:
        return None
    name = _script_name(stmt.targets[0])
    value = stmt.value
    if type(value) is ast.Constant:
        return name if type(value.value) is str else None
    if (type(value) is ast.Call and type(value.func) is ast.Name and value.func.id == "dg_add"
            and len(value.args) == 2 and not value.keywords and any(
                type(a) is ast.Constant and type(a.value) is str for a in value.args)):
        return name
    return None


def _holds_loop(stmts: list[ast.stmt]) -> bool:
    """Whether a statement of these blocks, at any depth, is a loop or a function (its
    blocks read, not its expressions; a lambda, an expression, is found by the walk)."""
    for stmt in stmts:
        if isinstance(stmt, _LOOPS):
            return True
        for field in ("body", "orelse", "finalbody"):
            block = getattr(stmt, field, None)
            if type(block) is list and block and _holds_loop(block):
                return True
        for handler in getattr(stmt, "handlers", None) or ():
            if _holds_loop(handler.body):
                return True
    return False


def version_candidates(facts: LoopFacts, known_ints: set[str],
                       set_at_start: frozenset[str]) -> list[str]:
    """The variables to guard for a NUMBER version of an innermost loop's body, sorted:
    read by an operator, certainly set at the iteration's start, and only ever assigned
    NUMBER expressions in the body (given that the others are NUMBERs too)."""
    candidates = {name for name in facts.operands - known_ints if name in set_at_start}
    changed = True
    while changed:  # drop a variable an assignment may make other than a NUMBER
        changed = False
        ints = candidates | known_ints
        for name in sorted(candidates):
            values = facts.stores.get(name, [])
            if facts.store_names.get(name, 0) != len(values) or any(
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


def kind_candidates(facts: LoopFacts, known_kinds: dict[str, str],
                    set_at_start: frozenset[str]) -> dict[str, str]:
    """Variables certainly set at an iteration's start, never assigned in the body, used
    there only as receivers of methods of one kind ("map", "list" or "text"): guarded
    once per iteration, they skip the receiver's type guard at each call."""
    return {name: next(iter(kinds)) for name, kinds in facts.receivers.items()
            if len(kinds) == 1 and "?" not in kinds and name in set_at_start
            and name not in facts.store_names and name not in known_kinds}


def iteration_charge(facts: LoopFacts) -> int | None:
    """The most statements one iteration of the body can charge (the sum of its charges:
    each block runs at most once, there is no loop inside), or None when something else
    changes the countdown (a user function call banks it)."""
    # every store to the countdown is a charge's or a refill's own
    if facts.banks or facts.countdown_stores != facts.charges + facts.refills:
        return None
    return facts.charge


def without_refills(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """`stmts` (a copy) with every refill check removed, the charges kept: for an
    iteration that starts with more budget than it can charge, where no check fires."""
    out = [stmt for stmt in stmts if not _is_refill(stmt)]
    for stmt in out:
        _drop_refills(stmt)
    return out


def _drop_refills(stmt: ast.stmt) -> None:
    """without_refills in the blocks of `stmt`, at any depth (statements hold refill
    checks only in their blocks: no expression walk is needed)."""
    fields = stmt.__dict__
    for field in ("body", "orelse", "finalbody", "handlers"):
        block = fields.get(field)
        if type(block) is not list or not block:
            continue
        if field != "handlers" and any(_is_refill(s) for s in block):
            kept = [s for s in block if not _is_refill(s)]
            block = kept or [ast.copy_location(ast.Pass(), block[0])]
            setattr(stmt, field, block)
        for inner in block:
            _drop_refills(inner)


def copy_tree(node: Any) -> Any:
    """A copy of an AST subtree (a node or a list of them), custom attributes and
    positions included: copy.deepcopy's memo and reduce protocol made it most of the cost
    of versioning a loop. Expression contexts (Load, Store) are shared, as the parser
    shares them."""
    kind = type(node)
    if kind is list:
        return [copy_tree(item) for item in node]
    if kind in _KEPT or not isinstance(node, ast.AST) or isinstance(node, ast.expr_context):
        return node
    new = kind.__new__(kind)
    # the node's dictionary copied at once, then its nodes and lists replaced by copies
    # (positions, names and flags are shared values: ints, strings, booleans)
    fields = node.__dict__.copy()
    for key, value in fields.items():
        value_kind = type(value)
        if value_kind is list:
            fields[key] = [copy_tree(item) for item in value]
        elif value_kind not in _KEPT and isinstance(value, ast.AST):
            fields[key] = copy_tree(value)
    new.__dict__ = fields
    return new


# Values copy_tree shares as they are: scalars, and the stateless expression contexts.
_KEPT = frozenset({int, str, bool, type(None), float, ast.Load, ast.Store, ast.Del})


_load = load


_KIND_TYPES = {"map": "dg_dict", "list": "dg_list", "text": "dg_str"}


# The versions' tests and flags, built at the current position (fastnodes.place).
def _is_type(name: str, type_global: str) -> ast.expr:
    return _is(_type_of(_placed_load(name)), _placed_load(type_global))


def _set(name: str, value: bool) -> ast.stmt:
    return made.Assign(targets=[_store(name)], value=made.Constant(value))


class LoopVersioning:
    """The loop part of the fast paths (fastpaths.FastPaths mixes it in): its `ints`,
    `kinds`, `set_at_start` and `on`, and its visit, decide and rewrite each copy."""

    ints: set[str]
    kinds: dict[str, str]
    set_at_start: dict[int, frozenset[str]]
    on: frozenset[str]
    general: frozenset[str]
    known_set: set[str]
    texts: set[str]
    bound: dict[str, Any]
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

    def _visit_body(self, stmts: list[ast.stmt], start: frozenset[str] | None
                    ) -> list[ast.stmt]:
        """`_visit_block` of a loop body, with `known_set` the variables certainly set
        at each of its statements: those set when an iteration starts (`start`), then
        those its statements before assign (deeper blocks see what their statement
        sees; what they assign is not counted); and `texts`, those an earlier statement
        of the body assigned a TEXT (`x = "k" + ...`) and no statement since assigns."""
        outer = self.known_set, self.texts
        known = self.known_set = set(start or ())
        texts = self.texts = set()
        try:
            out: list[ast.stmt] = []
            for stmt in stmts:
                if texts:  # what the statement assigns, anywhere in it, is not known
                    texts.difference_update(_stored(stmt))
                text = _text_assigned(stmt) if "type_inference" in self.on else None
                new = self.visit(stmt)
                if isinstance(new, list):
                    out.extend(new)
                elif new is not None:
                    out.append(new)
                if type(stmt) is ast.Assign:
                    known.update(filter(None, map(_script_name, stmt.targets)))
                if text is not None:
                    texts.add(text)
            return out
        finally:
            self.known_set, self.texts = outer

    def _loop_body(self, node: ast.For) -> Any:
        """The body of a loop whose header was visited. An innermost loop runs its body
        in two versions, chosen at each iteration
        (runtime/optimizer/loopversions.py): when the countdown holds more than the iteration can
        charge, a copy without the refill checks (none could fire), and in that copy the
        variables of NUMBER work known to be NUMBERs when they are at its start."""
        start = self.set_at_start.get(id(node))
        body = node.body
        # the statement charge the runtime-nodes pass put first stays outside the versions
        k = 2 if (len(body) > 2 and isinstance(body[0], ast.AugAssign)
                  and isinstance(body[0].target, ast.Name)
                  and body[0].target.id == "dg_n") else 0
        rest = body[k:]
        facts = (loop_facts(body) if start is not None and k > 0
                 and "loop_versioning" in self.on else None)
        names = version_candidates(facts, self.ints, start) if facts else []  # type: ignore
        kinds = kind_candidates(facts, self.kinds, start) if facts else {}  # type: ignore
        for name in names:
            kinds.pop(name, None)
        # (a version only for the refill checks does not pay for compiling the body twice)
        budget = (iteration_charge(facts) if facts and (names or kinds) and not facts.waits
                  else None)
        if budget is None:
            node.body = self._visit_body(node.body, start)
            node.orelse = self._visit_block(node.orelse)
            return node
        target = _script_name(node.target)
        # The counted copy reads the body before anything rewrites it (its plan keeps the
        # body's operator calls, which the visits below change in place) and builds new
        # statements around the body's own names and constants: no copy is needed.
        counted = counted_plan(rest, lambda: rest, body[0].value.value, target, start,
                               self._temp) if (  # type: ignore[attr-defined]
            "loop_counted" in self.on and target and not node.orelse
            and may_count(rest)) else None
        snapshot = self._temp() if counted is not None else ""  # type: ignore[attr-defined]
        entry = (entry_test(counted, target, snapshot, self._temp)  # type: ignore
                 if counted is not None else None)
        special = without_refills(copy_tree(rest))
        charge = self._visit_body(body[:k], start)
        # the general version leaves to the helpers the NUMBER work of what the NUMBER
        # version guards (fastpaths._general)
        general, self.general = self.general, frozenset(() if kinds else names)
        try:
            generic = self._visit_body(rest, start)
        finally:
            self.general = general
        outer = self.ints, self.kinds
        self.ints = self.ints | set(names)
        self.kinds = {**{n: kind for n, kind in self.kinds.items() if n not in names}, **kinds}
        try:
            special = self._visit_body(special, start)
        finally:
            self.ints, self.kinds = outer
        # The loop's own variable changes at each iteration: tested each time. The other
        # guarded variables stay what they are through an iteration of the copy (every
        # assignment to them there keeps them NUMBERs; receivers are never assigned), so
        # after one they are known until an iteration takes the general body: a flag
        # stands for their test.
        checks: list[tuple[str, str]] = [(n, "dg_int") for n in names]
        checks += [(n, _KIND_TYPES[kind]) for n, kind in sorted(kinds.items())]
        # the test and the flags built where stamping them put them (fastnodes.place):
        # the versions they choose between are positioned already
        saved = place(body[0])
        try:
            each = [_is_type(n, t) for n, t in checks if n == target]
            carried = [_is_type(n, t) for n, t in checks if n != target]
            tests: list[ast.expr] = [made.Compare(left=_placed_load("dg_n"), ops=[ast.GtE()],
                                                  comparators=[made.Constant(budget)]), *each]
            fast = [copy_tree(charge[0]), *special]  # the charge, without its check
            slow = [*charge, *generic]
            flag = self._temp() if carried else None  # type: ignore[attr-defined]
            if flag is not None:
                tests.append(made.BoolOp(op=ast.Or(), values=[_placed_load(flag), carried[
                    0] if len(carried) == 1 else made.BoolOp(op=ast.And(), values=carried)]))
                fast.insert(0, _set(flag, True))
                slow.insert(0, _set(flag, False))
            test = tests[0] if len(tests) == 1 else made.BoolOp(op=ast.And(), values=tests)
            node.body = [_located(made.If(test=test, body=fast, orelse=slow), body[0])]
        finally:
            placed_again(saved)
        node.orelse = self._visit_block(node.orelse)
        versioned = [node] if flag is None else [_built(node, lambda: _set(flag, False)), node]
        if entry is None:
            return versioned if flag is not None else node
        return self._counted(node, counted, target, versioned, snapshot, entry)

    def _counted(self, node: ast.For, plan: Any, target: str, versioned: list[ast.stmt],
                 snapshot: str, entry: Any) -> list[ast.stmt]:
        """The loop decided once at its entry (runtime/optimizer/loopcounted.py): charged
        once and run as plain Python when the test (`entry`: loopcounted.entry_test,
        the list walked into `snapshot`) holds, else the versioned loop."""
        test, pay, unsigned, function = entry
        self.bound.update(COUNTED_GLOBALS)
        self.bound[function[0]] = function[1]
        source = node.iter
        inner = source.args[0] if (type(source) is ast.Call and len(source.args) == 1
                                   and type(source.args[0]) is ast.Call) else None
        if (inner is not None and type(inner.func) is ast.Name
                and inner.func.id == "dg_iter"):  # type: ignore[attr-defined]
            inner.func = ast.copy_location(ast.Name(id="dg_walked", ctx=ast.Load()),
                                           inner.func)  # no snapshot to take
        walked = stamp(ast.Assign(targets=[ast.Name(id=snapshot, ctx=ast.Store())],
                                  value=source), node)
        node.iter = stamp(_load(snapshot), node)
        fast: ast.stmt = ast.For(target=ast.Name(id=target, ctx=ast.Store()),
                                 iter=_load(snapshot), body=plan.body, orelse=[])
        if unsigned:  # elements (and dividends) never negative: Python's / and %
            chosen = pay[0].targets[0].elts[1].id  # type: ignore[attr-defined]
            fast = ast.If(test=_load(chosen), body=[ast.For(
                target=ast.Name(id=target, ctx=ast.Store()), iter=_load(snapshot),
                body=plan.unsigned, orelse=[])], orelse=[fast])
        # the loop's position for the nodes built here (none of them can fail); the
        # versioned loop and the script's own operands keep theirs
        return [walked, stamp(ast.If(test=test, body=[*pay, fast], orelse=versioned), node)]
