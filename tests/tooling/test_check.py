"""The deeper `check` (issue 13, point 3): inferred types, argument counts, unknown tasks,
reads before assignment, unused variables, unreachable code, unknown connections, and
the messages a new user found wrong; `check DIR`; no false alarm on real scripts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sluicegate.engine import Runtime
from sluicegate.tooling import diagnose

ROOT = Path(__file__).resolve().parents[2]
# The installed command (as users run it; `python -m` would load the CLI twice).
SLUICE = str(Path(sys.executable).parent / "sluice")


def _found(source: str, registry=None) -> list[tuple[int, int, str, str]]:  # type: ignore[no-untyped-def]
    return [(d.line, d.column, d.severity, d.message)
            for d in diagnose(source, "t.dg", registry)]


def _errors(source: str) -> list[str]:
    return [d.message for d in diagnose(source, "t.dg") if d.severity == "error"]


# ---- the messages found wrong ------------------------------------------------------------
@pytest.mark.parametrize(("call", "message"), [
    ("daysBetween('01-Jan-2026')", "Function 'daysBetween' expects 2 arguments but got 1"),
    ("daysBetween()", "Function 'daysBetween' expects 2 arguments but got 0"),
    ("abs(1, 2)", "Function 'abs' expects 1 argument but got 2"),
])
def test_argument_counts_are_counted_and_named_right(call: str, message: str) -> None:
    source = f"info {call};\n"
    assert _errors(source) == [message]
    result = Runtime().run(source)
    assert result.status == "failure" and result.error is not None
    assert result.error.message == message


def test_a_missing_user_function_keeps_the_authors_spelling() -> None:
    result = Runtime().run("info standalone.myHelper();\n")
    assert result.error is not None
    assert result.error.message == "Unknown function 'standalone.myHelper'"


def test_else_without_if_and_an_unclosed_brace() -> None:
    assert _found("x = 1;\nelse\n{\n}\n") == [
        (2, 1, "error", "'else' without 'if': an else must follow the '}' that closes an if "
                        "block")]
    found = _found("if (true)\n{\n  x = 1;\n  if (x > 0)\n  {\n    y = 2;\n  }\ninfo x;\n")
    assert [(line, col) for line, col, *_ in found] == [(2, 1)]
    assert "the '{' at line 2 is never closed" in found[0][3]


# ---- types through assignments and built-in return types ---------------------------------
def test_unknown_method_of_a_receiver_of_known_type() -> None:
    (diag,) = [d for d in diagnose('info "a".toUpperCasee();\n', "t.dg")]
    assert (diag.line, diag.column, diag.severity) == (1, 10, "error")
    assert diag.message == "Unknown function 'toUpperCasee' for TEXT (did you mean 'toUpperCase'?)"
    assert diag.fix is not None and diag.fix.text == "toUpperCase"


def test_types_flow_through_assignments_and_return_types() -> None:
    source = ('name = "  Ada ";\nclean = name.trim();\nparts = clean.toList(",");\n'
              'n = parts.size();\ninfo n.sizee();\ninfo parts.trimm();\n'
              "d = '01-Jan-2026'.addDay(1);\ninfo d.getYearr();\n")
    assert _errors(source) == [
        "Unknown function 'sizee' for NUMBER",
        "Unknown function 'trimm' for LIST",
        "Unknown function 'getYearr' for DATETIME (did you mean 'getYear'?)",
    ]


def test_now_and_today_are_datetimes_unless_assigned() -> None:
    assert _errors("info today.addDayy(1);\ninfo now.getYear();\n") == [
        "Unknown function 'addDayy' for DATETIME (did you mean 'addDay'?)"]
    assert _errors('today = "x";\ninfo today.trim();\n') == []


def test_a_variable_of_mixed_or_unknown_type_is_not_judged() -> None:
    source = ('x = "a";\nif (input.flag)\n{\n  x = Map();\n}\ninfo x.put("k", 1);\n'
              'r = invokeurl [ url: "https://a.example" type: GET ];\ninfo r.get("k");\n')
    assert _errors(source) == []


def test_method_and_task_argument_counts() -> None:
    source = ('info "abc".subString();\ninfo zoho.crm.getRecords();\n'
              'info zoho.crm.getRecordById("Leads", 1);\n')
    assert _errors(source) == [
        "Function 'subString' expects 1 to 2 arguments but got 0",
        "Task 'zoho.crm.getRecords' expects 1 to 5 arguments (module, page, per_page, "
        "query, connection) but got 0",
    ]


def test_encryption_tasks_are_checked_with_the_arity_the_runtime_runs_them_with(
        tmp_path: Path) -> None:
    """`zoho.encryption.*` come from `integrations.signatures()`, which reads the rows the
    runtime dispatches them with: `sluice check` and a run count the same."""
    from sluicegate.integrations import signatures
    from sluicegate.stdlib.encoding import ENCRYPTION_TASKS

    sigs = signatures()
    for row in ENCRYPTION_TASKS.values():
        sig = sigs["zoho.encryption." + row.name]
        assert (sig.min_args, sig.max_args, sig.service) == (row.min_args, row.max_args,
                                                             "encryption")
    assert [p.name for p in sigs["zoho.encryption.hmacsha256"].params] == ["key", "data",
                                                                           "output"]
    script = tmp_path / "sign.dg"
    script.write_text('sig = zoho.encryption.hmacsha256("secret");\ninfo sig;\n'
                      'info zoho.encryption.base64Encode("a", "UTF-8");\n', encoding="utf-8")
    done = subprocess.run([SLUICE, "check", str(script)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("sign.dg:1:23: error: Task 'zoho.encryption.hmacsha256' expects 2 to 3 "
            "arguments (key, data, output) but got 1") in done.stdout
    assert "sign.dg:3:" not in done.stdout  # base64Encode(data, charset): two are fine
    ran = Runtime().run('return zoho.encryption.hmacsha256("secret");')
    assert ran.error is not None and ran.error.message == (
        "Function 'zoho.encryption.hmacsha256' expects 2 to 3 arguments but got 1")


def test_unknown_zoho_tasks() -> None:
    found = _found('info zoho.crm.getRecordz("Leads");\ninfo zoho.cliq.postToChannel("a", "b");\n')
    # a near miss of a known task is a typo: an error, with the fix
    assert found == [(1, 15, "error", "Unknown task 'zoho.crm.getRecordz': not one of the "
                      "zoho.crm tasks this runtime runs (did you mean 'zoho.crm.getRecords'?)")]


def test_user_functions_of_the_file_are_resolved_and_counted() -> None:
    source = ("string standalone.greet(string who)\n{\n  return \"hi \" + who;\n}\n"
              "void standalone.main()\n{\n  g = standalone.greet(\"a\");\n  info g.trim();\n"
              "  info greet(\"a\", \"b\");\n  info g.trimm();\n}\n")
    assert _errors(source) == ["Function 'greet' takes 1 argument but got 2",
                               "Unknown function 'trimm' for TEXT (did you mean 'trim'?)"]


# ---- flow: reads before assignment, unused, unreachable ----------------------------------
def test_a_read_before_any_assignment_on_some_path_is_a_warning() -> None:
    source = 'if (invoice.total > 1)\n{\n  fee = 5;\n}\ninfo fee;\n'
    assert _found(source) == [(5, 6, "warning", "Variable 'fee' may be read before it is "
                                                "assigned")]
    both = 'if (invoice.total > 1)\n{\n  fee = 5;\n}\nelse\n{\n  fee = 0;\n}\ninfo fee;\n'
    assert _found(both) == []


def test_inputs_and_loop_carried_values_are_not_flagged() -> None:
    source = ('total = invoice.get("total");\nprev = null;\nfor each r in {1, 2}\n{\n'
              '  if (prev != null)\n  {\n    info prev;\n  }\n  prev = r;\n}\ninfo total;\n'
              'try\n{\n  z = 1 / 0;\n}\ncatch (e)\n{\n  z = e;\n}\ninfo z;\n')
    assert _found(source) == []


def test_unused_variables_and_unreachable_code_are_warnings() -> None:
    source = ("x = 1;\ny = 2;\ninfo y;\nfor each i in {1, 2}\n{\n  break;\n  info i;\n}\n"
              "return 1;\ninfo 2;\n")
    assert _found(source) == [
        (1, 1, "warning", "Variable 'x' is assigned but never used"),
        (7, 3, "warning", "Unreachable code: it follows a 'break'"),
        (10, 1, "warning", "Unreachable code: it follows a 'return'"),
    ]


def test_code_after_an_if_whose_every_branch_returns_is_unreachable() -> None:
    source = "if (a)\n{\n  return 1;\n}\nelse\n{\n  throw \"no\";\n}\ninfo 3;\n"
    assert _found(source) == [
        (9, 1, "warning", "Unreachable code: every branch of the statement before it ends")]


# ---- connections -------------------------------------------------------------------------
def test_connection_names_are_checked_against_a_registry_when_one_is_given() -> None:
    source = ('r = invokeurl [ url: "https://a.example" type: GET connection: "zbooks" ];\n'
              'info r;\n')
    assert _found(source) == []
    assert _found(source, registry=["zbook", "crm"]) == [
        (1, 64, "warning", "Connection 'zbooks' is not in the registry (did you mean "
                           "'zbook'?)")]
    assert _found(source, registry=["zbooks"]) == []


def test_check_command_reads_the_configured_registry(tmp_path: Path) -> None:
    from sluicegate.store.connections import Connection
    from sluicegate.store.db import make_engine
    from sluicegate.store.migrate import upgrade
    from sqlalchemy import insert

    url = f"sqlite:///{tmp_path / 'reg.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(Connection).values(
            link_name="crm", display_name="crm", service="custom", auth_type="api_key",
            params={}, base_urls=[], status="connected"))
    engine.dispose()
    script = tmp_path / "a.dg"
    script.write_text('r = invokeurl [ url: "https://a.example" connection: "crn" ];\n'
                      'info r;\n', encoding="utf-8")
    env = {"SLUICE_DATABASE_URL": url, "SLUICE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([SLUICE, "check", str(script)],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "warning: Connection 'crn' is not in the registry (did you mean 'crm'?)" in done.stdout
    plain = subprocess.run([SLUICE, "check", str(script)],
                           capture_output=True, text=True, timeout=60,
                           env={"SLUICE_HOME": str(tmp_path / "none"), "PATH": "/usr/bin:/bin"})
    assert plain.returncode == 0 and "Connection" not in plain.stdout


# ---- the command -------------------------------------------------------------------------
def test_check_dir_checks_every_script_under_it(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.dg").write_text("info 1;\n", encoding="utf-8")
    (tmp_path / "sub" / "b.dg").write_text('info "a".trimm();\n', encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a script", encoding="utf-8")
    done = subprocess.run([SLUICE, "check", "--json",
                           str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert [Path(r["file"]).name for r in report] == ["a.dg", "b.dg"]
    assert [r["ok"] for r in report] == [True, False]
    problem = report[1]["problems"][0]
    assert problem["severity"] == "error" and problem["fix"] == "trim"
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run([SLUICE, "check", str(empty)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no .dg scripts" in done.stderr


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    script = tmp_path / "w.dg"
    script.write_text("x = 1;\nreturn 2;\ninfo 3;\n", encoding="utf-8")
    done = subprocess.run([SLUICE, "check", str(script)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "w.dg:1:1: warning: Variable 'x' is assigned but never used" in done.stdout


# ---- no false alarm on real scripts ------------------------------------------------------
def _conformance_cases() -> Path | None:
    for parent in ROOT.parents:
        cases = parent / "shared" / "conformance" / "cases"
        if cases.is_dir():
            return cases
    return None


def _scripts_meant_to_run() -> list[Path]:
    """Examples, golden scripts that expect no error, conformance cases that succeed."""
    found = sorted((ROOT / "examples").glob("*.dg"))
    for path in sorted((ROOT / "tests" / "scripts").rglob("*.dg")):
        if not re.search(r"//\s*expect error:", path.read_text(encoding="utf-8")):
            found.append(path)
    cases = _conformance_cases()
    for path in sorted(cases.glob("*.dg")) if cases else ():
        expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if expected.get("status") == "success":
            found.append(path)
    return found


def test_real_scripts_that_run_check_without_errors() -> None:
    scripts = _scripts_meant_to_run()
    # the repository's own scripts, and the shared conformance cases where they are beside it
    assert len(scripts) > (60 if _conformance_cases() else 30)
    errors = [d.diagnostic(None) for path in scripts
              for d in diagnose(path.read_bytes(), str(path)) if d.severity == "error"]
    assert errors == []


def test_every_script_of_the_repository_is_analyzed_without_internal_error() -> None:
    """Analysis and every editor feature, at places all over every script we have."""
    from sluicegate.tooling import analyze
    from sluicegate.tooling.features import (
        complete,
        definition,
        hover,
        references,
        signature_help,
        symbols,
    )

    paths = sorted((ROOT / "tests").rglob("*.dg"))
    cases = _conformance_cases()
    paths += sorted(cases.glob("*.dg")) if cases else []
    analyzed = 0
    for path in paths:
        data = path.read_bytes()
        if len(data) > 20000:
            continue  # the hostile size scripts: their own suite covers them
        doc = analyze(data, str(path))
        for d in doc.diagnostics:
            assert d.message and "Traceback" not in d.message
        if doc.tree is None:
            continue
        analyzed += 1
        symbols(doc)
        for number, line in enumerate(doc.source.split("\n")[:80], start=1):
            if number % 3:
                continue
            for column in {len(line) // 2 + 1, len(line) + 1}:
                complete(doc, doc.source, number, column)
                signature_help(doc, doc.source, number, column)
                hover(doc, number, column)
                definition(doc, number, column)
                references(doc, number, column)
    assert analyzed > 200


def test_translating_the_tooling_tree_equals_translating_the_text() -> None:
    """`analyze` parses once and translates that tree: same Python as `translate`."""
    import ast

    from sluicegate.errors import ScriptSyntaxError
    from sluicegate.parser import normalize_source, parse_tree
    from sluicegate.translator import translate, translate_tree

    compared = 0
    for path in sorted((ROOT / "tests" / "scripts").rglob("*.dg")):
        text = normalize_source(path.read_bytes())
        try:
            expected = ast.dump(translate(text, "t.dg").module)
        except ScriptSyntaxError as err:
            with pytest.raises(ScriptSyntaxError) as again:
                tree, _c, parsed, _t = parse_tree(text, "t.dg")
                translate_tree(tree, parsed, "t.dg")
            assert (again.value.message, again.value.line) == (err.message, err.line)
            continue
        tree, _c, parsed, _t = parse_tree(text, "t.dg")
        assert ast.dump(translate_tree(tree, parsed, "t.dg").module) == expected, path
        compared += 1
    assert compared > 50
