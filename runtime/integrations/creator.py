"""Zoho Creator tasks (`zoho.creator.*`): requests of the Creator REST API v2, below
`/creator/v2/data/{owner}/{app}` (https://www.zoho.com/creator/help/api/v2/: base URL
`www.zohoapis.<dc>`).

Reads go to a report (`/report/{report}`), inserts to a form (`/form/{form}`). The answer is
the API's own map: `{"code": 3000, "data": ...}` on success, `{"code": 2945, "message":
...}` or similar on failure ("API Status Codes"). The same builders serve the Creator form
statements (`insert into`, `Form[criteria]`, `delete from`; see `forms.py`).
"""

from __future__ import annotations

__all__ = ["TASKS", "app_path"]

from typing import Any

from sluicegate.values import File

from .shapes import as_is
from .spec import ApiRequest, number_text, seg, task, text

_DOCS = "https://www.zoho.com/deluge/help/creator/"


def app_path(owner: Any, app: Any) -> str:
    return f"/{seg(owner)}/{seg(app)}"


def _report(a: dict[str, Any]) -> str:
    return f"{app_path(a['owner'], a['app'])}/report/{seg(a['report'])}"


def _with_other(body: dict[str, Any], a: dict[str, Any]) -> dict[str, Any]:
    if isinstance(a.get("other"), dict):
        body.update(a["other"])  # "result", "skip_workflow", ... of the API
    return body


def _get_records(a: dict[str, Any]) -> ApiRequest:
    query = []
    if a.get("criteria") not in (None, ""):
        query.append(("criteria", text(a["criteria"])))
    query += [("from", number_text(a.get("from"), 1)),
              ("limit", number_text(a.get("limit"), 200))]
    return ApiRequest("GET", _report(a), query=query)


def _get_by_id(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"{_report(a)}/{seg(a['id'])}")


def _create(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", f"{app_path(a['owner'], a['app'])}/form/{seg(a['form'])}",
                      json=_with_other({"data": a["record"]}, a))


def _update(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("PATCH", f"{_report(a)}/{seg(a['id'])}",
                      json=_with_other({"data": a["record"]}, a))


def _update_many(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("PATCH", _report(a), json=_with_other(
        {"criteria": text(a["criteria"]), "data": a["record"]}, a))


def _delete(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("DELETE", f"{_report(a)}/{seg(a['id'])}")


def _delete_many(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("DELETE", _report(a), json=_with_other(
        {"criteria": text(a["criteria"])}, a))


def _upload(a: dict[str, Any]) -> ApiRequest:
    f: File = a["file"]
    return ApiRequest("POST", f"{_report(a)}/{seg(a['id'])}/{seg(a['field'])}/upload",
                      files=[("file", f.name, f.content_type, f.data)])


_APP = "owner:text, app:text"
TASKS = [
    # https://www.zoho.com/deluge/help/creator-get-records.html ; API v2 "Get Records"
    # (GET /creator/v2/data/{owner}/{app}/report/{report}?criteria=...&from=1&limit=200)
    task("zoho.creator.getRecords",
         f"{_APP}, report:text, criteria:text?, from:number?, limit:number?", _get_records,
         as_is, "MAP", "Records of a report matching Creator criteria",
         "https://www.zoho.com/deluge/help/creator-get-records.html"),
    # https://www.zoho.com/deluge/help/creator/get-record-by-id.html ; API v2 "Get Record
    # By ID" (GET .../report/{report}/{id})
    task("zoho.creator.getRecordById", f"{_APP}, report:text, id:text|number", _get_by_id,
         as_is, "MAP", "One record of a report by its ID", _DOCS + "get-record-by-id.html"),
    # https://www.zoho.com/deluge/help/creator/create-record.html ; API v2 "Add Records"
    # (POST .../form/{form} with {"data": {...}})
    task("zoho.creator.createRecord", f"{_APP}, form:text, record:map, other:map?", _create,
         as_is, "MAP", "Add a record through a form; gives its ID in data",
         _DOCS + "create-record.html"),
    # https://www.zoho.com/deluge/help/creator/update-record.html ; API v2 "Update Record By
    # ID" (PATCH .../report/{report}/{id} with {"data": {...}})
    task("zoho.creator.updateRecord",
         f"{_APP}, report:text, id:text|number, record:map, other:map?", _update, as_is,
         "MAP", "Update a record of a report by its ID", _DOCS + "update-record.html"),
    # https://www.zoho.com/deluge/help/creator/update-records.html ; API v2 "Update Records"
    # (PATCH .../report/{report} with {"criteria": ..., "data": {...}})
    task("zoho.creator.updateRecords",
         f"{_APP}, report:text, criteria:text, record:map, other:map?", _update_many, as_is,
         "MAP", "Update every record of a report matching criteria",
         _DOCS + "update-records.html"),
    # https://www.zoho.com/deluge/help/creator/delete-record.html ; API v2 "Delete Record By
    # ID" (DELETE .../report/{report}/{id})
    task("zoho.creator.deleteRecord", f"{_APP}, report:text, id:text|number", _delete,
         as_is, "MAP", "Delete a record of a report by its ID", _DOCS + "delete-record.html"),
    # https://www.zoho.com/deluge/help/creator/delete-records.html ; API v2 "Delete Records"
    # (DELETE .../report/{report} with {"criteria": ...})
    task("zoho.creator.deleteRecords", f"{_APP}, report:text, criteria:text, other:map?",
         _delete_many, as_is, "MAP", "Delete every record of a report matching criteria",
         _DOCS + "delete-records.html"),
    # https://www.zoho.com/deluge/help/creator/upload-file.html ; API v2 "Upload File"
    # (POST .../report/{report}/{id}/{field}/upload, multipart part "file")
    task("zoho.creator.uploadFile",
         f"{_APP}, report:text, id:text|number, field:text, file:file", _upload, as_is,
         "MAP", "Upload a FILE into a file field of a record", _DOCS + "upload-file.html"),
]
