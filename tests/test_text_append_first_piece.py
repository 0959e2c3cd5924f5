"""`x = x + <expression> ...` (faststatements._append): x's type and the first piece are
read once before the TEXT/other branch, so the piece's code is built once, not once per
branch. Differential: every run equals the run without the text append (the operators'
own fast paths), in result, logs, error position and statement count."""

from __future__ import annotations

import ast

import pytest

from fastpathlab import run_with
from sluicegate.limits import Limits
from sluicegate.sandbox import generated_source


def _run(text: str, inputs: dict, off: set[str], budget: int = 5_000) -> dict:
    return run_with(text, inputs, off, Limits(max_statements=budget, timeout=5.0))


_STARTS = ['x = "";', "x = 0;", "x = 1.5;", "x = {1};", "", 'x = "ab";']
_PIECES = ["a * b", "a * b + c", "a / c", "(a - b) * 2", "a.toString()", "c * c * c", "(a > b)",
           "-a", "a % 3"]
_TAILS = ["", ' + ","', " + a", " + a * b"]
_INPUTS = [{"a": 3, "b": 4, "c": 0}, {"a": "t", "b": 2, "c": 5},
           {"a": 9223372036854775807, "b": 2, "c": 1}, {"a": 2, "b": 7, "c": 2}]


@pytest.mark.parametrize("start", _STARTS)
@pytest.mark.parametrize("piece", _PIECES)
@pytest.mark.parametrize("tail", _TAILS)
def test_the_first_piece_read_before_the_branch_gives_the_same_run(start: str, piece: str,
                                                                  tail: str) -> None:
    text = (f"{start}\nfor each i in {{1, 2, 3}}\n{{\n    x = x + {piece}{tail};\n"
            "    info x;\n}\nreturn x;")
    for inputs in _INPUTS:
        for budget in (5_000, 7):
            fast = _run(text, inputs, set(), budget)
            plain = _run(text, inputs, {"text_append"}, budget)
            for key in ("status", "logs", "return", "error"):
                assert fast[key] == plain[key], (key, text, inputs, budget)
            assert fast["stats"]["statements"] == plain["stats"]["statements"], (text, inputs)


def test_the_first_piece_is_built_once() -> None:
    """The product's guarded code appears once, not once in each branch."""
    text = 'x = input;\nfor each a in items\n{\n    x = x + a * 3 * a;\n}\nreturn x;'
    python = generated_source(text)
    products = [n for n in ast.walk(ast.parse(python)) if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name) and n.func.id == "dg_mul"]
    # the fallbacks of (a * 3) and of (...) * a (twice: its types differ, or are alike
    # but neither NUMBER nor DECIMAL), in the general version: six when built per branch
    assert len(products) == 3, python
