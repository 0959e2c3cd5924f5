"""The sandbox: scripts reach nothing but the stdlib tables, and limits stop runaway
scripts on the right line without any catch being able to swallow them."""

from __future__ import annotations

import time

import pytest

from sluicegate.engine import Runtime
from sluicegate.limits import Limits


def failure(result):  # type: ignore[no-untyped-def]
    assert result.status == "failure", result.to_json()
    return result.error


@pytest.mark.parametrize("source, message", [
    ('x = "a"; y = x.__class__();', "Unknown function '__class__' for TEXT"),
    ('m = Map(); g = m.__globals__;', None),
    ('x = {1}; y = x.mro();', "Unknown function 'mro' for LIST"),
    ('x = "{0.__class__}".format(1);', "Unknown function 'format' for TEXT"),
    ('x = eval("1");', "Unknown function 'eval'"),
    ('x = exec("1");', "Unknown function 'exec'"),
    ('x = getattr("a", "upper");', "Unknown function 'getattr'"),
    ('x = __import__("os");', "Unknown function '__import__'"),
    ('x = open("/etc/passwd");', "Unknown function 'open'"),
    ('x = globals();', "Unknown function 'globals'"),
    ('x = type(1);', "Unknown function 'type'"),
    ('x = dg_ctx;', "Variable 'dg_ctx' is not defined"),
    ('x = dg_info;', "Variable 'dg_info' is not defined"),
    ('x = __builtins__;', "Variable '__builtins__' is not defined"),
])
def test_scripts_cannot_reach_python(run, source: str, message: str | None) -> None:  # type: ignore[no-untyped-def]
    result = run(source)
    if message is None:
        assert result.status == "success"  # a map key named __globals__ is just a key
        return
    assert message in failure(result).message


def test_import_statement_is_a_syntax_error(run) -> None:  # type: ignore[no-untyped-def]
    assert failure(run("import os;")).type == "SyntaxError"


def test_statement_limit_stops_a_runaway_loop_on_its_line(run) -> None:  # type: ignore[no-untyped-def]
    src = "l = {1,2,3,4,5,6,7,8,9,10};\ninfo 1;\nfor each a in l { for each b in l {\n x = a; } }"
    err = failure(run(src, limits=Limits(max_statements=40)))
    assert err.type == "LimitExceeded" and err.line in (3, 4)
    assert "Statement limit of 40 exceeded" in err.message


def test_limits_are_not_catchable(run) -> None:  # type: ignore[no-untyped-def]
    src = "try { for each a in {1,2,3} { for each b in {1,2,3} { x = 1; } } } catch (e) { info 1; }"
    result = run(src, limits=Limits(max_statements=5))
    assert failure(result).type == "LimitExceeded" and result.logs == []


def test_wall_clock_limit_ends_a_long_run(run) -> None:  # type: ignore[no-untyped-def]
    src = ("l = List(); for each i in {1,2,3,4,5,6,7,8,9,10} { l.add(i); }\n"
           "for each a in l { for each b in l { for each c in l { for each d in l {\n"
           "for each e in l { for each f in l { for each g in l { x = 1; } } } } } } }")
    start = time.monotonic()
    err = failure(run(src, limits=Limits(timeout=0.3, max_statements=10**9)))
    assert err.type == "LimitExceeded" and "Time limit" in err.message
    assert time.monotonic() - start < 2


def test_statement_count_is_reported(run) -> None:  # type: ignore[no-untyped-def]
    result = run("x = 1;\nfor each i in {1, 2} { x = x + i; }\ninfo x;")
    assert result.stats["statements"] == 1 + 2 * 2 + 1


def test_nested_call_limit_is_reported_at_the_call(run) -> None:  # type: ignore[no-untyped-def]
    src = "int a.f(Int n)\n{\n    return a.f(n + 1);\n}"
    err = failure(run(src, {"n": 1}))
    assert err.type == "LimitExceeded" and err.line == 3


def test_depth_limit_is_configurable(run) -> None:  # type: ignore[no-untyped-def]
    src = "int a.f(Int n)\n{\n if (n >= 10) { return n; }\n return a.f(n + 1);\n}"
    assert run(src, {"n": 1}).value == 10
    assert failure(run(src, {"n": 1}, limits=Limits(max_call_depth=5))).type == "LimitExceeded"


def test_info_output_is_capped_with_one_note_and_the_run_goes_on(run) -> None:  # type: ignore[no-untyped-def]
    src = "for each i in {1,2,3,4,5,6,7,8,9,10} { info \"0123456789\"; }\nreturn 1;"
    result = run(src, limits=Limits(max_info_bytes=35))
    assert result.status == "success" and result.value == 1
    assert result.logs[:3] == ["0123456789"] * 3
    assert result.logs[-1].startswith("[info output truncated")
    assert len(result.logs) == 5


