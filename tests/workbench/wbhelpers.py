"""Helpers of the `sluice test` suites: write a script and its test file, run the command."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sluicegate.cli import main


def write(folder: Path, name: str, script: str, spec: str) -> Path:
    (folder / f"{name}.dg").write_text(textwrap.dedent(script).lstrip(), encoding="utf-8")
    path = folder / f"{name}.test.toml"
    path.write_text(textwrap.dedent(spec).lstrip(), encoding="utf-8")
    return path


def sluice_test(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["test", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


CRM_SCRIPT = """
lead = zoho.crm.getRecordById("Leads", leadId);
if (lead.get("id") == null)
{
    info "no lead: " + lead.get("message");
    return "missing";
}
task = zoho.crm.createRecord("Tasks",
    {"Subject": "Call " + lead.get("Last_Name"), "What_Id": leadId});
upd = zoho.crm.updateRecord("Leads", leadId, {"Lead_Status": "Contacted"});
found = zoho.crm.searchRecords("Leads", "(Company:equals:Zylker)");
info "found " + found.size();
rate = invokeurl [ url: "https://api.rates.test/latest?base=USD" type: GET ];
post = invokeurl [ url: "https://hooks.test/notify" type: POST
    parameters: {"lead": leadId, "amount": 12.50}.toString()
    content-type: "application/json" ];
inv = zoho.books.getRecordsByID("invoices", "10234695", "404404", "zbooks");
info inv.get("message");
return {"task": task.get("id"),
        "eur": rate.get("rates").get("EUR"),
        "when": zoho.currenttime.toString("yyyy-MM-dd HH:mm")};
"""

CRM_SPEC = """
now = 2026-03-01T10:30:00

[[crm.Leads]]
id = "111"
Last_Name = "Ng"
Company = "Zylker"

[[crm.Leads]]
id = "222"
Last_Name = "Ola"
Company = "Kwik"

[[http]]
method = "GET"
url = "https://api.rates.test/latest"
body = { rates = { EUR = 0.95 } }

[[case]]
name = "follow up an existing lead"
inputs = { leadId = "111" }

[[case.http]]
method = "POST"
url = "https://hooks.test/notify"
match_body = { amount = 12.50 }
status = 204

[case.expect]
return = { task = "5000000000001", eur = 0.95, when = "2026-03-01 10:30" }
logs = ["found 1", "Invoice does not exist."]
http = [
  { method = "GET", url = "https://api.rates.test/latest?base=USD" },
  { method = "POST", url = "https://hooks.test/notify", body = { lead = "111" } },
]
created = [ { module = "crm.Tasks", fields = { Subject = "Call Ng" } } ]
updated = [
  { module = "crm.Leads", id = "111", fields = { Lead_Status = "Contacted" } },
]

[[case]]
name = "missing lead"
inputs = { leadId = "999" }
expect.return = "missing"
expect.logs = ["no lead: the related id given seems to be invalid"]
expect.created = []
"""
