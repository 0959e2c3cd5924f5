"""The translator: Deluge syntax to a Python `ast.Module`, built while the parser runs.

One method per grammar alias (same names as the `-> alias` of deluge.lark). Every node
carries the script's own line and column (column as a 0-based character offset), so the
positions Python records for the compiled code are script positions.

The generated code touches script values only through helper functions named `dg_*`
(bound by the sandbox from runtime/ and stdlib/): no Python attribute or item access
on a script value is ever emitted. Script variables become locals named `v_<name>`, so
no script name can reach a Python name.

    bare body             -> def dg_main(dg_ctx, dg_in): ...
    string ns.fn(Int a)   -> def dg_fn_0(dg_ctx, v_a): ...

The positioned-node helpers live in `translation.nodes`, the task and Creator statement
methods in `translation.tasks` (mixed into the builder).
"""

from __future__ import annotations

__all__ = ["Translation", "FunctionInfo", "translate", "translate_tree", "HELPERS",
           "TASK_PARAMETERS", "USER_NAMESPACES", "CREATOR_FUNCTIONS"]

import ast
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sluicegate.stdlib.tables import FUNCTIONS, TASKS, ensure

from .errors import ScriptSyntaxError
from .integrations import statements as creator_forms
from .parser import normalize_source, parse
from .parsing.tokens import Token
from .translation.nodes import (
    _call,
    _const,
    _filled,
    _name,
    _node,
    _pos,
    _span,
    _test,
    _unescape,
    _var,
)
from .translation.tasks import TASK_PARAMETERS, TaskBuilder
from .values import MAX_NUMBER, MIN_NUMBER

# The helper names generated code may call; the sandbox binds exactly these.
HELPERS = frozenset({
    "dg_add", "dg_sub", "dg_mul", "dg_div", "dg_mod", "dg_neg", "dg_pos", "dg_member",
    "dg_lt", "dg_le", "dg_gt",
    "dg_ge", "dg_eq", "dg_ne", "dg_cond", "dg_not", "dg_m", "dg_f", "dg_info", "dg_iter",
    "dg_iter_index", "dg_field", "dg_set_field", "dg_user", "dg_task", "dg_sys", "dg_throw",
    "dg_caught", "dg_errors", "dg_brace", "dg_brace_list", "dg_typed_list", "dg_date",
    "dg_map_of", "dg_invokeurl", "dg_invokeapi", "dg_sendmail", "dg_unsupported",
    "dg_unsupported_task",
    "dg_unknown_var", "dg_arity",
    "dg_form_fetch", "dg_form_insert", "dg_form_delete", "dg_form_method", "dg_form_refused",
})

USER_NAMESPACES = {"standalone", "automation", "thisapp", "button", "workflow", "schedule"}
_SYSTEM_NAMES = {"now", "today"}
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_NESTING = 200


@dataclass
class FunctionInfo:
    """A function defined in the script (or the bare body, named '')."""

    name: str                     # qualified name as written, '' for the bare body
    py_name: str                  # dg_main / dg_fn_N
    params: list[tuple[str, str]]  # (declared type, name)
    return_type: str
    line: int


@dataclass
class Translation:
    """The result of translating one script."""

    module: ast.Module
    functions: list[FunctionInfo]
    constants: dict[str, Any] = field(default_factory=dict)

    @property
    def entry(self) -> FunctionInfo:
        return self.functions[0]