def test_runtime_error_positions_point_at_the_operator(run) -> None:  # type: ignore[no-untyped-def]
    err = failure(run("x = 1;\ny = \"a\" * x;"))
    assert (err.line, err.column) == (2, 9)


def test_compiled_code_is_cached_by_source() -> None:
    rt = Runtime()
    assert rt.compile("info 1;") is rt.compile("info 1;")
    assert rt.compile("info 1;") is not rt.compile("info 2;")


def test_runs_share_no_state(run) -> None:  # type: ignore[no-untyped-def]
    src = "l = List(); l.add(1); return l.size();"
    assert run(src).value == 1 and run(src).value == 1


def test_slow_statements_are_stopped_close_to_the_time_limit() -> None:
    """Each statement hashes a 4 MB text: the step allowance shrinks so that the clock is
    read often, and the run ends soon after its limit, not a whole batch later."""
    src = """
x = "0123456789abcdef";
for each i in {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18}
{
    x = x + x;
}
l = {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30};
for each a in l
{
    for each b in l
    {
        h = zoho.encryption.sha256(x);
    }
}
"""
    started = time.monotonic()
    result = Runtime().run(src, {}, limits=Limits(timeout=0.5))
    elapsed = time.monotonic() - started
    assert result.error is not None and result.error.type == "LimitExceeded"
    assert "Time limit" in result.error.message
    assert elapsed < 1.5


def test_a_script_over_the_size_limit_is_refused_before_parsing() -> None:
    src = "x = 1;\n" * 400_000  # 2.8 MB
    started = time.monotonic()
    result = Runtime().run(src, {})
    assert result.error is not None and result.error.type == "LimitExceeded"
    assert result.error.message.startswith("Script size limit of 2097152 bytes exceeded")
    assert time.monotonic() - started < 1.0
    small = Runtime().run("x = 1;\n" * 10, {}, limits=Limits(max_source_bytes=20))
    assert small.error is not None and "Script size limit of 20 bytes" in small.error.message


def test_text_built_line_by_line_takes_linear_time() -> None:
    """`s = s + line + "\\n"` appends in place: 30,000 lines of 100 characters (3 MB)
    copied the whole text at every line before (minutes); now it is one pass."""
    src = ('s = "";\nfor each line in lines\n{\n    s = s + line.trim() + "\\n";\n}\n'
           'return s.length();')
    lines = ["0123456789" * 10 + "  "] * 30_000
    started = time.process_time()
    result = Runtime().run(src, {"lines": lines})
    assert result.ok and result.value == 101 * 30_000
    assert time.process_time() - started < 2.0


def test_text_appended_in_place_still_stops_at_the_text_limit_where_the_operator_is() -> None:
    src = 's = "x";\nfor each i in {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18}\n{\n' \
          '    s = s + "a" + s;\n}\nreturn s.length();'
    result = Runtime().run(src, {}, limits=Limits(max_text=100_000))
    assert result.error is not None and result.error.type == "LimitExceeded"
    assert result.error.message == "Text size limit of 100000 characters exceeded"
    assert (result.error.line, result.error.column) == (4, 17)  # the second `+`
    assert result.stats["statements"] == 34


def test_inputs_parsed_for_the_run_are_used_in_place_and_others_are_copied() -> None:
    """Inputs parsed from JSON for one run (the CLI, an isolated child) become Deluge
    values without a second copy; inputs a caller keeps are copied, as before."""
    import json
    from decimal import Decimal

    src = 'l.add(4); r.put("seen", true); return l.size() + r.get("n");'
    text = '{"l": [1, 2, 3], "r": {"n": 10, "x": 1.5}}'
    kept = json.loads(text, parse_float=Decimal)
    assert Runtime().run(src, kept).value == 14
    assert kept == json.loads(text, parse_float=Decimal)  # the caller's copy is untouched
    owned = json.loads(text, parse_float=Decimal)
    result = Runtime().run(src, owned, inputs_owned=True)
    assert result.value == 14
    assert owned["l"] == [1, 2, 3, 4] and owned["r"]["seen"] is True  # no copy was made
    bad = Runtime().run(src, {"l": [2**63], "r": {}}, inputs_owned=True)
    assert bad.error is not None and bad.error.message == "Inputs: Number out of range"


@pytest.mark.parametrize("src, message, column", [
    ("a = 0.get(0);", "Unknown function 'get' for NUMBER", 7),
    ("a = null.get(0);", "Cannot call 'get' on a null value", 10),
])
def test_get_on_a_literal_receiver_is_a_run_time_error(src: str, message: str,
                                                       column: int) -> None:
    """`0.get(0)` compiles (no `0[0]` in the fast path, which CPython warns about) and fails
    when run, at the method, as the helper says."""
    error = Runtime().run(src, {}).error
    assert error is not None
    assert (error.message, error.line, error.column) == (message, 1, column)
