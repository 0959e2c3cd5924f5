"""Tree passes for the trusted compile stages: a leaf-skipping transformer and stamping.

The sandbox's own passes (runtime nodes, fast paths) rewrite statements, calls and the
blocks around them; they never rewrite a name, a constant or an operator token. Walking
those leaves with `ast.NodeTransformer.generic_visit` was most of the compile time of a
long script, so `TrustedPass` visits only inner nodes, and dispatches by a per-class
table instead of building a method name per node. (RestrictedPython's policy pass keeps
the standard full walk: it must see every name.)

`stamp` gives newly built nodes a script position without walking the script's own
subtrees below them.
"""

from __future__ import annotations

__all__ = ["TrustedPass", "stamp", "position_of", "walk", "LEAVES", "load", "store"]

import ast
from typing import Any, Callable

from . import compilebudget

# Inner nodes visited between two looks at the compile deadline.
_CHECK_EVERY = 512

# Nodes the trusted passes never rewrite and that have no children worth visiting.
LEAVES = (ast.Name, ast.Constant, ast.expr_context, ast.operator, ast.cmpop, ast.boolop,
          ast.unaryop, ast.alias)
_POSITIONED = (ast.expr, ast.stmt, ast.excepthandler)


class TrustedPass(ast.NodeTransformer):
    """A NodeTransformer that skips leaves (see the module docstring); same contract
    otherwise: a `visit_<Class>` returns the node, a replacement, a list or None."""

    _dispatch: dict[type, Callable[[Any], Any]]
    _until_check = _CHECK_EVERY

    def visit(self, node: ast.AST) -> Any:
        self._until_check -= 1
        if self._until_check <= 0:
            self._until_check = _CHECK_EVERY
            compilebudget.check()
        cls = type(node)
        try:
            method = self._dispatch[cls]
        except AttributeError:
            self._dispatch = {}
            method = self._dispatch[cls] = getattr(self, "visit_" + cls.__name__,
                                                   self.generic_visit)
        except KeyError:
            method = self._dispatch[cls] = getattr(self, "visit_" + cls.__name__,
                                                   self.generic_visit)
        return method(node)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        """Only the fields that may hold nodes are read (`_child_fields`): the names,
        flags and operator tokens of a node hold nothing to visit."""
        fields = node.__dict__  # a node's fields live there: no getattr per field name
        inner = _INNER
        names = _CHILD_FIELDS.get(node.__class__)
        if names is None:
            names = _child_fields(node.__class__)
        for field in names:
            old = fields.get(field)
            if type(old) is list:
                new: list[Any] | None = None
                for i, item in enumerate(old):
                    visit = inner.get(type(item))
                    if visit is None:
                        visit = _inner(type(item))
                    if not visit:
                        if new is not None:
                            new.append(item)
                        continue
                    result = self.visit(item)
                    if result is item and new is None:
                        continue
                    if new is None:
                        new = old[:i]
                    if result is None:
                        continue
                    if isinstance(result, list):
                        new.extend(result)
                    else:
                        new.append(result)
                if new is not None:
                    old[:] = new
            elif isinstance(old, ast.AST) and type(old) not in _LEAF_TYPES:
                result = self.visit(old)
                if result is None:
                    delattr(node, field)
                elif result is not old:
                    setattr(node, field, result)
        return node


# Whether a value in a list field is a node to visit, by its type (one dictionary read
# instead of two isinstance tests per item).
_INNER: dict[type, bool] = {}


def _inner(cls: type) -> bool:
    visit = _INNER[cls] = issubclass(cls, ast.AST) and not issubclass(cls, LEAVES)
    return visit


def stamp(new: Any, where: Any, *, always: bool = True) -> Any:
    """Give `new` and its children that have no position the position of `where` (a
    script node). Children that carry a position are the script's own (or were stamped
    when built) and are not walked, so the cost is the number of new nodes.
    `always=False` keeps a position `new` already has.

    A node's fields and positions live in its instance dictionary: updating it at once
    and reading only the fields that may hold nodes (`_child_fields`) is several times
    cheaper than a getattr per field name."""
    if not always and "lineno" in new.__dict__:
        return new
    line, col = where.lineno, where.col_offset
    pos = {"lineno": line, "col_offset": col,
           "end_lineno": getattr(where, "end_lineno", line),
           "end_col_offset": getattr(where, "end_col_offset", col)}
    stack = [new]
    pop, push = stack.pop, stack.append
    positioned = _POSITIONED_TYPES
    children = _CHILD_FIELDS
    while stack:
        node = pop()
        fields = node.__dict__
        fields.update(pos)
        names = children.get(node.__class__)
        if names is None:
            names = _child_fields(node.__class__)
        for name in names:
            value = fields.get(name)
            kind = type(value)
            if kind is list:
                for item in value:
                    kind = type(item)
                    if kind is _NAME or kind is _CONSTANT:  # a leaf: stamped here
                        leaf = item.__dict__
                        if "lineno" not in leaf:
                            leaf.update(pos)
                        continue
                    has = positioned.get(kind)
                    if has is None:
                        has = _positioned(kind)
                    if has and "lineno" not in item.__dict__:
                        push(item)
                continue
            if kind is _NAME or kind is _CONSTANT:
                leaf = value.__dict__
                if "lineno" not in leaf:
                    leaf.update(pos)
                continue
            has = positioned.get(kind)
            if has is None:
                has = _positioned(kind)
            if has and "lineno" not in value.__dict__:
                push(value)
    return new


