"""Zoho Desk tasks (`zoho.desk.*`): requests of the Desk REST API, below `/api/v1`.

Every Desk request names the organization in the `orgId` header ("All API endpoints except
/organizations mandatorily require the orgId", https://desk.zoho.com/DeskAPIDocument); it is
the task's first argument, as in the vendor's tasks. Module names are the API's path
segments, which start with a lower-case letter (`Tickets` reaches `/tickets`, `timeEntry`
stays `timeEntry`). The answer is the API's own JSON: a record MAP, `{"data": [...]}` for
lists and searches, or the error map `{"errorCode": ..., "message": ...}`.
"""

from __future__ import annotations

__all__ = ["TASKS"]

from typing import Any

from .shapes import as_is
from .spec import ApiRequest, number_text, query_pairs, seg, task, text

_DOCS = "https://www.zoho.com/deluge/help/desk/"


def _module(value: Any) -> str:
    name = text(value).strip()
    return seg(name[:1].lower() + name[1:])


def _org(a: dict[str, Any]) -> list[tuple[str, str]]:
    return [("orgId", text(a["org_id"]))]


def _window(a: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    if a.get("from") is not None:
        out.append(("from", number_text(a["from"], 0)))
    if a.get("limit") is not None:
        out.append(("limit", number_text(a["limit"], 10)))
    return out


def _get_by_id(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/{_module(a['module'])}/{seg(a['id'])}", headers=_org(a))


def _get_records(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/{_module(a['module'])}", headers=_org(a),
                      query=_window(a) + query_pairs(a.get("query")))


def _search(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/{_module(a['module'])}/search", headers=_org(a),
                      query=query_pairs(a.get("query")) + _window(a))


def _create(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", f"/{_module(a['module'])}", headers=_org(a), json=a["record"])


def _update(a: dict[str, Any]) -> ApiRequest:
    # Desk updates are partial: PATCH with only the fields given ("Update a ticket").
    return ApiRequest("PATCH", f"/{_module(a['module'])}/{seg(a['id'])}", headers=_org(a),
                      json=a["record"])


def _related(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/{_module(a['parent_module'])}/{seg(a['id'])}/"
                      f"{_module(a['sub_module'])}", headers=_org(a),
                      query=_window(a) + query_pairs(a.get("query")))


def _create_related(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", f"/{_module(a['parent_module'])}/{seg(a['id'])}/"
                      f"{_module(a['sub_module'])}", headers=_org(a), json=a["record"])


TASKS = [
    # https://www.zoho.com/deluge/help/desk/fetch-record-by-id.html ; API "Get ticket"
    task("zoho.desk.getRecordById", "org_id:text|number, module:text, id:text|number",
         _get_by_id, as_is, "MAP", "One Desk record by its ID",
         _DOCS + "fetch-record-by-id.html"),
    # https://www.zoho.com/deluge/help/desk/get-records.html ; API "List all tickets"
    task("zoho.desk.getRecords",
         "org_id:text|number, module:text, from:number?, limit:number?, query:map|text?",
         _get_records, as_is, "MAP", "A window of a module's records ({\"data\": [...]})",
         _DOCS + "get-records.html"),
    # https://www.zoho.com/deluge/help/desk/search-records.html ; API "Search tickets"
    # (GET /api/v1/tickets/search?email=...&from=0&limit=10)
    task("zoho.desk.searchRecords",
         "org_id:text|number, module:text, query:map|text?, from:number?, limit:number?",
         _search, as_is, "MAP", "Records whose fields match the query map",
         _DOCS + "search-records.html"),
    # https://www.zoho.com/deluge/help/desk/create-record.html ; API "Create a ticket"
    task("zoho.desk.create", "org_id:text|number, module:text, record:map", _create, as_is,
         "MAP", "Create a Desk record; gives the record", _DOCS + "create-record.html"),
    # https://www.zoho.com/deluge/help/desk/update-record.html ; API "Update a ticket"
    task("zoho.desk.update", "org_id:text|number, module:text, id:text|number, record:map",
         _update, as_is, "MAP", "Update a Desk record by its ID",
         _DOCS + "update-record.html"),
    # https://www.zoho.com/deluge/help/desk/fetch-related-records.html ; API "List all
    # comments" / "List tickets by contact" (GET /api/v1/{parent}/{id}/{sub})
    task("zoho.desk.getRelatedRecords",
         "org_id:text|number, sub_module:text, parent_module:text, id:text|number, "
         "from:number?, limit:number?, query:map|text?", _related, as_is, "MAP",
         "Records of a submodule related to a record", _DOCS + "fetch-related-records.html"),
    # https://www.zoho.com/deluge/help/desk/create-related-record.html ; API "Create ticket
    # comment" (POST /api/v1/tickets/{id}/comments)
    task("zoho.desk.createRelatedRecord",
         "org_id:text|number, sub_module:text, parent_module:text, id:text|number, "
         "record:map", _create_related, as_is, "MAP",
         "Create a record in a submodule of a record", _DOCS + "create-related-record.html"),
]
