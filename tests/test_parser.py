"""Syntax: what the grammar accepts from real scripts, and every class of syntax error
reported in words at the exact line and column."""

from __future__ import annotations

import pytest

from sluicegate.checker import check_source
from sluicegate.errors import ScriptSyntaxError
from sluicegate.translator import translate


def error_of(source: str | bytes) -> ScriptSyntaxError:
    with pytest.raises(ScriptSyntaxError) as info:
        translate(source, "t.dg")
    return info.value


@pytest.mark.parametrize("source", [
    "\ufeffinfo 1;",
    "IF (true) { INFO 1; } ELSE { Info 2; }",
    "x = 1;\r\ny = 2;\r\n",
    "if(x = 1 && y = 2) { }",
    "for each  item in {1,2} { break; continue; }",
    "for each index i in {1,2} { info i; }",
    "m = {\"a\": {1, 2}, \"b\": {\"c\": null}};",
    "l = List:String(); k = list:int(); c = Collection(); c.insert(\"a\": 1);",
    "x = if(a > 1, \"y\", \"n\");",
    "r = invokeurl\n[\n  url: \"https://x\" // comment\n  type :POST\n  content-type: \"a\"\n"
    "  /* c */ connection: \"zb\"\n];",
    "invokeurl [ url: u type: GET ];",
    "sendmail [ from: zoho.adminuserid to: \"a@x.com\", b subject: \"s\" message: m "
    "reply to: r content type: \"text/html\" ]",
    "string standalone.fn(String a, Int b) { return a; }\nvoid automation.x() { return; }",
    "map button.y(Map m, list<string> l) { return m; }",
    "x = zoho.crm.getRecordById(\"Leads\", id);",
    "info = Map(); info.put(\"k\", 1); info info;",
    "index = 1; each = 2; info index + each;",
    "rows = Orders[ID == 5] sort by Added_Time desc range from 0 to 0;",
    "insert into Orders [ Name = \"a\" Amount = 1 ];",
    "hide Field; alert \"hello\"; cancel submit;",
    "x = -1.abs(); y = 1.5; z = -9223372036854775808;",
    "a.b.c = 1; input.Field = \"x\";",
    "x += 1; x -= 1; x *= 2; x /= 2; x %= 2;",
    "try\n{\n}\ncatch (e)\n{\n}",
    "x = getUrl(\"https://x\"); y = invokeUrl(\"https://x\", \"GET\");",
    ";;",
])
def test_real_world_forms_parse(source: str) -> None:
    translate(source, "t.dg")


def test_missing_semicolon_is_reported_at_end_of_previous_token() -> None:
    err = error_of("a = 1\nb = 2;")
    assert (err.line, err.column) == (1, 6)
    assert "Missing ';'" in err.message


def test_missing_semicolon_same_line() -> None:
    err = error_of("a = 1 b = 2;")
    assert err.line == 1 and "';'" in err.message


def test_unclosed_if_parenthesis() -> None:
    err = error_of("x = 3;\nif (x > 1 {\n}")
    assert err.line == 2
    assert "')'" in err.message


def test_ternary_operator_is_rejected_in_words() -> None:
    err = error_of("b = a > 3 ? 1 : 2;")
    assert (err.line, err.column) == (1, 11)
    assert "if(condition, a, b)" in err.message


def test_while_loop_is_rejected_in_words() -> None:
    err = error_of("n = 0;\nwhile (n < 3) { n = n + 1; }")
    assert err.line == 2 and "while" in err.message


def test_unexpected_end_of_script() -> None:
    err = error_of("if (true) {\n info 1;\n")
    assert "end of the script" in err.message


def test_unterminated_text() -> None:
    err = error_of('x = "abc;\ninfo x;')
    assert err.line == 1 and "quote" in err.message


def test_invalid_utf8_names_position() -> None:
    err = error_of(b"x = 1;\ny = \"\xff\";")
    assert (err.line, err.column) == (2, 6)
    assert "UTF-8" in err.message


def test_nul_character_is_rejected() -> None:
    err = error_of("x = 1;\x00")
    assert err.line == 1 and "NUL" in err.message


def test_unknown_task_parameter_is_named() -> None:
    err = error_of("r = invokeurl [ url: \"x\" tipe: GET ];")
    assert "tipe" in err.message and err.column == 26


def test_reserved_word_cannot_be_assigned() -> None:
    err = error_of("x = 1;\nnull = 2;")
    assert err.line == 2


def test_statements_outside_functions_are_rejected() -> None:
    err = error_of("info 1;\nvoid a.b() { }")
    assert "outside a function" in err.message


