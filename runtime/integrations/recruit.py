"""Zoho Recruit tasks (`zoho.recruit.*`), sent to the Recruit REST API v2 (`/recruit/v2`).

The vendor's tasks keep the argument lists of the older Recruit API (`addRecord(module, map,
duplicate_check, workflow_trigger)`); the rows map them onto API v2, whose answers have
CRM's shapes, so reads give the record MAP and writes the `details` of the record written.

`getRecords` and `searchRecords` keep that API's 1-based, inclusive `fromIndex`/`toIndex`
(at most 200 records, the vendor's note) and its labels (`Last Name`): the range becomes the
v2 `page`/`per_page` of the smallest page size whose one page holds it, the records outside
it are dropped; a range no page of at most 200 records holds (101 to 300) reads the two
pages of 200 it spans. Labels become API names (`Last_Name`); a `field|operator|value` condition becomes the v2
criteria `(field:equals:value)` / `(field:starts_with:value)`, the only two operators v2
search has; other operators are refused by name. Both give the LIST of record maps.
"""

from __future__ import annotations

__all__ = ["TASKS"]

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.values import display

from .shapes import details, first_record, picked_records
from .spec import ApiRequest, Pick, seg, task, text

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


_MOST = 200            # records one task call gives, and the v2 API's largest page
_SEARCH_DEFAULT = 20   # getSearchRecords' default toIndex (fromIndex 1)
_NAME = re.compile(r"[A-Za-z0-9_$]+\Z")


def _index(task_name: str, what: str, value: Any) -> int:
    try:
        number = Decimal(display(value).strip())
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise ScriptRuntimeError(f"{task_name}: {what} must be a NUMBER but found "
                                 f"'{display(value)[:40]}'") from None
    return int(number)


def _page_of(task_name: str, first: Any, last: Any, default_last: int) -> tuple[
        list[tuple[str, str]], int, int, int]:
    """`fromIndex`/`toIndex` as the v2 `page`/`per_page` whose one page holds the range,
    with how many records of that page come before it, how many it has, and how many
    pages to read: one, or, for a range of over 100 records that no page holds (101 to
    300), two consecutive pages of 200."""
    start = max(_index(task_name, "fromIndex", first) if first is not None else 1, 1)
    end = _index(task_name, "toIndex", last) if last is not None else default_last
    if end < start:
        raise ScriptRuntimeError(f"{task_name}: toIndex {end} is before fromIndex {start}")
    end = min(end, start + _MOST - 1)  # "only the first 200 records will be fetched"
    count = end - start + 1
    for size in range(count, _MOST + 1):
        if (start - 1) // size == (end - 1) // size:
            page = (start - 1) // size + 1
            return ([("page", str(page)), ("per_page", str(size))],
                    start - 1 - (page - 1) * size, count, 1)
    page = (start - 1) // _MOST + 1   # count <= 200: the range spans two pages of 200
    return ([("page", str(page)), ("per_page", str(_MOST))],
            start - 1 - (page - 1) * _MOST, count, 2)


def _api_name(task_name: str, what: str, label: str) -> str:
    """A field label of the older API (`Last Name`) as its v2 API name (`Last_Name`)."""
    name = re.sub(r"\s+", "_", label.strip())
    if not _NAME.match(name):
        raise ScriptRuntimeError(f"Not supported in this runtime: {task_name}: {what} "
                                 f"'{label}' is not a field name of the Recruit API v2")
    return name


def _columns(task_name: str, value: Any) -> tuple[str, ...] | None:
    """`selectColumns`: `(Last Name,Email)`, `Candidates(Last Name,Email)`, `All` or empty
    (every field) as API names; None for every field."""
    if value is None:
        return None
    spec = text(value).strip()
    inner = re.fullmatch(r"[\w ]*\((.*)\)", spec, re.S)
    spec = inner.group(1).strip() if inner else spec
    if spec == "" or spec.lower() == "all":
        return None
    return tuple(_api_name(task_name, "selectColumns field", c)
                 for c in spec.split(",") if c.strip())


def _get_records(a: dict[str, Any]) -> ApiRequest:
    name = "zoho.recruit.getRecords"
    query, skip, count, pages = _page_of(name, a["from_index"], a["to_index"], _MOST)
    fields = _columns(name, a.get("select_columns"))
    if fields:
        query.append(("fields", ",".join(fields)))
    if a.get("sort_column") not in (None, ""):
        query.append(("sort_by", _api_name(name, "sortColumnString", text(a["sort_column"]))))
        order = text(a.get("sort_order") or "asc").strip().lower()
        if order not in ("asc", "desc"):
            raise ScriptRuntimeError(f"{name}: sortOrderString must be asc or desc but found "
                                     f"'{text(a['sort_order'])[:40]}'")
        query.append(("sort_order", order))
    return ApiRequest("GET", f"/{seg(a['module'])}", query=query, pick=Pick(skip, count),
                      pages=pages)


