"""The analysis of a parsed script: scopes, symbols, inferred types, calls and the problems
`check` reports beyond syntax.

One `Analyzer` walks each function of the file twice: the first pass collects the
assignments of every variable and infers their types to a fixed point; the second walks
the statements in order, tracking which variables are assigned on every path (to warn of
reads that may come before any assignment), and checks every call against the runtime's
tables.
"""

from __future__ import annotations

__all__ = ["Analyzer"]

import difflib
from collections.abc import Iterable
from typing import Any

from lark import Token, Tree
from sluicegate.dispatch import suggest_method, unknown_method
from sluicegate.stdlib import METHODS
from sluicegate.translator import CREATOR_FUNCTIONS, USER_NAMESPACES
from sluicegate.values import NULL, TEXT

from .catalog import (
    Signature,
    builtin_functions,
    declared_type,
    method_rows,
    methods_for,
    suggest_builtin,
    task_namespaces,
    tasks,
    unknown_function_message,
)
from .model import CallSite, Diagnostic, Document, Fix, Reference, Scope, Span, Symbol
from .types import ZOHO_TYPES, binary_type, expression_type, qualified_name

_TERMINATORS = {"return_stmt": "return", "break_stmt": "break",
                "continue_stmt": "continue", "throw_stmt": "throw"}
_FUNCTION_HEADER = "function_def"


def _name(tok: Any) -> str:
    return str(tok)


