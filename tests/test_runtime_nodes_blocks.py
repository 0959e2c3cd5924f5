"""The runtime-nodes pass (sandbox._RuntimeNodes) visits only the blocks of a function
that calls no user function: differential check against the full visit, on the golden
scripts and on scripts with user calls in tests, loops and blocks."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from sluicegate import sandbox
from sluicegate.translator import translate

_TESTS = Path(__file__).resolve().parent
# the golden scripts that translate (those expecting a syntax error have no tree to visit)
_SCRIPTS = [text for text in (p.read_text(encoding="utf-8")
                              for p in sorted((_TESTS / "scripts").rglob("*.dg")))
            if "expect error: SyntaxError" not in text]
_SHAPES = [
    "x = 5;\nif (x == 0) { r = 0; }\nelse if (x == 1) { r = 1; }\nelse { r = 2; }\ninfo r;",
    "s = \"\";\nfor each i in {1, 2, 3} { if (i > 1) { s = s + i; } else { continue; } }\n"
    "try { x = 1 / 0; } catch (e) { info e; }\ninfo s;",
    "void standalone.f(Int n) { if (n > 0) { info n; } }\n"
    "int standalone.main(Int n) { standalone.f(2); for each i in {1, 2} { standalone.f(i); }"
    " if (standalone.g(1) == 2) { x = standalone.g(standalone.g(2)); }"
    " else if (standalone.g(3) > 0) { x = 0; }"
    " for each i in {1, 2} { y = {\"a\": standalone.g(i)}; try { z = standalone.g(i); }"
    " catch (e) { info standalone.g(0); } } return x; }\n"
    "int standalone.g(Int n) { return n + 1; }",
    "m = Map();\nfor each k in {\"a\", \"b\"} { m.put(k, k.length()); }\nreturn m;",
]


class _FullVisit(sandbox._RuntimeNodes):
    """The pass with its blocks-only shortcut off: every statement's expressions too."""

    @property  # type: ignore[override]
    def blocks_only(self) -> bool:
        return False

    @blocks_only.setter
    def blocks_only(self, value: bool) -> None:
        pass


def _after(pass_class: Any, text: str) -> str:
    module = translate(text).module
    sandbox._policy(module)
    pass_class(compact=True).visit(module)
    return ast.dump(module, include_attributes=True)


@pytest.mark.parametrize("text", _SCRIPTS + _SHAPES)
def test_blocks_only_visit_changes_what_the_full_visit_changes(text: str) -> None:
    assert _after(sandbox._RuntimeNodes, text) == _after(_FullVisit, text)


def test_the_shortcut_is_taken_only_without_user_calls() -> None:
    seen: list[bool] = []

    class Spy(sandbox._RuntimeNodes):
        def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
            result = super().visit_FunctionDef(node)
            seen.append(bool(node.dg_user_calls))  # type: ignore[attr-defined]
            return result

    _after(Spy, _SHAPES[0])
    assert seen == [False]
    _after(Spy, _SHAPES[2])
    assert True in seen[1:] and False in seen[1:]  # standalone.main calls, .g does not