# The older API's operators (getSearchRecords: "is OR =", "starts with(srcString*)", ...)
# and the v2 search operators they are.
_OPERATORS = {"=": "equals", "is": "equals", "equals": "equals",
              "starts with": "starts_with", "starts_with": "starts_with"}
_CONDITION = re.compile(r"\(?\s*([^|()]+?)\s*\|\s*([^|]+?)\s*\|(.*?)\)?", re.S)
_V2_CRITERIA = re.compile(r"\(.*:\s*(equals|starts_with)\s*:.*\)", re.S | re.I)


def _condition(part: str) -> str:
    name = "zoho.recruit.searchRecords"
    found = _CONDITION.fullmatch(part.strip())
    if found is None:
        raise ScriptRuntimeError(f"{name}: the searchCondition '{part.strip()[:80]}' is not "
                                 "written (field|operator|value)")
    label, operator, value = found.groups()
    op = _OPERATORS.get(" ".join(operator.lower().split()))
    if op is None:
        raise ScriptRuntimeError(
            f"Not supported in this runtime: {name}: the operator '{operator}' of "
            f"'{part.strip()[:80]}': the Recruit API v2 searches only with = (equals) and "
            "starts with")
    value = value.strip()
    if op == "starts_with" and value.endswith("*"):
        value = value[:-1]  # the older API's wildcard: "starts with(srcString*)"
    # "When you use parentheses or comma in the value for criteria, you must escape them
    # using a backslash" (v2 Search Records)
    value = re.sub(r"([(),\\])", r"\\\1", value)
    return f"({_api_name(name, 'searchCondition field', label)}:{op}:{value})"


def _criteria(condition: str) -> str:
    """`(Current Employer|=|Zylker)` as the v2 criteria `(Current_Employer:equals:Zylker)`;
    several joined by and/or stay joined; v2 criteria pass as they are."""
    spec = condition.strip()
    if "|" not in spec and _V2_CRITERIA.fullmatch(spec):
        return spec
    parts = re.split(r"\)\s*(and|or)\s*\(", spec, flags=re.I)
    if len(parts) == 1:
        return _condition(spec)
    if (len(parts) + 1) // 2 > 10:
        raise ScriptRuntimeError("Not supported in this runtime: zoho.recruit.searchRecords: "
                                 "the Recruit API v2 searches with at most 10 conditions")
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part.lower())
            continue
        out.append(_condition(("(" if i else "") + part + (")" if i < len(parts) - 1 else "")))
    return "(" + "".join(out) + ")"


def _search(a: dict[str, Any]) -> ApiRequest:
    name = "zoho.recruit.searchRecords"
    query, skip, count, pages = _page_of(name, a.get("from_index"), a.get("to_index"),
                                         _SEARCH_DEFAULT)
    # v2 search has no `fields` parameter: the shaper keeps the selected fields.
    return ApiRequest("GET", f"/{seg(a['module'])}/search",
                      query=[("criteria", _criteria(text(a["criteria"])))] + query,
                      pick=Pick(skip, count, _columns(name, a.get("select_columns"))),
                      pages=pages)


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
    # https://www.zoho.com/deluge/help/recruit/fetch-records.html ; API v2 "Get Records"
    # (https://www.zoho.com/recruit/developer-guide/apiv2/get-records.html:
    # GET /recruit/v2/{module}?fields=&sort_by=&sort_order=&page=&per_page=)
    task("zoho.recruit.getRecords",
         "module:text, from_index:number, to_index:number, select_columns:text[all]?, "
         "sort_column:text?, sort_order:text[asc/desc]?", _get_records, picked_records,
         "LIST", "Recruit records fromIndex to toIndex (at most 200)",
         _DOCS + "fetch-records.html"),
    # https://www.zoho.com/deluge/help/recruit/search-records.html ; API v2 "Search Records"
    # (https://www.zoho.com/recruit/developer-guide/apiv2/search-records.html:
    # GET /recruit/v2/{module}/search?criteria=((field:equals|starts_with:value))&page=)
    task("zoho.recruit.searchRecords",
         "module:text, criteria:text, from_index:number?, to_index:number?, "
         "select_columns:text[all]?", _search, picked_records, "LIST",
         "Recruit records matching a (field|=|value) condition",
         _DOCS + "search-records.html"),
]
