"""Every integration task against one loopback fake of the vendor APIs (issue 16).

Each case is a script calling one task, the request the vendor's REST reference documents
for it (method, path below the service's API root, query, the org-id header or parameter,
body), the answer the reference shows, and the value the vendor's Deluge task gives the
script. One fake server answers every case; the test checks what reached it.
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from sluicegate.connections.keyring import Keyring, generate_key
from sluicegate.connections.registry import Registry
from sluicegate.examples.provider import LocalProvider
from sluicegate.http.broker import Broker
from sluicegate.http.guard import HostPolicy
from sluicegate.integrations import SERVICES, TASKS, signatures
from sluicegate.store.db import make_engine

from connlab import Leaks, Runner, dump_database


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        self.server.fake.seen.append(Seen(self.command, unquote(parts.path),
                                          dict(parse_qsl(parts.query, keep_blank_values=True)),
                                          {k.lower(): v for k, v in self.headers.items()}, body))
        fake = self.server.fake
        page = dict(parse_qsl(parts.query)).get("page")
        status, payload, headers = fake.pages.get(page, fake.reply) if fake.pages else fake.reply
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        headers = {"Content-Type": "application/json;charset=UTF-8", **headers}
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _route


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeVendor


class FakeVendor:
    """The vendors' APIs on one loopback port: records each request, answers the reply set
    for the case being run."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.reply: tuple[int, Any, dict[str, str]] = (200, {}, {})
        # replies by the `page` query parameter, for tasks that read several pages
        self.pages: dict[str, tuple[int, Any, dict[str, str]]] = {}
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeVendor]:
    server = FakeVendor()
    try:
        yield server
    finally:
        server.stop()


API_KEY = "ak_" + secrets.token_urlsafe(16)


@dataclass
class Case:
    task: str
    script: str                                   # the call; `return` is added
    method: str
    path: str                                     # as the vendor documents it, full path
    expect: Any                                   # the value the script gets
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    form: dict[str, str] | None = None
    file_part: str | None = None                  # multipart part name carrying a file
    reply: Any = field(default_factory=dict)
    status: int = 200
    reply_headers: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.task}:{self.method}:{self.path}"


LEAD = {"id": "4001", "Last_Name": "Patel"}
WRITTEN = {"data": [{"code": "SUCCESS", "status": "success", "message": "record added",
                     "details": {"id": "4009", "Created_Time": "2026-12-07T09:00:00+00:00"}}]}
DETAILS = {"id": "4009", "Created_Time": "2026-12-07T09:00:00+00:00"}
REFUSED = {"data": [{"code": "MANDATORY_NOT_FOUND", "details": {"api_name": "Last_Name"},
                     "message": "required field not found", "status": "error"}]}
TICKET = {"id": "1892000000093001", "subject": "Printer jam", "status": "Open"}
CREATOR_OK = {"code": 3000, "data": {"ID": "3888833000000114027"},
              "message": "Data Added Successfully!"}
CREATOR_ROWS = {"code": 3000, "data": [{"ID": "1", "Status": "Open"}]}
DESK_ORG = {"orgId": "6470"}
CANDIDATES = [{"id": "51", "Last_Name": "Roe", "Website": None, "Email": "roe@zylker.com"},
              {"id": "52", "Last_Name": "Doe", "Website": None, "Email": "doe@zylker.com"}]

