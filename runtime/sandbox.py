"""The sandbox backend: RestrictedPython's policy pass, the trusted runtime nodes, compile.

Order matters. The translated tree first goes through RestrictedPython's
`RestrictingNodeTransformer` (deny by default: no underscore names, no imports, no
attribute or item access left unguarded). Only then are the trusted runtime nodes added,
which the policy would reject and which no script text can produce:

    dg_n = 0                                  step countdown, a fast local per function
    if 'x' in dg_in: v_x = dg_in['x']          inputs of a bare-body script
    try: ... finally: dg_bank(dg_ctx, dg_n)     unused steps go back to the run's budget
    dg_n -= k; if dg_n < 0: dg_n = dg_refill(dg_ctx, dg_n)    at the top of every block
    dg_n = dg_charge(dg_ctx, dg_n, k)          the same, in a block that runs once per run
    dg_user(dg_ctx, (dg_n := dg_bank(dg_ctx, dg_n)), ...)      steps banked before a call
    inline fast paths for exact built-in types                  see fastpaths

`k` is the number of statements the block runs (SPEC §10: each simple statement, each
if/else-if test, each loop iteration). Refills take batches from the run's budget and
check the wall clock, so the per-statement cost is one local subtraction.

Compiled scripts are cached by the SHA-256 of their source in a bounded LRU.
"""

from __future__ import annotations

__all__ = ["CompiledScript", "compile_script", "generated_source", "refill", "bank", "charge",
           "BATCH", "clear_cache"]

import ast
import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import CodeType
from typing import Any

from RestrictedPython.transformer import RestrictingNodeTransformer
from sluicegate.stdlib.tables import FUNCTIONS

from . import compilebudget
from .digest import sha256
from .errors import LimitExceeded, ScriptSyntaxError
from .hooks import HOOKS, lazy_hooks
from .limits import MEMORY_PERIOD, RunContext, check_memory
from .optimizer.fastpaths import FAST_GLOBALS, FastPaths
from .positions import SCRIPT_FILENAME
from .translator import FunctionInfo, Translation, translate
from .treepass import TrustedPass, load, position_of, stamp, store, walk

BATCH = 1000
# A batch of steps should take about this long, so that the clock is read often enough
# when statements are slow (a hash of a 16 MB text each) and rarely when they are fast.
_BATCH_SECONDS = 0.01
_CACHE_SIZE = 512


def refill(ctx: RunContext, n: int) -> int:
    """Cover a function's step deficit `-n` from the run's budget; return the new allowance.

    The allowance shrinks when the last one took long, so the wall clock is checked within
    about `_BATCH_SECONDS` of the deadline even when each statement is a slow built-in."""
    now = time.monotonic()
    if now > ctx.deadline:
        raise LimitExceeded(f"Time limit of {ctx.limits.timeout:g} s exceeded", limit="time")
    if ctx.cancel is not None and ctx.cancel.is_set():
        raise LimitExceeded("The run was stopped: this node no longer holds its lease "
                            "(another node runs the occurrence)", limit="lease")
    if now - ctx.memory_checked >= MEMORY_PERIOD:
        check_memory(ctx, now)
    need = -n
    if ctx.remaining < need:
        ctx.remaining = 0
        raise LimitExceeded(f"Statement limit of {ctx.limits.max_statements} exceeded",
                            limit="statements")
    took = now - ctx.last_refill
    ctx.last_refill = now
    if took <= _BATCH_SECONDS:  # start small, double while batches are quick
        ctx.batch = min(BATCH, ctx.batch * 2)
    else:
        ctx.batch = max(1, int(ctx.batch * _BATCH_SECONDS / took))
    grant = min(ctx.batch, ctx.remaining - need)
    ctx.remaining -= need + grant
    return grant


def charge(ctx: RunContext, n: int, k: int) -> int:
    """`dg_n -= k` and its refill check as one call: the form of a block that runs once
    per run (the bare body outside loops), a third of the size of the inline form.

    When the refill raises, the caller's countdown still holds `n` (the inline form had
    stored `n - k` first, which its function's `finally` banks as nothing): `n` is
    taken from the budget here, so that banking it gives back what the inline form
    leaves, and the run's statement count is the same."""
    left = n - k
    if left >= 0:
        return left
    try:
        return refill(ctx, left)
    except BaseException:
        ctx.remaining -= n
        raise


