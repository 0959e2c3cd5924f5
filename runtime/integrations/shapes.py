"""Response shapers several services share: the answer as is, CRM-style `data` lists.

Each takes an `ApiResponse` and returns the value the vendor's Deluge task gives the script.
Error answers keep the vendor's own keys (`code`, `status`, `message`, `errorCode`), which is
what scripts test with `get("code")` / `get("status")`.
"""

from __future__ import annotations

__all__ = ["as_is", "records", "picked_records", "first_record", "details"]

from typing import Any

from .spec import ApiResponse


def as_is(response: ApiResponse) -> Any:
    """The vendor's answer, parsed (Books, Desk, Creator, Billing, Inventory tasks)."""
    return response.value


def _data(value: Any) -> list[Any] | None:
    if isinstance(value, dict) and isinstance(value.get("data"), list):
        return value["data"]  # type: ignore[no-any-return]
    return None


def records(response: ApiResponse) -> Any:
    """`{"data": [...]}` gives the LIST of records; an empty answer (HTTP 204, no record
    matched) an empty LIST; an error answer stays as it is."""
    data = _data(response.value)
    if data is not None:
        return data
    if response.status == 204 or response.value == "":
        return []
    return response.value


def picked_records(response: ApiResponse) -> Any:
    """`records`, then only the part of them the request's `pick` names (an index range
    inside the page asked for; the selected fields, with each record's `id`)."""
    found = records(response)
    pick = response.pick
    if pick is None or not isinstance(found, list):
        return found
    end = None if pick.count is None else pick.skip + pick.count
    found = found[pick.skip:end]
    if pick.fields is not None:
        keep = {f.lower() for f in pick.fields} | {"id"}
        found = [{k: v for k, v in r.items() if str(k).lower() in keep}
                 if isinstance(r, dict) else r for r in found]
    return found


def first_record(response: ApiResponse) -> Any:
    """`{"data": [record]}` gives the record MAP; an empty answer an empty MAP."""
    data = _data(response.value)
    if data:
        return data[0]
    if response.status == 204 or response.value == "" or data == []:
        return {}
    return response.value


def details(response: ApiResponse) -> Any:
    """A CRM write (`{"data": [{"code": "SUCCESS", "details": {...}}]}`) gives the
    `details` MAP of the record written (its `id`, times, users); a refused write gives the
    entry's error MAP (`code`, `details`, `message`, `status`)."""
    data = _data(response.value)
    if data and isinstance(data[0], dict):
        entry = data[0]
        if str(entry.get("status", "")).lower() == "success" and isinstance(
                entry.get("details"), dict):
            return entry["details"]
        return entry
    return response.value
