"""Creator form statements against a loopback fake of the Creator REST API v2 (issue 16,
point 2): `insert into`, `Form[criteria]` with sort and range, `for each` over a fetch,
field updates, aggregates, `delete from`; criteria sent in the API's syntax; criteria the
API cannot express refused, naming them; the application read from the organization map."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from sluicegate.connections.registry import Registry
from sluicegate.integrations.criteria import literal, render

from connlab import Leaks, Runner

_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(\d+(?:\.\d+)?)|(&&|\|\||==|!=|<=|>=|[<>()])'
                    r'|([A-Za-z_]\w*)\.(contains|startsWith|endsWith)\(|([A-Za-z_]\w*))')


_PY_METHODS = {"contains": "__contains__", "startsWith": "startswith", "endsWith": "endswith"}


def matches(criteria: str, record: dict[str, Any]) -> bool:
    """The fake's reading of Creator criteria (the subset the runtime sends)."""
    out, pos = [], 0
    while pos < len(criteria.rstrip()):
        m = _TOKEN.match(criteria, pos)
        assert m, f"fake cannot read criteria at {criteria[pos:]!r}"
        text, number, op, mfield, method, name = m.groups()
        if text is not None:
            out.append(repr(json.loads(text)))
        elif number is not None:
            out.append(number)
        elif op is not None:
            out.append({"&&": " and ", "||": " or "}.get(op, op))
        elif mfield is not None:
            out.append(f"str(r.get({mfield!r}) or '').{_PY_METHODS[method]}(")
        else:
            out.append({"true": "True", "false": "False", "null": "None"}.get(
                name, f"r.get({name!r})"))
        pos = m.end()
    # Creator compares numbers as numbers though its API writes IDs as text.
    typed = {k: int(v) if isinstance(v, str) and v.isdigit() else v for k, v in record.items()}
    return bool(eval("".join(out), {"__builtins__": {"str": str}}, {"r": typed}))  # noqa: S307


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else {}
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        path = unquote(parts.path)
        fake.log.append((self.command, path, query.get("criteria") or body.get("criteria")))
        base = "/creator/v2/data/jane/shop"
        if self.command == "POST" and path == f"{base}/form/Orders":
            fake.next_id += 1
            rid = str(fake.next_id)
            fake.records[rid] = {"ID": rid, **body["data"]}
            return self._reply(200, {"code": 3000, "data": {"ID": rid},
                                     "message": "Data Added Successfully!"})
        if path.startswith(f"{base}/form/"):
            return self._reply(400, {"code": 2945, "message": "Invalid form link name"})
        if not path.startswith(f"{base}/report/All_Orders"):
            return self._reply(404, {"code": 2894, "message": "No report found"})
        rest = path[len(f"{base}/report/All_Orders"):].strip("/")
        if rest:  # one record by ID
            if rest not in fake.records:
                return self._reply(404, {"code": 3001, "message": "No records found"})
            fake.records[rest].update(body.get("data", {}))
            return self._reply(200, {"code": 3000, "data": {"ID": rest},
                                     "message": "Data Updated Successfully!"})
        criteria = query.get("criteria") or body.get("criteria")
        found = [r for r in fake.records.values() if not criteria or matches(criteria, r)]
        if self.command == "GET":
            start, limit = int(query.get("from", "1")), int(query.get("limit", "200"))
            page = found[start - 1:start - 1 + limit]
            if not page:
                return self._reply(200, {"code": 3100, "message": "No Data Available"})
            return self._reply(200, {"code": 3000, "data": page})
        if self.command == "PATCH":
            for r in found:
                r.update(body["data"])
        else:
            for r in found:
                del fake.records[r["ID"]]
        return self._reply(200, {"code": 3000, "result": [{"code": 3000, "data": {
            "ID": r["ID"]}} for r in found]})

    do_GET = do_POST = do_PATCH = do_DELETE = _route


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeCreator


class FakeCreator:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.next_id = 3888833000000114000
        self.log: list[tuple[str, str, str | None]] = []
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


@pytest.fixture
def creator(registry: Registry, leaks: Leaks) -> Iterator[FakeCreator]:
    fake = FakeCreator()
    registry.add("shopapp", "api_key", base_urls=[fake.url + "/creator/"],
                 secret=leaks.secret("ck_creator_forms_key"))
    try:
        yield fake
    finally:
        fake.stop()


ORG = {"creator_owner": "jane", "creator_application": "shop",
       "creator_reports": {"Orders": "All_Orders"}, "creator_connection": "shopapp"}


