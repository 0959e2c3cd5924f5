"""Fake Zoho services for tests: an in-memory record store and the REST answers of CRM
and Books over it, in the vendor's response shapes.

The integration tasks (`zoho.crm.getRecordById`, `zoho.books.getRecords`, ...) are HTTP
calls in this runtime (stdlib.tasks builds `GET /crm/v2/Leads/123`, `GET
/books/v3/invoices?organization_id=...`), so the fakes sit where the network would be:
the test broker hands a request whose path falls under a service's API root to that
service, which reads or changes the `FakeStore`. Scripts that call the REST API with
`invokeurl` on a zohoapis host reach the same fakes.

A service is a small class with `name`, `root` (a regex over the URL path that captures
the part after the API root) and `handle(request, store)`; `SERVICES` is the table the
broker consults, so another service (Desk, Creator, ...) plugs in by adding a row.

Shapes (vendor API references):
- CRM v2: records `{"data": [...], "info": {...}}`; no records: 204 and no body; a write
  `{"data": [{"code": "SUCCESS", "details": {"id": ..., "Created_Time": ...},
  "message": "record added", "status": "success"}]}`; an unknown id: 400
  `{"code": "INVALID_DATA", "details": {}, "message": "the related id given seems to be
  invalid", "status": "error"}` (CRM API errors, status 400 INVALID_DATA).
- Books v3: `{"code": 0, "message": "success", "invoices": [...], "page_context": {...}}`;
  one record under its singular name; an unknown id: 404 `{"code": 1002, "message":
  "Invoice does not exist."}` (Books API "Errors" page).
"""

from __future__ import annotations

__all__ = ["FakeStore", "Change", "FakeAnswer", "CrmService", "BooksService", "SERVICES",
           "service_for"]

import copy
import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from ..http.messages import HttpRequest
from ..values import to_json_text


@dataclass
class Change:
    """One write a script made to the fake store."""

    kind: str  # created | updated | deleted
    service: str
    module: str
    id: str
    fields: dict[str, Any]

    @property
    def qualified(self) -> str:
        return f"{self.service}.{self.module}"


@dataclass
class FakeAnswer:
    status: int
    body: Any = None  # JSON-ready, or None for an empty body

    def encoded(self) -> bytes:
        """The body as the API writes it; decimals keep their scale (`1250.50`)."""
        if self.body is None:
            return b""
        return to_json_text(self.body).encode("utf-8")


@dataclass
class FakeStore:
    """service -> module -> records; ids are handed out from a counter, so a case always
    gets the same ids; `changes` lists every create, update and delete in order."""

    records: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    clock: _dt.datetime = _dt.datetime(2026, 1, 15, 9, 0, tzinfo=_dt.UTC)
    changes: list[Change] = field(default_factory=list)
    _counter: int = 0

    @classmethod
    def seeded(cls, seed: dict[str, dict[str, list[dict[str, Any]]]],
               variables: dict[str, Any], clock: _dt.datetime) -> FakeStore:
        return cls(copy.deepcopy(seed), dict(variables), clock)

    def module(self, service: str, name: str, create: bool = False) -> list[dict[str, Any]] | None:
        modules = self.records.setdefault(service, {})
        for key, records in modules.items():
            if key.lower() == name.lower():
                return records
        if create:
            modules[name] = []
            return modules[name]
        return None

    def new_id(self) -> str:
        self._counter += 1
        return str(5_000_000_000_000 + self._counter)

    def timestamp(self) -> str:
        return self.clock.isoformat(timespec="seconds")

    def record(self, kind: str, service: str, module: str, record_id: str,
               fields: dict[str, Any]) -> None:
        self.changes.append(Change(kind, service, module, record_id, copy.deepcopy(fields)))


class FakeService(Protocol):
    name: str
    root: re.Pattern[str]

    def handle(self, method: str, path: str, query: dict[str, str], body: Any,
               store: FakeStore) -> FakeAnswer: ...