def test_expression_statement_must_be_a_call() -> None:
    err = error_of("x = 1;\nx;")
    assert err.line == 2 and "does nothing" in err.message


def test_deeply_nested_expression_is_a_syntax_error() -> None:
    err = error_of("x = " + "-(" * 5000 + "a" + ")" * 5000 + ";")
    assert "nested too deeply" in err.message


def test_check_reports_every_syntax_error_in_one_pass() -> None:
    source = "a = 1\nb = 2;\nc = (3;\nd = 4;\ne = 5 f;\n"
    problems = check_source(source, "t.dg")
    assert [p.line for p in problems] == [1, 3, 5]


def test_check_accepts_other_products_tasks_and_creator_functions() -> None:
    """Real scripts call Cliq, Desk or Creator tasks and `openUrl`; they must check clean
    (SPEC §5: checking a real script never fails on them)."""
    src = ('zoho.cliq.postToChannel("general", {"text": "x"});\n'
           'r = zoho.desk.getRecordById(1, "tickets", 2);\n'
           'm = zoho.mail.sendMail("a", "b");\n'
           'openUrl("https://example.com", "new window");\n'
           'info r + m;\n')
    assert check_source(src, "real.dg") == []


def test_check_reports_unknown_functions() -> None:
    """A near miss of a built-in is an error with the built-in named; another unknown name
    may be a function of the platform or of another script: a warning (exit 0)."""
    problems = check_source("x = fooBar(1);\ny = ifnull(x, 1);\nz = toUpercase(y);\ninfo z;",
                            "t.dg")
    assert [(p.line, p.severity) for p in problems] == [(1, "warning"), (3, "error")]
    assert problems[0].message.startswith("Unknown function 'fooBar': not a built-in")
    assert problems[1].message == ("Unknown function 'toUpercase' (did you mean "
                                   "'toUpperCase'?)")


def test_check_command_exits_0_on_warnings_and_1_on_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import subprocess
    import sys

    warn = tmp_path / "warn.dg"
    warn.write_text("x = g_GetConfig();\n", encoding="utf-8")
    typo = tmp_path / "typo.dg"
    typo.write_text('info toUpercase("a");\n', encoding="utf-8")
    cmd = [sys.executable, "-m", "sluicegate.cli", "check"]
    done = subprocess.run([*cmd, str(warn)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and ": warning: Unknown function 'g_GetConfig'" in done.stdout
    done = subprocess.run([*cmd, "--json", str(warn), str(typo)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert [r["ok"] for r in report] == [True, False]
    assert report[1]["problems"][0]["severity"] == "error"


def test_only_a_task_block_may_end_a_statement_without_its_semicolon() -> None:
    ok = check_source('invokeurl [ url: "https://a.example" type: GET ]\ninfo 1;\n', "t.dg")
    assert ok == []
    missing = check_source('x = 1\ny = 2;\n', "t.dg")
    assert [(p.line, p.column, p.message) for p in missing] == [
        (1, 6, "Missing ';' after '1' (found 'y')")]
    inside = check_source('r = invokeurl [ url: "https://a.example" type: GET ] + 1 2;\n',
                          "t.dg")
    assert inside and inside[0].message == "Missing ';' after '1' (found '2')"


def test_else_without_if_is_one_error_at_the_else() -> None:
    problems = check_source("x = 1;\nelse\n{\n}\n", "t.dg")
    assert [(p.line, p.column) for p in problems] == [(2, 1)]
    assert problems[0].message.startswith("'else' without 'if'")


def test_errors_after_an_orphan_else_block_are_still_found_in_line_order() -> None:
    source = "if (true)\n{\n  info 1;\n}\ninfo 2;\nelse\n{\n  info 3;\n}\ny = 1 z;\n"
    problems = check_source(source, "t.dg")
    assert [p.line for p in problems] == [6, 10]


def test_a_missing_closing_brace_is_one_error_naming_the_open_brace() -> None:
    source = "if (true)\n{\n  x = 1;\n  if (x > 0)\n  {\n    y = 2;\n  }\ninfo x;\n"
    problems = check_source(source, "t.dg")
    assert [(p.line, p.column) for p in problems] == [(2, 1)]
    assert "the '{' at line 2 is never closed" in problems[0].message


def test_the_indentation_says_which_brace_lost_its_close() -> None:
    source = "if (true)\n{\n  if (x > 0)\n  {\n    y = 2;\n\n  info x;\n}\nz = 1;\n"
    problems = check_source(source, "t.dg")
    assert [(p.line, p.column) for p in problems] == [(4, 3)]
    assert "the '{' at line 4 is never closed" in problems[0].message