class _Builder(TaskBuilder):
    """Parser callbacks, one per alias; state is reset for every parse (parser holds a
    lock). Not a Lark `Transformer`: the parser calls its methods by rule name, and
    Lark is not imported for a script that parses (`translate_tree` walks a tree with
    Lark's Transformer mixed in)."""

    def reset(self, source: str, filename: str) -> None:
        self.source = source
        self.filename = filename
        self.constants: dict[str, Any] = {}
        self.const_ids: dict[tuple[type, str], str] = {}
        self.functions: list[tuple[FunctionInfo, ast.FunctionDef]] = []
        self.pending: list[tuple[ast.Call, str, list[ast.expr], bool]] = []
        # 9223372036854775808 is only valid negated: literal node id -> its token
        self.unsigned_overflow: dict[int, Token] = {}
        # Variables assigned a literal `{}` in the function being read (_adapt_braces)
        self.braces: set[str] = set()

    # ---- helpers -------------------------------------------------------------------------
    def _error(self, message: str, at: Any) -> ScriptSyntaxError:
        if isinstance(at, Token):
            line, col = at.line, at.column
        else:
            line, col = at.lineno, at.col_offset + 1
        return ScriptSyntaxError(message, line=line, column=col, filename=self.filename)

    def _hoist(self, value: Any, at: Any) -> ast.Name:
        """A constant Python cannot embed (Decimal) becomes a module global."""
        key = (type(value), str(value))
        name = self.const_ids.get(key)
        if name is None:
            name = f"dg_k{len(self.const_ids)}"
            self.const_ids[key] = name
            self.constants[name] = value
        return _name(name, at)

    def _nest(self, node: Any, *children: Any) -> Any:
        depth = 0
        for c in children:
            cd = getattr(c, "dg_depth", 0)
            if cd > depth:
                depth = cd
        depth += 1
        if depth > _MAX_NESTING:
            raise self._error(f"Expression is nested too deeply (more than {_MAX_NESTING} "
                              "levels)", node)
        node.dg_depth = depth
        return node

    # ---- literals ------------------------------------------------------------------------
    def number(self, c: list[Any]) -> ast.expr:
        tok = c[0]
        value = int(tok.value)
        if value > MAX_NUMBER + 1:
            raise self._error("Number out of range", tok)
        node = _const(value, tok)
        if value > MAX_NUMBER:
            self.unsigned_overflow[id(node)] = tok
        return node

    def decimal(self, c: list[Any]) -> ast.expr:
        return self._hoist(Decimal(c[0].value), c[0])

    def _text(self, tok: Token) -> str:
        text = _unescape(tok.value[1:-1])
        if not text.isascii() and _SURROGATE.search(text):
            text = self._pair_surrogates(text, tok)
        return text

    def _pair_surrogates(self, text: str, tok: Token) -> str:
        """`"\\ud83d\\ude00"` is one character, as in JSON and Java; half a pair is an error
        (no encoding can write it, so it could never be sent, stored or printed)."""
        data = text.encode("utf-16-le", "surrogatepass")
        try:
            return data.decode("utf-16-le")
        except UnicodeDecodeError as exc:
            code = int.from_bytes(data[exc.start:exc.start + 2], "little")
            raise self._error(f"Invalid text: \\u{code:04x} is half of a UTF-16 surrogate "
                              "pair without its other half", tok) from None

    def string(self, c: list[Any]) -> ast.expr:
        tok = c[0]
        return _const(self._text(tok), tok)

    def sq_string(self, c: list[Any]) -> ast.expr:
        tok = c[0]
        text = self._text(tok)
        from sluicegate.stdlib.dates import (
            looks_like_date_literal,  # first use: cold start
        )

        if looks_like_date_literal(text):
            return _call("dg_date", [_const(text, tok)], tok)
        return _const(text, tok)

    def true(self, c: list[Any]) -> ast.expr:
        return _const(True, c[0])

    def false(self, c: list[Any]) -> ast.expr:
        return _const(False, c[0])

    def null(self, c: list[Any]) -> ast.expr:
        return _const(None, c[0])

    def var(self, c: list[Any]) -> ast.expr:
        tok = c[0]
        node = _name(_var(tok.value), tok)
        node.dg_qual = tok.value  # type: ignore[attr-defined]
        return node

    def empty_brace(self, c: list[Any]) -> ast.expr:
        node = _call("dg_brace", [], c[0])
        node.dg_brace = True  # type: ignore[attr-defined]
        return node

    def list_literal(self, c: list[Any]) -> ast.expr:
        items = [x for x in c[1:] if x is not None]
        return self._nest(_span(ast.List(elts=items, ctx=ast.Load()), c[0],
                                items[-1] if items else c[0]), *items)

    def map_literal(self, c: list[Any]) -> ast.expr:
        pairs = [x for x in c[1:] if x is not None]
        keys = [k for k, _ in pairs]
        values = [v for _, v in pairs]
        last = values[-1] if values else c[0]
        if all(isinstance(k, ast.Constant) and isinstance(k.value, (str, int)) for k in keys):
            node = _span(ast.Dict(keys=keys, values=values), c[0], last)
        else:
            args: list[ast.expr] = []
            for k, v in pairs:
                args.append(_span(ast.Tuple(elts=[k, v], ctx=ast.Load()), k, v))
            node = _call("dg_map_of", args, c[0], last)
        return self._nest(node, *keys, *values)

    def pair(self, c: list[Any]) -> tuple[ast.expr, ast.expr]:
        return (c[0], c[1])

    def pair_arg(self, c: list[Any]) -> ast.expr:
        return self._nest(_span(ast.Tuple(elts=[c[0], c[1]], ctx=ast.Load()), c[0], c[1]),
                          c[0], c[1])

    def args(self, c: list[Any]) -> list[ast.expr]:
        return list(c)

    def typed_ctor(self, c: list[Any]) -> ast.expr:
        tok = c[0]
        kind, _, elem = tok.value.partition(":")
        kind = kind.strip().lower()
        args = c[1] or []
        if kind == "list":
            return _call("dg_typed_list", [_const(elem.strip(), tok), *args], tok)
        return _call("dg_f", [_const(kind, tok), *args], tok)

    # ---- operators -----------------------------------------------------------------------
    _BINARY = {"+": "dg_add", "-": "dg_sub", "*": "dg_mul", "/": "dg_div", "%": "dg_mod"}
    _COMPARE = {"==": "dg_eq", "!=": "dg_ne", "<": "dg_lt", "<=": "dg_le", ">": "dg_gt",
                ">=": "dg_ge"}

    # Operator calls span from the operator to the right operand, so an error raised by
    # the operator is reported at the operator's column.
    def binary(self, c: list[Any]) -> ast.expr:
        left, op, right = c
        node = _call(self._BINARY[op.value], [left, right], op, right)
        return self._nest(node, left, right)

    def compare(self, c: list[Any]) -> ast.expr:
        left, op, right = c
        node = _call(self._COMPARE[op.value], [left, right], op, right)
        return self._nest(node, left, right)

    def legacy_equal(self, c: list[Any]) -> ast.expr:
        left, right = c
        node = _call("dg_eq", [left, right], left)
        return self._nest(_span(node, left, right), left, right)

    def _boolop(self, op: ast.boolop, c: list[Any]) -> ast.expr:
        left, tok, right = c
        values = [_test(left), _test(right)]
        node = _span(ast.BoolOp(op=op, values=values), left, right)
        return self._nest(node, left, right)

    def or_op(self, c: list[Any]) -> ast.expr:
        return self._boolop(ast.Or(), c)

    def and_op(self, c: list[Any]) -> ast.expr:
        return self._boolop(ast.And(), c)

    def not_op(self, c: list[Any]) -> ast.expr:
        tok, operand = c
        return self._nest(_call("dg_not", [operand], tok, operand), operand)

    def negate(self, c: list[Any]) -> ast.expr:
        tok, operand = c
        if isinstance(operand, ast.Constant) and type(operand.value) is int:
            value = -operand.value
            self.unsigned_overflow.pop(id(operand), None)
            if not MIN_NUMBER <= value <= MAX_NUMBER:
                raise self._error("Number out of range", tok)
            return _span(ast.Constant(value=value), tok, operand)
        if isinstance(operand, ast.Name) and operand.id in self.constants:
            value = -self.constants[operand.id]
            return _span(self._hoist(value, tok), tok, operand)
        return self._nest(_call("dg_neg", [operand], tok, operand), operand)

    def in_op(self, c: list[Any]) -> ast.expr:
        """`a in b` (Creator criteria `Orders[Email in emails]`): b contains a."""
        left, tok, right = c
        return self._nest(_call("dg_member", [left, right], tok, right), left, right)

    def unary_plus(self, c: list[Any]) -> ast.expr:
        tok, operand = c
        if isinstance(operand, ast.Constant) and type(operand.value) is int:
            return _span(ast.Constant(value=operand.value), tok, operand)
        return self._nest(_call("dg_pos", [operand], tok, operand), operand)

    def if_expr(self, c: list[Any]) -> ast.expr:
        tok, test, body, orelse = c
        node = ast.IfExp(test=_test(test), body=body, orelse=orelse)
        return self._nest(_span(node, tok, orelse), test, body, orelse)

    # ---- postfix ---------------------------------------------------------------------------
    def member(self, c: list[Any]) -> ast.expr:
        recv, name = c
        qual = getattr(recv, "dg_qual", None)
        if qual is not None and qual.split(".", 1)[0].lower() == "zoho":
            full = f"{qual}.{name.value}"
            node = _call("dg_sys", [_name("dg_ctx", name), _const(full.lower(), name)], recv,
                         name)
            node.dg_qual = full  # type: ignore[attr-defined]
            return node
        node = _call("dg_field", [recv, _const(name.value, name)], name)
        node = self._nest(_span(node, recv, name), recv)
        if getattr(recv, "dg_form", False):  # `Form[c].Field`, for `.getAll()`
            node.dg_form_field = (recv, name.value)  # type: ignore[attr-defined]
        node.dg_member = (recv, name.value)  # type: ignore[attr-defined]  # `rows.F.getAll()`
        if qual is not None:
            node.dg_qual = f"{qual}.{name.value}"
        return node

    def method_call(self, c: list[Any]) -> ast.expr:
        recv, name, args = c
        args = args or []
        if (getattr(recv, "dg_form", False) or getattr(recv, "dg_form_field", None)
                or (getattr(recv, "dg_member", None) and name.value.lower() == "getall")):
            node = creator_forms.method_call(recv, name, args)
            if node is not None:
                return self._nest(node, recv, *args)
        qual = getattr(recv, "dg_qual", None)
        if qual is not None:
            full = f"{qual}.{name.value}"
            root = qual.split(".", 1)[0].lower()
            if root == "zoho" and _is_system_value(qual):
                # `zoho.currentdate.addDay(1)`: a method of the system value
                recv = _span(_call("dg_sys", [_name("dg_ctx", name), _const(qual.lower(), name)],
                                   recv), recv)
                qual = None
            elif root == "zoho":
                return self._task_call(full, args, recv, name)
            if root in USER_NAMESPACES:
                return self._user_call(full, args, recv)
        node = _call("dg_m", [recv, _const(name.value, name), *args], name)
        node = self._nest(node, recv, *args)
        if qual is not None:
            # Resolved when the whole file is known: a function defined in this file?
            self.pending.append((node, f"{qual}.{name.value}", args, True))
        return node

    def _task_call(self, full: str, args: list[ast.expr], recv: Any, name: Token) -> ast.expr:
        key = full.lower()
        ensure(key)
        if key not in TASKS:
            # Another product's task (`zoho.cliq.postToChannel`): the script is valid
            # Deluge and checks clean; running it says what is not supported here.
            node = _call("dg_unsupported_task", [_const(full, name)], name)
            return self._nest(node, *args)
        node = _call("dg_task", [_name("dg_ctx", name), _const(key, name), *args], name)
        return self._nest(node, *args)

    def _user_call(self, full: str, args: list[ast.expr], at: Any) -> ast.expr:
        node = _call("dg_user", [_name("dg_ctx", at), _const(full, at), *args], at)
        return self._nest(node, *args)

    def call(self, c: list[Any]) -> ast.expr:
        name, args = c
        args = args or []
        ensure(name.value.lower())
        row = FUNCTIONS.get(name.value.lower())
        node = _call("dg_f", [_const(name.value, name), *args], name)
        node = self._nest(node, *args)
        if row is not None:
            n = len(args)
            if n < row.min_args or (row.max_args is not None and n > row.max_args):
                node = _call("dg_arity", [_const(name.value, name), _const(n, name)], name)
        else:
            self.pending.append((node, name.value, args, False))
        return node

    # ---- statements ----------------------------------------------------------------------
    def assign(self, c: list[Any]) -> ast.stmt:
        name, value = c
        if name.value.lower() in _RESERVED_LOWER:
            raise self._error(f"'{name.value}' is a reserved word", name)
        node = _node(ast.Assign, targets=[_name(_var(name.value), name, store=True)],
                     value=value)
        if getattr(value, "dg_brace", False):
            self.braces.add(_var(name.value))
        return _span(node, name, value)

    def member_assign(self, c: list[Any]) -> ast.stmt:
        target, name, value = c
        call = _call("dg_set_field", [target, _const(name.value, name), value], name)
        return _span(ast.Expr(value=_span(call, target, value)), target, value)

    def compound_assign(self, c: list[Any]) -> ast.stmt:
        name, op, value = c
        helper = self._BINARY[op.value[0]]
        current = _name(_var(name.value), name)
        call = _span(_call(helper, [current, value], op), name, value)
        node = _node(ast.Assign, targets=[_name(_var(name.value), name, store=True)],
                     value=call)
        return _span(node, name, value)

    def expr_stmt(self, c: list[Any]) -> ast.stmt:
        value = c[0]
        if not (isinstance(value, ast.Call)):
            raise self._error("A statement must be an assignment or a call; this expression "
                              "does nothing", value)
        return _span(_node(ast.Expr, value=value), value)

    def block(self, c: list[Any]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in c:
            if isinstance(s, ast.AST):  # first: not a Token (see nodes._span)
                out.append(s)
            elif s is None or isinstance(s, Token):
                continue
            elif isinstance(s, list):
                out.extend(s)
            else:
                out.append(s)
        return out

    def if_stmt(self, c: list[Any]) -> ast.stmt:
        tok, test, body = c[0], c[1], c[2]
        rest = [x for x in c[3:] if x is not None]
        orelse: list[ast.stmt] = []
        # Build the else-if chain from the end.
        for clause in reversed(rest):
            kind, ctok, ctest, cbody = clause
            if kind == "else":
                orelse = cbody or []  # an empty else is no else
            else:
                inner = _node(ast.If, test=_test(ctest), body=_filled(cbody, ctok),
                              orelse=orelse)
                orelse = [_span(inner, ctok, ctest)]
        node = _node(ast.If, test=_test(test), body=_filled(body, tok), orelse=orelse)
        return _span(node, tok, test)

    def elif_clause(self, c: list[Any]) -> tuple[str, Token, ast.expr, list[ast.stmt]]:
        return ("elif", c[1], c[2], c[3])

    def else_clause(self, c: list[Any]) -> tuple[str, Token, None, list[ast.stmt]]:
        return ("else", c[0], None, c[1])

    def for_each(self, c: list[Any]) -> ast.stmt:
        tok, _each, name, _in, iterable, body = c
        node = ast.For(target=_name(_var(name.value), name, store=True),
                       iter=_call("dg_iter", [iterable], iterable), body=_filled(body, tok),
                       orelse=[])
        return _span(node, tok, iterable)

    def for_index(self, c: list[Any]) -> ast.stmt:
        tok, _each, _index, name, _in, iterable, body = c
        node = ast.For(target=_name(_var(name.value), name, store=True),
                       iter=_call("dg_iter_index", [iterable], iterable),
                       body=_filled(body, tok), orelse=[])
        return _span(node, tok, iterable)

    def break_stmt(self, c: list[Any]) -> ast.stmt:
        return _pos(ast.Break(), c[0])

    def continue_stmt(self, c: list[Any]) -> ast.stmt:
        return _pos(ast.Continue(), c[0])

    def return_stmt(self, c: list[Any]) -> ast.stmt:
        tok, value = c
        node = ast.Return(value=value)
        return _span(node, tok, value if value is not None else tok)

    def info_stmt(self, c: list[Any]) -> ast.stmt:
        tok, value = c
        call = _call("dg_info", [_name("dg_ctx", tok), value], tok, value)
        return _span(ast.Expr(value=call), tok, value)

    def try_stmt(self, c: list[Any]) -> ast.stmt:
        tok, body, _catch, name, handler = c
        bind = ast.Assign(targets=[_name(_var(name.value), name, store=True)],
                          value=_call("dg_caught", [_name("dg_e", name)], name))
        except_ = ast.ExceptHandler(type=_name("dg_errors", name), name="dg_e",
                                    body=[_span(bind, name)] + handler)
        node = ast.Try(body=body or [_pos(ast.Pass(), tok)],
                       handlers=[_span(except_, name)], orelse=[], finalbody=[])
        return _span(node, tok)

    def throw_stmt(self, c: list[Any]) -> ast.stmt:
        tok, value = c
        return _span(ast.Expr(value=_call("dg_throw", [value], tok, value)), tok, value)

    def bare_block(self, c: list[Any]) -> list[ast.stmt]:
        """`{ ... }` around statements (a body pasted with its braces): the statements."""
        return self.block(c)

    def empty_stmt(self, c: list[Any]) -> None:
        return None

    # ---- functions and the file ----------------------------------------------------------
    def qualified_name(self, c: list[Any]) -> tuple[str, Token]:
        return (".".join(t.value for t in c), c[0])

    def param(self, c: list[Any]) -> tuple[str, Token]:
        return (c[0].value, c[1])

    def function_def(self, c: list[Any]) -> tuple[str, FunctionInfo, ast.FunctionDef]:
        rtype, (qname, _qtok) = c[0], c[1]
        body = c[-1]
        params = [p for p in c[2:-1] if p is not None]
        seen: set[str] = set()
        for _, ptok in params:
            if ptok.value in seen:
                raise self._error(f"Parameter '{ptok.value}' is declared twice", ptok)
            seen.add(ptok.value)
        info = FunctionInfo(qname, "", [(t, p.value) for t, p in params],
                            re.sub(r"\s+", "", rtype.value), rtype.line)
        args = ast.arguments(posonlyargs=[], args=[ast.arg(arg="dg_ctx")] + [
            _span(ast.arg(arg=_var(p.value)), p) for _, p in params],
            vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
        fdef = ast.FunctionDef(name="", args=args, body=body, decorator_list=[], returns=None,
                               type_params=[])
        _span(fdef, rtype)
        fdef.dg_braces = self.braces  # type: ignore[attr-defined]  # functions never nest
        self.braces = set()
        return ("function", info, fdef)

    def start(self, c: list[Any]) -> Translation:
        functions: list[tuple[FunctionInfo, ast.FunctionDef]] = []
        statements: list[ast.stmt] = []
        for item in c:
            if item is None or isinstance(item, Token):
                continue
            if isinstance(item, tuple) and item and item[0] == "function":
                functions.append((item[1], item[2]))
            elif isinstance(item, list):
                statements.extend(item)
            else:
                statements.append(item)
        if functions and statements:
            raise self._error("Statements outside a function: when a script defines functions, "
                              "every statement must be inside one", statements[0])
        names: dict[str, FunctionInfo] = {}
        if not functions:
            info = FunctionInfo("", "dg_main", [], "", 1)
            args = ast.arguments(posonlyargs=[], args=[ast.arg(arg="dg_ctx"),
                                                       ast.arg(arg="dg_in")],
                                 vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                                 defaults=[])
            fdef = ast.FunctionDef(name="dg_main", args=args, body=statements,
                                   decorator_list=[], returns=None, type_params=[])
            fdef.lineno, fdef.col_offset, fdef.end_lineno, fdef.end_col_offset = 1, 0, 1, 0
            fdef.dg_braces = self.braces  # type: ignore[attr-defined]
            functions = [(info, fdef)]
        else:
            for i, (info, fdef) in enumerate(functions):
                key = info.name.lower()
                if key in names:
                    raise self._error(f"Function '{info.name}' is defined twice", fdef)
                names[key] = info
                info.py_name = fdef.name = f"dg_fn_{i}"
        if self.unsigned_overflow:
            raise self._error("Number out of range", next(iter(self.unsigned_overflow.values())))
        self._resolve_pending(names)
        body_defs = []
        for _info, fdef in functions:
            _adapt_braces(fdef, fdef.__dict__.pop("dg_braces"))
            if not fdef.body:
                fdef.body = [_span(ast.Pass(), fdef)]
            body_defs.append(fdef)
        module = ast.Module(body=body_defs, type_ignores=[])
        self.pending = []  # the shared builder keeps no nodes alive past the parse
        return Translation(module, [f for f, _ in functions], self.constants)

    def _resolve_pending(self, names: dict[str, FunctionInfo]) -> None:
        """Calls that name a function of this file become user-function calls."""
        short = {k.rsplit(".", 1)[-1]: k for k in names}
        for node, name, args, qualified in self.pending:
            key = name.lower()
            if key not in names and not qualified and key in short:
                key = short[key]
            if key in names:
                node.func = _name("dg_user", node.func)
                node.args = [_name("dg_ctx", node.func), _const(key, node.func), *args]
            elif not qualified and key in CREATOR_FUNCTIONS:
                node.func = _name("dg_unsupported", node.func)
                node.args = [_const(name, node.func)]
            # Any other name stays a built-in call, resolved (or refused) when it runs;
            # `check` reports it beforehand (sluicegate.tooling.analysis).


_LIST_ONLY_METHODS = {"add", "addall"}
# Creator-only functions (SPEC §5): they parse and check clean; running them is refused.
CREATOR_FUNCTIONS = {"openurl"}


def _is_system_value(qual: str) -> bool:
    """`zoho.currentdate`, `zoho.adminuser`, ...: a system value, not a task namespace."""
    from sluicegate.stdlib.tasks import ZOHO_VALUES  # imported on first use: cold start

    return qual.lower() in ZOHO_VALUES


def _adapt_braces(fdef: ast.FunctionDef, braces: set[str]) -> None:
    """Before `x.add(...)` on a variable that was assigned a literal `{}` (`braces`, the
    builder's record of such assignments in `fdef`), let the empty brace become a LIST
    (SPEC §2). Only such variables pay for the check."""
    if not braces:
        return
    blocks = [fdef.body]
    while blocks:
        block = blocks.pop()
        i = 0
        while i < len(block):
            stmt = block[i]
            for attr in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, attr, None)
                if isinstance(inner, list):
                    blocks.append(inner)
            for handler in getattr(stmt, "handlers", ()):
                blocks.append(handler.body)
            call = stmt.value if isinstance(stmt, ast.Expr) else None
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.func.id == "dg_m" and len(call.args) >= 2
                    and isinstance(call.args[0], ast.Name) and call.args[0].id in braces
                    and isinstance(call.args[1], ast.Constant)
                    and str(call.args[1].value).lower() in _LIST_ONLY_METHODS):
                target = call.args[0]
                adapt = ast.Assign(targets=[_name(target.id, target, store=True)],
                                   value=_call("dg_brace_list", [_name(target.id, target)],
                                               target))
                block.insert(i, _span(adapt, target))
                i += 1
            i += 1