def _find(records: list[dict[str, Any]], id_fields: tuple[str, ...],
          record_id: str) -> dict[str, Any] | None:
    for rec in records:
        for name in id_fields:
            if name in rec and str(rec[name]) == record_id:
                return rec
    return None


# ---- CRM ----------------------------------------------------------------------------------
_CRITERION = re.compile(r"\(\s*([^():]+?)\s*:\s*(\w+)\s*:\s*((?:\\.|[^()\\])*)\)")


def _crm_matches(record: dict[str, Any], criteria: str) -> bool:
    """CRM search criteria: `(Field:operator:value)` groups joined by `and` / `or`,
    evaluated left to right (values escape parentheses with a backslash, as in the API).
    Operators: equals, not_equal, starts_with, in, greater_than, less_than (and _equal)."""
    found = list(_CRITERION.finditer(criteria))
    if not found:
        return False
    result = _criterion(record, found[0])
    for previous, m in zip(found, found[1:], strict=False):
        joiner = criteria[previous.end():m.start()].strip(" ()").lower()
        ok = _criterion(record, m)
        result = (result or ok) if joiner == "or" else (result and ok)
    return result


def _criterion(record: dict[str, Any], m: re.Match[str]) -> bool:
    field_name, op = m.group(1), m.group(2).lower()
    wanted = re.sub(r"\\(.)", r"\1", m.group(3)).strip()
    value = record.get(field_name)
    if isinstance(value, dict):  # a lookup field matches by its name or id
        value = value.get("name") if not wanted.isdigit() else value.get("id")
    shown = "" if value is None else str(value)
    if op == "equals":
        return shown.lower() == wanted.lower()
    if op == "not_equal":
        return shown.lower() != wanted.lower()
    if op == "starts_with":
        return shown.lower().startswith(wanted.lower())
    if op == "in":
        return shown.lower() in [w.strip().lower() for w in wanted.split(",")]
    try:
        a, b = Decimal(shown), Decimal(wanted)
    except ArithmeticError:
        return False
    return {"greater_than": a > b, "less_than": a < b, "greater_equal": a >= b,
            "less_equal": a <= b}.get(op, False)