CASES: list[Case] = [
    # ---- CRM (https://www.zoho.com/crm/developer/docs/api/v2/) ---------------------------
    Case("zoho.crm.getRecordById", 'zoho.crm.getRecordById("Leads", 4001, "fake")', "GET",
         "/crm/v2/Leads/4001", LEAD, reply={"data": [LEAD]}),
    Case("zoho.crm.getRecords", 'zoho.crm.getRecords("Leads", 2, 50, "fake")', "GET",
         "/crm/v2/Leads", [LEAD], query={"page": "2", "per_page": "50"},
         reply={"data": [LEAD], "info": {"more_records": False}}),
    Case("zoho.crm.searchRecords",
         'zoho.crm.searchRecords("Leads", "(Email:equals:a@b.c)", "fake")', "GET",
         "/crm/v2/Leads/search", [], query={"criteria": "(Email:equals:a@b.c)"},
         status=204, reply=b""),
    Case("zoho.crm.createRecord",
         'zoho.crm.createRecord("Leads", {"Last_Name": "Ng"}, {"trigger": ["workflow"]}, '
         '"fake")', "POST", "/crm/v2/Leads", DETAILS, status=201, reply=WRITTEN,
         json_body={"data": [{"Last_Name": "Ng"}], "trigger": ["workflow"]}),
    Case("zoho.crm.create", 'zoho.crm.create("Leads", {"Company": "Acme"}, "fake")', "POST",
         "/crm/v2/Leads", REFUSED["data"][0], status=400, reply=REFUSED,
         json_body={"data": [{"Company": "Acme"}]}),
    Case("zoho.crm.updateRecord",
         'zoho.crm.updateRecord("Deals", "77", {"Stage": "Won"}, "fake")', "PUT",
         "/crm/v2/Deals/77", DETAILS, reply=WRITTEN,
         json_body={"data": [{"Stage": "Won"}]}),
    Case("zoho.crm.upsert",
         'zoho.crm.upsert("Contacts", {"Email": "a@b.c"}, '
         '{"duplicate_check_fields": ["Email"]}, "fake")', "POST", "/crm/v2/Contacts/upsert",
         DETAILS, reply=WRITTEN,
         json_body={"data": [{"Email": "a@b.c"}], "duplicate_check_fields": ["Email"]}),
    Case("zoho.crm.deleteRecord", 'zoho.crm.deleteRecord("Leads", "4001", "fake")', "DELETE",
         "/crm/v2/Leads/4001", {"id": "4001"},
         reply={"data": [{"code": "SUCCESS", "status": "success", "message": "record deleted",
                          "details": {"id": "4001"}}]}),
    Case("zoho.crm.getRelatedRecords",
         'zoho.crm.getRelatedRecords("Notes", "Leads", "4001", 1, 20, "fake")', "GET",
         "/crm/v2/Leads/4001/Notes", [{"Note_Title": "Call back"}],
         query={"page": "1", "per_page": "20"}, reply={"data": [{"Note_Title": "Call back"}]}),
    Case("zoho.crm.updateRelatedRecord",
         'zoho.crm.updateRelatedRecord("Products", "55", "Deals", "77", {"list_price": 9.5}, '
         '"fake")', "PUT", "/crm/v2/Deals/77/Products/55", {"id": "55"},
         json_body={"data": [{"list_price": 9.5}]},
         reply={"data": [{"code": "SUCCESS", "status": "success", "message": "relation "
                          "updated", "details": {"id": "55"}}]}),
    Case("zoho.crm.attachFile",
         'zoho.crm.attachFile("Leads", "4001", "a,b".toFile("list.csv"), "fake")', "POST",
         "/crm/v2/Leads/4001/Attachments", {"id": "9001"}, file_part="file",
         reply={"data": [{"code": "SUCCESS", "status": "success", "message": "attachment "
                          "uploaded successfully", "details": {"id": "9001"}}]}),
    Case("zoho.crm.invokeConnector",
         'zoho.crm.invokeConnector("crm.delete", {"module": "Leads", "id": "4001"}, '
         '"fake")', "DELETE",
         "/crm/v2/Leads/4001", {"status_code": 200, "response": '{"data":[{"code":"SUCCESS",'
                                '"details":{"id":"4001"},"status":"success"}]}'},
         reply={"data": [{"code": "SUCCESS", "details": {"id": "4001"}, "status": "success"}]}),
    Case("zoho.crm.invokeConnector",
         'zoho.crm.invokeConnector("crm.set", {"apiname": "Score", "value": 50}, '
         '"fake")', "PUT",
         "/crm/v2/settings/variables/Score", {"status_code": 200, "response": '{"variables":'
                                              '[{"code":"SUCCESS","status":"success"}]}'},
         json_body={"variables": [{"value": 50}]},
         reply={"variables": [{"code": "SUCCESS", "status": "success"}]}),
    Case("zoho.crm.convertLead",
         'zoho.crm.convertLead(4001, {"Deals": {"Deal_Name": "Jake"}}, "fake")', "POST",
         "/crm/v2/Leads/4001/actions/convert", {"Contacts": "71", "Accounts": "72",
                                                "Deals": "73"},
         json_body={"data": [{"Deals": {"Deal_Name": "Jake"}}]},
         reply={"data": [{"Contacts": "71", "Accounts": "72", "Deals": "73"}]}),
    Case("zoho.crm.getOrgVariable", 'zoho.crm.getOrgVariable("Discount_Rate", "fake")', "GET",
         "/crm/v2/settings/variables/Discount_Rate", "12.5",
         reply={"variables": [{"api_name": "Discount_Rate", "value": "12.5"}]}),
    # ---- Desk (https://desk.zoho.com/DeskAPIDocument: orgId header on every call) --------
    Case("zoho.desk.getRecordById",
         'zoho.desk.getRecordById(6470, "Tickets", "1892000000093001", "fake")', "GET",
         "/api/v1/tickets/1892000000093001", TICKET, headers=DESK_ORG, reply=TICKET),
    Case("zoho.desk.getRecords", 'zoho.desk.getRecords(6470, "Contacts", 0, 2, "fake")', "GET",
         "/api/v1/contacts", {"data": [{"id": "5"}]}, headers=DESK_ORG,
         query={"from": "0", "limit": "2"}, reply={"data": [{"id": "5"}]}),
    Case("zoho.desk.searchRecords",
         'zoho.desk.searchRecords(6470, "Contacts", {"email": "a@b.c"}, 0, 1, "fake")', "GET",
         "/api/v1/contacts/search", {"data": [{"id": "5", "email": "a@b.c"}], "count": 1},
         headers=DESK_ORG, query={"email": "a@b.c", "from": "0", "limit": "1"},
         reply={"data": [{"id": "5", "email": "a@b.c"}], "count": 1}),
    Case("zoho.desk.create",
         'zoho.desk.create(6470, "Tickets", {"subject": "Printer jam", "departmentId": "3", '
         '"contactId": "5"}, "fake")', "POST", "/api/v1/tickets", TICKET, headers=DESK_ORG,
         json_body={"subject": "Printer jam", "departmentId": "3", "contactId": "5"},
         reply=TICKET),
    Case("zoho.desk.update",
         'zoho.desk.update(6470, "Tickets", "1892000000093001", {"status": "Closed"}, "fake")',
         "PATCH", "/api/v1/tickets/1892000000093001",
         {"errorCode": "UNPROCESSABLE_ENTITY", "message": "The value passed for the 'status' "
          "attribute is invalid."}, headers=DESK_ORG, json_body={"status": "Closed"},
         status=422, reply={"errorCode": "UNPROCESSABLE_ENTITY", "message": "The value passed "
                            "for the 'status' attribute is invalid."}),
    Case("zoho.desk.getRelatedRecords",
         'zoho.desk.getRelatedRecords(6470, "comments", "tickets", "1892000000093001", 0, 10, '
         '"fake")', "GET", "/api/v1/tickets/1892000000093001/comments",
         {"data": [{"content": "Replaced toner"}]}, headers=DESK_ORG,
         query={"from": "0", "limit": "10"}, reply={"data": [{"content": "Replaced toner"}]}),
    Case("zoho.desk.createRelatedRecord",
         'zoho.desk.createRelatedRecord(6470, "comments", "tickets", "1892000000093001", '
         '{"content": "On it", "isPublic": "true"}, "fake")', "POST",
         "/api/v1/tickets/1892000000093001/comments", {"id": "77", "content": "On it"},
         headers=DESK_ORG, json_body={"content": "On it", "isPublic": "true"},
         reply={"id": "77", "content": "On it"}),
    # ---- Creator (https://www.zoho.com/creator/help/api/v2/) -----------------------------
    Case("zoho.creator.getRecords",
         'zoho.creator.getRecords("jane", "orders", "All_Orders", "(Status == \\"Open\\")", '
         '1, 100, "fake")', "GET", "/creator/v2/data/jane/orders/report/All_Orders", CREATOR_ROWS,
         query={"criteria": '(Status == "Open")', "from": "1", "limit": "100"},
         reply=CREATOR_ROWS),
    Case("zoho.creator.getRecordById",
         'zoho.creator.getRecordById("jane", "orders", "All_Orders", "1", "fake")', "GET",
         "/creator/v2/data/jane/orders/report/All_Orders/1", {"code": 3000, "data": {"ID": "1"}},
         reply={"code": 3000, "data": {"ID": "1"}}),
    Case("zoho.creator.createRecord",
         'zoho.creator.createRecord("jane", "orders", "Order", {"Item": "Pen", "Qty": 2}, '
         'Map(), "fake")', "POST", "/creator/v2/data/jane/orders/form/Order", CREATOR_OK,
         json_body={"data": {"Item": "Pen", "Qty": 2}}, reply=CREATOR_OK),
    Case("zoho.creator.updateRecord",
         'zoho.creator.updateRecord("jane", "orders", "All_Orders", "1", {"Qty": 3}, Map(), '
         '"fake")', "PATCH", "/creator/v2/data/jane/orders/report/All_Orders/1",
         {"code": 3001, "message": "No records found"}, json_body={"data": {"Qty": 3}},
         status=404, reply={"code": 3001, "message": "No records found"}),
    Case("zoho.creator.updateRecords",
         'zoho.creator.updateRecords("jane", "orders", "All_Orders", "(Qty > 1)", '
         '{"Status": "Bulk"}, Map(), "fake")', "PATCH",
         "/creator/v2/data/jane/orders/report/All_Orders",
         {"code": 3000, "result": [{"code": 3000}]},
         json_body={"criteria": "(Qty > 1)", "data": {"Status": "Bulk"}},
         reply={"code": 3000, "result": [{"code": 3000}]}),
    Case("zoho.creator.deleteRecord",
         'zoho.creator.deleteRecord("jane", "orders", "All_Orders", "1", "fake")', "DELETE",
         "/creator/v2/data/jane/orders/report/All_Orders/1", {"code": 3000, "data": {"ID": "1"}},
         reply={"code": 3000, "data": {"ID": "1"}}),
    Case("zoho.creator.deleteRecords",
         'zoho.creator.deleteRecords("jane", "orders", "All_Orders", "(Qty == 0)", "fake")',
         "DELETE", "/creator/v2/data/jane/orders/report/All_Orders", {"code": 3000},
         json_body={"criteria": "(Qty == 0)"}, reply={"code": 3000}),
    Case("zoho.creator.uploadFile",
         'zoho.creator.uploadFile("jane", "orders", "All_Orders", "1", "Receipt", '
         '"x".toFile("r.txt"), "fake")', "POST",
         "/creator/v2/data/jane/orders/report/All_Orders/1/Receipt/upload", {"code": 3000},
         file_part="file", reply={"code": 3000}),
    # ---- Writer (https://www.zoho.com/writer/help/api/v1/) -------------------------------
    Case("zoho.writer.mergeAndSend",
         'zoho.writer.mergeAndSend("doc7", "pdf", "a@b.c", {"name": "Ann"}, "fake")', "POST",
         "/writer/api/v1/documents/doc7/merge/email", {"status": "inprogress"},
         form={"output_format": "pdf", "email_to": "a@b.c",
               "merge_data": '{"data":[{"name":"Ann"}]}'}, reply={"status": "inprogress"}),
    # ---- Projects (https://www.zoho.com/projects/help/rest-api/) -------------------------
    Case("zoho.projects.getRecordById",
         'zoho.projects.getRecordById("acme", "170876", "Tasks", "170890", "fake")', "GET",
         "/restapi/portal/acme/projects/170876/tasks/170890/",
         {"tasks": [{"id": 170890, "name": "Ship"}]},
         reply={"tasks": [{"id": 170890, "name": "Ship"}]}),
    Case("zoho.projects.getRecords",
         'zoho.projects.getRecords("acme", "170876", "bugs", 0, 10, "fake")', "GET",
         "/restapi/portal/acme/projects/170876/bugs/", {"bugs": []},
         query={"index": "0", "range": "10"}, reply={"bugs": []}),
    Case("zoho.projects.getRecords",
         'zoho.projects.getRecords("acme", "170876", "tasks", {"status": "open"}, "fake")',
         "GET", "/restapi/portal/acme/projects/170876/tasks/", {"tasks": []},
         query={"status": "open"}, reply={"tasks": []}),
    Case("zoho.projects.create",
         'zoho.projects.create("acme", "170876", "tasks", {"name": "Pack"}, "fake")', "POST",
         "/restapi/portal/acme/projects/170876/tasks/", {"tasks": [{"id": 1}]},
         form={"name": "Pack"}, reply={"tasks": [{"id": 1}]}),
    Case("zoho.projects.update",
         'zoho.projects.update("acme", "170876", "tasks", "1", {"percent_complete": 50}, '
         '"fake")', "POST", "/restapi/portal/acme/projects/170876/tasks/1/",
         {"error": {"code": 6404, "message": "Resource not found"}},
         form={"percent_complete": "50"}, status=404,
         reply={"error": {"code": 6404, "message": "Resource not found"}}),
    # ---- People (https://www.zoho.com/people/api/) ---------------------------------------
    Case("zoho.people.getRecordById",
         'zoho.people.getRecordByID("employee", "413124000000293001", "fake")', "GET",
         "/people/api/forms/employee/getDataByID", {"EmployeeID": "E1", "FirstName": "Ann"},
         query={"recordId": "413124000000293001"},
         reply={"response": {"result": [{"EmployeeID": "E1", "FirstName": "Ann"}],
                             "message": "Data fetched successfully", "status": 0}}),
    Case("zoho.people.create",
         'zoho.people.create("department", {"Department": "Ops"}, "fake")', "POST",
         "/people/api/forms/json/department/insertRecord",
         {"result": {"pkId": "9", "message": "Successfully Added"}, "status": 0},
         form={"inputData": '{"Department":"Ops"}'},
         reply={"response": {"result": {"pkId": "9", "message": "Successfully Added"},
                             "status": 0}}),
    Case("zoho.people.update",
         'zoho.people.update("department", {"recordid": "9", "Department": "Ops2"}, "fake")',
         "POST", "/people/api/forms/json/department/updateRecord",
         {"errors": {"code": 7024, "message": "No record found"}, "status": 1},
         form={"inputData": '{"Department":"Ops2"}', "recordId": "9"},
         reply={"response": {"errors": {"code": 7024, "message": "No record found"},
                             "status": 1}}),
    # ---- Recruit (https://www.zoho.com/recruit/developer-guide/apiv2/) -------------------
    Case("zoho.recruit.getRecordById", 'zoho.recruit.getRecordById("Candidates", "31", "fake")',
         "GET", "/recruit/v2/Candidates/31", {"id": "31", "Last_Name": "Roe"},
         reply={"data": [{"id": "31", "Last_Name": "Roe"}]}),
    Case("zoho.recruit.addRecord", 'zoho.recruit.addRecord("Candidates", {"Last_Name": "Roe"}, '
         '2, true, "fake")', "POST", "/recruit/v2/Candidates/upsert", DETAILS,
         json_body={"data": [{"Last_Name": "Roe"}], "trigger": ["workflow"]}, status=201,
         reply=WRITTEN),
    Case("zoho.recruit.updateRecord", 'zoho.recruit.updateRecord("Candidates", "31", '
         '{"City": "Oslo"}, false, "fake")', "PUT", "/recruit/v2/Candidates/31", DETAILS,
         json_body={"data": [{"City": "Oslo"}], "trigger": []}, reply=WRITTEN),
    # https://www.zoho.com/deluge/help/recruit/fetch-records.html ("(Last Name,Website,
    # Email)") onto https://www.zoho.com/recruit/developer-guide/apiv2/get-records.html
    Case("zoho.recruit.getRecords", 'zoho.recruit.getRecords("Candidates", 1, 2, '
         '"(Last Name,Website,Email)", "Last Name", "desc", "fake")', "GET",
         "/recruit/v2/Candidates", CANDIDATES,
         query={"page": "1", "per_page": "2", "fields": "Last_Name,Website,Email",
                "sort_by": "Last_Name", "sort_order": "desc"},
         reply={"data": CANDIDATES, "info": {"per_page": 2, "count": 2, "page": 1,
                                             "more_records": True}}),
    # fromIndex 5 to toIndex 7: page 2 of 4 records, the last one dropped
    Case("zoho.recruit.getRecords", 'zoho.recruit.getRecords("Candidates", 5, 7, "fake")',
         "GET", "/recruit/v2/Candidates", [{"id": str(i)} for i in (5, 6, 7)],
         query={"page": "2", "per_page": "4"},
         reply={"data": [{"id": str(i)} for i in (5, 6, 7, 8)],
                "info": {"per_page": 4, "count": 4, "page": 2, "more_records": True}}),
    # https://www.zoho.com/deluge/help/recruit/search-records.html ("<fieldName>|<operator>|
    # <fieldValue>") onto https://www.zoho.com/recruit/developer-guide/apiv2/search-records.html;
    # without indexes getSearchRecords' defaults, fromIndex 1 and toIndex 20
    Case("zoho.recruit.searchRecords", 'zoho.recruit.searchRecords("Candidates", '
         '"(Current Employer|=|Zylker)", "fake")', "GET", "/recruit/v2/Candidates/search",
         CANDIDATES, query={"criteria": "(Current_Employer:equals:Zylker)", "page": "1",
                            "per_page": "20"},
         reply={"data": CANDIDATES, "info": {"per_page": 20, "count": 2, "page": 1,
                                             "more_records": False}}),
    # the v2 page's own example, "((Last_Name:equals:Burns\,B)and(First_Name:starts_with:M))",
    # written as the task's conditions; selectColumns kept by the task (v2 search has no
    # `fields`), each record with its id
    Case("zoho.recruit.searchRecords", 'zoho.recruit.searchRecords("Candidates", '
         '"(Last Name|=|Burns,B)and(First Name|starts with|M*)", 1, 5, "(First Name,Email)", '
         '"fake")', "GET", "/recruit/v2/Candidates/search",
         [{"id": "61", "First_Name": "Mia", "Email": "mia@zylker.com"}],
         query={"criteria": "((Last_Name:equals:Burns\\,B)and(First_Name:starts_with:M))",
                "page": "1", "per_page": "5"},
         reply={"data": [{"id": "61", "First_Name": "Mia", "Last_Name": "Burns,B",
                          "Email": "mia@zylker.com", "City": "Oslo"}]}),
    # no match: HTTP 204 without a body, an empty LIST
    Case("zoho.recruit.searchRecords", 'zoho.recruit.searchRecords("Candidates", '
         '"(Email|=|nobody@zylker.com)", 1, 10, "fake")', "GET",
         "/recruit/v2/Candidates/search", [],
         query={"criteria": "(Email:equals:nobody@zylker.com)", "page": "1",
                "per_page": "10"}, status=204, reply=b""),
]


