"""Loop versions (runtime/loopversions.py) and the other execution fast paths of issue 17:
when they apply, and that what a script sees does not change (the differential fuzz
tests in tests/fuzz compare every result with each optimization off)."""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastpathlab import run_with
from sluicegate.engine import Runtime
from sluicegate.limits import Limits
from sluicegate.sandbox import generated_source
from sluicegate.values import fixed_offset, to_json_text

ACCUMULATE = """
total = 0;
for each n in numbers
{
    if (n % 2 == 0)
    {
        total = total + n / 2;
    }
    else
    {
        total = total + n * 3 % 7;
    }
}
return total;
"""


def _run(text: str, inputs: dict, off: frozenset[str] = frozenset(), **limits: object) -> dict:
    return run_with(text, inputs, off, Limits(**limits))  # type: ignore[arg-type]


def _same_without_versions(text: str, inputs: dict, **limits: object) -> dict:
    out = _run(text, inputs, **limits)
    other = _run(text, inputs, frozenset({"loop_versioning"}), **limits)
    for key in ("status", "return", "logs", "error"):
        assert out[key] == other[key], key
    assert out["stats"]["statements"] == other["stats"]["statements"]
    return out


def test_an_accumulating_loop_gets_a_number_version_guarded_once_per_iteration() -> None:
    code = generated_source(ACCUMULATE)
    # n is tested at each iteration; total once, then a flag stands for it while the
    # iterations take the NUMBER copy
    assert "dg_n >= 4 and dg_type(v_n) is dg_int and (dg_t" in code
    assert "or dg_type(v_total) is dg_int):" in code
    # the NUMBER copy has no type guard left on n or total, and no refill check
    number_copy = code.split("is dg_int):", 1)[1].split("else:\n", 1)[0]
    assert "dg_type(v_n)" not in number_copy and "dg_type(v_total)" not in number_copy
    assert "dg_refill" not in number_copy


def test_the_number_version_gives_the_general_result_for_mixed_values() -> None:
    # 1*3%7 + 2/2 + (-3*3)%7 + -4/2 + 5*3%7 (Deluge: % takes the dividend's sign)
    out = _same_without_versions(ACCUMULATE, {"numbers": [1, 2, -3, -4, 5]})
    assert out["status"] == "success" and out["return"] == 3 + 1 - 2 - 2 + 1
    out = _same_without_versions(ACCUMULATE, {"numbers": [1, 2, "6", 7]})
    assert out["status"] == "failure" and out["error"]["line"] == 5
    out = _same_without_versions(ACCUMULATE, {"numbers": [1, Decimal("2.5"), 3]})
    assert out["status"] == "success"


def test_an_iteration_of_the_general_body_makes_the_next_one_test_again() -> None:
    # 1 takes the NUMBER copy; "x" the general body, which makes a a TEXT; 2 must not
    # take the copy on the strength of the first iteration
    text = "a = 0;\nfor each n in {1, \"x\", 2}\n{\n    a = a + n;\n}\nreturn a;"
    out = _same_without_versions(text, {})
    assert out["status"] == "success" and out["return"] == "1x2"


def test_a_statement_limit_inside_a_versioned_loop_is_reported_where_it_was() -> None:
    for budget in (40, 57, 58, 301):
        out = _same_without_versions(ACCUMULATE, {"numbers": list(range(100))},
                                     max_statements=budget)
        assert out["status"] == "failure" and out["error"]["type"] == "LimitExceeded"


def test_a_variable_unset_before_the_loop_is_not_guarded_and_fails_where_it_is_read() -> None:
    text = "for each n in numbers\n{\n    total = total + n;\n}\nreturn total;"
    assert "dg_type(v_total)" not in generated_source(text).split("for v_n", 1)[1] \
        .split("\n", 2)[1]
    out = _run(text, {"numbers": [1, 2]})
    assert out["status"] == "failure" and out["error"]["line"] == 3


