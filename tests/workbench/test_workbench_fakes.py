"""The fake CRM and Books behind `sluice test`: the integration tasks and invokeurl on a
zohoapis URL read and change the seeded records, with the APIs' shapes."""

from __future__ import annotations

from wbhelpers import sluice_test, write

SCRIPT = """
page = zoho.crm.getRecords("Leads", 1, 2);
info "page 1: " + page.size();
rest = zoho.crm.getRecords("Leads", 2, 2);
info "page 2: " + rest.size();
notes = zoho.crm.getRelatedRecords("Notes", "Leads", "1");
info "notes: " + notes.size();
info "rate: " + zoho.crm.getOrgVariable("discount_rate");
either = zoho.crm.searchRecords("Leads", "((Company:equals:Zylker)or(Company:starts_with:Kw))");
info "either: " + either.size();
api = invokeapi [ service: zohocrm path: "/crm/v2/Leads/1" type: GET ];
info "api: " + api.get("data").get(0).get("Company");
gone = invokeurl [ url: "https://www.zohoapis.com/crm/v2/Leads/3" type: DELETE
                   connection: "zcrm" ];
info "deleted: " + gone.get("data").get(0).get("message");
made = zoho.books.createRecord("contacts", "1", {"contact_name": "Bolt"}, "zbooks");
info made.get("message") + " " + made.get("contact").get("contact_id");
missing = zoho.books.getRecordsByID("contacts", "1", "77", "zbooks");
info missing.get("code") + ": " + missing.get("message");
id = made.get("contact").get("contact_id");
del = invokeurl [ url: "https://www.zohoapis.com/books/v3/contacts/" + id + "?organization_id=1"
                  type: DELETE connection: "zbooks" ];
info del.get("message");
return zoho.crm.getRecordById("Leads", "3").get("code");
"""

SPEC = """
crm_variables = { discount_rate = "12.5" }

[[crm.Leads]]
id = "1"
Company = "Zylker"

[[crm.Leads]]
id = "2"
Company = "Kwik"

[[crm.Leads]]
id = "3"
Company = "Other"

[[crm.Notes]]
id = "n1"
Parent_Id = { id = "1", name = "Zylker" }

[[case]]
name = "reads, pages, searches, creates and deletes"

[case.expect]
return = "INVALID_DATA"
logs = [
  "page 1: 2",
  "page 2: 1",
  "notes: 1",
  "rate: 12.5",
  "either: 2",
  "api: Zylker",
  "deleted: record deleted",
  "The contact has been created. 5000000000001",
  "1002: Contact does not exist.",
  "The contact has been deleted.",
]
created = [ { module = "books.contacts", fields = { contact_name = "Bolt" } } ]
deleted = [
  { module = "crm.Leads", id = "3", fields = { Company = "Other" } },
  { module = "books.contacts", id = "5000000000001" },
]
records = { "crm.Leads" = [ { id = "1" }, { id = "2" } ], "books.contacts" = [] }
http = []
"""


def test_fake_crm_and_books_answer_like_the_apis(tmp_path, capsys):
    write(tmp_path, "fakes", SCRIPT, SPEC)
    code, out, _ = sluice_test(capsys, str(tmp_path))
    assert (code, out.splitlines()[-1]) == (0, "1 passed, 0 failed"), out


def test_each_case_starts_from_the_seed(tmp_path, capsys):
    write(tmp_path, "seeded", """
        zoho.crm.createRecord("Leads", {"Company": "New"});
        return zoho.crm.getRecords("Leads").size();
        """, """
        [[crm.Leads]]
        id = "1"
        Company = "Zylker"

        [[case]]
        name = "first"
        expect.return = 2

        [[case]]
        name = "second sees the seed, not the first case's record"
        expect.return = 2
        """)
    code, out, _ = sluice_test(capsys, str(tmp_path))
    assert (code, out.splitlines()[-1]) == (0, "2 passed, 0 failed"), out


def test_crm_search_criteria_join_groups_with_and_or_and_escapes():
    from sluicegate.testing.fakes import _crm_matches

    record = {"Company": "Zylker (EU)", "Last_Name": "Ng", "Amount": "12.5",
              "Owner": {"id": "9", "name": "Priya"}}
    assert _crm_matches(record, r"(Company:equals:Zylker \(EU\))")
    assert _crm_matches(record, "((Company:starts_with:Zy)and(Last_Name:equals:Ng))")
    assert _crm_matches(record, "(Company:equals:X) or (Last_Name:equals:ng)")
    assert not _crm_matches(record, "((Company:equals:X)and(Last_Name:equals:Ng))")
    assert _crm_matches(record, "(Amount:greater_than:10)")
    assert not _crm_matches(record, "(Amount:less_than:10)")
    assert _crm_matches(record, "(Owner:equals:9)") and _crm_matches(record, "(Owner:equals:Priya)")
    assert not _crm_matches(record, "Company = Zylker")  # not criteria: matches nothing