class _Function:
    """Per-function state of the walk."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.assignments: list[tuple[str, Any]] = []   # (name, rhs tree | fixed type)
        self.first_write: dict[str, tuple[int, int]] = {}
        self.first_read: dict[str, tuple[int, int]] = {}
        self.env: dict[str, str | None] = {}
        self.warned_unassigned: set[str] = set()

    def inputs_like(self, name: str) -> bool:
        """A name read before it is first written, in text order: an input of the script
        (or a variable of the platform), which `check` cannot see being set."""
        read = self.first_read.get(name)
        write = self.first_write.get(name)
        return write is None or (read is not None and read < write)


class Analyzer:
    """Fills a Document's scopes, calls and diagnostics from its tree."""

    def __init__(self, doc: Document, connections: Iterable[str] | None = None) -> None:
        self.doc = doc
        # Read at the first `connection:` (a registry is only opened when one is named).
        self._source = connections
        self._connections: set[str] | None = None
        self.return_types: dict[str, str] = {}
        self.fn: _Function | None = None

    # ---- entry ---------------------------------------------------------------------------
    def run(self) -> None:
        items = list(self.doc.tree.children)
        defs = [i for i in items if isinstance(i, Tree) and i.data == _FUNCTION_HEADER]
        if defs:
            scopes = [self._header(d) for d in defs]
            self.doc.scopes.extend(scopes)
            for scope in scopes:
                self.return_types.setdefault(scope.name.lower(), scope.return_type)
            for scope, fdef in zip(scopes, defs):
                self._function(scope, fdef.children[-1].children)
        else:
            last = self.doc.source.count("\n") + 1
            scope = Scope("", Span(1, 1, last, 10**6), None)
            self.doc.scopes.append(scope)
            self._function(scope, items)
        self.doc.diagnostics.sort(key=lambda d: (d.line or 0, d.column or 0))

    def _header(self, fdef: Tree) -> Scope:  # type: ignore[type-arg]
        rtype, qual, *params, _block = fdef.children
        parts = [str(t) for t in qual.children]
        scope = Scope(".".join(parts), Span.of(fdef), Span(qual.children[0].line,
                      qual.children[0].column, qual.children[-1].end_line,
                      qual.children[-1].end_column), str(rtype))
        for p in params:
            if p is None:
                continue
            ptype, pname = p.children
            scope.params.append((str(ptype), str(pname)))
            scope.symbols[str(pname)] = Symbol(str(pname), "parameter", Span.of(pname),
                                               declared_type(str(ptype)), f"{ptype} {pname}")
        return scope

    def _function(self, scope: Scope, statements: list[Any]) -> None:
        fn = self.fn = _Function(scope)
        for _ptype, pname in scope.params:
            fn.first_write[pname] = (0, 0)
        for st in statements:
            self._collect(st)
        self._infer_types()
        da: set[str] | None = {p for _, p in scope.params}
        self._block(statements, da)
        self._unused()
        self.fn = None

    # ---- pass 1: assignments and types ---------------------------------------------------
    def _collect(self, tree: Any) -> None:
        fn = self.fn
        assert fn is not None
        for node in tree.iter_subtrees() if isinstance(tree, Tree) else ():
            kind = node.data
            if kind in ("assign", "compound_assign", "creator_insert_assign"):
                tok = node.children[0]
                name = _name(tok)
                end = (node.meta.end_line, node.meta.end_column)
                self._first(fn.first_write, name, end)
                if kind == "assign":
                    fn.assignments.append((name, node.children[1]))
                elif kind == "compound_assign":
                    fn.assignments.append((name, ("compound", str(node.children[1])[0],
                                                  node.children[2])))
                else:
                    fn.assignments.append((name, None))
                self._define(name, "variable", tok)
            elif kind in ("for_each", "for_index"):
                tok = node.children[2] if kind == "for_each" else node.children[3]
                self._first(fn.first_write, _name(tok), (tok.line, tok.column))
                fixed = "NUMBER" if kind == "for_index" else None
                fn.assignments.append((_name(tok), ("fixed", fixed)))
                self._define(_name(tok), "loop", tok)
            elif kind == "try_stmt":
                tok = node.children[3]
                self._first(fn.first_write, _name(tok), (tok.line, tok.column))
                fn.assignments.append((_name(tok), ("fixed", TEXT)))
                self._define(_name(tok), "catch", tok)
            elif kind == "var":
                tok = node.children[0]
                self._first(fn.first_read, _name(tok), (tok.line, tok.column))

    @staticmethod
    def _first(table: dict[str, tuple[int, int]], name: str, at: tuple[int, int]) -> None:
        if name not in table or at < table[name]:
            table[name] = at

    def _define(self, name: str, kind: str, tok: Token) -> None:
        assert self.fn is not None
        symbols = self.fn.scope.symbols
        sym = symbols.get(name)
        span = Span.of(tok)
        if sym is None:
            symbols[name] = Symbol(name, kind, span)
        elif span < sym.definition and sym.kind != "parameter":
            sym.definition = span

    def _infer_types(self) -> None:
        fn = self.fn
        assert fn is not None
        env = fn.env
        params = {name: declared_type(ptype) for ptype, name in fn.scope.params}
        for _ in range(4):
            found: dict[str, set[str | None]] = {n: {t} for n, t in params.items()}
            for name, rhs in fn.assignments:
                found.setdefault(name, set()).add(self._assigned_type(name, rhs, env))
            new: dict[str, str | None] = {}
            for name, types in found.items():
                known = types - {NULL}
                single = known.pop() if len(known) == 1 else None
                new[name] = None if fn.inputs_like(name) and name not in params else single
            if new == env:
                break
            env.clear()
            env.update(new)
        for name, sym in fn.scope.symbols.items():
            sym.type = env.get(name)

    def _assigned_type(self, name: str, rhs: Any, env: dict[str, str | None]) -> str | None:
        if rhs is None:
            return None
        if isinstance(rhs, tuple):
            if rhs[0] == "fixed":
                return rhs[1]  # type: ignore[no-any-return]
            _, op, value = rhs
            return binary_type(op, env.get(name),
                               expression_type(value, env, self.return_types))
        return expression_type(rhs, env, self.return_types)

    # ---- pass 2: statements in order -----------------------------------------------------
    def _block(self, statements: list[Any], da: set[str] | None) -> set[str] | None:
        """Walk a block; returns what is assigned after it (None: no path leaves it)."""
        ended_by: str | None = None
        last: set[str] = set(da or ())
        for st in statements:
            if not isinstance(st, Tree) or st.data == "empty_stmt":
                continue
            if da is None:
                if ended_by is not None:
                    why = (f"it follows a '{ended_by}'" if ended_by in _TERMINATORS.values()
                           else "every branch of the statement before it ends")
                    self._warn("UnreachableCode", f"Unreachable code: {why}", Span.of(st))
                    ended_by = ""  # reported: keep walking for references, quietly
                da = set(last)
            last = da
            after = self._statement(st, da)
            if after is None and ended_by is None:
                ended_by = _TERMINATORS.get(st.data, "branches")
            da = after
        return None if ended_by is not None else da

    def _statement(self, st: Tree, da: set[str]) -> set[str] | None:  # type: ignore[type-arg]
        kind = st.data
        c = st.children
        if kind == "assign":
            self._expr(c[1], da)
            return self._write(c[0], da)
        if kind == "compound_assign":
            self._read(c[0], da)
            self._expr(c[2], da)
            return self._write(c[0], da)
        if kind == "creator_insert_assign":
            for child in c[4:]:
                self._expr(child, da)
            return self._write(c[0], da)
        if kind == "if_stmt":
            return self._if(c, da)
        if kind in ("for_each", "for_index"):
            name_tok = c[2] if kind == "for_each" else c[3]
            self._expr(c[-2], da)
            self._write(name_tok, da)
            self._block(c[-1].children, da | {_name(name_tok)})
            return da
        if kind == "try_stmt":
            tried = self._block(c[1].children, set(da))
            self._write(c[3], da)
            caught = self._block(c[4].children, da | {_name(c[3])})
            return _meet(tried, caught)
        if kind == "bare_block":
            return self._block(c, da)
        if kind in _TERMINATORS:
            for child in c:
                self._expr(child, da)
            return None
        for child in c:
            self._expr(child, da)
        return da

    def _if(self, c: list[Any], da: set[str]) -> set[str] | None:
        self._expr(c[1], da)
        outs = [self._block(c[2].children, set(da))]
        has_else = False
        for clause in c[3:]:
            if clause is None:
                continue
            if clause.data == "elif_clause":
                self._expr(clause.children[2], da)
                outs.append(self._block(clause.children[3].children, set(da)))
            else:
                has_else = True
                outs.append(self._block(clause.children[1].children, set(da)))
        if not has_else:
            outs.append(da)
        result: set[str] | None = None
        for out in outs:
            result = _meet(result, out) if result is not None else out
        return result

    def _write(self, tok: Token, da: set[str]) -> set[str]:
        assert self.fn is not None
        sym = self.fn.scope.symbols.get(_name(tok))
        if sym is not None:
            sym.references.append(Reference(Span.of(tok), True))
        return da | {_name(tok)}

    def _read(self, tok: Token, da: set[str]) -> None:
        fn = self.fn
        assert fn is not None
        name = _name(tok)
        sym = fn.scope.symbols.get(name)
        if sym is None:
            sym = fn.scope.symbols[name] = Symbol(name, "input", Span.of(tok))
        sym.references.append(Reference(Span.of(tok), False))
        if (name not in da and not fn.inputs_like(name) and sym.kind != "parameter"
                and name not in fn.warned_unassigned):
            fn.warned_unassigned.add(name)
            self._warn("UnassignedVariable",
                       f"Variable '{name}' may be read before it is assigned", Span.of(tok))

    def _unused(self) -> None:
        assert self.fn is not None
        for sym in self.fn.scope.symbols.values():
            if sym.kind == "variable" and not any(not r.write for r in sym.references):
                self._warn("UnusedVariable",
                           f"Variable '{sym.name}' is assigned but never used", sym.definition)

    # ---- expressions ---------------------------------------------------------------------
    def _expr(self, tree: Any, da: set[str]) -> None:
        if not isinstance(tree, Tree):
            return
        kind = tree.data
        if kind == "var":
            self._read(tree.children[0], da)
        elif kind == "call":
            self._call(tree)
            self._walk(tree.children[1:], da)
        elif kind == "method_call":
            recv = tree.children[0]
            if not self._method_call(tree):
                self._expr(recv, da)
            self._walk(tree.children[2:], da)
        elif kind == "member":
            qual = qualified_name(tree)
            if qual is None or qual.split(".", 1)[0].lower() not in ("zoho", *USER_NAMESPACES):
                self._expr(tree.children[0], da)
        elif kind in ("invokeurl", "invokeapi"):
            self._connection_params(tree)
            self._walk(tree.children, da)
        elif kind == "legacy_invokeurl":
            self._arity_call(tree, tree.children[0], builtin_functions()["invokeurl"], False)
            self._walk(tree.children[1:], da)
        else:
            self._walk(tree.children, da)

    def _walk(self, children: list[Any], da: set[str]) -> None:
        for child in children:
            if isinstance(child, Tree):
                self._expr(child, da)

    # ---- calls ---------------------------------------------------------------------------
    def _site(self, tree: Tree, name: str, name_tok: Token,  # type: ignore[type-arg]
              args: Any) -> CallSite:
        arg_spans = [Span.of(a) for a in (args.children if isinstance(args, Tree) else ())
                     if isinstance(a, Tree) and not a.meta.empty]
        site = CallSite(name, Span.of(name_tok), Span.of(tree),
                        (name_tok.end_line or name_tok.line, name_tok.end_column or 1), arg_spans)
        self.doc.calls.append(site)
        return site

    def _call(self, tree: Tree) -> None:  # type: ignore[type-arg]
        name_tok, args = tree.children
        name = _name(name_tok)
        site = self._site(tree, name, name_tok, args)
        count = len(site.argument_spans)
        user = self._user_function(name, qualified=False)
        if user is not None:
            site.user_function = user
            self._user_arity(user, name, count, name_tok)
            return
        sig = builtin_functions().get(name.lower())
        if sig is not None:
            site.signature = sig
            form = sig.kind == "method"
            site.function_form = form
            rows = method_rows(name) if form else [sig]
            if not any(r.accepts(count, form) for r in rows):
                self._arity_error(sig, name_tok, count, form)
            return
        if name.lower() in CREATOR_FUNCTIONS:
            return
        close = suggest_builtin(name)
        fix = Fix(Span.of(name_tok), close, f"Change to '{close}'") if close else None
        self._report("UnknownName", unknown_function_message(name), Span.of(name_tok),
                     "error" if close else "warning", fix)

    def _user_function(self, name: str, qualified: bool) -> str | None:
        key = name.lower()
        if key in self.return_types:
            return key
        if not qualified:
            for full in self.return_types:
                if full.rsplit(".", 1)[-1] == key:
                    return full
        return None

    def _user_arity(self, key: str, name: str, count: int, at: Token) -> None:
        scope = self.doc.functions().get(key)
        n = len(scope.params) if scope is not None else count
        if count > n:
            self._report("ArgumentCount", f"Function '{name}' takes {n} argument"
                         f"{'s' if n != 1 else ''} but got {count}", Span.of(at), "error")

    def _arity_error(self, sig: Signature, at: Token, count: int, form: bool) -> None:
        """The runtime's own words (`dispatch.arity_error`), with the author's spelling."""
        self._report("ArgumentCount", f"Function '{_name(at)}' expects "
                     f"{sig.arity_text(form)} but got {count}", Span.of(at), "error")

    def _arity_call(self, tree: Tree, name_tok: Token, sig: Signature,  # type: ignore[type-arg]
                    form: bool) -> None:
        site = self._site(tree, _name(name_tok), name_tok, tree.children[1])
        site.signature = sig
        if not sig.accepts(len(site.argument_spans), form):
            self._arity_error(sig, name_tok, len(site.argument_spans), form)

    def _method_call(self, tree: Tree) -> bool:  # type: ignore[type-arg]
        """Check `recv.name(args)`; True when the receiver is a name path that is not a
        variable (a task's or user function's namespace, a system value)."""
        recv, name_tok, args = tree.children
        name = _name(name_tok)
        qual = qualified_name(recv)
        site = self._site(tree, name, name_tok, args)
        count = len(site.argument_spans)
        system = qual is not None and qual.lower() in _zoho_values()
        if qual is not None and not system:
            full = f"{qual}.{name}"
            root = qual.split(".", 1)[0].lower()
            user = self._user_function(full, qualified=True)
            if user is not None:
                site.user_function, site.name = user, full
                self._user_arity(user, full, count, name_tok)
                return True
            if root == "zoho":
                site.name = full
                self._task(site, full, name_tok, count)
                return True
            if root in USER_NAMESPACES:
                site.name = full  # a function of another script: `check` cannot see it
                return True
        if system:
            recv_type: str | None = ZOHO_TYPES.get(qual.lower(), TEXT)  # type: ignore[union-attr]
        else:
            recv_type = expression_type(recv, self.fn.env if self.fn else {},
                                        self.return_types)
        if recv_type is not None and recv_type != NULL and recv_type in METHODS:
            self._typed_method(site, recv_type, name_tok, count)
        else:
            self._untyped_method(site, name_tok, count)
        return system

    def _typed_method(self, site: CallSite, recv_type: str, name_tok: Token,
                      count: int) -> None:
        """A method on a receiver of known type: it must be one of that type's."""
        name = _name(name_tok)
        sig = methods_for(recv_type).get(name.lower())
        if sig is None:
            close = suggest_method(recv_type, name)
            fix = Fix(Span.of(name_tok), close, f"Change to '{close}'") if close else None
            self._report("UnknownName", str(unknown_method(recv_type, name)),
                         Span.of(name_tok), "error", fix)
            return
        site.signature = sig
        if not sig.accepts(count):
            self._arity_error(sig, name_tok, count, False)

    def _untyped_method(self, site: CallSite, name_tok: Token, count: int) -> None:
        """A method on a value whose type depends on the data: only what no type has, or
        no arity of any type accepts, is reported."""
        name = _name(name_tok)
        rows = method_rows(name)
        if not rows:
            self._report("UnknownName", f"Unknown method '{name}': no value type has it",
                         Span.of(name_tok), "warning")
        elif not any(r.accepts(count) for r in rows):
            self._arity_error(rows[0], name_tok, count, False)
        else:
            site.signature = rows[0]

    def _task(self, site: CallSite, full: str, name_tok: Token, count: int) -> None:
        sig = tasks().get(full.lower())
        if sig is not None:
            site.signature = sig
            if not sig.accepts(count):
                names = ", ".join(sig.params)
                self._report("ArgumentCount", f"Task '{full}' expects {sig.arity_text()} "
                             f"({names}) but got {count}" if names else
                             f"Task '{full}' expects {sig.arity_text()} but got {count}",
                             Span.of(name_tok), "error")
            return
        namespace = full.rsplit(".", 1)[0].lower()
        if namespace not in task_namespaces():
            return  # another product's task: valid Deluge this runtime has no table of
        # near misses are judged on the task's own name within its service: `bulkCreate`
        # is another task of the vendor's, not a typo of `create`
        prefix = namespace + "."
        known = {n[len(prefix):]: s.name for n, s in tasks().items() if n.startswith(prefix)}
        own = full.lower()[len(prefix):]
        close = difflib.get_close_matches(own, list(known), n=1, cutoff=0.8)
        hint = f" (did you mean '{known[close[0]]}'?)" if close else ""
        fix = None
        if close:
            short = known[close[0]].rsplit(".", 1)[-1]
            fix = Fix(Span.of(name_tok), short, f"Change to '{known[close[0]]}'")
        # a near miss of a known task is a typo (error); another name may be a task of
        # the vendor's that this runtime does not call (warning: it fails only when run)
        self._report("UnknownName", f"Unknown task '{full}': not one of the {namespace} tasks "
                     f"this runtime runs{hint}", Span.of(name_tok),
                     "error" if close else "warning", fix)

    def _connection_params(self, tree: Tree) -> None:  # type: ignore[type-arg]
        if self._source is None:
            return
        for param in tree.children[1:]:
            if not isinstance(param, Tree) or param.data != "task_param":
                continue
            key, value = param.children
            if str(key).rstrip(":").strip().lower() != "connection":
                continue
            items = value.children if isinstance(value, Tree) else []
            if len(items) != 1 or not isinstance(items[0], Tree) or items[0].data not in (
                    "string", "sq_string"):
                continue
            name = str(items[0].children[0])[1:-1]
            known = self._known_connections()
            if name in known:
                continue
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            quote = str(items[0].children[0])[0]
            fix = (Fix(Span.of(items[0]), f"{quote}{close[0]}{quote}", f"Change to '{close[0]}'")
                   if close else None)
            self._report("UnknownConnection", f"Connection '{name}' is not in the registry"
                         f"{hint}", Span.of(items[0]), "warning", fix)

    def _known_connections(self) -> set[str]:
        if self._connections is None:
            self._connections = set(self._source or ())
        return self._connections

    # ---- reporting -----------------------------------------------------------------------
    def _warn(self, kind: str, message: str, span: Span) -> None:
        self._report(kind, message, span, "warning")

    def _report(self, kind: str, message: str, span: Span, severity: str,
                fix: Fix | None = None) -> None:
        self.doc.diagnostics.append(Diagnostic(
            kind, message, span.line, span.column, self.doc.filename, severity,
            span.end_line, span.end_column, fix))


def _meet(a: set[str] | None, b: set[str] | None) -> set[str] | None:
    """What is assigned after two paths join (None: the path never gets there)."""
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _zoho_values() -> frozenset[str]:
    from .catalog import SYSTEM_VALUES

    return frozenset(SYSTEM_VALUES)