def bank(ctx: RunContext, n: int) -> int:
    """Return a function's unused steps to the run's budget (before a call and on exit)."""
    if n > 0:
        ctx.remaining += n
    return 0


_RUNTIME_GLOBALS = {"dg_refill": refill, "dg_bank": bank, "dg_charge": charge}
# What a compiled script's translation keeps of its tree (see _build).
_EMPTY_MODULE = ast.Module(body=[], type_ignores=[])


@dataclass
class CompiledScript:
    """A script ready to run: its code object executed once into a globals table.
    `translation` keeps the functions and constants, not the tree (freed once compiled)."""

    translation: Translation
    code: Any
    globals: dict[str, Any]
    functions: dict[str, tuple[Any, list[tuple[str, str]], str]]
    entry: FunctionInfo

    def function(self, info: FunctionInfo) -> Any:
        return self.globals[info.py_name]


class _RuntimeNodes(TrustedPass):
    """Adds the trusted nodes described in the module docstring. Blocks of the bare body
    outside loops run once per run: their charge is the one-call form (as the fast paths
    leave such code compact, fastpaths "compact_once")."""

    def __init__(self, compact: bool = False) -> None:
        self.compact = compact
        self.once = False  # in a block that runs once per run
        self.blocks_only = False  # no `dg_user` call in the function (generic_visit)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        """In a function without a user function call, only the blocks below a
        statement are visited: this pass changes blocks (If, For, Try) and `dg_user`
        calls, and no block can be inside an expression."""
        if not self.blocks_only:
            return super().generic_visit(node)
        fields = node.__dict__
        nested = _NESTED
        for field in _BLOCK_FIELDS:
            block = fields.get(field)
            if type(block) is not list or not block:
                continue
            new: list[Any] = []
            for item in block:
                holds = nested.get(type(item))
                if holds is None:
                    holds = _nested(type(item))
                if not holds:  # a simple statement: no block below it to visit
                    new.append(item)
                    continue
                result = self.visit(item)
                if type(result) is list:
                    new.extend(result)
                elif result is not None:
                    new.append(result)
            block[:] = new
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        # the script's own nodes, walked before the charges are in (they name no script
        # variable, and the type inference that reads these walks ignores them)
        stored, loaded, assigned_first, busy = _names(node)
        is_main = node.name == "dg_main"
        self.once = is_main and self.compact
        self.blocks_only = not node.dg_user_calls  # type: ignore[attr-defined]
        # statements with nothing for this pass below them are not walked again
        node.body = [self.visit(s) if id(s) in busy else s for s in node.body]
        params = {a.arg for a in node.args.args}
        prologue: list[ast.stmt] = [_at(ast.Assign(targets=[_store("dg_n")],
                                                   value=ast.Constant(0)), node)]
        for var in sorted(loaded - params):
            script_name = var[2:]
            if is_main and var in assigned_first:
                continue  # assigned before anything could read an input of its name
            if is_main:
                test = ast.Compare(left=ast.Constant(script_name), ops=[ast.In()],
                                   comparators=[_load("dg_in")])
                item = ast.Subscript(value=_load("dg_in"), slice=ast.Constant(script_name),
                                     ctx=ast.Load())
                if script_name in ("now", "today") and var not in stored:
                    value: ast.expr = ast.IfExp(test=test, body=item, orelse=_sys(script_name))
                    prologue.append(_at(ast.Assign(targets=[_store(var)], value=value), node))
                else:
                    prologue.append(_at(ast.If(test=test, body=[
                        _at(ast.Assign(targets=[_store(var)], value=item), node)], orelse=[]),
                        node))
            elif script_name in ("now", "today") and var not in stored:
                prologue.append(_at(ast.Assign(targets=[_store(var)],
                                               value=_sys(script_name)), node))
        # The function's own block charges inline even when it runs once: its countdown
        # starts at 0, so the first charge always refills (one call either way).
        body = _charged(node.body, 0)
        self.once = self.blocks_only = False
        final = _at(ast.Expr(value=ast.Call(func=_load("dg_bank"),
                                            args=[_load("dg_ctx"), _load("dg_n")],
                                            keywords=[])), node)
        guarded = _at(ast.Try(body=body, handlers=[], orelse=[], finalbody=[final]), node)
        node.body = prologue + [guarded]
        return node

    def visit_For(self, node: ast.For) -> ast.For:
        once, self.once = self.once, False
        try:
            self.generic_visit(node)
        finally:
            self.once = once
        node.body = _charged(node.body, 1)
        return node

    def visit_If(self, node: ast.If) -> ast.If:
        self.generic_visit(node)
        node.body = _charged(node.body, 0, self.once)
        # An `else if` is an If alone in orelse: charging orelse counts its test (SPEC §10).
        node.orelse = _charged(node.orelse, 0, self.once)
        return node

    def visit_Try(self, node: ast.Try) -> ast.Try:
        self.generic_visit(node)
        if node.handlers:  # script try/catch (the function guard has no handlers)
            node.body = _charged(node.body, 0, self.once)
            for handler in node.handlers:
                # The first statement binds `e`: runtime bookkeeping, not a script statement.
                handler.body = handler.body[:1] + _charged(handler.body[1:], 0, self.once)
        return node

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        # A fast path shares one argument node between its two branches: bank once.
        if (isinstance(node.func, ast.Name) and node.func.id == "dg_user"
                and not getattr(node, "dg_banked", False)):
            node.dg_banked = True  # type: ignore[attr-defined]
            banked = ast.NamedExpr(target=_store("dg_n"), value=ast.Call(
                func=_load("dg_bank"), args=[_load("dg_ctx"), _load("dg_n")], keywords=[]))
            node.args.insert(1, _at(banked, node))
        return node


def _sys(name: str) -> ast.expr:
    return ast.Call(func=_load("dg_sys"), args=[_load("dg_ctx"), ast.Constant(name)],
                    keywords=[])


# The nodes the runtime-nodes pass changes (besides a `dg_user` call): a statement of a
# function's block with none of these below it is left as it is.
_BLOCKS = frozenset({ast.If, ast.For, ast.Try, ast.FunctionDef})
# The fields of a statement that hold blocks (an except handler's body included).
_BLOCK_FIELDS = ("body", "handlers", "orelse", "finalbody")


# Whether a statement of this class has a field that holds a block (by class, once).
_NESTED: dict[type, bool] = {}


def _nested(cls: type) -> bool:
    holds = _NESTED[cls] = any(field in cls._fields for field in _BLOCK_FIELDS)
    return holds


def _names(fn: ast.FunctionDef) -> tuple[set[str], set[str], set[str], set[int]]:
    """The script variables `fn` stores and loads; those whose first mention is a
    statement of the function's own block that assigns the variable without reading it
    (`x = a + 1;` before anything else names x): no input of that name can be seen, so
    it needs no prologue line; and the ids of the statements of that block with a block
    or a user function call below them (`_BLOCKS`), the only ones the runtime-nodes pass
    changes. Whether `fn` holds a loop goes on `fn` (`dg_loops`), and whether it calls a
    user function (`dg_user_calls`). The nodes of each
    statement are kept on `fn` (`dg_walks`, by statement id) for the type inference of
    the fast paths, which needs them per statement and runs before anything changes the
    tree again: the whole function is walked once for all of these."""
    stored: set[str] = set()
    loaded: set[str] = set()
    assigned_first: set[str] = set()
    busy: set[int] = set()
    walks: dict[int, list[ast.AST]] = {}
    loops = users = False
    blocks, name_node, call_node, store_ctx = _BLOCKS, _NAME, _CALL, _STORE_CTX
    for stmt in fn.body:
        nodes = walks[id(stmt)] = walk(stmt)
        reads: set[str] = set()
        writes: set[str] = set()
        for n in nodes:
            kind = type(n)
            if kind is name_node:
                name = n.id
                if name.startswith("v_"):
                    (writes if type(n.ctx) is store_ctx else reads).add(name)
            elif kind is call_node:
                if type(n.func) is name_node and n.func.id == "dg_user":
                    busy.add(id(stmt))
                    users = True
            elif kind in blocks:
                busy.add(id(stmt))
                if kind is ast.For:
                    loops = True
        if type(stmt) is ast.Assign and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if (type(target) is ast.Name and target.id not in reads
                    and target.id not in stored and target.id not in loaded):
                assigned_first.add(target.id)
        stored |= writes
        loaded |= reads
    fn.dg_walks = walks  # type: ignore[attr-defined]
    fn.dg_loops = loops  # type: ignore[attr-defined]  # for the fast paths
    fn.dg_user_calls = users  # type: ignore[attr-defined]  # for the runtime-nodes pass
    return stored, loaded, assigned_first, busy


def _count(stmts: list[ast.stmt]) -> int:
    """Statements a block runs when it is entered (loops and try bodies count inside)."""
    n = 0
    for s in stmts:
        if isinstance(s, (ast.For, ast.Try, ast.Pass)):
            continue
        n += 1
    return n


def _charged(stmts: list[ast.stmt], extra: int, once: bool = False) -> list[ast.stmt]:
    k = _count(stmts) + extra
    if k == 0 or not stmts:
        return stmts
    # Built with the first statement's position (one per block: no stamping walk).
    p = position_of(stmts[0])
    load = _LOAD
    if once:
        return [_charge_call(p, k), *stmts]
    charge = _made(_AUGASSIGN, p, "target", _named(p, "dg_n", _STORE), "value",
                   _made(_CONSTANT, p, "value", k))
    charge.op = _SUB
    refill_call = _made(_CALL, p, "func", _named(p, "dg_refill", load), "args",
                        [_named(p, "dg_ctx", load), _named(p, "dg_n", load)])
    refill_call.keywords = []
    test = _made(_COMPARE, p, "left", _named(p, "dg_n", load), "comparators",
                 [_made(_CONSTANT, p, "value", 0)])
    test.ops = [_LT]
    refill = _made(_ASSIGN, p, "targets", [_named(p, "dg_n", _STORE)], "value", refill_call)
    check = _made(_IF, p, "test", test, "body", [refill])
    check.orelse = []
    return [charge, check] + stmts


def _charge_call(p: dict[str, int], k: int) -> ast.Assign:
    """`dg_n = dg_charge(dg_ctx, dg_n, k)` at position `p`, its seven nodes made as
    `_made` makes one (in line: one per block that runs once, thousands a script)."""
    new, name, copy, load = _NAME.__new__, _NAME, p.copy, _LOAD
    func = new(name)
    fields = func.__dict__ = copy()
    fields["id"], fields["ctx"] = "dg_charge", load
    ctx = new(name)
    fields = ctx.__dict__ = copy()
    fields["id"], fields["ctx"] = "dg_ctx", load
    count = new(name)
    fields = count.__dict__ = copy()
    fields["id"], fields["ctx"] = "dg_n", load
    steps = _CONSTANT.__new__(_CONSTANT)
    fields = steps.__dict__ = copy()
    fields["value"] = k
    call = _CALL.__new__(_CALL)
    fields = call.__dict__ = copy()
    fields["func"], fields["args"], fields["keywords"] = func, [ctx, count, steps], []
    target = new(name)
    fields = target.__dict__ = copy()
    fields["id"], fields["ctx"] = "dg_n", _STORE
    assign = _ASSIGN.__new__(_ASSIGN)
    fields = assign.__dict__ = p
    fields["targets"], fields["value"] = [target], call
    return assign


def _made(cls: Any, position: dict[str, int], field: str, value: Any,
          field2: str | None = None, value2: Any = None) -> Any:
    """A node of `cls` at `position` with one or two of its fields (more are set on it
    after), without the constructor's keyword handling: a copy of the position's
    dictionary, the fields added, becomes the node's (a node keeps its fields and
    position in its instance dictionary)."""
    node = cls.__new__(cls)
    fields = node.__dict__ = position.copy()
    fields[field] = value
    if field2 is not None:
        fields[field2] = value2
    return node


def _named(position: dict[str, int], name: str, ctx: ast.expr_context) -> ast.Name:
    """`ast.Name(id=name, ctx=ctx)` at `position` (as `_made`)."""
    node = _NAME.__new__(_NAME)
    fields = node.__dict__ = position.copy()
    fields["id"] = name
    fields["ctx"] = ctx
    return node


_NAME, _CALL, _CONSTANT, _ASSIGN = ast.Name, ast.Call, ast.Constant, ast.Assign
_AUGASSIGN, _COMPARE, _IF, _STORE_CTX = ast.AugAssign, ast.Compare, ast.If, ast.Store


# Contexts and operator tokens carry no position and no state: one of each serves all.
_LOAD, _STORE, _SUB, _LT = ast.Load(), ast.Store(), ast.Sub(), ast.Lt()


_store, _load = store, load


def _at(node: Any, where: Any) -> Any:
    """Give a trusted node (and its children that have none) the position of a script
    node. Subtrees with a position are the script's own and are not walked."""
    return stamp(node, where, always=False)


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy pass as it is: every node still goes to the same
    `visit_<Class>` method (or to its `generic_visit`, which refuses unknown nodes), and
    visits its children the way `ast.NodeTransformer.generic_visit` does. Only the walk
    is cheaper: the method is found once per node class instead of by building its name
    for each node, and the children are read without a generator per node."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._methods: dict[type, Any] = {}

    def visit(self, node: ast.AST) -> Any:
        cls = node.__class__
        method = self._methods.get(cls)
        if method is None:
            method = self._methods[cls] = getattr(self, "visit_" + cls.__name__,
                                                  self.generic_visit)
        return method(node)

    def node_contents_visit(self, node: Any) -> Any:
        """`ast.NodeTransformer.generic_visit`, step for step, but for the nodes whose
        visit is known to change nothing (`_INERT`) and the fields that never hold a
        node (`_visited_fields`)."""
        ast_node = ast.AST
        inert = _INERT
        fields = _VISITED_FIELDS.get(node.__class__)
        if fields is None:
            fields = _visited_fields(node.__class__)
        for field in fields:
            try:
                old = getattr(node, field)
            except AttributeError:
                continue
            if isinstance(old, list):
                new: list[Any] = []
                for value in old:
                    if type(value) in inert:
                        new.append(value)
                        continue
                    if isinstance(value, ast_node):
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, ast_node):
                            new.extend(value)
                            continue
                    new.append(value)
                old[:] = new
            elif type(old) in inert:
                continue
            elif isinstance(old, ast_node):
                replaced = self.visit(old)
                if replaced is None:
                    delattr(node, field)
                elif replaced is not old:  # setting the node it holds changes nothing
                    setattr(node, field, replaced)
        return node


