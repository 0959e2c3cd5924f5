"""`sluice check` knows every integration task of the tables (issue 16, point 4): an unknown
task of a covered service is an error with the nearest name, a wrong number of arguments is
an error naming the parameters; other products' tasks stay clean."""

from __future__ import annotations

import subprocess
import sys

from sluicegate.checker import check_source as _check


def check_source(source: str, filename: str):  # type: ignore[no-untyped-def]
    """The task findings (the flow warnings of `check`, such as an unused `r`, aside)."""
    return [p for p in _check(source, filename)
            if p.type not in ("UnusedVariable", "UnassignedVariable")]


def test_unknown_task_of_a_covered_service_names_the_nearest_one() -> None:
    problems = check_source('r = zoho.desk.searchRecord(1, "tickets", {});\n', "t.dg")
    assert [(p.line, p.column, p.severity) for p in problems] == [(1, 15, "error")]
    assert problems[0].message == ("Unknown task 'zoho.desk.searchRecord': not one of the "
                                   "zoho.desk tasks this runtime runs (did you mean "
                                   "'zoho.desk.searchRecords'?)")


def test_other_tasks_of_a_covered_service_are_a_warning() -> None:
    problems = check_source('r = zoho.crm.bulkCreate("Leads", {});\n', "t.dg")
    assert [(p.severity, p.message) for p in problems] == [
        ("warning", "Unknown task 'zoho.crm.bulkCreate': not one of the zoho.crm tasks this "
                    "runtime runs")]


def test_wrong_arity_names_the_parameters() -> None:
    problems = check_source('x = 1;\ny = zoho.desk.getRecordById(1, "tickets");\n', "t.dg")
    assert len(problems) == 1 and problems[0].line == 2
    assert problems[0].message == ("Task 'zoho.desk.getRecordById' expects 3 to 4 arguments "
                                   "(org_id, module, id, connection) but got 2")
    many = check_source('zoho.crm.getOrgVariable("a", "b", "c");', "t.dg")
    assert many[0].message.startswith("Task 'zoho.crm.getOrgVariable' expects 1 to 2 arguments")


def test_known_tasks_and_other_products_check_clean() -> None:
    src = ('a = zoho.desk.searchRecords(1, "contacts", {"email": "x"}, 0, 1, "desk");\n'
           'b = zoho.creator.getRecords("o", "a", "r", "", 1, 200, "c");\n'
           'c = zoho.subscriptions.retrieve("subscriptions", "1", "2");\n'
           'd = zoho.crm.v8.getRecords("Leads");\n'
           'e = zoho.cliq.postToChannel("general", {"text": "x"});\n')
    assert check_source(src, "t.dg") == []


def test_check_command_reports_task_errors_with_exit_1(tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "desk.dg"
    script.write_text('t = zoho.desk.getRecordByID(1, "tickets");\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "sluicegate.cli", "check", "--json",
                           str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Task 'zoho.desk.getRecordByID' expects 3 to 4 arguments" in done.stdout


def test_creator_criteria_the_api_cannot_express_are_a_warning() -> None:
    problems = check_source('x = 1;\nrows = Orders[Qty * 2 > 5];\n', "t.dg")
    assert [(p.line, p.severity, p.type) for p in problems] == [(2, "warning", "Unsupported")]
    assert problems[0].message.startswith("Creator criteria 'Qty * 2 > 5': only Field ==")
    assert check_source('rows = Orders[Status == "Open"] sort by Added_Time desc;', "t.dg") == []
