"""Zoho Billing tasks (`zoho.billing.*`) and their older names (`zoho.subscriptions.*`).

Zoho Subscriptions became Zoho Billing; both task families call the same API, which names
the organization in the `X-com-zoho-subscriptions-organizationid` header (the task's orgId
argument). `zoho.billing.*` requests go below `/billing/v1`, `zoho.subscriptions.*` below
`/subscriptions/v1`; one `zoho_billing` connection serves both. The answer is the API's map
(`{"code": 0, "message": "success", "subscription": {...}}`).
"""

from __future__ import annotations

__all__ = ["TASKS"]

from typing import Any

from .shapes import as_is
from .spec import ApiRequest, Task, number_text, seg, task, text

_ORG_HEADER = "X-com-zoho-subscriptions-organizationid"
_DOCS = "https://www.zoho.com/deluge/help/billing/"


def _org(a: dict[str, Any]) -> list[tuple[str, str]]:
    return [(_ORG_HEADER, text(a["org_id"]))]


def _module(a: dict[str, Any]) -> str:
    return seg(text(a["module"]).lower())


def _rows(ns: str, api: str) -> list[Task]:
    def retrieve(a: dict[str, Any]) -> ApiRequest:
        return ApiRequest("GET", f"/{_module(a)}/{seg(a['id'])}", headers=_org(a), api=api)

    def get_list(a: dict[str, Any]) -> ApiRequest:
        query = [("per_page", number_text(a.get("per_page"), 200)),
                 ("page", number_text(a.get("page"), 1))]
        return ApiRequest("GET", f"/{_module(a)}", headers=_org(a), query=query, api=api)

    def create(a: dict[str, Any]) -> ApiRequest:
        return ApiRequest("POST", f"/{_module(a)}", headers=_org(a), json=a["record"],
                          api=api)

    def update(a: dict[str, Any]) -> ApiRequest:
        return ApiRequest("PUT", f"/{_module(a)}/{seg(a['id'])}", headers=_org(a),
                          json=a["record"], api=api)

    def organizations(a: dict[str, Any]) -> ApiRequest:
        return ApiRequest("GET", "/organizations", api=api)

    return [
        # https://zoho.com/deluge/help/billing/fetch-record-by-id.html ("Retrieve a <module>")
        task(f"zoho.{ns}.retrieve", "module:text, org_id:text|number, id:text|number",
             retrieve, as_is, "MAP", "One record (subscription, customer, ...) by its ID",
             _DOCS + "fetch-record-by-id.html", service="billing"),
        # https://www.zoho.com/deluge/help/billing/fetch-records.html ("List all <module>")
        task(f"zoho.{ns}.getList",
             "module:text, org_id:text|number, per_page:number?, page:number?", get_list,
             as_is, "MAP", "A page of a module's records", _DOCS + "fetch-records.html",
             service="billing"),
        # https://www.zoho.com/deluge/help/billing/create-record.html ("Create a <module>")
        task(f"zoho.{ns}.create", "module:text, org_id:text|number, record:map", create,
             as_is, "MAP", "Create a record", _DOCS + "create-record.html", service="billing"),
        # https://www.zoho.com/deluge/help/billing/update-record.html ("Update a <module>")
        task(f"zoho.{ns}.update",
             "module:text, org_id:text|number, id:text|number, record:map", update, as_is,
             "MAP", "Update a record by its ID", _DOCS + "update-record.html",
             service="billing"),
        # https://www.zoho.com/deluge/help/billing-tasks.html ("Get Organization")
        task(f"zoho.{ns}.getOrganization", "", organizations, as_is, "MAP",
             "The organizations of the account", "https://www.zoho.com/deluge/help/"
             "billing-tasks.html", service="billing"),
    ]


TASKS = _rows("billing", "/billing/v1") + _rows("subscriptions", "/subscriptions/v1")