def _inert() -> frozenset[type]:
    """Node classes without children whose RestrictedPython visit only visits their
    (absent) children and returns them: expression contexts, operator tokens and
    constants (`visit_Load`, `visit_Add`, `visit_Constant`, ...: `node_contents_visit`).
    The walk passes them by instead of calling that visit for each; a class without its
    own `visit_` method (refused by `generic_visit`) is never among them.
    tests/test_policy_walk.py checks each against the stock transformer."""
    bases = (ast.expr_context, ast.operator, ast.cmpop, ast.boolop, ast.unaryop)
    classes = {cls for base in bases for cls in base.__subclasses__()} | {ast.Constant}
    return frozenset(cls for cls in classes
                     if "visit_" + cls.__name__ in vars(RestrictingNodeTransformer))


_INERT = _inert()


def _scalar_fields() -> frozenset[str]:
    """Fields that never hold a node in Python's grammar (names, flags, numbers, texts),
    and those that hold only operator tokens when every operator is inert."""
    scalars = {"id", "attr", "arg", "name", "module", "kind", "type_comment", "is_async",
               "level", "conversion", "simple", "tag"}
    operators = (ast.operator, ast.unaryop, ast.boolop)
    if all(cls in _INERT for base in operators for cls in base.__subclasses__()):
        scalars.add("op")
    if all(cls in _INERT for cls in ast.cmpop.__subclasses__()):
        scalars.add("ops")
    return frozenset(scalars)


