"""Creator form criteria (`Orders[Status == "Open" && Amount > limit]`) as Creator API v2
criteria text: compiled once when the script is translated, filled in when it runs.

The translator hands over the criteria as the Python tree it built. A criterion compares a
form field (a bare name, on the left unless only the right side is one) with a script value
(any expression: variables there are the script's),
joined with `&&` and `||`; `Field in list` and `Field.contains(x)` / `startsWith` /
`endsWith` are kept too. The result is a template: a tuple of parts, each `("t", text)`,
`("v", i)` (the i-th value, written as a Creator literal when the script runs),
`("in", field, i)` (the i-th value, a LIST, written as `field == a || field == b`), and the
value expressions. Anything else cannot be sent to the API and is refused, naming it.

    render(parts, values)   the criteria text for the values of one run (pure)
"""

from __future__ import annotations

__all__ = ["Untranslatable", "compile_criteria", "render", "literal"]

import ast
from decimal import Decimal
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.values import DateTime, display, type_name

_OPS = {"dg_eq": "==", "dg_ne": "!=", "dg_lt": "<", "dg_le": "<=", "dg_gt": ">",
        "dg_ge": ">="}
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_FIELD_METHODS = {"contains": "contains", "startswith": "startsWith",
                  "endswith": "endsWith"}


class Untranslatable(Exception):
    """A part of the criteria the Creator API cannot express; `node` is where it is."""

    def __init__(self, what: str, node: ast.AST) -> None:
        super().__init__(what)
        self.what = what
        self.node = node


def _helper(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _field(node: ast.AST) -> str | None:
    """A bare name in criteria is a field of the form (`Status`, `ID`)."""
    if isinstance(node, ast.Name) and node.id.startswith("v_"):
        return node.id[2:]
    return None


class _Compiler:
    def __init__(self, describe: Any) -> None:
        self.parts: list[tuple[Any, ...]] = []
        self.values: list[ast.expr] = []
        self.describe = describe  # node -> its source text, for messages

    def value(self, node: ast.expr) -> int:
        self.values.append(node)
        return len(self.values) - 1

    def text(self, text: str) -> None:
        self.parts.append(("t", text))

    def compile(self, node: ast.expr) -> None:
        helper = _helper(node)
        if helper == "dg_cond" and len(node.args) == 1:  # type: ignore[attr-defined]
            return self.compile(node.args[0])  # type: ignore[attr-defined]
        if isinstance(node, ast.BoolOp):
            joiner = " && " if isinstance(node.op, ast.And) else " || "
            self.text("(")
            for i, operand in enumerate(node.values):
                if i:
                    self.text(joiner)
                self.compile(operand)
            self.text(")")
            return None
        if helper in _OPS:
            return self._comparison(node, _OPS[helper])  # type: ignore[arg-type]
        if helper == "dg_member":
            field, values = node.args  # type: ignore[attr-defined]
            name = _field(field)
            if name is None:
                raise Untranslatable(self.describe(node), node)
            self.parts.append(("in", name, self.value(values)))
            return None
        if helper == "dg_m" and len(node.args) == 3:  # type: ignore[attr-defined]
            recv, method, arg = node.args  # type: ignore[attr-defined]
            name = _field(recv)
            spelled = _FIELD_METHODS.get(str(getattr(method, "value", "")).lower())
            if name is not None and spelled is not None:
                self.text(f"{name}.{spelled}(")
                self.parts.append(("v", self.value(arg)))
                self.text(")")
                return None
        raise Untranslatable(self.describe(node), node)

    def _comparison(self, node: ast.Call, op: str) -> None:
        # The field is the bare name on the left (`Status == s`), or on the right when only
        # that side is one (`100 < Amount`); the other side is a script value.
        left, right = node.args
        name = _field(left)
        if name is None:
            name, right, op = _field(right), left, _FLIPPED[op]
            if name is None:
                raise Untranslatable(self.describe(node), node)
        self.text(f"{name} {op} ")
        self.parts.append(("v", self.value(right)))


def compile_criteria(node: ast.expr, describe: Any) -> tuple[tuple[tuple[Any, ...], ...],
                                                             list[ast.expr]]:
    """The template parts and the value expressions of criteria; raises Untranslatable."""
    compiler = _Compiler(describe)
    compiler.compile(node)
    return tuple(compiler.parts), compiler.values


def literal(value: Any) -> str:
    """A script value as a Creator criteria literal."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return display(value)
    if isinstance(value, (str, DateTime)):
        text = display(value).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{text}"'
    raise ScriptRuntimeError(f"A {type_name(value)} value cannot be compared in Creator "
                             "criteria")


def render(parts: tuple[tuple[Any, ...], ...], values: list[Any]) -> str:
    """The criteria text for one run: `(Status == "Open" && Amount > 100)`."""
    out: list[str] = []
    for part in parts:
        if part[0] == "t":
            out.append(part[1])
        elif part[0] == "v":
            out.append(literal(values[part[1]]))
        else:  # ("in", field, i): membership in a LIST, as a disjunction
            items = values[part[2]]
            if not isinstance(items, list):
                items = [items]
            if not items:
                out.append("(ID == 0)")  # no record has ID 0: an empty list matches nothing
            else:
                out.append("(" + " || ".join(f"{part[1]} == {literal(v)}" for v in items)
                           + ")")
    return "".join(out)
