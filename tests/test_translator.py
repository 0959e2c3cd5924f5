"""The translator: positions on every node, no Python attribute or item access on script
values, and names that cannot reach Python."""

from __future__ import annotations

import ast

from sluicegate.sandbox import generated_source
from sluicegate.translator import HELPERS, check_positions, translate

REALISTIC = '''
string standalone.sync(String invoiceId, Int retries)
{
    resp = Map();
    try
    {
        data = {"id": invoiceId, "n": retries, "items": {1, 2.5, "x"}};
        for each item in data.get("items")
        {
            if (item == 1 || item == "x" && !false) { info item; } else if (item > 2) { continue; }
        }
        for each index i in {1, 2} { resp.put("k" + i, if(i > 1, i * 2, -i)); }
        input.Field = 1;
        other = standalone.helper(resp);
        r = invokeurl [ url: "https://x.test" type: POST parameters: data connection: "c" ];
        throw "boom";
    }
    catch (e)
    {
        info e.message;
    }
    return resp.toString();
}
map standalone.helper(Map m)
{
    return m;
}
'''


def test_every_emitted_node_has_a_script_position() -> None:
    translation = translate(REALISTIC, "t.dg")
    assert check_positions(translation.module) == []


def test_positions_are_script_lines_and_columns() -> None:
    translation = translate("x = 1;\n  info x / 0;", "t.dg")
    calls = [n for n in ast.walk(translation.module)
             if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "dg_div"]
    assert [(c.lineno, c.col_offset) for c in calls] == [(2, 9)]


def test_translated_tree_has_no_attribute_or_item_access() -> None:
    translation = translate(REALISTIC, "t.dg")
    kinds = {type(n) for n in ast.walk(translation.module)}
    assert ast.Attribute not in kinds
    assert ast.Subscript not in kinds


def test_translated_tree_calls_only_known_helpers_and_script_names() -> None:
    translation = translate(REALISTIC, "t.dg")
    for node in ast.walk(translation.module):
        if isinstance(node, ast.Name):
            assert node.id in HELPERS or node.id.startswith(("v_", "dg_k")) or node.id in (
                "dg_ctx", "dg_e"), node.id


def test_python_keywords_and_dunders_are_plain_variables() -> None:
    source = "class = 1; None = 2; __import__ = 3; info class + None + __import__;"
    code = generated_source(source)
    assert "v_class" in code and "v___import__" in code
    compile(code, "<check>", "exec")


def test_generated_source_compiles_and_mentions_step_budget() -> None:
    code = generated_source(REALISTIC)
    compile(code, "<check>", "exec")
    assert "dg_refill" in code and "dg_bank" in code


def test_the_main_body_is_one_function_with_fast_locals() -> None:
    translation = translate("a = 1; b = a + 1; info b;")
    (fn,) = translation.module.body
    assert isinstance(fn, ast.FunctionDef) and fn.name == "dg_main"


def test_function_wrappers_become_functions_with_their_parameters() -> None:
    translation = translate("int a.b(Int x, String y) { return x; } void a.c() { }")
    assert [(f.name, f.params) for f in translation.functions] == [
        ("a.b", [("Int", "x"), ("String", "y")]), ("a.c", [])]


def test_the_finished_tree_compiles_without_a_location_fix_up() -> None:
    """After the policy pass, the runtime nodes and the fast paths, every node of every
    golden script still has a position, so CPython compiles the tree as it is (the
    whole-tree `fix_missing_locations` is only a fallback) and errors point at the script."""
    import ast as _ast
    from pathlib import Path

    from sluicegate.errors import ScriptSyntaxError
    from sluicegate.sandbox import SCRIPT_FILENAME, _finish

    scripts = sorted((Path(__file__).parent / "scripts").rglob("*.dg"))
    compiled = 0
    for path in scripts:
        try:
            translation = translate(path.read_text(encoding="utf-8"), path.name)
        except ScriptSyntaxError:
            continue
        module, _ = _finish(translation)
        compile(module, SCRIPT_FILENAME, "exec")  # raises if any node lacks a position
        assert not [n for n in _ast.walk(module) if isinstance(n, (_ast.expr, _ast.stmt))
                    and not hasattr(n, "lineno")], path
        compiled += 1
    assert compiled >= 40