_RESERVED_LOWER = {"if", "else", "for", "in", "return", "break", "continue", "try", "catch",
                   "throw", "true", "false", "null", "invokeurl", "invokeapi", "sendmail",
                   "void"}
_BUILDER = _Builder()


def translate(source: str | bytes, filename: str = "<script>") -> Translation:
    """Parse and translate a script; raises ScriptSyntaxError with its position."""
    text = normalize_source(source, filename)
    result: Translation = parse(text, _BUILDER, filename)
    for node in result.module.body:
        if isinstance(node, ast.FunctionDef):
            _check_loop_jumps(node.body, False, filename)
    return result


def translate_tree(tree: Any, text: str, filename: str = "<script>") -> Translation:
    """Translate a tree `parser.parse_tree` already built from `text` (editor tooling
    parses once, for positions, and translates the same tree): same result and errors
    as `translate(text)`."""
    builder = _tree_builder()()  # imports Lark (larkload) first
    from lark.exceptions import VisitError

    builder.reset(text, filename)
    try:
        result: Translation = builder.transform(tree)
    except VisitError as exc:  # the callback's own error, as an inline parse raises it
        raise exc.orig_exc from None
    for node in result.module.body:
        if isinstance(node, ast.FunctionDef):
            _check_loop_jumps(node.body, False, filename)
    return result