def test_a_loop_with_a_user_function_call_is_not_given_a_refill_free_copy() -> None:
    text = ("int standalone.main(List numbers)\n{\n    t = 0;\n    for each n in numbers\n"
            "    {\n        t = t + standalone.plus(n);\n    }\n    return t;\n}\n"
            "int standalone.plus(Int x)\n{\n    return x + 1;\n}")
    code = generated_source(text)
    assert "dg_user" in code and "dg_n >= " not in code


WAITING_LOOP = """
sent = 0;
for each inv in invoices
{
    %s
    sent = sent + 1;
}
return sent;
"""


def test_a_loop_that_waits_on_the_outside_world_keeps_one_body() -> None:
    """A request, a mail or an integration task takes milliseconds: the guard a typed
    copy saves is tens of nanoseconds, the copy would double the loop's compile."""
    waiting = [
        'r = invokeurl [ url: "https://example.com/" + inv.get("id") type: GET ];',
        'sendmail [ from: zoho.adminuserid to: inv.get("email") subject: "s" message: "m" ];',
        'r = zoho.crm.getRecordById("Deals", inv.get("id"));',
        'r = getUrl("https://example.com/" + inv.get("id"));',
    ]
    for statement in waiting:
        code = generated_source(WAITING_LOOP % statement)
        assert "dg_n >= " not in code, statement
        assert code.count("v_sent + 1") == 1, statement
    # a task computed locally does not wait: the loop still gets its typed copy
    code = generated_source(WAITING_LOOP % 'h = zoho.encryption.md5(inv.get("id"));')
    assert "dg_n >= " in code and code.count("v_sent + 1") == 2
    # and its copy gives what the single body gives
    result = _same_without_versions(
        WAITING_LOOP % 'r = zoho.encryption.base64encode("x" + inv.get("id"));',
        {"invoices": [{"id": i} for i in range(50)]})
    assert result["return"] == 50


MIXED_DECIMALS = """
total = 0;
fees = 0;
for each a in amounts
{
    total = total + a;
    fees = fees + a * 3 - 1;
    fees = 2 * fees - a;
}
info total;
return total + fees;
"""


def test_decimal_and_number_steps_are_the_operators_in_the_run_context() -> None:
    """DECIMAL and NUMBER (either side) is Python's operator inline, no helper call; it
    gives the helpers' digits, scale and traps: the same run as with the DECIMAL fast
    paths off, an overflow included (same message, position and statement count)."""
    code = generated_source(MIXED_DECIMALS)
    assert "dg_dec_" not in code and "DECIMAL_CONTEXT" not in code
    amounts = [Decimal("19.99"), 3, Decimal("-0.005"), Decimal("1E+3"), 7, Decimal("2.50")]
    for off in ({"decimal_arithmetic"}, {"decimal_arithmetic", "loop_versioning"}):
        on_run = _run(MIXED_DECIMALS, {"amounts": amounts})
        off_run = _run(MIXED_DECIMALS, {"amounts": amounts}, frozenset(off))
        assert on_run == {**off_run, "stats": on_run["stats"]}
        assert on_run["stats"]["statements"] == off_run["stats"]["statements"]
    assert _run(MIXED_DECIMALS, {"amounts": amounts})["logs"] == ["1032.485"]
    # 10^40000 cubed passes the context's exponent limit: the helper's Overflow trap,
    # raised by the operator at the same place
    huge = "1" + "0" * 40000 + ".5"
    overflow = "x = " + huge + ";\nfor each n in {1, 2, 3}\n{\n    x = x * 3 * x;\n}"
    on_run = _run(overflow, {}, max_statements=100)
    off_run = _run(overflow, {}, frozenset({"decimal_arithmetic"}), max_statements=100)
    assert on_run["status"] == "failure" and on_run["error"]["line"] == 4
    assert on_run["error"] == off_run["error"]
    assert on_run["stats"]["statements"] == off_run["stats"]["statements"]


LITERAL_EQUALITY = """
values = List();
values.addAll(given);
values.add(true);
values.add(null);
values.add('2024-01-05'.toDate());
values.add(Collection());
try { x = 1 / 0; } catch (e) { values.add(e); }
try { x = 1 / 0; } catch (e) { values.add(e.message); }
out = List();
for each v in values
{
    out.add(v == "a");
    out.add("a" != v);
    out.add(v == "Division by zero");
    out.add(v == 5);
    out.add(5 != v);
    out.add(v == 1);
    out.add(v != 0);
    out.add(v == "");
}
return out;
"""


