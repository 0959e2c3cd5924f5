"""A TEXT literal joined to a known NUMBER (a variable that only holds one, a NUMBER
version's guarded variable, `i % 100` of one) is its digits without the TEXT test; a
DECIMAL test skips a side known to be a NUMBER. Differential: the same runs with the
fast paths, without them, and without number inference."""

from __future__ import annotations

import pytest

from fastpathlab import run_with
from sluicegate.limits import Limits
from sluicegate.sandbox import generated_source


def _run(text: str, inputs: dict, off: set[str], budget: int) -> dict:
    return run_with(text, inputs, off, Limits(max_statements=budget, timeout=5.0))


_SCRIPTS = [
    'm = Map();\ntotal = 0;\nfor each i in items\n{\n    key = "k" + (i % 7);\n'
    '    m.put(key, ifnull(m.get(key), 0) + i);\n    total = total + i;\n}\ninfo m;\nreturn total;',
    'n = 0;\nfor each i in items\n{\n    n = n + 1;\n    info "n" + n + (n * 2) + "x";\n'
    '    info (i - n) + "!";\n}\nreturn n;',
    'c = 9223372036854775800;\nfor each i in items\n{\n    c = c + 1;\n    info "c" + c;\n}',
    'p = 0;\nfor each i in items\n{\n    p = p + i * 2;\n    info p + 1.5;\n    info 2.5 * p;\n}',
]
_INPUTS = [[1, 2, 3, -4], [1, "a", 2], [1.5, 2], [], [9223372036854775807, 1], [None, 3]]


@pytest.mark.parametrize("text", _SCRIPTS)
def test_known_numbers_joined_and_added_give_the_same_run(text: str) -> None:
    for items in _INPUTS:
        for budget in (5_000, 9):
            every = _run(text, {"items": items}, set(), budget)
            for off in ({"number_inference"}, {"loop_versioning", "number_inference"},
                        {"compact_once", "number_inference", "loop_versioning"}):
                other = _run(text, {"items": items}, off, budget)
                for key in ("status", "logs", "return", "error"):
                    assert every[key] == other[key], (key, off, text, items, budget)
                assert every["stats"]["statements"] == other["stats"]["statements"]


def test_a_known_number_is_joined_as_its_digits_without_a_text_test() -> None:
    python = generated_source('n = 0;\nfor each i in items\n{\n    n = n + 1;\n'
                              '    info "n" + n;\n}')
    assert "'n' + dg_str(v_n)" in python, python