_TREE_BUILDER: list[type] = []


def _tree_builder() -> type:
    """`_Builder` with Lark's `Transformer` (its `transform` walks a finished tree)."""
    if not _TREE_BUILDER:
        from .parsing.larkload import Transformer

        _TREE_BUILDER.append(type("_TreeBuilder", (_Builder, Transformer), {}))
    return _TREE_BUILDER[0]


def _check_loop_jumps(body: list[ast.stmt], in_loop: bool, filename: str) -> None:
    """`break` and `continue` belong inside a `for each`; elsewhere they are syntax errors
    at their own position (CPython would refuse the whole module without one)."""
    for stmt in body:
        if isinstance(stmt, (ast.Break, ast.Continue)) and not in_loop:
            word = "break" if isinstance(stmt, ast.Break) else "continue"
            raise ScriptSyntaxError(f"'{word}' is only allowed inside a 'for each' loop",
                                    line=stmt.lineno, column=stmt.col_offset + 1,
                                    filename=filename)
        if isinstance(stmt, (ast.For, ast.While)):
            _check_loop_jumps(stmt.body, True, filename)
            _check_loop_jumps(stmt.orelse, in_loop, filename)
        elif isinstance(stmt, ast.If):
            _check_loop_jumps(stmt.body, in_loop, filename)
            _check_loop_jumps(stmt.orelse, in_loop, filename)
        elif isinstance(stmt, ast.Try):
            _check_loop_jumps(stmt.body, in_loop, filename)
            for handler in stmt.handlers:
                _check_loop_jumps(handler.body, in_loop, filename)
            _check_loop_jumps(stmt.orelse, in_loop, filename)
            _check_loop_jumps(stmt.finalbody, in_loop, filename)
        elif isinstance(stmt, ast.With):
            _check_loop_jumps(stmt.body, in_loop, filename)


def check_positions(module: ast.AST) -> list[ast.AST]:
    """Nodes of a translated module that lack a position (the translator's own test)."""
    missing = []
    for node in ast.walk(module):
        if isinstance(node, (ast.expr, ast.stmt)) and getattr(node, "lineno", None) is None:
            missing.append(node)
    return missing