def test_form_statements_run_against_the_creator_application(
        creator: FakeCreator, run: Runner) -> None:
    result = run('''
        id = insert into Orders [ Item = "Pen" Qty = 2 Status = "Open" ];
        insert into Orders [ Item = "Ink" Qty = 5 Status = "Open" ];
        insert into Orders [ Item = "Pad" Qty = 1 Status = "Closed" ];
        open = Orders[Status == "Open" && Qty >= 2] sort by Qty desc;
        top = Orders[Status == "Open"] sort by Qty desc range from 0 to 0;
        for each r in Orders[Item in {"Pen", "Pad"}]
        {
            r.Status = "Done";
        }
        Orders[Item == "Ink"].Status = "Shipped";
        done = Orders[Status == "Done"].count();
        items = Orders[Qty > 0].Item.getAll();
        total = Orders[Qty > 0].sum(Qty);
        first = Orders[ID == id].Item;
        kept = Orders[Status == "Done"];
        delete from Orders[ID == id];
        return {"id": id, "open": open.size(), "order": open.get(0).get("Item"),
                "top": top.get(0).get("Item"), "done": done, "items": items,
                "total": total, "first": first, "left": Orders[ID != 0].count(),
                "none": Orders[Item.startsWith("Z")].size(), "kept": kept.count(),
                "keptFirst": kept.Status};
    ''', {"organization": ORG})
    assert result.ok, result.error
    assert result.to_json()["return"] == {
        "id": 3888833000000114001, "open": 2, "order": "Ink", "top": "Ink", "done": 2,
        "items": ["Pen", "Ink", "Pad"], "total": 8, "first": "Pen", "left": 2, "none": 0,
        "kept": 2, "keptFirst": "Done"}
    assert sorted(r["Status"] for r in creator.records.values()) == ["Done", "Shipped"]
    sent = [(m, p.rsplit("/", 2)[-2:], c) for m, p, c in creator.log]
    assert ("GET", ["report", "All_Orders"], '(Status == "Open" && Qty >= 2)') in sent
    assert ("GET", ["report", "All_Orders"], '(Item == "Pen" || Item == "Pad")') in sent
    assert ("PATCH", ["report", "All_Orders"], 'Item == "Ink"') in sent
    assert ("DELETE", ["report", "All_Orders"], "ID == 3888833000000114001") in sent
    assert ("PATCH", ["All_Orders", "3888833000000114003"], None) in sent  # r.Status = ...
    assert ("GET", ["report", "All_Orders"], "ID == 3888833000000114001") in sent  # a NUMBER
    assert all(c["connection"] == "shopapp" for c in result.http)


def test_criteria_the_api_cannot_express_are_refused_by_name(
        creator: FakeCreator, run: Runner) -> None:
    result = run('x = Orders[Qty * 2 > 5];', {"organization": ORG})
    assert result.error.message.startswith(
        "Not supported in this runtime: Creator criteria 'Qty * 2 > 5': only Field == value")
    assert result.error.line == 1
    tail = run('x = Orders[Qty > 1] group by Item;', {"organization": ORG})
    assert "clause 'group by Item' after Orders[...]" in tail.error.message
    assert creator.log == []


def test_creator_errors_raise_with_the_apis_message(creator: FakeCreator, run: Runner) -> None:
    bad = run('insert into Ordres [ Item = "x" ];', {"organization": ORG})
    assert bad.error.message == ("Creator insert into Ordres failed: Invalid form link name "
                                 "(code 2945)")
    missing = run('x = Invoices[ID == 1];', {"organization": ORG})
    assert "records of form 'Invoices' are read through report 'All_Invoicess'" in \
        missing.error.message
    none = run('x = Orders[ID == 1];', {"organization": {"creator_owner": "jane"}})
    assert none.error.message == (
        "Not supported in this runtime: Orders[...] needs the Creator application it runs "
        "against; set creator_owner and creator_application in the organization profile "
        "(the 'organization' input of the run)")


def test_criteria_values_are_written_as_creator_literals() -> None:
    assert literal('say "hi" \\ bye') == '"say \\"hi\\" \\\\ bye"'
    assert [literal(v) for v in (None, True, 12, "x")] == ["null", "true", "12", '"x"']
    parts = (("t", "("), ("in", "Email", 0), ("t", " && "), ("t", "Qty > "), ("v", 1),
             ("t", ")"))
    assert render(parts, [["a@x", "b@x"], 3]) == '((Email == "a@x" || Email == "b@x") && ' \
        'Qty > 3)'
    assert render((("in", "Email", 0),), [[]]) == "(ID == 0)"


