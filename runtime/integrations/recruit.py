"""Zoho Recruit tasks (`zoho.recruit.*`): the Recruit REST API v2, below `/recruit/v2`.

The API has CRM's shapes (`{"data": [...]}`), so the tasks give records, lists and write
details the way the CRM tasks do.
"""

from __future__ import annotations

__all__ = ["TASKS"]

from typing import Any

from .shapes import details, first_record, records
from .spec import ApiRequest, number_text, seg, task, text

_DOCS = "https://www.zoho.com/deluge/help/recruit/"


def _get_by_id(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/{seg(a['module'])}/{seg(a['id'])}")


def _get_records(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/{seg(a['module'])}", query=[
        ("page", number_text(a.get("page"), 1)), ("per_page", number_text(a.get("per_page"), 200))])


def _search(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/{seg(a['module'])}/search", query=[
        ("criteria", text(a["criteria"])), ("page", number_text(a.get("page"), 1)),
        ("per_page", number_text(a.get("per_page"), 200))])


def _create(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", f"/{seg(a['module'])}", json={"data": [a["record"]]})


def _update(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("PUT", f"/{seg(a['module'])}/{seg(a['id'])}", json={"data": [a["record"]]})


TASKS = [
    # https://www.zoho.com/deluge/help/recruit/get-record-by-id.html ; API v2 "Get Records"
    # (GET /recruit/v2/{module}/{id})
    task("zoho.recruit.getRecordById", "module:text, id:text|number", _get_by_id,
         first_record, "MAP", "One Recruit record by its ID", _DOCS + "get-record-by-id.html"),
    # https://www.zoho.com/deluge/help/recruit/get-records.html
    task("zoho.recruit.getRecords", "module:text, page:number?, per_page:number?",
         _get_records, records, "LIST", "A page of a module's records",
         _DOCS + "get-records.html"),
    # https://www.zoho.com/deluge/help/recruit/search-records.html ; API v2 "Search Records"
    task("zoho.recruit.searchRecords",
         "module:text, criteria:text, page:number?, per_page:number?", _search, records,
         "LIST", "Records matching (Field:equals:value) criteria",
         _DOCS + "search-records.html"),
    # https://www.zoho.com/deluge/help/recruit/create-record.html ; API v2 "Insert Records"
    task("zoho.recruit.create", "module:text, record:map", _create, details, "MAP",
         "Create a Recruit record", _DOCS + "create-record.html"),
    # https://www.zoho.com/deluge/help/recruit/update-record.html ; API v2 "Update Records"
    task("zoho.recruit.update", "module:text, id:text|number, record:map", _update, details,
         "MAP", "Update a Recruit record by its ID", _DOCS + "update-record.html"),
]
