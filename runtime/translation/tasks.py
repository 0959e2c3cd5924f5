"""The builder's task statements: `invokeurl`, `invokeapi` and `sendmail` blocks (their
parameters checked against SPEC §5 while parsing), the legacy `invokeUrl(...)` call, and
Creator's form statements (`insert into`, `Form[criteria]`, `delete from`) and form-script
commands, which run as refusals naming what is not supported outside Creator. Mixed into
the translator's `_Builder`, which provides `source`, `_error`, `_nest` and `block`."""

from __future__ import annotations

import ast
import re
from typing import Any

from ..integrations import statements as creator_forms
from ..parsing.tokens import Token
from .nodes import _call, _const, _name, _span, _var

# Task parameter names each task accepts (SPEC §5), normalized: lower case, '-' for ' '/'_'.
TASK_PARAMETERS = {
    "invokeurl": {"url", "type", "parameters", "body", "headers", "content-type", "files",
                  "connection", "detailed", "response-format", "response-decoding"},
    "invokeapi": {"service", "path", "type", "parameters", "body", "headers", "connection",
                  "content-type", "files", "detailed", "response-format", "response-decoding"},
    "sendmail": {"from", "to", "cc", "bcc", "reply-to", "subject", "message", "content-type",
                 "attachments"},
}
_HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head"}
_RESPONSE_FORMATS = frozenset({"FILE", "TEXT", "JSON", "XML"})



