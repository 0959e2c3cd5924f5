"""Code that runs once per run compiles compact (issue 17, point 5): outside the loops of
the bare body, operators and methods stay helper calls instead of guarded inline fast
paths; loop bodies and script functions keep the fast paths. What a script sees does
not change (the differential fuzz tests in tests/fuzz compare both forms too)."""

from __future__ import annotations

import ast

import pytest

from fastpathlab import fast_paths_off, run_with
from sluicegate.engine import Runtime
from sluicegate.limits import Limits
from sluicegate.sandbox import generated_source


def _with_off(off: set[str], fn):  # type: ignore[no-untyped-def]
    with fast_paths_off(off):
        return fn()


def _run(text: str, inputs: dict, off: set[str], **limits: object) -> dict:
    return run_with(text, inputs, off, Limits(**limits))  # type: ignore[arg-type]


def _nodes(python: str) -> int:
    return sum(1 for _ in ast.walk(ast.parse(python)))


STRAIGHT = """
total = 0;
total = total + n * 3;
s = "a" + total;
s = s + "-" + n + "\\n";
m = Map();
m.put("k", total);
l = List();
l.add(m.get("k"));
if (total > 10 && s.length() > 2) { info s.trim(); }
return l.size() + total;
"""


def test_straight_line_code_calls_the_helpers_and_loops_keep_the_fast_paths() -> None:
    code = generated_source(STRAIGHT + "\nfor each x in l { total = total + x; }")
    main, loop = code.split("_getiter_(", 1)  # the loop (its counted entry test too)
    assert "dg_type" not in main  # no guard outside the loop
    assert "dg_add(v_total, dg_mul(v_n, 3))" in main
    assert "dg_mc_put_2(v_m, 'k', v_total)" in main
    assert "dg_type(v_x) is dg_int" in loop  # the loop body keeps its fast path
    inlined = _with_off({"compact_once"}, lambda: generated_source(STRAIGHT))
    assert "dg_type" in inlined
    assert _nodes(generated_source(STRAIGHT)) * 2 < _nodes(inlined)


def test_script_functions_keep_the_fast_paths() -> None:
    code = generated_source("int f(int a)\n{\n b = a + 1;\n return b * 2;\n}")
    assert "dg_type(v_a) is dg_int" in code
    assert "dg_add(" in code  # the fallback of the guarded fast path


def test_the_loop_source_runs_once_and_stays_compact() -> None:
    code = generated_source("for each x in l.get(0) + 1 { info x + 1; }")
    head, body = code.split("for v_x in", 1)[1].split(":", 1)
    assert "dg_add(" in head and "dg_type" not in head
    assert "dg_type(v_x) is dg_int" in body


def test_inputs_are_read_only_for_variables_that_may_be_read_before_assigned() -> None:
    code = generated_source("a = 1;\nb = b + a;\nif (a > 0) { c = 2; }\ninfo c;\n"
                            "d = 4;\ninfo d;")
    assert "'a' in dg_in" not in code and "'d' in dg_in" not in code
    assert "'b' in dg_in" in code and "'c' in dg_in" in code
    out = Runtime().run("a = 1;\nb = b + a;\ninfo a + b;\nif (a > 5) { c = 2; }\ninfo c;",
                        {"a": 40, "b": 2, "c": "from input"})
    assert out.ok and out.logs == ["4", "from input"]


ELIFS = """
y = 0;
if (x == 0) { y = 1; info y; }
else if (x == 1) { y = 2; }
else if (x == 2) { y = 3; }
else if (x == 3) { y = 4; info y; y = y + 1; }
else { y = 5; info y; }
for each i in {1, 2} { if (i == x) { y = y + i; } else { y = y - 1; } }
info y;
"""
TRY = """
a = 1;
try { a = a + 1; b = a / 0; info b; }
catch (e) { info e; a = a + 10; info a; }
info a;
"""


def test_blocks_that_run_once_charge_with_one_call_and_loops_inline() -> None:
    code = generated_source(ELIFS)
    main, loop = code.split("for v_i in")
    # the bare body's own block charges inline (its first charge always refills)
    assert main.count("dg_refill") == 1
    assert main.count("dg_n = dg_charge(dg_ctx, dg_n, 1)") == 5
    assert "dg_charge" not in loop and "dg_refill" in loop
    inlined = _with_off({"compact_once"}, lambda: generated_source(ELIFS))
    assert "dg_charge" not in inlined


@pytest.mark.parametrize("text,inputs,limits", [
    (STRAIGHT, {"n": 4}, {}),
    (STRAIGHT, {"n": "x"}, {}),
    (STRAIGHT, {"n": 3074457345618258603}, {}),  # overflow at the `*`
    (STRAIGHT, {"n": 2}, {"max_statements": 5}),  # the statement limit on the way
    (STRAIGHT, {}, {}),  # an unknown variable, at its position
    ('s = "ab";\ns = s + s + s + s;\ns = s + s + s + s;\ns = s + s + s + s;\ninfo s.length();',
     {}, {"max_text": 100}),
    ("x = 5;\nif (x == 1) { r = 1; }\nelse if (x == 5) { r = 5; }\nelse { r = 0; }\n"
     "info r / (x - 5);", {}, {}),
    ('m = {"a": 1};\nv = m.get("a") + ifnull(m.get("b"), 2);\ninfo v % 0;', {}, {}),
    # the one-call charges of blocks that run once, up to the statement limit in each
    *((ELIFS, {"x": x}, {"max_statements": n}) for x in (0, 3, 9) for n in (2, 4, 5, 6, 50)),
    *((TRY, {}, {"max_statements": n}) for n in (3, 4, 5, 6, 7, 8)),
])
def test_compact_and_inlined_forms_give_the_same_run(text: str, inputs: dict,
                                                     limits: dict) -> None:
    compact = _run(text, inputs, set(), **limits)
    inlined = _run(text, inputs, {"compact_once"}, **limits)
    for key in ("status", "logs", "return", "error"):
        assert compact[key] == inlined[key], key
    assert compact["stats"]["statements"] == inlined["stats"]["statements"]