# Whether a node of this type carries a position (one dictionary read per value instead
# of an isinstance test against three base classes).
_POSITIONED_TYPES: dict[type, bool] = {}


def _positioned(cls: type) -> bool:
    has = _POSITIONED_TYPES[cls] = issubclass(cls, _POSITIONED)
    return has


# The fields of a node class that may hold positioned nodes: all but the operator tokens
# and the names, flags and other scalars (read by name, not every value of the node).
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
_SCALAR_FIELDS = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "name", "kind",
                            "type_comment", "is_async", "level", "conversion", "simple"})


def _child_fields(cls: type) -> tuple[str, ...]:
    names = _CHILD_FIELDS[cls] = tuple(f for f in cls._fields if f not in _SCALAR_FIELDS)
    return names


def position_of(where: Any) -> dict[str, int]:
    """The position of a script node as keyword arguments for building a node with it
    (`ast.Pass(**position_of(stmt))`): stamped when built, never walked."""
    line, col = where.lineno, where.col_offset
    return {"lineno": line, "col_offset": col,
            "end_lineno": getattr(where, "end_lineno", line),
            "end_col_offset": getattr(where, "end_col_offset", col)}


def walk(node: ast.AST) -> list[ast.AST]:
    """Every node under `node` (itself included), breadth first as `ast.walk`, but as a
    list built without a generator per node, and without expression contexts and
    operator tokens (no pass looks at those; they were a third of the nodes). Only the
    fields that may hold nodes are read (`_child_fields`), in their order, which callers
    do not rely on."""
    out = [node]
    append = out.append
    kept = _WALKED
    children = _CHILD_FIELDS
    childless = _CHILDLESS
    for current in out:  # the list grows while it is read: breadth first
        cls = type(current)
        if cls in childless:
            continue
        names = children.get(cls)
        if names is None:
            names = _child_fields(cls)
        fields = current.__dict__
        for name in names:
            value = fields.get(name)
            kind = type(value)
            if kind is list:
                for item in value:
                    keep = kept.get(type(item))
                    if keep is None:
                        keep = _walked(type(item))
                    if keep:
                        append(item)
            else:
                keep = kept.get(kind)
                if keep is None:
                    keep = _walked(kind)
                if keep:
                    append(value)
    return out


# Whether `walk` lists a value of this type (a node, not a context or operator token).
_WALKED: dict[type, bool] = {}


def _walked(cls: type) -> bool:
    keep = _WALKED[cls] = issubclass(cls, ast.AST) and cls not in _TOKENS
    return keep


_TOKENS = frozenset(cls for base in (ast.expr_context, ast.operator, ast.cmpop, ast.boolop,
                                     ast.unaryop) for cls in base.__subclasses__())
_LEAF_TYPES = frozenset({ast.Name, ast.Constant, ast.alias, *_TOKENS})
_CHILDLESS = frozenset({ast.Name, ast.Constant})


# Names for the trusted passes, made without the constructor's keyword handling (they
# build thousands): contexts carry no state, one of each serves every name.
_LOAD, _STORE, _NAME, _CONSTANT = ast.Load(), ast.Store(), ast.Name, ast.Constant


def load(name: str) -> ast.Name:
    """`ast.Name(id=name, ctx=ast.Load())`, unpositioned."""
    node = _NAME.__new__(_NAME)
    fields = node.__dict__
    fields["id"] = name
    fields["ctx"] = _LOAD
    return node


def store(name: str) -> ast.Name:
    """`ast.Name(id=name, ctx=ast.Store())`, unpositioned."""
    node = _NAME.__new__(_NAME)
    fields = node.__dict__
    fields["id"] = name
    fields["ctx"] = _STORE
    return node


# The runtime-nodes pass's forms (sandbox), as the loop passes recognize them.
def script_name(node: ast.expr) -> str | None:
    """The Python name of a script variable (`v_x`), else None."""
    return node.id if type(node) is ast.Name and node.id.startswith("v_") else None


def is_charge(node: ast.AST) -> int | None:
    """k for the runtime-nodes pass's `dg_n -= k`, else None."""
    if (type(node) is ast.AugAssign and type(node.target) is ast.Name
            and node.target.id == "dg_n" and type(node.op) is ast.Sub
            and type(node.value) is ast.Constant and type(node.value.value) is int):
        return node.value.value
    return None


def is_refill(node: ast.AST) -> bool:
    """The runtime-nodes pass's `if dg_n < 0: dg_n = dg_refill(dg_ctx, dg_n)`."""
    return (type(node) is ast.If and not node.orelse and len(node.body) == 1
            and type(node.test) is ast.Compare and type(node.test.left) is ast.Name
            and node.test.left.id == "dg_n" and type(node.body[0]) is ast.Assign
            and type(node.body[0].value) is ast.Call
            and type(node.body[0].value.func) is ast.Name
            and node.body[0].value.func.id == "dg_refill")