def test_fetches_page_through_the_api_and_sort_as_creator_does(
        creator: FakeCreator, run: Runner) -> None:
    """Creator answers at most 200 records a request and writes numbers as text: a fetch
    reads every page; `sort by` orders numbers as numbers; a range without a sort is asked
    of the API itself."""
    for i in range(1, 251):
        creator.records[str(i)] = {"ID": str(i), "Qty": str(i % 17), "Item": f"item{i}"}
    result = run('''
        n = Orders[ID != 0].count();
        window = Orders[ID != 0] range from 201 to 203;
        top = Orders[ID != 0] sort by Qty desc range from 1 to 2;
        return {"n": n, "window": window.ID.getAll(), "top": top.Qty.getAll()};
    ''', {"organization": ORG})
    assert result.ok, result.error
    assert result.value == {"n": 250, "window": [201, 202, 203], "top": ["16", "16"]}
    gets = [q for m, _, q in creator.log if m == "GET"]
    assert len(gets) == 5  # two pages, one window, two pages


# A record as the Creator REST API v2 answers it (https://www.zoho.com/creator/help/api/v2/
# "Get Records"): JSON numbers for Number/Decimal fields, a list for a multi-select, maps for
# the composite Name and Address and for a lookup, IDs and dates as text in the
# application's date format.
DOCUMENTED = {
    "ID": "3888833000000114027", "Item": "Pen", "Qty": 3, "Price": 12.5,
    "Name": {"display_value": "Mr. Jason Smith", "prefix": "Mr.", "first_name": "Jason",
             "last_name": "Smith", "suffix": ""},
    "Address": {"display_value": "Oslo, Norway", "district_city": "Oslo",
                "country": "Norway", "postal_code": "0150"},
    "Colors": ["Red", "Blue"],
    "Customer": {"ID": "3888833000000114100", "display_value": "Zylker"},
    "Tags": [{"ID": "3888833000000114200", "display_value": "rush"}],
    "Due": "07-Jun-2020", "Shipped": "09-Jun-2020", "Weight": "4",
    "Added_Time": "05-Jun-2020 10:15:00",
}


def test_fetched_records_carry_typed_values_for_arithmetic_and_dates(
        creator: FakeCreator, run: Runner) -> None:
    creator.records[DOCUMENTED["ID"]] = dict(DOCUMENTED)
    creator.records["3888833000000114028"] = {**DOCUMENTED, "ID": "3888833000000114028",
                                              "Qty": 2, "Price": 0.25, "Weight": "x"}
    org = {**ORG, "creator_fields": {"Orders": {"Due": "date", "Weight": "number"}}}
    result = run('''
        total = 0;
        weights = List();
        for each r in Orders[Qty > 0] sort by Qty desc
        {
            total = total + r.Qty * r.Price;
            weights.add(r.Weight);
        }
        r = Orders[Qty == 3];
        return {"total": total, "next": r.Qty + 1, "due": r.Due.addDay(1).toString("yyyy-MM-dd"),
                "days": daysBetween(r.Added_Time, r.Due), "added": r.Added_Time.getHour(),
                "shipped": r.Shipped, "first": r.Name.get("first_name"),
                "city": r.Address.get("district_city"), "colors": r.Colors.size(),
                "customer": r.Customer.get("ID") + 1, "tag": r.Tags.get(0).get("ID"),
                "weights": weights, "id": r.ID - 27};
    ''', {"organization": org})
    assert result.ok, result.error
    assert result.value == {
        "total": 38, "next": 4, "due": "2020-06-08", "days": 2, "added": 10,
        "shipped": "09-Jun-2020",      # not declared a date: the API's text
        "first": "Jason", "city": "Oslo", "colors": 2,
        "customer": 3888833000000114101, "tag": 3888833000000114200,
        "weights": [4, "x"],           # declared a number; "x" is not one, kept as text
        "id": 3888833000000114000}


def test_the_applications_date_format_and_declared_kinds_come_from_the_profile(
        creator: FakeCreator, run: Runner) -> None:
    creator.records["1"] = {"ID": "1", "Due": "06/07/2020", "Paid": "true",
                            "Modified_Time": "06/08/2020 09:30:00"}
    org = {**ORG, "creator_date_format": "MM/dd/yyyy",
           "creator_fields": {"Orders": {"Due": "date", "Paid": "boolean"}}}
    result = run('r = Orders[ID == 1]; return {"month": r.Due.getMonth(), '
                 '"paid": r.Paid && true, "later": r.Modified_Time > r.Due};',
                 {"organization": org})
    assert result.ok, result.error
    assert result.value == {"month": 6, "paid": True, "later": True}
    # without creator_date_format, the organization's own date format
    org_format = {**ORG, "date_format": "MM/dd/yyyy",
                  "creator_fields": {"Orders": {"Due": "date"}}}
    same = run("return Orders[ID == 1].Due.getDay();", {"organization": org_format})
    assert same.ok and same.value == 7, same.error
    bad = run('r = Orders[ID == 1];', {"organization": {
        **ORG, "creator_fields": {"Orders": {"Due": "calendar"}}}})
    assert bad.error.message == (
        "creator_fields of the organization profile: Orders.Due is 'calendar', not one of "
        "boolean, date, datetime, decimal, number, text")