def test_equality_with_a_literal_is_pythons_for_every_kind_of_value() -> None:
    """`v == "a"` and `v == 5` are Python's == without a type guard, and give what the
    helper gives for TEXT, NUMBER, DECIMAL, BOOLEAN, null, LIST, MAP, DATE, COLLECTION
    and a caught error; 0 and 1 keep the guard (a BOOLEAN equals them in Python)."""
    code = generated_source(LITERAL_EQUALITY)
    assert "v_v == 'a'" in code and "'a' != v_v" in code and "v_v == 5" in code
    assert "dg_type(v_v) is dg_int" in code  # the guarded == 1 and != 0
    given = ["a", "", "5", 5, 1, 0, Decimal("5.0"), Decimal("1"), Decimal("0.0"), False,
             [1], {"k": "a"}, ["a"]]
    on_run = _run(LITERAL_EQUALITY, {"given": given})
    off_run = _run(LITERAL_EQUALITY, {"given": given}, frozenset({"literal_equality"}))
    assert on_run["status"] == "success", on_run["error"]
    assert on_run["return"] == off_run["return"]
    assert on_run["stats"]["statements"] == off_run["stats"]["statements"]
    rows = [on_run["return"][i:i + 8] for i in range(0, len(on_run["return"]), 8)]
    assert rows[0] == [True, False, False, False, True, False, True, False]  # "a"
    assert rows[9] == [False, True, False, False, True, False, True, False]  # false
    assert rows[6][3] is True and rows[7][5] is True  # 5.0 == 5, 1 (DECIMAL) == 1
    assert rows[13][5] is False  # true == 1 is false in Deluge, true in Python
    assert rows[-2][2] is True and rows[-1][2] is True  # the caught error, its message


def test_fixed_offset_zones() -> None:
    assert fixed_offset(ZoneInfo("UTC")) and fixed_offset(ZoneInfo("Etc/GMT-5"))
    assert fixed_offset(_dt.timezone(_dt.timedelta(hours=5, minutes=30)))
    assert not fixed_offset(ZoneInfo("America/New_York"))
    assert not fixed_offset(ZoneInfo("Asia/Kolkata"))  # no DST now, but zone history


def test_dates_at_the_calendar_edges_in_a_fixed_offset_zone_fail_as_before() -> None:
    text = ('d = "0001-01-01".toDate("yyyy-MM-dd");\ne = "0001-01-02".toDate("yyyy-MM-dd");'
            "\nreturn d < e;")
    out = Runtime(timezone="Etc/GMT-5").run(text, {}).to_json()
    assert out["status"] == "failure" and out["error"]["line"] == 3
    assert Runtime(timezone="UTC").run(text, {}).to_json()["return"] is True


def test_maps_with_decimals_are_written_with_their_scale_and_marks_in_texts_kept() -> None:
    value = {"a": Decimal("1.50"), "b": [Decimal("-2E+3"), "x\x00Dy", "\x00E"],
             "c": {"d": Decimal("0.000")}}
    assert to_json_text(value) == ('{"a":1.50,"b":[-2000,"x\\u0000Dy","\\u0000E"],'
                                   '"c":{"d":0.000}}')
    records = [{"id": i, "amount": Decimal(f"{i}.10")} for i in range(3)]
    assert to_json_text(records) == ('[{"id":0,"amount":0.10},{"id":1,"amount":1.10},'
                                     '{"id":2,"amount":2.10}]')


