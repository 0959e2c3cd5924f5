"""`sluice test`: the schema's errors, the runner's expectations, fakes, stubs, the clock,
-k, --update, parallel runs and the exit-code contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from sluicegate.testing.session import Session
from wbhelpers import CRM_SCRIPT, CRM_SPEC, sluice_test, write

ADD = 'return a + b;\n'


def test_passing_cases_exit_0_and_the_last_line_counts_them(tmp_path, capsys):
    write(tmp_path, "add", ADD, """
        [[case]]
        name = "numbers"
        inputs = { a = 1, b = 2 }
        expect.return = 3

        [[case]]
        name = "decimals keep their scale"
        inputs = { a = 1.25, b = 11.25 }
        expect.return = 12.50
        """)
    code, out, _ = sluice_test(capsys, str(tmp_path))
    assert code == 0
    assert out.splitlines()[-1] == "2 passed, 0 failed"


def test_a_decimal_with_another_scale_fails_with_a_readable_diff(tmp_path, capsys):
    path = write(tmp_path, "add", ADD, """
        [[case]]
        name = "scale"
        inputs = { a = 1.25, b = 11.25 }
        expect.return = 12.5
        """)
    code, out, _ = sluice_test(capsys, str(path))
    assert code == 1
    assert f"{path}:4: case 'scale': return value" in out
    assert "expected: 12.5\n      actual: 12.50  (same value, different scale)" in out
    assert out.splitlines()[-1] == "0 passed, 1 failed"


def test_number_and_decimal_are_different_types(tmp_path, capsys):
    write(tmp_path, "add", ADD, """
        [[case]]
        name = "types"
        inputs = { a = 1, b = 2 }
        expect.return = 3.0
        """)
    code, out, _ = sluice_test(capsys, str(tmp_path))
    assert code == 1
    assert "(DECIMAL expected, NUMBER found)" in out


@pytest.mark.parametrize("spec, line, message", [
    ('[[case]]\nname = "a"\n\n[case.expect]\nretrun = 3\n', 5,
     "unknown key 'retrun' in case[0].expect (did you mean 'return'?)"),
    ('[[case]]\nname = "a"\ninputs = 3\n', 3, "case[0].inputs must be a table, not an integer"),
    ('[[case]]\nname = "a"\nexpect.logs = "x"\n', 3,
     "case[0].expect.logs must be an array, not a string"),
    ('[[case]]\nname = "a"\n\n[[case]]\nname = "b"\nexpect = { error = { line = "4" } }\n', 6,
     "case[1].expect.error.line must be an integer, not a string"),
    ('[[case]]\nname = "a"\nexpect.return = \n', 3, "not valid TOML"),
    ('[[case]]\nexpect.return = 1\n', 1, "case[0] needs 'name'"),
    ('trigger = "webhook"\n[[case]]\nname = "a"\n', 1,
     "trigger must be one of function, button, schedule, not 'webhook'"),
    ('[[case]]\nname = "a"\n[[case]]\nname = "a"\n', 4,
     "a case named 'a' is already defined on line 1"),
    ('[[case]]\nname = "a"\ninputs = { when = 2026-01-01 }\n', 3, "write dates as text"),
    ('[[case]]\nname = "a"\nrecord = { id = 1 }\n', 1, "a case with a record needs 'module'"),
    ('timezone = "Mars/Olympus"\n[[case]]\nname = "a"\n', 1, "unknown time zone 'Mars/Olympus'"),
    ('[[case]]\nname = "a"\n[[case.http]]\nmethod = "GET"\nurl = "https://x.test"\n'
     'status = "200"\n', 6,
     "case[0].http[0].status must be an integer, not a string"),
    ('[[case]]\nname = "a"\nexpect.return = 1e999999\n', 3, "is not a number a script can hold"),
    ('[[crm.Leads]]\nid = 1\n[[case]]\nname = "a"\nexpect.created = [ { id = 1 } ]\n', 5,
     "case[0].expect.created[0] needs 'module'"),
    ('[[case]]\nname = "a"\nexpect.return_at = { "data[" = 1 }\n', 3,
     "'data[' is not a path such as data[0].id"),
    ('[[case]]\nname = " "\n', 2, "a case needs a name that is not empty"),
    ('[[case]]\nname = "a"\n[case.expect.records]\nLeads = []\n', 4,
     "'Leads' must name a fake service and module such as \"crm.Leads\""),
])
def test_a_bad_test_file_is_a_clear_error_naming_file_and_line(tmp_path, capsys, spec, line,
                                                                message):
    path = write(tmp_path, "add", ADD, spec)
    code, out, err = sluice_test(capsys, str(path))
    assert code == 2
    assert err.startswith(f"{path}:{line}: error: ")
    assert message in err
    assert "Traceback" not in err + out


def test_a_missing_script_and_a_missing_path_exit_2(tmp_path, capsys):
    (tmp_path / "lonely.test.toml").write_text('[[case]]\nname = "a"\n')
    code, _, err = sluice_test(capsys, str(tmp_path))
    assert code == 2 and "lonely.dg does not exist" in err
    code, _, err = sluice_test(capsys, str(tmp_path / "nope"))
    assert code == 2 and "no such file or folder" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = sluice_test(capsys, str(empty))
    assert code == 2 and "no test files" in err


def test_fake_crm_and_books_records_stubs_and_the_calls_made(tmp_path, capsys):
    write(tmp_path, "crm_followup", CRM_SCRIPT, CRM_SPEC)
    code, out, _ = sluice_test(capsys, str(tmp_path))
    assert out.splitlines()[-1] == "2 passed, 0 failed", out
    assert code == 0


def test_the_fake_records_after_the_run(tmp_path, capsys):
    records = (
        '[case.expect.records]\n'
        '"crm.Leads" = [ { id = "111", Lead_Status = "Contacted" }, { id = "222" } ]\n'
        '"crm.Tasks" = [ { Subject = "Call Ng", What_Id = "111" } ]\n\n')
    spec = CRM_SPEC.replace('[[case]]\nname = "missing lead"',
                            records + '[[case]]\nname = "missing lead"')
    write(tmp_path, "crm_followup", CRM_SCRIPT, spec)
    code, out, _ = sluice_test(capsys, str(tmp_path))
    assert (code, out.splitlines()[-1]) == (0, "2 passed, 0 failed"), out
    (tmp_path / "crm_followup.test.toml").write_text(
        spec.replace('{ id = "222" }', '{ id = "222", Lead_Status = "Contacted" }'))
    code, out, _ = sluice_test(capsys, str(tmp_path))
    assert code == 1
    assert "records crm.Leads[1] (Lead_Status)" in out
    assert '+  "Lead_Status": null' in out


def test_wrong_record_expectations_fail_naming_the_field(tmp_path, capsys):
    spec = CRM_SPEC.replace('Lead_Status = "Contacted"', 'Lead_Status = "Qualified"')
    spec = spec.replace('expect.created = []', 'expect.created = [ { module = "crm.Tasks" } ]')
    write(tmp_path, "crm_followup", CRM_SCRIPT, spec)
    code, out, _ = sluice_test(capsys, str(tmp_path))
    assert code == 1
    assert "updated[0].fields (Lead_Status)" in out
    assert '-  "Lead_Status": "Qualified"' in out and '+  "Lead_Status": "Contacted"' in out
    assert "case 'missing lead': expected 1 record(s) created, got 0" in out


def test_an_unmatched_request_fails_the_case_even_when_the_script_catches_it(tmp_path, capsys):
    write(tmp_path, "net", """
        try
        {
            invokeurl [ url: "https://api.example.com/v1/items" type: GET ];
        }
        catch (e)
        {
            info "caught";
        }
        return 1;
        """, """
        [[case]]
        name = "no stub"
        expect.return = 1
        """)
    code, out, _ = sluice_test(capsys, str(tmp_path))
    assert code == 1
    assert "unmatched request GET https://api.example.com/v1/items" in out


def test_stub_errors_mail_error_expectations_and_the_fixed_clock(tmp_path, capsys):
    write(tmp_path, "mailer", """
        try
        {
            invokeurl [ url: "https://down.test/x" type: GET ];
        }
        catch (e)
        {
            info "down: " + e.message;
        }
        sendmail [ from: zoho.adminuserid to: "a@x.test" subject: "At " + zoho.currenttime message: "Hi " + user.get("name") ]
        if (fail)
        {
            throw "boom";
        }
        return today.toString("yyyy-MM-dd");
        """, """
        timezone = "Europe/Berlin"
        http = [ { url = "https://down.test/x", error = "could not connect" } ]

        [[case]]
        name = "default clock"
        inputs = { fail = false }
        expect.return = "2026-01-15"
        expect.logs = ["down: could not connect"]
        expect.mail = [ { to = "a@x.test", subject = "At 15-Jan-2026 09:00:00", message_contains = "Hi Test User" } ]

        [[case]]
        name = "a clock of its own"
        now = 2027-02-03T23:30:00Z
        inputs = { fail = false }
        expect.return = "2027-02-04"

        [[case]]
        name = "throws"
        inputs = { fail = true }
        expect.error = { type = "RuntimeError", message = "boom", line = 12 }
        """)
    code, out, _ = sluice_test(capsys, str(tmp_path))
    assert out.splitlines()[-1] == "3 passed, 0 failed", out
    assert code == 0


def test_k_selects_cases_by_name(tmp_path, capsys):
    write(tmp_path, "add", ADD, """
        [[case]]
        name = "small numbers"
        inputs = { a = 1, b = 2 }
        expect.return = 3

        [[case]]
        name = "big numbers"
        inputs = { a = 1000, b = 2000 }
        expect.return = 0
        """)
    code, out, _ = sluice_test(capsys, str(tmp_path), "-k", "small")
    assert (code, out.splitlines()[-1]) == (0, "1 passed, 0 failed")
    code, out, _ = sluice_test(capsys, str(tmp_path), "-k", "*numbers")
    assert (code, out.splitlines()[-1]) == (1, "1 passed, 1 failed")
    code, _, err = sluice_test(capsys, str(tmp_path), "-k", "nothing")
    assert code == 2 and "no case matches" in err


def test_update_rewrites_failing_expectations_keeping_comments_and_order(tmp_path, capsys):
    path = write(tmp_path, "calc", 'info "sum " + (a + b);\nreturn {"sum": a + b, "n": null};\n',
                 """
        # the file's own comment
        [[case]]
        name = "wrong"   # stays
        inputs = { a = 1.50, b = 2 }

        [case.expect]
        return = 0  # the value changes, this comment stays
        logs = ["old"]

        [[case]]
        name = "right"
        inputs = { a = 1, b = 2 }
        expect.logs = ["sum 3"]
        """)
    before = path.read_text()
    code, out, _ = sluice_test(capsys, str(tmp_path), "--update")
    assert code == 0, out
    assert out.splitlines()[-1] == "2 passed, 0 failed"
    after = path.read_text()
    assert "# the file's own comment" in after and 'name = "wrong"   # stays' in after
    assert 'return = {sum = 3.50, n = {null = true}}  # the value changes, this comment stays' \
        in after
    assert 'logs = ["sum 3.50"]' in after
    assert after.split("[[case]]")[2] == before.split("[[case]]")[2]


def test_parallel_and_serial_runs_give_the_same_results(tmp_path):
    cases = "\n".join(f'[[case]]\nname = "case {i}"\ninputs = {{ a = {i}, b = 1 }}\n'
                      f'expect.return = {i + 1 if i % 5 else 0}\n' for i in range(40))
    write(tmp_path, "add", ADD, cases)
    serial = Session([str(tmp_path)], jobs=1)
    serial.load()
    serial.run()
    parallel = Session([str(tmp_path)], jobs=2)
    parallel.load()
    parallel.run()
    assert [(o.case, o.passed, o.report()) for o in serial.outcomes] == \
        [(o.case, o.passed, o.report()) for o in parallel.outcomes]
    assert parallel.summary() == "32 passed, 8 failed"


def test_records_seeded_from_a_json_file_beside_the_test(tmp_path: Path, capsys):
    (tmp_path / "seed.json").write_text(
        '{"books": {"invoices": [{"invoice_id": "9", "invoice_number": "INV-9", '
        '"balance": 10.50, "status": "overdue"}]}}')
    write(tmp_path, "books", """
        r = zoho.books.getRecords("Invoices", "1", "status=overdue", "zbooks");
        one = zoho.books.getRecordsByID("invoices", "1", "9", "zbooks");
        zoho.books.updateRecord("invoices", "1", "9", {"reference_number": "late"}, "zbooks");
        return {"n": r.get("invoices").size(), "balance": one.get("invoice").get("balance")};
        """, """
        data = "seed.json"

        [[case]]
        name = "reads and updates"
        expect.return = { n = 1, balance = 10.50 }
        expect.updated = [ { module = "books.invoices", id = "9", fields = { reference_number = "late" } } ]
        """)
    code, out, _ = sluice_test(capsys, str(tmp_path))
    assert (code, out.splitlines()[-1]) == (0, "1 passed, 0 failed"), out


def test_a_broken_cassette_is_a_spec_error(tmp_path, capsys):
    write(tmp_path, "add", ADD, '[[case]]\nname = "a"\ninputs = { a = 1, b = 2 }\n')
    (tmp_path / "add.cassette.json").write_text('{"cases": {"a": [{"request": {}}]}}')
    code, _, err = sluice_test(capsys, str(tmp_path))
    assert code == 2
    assert "add.cassette.json:1: error: case 'a': each exchange needs a request" in err


def test_random_numbers_are_the_same_on_every_run_of_a_case(tmp_path, capsys):
    write(tmp_path, "dice", "return {randomNumber(1, 1000000), randomNumber(0.01, 9.99)};\n",
          '[[case]]\nname = "roll"\nexpect.return = 0\n\n[[case]]\nname = "roll again"\n'
          'expect.return = 0\n')
    outcomes = []
    for jobs in (1, 2):
        session = Session([str(tmp_path)], jobs=jobs)
        session.load()
        session.run()
        outcomes.append([o.actual["return"] for o in session.outcomes])
    assert outcomes[0] == outcomes[1]
    first, second = outcomes[0]
    assert first != second  # each case has its own seed
    assert 1 <= first[0] <= 1000000 and str(first[1]).count(".") == 1