def _books_family(ns: str, api: str) -> list[Case]:
    """Books API v3 and Inventory API v1 have the same endpoint shapes."""
    org = {"organization_id": "10234695"}
    invoice = {"code": 0, "message": "success", "invoice": {"invoice_id": "90002"}}
    return [
        Case(f"zoho.{ns}.getRecords",
             f'zoho.{ns}.getRecords("Invoices", "10234695", "status=overdue&page=2", "fake")',
             "GET", f"{api}/invoices", {"code": 0, "invoices": []},
             query={**org, "status": "overdue", "page": "2"},
             reply={"code": 0, "invoices": []}),
        Case(f"zoho.{ns}.getRecordsByID",
             f'zoho.{ns}.getRecordsByID("invoices", "10234695", "nope", "fake")', "GET",
             f"{api}/invoices/nope", {"code": 1002, "message": "Invoice does not exist."},
             query=org, status=404,
             reply={"code": 1002, "message": "Invoice does not exist."}),
        Case(f"zoho.{ns}.createRecord",
             f'zoho.{ns}.createRecord("invoices", 10234695, {{"customer_id": "7"}}, "fake")',
             "POST", f"{api}/invoices", invoice, query=org, json_body={"customer_id": "7"},
             status=201, reply=invoice),
        Case(f"zoho.{ns}.updateRecord",
             f'zoho.{ns}.updateRecord("invoices", "10234695", "90002", '
             f'{{"reference_number": "PO-9"}}, "fake")', "PUT", f"{api}/invoices/90002",
             invoice, query=org, json_body={"reference_number": "PO-9"}, reply=invoice),
        Case(f"zoho.{ns}.markStatus",
             f'zoho.{ns}.markStatus("invoices", "10234695", "90002", "Sent", "fake")', "POST",
             f"{api}/invoices/90002/status/sent",
             {"code": 0, "message": "Invoice status has been changed to Sent."}, query=org,
             reply={"code": 0, "message": "Invoice status has been changed to Sent."}),
        Case(f"zoho.{ns}.attachFile",
             f'zoho.{ns}.attachFile("invoices", "10234695", "90002", "%".toFile("a.pdf"), '
             f'"fake")', "POST", f"{api}/invoices/90002/attachment",
             {"code": 0, "message": "Your file has been attached."}, query=org,
             file_part="attachment",
             reply={"code": 0, "message": "Your file has been attached."}),
        Case(f"zoho.{ns}.getOrganization", f'zoho.{ns}.getOrganization("fake")', "GET",
             f"{api}/organizations", {"code": 0, "organizations": [{"organization_id": "1"}]},
             reply={"code": 0, "organizations": [{"organization_id": "1"}]}),
    ]


