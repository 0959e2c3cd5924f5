"""The sandbox's policy pass (sandbox._Policy) is RestrictedPython's own transformer with
a cheaper walk: on the translated scripts and on hostile Python, it produces the same
tree and the same errors and warnings as the stock `RestrictingNodeTransformer`."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import pytest
from RestrictedPython.transformer import RestrictingNodeTransformer

from sluicegate.errors import ScriptSyntaxError
from sluicegate.sandbox import _Policy
from sluicegate.translator import translate

_TESTS = Path(__file__).resolve().parent
_SCRIPTS = sorted((_TESTS / "scripts").rglob("*.dg"))

# Python the policy must refuse or rewrite: private names, imports, attribute and item
# access, exec/eval, printing, starred calls, augmented attribute stores, lambdas, ...
_HOSTILE = [
    "import os",
    "from os import path",
    "x = __import__('os')",
    "_secret = 1",
    "def f(_a): return _a",
    "x.__class__.__bases__[0].__subclasses__()",
    "getattr(x, '__globals__')",
    "x.y = 1",
    "x[0] = 1",
    "del x.y",
    "print('a')",
    "exec('1')",
    "eval('1')",
    "f(*a, **k)",
    "x.y += 1",
    "lambda _x: _x",
    "[a for a in b if a._c]",
    "with open('f') as fh: pass",
    "async def g(): await h()",
    "try:\n    pass\nexcept Exception as _e:\n    pass",
    "global q\nq = 1",
    "class C: pass",
    "for _i in range(3): pass",
    "x = (y := 2)",
    "a, *b = c",
    "f'{x.__class__}'",
    "yield_ = 1\nx = [i async for i in y]",
    "match x:\n    case {'a': _b}: pass",
]


def _run(cls: type, tree: ast.AST) -> tuple[str, list[str], list[str], dict]:
    errors: list[str] = []
    warnings: list[str] = []
    used: dict = {}
    cls(errors, warnings, used).visit(tree)
    return ast.dump(tree, include_attributes=True), errors, warnings, used


def _same(tree: ast.AST) -> list[str]:
    ours = _run(_Policy, copy.deepcopy(tree))
    stock = _run(RestrictingNodeTransformer, copy.deepcopy(tree))
    assert ours == stock
    return stock[1]


@pytest.mark.parametrize("source", _HOSTILE)
def test_hostile_python_is_judged_the_same(source: str) -> None:
    _same(ast.parse(source))


def test_the_hostile_sample_is_refused_or_guarded() -> None:
    """The sample is worth comparing on: the policy refuses most of it or rewrites it
    (guards around attribute and item access, iteration). Some it leaves to the run's
    builtins, which the sandbox does not give (`import os`, `getattr`, `open`)."""
    untouched = []
    for source in _HOSTILE:
        tree = ast.parse(source)
        before = ast.dump(tree, include_attributes=True)
        if not _same(tree) and _run(_Policy, tree)[0] == before:
            untouched.append(source)
    assert len(untouched) <= 8, untouched


def test_translated_scripts_are_rewritten_the_same() -> None:
    done = 0
    for path in _SCRIPTS:
        try:
            module = translate(path.read_text(encoding="utf-8")).module
        except ScriptSyntaxError:
            continue
        assert _same(module) == []
        done += 1
    assert done > 20


def test_the_nodes_the_walk_passes_by_are_inert_to_the_stock_transformer() -> None:
    """Each class `_Policy` does not visit (sandbox._INERT) is left as it is, with no
    error or warning, by RestrictedPython's own visit."""
    from sluicegate.sandbox import _INERT

    assert {ast.Load, ast.Store, ast.Add, ast.Eq, ast.And, ast.Not, ast.Constant} <= _INERT
    for cls in _INERT:
        node = cls(value=1) if cls is ast.Constant else cls()
        errors: list[str] = []
        warnings: list[str] = []
        assert RestrictingNodeTransformer(errors, warnings, {}).visit(node) is node, cls
        assert not errors and not warnings, cls
