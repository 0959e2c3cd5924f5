"""Zoho People tasks (`zoho.people.*`): the People forms API, below `/people/api`.

The API wraps every answer in `{"response": {"result": ..., "status": 0, "message": ...}}`;
`getRecordById` gives the record MAP, the writes give the inner `response` map (whose
`status` is 0 on success and 1 on failure, with `errors`).
"""

from __future__ import annotations

__all__ = ["TASKS"]

from typing import Any

from sluicegate.values import to_json_text

from .spec import ApiRequest, ApiResponse, seg, task, text

_DOCS = "https://www.zoho.com/deluge/help/people/"


def _inner(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("response"), dict):
        return value["response"]
    return value


def _record(response: ApiResponse) -> Any:
    """The record MAP (first of `result`), or the `response` map of a refused request."""
    inner = _inner(response.value)
    result = inner.get("result") if isinstance(inner, dict) else None
    if isinstance(result, list) and result and isinstance(result[0], dict):
        return result[0]
    return inner


def _response(response: ApiResponse) -> Any:
    return _inner(response.value)


def _get_by_id(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/forms/{seg(a['form'])}/getDataByID",
                      query=[("recordId", text(a["id"]))])


def _create(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", f"/forms/json/{seg(a['form'])}/insertRecord",
                      form=[("inputData", to_json_text(a["record"]))])


def _update(a: dict[str, Any]) -> ApiRequest:
    record = dict(a["record"])
    key = next((k for k in record if str(k).lower() == "recordid"), None)
    record_id = record.pop(key) if key is not None else None
    form = [("inputData", to_json_text(record))]
    if record_id is not None:
        form.append(("recordId", text(record_id)))
    return ApiRequest("POST", f"/forms/json/{seg(a['form'])}/updateRecord", form=form)


TASKS = [
    # https://www.zoho.com/deluge/help/people/fetch-record-by-id.html ; API "Get Record By
    # ID" (GET /people/api/forms/{form}/getDataByID?recordId=...)
    task("zoho.people.getRecordById", "form:text, id:text|number", _get_by_id, _record,
         "MAP", "One record of a People form by its ID", _DOCS + "fetch-record-by-id.html"),
    # https://www.zoho.com/deluge/help/people/create-record.html ; API "Insert Record"
    # (POST /people/api/forms/json/{form}/insertRecord, inputData=JSON)
    task("zoho.people.create", "form:text, record:map", _create, _response, "MAP",
         "Add a record to a People form", _DOCS + "create-record.html"),
    # https://www.zoho.com/deluge/help/people/update-record.html ; API "Update Record"
    # (the map's recordid key names the record)
    task("zoho.people.update", "form:text, record:map", _update, _response, "MAP",
         "Update a record of a People form (the map holds its recordid)",
         _DOCS + "update-record.html"),
]