_SCALAR_FIELDS = _scalar_fields()
# The fields the policy walk reads, by node class: a field of `_SCALAR_FIELDS` would
# only be read to find that it holds no node to visit.
_VISITED_FIELDS: dict[type, tuple[str, ...]] = {}


def _visited_fields(cls: type) -> tuple[str, ...]:
    fields = _VISITED_FIELDS[cls] = tuple(f for f in cls._fields if f not in _SCALAR_FIELDS)
    return fields


def _policy(module: ast.Module) -> None:
    errors: list[str] = []
    warnings: list[str] = []
    used: dict[str, Any] = {}
    _Policy(errors, warnings, used).visit(module)
    if errors:
        # The translator emitted something the policy forbids: a bug, never user input.
        raise RuntimeError("sandbox policy rejected generated code: " + "; ".join(errors))


def _finish(translation: Translation) -> tuple[ast.Module, dict[str, Any]]:
    """Policy pass, then the trusted nodes; returns the module and the globals they need."""
    module = translation.module
    _policy(module)
    compilebudget.check()
    # Statements are charged before the fast paths rewrite them, so a rewritten
    # statement still counts as one.
    fast = FastPaths(FUNCTIONS)
    _RuntimeNodes(compact="compact_once" in fast.on).visit(module)
    fast.visit(module)
    for fn in module.body:
        if isinstance(fn, ast.FunctionDef):
            for arg in fn.args.args:
                if not hasattr(arg, "lineno"):
                    ast.copy_location(arg, fn)
    return module, {**FAST_GLOBALS, **fast.bound}