# ---- counted loops (runtime/loopcounted.py) ---------------------------------------------
def test_a_loop_of_number_work_of_one_price_is_charged_once_and_runs_as_plain_python() -> None:
    code = generated_source(ACCUMULATE)
    assert re.search(r"dg_counted_\d+\(dg_ctx, dg_n,", code)
    # a list whose charge (3 an iteration) could never be drawn is not walked for types
    from sluicegate.optimizer.loopcounted import MAX_COUNTED, MIN_COUNTED
    entry = re.split(r"dg_counted_\d+\(", code, maxsplit=1)[0].rsplit("if ", 1)[1]
    assert entry.startswith(f"{MIN_COUNTED} <= (") and f") <= {MAX_COUNTED // 3}" in entry
    counted = code.split(") is not None:\n", 1)[1].split("else:\n            dg_t", 1)[0]
    # no charge, no guard, no range check in the iterations of the counted copies
    assert "dg_n" not in counted.split("\n", 1)[1] and "dg_type" not in counted
    assert "9223372036854775807" not in counted and "dg_overflow" not in counted
    # elements never negative: Python's own % and / (no sign test); else Deluge's
    unsigned, signed = counted.split("else:", 1)
    assert "v_n % 2 == 0" in unsigned and "v_n >= 0" not in unsigned
    assert "v_n >= 0 else dg_mod(v_n, 2)" in signed
    for numbers in (list(range(-30, 30)), list(range(60))):
        out = _same_without_versions(ACCUMULATE, {"numbers": numbers})
        expected = sum(int(n / 2) if n % 2 == 0 else (n * 3) % 7 if n >= 0
                       else -((-n * 3) % 7) for n in numbers)
        assert out["status"] == "success" and out["return"] == expected
        # the first line and the loop's statement, then 3 an iteration
        assert out["stats"]["statements"] == 2 + 3 * len(numbers)


def test_a_counted_loop_falls_back_when_bounds_budget_or_types_do_not_hold() -> None:
    big = "total = 9223372036854775000;\n" + ACCUMULATE.split("\n", 2)[2]
    out = _same_without_versions(big, {"numbers": list(range(40)) + [2000]})
    assert out["status"] == "failure" and out["error"]["line"] == 6  # the overflow
    for budget in (50, 100, 121, 122, 123, 200):  # the limit falls inside the loop or not
        out = _same_without_versions(ACCUMULATE, {"numbers": list(range(40))},
                                     max_statements=budget)
        assert out["status"] == ("success" if budget >= 122 else "failure"), budget
    out = _same_without_versions(ACCUMULATE, {"numbers": list(range(40)) + [True, 3]})
    assert out["status"] == "failure"
    out = _same_without_versions(ACCUMULATE, {"numbers": [Decimal("0.5")] + list(range(40))})
    assert out["status"] == "success"


def test_a_loop_whose_paths_cost_differently_or_that_logs_is_not_counted() -> None:
    for body in ("if (n > 2) { total = total + n; }", "total = total + n; info total;",
                 "if (n > 2) { continue; } total = total + n;"):
        text = f"total = 0;\nfor each n in numbers\n{{\n{body}\n}}\nreturn total;"
        assert "dg_counted_" not in generated_source(text), body


def test_int_span_and_draw() -> None:
    from types import SimpleNamespace

    from sluicegate.optimizer.loopcounted import MAX_COUNTED, draw, int_span

    assert int_span([]) == (0, True) and int_span([3, -7, 2]) == (7, False)
    assert int_span(range(-2, 5)) == (4, False) and int_span(range(9, 2, -3)) == (9, True)
    assert int_span([0, 5, 2]) == (5, True)
    for mixed in ([1, True], [1, Decimal(2)], [1, "2"], [None], [1.0]):
        assert int_span(mixed) is None and int_span(mixed, True) is None
    # loose: elements in [0, 2^32) stand for 2^32 - 1; others get the exact bounds
    assert int_span([0, 5, 2], True) == (2**32 - 1, True)
    assert int_span([0, 2**32 - 1], True) == (2**32 - 1, True)
    assert int_span([0, 2**32], True) == (2**32, True)
    assert int_span([3, -7, 2], True) == (7, False)
    # the loop's bound is linear in the elements' magnitude (loose) or not (exact)
    # the loop's bound is linear in the elements' magnitude (loose) or not (exact)
    from sluicegate.optimizer.loopcounted import _ENTRIES

    def loose(text: str) -> bool:
        name = re.findall(r"dg_counted_\d+", generated_source(text))[0]
        return next(key[1] for key, made in _ENTRIES.items() if made[0] == name)

    assert loose(ACCUMULATE)
    square = "total = 0;\nfor each n in numbers\n{\ntotal = total + n * n;\n}\nreturn total;"
    assert not loose(square)
    out = _same_without_versions(square, {"numbers": [3, 2**20] * 20})
    assert out["status"] == "success" and out["return"] == 20 * (9 + 2**40)
    out = _same_without_versions(square, {"numbers": [3, 2**32 - 1] * 20})
    assert out["status"] == "failure"  # past 64 bits: the versioned loop reports where
    ctx = SimpleNamespace(remaining=100, deadline=float("inf"), cancel=None)
    assert draw(ctx, 5, 200) == 5 and ctx.remaining == 100  # not enough left: unchanged
    assert draw(ctx, 5, 105) == 105 and ctx.remaining == 0
    ctx.remaining = MAX_COUNTED * 2
    assert draw(ctx, 0, MAX_COUNTED + 1) == 0  # past the cap: the versioned loop runs
    ctx.deadline = 0.0
    assert draw(ctx, 0, 10) == 0