class CrmService:
    """Zoho CRM REST API v2 (and later versions, same shapes) over the store."""

    name = "crm"
    root = re.compile(r"^/crm/v\d+(?:\.\d+)?(/.*)?$", re.I)
    _INVALID = {"code": "INVALID_DATA", "details": {},
                "message": "the related id given seems to be invalid", "status": "error"}

    def handle(self, method: str, path: str, query: dict[str, str], body: Any,
               store: FakeStore) -> FakeAnswer:
        parts = [unquote(p) for p in path.strip("/").split("/") if p]
        if parts[:2] == ["settings", "variables"] and len(parts) == 3:
            if parts[2] not in store.variables:
                return FakeAnswer(400, {**self._INVALID, "message": "invalid variable"})
            return FakeAnswer(200, {"variables": [{"api_name": parts[2],
                                                   "value": store.variables[parts[2]]}]})
        if not parts:
            return FakeAnswer(400, {"code": "INVALID_URL_PATTERN", "details": {},
                                    "message": "Please check if the URL trying to access is a "
                                    "correct one", "status": "error"})
        module = parts[0]
        if method == "GET" and len(parts) == 2 and parts[1] == "search":
            records = store.module(self.name, module) or []
            found = [r for r in records if _crm_matches(r, query.get("criteria", ""))]
            return self._listing(found, query)
        if method == "GET" and len(parts) == 1:
            return self._listing(store.module(self.name, module) or [], query)
        if method == "GET" and len(parts) == 3:
            related = store.module(self.name, parts[2]) or []
            found = [r for r in related if any(_refers(v, parts[1]) for v in r.values())]
            return self._listing(found, query)
        if method == "POST" and len(parts) == 1:
            return self._create(module, body, store)
        stored = store.module(self.name, module)
        if len(parts) == 2 and method in ("GET", "PUT", "PATCH", "DELETE"):
            records = stored or []
            rec = _find(records, ("id",), parts[1])
            if rec is None:
                return FakeAnswer(400, dict(self._INVALID))
            if method == "GET":
                return FakeAnswer(200, {"data": [copy.deepcopy(rec)]})
            if method == "DELETE":
                records.remove(rec)
                store.record("deleted", self.name, module, parts[1], rec)
                return FakeAnswer(200, {"data": [self._ok(rec["id"], "record deleted",
                                                          store, created=False)]})
            fields = _first_record(body)
            rec.update(fields)
            rec["Modified_Time"] = store.timestamp()
            store.record("updated", self.name, module, parts[1], fields)
            return FakeAnswer(200, {"data": [self._ok(rec["id"], "record updated", store,
                                                      created=False)]})
        return FakeAnswer(400, {"code": "INVALID_REQUEST_METHOD", "details": {},
                                "message": "The http request method type is not a valid one",
                                "status": "error"})

    @staticmethod
    def _listing(records: list[dict[str, Any]], query: dict[str, str]) -> FakeAnswer:
        page = int(query.get("page", "1") or 1)
        per_page = int(query.get("per_page", "200") or 200)
        chunk = records[(page - 1) * per_page: page * per_page]
        if not chunk:
            return FakeAnswer(204, None)
        return FakeAnswer(200, {"data": copy.deepcopy(chunk), "info": {
            "per_page": per_page, "count": len(chunk), "page": page,
            "more_records": len(records) > page * per_page}})

    def _create(self, module: str, body: Any, store: FakeStore) -> FakeAnswer:
        fields = _first_record(body)
        records = store.module(self.name, module, create=True)
        assert records is not None
        new = {"id": store.new_id(), **fields, "Created_Time": store.timestamp(),
               "Modified_Time": store.timestamp()}
        records.append(new)
        store.record("created", self.name, module, new["id"], fields)
        return FakeAnswer(201, {"data": [self._ok(new["id"], "record added", store,
                                                  created=True)]})

    @staticmethod
    def _ok(record_id: str, message: str, store: FakeStore, created: bool) -> dict[str, Any]:
        details: dict[str, Any] = {"Modified_Time": store.timestamp(), "id": record_id}
        if created:
            details["Created_Time"] = store.timestamp()
        return {"code": "SUCCESS", "details": details, "message": message, "status": "success"}


def _refers(value: Any, record_id: str) -> bool:
    if isinstance(value, dict):
        return str(value.get("id")) == record_id
    return str(value) == record_id


def _first_record(body: Any) -> dict[str, Any]:
    if isinstance(body, dict) and isinstance(body.get("data"), list) and body["data"]:
        first = body["data"][0]
        return dict(first) if isinstance(first, dict) else {}
    return dict(body) if isinstance(body, dict) else {}


# ---- Books --------------------------------------------------------------------------------
# Books answers one record under the module's singular name (`invoices` -> `invoice`);
# the few whose singular is not the plural less its "s":
_BOOKS_SINGULAR = {"customerpayments": "customerpayment", "vendorpayments": "vendorpayment",
                   "creditnotes": "creditnote", "recurringinvoices": "recurring_invoice",
                   "salesreceipts": "salesreceipt", "vendorcredits": "vendor_credit"}


def books_singular(module: str) -> str:
    low = module.lower()
    if low in _BOOKS_SINGULAR:
        return _BOOKS_SINGULAR[low]
    return low[:-1] if low.endswith("s") else low