def _compile(module: ast.Module) -> Any:
    """Every node carries a position by construction (the translator's nodes their
    token's, trusted nodes the script node's), so the whole-tree location fix-up is only
    a fallback for a node that slipped through."""
    try:
        return compile(module, SCRIPT_FILENAME, "exec")
    except (TypeError, ValueError):
        ast.fix_missing_locations(module)
        return compile(module, SCRIPT_FILENAME, "exec")


def _build(source: str | bytes, filename: str) -> CompiledScript:
    begun = time.monotonic()
    try:
        with _collector_paused():
            translation = translate(source, filename)
            compilebudget.check()
            module, extra_globals = _finish(translation)
            left = compilebudget.remaining()
            if left is not None and left < (time.monotonic() - begun) * _COMPILE_SHARE:
                # CPython's compile() cannot be interrupted: don't start what can't end
                raise compilebudget.CompileTimeLimit(compilebudget.limit_seconds())
            code = _compile(module)
            # The tree is not needed once compiled: free it while the collector is still
            # paused, so that no collection traverses its hundreds of thousands of nodes
            # (and no cached script keeps them alive).
            translation = Translation(_EMPTY_MODULE, translation.functions,
                                      translation.constants)
            del module
            compilebudget.check()
    except RecursionError:
        raise ScriptSyntaxError("The script is nested too deeply to compile", line=1, column=1,
                                filename=filename) from None
    env: dict[str, Any] = {"__builtins__": {}}
    env.update(HOOKS)
    env.update(lazy_hooks(_global_names(code)))
    env.update(_RUNTIME_GLOBALS)
    env.update(extra_globals)
    env.update(translation.constants)
    exec(code, env)  # noqa: S102 - generated by the translator, checked by the policy pass
    functions: dict[str, tuple[Any, list[tuple[str, str]], str]] = {}
    for info in translation.functions:
        if info.name:
            functions[info.name.lower()] = (env[info.py_name], info.params, info.name)
    return CompiledScript(translation, code, env, functions, translation.entry)