def test_counted_entry_takes_the_bound_summed_op_by_op_and_pays_only_when_it_holds() -> None:
    """The entry function's bound is the bounds of the module docstring summed over every
    + - *, expanded into terms (checked against the sum computed op by op); it refuses on
    a type, an element, the bound or the budget, touching the budget only when it pays."""
    import ast
    import itertools
    from types import SimpleNamespace

    from sluicegate.optimizer.loopcounted import (
        INT_MAX,
        CountedPlan,
        bound_terms,
        entry_function,
    )

    def call(helper: str, a: ast.expr, b: ast.expr) -> ast.Call:
        return ast.Call(func=ast.Name(id=helper, ctx=ast.Load()), args=[a, b], keywords=[])

    x, y, n = (ast.Name(id=v, ctx=ast.Load()) for v in ("v_x", "v_y", "v_n"))
    plan = CountedPlan()
    step = call("dg_mul", x, n)  # x = x + y * n and y = 7 % 3: x grows by |y| * M a turn
    product = call("dg_mul", y, n)
    plan.stores = {"v_x": [("add", product)], "v_y": [("set", call("dg_mod", y, ast.Constant(3)))]}
    plan.ops = [step, call("dg_add", x, product), product, call("dg_sub", n, ast.Constant(-4))]
    terms = bound_terms(plan, "v_n", ["v_x", "v_y"])
    assert terms is not None
    total = 0
    for coefficient, factors in terms:  # the bound at 1 for every magnitude
        total += coefficient
    name, entry = entry_function(1, False, terms, 2, None)
    assert entry_function(1, False, terms, 2, None) == (name, entry)  # one per plan
    ctx = SimpleNamespace(remaining=10**30, deadline=float("inf"), cancel=None)
    for m, length, vx, vy in itertools.product((0, 1, 7, 2**20), (32, 500), (0, -5, 2**40),
                                               (0, 3, -9)):
        ax, ay = abs(vx), abs(vy)
        by = ay + 3  # the variables' bounds
        bx = ax + length * (by * m)
        expected = bx * m + (bx + by * m) + by * m + (m + 4)
        values = [m] * length
        # within 64 bits exactly when the sum is: pays `length` statements, else refuses
        assert (entry(ctx, 10**6, values, length, vx, vy) is not None) == (
            expected <= INT_MAX), (m, length, vx, vy)
    _, times = entry_function(2, False, ((1, (0, 2)),), 1, None)  # |v| * M, 2 a turn
    items = list(range(40))
    ctx.remaining = 1000
    assert times(ctx, 100, items, 40, 5) == 20 and ctx.remaining == 1000
    assert times(ctx, 10, items, 40, 5) == 0 and ctx.remaining == 930  # drawn
    assert times(ctx, 10, items, 40, True) is None  # not a NUMBER
    assert times(ctx, 10, items + [None], 41, 5) is None
    assert times(ctx, 100, items, 40, INT_MAX // 39 + 1) is None  # past 64 bits
    assert times(ctx, 100, items, 40, -(INT_MAX // 39)) == 20
    ctx.remaining = 5
    assert times(ctx, 10, items, 40, 5) is None and ctx.remaining == 5
    _, signs = entry_function(2, True, (), 1, (True, (0,)))  # elements and v never negative
    assert signs(ctx, 100, items, 40, 5) == (20, True)
    assert signs(ctx, 100, items, 40, -5) == (20, False)
    assert signs(ctx, 100, [-1] + items[1:], 40, 5) == (20, False)


def test_loop_facts_refuse_a_body_holding_a_loop_at_any_depth_before_walking_it() -> None:
    """A loop inside an if, an else, a try or a catch of the body makes it no innermost
    loop (no facts); a body without one still has its facts."""
    import ast

    from sluicegate.optimizer.loopversions import loop_facts

    def body(src: str) -> list[ast.stmt]:
        loop = ast.parse(src).body[0]
        assert isinstance(loop, ast.For)
        return loop.body

    for inner in ("for b in y: pass", "if a:\n  pass\n else:\n  for b in y: pass",
                  "try:\n  pass\n except E:\n  if a:\n   for b in y: pass",
                  "try:\n  for b in y: pass\n finally:\n  pass", "f = lambda: 1"):
        assert loop_facts(body(f"for a in x:\n {inner}")) is None, inner
    assert loop_facts(body("for a in x:\n if a:\n  v_t = v_t + a\n else:\n  pass")) is not None


def test_a_put_or_add_reads_variables_certainly_set_after_its_value_with_the_same_run() -> None:
    """In a loop body, the receiver and key of `M.put(K, V)` / `L.add(V)` are read where
    they are used, after V, when they are certainly set there (set before the loop, or
    assigned earlier in the body); else first, as the helper reads them. Either way the
    run is the one without loop versions: same result, logs, error and position."""
    put = ("m = Map();\nfor each i in items\n{\n    k = \"k\" + i;\n    m.put(k, 10 / i);\n"
           "    info m.size();\n}\nreturn m;")
    add = "out = List();\nfor each r in rows\n{\n    out.add(r.get(\"x\") * 2);\n}\nreturn out;"
    unset = "m = Map();\nfor each i in items\n{\n    m.put(k, 10 / i);\n}\nreturn m;"
    for text, inputs in ((put, {"items": [1, 2, 0, 3]}), (put, {"items": [5, "a"]}),
                         (add, {"rows": [{"x": 1}, {"x": "t"}]}), (add, {"rows": [{"x": 4}]}),
                         (unset, {"items": [0, 1]}), (unset, {"items": [2], "k": "key"})):
        for budget in (1000, 4):
            _same_without_versions(text, inputs, max_statements=budget)
    code = generated_source(put)
    assert "v_m[v_k] = " in code and "dg_len(v_m) < " in code  # no pinned copies
    assert "v_m[v_k]" not in generated_source(unset)  # k may be unset: read first


def test_a_variable_just_assigned_a_text_skips_its_text_tests_until_assigned_again() -> None:
    """`key = "k" + i;` makes key a TEXT for the statements of the body after it, until
    one assigns key (at any depth): get and put skip the key's TEXT test there, and every
    run equals the run without type inference or loop versions."""
    plain = ("m = Map();\nfor each i in items\n{\n    key = \"k\" + i;\n    m.put(key, i);\n"
             "    info m.get(key);\n}\nreturn m;")
    code = generated_source(plain)
    assert "v_m.get(v_key)" in code and "dg_type(v_key)" not in code
    again = [plain.replace("    m.put", "    if (i > 2) { key = i; }\n    m.put"),
             plain.replace("    m.put", "    for each j in items { key = j; }\n    m.put"),
             plain.replace("    info m.get(key);", "    key = i;\n    info m.get(key);")]
    for text in again:
        assert "v_m.get(v_key) if dg_type(v_key) is dg_str" in generated_source(text), text
    for text in [plain, *again]:
        for items in ([1, 2, 3, 4], [1, "x", None]):
            out = _run(text, {"items": items})
            for off in ({"type_inference"}, {"loop_versioning"}):
                other = _run(text, {"items": items}, frozenset(off))
                for key in ("status", "return", "logs", "error"):
                    assert out[key] == other[key], (key, text, items, off)