def _billing_family(ns: str, api: str) -> list[Case]:
    """Billing (formerly Subscriptions): the org id travels in a header."""
    org = {"X-com-zoho-subscriptions-organizationid": "10982991"}
    sub = {"code": 0, "message": "success", "subscription": {"subscription_id": "90"}}
    return [
        Case(f"zoho.{ns}.retrieve",
             f'zoho.{ns}.retrieve("Subscriptions", "10982991", "90", "fake")', "GET",
             f"{api}/subscriptions/90", sub, headers=org, reply=sub),
        Case(f"zoho.{ns}.getList", f'zoho.{ns}.getList("customers", "10982991", 25, 2, "fake")',
             "GET", f"{api}/customers", {"code": 0, "customers": []}, headers=org,
             query={"per_page": "25", "page": "2"}, reply={"code": 0, "customers": []}),
        Case(f"zoho.{ns}.create",
             f'zoho.{ns}.create("subscriptions", "10982991", {{"customer_id": "4"}}, "fake")',
             "POST", f"{api}/subscriptions", sub, headers=org, json_body={"customer_id": "4"},
             status=201, reply=sub),
        Case(f"zoho.{ns}.update",
             f'zoho.{ns}.update("customers", "10982991", "4", {{"display_name": "A"}}, "fake")',
             "PUT", f"{api}/customers/4", {"code": 3004, "message": "Customer not found"},
             headers=org, json_body={"display_name": "A"}, status=404,
             reply={"code": 3004, "message": "Customer not found"}),
        Case(f"zoho.{ns}.getOrganization", f'zoho.{ns}.getOrganization("fake")', "GET",
             f"{api}/organizations", {"code": 0, "organizations": []},
             reply={"code": 0, "organizations": []}),
    ]


