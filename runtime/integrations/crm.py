"""Zoho CRM tasks (`zoho.crm.*`): requests of the CRM REST API v2, below `/crm/v2`.

Record reads give the record MAP or the LIST of records (not the `{"data": [...]}` envelope);
writes give the `details` MAP of the record written, or the entry's error MAP.
"""

from __future__ import annotations

__all__ = ["TASKS"]

from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.values import File, to_json_text

from .shapes import details, first_record, records
from .spec import ApiRequest, ApiResponse, number_text, query_pairs, seg, task, text

_DOCS = "https://www.zoho.com/deluge/help/crm/"


def _pages(a: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    if a.get("page") is not None:
        out.append(("page", number_text(a["page"], 1)))
    if a.get("per_page") is not None:
        out.append(("per_page", number_text(a["per_page"], 200)))
    return out


def _write_body(a: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"data": [a["record"]]}
    if isinstance(a.get("options"), dict):
        body.update(a["options"])  # trigger, duplicate_check_fields, lar_id ...
    return body


def _get_record_by_id(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/{seg(a['module'])}/{seg(a['id'])}",
                      query=query_pairs(a.get("query")))


def _get_records(a: dict[str, Any]) -> ApiRequest:
    query = [("page", number_text(a.get("page"), 1)),
             ("per_page", number_text(a.get("per_page"), 200))]
    return ApiRequest("GET", f"/{seg(a['module'])}", query=query + query_pairs(a.get("query")))


def _search_records(a: dict[str, Any]) -> ApiRequest:
    query = [("criteria", text(a["criteria"]))] + _pages(a) + query_pairs(a.get("query"))
    return ApiRequest("GET", f"/{seg(a['module'])}/search", query=query)


def _create(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", f"/{seg(a['module'])}", json=_write_body(a))


def _update(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("PUT", f"/{seg(a['module'])}/{seg(a['id'])}", json=_write_body(a))


def _upsert(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", f"/{seg(a['module'])}/upsert", json=_write_body(a))


def _delete(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("DELETE", f"/{seg(a['module'])}/{seg(a['id'])}",
                      query=query_pairs(a.get("options")))


def _related(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/{seg(a['parent_module'])}/{seg(a['id'])}/"
                      f"{seg(a['relation'])}", query=_pages(a) + query_pairs(a.get("query")))


def _update_related(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("PUT", f"/{seg(a['parent_module'])}/{seg(a['parent_id'])}/"
                      f"{seg(a['relation'])}/{seg(a['related_id'])}",
                      json={"data": [a["record"]]})


def _attach_file(a: dict[str, Any]) -> ApiRequest:
    f: File = a["file"]
    return ApiRequest("POST", f"/{seg(a['module'])}/{seg(a['id'])}/Attachments",
                      files=[("file", f.name, f.content_type, f.data)])


def _convert_lead(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", f"/Leads/{seg(a['lead_id'])}/actions/convert",
                      json={"data": [a["values"]]})


def _org_variable(a: dict[str, Any]) -> ApiRequest:
    return ApiRequest("GET", f"/settings/variables/{seg(a['name'])}")


def _variable_value(response: ApiResponse) -> Any:
    """The variable's value; null when it has none."""
    answer = response.value
    if isinstance(answer, dict) and isinstance(answer.get("variables"), list):
        first = answer["variables"][0] if answer["variables"] else None
        return first.get("value") if isinstance(first, dict) else None
    return answer


def _connector_arg(a: dict[str, Any], key: str) -> Any:
    params = a["parameters"]
    value = next((v for k, v in params.items() if str(k).lower() == key), None)
    if value is None:
        raise ScriptRuntimeError(f"zoho.crm.invokeConnector(\"{text(a['connector'])}\"): the "
                                 f"parameter map needs '{key}'")
    return value


# The CRM's own connector APIs (`crm.*`) that published scripts invoke, as the REST calls
# they stand for (Zoho Developer help: "Delete Records", "Set Organization Variable", ...).
_CONNECTORS = {
    "crm.delete": lambda a: ApiRequest("DELETE", f"/{seg(_connector_arg(a, 'module'))}/"
                                                 f"{seg(_connector_arg(a, 'id'))}"),
    "crm.set": lambda a: ApiRequest(
        "PUT", f"/settings/variables/{seg(_connector_arg(a, 'apiname'))}",
        json={"variables": [{"value": _connector_arg(a, "value")}]}),
    "crm.search": lambda a: ApiRequest(
        "GET", f"/{seg(_connector_arg(a, 'module'))}/search",
        query=[("criteria", text(_connector_arg(a, "criteria")))]),
    "crm.getorg": lambda a: ApiRequest("GET", "/org"),
    "crm.modulesmeta": lambda a: ApiRequest("GET", "/settings/modules"),
}


def _invoke_connector(a: dict[str, Any]) -> ApiRequest:
    build = _CONNECTORS.get(text(a["connector"]).strip().lower())
    if build is None:
        raise ScriptRuntimeError(
            f"Not supported in this runtime: zoho.crm.invokeConnector(\"{text(a['connector'])}"
            "\") calls a connector published in the vendor's CRM (an extension's service); "
            f"the CRM's own {', '.join(sorted(_CONNECTORS))} are supported; call other "
            "services with invokeurl and a connection")
    return build(a)  # type: ignore[no-any-return]


def _connector_answer(response: ApiResponse) -> Any:
    """`{"status_code": 200, "response": "<the API's answer as JSON text>"}`."""
    body = response.value
    return {"status_code": response.status,
            "response": body if isinstance(body, str) else to_json_text(body)}


TASKS = [
    # https://www.zoho.com/deluge/help/crm/get-record-by-id.html ; API: get-records.html
    task("zoho.crm.getRecordById", "module:text, id:text|number, query:map|text?",
         _get_record_by_id, first_record, "MAP", "One record of a module by its ID",
         _DOCS + "get-record-by-id.html"),
    # https://www.zoho.com/deluge/help/crm/get-records.html
    task("zoho.crm.getRecords",
         "module:text, page:number?, per_page:number?, query:map|text?",
         _get_records, records, "LIST", "A page of the records of a module",
         _DOCS + "get-records.html"),
    # https://www.zoho.com/deluge/help/crm/search-records.html ; API: search-records.html
    task("zoho.crm.searchRecords",
         "module:text, criteria:text, page:number?, per_page:number?, query:map?",
         _search_records, records, "LIST", "Records matching (Field:equals:value) criteria",
         _DOCS + "search-records.html"),
    # https://www.zoho.com/deluge/help/crm/create-record.html ; API: insert-records.html
    task("zoho.crm.createRecord", "module:text, record:map, options:map?", _create, details,
         "MAP", "Create a record; gives its id and times", _DOCS + "create-record.html"),
    # https://www.zoho.com/deluge/help/crm/create-record.html (the v1-era name `create`)
    task("zoho.crm.create", "module:text, record:map, options:map?", _create, details,
         "MAP", "Create a record (older name of createRecord)", _DOCS + "create-record.html"),
    # https://www.zoho.com/deluge/help/crm/update-record.html ; API: update-specific-record.html
    task("zoho.crm.updateRecord", "module:text, id:text|number, record:map, options:map?",
         _update, details, "MAP", "Update a record by its ID", _DOCS + "update-record.html"),
    # https://www.zoho.com/deluge/help/crm/upsert-record.html ; API: upsert-records.html
    task("zoho.crm.upsert", "module:text, record:map, options:map?", _upsert, details,
         "MAP", "Insert a record or update its duplicate", _DOCS + "upsert-record.html"),
    # https://www.zoho.com/deluge/help/crm/delete-record.html ; API: delete-specific-record.html
    task("zoho.crm.deleteRecord", "module:text, id:text|number, options:map?", _delete,
         details, "MAP", "Delete a record by its ID", _DOCS + "delete-record.html"),
    # https://www.zoho.com/deluge/help/crm/get-related-records.html ; API: get-related-records.html
    task("zoho.crm.getRelatedRecords",
         "relation:text, parent_module:text, id:text|number, page:number?, per_page:number?, "
         "query:map?", _related, records, "LIST",
         "Records of a related list of a record", _DOCS + "get-related-records.html"),
    # https://www.zoho.com/deluge/help/crm/update-related-records.html ;
    # API: update-related-records.html
    task("zoho.crm.updateRelatedRecord",
         "relation:text, related_id:text|number, parent_module:text, "
         "parent_id:text|number, record:map", _update_related, details, "MAP",
         "Update the relation between a record and a related record",
         _DOCS + "update-related-records.html"),
    # https://www.zoho.com/deluge/help/crm/convert-lead.html ; API: convert-lead.html
    # (POST /Leads/{id}/actions/convert); gives {"Contacts": id, "Deals": id, "Accounts": id}
    task("zoho.crm.convertLead", "lead_id:text|number, values:map", _convert_lead,
         first_record, "MAP", "Convert a lead into a contact, account and deal",
         _DOCS + "convert-lead.html"),
    # https://www.zoho.com/deluge/help/crm/attach-file.html ; API: upload-attachment.html
    task("zoho.crm.attachFile", "module:text, id:text|number, file:file", _attach_file,
         details, "MAP", "Attach a FILE to a record", _DOCS + "attach-file.html"),
    # https://www.zoho.com/deluge/help/crm/get-org-variable.html ; API: get-variables.html
    task("zoho.crm.getOrgVariable", "name:text", _org_variable, _variable_value, "ANY",
         "The value of a CRM organization variable", _DOCS + "get-org-variable.html"),
    # https://www.zoho.com/deluge/help/crm/invoke-connector-task.html ; the CRM's own
    # connectors: https://zoho.com/developer/help/scripting/delete-records.html (crm.delete),
    # https://www.zoho.com/deluge/help/crm/set-organization-variable.html (crm.set); an
    # extension's own connectors live at the vendor and are refused.
    task("zoho.crm.invokeConnector", "connector:text, parameters:map", _invoke_connector,
         _connector_answer, "MAP", "Call one of the CRM's own connector APIs (crm.delete, "
         "crm.set, crm.search, crm.getorg, crm.modulesmeta)",
         _DOCS + "invoke-connector-task.html"),
]
