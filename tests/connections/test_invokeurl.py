"""The complete `invokeurl` of SPEC §5 and its legacy function forms, against real
loopback servers: parameters, body, headers, content-type, files as multipart, detailed,
response-format FILE, response-decoding, non-2xx answers; and the zoho.books.* /
zoho.crm.* integration tasks as REST calls through a connection."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

from sluicegate.connections.registry import Registry
from sluicegate.examples.provider import LocalProvider
from sluicegate.http.broker import Broker
from sluicegate.http.guard import HostPolicy

from connlab import LabServer, Leaks, Runner


@pytest.fixture
def echo(registry: Registry, lab: LabServer) -> str:
    """An API key connection to the lab: every request below goes through the broker."""
    registry.add("lab", "api_key", base_urls=[lab.url], secret=lab.api_key)
    return "lab"


def _sent(lab: LabServer) -> tuple[str, str, dict[str, str], bytes]:
    last = lab.requests[-1]
    return last.method, last.path, last.headers, last.body


def test_parameters_map_is_the_query_of_a_get_and_a_form_of_a_post(
        lab: LabServer, echo: str, run: Runner) -> None:
    result = run(f'''
        invokeurl [ url: "{lab.url}/echo?x=1" type: GET
                    parameters: {{"q": "a b&c", "n": 5}} connection: "lab" ];
        invokeurl [ url: "{lab.url}/echo" type: DELETE parameters: {{"id": "7"}}
                    connection: "lab" ];
        invokeurl [ url: "{lab.url}/echo" type: POST
                    parameters: {{"name": "Zylker", "items": {{1, 2}}}} connection: "lab" ];
        return 1;
    ''')
    assert result.ok, result.error
    get, delete, post = lab.requests[-3:]
    assert get.method == "GET" and get.path == "/echo?x=1&q=a+b%26c&n=5" and get.body == b""
    assert delete.method == "DELETE" and delete.path == "/echo?id=7"
    assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(post.body.decode()) == [("name", "Zylker"), ("items", "[1,2]")]


def test_json_content_type_text_parameters_and_body(lab: LabServer, echo: str,
                                                    run: Runner) -> None:
    result = run(f'''
        invokeurl [ url: "{lab.url}/echo" type: PUT content-type: "application/json"
                    parameters: {{"amount": 12.50, "tags": {{"a"}}}} connection: "lab" ];
        invokeurl [ url: "{lab.url}/echo" type: POST parameters: "raw text"
                    connection: "lab" ];
        invokeurl [ url: "{lab.url}/echo" type: PATCH body: {{"k": "v"}}.toString()
                    content-type: "application/json" connection: "lab" ];
        invokeurl [ url: "{lab.url}/echo" type: POST body: "<x/>"
                    headers: {{"Content-Type": "application/xml", "X-Trace": 42}}
                    connection: "lab" ];
        return 1;
    ''')
    assert result.ok, result.error
    put, text, patch, xml = lab.requests[-4:]
    assert put.headers["Content-Type"] == "application/json"
    assert json.loads(put.body) == {"amount": 12.50, "tags": ["a"]}
    assert put.body == b'{"amount":12.50,"tags":["a"]}'  # the scale written is kept
    assert text.headers["Content-Type"] == "text/plain;charset=UTF-8" and text.body == b"raw text"
    assert patch.method == "PATCH" and patch.body == b'{"k":"v"}'
    assert xml.headers["Content-Type"] == "application/xml" and xml.body == b"<x/>"
    assert xml.headers["X-Trace"] == "42"


def test_files_are_multipart_even_when_the_script_names_the_content_type(
        lab: LabServer, echo: str, run: Runner) -> None:
    result = run(f'''
        a = "id,total\\n1,9.50".toFile("a.csv");
        b = "second".toFile("b.txt");
        invokeurl [ url: "{lab.url}/echo" type: POST files: {{a, b}}
                    content-type: "multipart/form-data"
                    parameters: {{"note": "two files"}} connection: "lab" ];
        invokeurl [ url: "{lab.url}/echo" type: POST connection: "lab"
                    files: {{{{"paramName": "document", "content": a}},
                             {{"paramName": "label", "content": "Q1", "stringPart": "true"}}}} ];
        return 1;
    ''')
    assert result.ok, result.error
    both, parts = lab.requests[-2:]
    ctype = both.headers["Content-Type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("boundary=", 1)[1].encode()
    assert both.body.count(b"--" + boundary) == 4  # note, file0, file1, and the end
    assert b'name="note"' in both.body and b"two files" in both.body
    assert b'name="file0"; filename="a.csv"' in both.body and b"1,9.50" in both.body
    assert b'name="file1"; filename="b.txt"' in both.body
    assert b'name="document"; filename="a.csv"' in parts.body
    assert b'name="label"\r\n\r\nQ1' in parts.body


def test_set_param_name_and_charset_shape_the_multipart_part(
        lab: LabServer, echo: str, run: Runner) -> None:
    result = run(f'''
        f = "Zylker,1".toFile("invoice.csv");
        f.setParamName("attachment");
        f.setCharset("UTF-8");
        invokeurl [ url: "{lab.url}/echo" type: POST files: f connection: "lab" ];
        return f.getFileName();
    ''')
    assert result.ok, result.error
    body = lab.requests[-1].body
    assert b'name="attachment"; filename="invoice.csv"' in body
    assert b"charset=UTF-8" in body and b"Zylker,1" in body


def test_detailed_gives_code_parsed_text_and_lower_case_headers_without_raising(
        lab: LabServer, echo: str, run: Runner) -> None:
    result = run(f'''
        ok = invokeurl [ url: "{lab.url}/echo" type: GET detailed: true connection: "lab" ];
        missing = invokeurl [ url: "{lab.url}/status/404" type: GET detailed: true
                              connection: "lab" ];
        plain = invokeurl [ url: "{lab.url}/status/500" type: GET connection: "lab" ];
        return {{"code": ok.get("responseCode"), "type": ok.get("responseHeader")
                     .get("content-type"), "text": ok.get("responseText").get("query"),
                 "missing": missing.get("responseCode"),
                 "missing_body": missing.get("responseText").get("status"),
                 "plain": plain}};
    ''')
    assert result.ok, result.error
    assert result.value == {"code": 200, "type": "application/json", "text": {},
                            "missing": 404, "missing_body": "/status/404",
                            "plain": {"status": "/status/500"}}
    headers = run(f'return invokeurl [ url: "{lab.url}/echo" type: GET detailed: true '
                  f'connection: "lab" ].get("responseHeader").keys();').value
    assert headers and all(h == h.lower() for h in headers)


def test_response_format_file_and_response_decoding(lab: LabServer, echo: str,
                                                    run: Runner) -> None:
    result = run(f'''
        f = invokeurl [ url: "{lab.url}/file?id=7" type: GET response-format: "FILE"
                        connection: "lab" ];
        g = invokeurl [ url: "{lab.url}/echo" type: GET response-format: "file"
                        connection: "lab" ];
        latin = invokeurl [ url: "{lab.url}/latin1" type: GET
                            response-decoding: "ISO-8859-1" connection: "lab" ];
        guessed = invokeurl [ url: "{lab.url}/latin1" type: GET connection: "lab" ];
        return {{"is_file": isFile(f), "latin": latin, "guessed": guessed, "g": isFile(g)}};
    ''')
    assert result.ok, result.error
    assert result.value["is_file"] is True and result.value["g"] is True
    assert result.value["latin"] == "café crème"
    assert result.value["guessed"] == "caf\ufffd cr\ufffdme"  # UTF-8 by default
    file_value = run(f'return invokeurl [ url: "{lab.url}/file" type: GET '
                     f'response-format: "FILE" connection: "lab" ];').value
    assert (file_value.name, file_value.content_type) == ("invoice-7.pdf", "application/pdf")
    assert file_value.data == b"%PDF-1.4 \x00\xff binary"
    unknown = run(f'invokeurl [ url: "{lab.url}/echo" type: GET '
                  f'response-decoding: "klingon-8" connection: "lab" ];')
    assert unknown.error.message == "Unknown response-decoding 'klingon-8'"


def test_response_format_accepts_the_bare_word_file(lab: LabServer, echo: str,
                                                    run: Runner) -> None:
    result = run(f'return isFile(invokeurl [ url: "{lab.url}/file" type: GET '
                 f'response-format: FILE connection: "lab" ]);')
    assert result.ok and result.value is True, result.error


def test_legacy_get_post_and_invoke_url_forms(registry: Registry, lab: LabServer,
                                              leaks: Leaks) -> None:
    broker = Broker(registry, policy=HostPolicy.parse("127.0.0.1"))
    try:
        run = Runner(broker, leaks)
        result = run(f'''
            a = getUrl("{lab.url}/echo?x=1", {{"X-A": "1"}});
            b = getUrl("{lab.url}/status/404", false);
            c = postUrl("{lab.url}/echo", {{"name": "Zylker"}});
            d = postUrl("{lab.url}/echo", "raw", {{"X-B": "2"}}, false);
            e = invokeUrl("{lab.url}/echo", "PUT", {{"k": "v"}}, {{"X-C": "3"}}, true);
            return {{"a": a.get("query"), "b": b.get("responseCode"),
                     "c": c.get("body"), "d": d.get("responseCode"),
                     "d_body": d.get("responseText").get("body"), "e": e.get("body")}};
        ''')
    finally:
        broker.close()
    assert result.ok, result.error
    assert result.value == {"a": {"x": "1"}, "b": 404, "c": "name=Zylker", "d": 200,
                            "d_body": "raw", "e": "k=v"}
    assert [r.method for r in lab.requests[-5:]] == ["GET", "GET", "POST", "POST", "PUT"]
    assert lab.requests[-5].headers["X-A"] == "1" and lab.requests[-2].headers["X-B"] == "2"
    assert lab.requests[-1].headers["X-C"] == "3"


def test_a_path_with_a_connection_goes_to_the_connection_base(
        lab: LabServer, echo: str, run: Runner) -> None:
    result = run('return invokeurl [ url: "/echo?from=path" type: GET connection: "lab" ];')
    assert result.ok and result.value["query"] == {"from": "path"}, result.error
    assert result.http[0]["url"] == f"{lab.url}/echo?from=path"
    plain = run('return invokeurl [ url: "/echo" type: GET ];')
    assert plain.error.message == ("'/echo' is a path, not a URL; a path can only be used "
                                   "with a connection, whose base URL it is sent to")


# ---- integration tasks ---------------------------------------------------------------
def test_books_tasks_are_rest_calls_through_the_connection_base_url(
        provider: LocalProvider, connected: str, run: Runner) -> None:
    result = run('''
        org = "10234695";
        overdue = zoho.books.getRecords("invoices", org, "status=overdue", "zb");
        byMap = zoho.books.getRecords("invoices", org, {"status": "sent"}, "zb");
        one = zoho.books.getRecordsByID("invoices", org, "90002", "zb");
        made = zoho.books.createRecord("invoices", org,
                                       {"customer_name": "Initech", "total": 75.00}, "zb");
        id = made.get("invoice").get("invoice_id");
        changed = zoho.books.updateRecord("invoices", org, id,
                                          {"reference_number": "PO-9"}, "zb");
        missing = zoho.books.getRecordsByID("invoices", org, "nope", "zb");
        return {"overdue": overdue.get("invoices").size(),
                "sent": byMap.get("invoices").get(0).get("invoice_number"),
                "one": one.get("invoice").get("customer_name"),
                "made": made.get("code"), "ref": changed.get("invoice").get("reference_number"),
                "missing": missing.get("code")};
    ''')
    assert result.ok, result.error
    assert result.value == {"overdue": 2, "sent": "INV-00002", "one": "Acme Ltd",
                            "made": 0, "ref": "PO-9", "missing": 1002}
    urls = [c["url"] for c in result.http]
    assert all(u.startswith(provider.api_base + "/invoices") for u in urls), urls
    assert all(c["connection"] == "zb" and c["status"] in (200, 201, 404)
               for c in result.http)
    assert provider.state.invoices[str(provider.state.next_id)]["reference_number"] == "PO-9"


def test_crm_tasks_are_rest_calls_through_the_connection(
        registry: Registry, provider: LocalProvider, run: Runner) -> None:
    from connlab import add_oauth2, authorize

    add_oauth2(registry, provider, link="crm", base_urls=[provider.url + "/crm/"])
    authorize(registry, provider, link="crm")
    result = run('''
        lead = zoho.crm.getRecordById("Leads", "4001", "crm");
        leads = zoho.crm.getRecords("Leads", 1, 1, "crm");
        all = zoho.crm.getRecords("Leads", "crm");
        found = zoho.crm.searchRecords("Leads", "(Company:equals:Acme)", "crm");
        made = zoho.crm.createRecord("Leads", {"Last_Name": "Ortiz", "Company": "Umbrella"},
                                     "crm");
        id = made.get("id");
        upd = zoho.crm.updateRecord("Leads", id, {"Lead_Status": "Qualified"}, "crm");
        again = zoho.crm.getRecordById("Leads", id, "crm");
        notes = zoho.crm.getRelatedRecords("Notes", "Leads", "4001", "crm");
        return {"lead": lead.get("Last_Name"), "page": leads.size(), "all": all.size(),
                "found": found.get(0).get("Last_Name"),
                "made": id.length() > 0, "upd": upd.get("id") == id,
                "status": again.get("Lead_Status"), "notes": notes.get(0).get("Note_Title")};
    ''')
    assert result.ok, result.error
    assert result.value == {"lead": "Patel", "page": 1, "all": 2, "found": "Ng",
                            "made": True, "upd": True,
                            "status": "Qualified", "notes": "Call back"}
    assert all(c["url"].startswith(provider.url + "/crm/v2/Leads") for c in result.http)
    assert {c["token_generation"] for c in result.http} == {1}


def test_tasks_without_a_connection_use_the_organizations_own_connection(
        registry: Registry, provider: LocalProvider, run: Runner) -> None:
    """`zoho.crm.getRecordById("Leads", id)` with no connection argument, as most real
    CRM scripts write it: the organization's zoho_crm connection signs it."""
    from connlab import add_oauth2, authorize

    missing = run('return zoho.crm.getRecordById("Leads", "4001");')
    assert "use the organization's zoho_crm connection, and there is none" in \
        missing.error.message
    add_oauth2(registry, provider, link="orgcrm", service="zoho_crm",
               base_urls=[provider.url + "/crm/"])
    authorize(registry, provider, link="orgcrm")
    result = run('return zoho.crm.getRecordById("Leads", "4001").get("Last_Name");')
    assert result.ok and result.value == "Patel", result.error
    assert result.http[0]["connection"] == "orgcrm"
    assert result.http[0]["url"].startswith(provider.url + "/crm/v2/Leads/4001")
    add_oauth2(registry, provider, link="othercrm", service="zoho_crm",
               base_urls=[provider.url + "/crm/"])
    several = run('return zoho.crm.getRecordById("Leads", "4001");')
    assert "several zoho_crm connections exist (orgcrm, othercrm)" in several.error.message


