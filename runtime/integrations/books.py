"""Zoho Books and Zoho Inventory tasks (`zoho.books.*`, `zoho.inventory.*`).

Both APIs name the organization with the `organization_id` query parameter, taken from the
task's `orgId` argument (as the vendor's tasks take it); module names are the lower-case
path segments of the API (`Invoices` and `invoices` both reach `/invoices`). The answer is
the API's own map (`{"code": 0, "invoice": {...}}`, or `{"code": 1002, "message": ...}`).
"""

from __future__ import annotations

__all__ = ["BOOKS", "INVENTORY"]

from typing import Any

from sluicegate.values import File

from .shapes import as_is
from .spec import ApiRequest, Task, query_pairs, seg, task, text

_BOOKS = "https://www.zoho.com/deluge/help/books/"
_INVENTORY = "https://www.zoho.com/deluge/help/inventory/"


def _module(a: dict[str, Any]) -> str:
    return seg(text(a["module"]).lower())


def _org(a: dict[str, Any]) -> list[tuple[str, str]]:
    return [("organization_id", text(a["org_id"]))]


def _get_records(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/{_module(a)}", query=_org(a) + query_pairs(a.get("criteria")))


def _get_by_id(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/{_module(a)}/{seg(a['id'])}", query=_org(a))


def _create(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", f"/{_module(a)}", query=_org(a), json=a["record"])


def _update(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("PUT", f"/{_module(a)}/{seg(a['id'])}", query=_org(a), json=a["record"])


def _mark_status(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", f"/{_module(a)}/{seg(a['id'])}/status/"
                      f"{seg(text(a['status']).lower())}", query=_org(a))


def _attach(a: dict[str, Any]) -> ApiRequest:
    f: File = a["file"]
    return ApiRequest("POST", f"/{_module(a)}/{seg(a['id'])}/attachment", query=_org(a),
                      files=[("attachment", f.name, f.content_type, f.data)])


def _organizations(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", "/organizations")


def _rows(ns: str, docs: str) -> list[Task]:
    return [
        task(f"zoho.{ns}.getRecords", "module:text, org_id:text|number, criteria:map|text?",
             _get_records, as_is, "MAP", "List a module's records (filters as criteria)",
             docs + "get-records.html"),
        task(f"zoho.{ns}.getRecordsByID", "module:text, org_id:text|number, id:text|number",
             _get_by_id, as_is, "MAP", "One record by its ID", docs + "fetch-record-by-id.html"),
        task(f"zoho.{ns}.createRecord", "module:text, org_id:text|number, record:map",
             _create, as_is, "MAP", "Create a record", docs + "create-record.html"),
        task(f"zoho.{ns}.updateRecord",
             "module:text, org_id:text|number, id:text|number, record:map",
             _update, as_is, "MAP", "Update a record by its ID", docs + "update-record.html"),
        task(f"zoho.{ns}.markStatus",
             "module:text, org_id:text|number, id:text|number, status:text",
             _mark_status, as_is, "MAP", "Mark a record sent, void, draft ...",
             docs + "mark-status.html"),
        task(f"zoho.{ns}.attachFile",
             "module:text, org_id:text|number, id:text|number, file:file",
             _attach, as_is, "MAP", "Attach a FILE to a record", docs + "attach-file.html"),
        task(f"zoho.{ns}.getOrganization", "", _organizations, as_is, "MAP",
             "The organizations of the account (their organization_id)",
             docs + "get-organization.html"),
    ]


# Rows cite the vendor's task pages (https://www.zoho.com/deluge/help/books/<page>); the
# requests follow the Books API v3 (https://www.zoho.com/books/api/v3/) "List / Get /
# Create / Update <module>", "Mark as <status>" and "Add attachment" endpoints.
BOOKS = _rows("books", _BOOKS)
# https://www.zoho.com/deluge/help/inventory/get-records.html and siblings; the requests
# follow the Inventory API v1 (https://www.zoho.com/inventory/api/v1/), which has the same
# endpoint shapes as Books.
INVENTORY = _rows("inventory", _INVENTORY)
