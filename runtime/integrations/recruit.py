"""Zoho Recruit tasks (`zoho.recruit.*`), sent to the Recruit REST API v2 (`/recruit/v2`).

The vendor's tasks keep the argument lists of the older Recruit API (`addRecord(module, map,
duplicate_check, workflow_trigger)`); the rows map them onto API v2, whose answers have
CRM's shapes, so reads give the record MAP and writes the `details` of the record written.
The older `getRecords` / `searchRecords` tasks (from/to indexes, `field|op|value`
conditions of that API) are not rows: their paging and condition syntax have no exact v2
equivalent.
"""

from __future__ import annotations

__all__ = ["TASKS"]

from typing import Any

from sluicegate.values import display

from .shapes import details, first_record
from .spec import ApiRequest, seg, task

_DOCS = "https://www.zoho.com/deluge/help/recruit/"


def _trigger(body: dict[str, Any], flag: Any) -> dict[str, Any]:
    if flag is not None:
        # workflow_trigger true/false: the v2 `trigger` list runs the module's workflows
        body["trigger"] = ["workflow"] if display(flag).lower() == "true" else []
    return body


def _get_by_id(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/{seg(a['module'])}/{seg(a['id'])}")


def _add(a: dict[str, Any]) -> ApiRequest:
    # duplicate_check 2 = "update the record if it already exists": the upsert endpoint.
    upsert = a.get("duplicate_check") is not None and display(a["duplicate_check"]) == "2"
    path = f"/{seg(a['module'])}" + ("/upsert" if upsert else "")
    return ApiRequest("POST", path, json=_trigger({"data": [a["record"]]},
                                                  a.get("workflow_trigger")))


def _update(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("PUT", f"/{seg(a['module'])}/{seg(a['id'])}",
                      json=_trigger({"data": [a["record"]]}, a.get("workflow_trigger")))


TASKS = [
    # https://www.zoho.com/deluge/help/recruit/fetch-record-by-id.html ; API v2 "Get
    # Records" (GET /recruit/v2/{module}/{id})
    task("zoho.recruit.getRecordById", "module:text, id:text|number", _get_by_id,
         first_record, "MAP", "One Recruit record by its ID",
         _DOCS + "fetch-record-by-id.html"),
    # https://zoho.com/deluge/help/recruit/create-record.html ; API v2 "Insert Records" /
    # "Upsert Records"
    task("zoho.recruit.addRecord",
         "module:text, record:map, duplicate_check:number?, workflow_trigger:any?", _add,
         details, "MAP", "Add a Recruit record (duplicate_check 2: update a duplicate)",
         _DOCS + "create-record.html"),
    # https://www.zoho.com/deluge/help/recruit/update-record.html ; API v2 "Update Records"
    task("zoho.recruit.updateRecord",
         "module:text, id:text|number, record:map, workflow_trigger:any?", _update, details,
         "MAP", "Update a Recruit record by its ID", _DOCS + "update-record.html"),
]