CASES += (_books_family("books", "/books/v3") + _books_family("inventory", "/inventory/v1")
          + _billing_family("billing", "/billing/v1")
          + _billing_family("subscriptions", "/subscriptions/v1"))


@pytest.fixture(scope="module")
def vendor(fake: FakeVendor, migrated_template: Path, tmp_path_factory: pytest.TempPathFactory,
           leaks: Leaks) -> Iterator[Runner]:
    """A connection 'fake' whose base URL is the fake vendor; every call goes through it.
    One registry for the module: the cases only read it."""
    path = tmp_path_factory.mktemp("vendor") / "sluicegate.db"
    shutil.copyfile(migrated_template, path)
    engine = make_engine(f"sqlite:///{path}")
    registry = Registry(engine, Keyring.from_texts([leaks.secret(generate_key())]),
                        actor="tests")
    registry.add("fake", "api_key", base_urls=[fake.url + "/"], secret=leaks.secret(API_KEY))
    broker = Broker(registry, policy=HostPolicy())
    try:
        yield Runner(broker, leaks)
    finally:
        broker.close()
        engine.dispose()
        leaks.output(dump_database(f"sqlite:///{path}"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_task_sends_the_documented_request_and_gives_the_tasks_value(
        case: Case, fake: FakeVendor, vendor: Runner) -> None:
    fake.seen.clear()
    fake.reply = (case.status, case.reply, case.reply_headers)
    result = vendor(f"return {case.script};")
    assert result.ok, result.error
    assert result.to_json()["return"] == case.expect
    assert len(fake.seen) == 1
    sent = fake.seen[0]
    assert (sent.method, sent.path) == (case.method, case.path)
    assert sent.query == case.query
    for name, value in case.headers.items():
        assert sent.headers.get(name.lower()) == value, name
    content_type = sent.headers.get("content-type", "")
    if case.json_body is not None:
        assert content_type == "application/json"
        assert json.loads(sent.body) == case.json_body
    elif case.form is not None:
        assert content_type.startswith("application/x-www-form-urlencoded")
        assert dict(parse_qsl(sent.body.decode())) == case.form
    elif case.file_part is not None:
        assert content_type.startswith("multipart/form-data")
        assert f'name="{case.file_part}"; filename='.encode() in sent.body
    else:
        assert sent.body == b""
    assert sent.headers.get("x-api-key") == API_KEY  # signed by the connection


def test_every_task_has_a_case() -> None:
    covered = {c.task for c in CASES} | {"zoho.writer.mergeAndDownload"}
    assert covered == {t.name for t in TASKS}


def test_merge_and_download_gives_the_merged_document_as_a_file(
        fake: FakeVendor, vendor: Runner) -> None:
    fake.seen.clear()
    fake.reply = (200, b"%PDF-1.7 merged", {"Content-Type": "application/pdf",
                                            "Content-Disposition": 'attachment; '
                                            'filename="offer.pdf"'})
    result = vendor('f = zoho.writer.mergeAndDownload("doc7", "PDF", {"name": "Ann"}, "fake");'
                    'return {"name": f.getFileName(), "size": f.getFileSize(), '
                    '"text": f.getFileContent()};')
    assert result.ok, result.error
    assert result.value == {"name": "offer.pdf", "size": 15, "text": "%PDF-1.7 merged"}
    sent = fake.seen[0]
    assert (sent.method, sent.path) == ("POST", "/writer/api/v1/documents/doc7/merge")
    assert dict(parse_qsl(sent.body.decode())) == {
        "output_format": "pdf", "merge_data": '{"data":[{"name":"Ann"}]}'}
    fake.reply = (400, {"error": {"code": "R6002", "message": "Invalid document"}}, {})
    refused = vendor('return zoho.writer.mergeAndDownload("x", "pdf", {}, "fake");')
    assert refused.ok and refused.value == {"error": {"code": "R6002",
                                                      "message": "Invalid document"}}


def test_tasks_without_a_connection_use_the_organizations_connection_of_the_service(
        registry: Registry, fake: FakeVendor, provider: LocalProvider, broker,  # type: ignore[no-untyped-def]
        leaks: Leaks) -> None:
    from connlab import add_oauth2, authorize

    run = Runner(broker, leaks)
    missing = run('return zoho.desk.getRecordById(6470, "tickets", "1");')
    assert ("zoho.desk tasks called without a connection use the organization's zoho_desk "
            "connection, and there is none") in missing.error.message
    add_oauth2(registry, provider, link="helpdesk", service="zoho_desk",
               base_urls=[fake.url + "/"], scopes=["Desk.tickets.ALL"])
    authorize(registry, provider, link="helpdesk")
    fake.seen.clear()
    fake.reply = (200, TICKET, {})
    result = run('return zoho.desk.getRecordById(6470, "tickets", "1892000000093001");')
    assert result.ok and result.value["subject"] == "Printer jam", result.error
    assert result.http[0]["connection"] == "helpdesk"
    assert fake.seen[0].path == "/api/v1/tickets/1892000000093001"
    assert fake.seen[0].headers["authorization"].startswith("Zoho-oauthtoken ")
    assert fake.seen[0].headers["orgid"] == "6470"


def test_arguments_of_the_wrong_kind_are_named() -> None:
    from sluicegate.engine import Runtime

    rt = Runtime()
    bad = rt.run('return zoho.desk.create(1, "tickets", "subject=x", "c");')
    assert bad.error.message == ("zoho.desk.create: the record argument must be MAP but "
                                 "found TEXT")
    few = rt.run('return zoho.desk.create(1, "tickets");')
    assert few.error.message == ("Function 'zoho.desk.create' expects 3 to 4 arguments but "
                                 "got 2")
    refused = rt.run('return zoho.crm.invokeConnector("googledrive.contacts", {"a": 1});')
    assert refused.error.message.startswith('Not supported in this runtime: '
                                            'zoho.crm.invokeConnector("googledrive.contacts")')
    missing = rt.run('return zoho.crm.invokeConnector("crm.delete", {"module": "Leads"});')
    assert missing.error.message == ('zoho.crm.invokeConnector("crm.delete"): the parameter '
                                     "map needs 'id'")


def _page_of_candidates(page: int, first: int, last: int, more: bool
                        ) -> tuple[int, Any, dict[str, str]]:
    data = [{"id": str(i)} for i in range(first, last + 1)]
    return (200, {"data": data, "info": {"per_page": 200, "count": len(data), "page": page,
                                          "more_records": more}}, {})


def test_a_recruit_range_that_no_page_holds_reads_the_two_pages_it_spans(
        fake: FakeVendor, vendor: Runner) -> None:
    """Records 101 to 300: no v2 page holds them, so pages 1 and 2 of 200 are read and the
    range is cut out of the 400 records they give."""
    fake.seen.clear()
    fake.pages = {"1": _page_of_candidates(1, 1, 200, True),
                  "2": _page_of_candidates(2, 201, 400, True)}
    try:
        result = vendor('return zoho.recruit.getRecords("Candidates", 101, 300, "fake");')
        short = vendor('return zoho.recruit.getRecords("Candidates", 100, 210, "fake");')
        fake.pages = {"1": _page_of_candidates(1, 1, 170, False)}   # only 170 records exist
        fewer = vendor('return zoho.recruit.getRecords("Candidates", 101, 300, "fake");')
        fake.pages = {"1": _page_of_candidates(1, 1, 200, True),
                      "2": (401, {"code": "INVALID_TOKEN", "status": "error"}, {})}
        refused = vendor('return zoho.recruit.getRecords("Candidates", 101, 300, "fake");')
    finally:
        fake.pages = {}
    assert result.ok, result.error
    assert [r["id"] for r in result.value] == [str(i) for i in range(101, 301)]
    assert [s.query for s in fake.seen[:2]] == [{"page": "1", "per_page": "200"},
                                                {"page": "2", "per_page": "200"}]
    assert [r["id"] for r in short.value] == [str(i) for i in range(100, 211)]
    assert [r["id"] for r in fewer.value] == [str(i) for i in range(101, 171)]
    assert len(fake.seen) == 2 + 2 + 1 + 2   # the third: its page said no more follow
    assert refused.ok and refused.value == {"code": "INVALID_TOKEN", "status": "error"}


def test_recruit_indexes_and_conditions_that_v2_cannot_express_are_refused_by_name() -> None:
    from sluicegate.engine import Runtime

    rt = Runtime()
    contains = rt.run('return zoho.recruit.searchRecords("Candidates", '
                      '"(Email|contains|*@zylker.com*)", "recruit");')
    assert contains.error.message == (
        "Not supported in this runtime: zoho.recruit.searchRecords: the operator 'contains' "
        "of '(Email|contains|*@zylker.com*)': the Recruit API v2 searches only with = "
        "(equals) and starts with")
    assert contains.error.line == 1
    backwards = rt.run('return zoho.recruit.getRecords("Candidates", 9, 3);')
    assert backwards.error.message == "zoho.recruit.getRecords: toIndex 3 is before fromIndex 9"
    shapeless = rt.run('return zoho.recruit.searchRecords("Candidates", "Email=a@b.c");')
    assert shapeless.error.message == ("zoho.recruit.searchRecords: the searchCondition "
                                       "'Email=a@b.c' is not written (field|operator|value)")


def test_recruit_index_ranges_map_to_the_smallest_page_that_holds_them() -> None:
    from sluicegate.integrations import Pick, request_for

    def sent(*args: object) -> tuple[dict[str, str], Pick | None, str | None]:
        _, api, connection = request_for("zoho.recruit.getRecords", "Candidates", *args)
        return dict(api.query), api.pick, connection

    assert sent(201, 400) == ({"page": "2", "per_page": "200"}, Pick(0, 200), None)
    assert sent(1, 500) == ({"page": "1", "per_page": "200"}, Pick(0, 200), None)  # 200 most
    assert sent(150, 250) == ({"page": "2", "per_page": "125"}, Pick(24, 101), None)
    _, two, _ = request_for("zoho.recruit.getRecords", "Candidates", 101, 300)
    assert (dict(two.query), two.pick, two.pages) == (
        {"page": "1", "per_page": "200"}, Pick(100, 200), 2)
    # the trailing sort order is a sort order, not the connection; "all" is a selectColumns
    query, _, connection = sent(1, 10, "all", "Email", "desc")
    assert connection is None and query["sort_order"] == "desc" and "fields" not in query
    assert sent(1, 10, "recruit")[2] == "recruit"


def test_signatures_describe_every_task_with_its_connection() -> None:
    sigs = signatures()
    assert {n for n in sigs if not n.startswith("zoho.encryption.")} == {t.name for t in TASKS}
    search = sigs["zoho.desk.searchRecords"].to_json()
    assert [p["name"] for p in search["params"]] == ["org_id", "module", "query", "from",
                                                     "limit", "connection"]
    assert (search["min_args"], search["max_args"], search["returns"]) == (2, 6, "MAP")
    assert search["reference"].startswith("https://www.zoho.com/deluge/help/desk/")
    assert {s.service for s in sigs.values()} == set(SERVICES) | {"encryption"}


def test_invokeapi_reaches_every_service_through_its_organization_connection(
        registry: Registry, fake: FakeVendor, provider: LocalProvider, broker,  # type: ignore[no-untyped-def]
        leaks: Leaks) -> None:
    from connlab import add_oauth2, authorize

    add_oauth2(registry, provider, link="shopapp", service="zoho_creator",
               base_urls=[fake.url + "/creator/"], scopes=["ZohoCreator.report.ALL"])
    authorize(registry, provider, link="shopapp")
    fake.seen.clear()
    fake.reply = (200, CREATOR_ROWS, {})
    result = Runner(broker, leaks)('r = invokeapi [ service: zohocreator path: '
                                   '"/creator/v2/data/jane/orders/report/All_Orders" '
                                   'type: GET ]; return r.get("code");')
    assert result.ok and result.value == 3000, result.error
    assert result.http[0]["connection"] == "shopapp"
    assert fake.seen[0].path == "/creator/v2/data/jane/orders/report/All_Orders"


def test_isolated_children_may_name_every_service_for_the_implicit_connection() -> None:
    from sluicegate.http.messages import HttpRequest
    from sluicegate.isolation.protocol import ProtocolError, decode_request, encode_request

    for kind in SERVICES:
        request = HttpRequest("GET", "/api/v1/tickets", implicit=kind)
        assert decode_request(encode_request(request)).implicit == kind
    forged = encode_request(HttpRequest("GET", "/x", implicit="desk"))
    forged["implicit"] = "cliq"
    with pytest.raises(ProtocolError):
        decode_request(forged)


def test_a_fake_store_can_answer_a_task_without_the_network() -> None:
    """The workbench's fakes reuse the rows: building and shaping are pure."""
    from sluicegate.integrations import ApiResponse, request_for

    row, api, connection = request_for("zoho.desk.searchRecords", 6470, "Contacts",
                                       {"email": "a@b.c"}, 0, 1)
    assert (api.method, api.path, api.headers, connection) == (
        "GET", "/contacts/search", [("orgId", "6470")], None)
    assert api.query == [("email", "a@b.c"), ("from", "0"), ("limit", "1")]
    row, api, connection = request_for("zoho.crm.createRecord", "Leads", {"Last_Name": "Ng"},
                                       "crm")
    assert connection == "crm" and api.json == {"data": [{"Last_Name": "Ng"}]}
    assert row.shape(ApiResponse(201, {"data": [{"status": "success", "details": {
        "id": "7"}}]})) == {"id": "7"}


def test_a_request_of_several_pages_must_say_where_its_pages_start() -> None:
    """Later pages are asked by the `page` parameter: a task table row of several pages
    without one is refused where it is built, not answered with the first page alone."""
    from sluicegate.integrations.spec import ApiRequest

    with pytest.raises(ValueError, match="pages=2 needs a 'page' parameter"):
        ApiRequest("GET", "/Candidates", query=[("per_page", "200")], pages=2)
    assert ApiRequest("GET", "/Candidates", query=[("page", "1")], pages=2).pages == 2