class BooksService:
    """Zoho Books REST API v3 over the store; records are found by `<singular>_id`."""

    name = "books"
    root = re.compile(r"^/(?:books/v\d+|api/v3)(/.*)?$", re.I)

    def handle(self, method: str, path: str, query: dict[str, str], body: Any,
               store: FakeStore) -> FakeAnswer:
        parts = [unquote(p) for p in path.strip("/").split("/") if p]
        if not parts:
            return FakeAnswer(404, {"code": 5, "message": "Invalid URL Passed"})
        module = parts[0].lower()
        singular = books_singular(module)
        id_fields = (f"{singular}_id", "id")
        records = store.module(self.name, module)
        if len(parts) == 1 and method == "GET":
            found = [r for r in records or [] if _books_filter(r, query)]
            page = int(query.get("page", "1") or 1)
            per_page = int(query.get("per_page", "200") or 200)
            chunk = found[(page - 1) * per_page: page * per_page]
            return FakeAnswer(200, {"code": 0, "message": "success",
                                    module: copy.deepcopy(chunk),
                                    "page_context": {"page": page, "per_page": per_page,
                                                     "has_more_page": len(found) >
                                                     page * per_page}})
        if len(parts) == 1 and method == "POST":
            fields = dict(body) if isinstance(body, dict) else {}
            target = store.module(self.name, module, create=True)
            assert target is not None
            new = {f"{singular}_id": store.new_id(), **fields,
                   "created_time": store.timestamp()}
            target.append(new)
            store.record("created", self.name, module, new[f"{singular}_id"], fields)
            label = singular.replace("_", " ")
            return FakeAnswer(201, {"code": 0, "message": f"The {label} has been created.",
                                    singular: copy.deepcopy(new)})
        if len(parts) == 2:
            rec = _find(records or [], id_fields, parts[1])
            if rec is None or records is None:
                label = singular.replace("_", " ").capitalize()
                return FakeAnswer(404, {"code": 1002, "message": f"{label} does not exist."})
            if method == "GET":
                return FakeAnswer(200, {"code": 0, "message": "success",
                                        singular: copy.deepcopy(rec)})
            if method in ("PUT", "PATCH"):
                fields = dict(body) if isinstance(body, dict) else {}
                rec.update(fields)
                rec["last_modified_time"] = store.timestamp()
                store.record("updated", self.name, module, parts[1], fields)
                label = singular.replace("_", " ").capitalize()
                return FakeAnswer(200, {"code": 0,
                                        "message": f"{label} information has been updated.",
                                        singular: copy.deepcopy(rec)})
            if method == "DELETE":
                records.remove(rec)
                store.record("deleted", self.name, module, parts[1], rec)
                label = singular.replace("_", " ")
                return FakeAnswer(200, {"code": 0, "message": f"The {label} has been deleted."})
        return FakeAnswer(405, {"code": 37, "message": "The HTTP method is not allowed for "
                                "the requested resource"})


_BOOKS_QUERY_KEYS = {"organization_id", "page", "per_page", "sort_column", "sort_order"}


def _books_filter(record: dict[str, Any], query: dict[str, str]) -> bool:
    """List filters such as `status=overdue` or `customer_id=...` compare field text."""
    for key, wanted in query.items():
        if key in _BOOKS_QUERY_KEYS:
            continue
        value = record.get(key)
        if value is None or str(value).lower() != wanted.lower():
            return False
    return True


SERVICES: list[FakeService] = [CrmService(), BooksService()]


def service_for(request: HttpRequest) -> tuple[FakeService, str] | None:
    """The fake service a request is for, and the path after the service's API root: a
    path-only URL (a task without a configured root) or an absolute URL on a Zoho host."""
    url = request.url
    if url.startswith("/"):
        path = url.split("?", 1)[0]
    else:
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if "zoho" not in (parts.hostname or ""):
            return None
        path = parts.path
    for service in SERVICES:
        m = service.root.match(path)
        if m:
            return service, m.group(1) or "/"
    return None


def request_query(request: HttpRequest) -> dict[str, str]:
    pairs = list(request.query)
    if "?" in request.url:
        pairs = parse_qsl(request.url.split("?", 1)[1], keep_blank_values=True) + pairs
    return {k: v for k, v in pairs}


def request_json(request: HttpRequest) -> Any:
    if request.body is None:
        return dict(request.form) if request.form else None
    try:
        return json.loads(request.body.decode("utf-8"), parse_float=Decimal)
    except ValueError:
        return None