class TaskBuilder:
    """Task and Creator statement methods of the builder, one per grammar alias."""

    def legacy_invokeurl(self, c: list[Any]) -> ast.expr:
        tok, args = c
        return self._nest(_call("dg_f", [_const("invokeUrl", tok), *(args or [])], tok),
                          *(args or []))

    def form_query(self, c: list[Any]) -> ast.expr:
        """`Form[criteria] sort by F desc range from a to b`: a Creator fetch."""
        node = creator_forms.fetch(self.source, c[0], c[1],
                                   [t for t in c[2:] if t is not None])
        return self._nest(node, *(x for x in c[1:2] if x is not None))

    def form_tail(self, c: list[Any]) -> Token:
        return c[0]  # type: ignore[no-any-return]

    def task_value(self, c: list[Any]) -> ast.expr:
        if len(c) == 1:
            return c[0]  # type: ignore[no-any-return]
        return _span(ast.List(elts=list(c), ctx=ast.Load()), c[0], c[-1])

    def attachments(self, c: list[Any]) -> ast.expr:
        items = [x for x in c if x is not None]
        if len(items) == 1:
            return items[0]  # type: ignore[no-any-return]
        return _span(ast.List(elts=items, ctx=ast.Load()), items[0], items[-1])

    def file_attachment(self, c: list[Any]) -> ast.expr:
        """`file:X` in Creator's sendmail attachments: the FILE value X itself."""
        return c[1]  # type: ignore[no-any-return]

    def template_attachment(self, c: list[Any]) -> ast.expr:
        """A Creator record template rendered as an attachment: refused when sent."""
        ref = c[0]
        return _call("dg_unsupported", [_const(" ".join(ref.value.split()), ref)], ref)

    def task_param(self, c: list[Any]) -> tuple[Token, str, ast.expr]:
        key_tok, value = c
        key = re.sub(r"[\s_]+", "-", key_tok.value.rstrip(":").strip().lower())
        return (key_tok, key, value)

    def _task(self, kind: str, tok: Token, params: list[Any], last: Any) -> ast.expr:
        allowed = TASK_PARAMETERS[kind]
        elts: list[ast.expr] = []
        seen: set[str] = set()
        for key_tok, key, value in params:
            if key not in allowed:
                raise self._error(
                    f"Unknown {kind} parameter '{key_tok.value.rstrip(':').strip()}'; "
                    f"expected one of: {', '.join(sorted(allowed))}", key_tok)
            if key in seen:
                raise self._error(f"Parameter '{key}' is given twice in {kind}", key_tok)
            seen.add(key)
            if (key == "type" and isinstance(value, ast.Name)
                    and getattr(value, "dg_qual", "").lower() in _HTTP_METHODS):
                value = _const(value.dg_qual.upper(), value)  # type: ignore[attr-defined]
            elif (key == "service" and kind == "invokeapi" and isinstance(value, ast.Name)
                    and "." not in getattr(value, "dg_qual", ".")):
                # `service: zohobooks` is a bare word (the vendor's service names)
                value = _const(value.dg_qual.lower(), value)  # type: ignore[attr-defined]
            elif (key == "response-format" and isinstance(value, ast.Name)
                    and getattr(value, "dg_qual", "").upper() in _RESPONSE_FORMATS):
                # `response-format: FILE` is a bare word, like `type: GET`
                value = _const(value.dg_qual.upper(), value)  # type: ignore[attr-defined]
            elts.append(_span(ast.Tuple(elts=[_const(key, key_tok), value], ctx=ast.Load()),
                              key_tok, value))
        plist = _span(ast.List(elts=elts, ctx=ast.Load()), tok, last)
        return _call("dg_" + kind, [_name("dg_ctx", tok), plist], tok, last)

    def invokeurl(self, c: list[Any]) -> ast.expr:
        params = [p for p in c[1:] if p is not None]
        return self._task("invokeurl", c[0], params, params[-1][2] if params else c[0])

    def invokeapi(self, c: list[Any]) -> ast.expr:
        params = [p for p in c[1:] if p is not None]
        return self._task("invokeapi", c[0], params, params[-1][2] if params else c[0])

    def sendmail_stmt(self, c: list[Any]) -> ast.stmt:
        tok = c[0]
        params = [p for p in c[1:] if p is not None and not isinstance(p, Token)]
        call = self._task("sendmail", tok, params, params[-1][2] if params else tok)
        return _span(ast.Expr(value=call), tok)

    def creator_insert(self, c: list[Any]) -> ast.stmt:
        word, into, form = c[0], c[1], c[2]
        if word.value.lower() != "insert" or into.value.lower() != "into":
            raise self._error(f"Unexpected '{word.value} {into.value}'", word)
        call = creator_forms.insert(form, [f for f in c[3:] if f is not None], word)
        return _span(ast.Expr(value=call), word)

    def creator_field(self, c: list[Any]) -> tuple[Token, ast.expr]:
        return (c[0], c[1])

    def creator_delete(self, c: list[Any]) -> ast.stmt:
        word, frm, form = c[0], c[1], c[2]
        if word.value.lower() != "delete" or frm.value.lower() != "from":
            raise self._error(f"Unexpected '{word.value} {frm.value}'", word)
        call = creator_forms.delete(self.source, form, c[3], word)
        return _span(ast.Expr(value=call), word)

    # Task blocks of other products (`sendsms [ to: ... message: ... ]` in Creator).
    _CREATOR_TASKS = {"sendsms", "pushnotify", "postmessage"}

    def creator_task(self, c: list[Any]) -> ast.stmt:
        word = c[0]
        if word.value.lower() not in self._CREATOR_TASKS:
            raise self._error(f"Unknown task '{word.value} [...]'", word)
        call = _call("dg_unsupported", [_const(f"{word.value} [...]", word)], word)
        return _span(ast.Expr(value=call), word)

    _CREATOR_COMMANDS = {"hide", "show", "clear", "enable", "disable", "cancel", "reload",
                         "delete", "remove", "select", "deselect"}

    def creator_command(self, c: list[Any]) -> ast.stmt:
        word, (name, arg) = c  # `hide Field;`, `show row.Field;`
        if word.value.lower() not in self._CREATOR_COMMANDS:
            raise self._error(f"Unexpected '{arg.value}' after '{word.value}'; expected an "
                              "assignment or a call", arg)
        call = _call("dg_unsupported", [_const(f"{word.value.lower()} {name}", word)], word)
        return _span(ast.Expr(value=call), word)

    def creator_alert(self, c: list[Any]) -> ast.stmt:
        word = c[0]
        call = _call("dg_unsupported", [_const("alert", word)], word)
        return _span(ast.Expr(value=call), word)

    def creator_message(self, c: list[Any]) -> ast.stmt:
        """`success message "Saved";` (Creator form actions)."""
        first, second = c[0], c[1]
        if (first.value.lower(), second.value.lower()) != ("success", "message"):
            raise self._error(f"Unexpected text after '{first.value} {second.value}'", second)
        call = _call("dg_unsupported", [_const("success message", first)], first)
        return _span(ast.Expr(value=call), first)

    def creator_insert_assign(self, c: list[Any]) -> ast.stmt:
        """`id = insert into Form [ ... ];`: the new record's ID (Creator)."""
        target, word, into, form = c[0], c[1], c[2], c[3]
        if word.value.lower() != "insert" or into.value.lower() != "into":
            raise self._error(f"Unexpected '{word.value} {into.value}'", word)
        call = creator_forms.insert(form, [f for f in c[4:] if f is not None], word)
        return _span(ast.Assign(targets=[_name(_var(target.value), target, store=True)],
                                value=call), target)

    def creator_ui(self, c: list[Any]) -> ast.stmt:
        """`Field:ui.add(values);`, `input.Field:ui.add(...)` (Creator form scripts)."""
        field = c[0]
        call = _call("dg_unsupported", [_const("Field:ui", field)], field)
        return _span(ast.Expr(value=call), field)
