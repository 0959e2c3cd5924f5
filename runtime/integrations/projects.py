"""Zoho Projects tasks (`zoho.projects.*`): the Projects REST API, below `/restapi`.

Records live under a portal and a project (`/portal/{portal}/projects/{project}/{module}/`);
writes are form posts, as the API takes them. The answer is the API's map (`{"tasks":
[...]}`, `{"bugs": [...]}`, or `{"error": {"code": ..., "message": ...}}`).
"""

from __future__ import annotations

__all__ = ["TASKS"]

from typing import Any

from sluicegate.values import display

from .shapes import as_is
from .spec import ApiRequest, number_text, query_pairs, seg, task, text

_DOCS = "https://www.zoho.com/deluge/help/projects/"


def _base(a: dict[str, Any]) -> str:
    return (f"/portal/{seg(a['portal'])}/projects/{seg(a['project_id'])}/"
            f"{seg(text(a['module']).lower())}")


def _fields(record: dict[Any, Any]) -> list[tuple[str, str]]:
    return [(display(k), v if isinstance(v, str) else display(v)) for k, v in record.items()]


def _get_by_id(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"{_base(a)}/{seg(a['id'])}/")


def _get_records(a: dict[str, Any]) -> ApiRequest:
    """The fourth argument is the start index or a MAP of the API's query parameters."""
    index = a.get("index")
    query = query_pairs(index) if isinstance(index, dict) else (
        [("index", number_text(index, 0))] if index is not None else [])
    if a.get("range") is not None:
        query.append(("range", number_text(a["range"], 100)))
    return ApiRequest("GET", f"{_base(a)}/", query=query)


def _create(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", f"{_base(a)}/", form=_fields(a["record"]))


def _update(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", f"{_base(a)}/{seg(a['id'])}/", form=_fields(a["record"]))


_WHERE = "portal:text, project_id:text|number, module:text"
TASKS = [
    # https://www.zoho.com/deluge/help/projects/get-record-by-id.html ; API "Get task
    # details" (GET /restapi/portal/{portal}/projects/{project}/tasks/{id}/)
    task("zoho.projects.getRecordById", f"{_WHERE}, id:text|number", _get_by_id, as_is,
         "MAP", "One task, bug or milestone of a project by its ID",
         _DOCS + "get-record-by-id.html"),
    # https://www.zoho.com/deluge/help/projects/get-records.html ; API "Get all tasks"
    task("zoho.projects.getRecords", f"{_WHERE}, index:number|map?, range:number?",
         _get_records,
         as_is, "MAP", "Tasks, bugs or milestones of a project", _DOCS + "get-records.html"),
    # https://www.zoho.com/deluge/help/projects/create.html ; API "Create task"
    task("zoho.projects.create", f"{_WHERE}, record:map", _create, as_is, "MAP",
         "Create a task, bug or milestone", _DOCS + "create.html"),
    # https://www.zoho.com/deluge/help/projects/update.html ; API "Update task"
    task("zoho.projects.update", f"{_WHERE}, id:text|number, record:map", _update, as_is,
         "MAP", "Update a task, bug or milestone by its ID", _DOCS + "update.html"),
]