def test_invokeapi_zohocrm_uses_the_organizations_own_connection(
        registry: Registry, provider: LocalProvider, run: Runner) -> None:
    from connlab import add_oauth2, authorize

    add_oauth2(registry, provider, link="orgcrm", service="zoho_crm",
               base_urls=[provider.url + "/crm/"])
    authorize(registry, provider, link="orgcrm")
    result = run('r = invokeapi [ service: zohocrm path: "/crm/v2/Leads/4001" type: GET ];'
                 'return r.get("data").get(0).get("Last_Name");')
    assert result.ok and result.value == "Patel", result.error
    assert result.http[0]["connection"] == "orgcrm"
    rate = run('return zoho.crm.getOrgVariable("Discount_Rate");')
    assert rate.ok and rate.value == "12.5", rate.error
    assert rate.http[0]["url"].endswith("/crm/v2/settings/variables/Discount_Rate")


def test_integration_tasks_refuse_what_is_not_a_connection_name(
        provider: LocalProvider, connected: str, run: Runner) -> None:
    result = run('return zoho.books.getRecords("invoices", "1", "", {1, 2});')
    assert result.error.message == "The connection argument of zoho.books.getRecords must be TEXT"
    refused = run('return zoho.books.getRecords("invoices", "1", "", "nope");')
    assert refused.error.message == "Connection 'nope' does not exist"
