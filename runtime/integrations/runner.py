"""Running a task row: bind the script's arguments, send the built request through the run's
broker, shape the answer.

The request goes to the root the host configured for the service (`service_roots` of the
run's system values), else to the service's API path (`/desk` tasks: `/api/v1/...`), which
the broker puts on the base URL of the connection: the one the script named, or without one
the organization's own connection of that service, so the data centre is the connection's.
"""

from __future__ import annotations

__all__ = ["bind", "call", "send", "http_request", "LINK_LIKE"]

import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.http.messages import HttpRequest
from sluicegate.limits import current
from sluicegate.values import File, to_json_text, type_name

from .registry import SERVICES
from .spec import ApiRequest, ApiResponse, Param, Task

# A connection link name (the registry's rule); a TEXT argument that could be either an
# optional TEXT parameter or the connection is the connection only when it looks like one.
LINK_LIKE = re.compile(r"[a-z][a-z0-9_]{0,49}\Z")

_KIND_TYPES: dict[str, tuple[type, ...]] = {
    "text": (str, int, Decimal), "number": (int, Decimal, str), "map": (dict,),
    "list": (list,), "file": (File,),
}
_KIND_NAMES = {"text": "TEXT", "number": "NUMBER", "map": "MAP", "list": "LIST",
               "file": "FILE"}


def _accepts(param: Param, value: Any) -> bool:
    if "any" in param.kinds:
        return True
    if isinstance(value, bool):
        return False
    return any(isinstance(value, _KIND_TYPES[k]) for k in param.kinds)


def _is_connection(param: Param, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if "text" not in param.kinds and "any" not in param.kinds:
        return True  # TEXT where a NUMBER/MAP/FILE belongs: the vendor's trailing connection
    return (LINK_LIKE.match(value) is not None and param.optional
            and value.lower() not in param.words)


def bind(row: Task, args: tuple[Any, ...]) -> tuple[dict[str, Any], str | None]:
    """The arguments by parameter name (null for those left out) and the connection.

    The vendor puts the connection last, after however many optional arguments a script
    passes: with every parameter given, the last argument is the connection; with fewer, a
    trailing TEXT is the connection when the parameter in its place takes no TEXT, or when
    it looks like a link name."""
    values = list(args)
    connection: Any = None
    if len(values) > len(row.params):
        connection = values.pop()
    elif len(values) > row.min_args and _is_connection(row.params[len(values) - 1],
                                                       values[-1]):
        connection = values.pop()
    if connection is not None and not isinstance(connection, str):
        raise ScriptRuntimeError(f"The connection argument of {row.name} must be TEXT")
    bound: dict[str, Any] = {}
    for i, param in enumerate(row.params):
        value = values[i] if i < len(values) else None
        if value is None and not param.optional:
            raise ScriptRuntimeError(f"{row.name}: the {param.name} argument is null")
        if value is not None and not _accepts(param, value):
            want = " or ".join(_KIND_NAMES.get(k, k.upper()) for k in param.kinds)
            raise ScriptRuntimeError(f"{row.name}: the {param.name} argument must be {want} "
                                     f"but found {type_name(value)}")
        bound[param.name] = value
    return bound, connection or None


def http_request(service: str, api: ApiRequest, connection: str | None,
                 roots: dict[str, Any]) -> HttpRequest:
    """The broker's request for a built `ApiRequest` (pure: no I/O)."""
    root = roots.get(service) or api.api or SERVICES[service].api
    request = HttpRequest(method=api.method, url=str(root).rstrip("/") + api.path,
                          query=list(api.query), headers=list(api.headers),
                          connection=connection, implicit=None if connection else service)
    if api.json is not None:
        request.body = to_json_text(api.json).encode("utf-8")
        request.headers.append(("Content-Type", "application/json"))
    request.form = list(api.form)
    request.files = list(api.files)
    return request


def send(service: str, api: ApiRequest, connection: str | None) -> ApiResponse:
    """Send a built request for the current run (each request counted against its HTTP
    budget). A request of several `pages` reads the following pages too while they hold
    records and the answer's `info.more_records` does not say the last page was read,
    joining their `data` to the first page's; an error on a later page is the answer."""
    from sluicegate.stdlib.tasks import answer_value, send_request

    ctx = current()
    roots = ctx.system.get("service_roots", {})
    response = send_request(ctx, http_request(service, api, connection, roots))
    answer = ApiResponse(response.status, answer_value(response, api.as_file), api.pick)
    if api.pages <= 1:
        return answer
    first = int(dict(api.query)["page"])  # ApiRequest holds one when pages > 1
    for page in range(first + 1, first + api.pages):
        data = answer.value.get("data") if isinstance(answer.value, dict) else None
        info = answer.value.get("info") if isinstance(answer.value, dict) else None
        if not isinstance(data, list) or not data or (
                isinstance(info, dict) and info.get("more_records") is False):
            break   # nothing on this page, or the API says no page follows
        query = [(k, str(page) if k == "page" else v) for k, v in api.query]
        later = replace(api, query=query)
        response = send_request(ctx, http_request(service, later, connection, roots))
        value = answer_value(response, api.as_file)
        if response.status >= 400:
            return ApiResponse(response.status, value, api.pick)
        more = value.get("data") if isinstance(value, dict) else None
        if not isinstance(more, list) or not more:
            break
        answer = ApiResponse(answer.status, {**answer.value, "data": data + more}, api.pick)
    return answer


def call(row: Task, *args: Any) -> Any:
    """The task as a script calls it: one HTTP request, the vendor's value back. API errors
    come back as the vendor's error map; they do not raise (SPEC §5)."""
    bound, connection = bind(row, args)
    return row.shape(send(row.service, row.build(bound), connection))