def _global_names(code: Any) -> set[str]:
    """Every name the code object and the code nested in it (functions, comprehensions)
    reads or writes as a global or attribute: a superset of the hooks it calls."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _global_names(const)
    return names


# CPython's compile() of a translated script takes about this share of the time the
# stages before it took (measured 0.4-0.8 on scripts of every shape).
_COMPILE_SHARE = 0.6

_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while compiling: a compile allocates hundreds
    of thousands of tree nodes, none of them in a cycle, and each collection triggered
    by those allocations traversed the whole growing tree again (half the compile time
    of a long script). Threads compiling at once share one pause."""
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


_cache: OrderedDict[str, CompiledScript] = OrderedDict()
_cache_lock = threading.Lock()


def compile_script(source: str | bytes, filename: str = "<script>") -> CompiledScript:
    """The compiled form of a script, from the cache when the same source was seen."""
    raw = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    key = sha256(raw).hexdigest()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    compiled = _build(source, filename)
    with _cache_lock:
        _cache[key] = compiled
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def generated_source(source: str | bytes, filename: str = "<script>") -> str:
    """The Python that a script compiles to, for `sluice translate`."""
    translation = translate(source, filename)
    module, _ = _finish(translation)
    header = [f"# {name} = {value!r}" for name, value in translation.constants.items()]
    return "\n".join(header + [ast.unparse(module)]) + "\n"
