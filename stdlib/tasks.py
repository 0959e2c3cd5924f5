"""Tasks: invokeurl, sendmail, the legacy URL functions, integration tasks, system values.

Every HTTP request is built here as a `sluicegate.broker.HttpRequest` and handed to the
run's broker, which checks the destination, signs it for the named connection and sends
it; this module never touches the network. Rules (SPEC §5, vendor "invokeurl task"):

- `parameters` MAP: query string for GET/DELETE/HEAD; form body for POST/PUT/PATCH, or a
  JSON body when `content-type` says JSON. `parameters` TEXT or `body`: the raw body.
- `files`: a FILE, a LIST of FILEs, or part maps `{"paramName", "content", "stringPart"}`,
  sent as multipart/form-data (with the `parameters` MAP as text parts).
- The answer: a JSON object becomes a MAP, a JSON array a LIST, anything else TEXT,
  decoded with the response's charset or `response-decoding`; `response-format: FILE`
  gives a FILE named by Content-Disposition or the URL. Non-2xx answers do not raise.
  `detailed: true` gives {"responseCode", "responseText", "responseHeader"} with
  lower-case header names.
- A `url` that is a path (`/v1/items`) is only valid with a connection: the broker sends
  it to the connection's base URL. Integration tasks (`zoho.crm.*`, `zoho.desk.*`, ...:
  the rows of `sluicegate.integrations`) use this when the host configured no root for the
  service, so they reach the data centre the connection was made for.
"""

from __future__ import annotations

__all__ = ["METHODS", "FUNCTIONS", "TASKS", "invokeurl", "invokeapi", "sendmail",
           "system_value", "send_request", "answer_value"]

import base64
import json
import re
from decimal import Decimal
from typing import Any

from sluicegate.http.messages import (
    HttpRequest, HttpResponse, OutboxMailer, UnconfiguredBroker,
)
from sluicegate.errors import LimitExceeded, ScriptRuntimeError
from sluicegate.limits import RunContext, current
from sluicegate.values import (
    File, clean_text, display, from_json, to_json_text, type_name,
)

from . import dates, encoding
from .builtin import Builtin, function

_METHODS_WITH_QUERY = {"GET", "DELETE", "HEAD"}
_VALID_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
_BAD_HEADER = re.compile(r"[\r\n\x00]")
_UNCONFIGURED = UnconfiguredBroker()
_OUTBOX = OutboxMailer()


def _text_param(task: str, key: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)) and type(value) is not bool:
        return display(value)
    raise ScriptRuntimeError(f"{task} parameter '{key}' must be TEXT but found {type_name(value)}")


def _headers(task: str, value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise ScriptRuntimeError(f"{task} parameter 'headers' must be a MAP but found "
                                 f"{type_name(value)}")
    out = []
    for k, v in value.items():
        name, text = display(k), display(v)
        if _BAD_HEADER.search(name) or _BAD_HEADER.search(text):
            raise ScriptRuntimeError(f"Header '{_BAD_HEADER.sub('?', name)}' contains a line "
                                     "break or NUL character, which is not allowed")
        out.append((name, text))
    return out


def _with_charset(f: File) -> str:
    """The part's content type, with the charset a script set on the file."""
    if f.charset and "charset=" not in f.content_type.lower():
        return f"{f.content_type};charset={f.charset}"
    return f.content_type


def _files(value: Any) -> tuple[list[tuple[str, str, str, bytes]], list[tuple[str, str]]]:
    """The multipart parts of `files`: a FILE, a LIST of FILEs, or the vendor's part maps
    `{"paramName": "doc", "content": fileOrText, "stringPart": "true"}` (a text part).
    Returns the file parts and the text parts."""
    items = value if isinstance(value, list) else [value]
    files: list[tuple[str, str, str, bytes]] = []
    fields: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        default_name = "file" if len(items) == 1 else f"file{i}"
        if type(item) is File:
            files.append((item.param_name or default_name, item.name,
                          _with_charset(item), item.data))
            continue
        if not isinstance(item, dict):
            raise ScriptRuntimeError(f"invokeurl parameter 'files' must hold FILE values or "
                                     f"part maps but found {type_name(item)}")
        part = {display(k).lower(): v for k, v in item.items()}
        name = display(part.get("paramname") or default_name)
        content = part.get("content")
        if isinstance(content, File):
            files.append((name, content.name, _with_charset(content), content.data))
        elif content is not None and (display(part.get("stringpart")).lower() == "true"
                                      or isinstance(content, str)):
            fields.append((name, content if isinstance(content, str) else display(content)))
        else:
            raise ScriptRuntimeError("invokeurl parameter 'files': a part map needs "
                                     "'content' holding a FILE or, with stringPart, a TEXT")
    return files, fields


def _body_bytes(value: Any) -> tuple[bytes, str]:
    if isinstance(value, str):
        return value.encode("utf-8"), "text/plain;charset=UTF-8"
    if isinstance(value, (dict, list)):
        return to_json_text(value).encode("utf-8"), "application/json"
    if type(value) is File:
        return value.data, value.content_type
    return display(value).encode("utf-8"), "text/plain;charset=UTF-8"


def _check_http_budget(ctx: RunContext) -> None:
    if ctx.cancel is not None and ctx.cancel.is_set():
        # the node lost its lease: another node runs the occurrence, send nothing more
        raise LimitExceeded("The run was stopped: this node no longer holds its lease "
                            "(another node runs the occurrence)", limit="lease")
    ctx.http_calls += 1
    if ctx.http_calls > ctx.limits.max_http_calls:
        raise LimitExceeded(f"HTTP call limit of {ctx.limits.max_http_calls} exceeded",
                            limit="http_calls")


def send_request(ctx: RunContext, request: HttpRequest) -> HttpResponse:
    """Count the call against the run's limit and send it through the run's broker."""
    _check_http_budget(ctx)
    broker = ctx.broker or _UNCONFIGURED
    return broker.send(request, ctx)  # type: ignore[no-any-return]


def _decode(response: HttpResponse, charset: str | None) -> str:
    if charset is None:
        m = re.search(r"charset=([\w.-]+)", response.content_type, re.I)
        charset = m.group(1) if m else "utf-8"
    try:
        # a charset like UTF-7 can spell half a surrogate pair
        return clean_text(response.body.decode(charset, "replace"))
    except LookupError:
        raise ScriptRuntimeError(f"Unknown response-decoding '{charset}'") from None


def parse_body(text: str) -> Any:
    """A response body as a Deluge value: JSON object -> MAP, array -> LIST, else TEXT."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        limit = current().limits.max_nesting
        try:
            parsed = json.loads(stripped, parse_float=Decimal)
            return from_json(parsed, max_depth=limit)
        except ValueError:
            return text
        except RecursionError:  # the C decoder recurses: a body nested thousands deep
            raise LimitExceeded(f"Nesting limit of {limit} levels exceeded",
                                limit="nesting") from None
    return text


_DISPOSITION_NAME = re.compile(
    r"""filename\*\s*=\s*(?:[\w-]+'[\w-]*')?([^;]+)|filename\s*=\s*"?([^";]+)"?""", re.I)


def _file_name(response: HttpResponse) -> str:
    """The name the server gave (Content-Disposition), else the URL's last segment."""
    from urllib.parse import unquote

    names = _DISPOSITION_NAME.findall(response.headers.get("content-disposition", ""))
    for extended, plain in names:  # RFC 6266: filename* wins over filename
        if extended.strip():
            return unquote(extended.strip().strip('"')).rsplit("/", 1)[-1]
    for _, plain in names:
        if plain.strip():
            return plain.strip().rsplit("/", 1)[-1]
    return response.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "response"


def _result(response: HttpResponse, detailed: bool, as_file: bool, charset: str | None) -> Any:
    if as_file:
        body: Any = File(_file_name(response),
                         response.content_type.split(";")[0].strip()
                         or "application/octet-stream", response.body)
    else:
        body = parse_body(_decode(response, charset))
    if not detailed:
        return body
    return {"responseCode": response.status, "responseText": body,
            "responseHeader": {k.lower(): v for k, v in response.headers.items()}}


def invokeurl(ctx: RunContext, params: list[tuple[str, Any]],
              implicit: str | None = None) -> Any:
    """The `invokeurl [ ... ]` task; `params` are (normalized name, value) pairs."""
    p = dict(params)
    if "url" not in p:
        raise ScriptRuntimeError("invokeurl needs a 'url' parameter")
    url = _text_param("invokeurl", "url", p["url"]).strip()
    method = _text_param("invokeurl", "type", p.get("type") or "GET").strip().upper()
    if method not in _VALID_METHODS:
        raise ScriptRuntimeError(f"invokeurl type '{method}' is not one of "
                                 f"{', '.join(sorted(_VALID_METHODS))}")
    headers = _headers("invokeurl", p.get("headers"))
    content_type = p.get("content-type")
    if content_type is not None:
        content_type = _text_param("invokeurl", "content-type", content_type)
    request = HttpRequest(method=method, url=url, headers=headers)
    parameters = p.get("parameters")
    if isinstance(parameters, dict):
        pairs = [(display(k), v if isinstance(v, str) else (
            to_json_text(v) if isinstance(v, (dict, list)) else display(v)))
            for k, v in parameters.items()]
        if method in _METHODS_WITH_QUERY:
            request.query = pairs
        elif content_type and "json" in content_type.lower():
            request.body = to_json_text(parameters).encode("utf-8")
        else:
            request.form = pairs
    elif parameters is not None:
        request.body, default_type = _body_bytes(parameters)
        content_type = content_type or default_type
    if p.get("body") is not None:
        request.body, default_type = _body_bytes(p["body"])
        content_type = content_type or default_type
    if p.get("files") is not None:
        request.files, text_parts = _files(p["files"])
        request.form.extend(text_parts)
    if content_type is not None and not any(k.lower() == "content-type" for k, _ in headers):
        request.headers.append(("Content-Type", content_type))
    connection = p.get("connection")
    if connection is not None:
        request.connection = _text_param("invokeurl", "connection", connection)
    elif implicit is not None and url.startswith("/"):
        request.implicit = implicit  # the organization's own connection of that service
    detailed = p.get("detailed")
    if detailed is not None and detailed not in (True, False):
        raise ScriptRuntimeError("invokeurl parameter 'detailed' must be true or false")
    fmt = p.get("response-format")
    as_file = fmt is not None and display(fmt).strip().upper() == "FILE"
    charset = p.get("response-decoding")
    response = send_request(ctx, request)
    return _result(response, bool(detailed), as_file,
                   display(charset) if charset is not None else None)


def invokeapi(ctx: RunContext, params: list[tuple[str, Any]]) -> Any:
    """`invokeapi [ service: ... path: ... ]`: a call of the organization's own service API."""
    p = dict(params)
    service = display(p.get("service") or "").strip().lower()
    path = display(p.get("path") or "").strip()
    roots = ctx.system.get("service_roots", {})
    root = roots.get(service)
    rest = [(k, v) for k, v in params if k not in ("service", "path")]
    if not root:
        kind = _INVOKEAPI_SERVICES.get(service)
        if kind is None:
            raise ScriptRuntimeError(f"invokeapi service '{service}' is not configured in "
                                     "this runtime")
        # zohobooks, zohocrm, zohodesk, ...: the path goes to the organization's own
        # connection of that service (or the connection the block names), as the
        # integration tasks do.
        return invokeurl(ctx, [("url", "/" + path.lstrip("/")), *rest], implicit=kind)
    return invokeurl(ctx, [("url", root.rstrip("/") + "/" + path.lstrip("/")), *rest])


def _invokeapi_services() -> dict[str, str]:
    """`service:` names of invokeapi (`zohodesk`, ...) -> the integrations' service kind."""
    from sluicegate.integrations import SERVICES

    return {"zoho" + kind: kind for kind in SERVICES} | {"zohosubscriptions": "billing"}


_INVOKEAPI_SERVICES = _invokeapi_services()


def _recipients(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        for part in display(item).split(","):
            if part.strip():
                out.append(part.strip())
    return out


def sendmail(ctx: RunContext, params: list[tuple[str, Any]]) -> None:
    """`sendmail [ ... ]`: the message goes to the run's outbox (SMTP is a host setting)."""
    if len(ctx.mail) >= ctx.limits.max_mail:
        raise LimitExceeded(f"Mail limit of {ctx.limits.max_mail} messages exceeded",
                            limit="mail")
    p = dict(params)
    to = _recipients(p.get("to"))
    if not to:
        raise ScriptRuntimeError("sendmail needs at least one recipient in 'to'")
    sender = display(p.get("from")).strip() if p.get("from") is not None else ""
    if not sender:
        # zoho.adminuserid is null until the organization profile names the admin
        raise ScriptRuntimeError("sendmail needs a sender in 'from', and it is empty "
                                 "(zoho.adminuserid has a value once the organization's "
                                 "admin e-mail is set: sluice org set --admin-email ADDRESS)")
    message = {
        "from": sender,
        "to": to,
        "cc": _recipients(p.get("cc")) if p.get("cc") is not None else [],
        "bcc": _recipients(p.get("bcc")) if p.get("bcc") is not None else [],
        "reply_to": display(p.get("reply-to")) if p.get("reply-to") is not None else None,
        "subject": display(p.get("subject")),
        "message": display(p.get("message")),
        "content_type": display(p.get("content-type") or "text/html"),
    }
    files = _attachments(p.get("attachments"))
    message["attachments"] = [f.name for f in files]
    if files:
        message["files"] = [{"name": f.name, "content_type": f.content_type,
                             "base64": base64.b64encode(f.data).decode("ascii")}
                            for f in files]
    (ctx.mailer or _OUTBOX).send(message, ctx)


# What one message may carry in attachments; a relay refuses larger mail (the common
# limit of hosted relays, measured on the encoded message, is 20-25 MB).
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024


def _attachments(value: Any) -> list[File]:
    if value is None:
        return []
    files = [f for f in (value if isinstance(value, list) else [value]) if type(f) is File]
    total = sum(len(f.data) for f in files)
    if total > MAX_ATTACHMENT_BYTES:
        raise ScriptRuntimeError(f"sendmail attachments total {total} bytes, over the "
                                 f"{MAX_ATTACHMENT_BYTES // 1024 // 1024} MB a message may "
                                 "carry")
    return files


# ---- legacy URL functions ------------------------------------------------------------------
def _simple_flag(value: Any, fname: str) -> bool:
    if value is None:
        return True
    if value is True or value is False:
        return value
    raise ScriptRuntimeError(f"The last argument of {fname} must be true or false")


def get_url(url: Any, headers: Any = None, simple: Any = None) -> Any:
    """`getUrl(url [, headers] [, simple])` (vendor: "getUrl"); simple=false gives the detailed map."""
    if headers is True or headers is False:
        headers, simple = None, headers
    params: list[tuple[str, Any]] = [("url", url), ("type", "GET")]
    if headers is not None:
        params.append(("headers", headers))
    params.append(("detailed", not _simple_flag(simple, "getUrl")))
    return invokeurl(current(), params)


def post_url(url: Any, body: Any = None, headers: Any = None, simple: Any = None) -> Any:
    """`postUrl(url, body [, headers] [, simple])` (vendor: "postUrl"); a MAP body is a form."""
    if headers is True or headers is False:
        headers, simple = None, headers
    params: list[tuple[str, Any]] = [("url", url), ("type", "POST")]
    if body is not None:
        params.append(("parameters", body))
    if headers is not None:
        params.append(("headers", headers))
    params.append(("detailed", not _simple_flag(simple, "postUrl")))
    return invokeurl(current(), params)


def legacy_invoke_url(url: Any, method: Any = "GET", body: Any = None, headers: Any = None,
                      simple: Any = None) -> Any:
    """`invokeUrl(url, type, body, headers, simple)`, the function form before the task."""
    params: list[tuple[str, Any]] = [("url", url), ("type", method)]
    if body is not None:
        params.append(("parameters", body))
    if headers is not None:
        params.append(("headers", headers))
    params.append(("detailed", not _simple_flag(simple, "invokeUrl")))
    return invokeurl(current(), params)


# ---- integration tasks ---------------------------------------------------------------------
# The rows of every service live in `sluicegate.integrations` (one table per service); each
# becomes a task here, run by `integrations.runner.call`.


def answer_value(response: HttpResponse, as_file: bool = False) -> Any:
    """An integration task's answer as a Deluge value: the parsed body, or with `as_file` the
    document as a FILE (a JSON answer, the vendor's error, is still parsed)."""
    if as_file and "json" not in response.content_type.lower():
        return _result(response, False, True, None)
    return parse_body(_decode(response, None))


def _integration_rows() -> list[Builtin]:
    from functools import partial

    from sluicegate.integrations import TASKS as ROWS
    from sluicegate.integrations.runner import call

    rows = []
    for row in ROWS:
        fn = partial(call, row)
        fn.__doc__ = row.summary   # what references and hovers show of the task
        rows.append(function((row.name, *row.aliases), fn, row.min_args, row.max_args))
    return rows


# ---- system values -------------------------------------------------------------------------
_USER_VALUES = ("adminuser", "adminuserid", "loginuser", "loginuserid", "appname", "appuri",
                "ipaddress")
# The `zoho.*` names that are values, not integration tasks (the translator reads
# `zoho.currentdate.addDay(1)` as a method of the value).
ZOHO_VALUES = frozenset({"zoho.currentdate", "zoho.currenttime",
                         *(f"zoho.{name}" for name in _USER_VALUES)})


def system_value(ctx: RunContext, name: str) -> Any:
    """`zoho.currentdate`, `zoho.currenttime`, `today`, `now`, `zoho.adminuser`, ..."""
    key = name.lower()
    if key in ("zoho.currentdate", "today"):
        return dates.today_value()
    if key in ("zoho.currenttime", "now"):
        return dates.now_value()
    if key in ctx.system:
        return ctx.system[key]
    short = key.split(".", 1)[-1]
    if short in _USER_VALUES:
        return ctx.system.get(short)
    raise ScriptRuntimeError(f"Unknown system value '{name}'")


METHODS: list[Builtin] = []

FUNCTIONS: list[Builtin] = [
    function("getUrl", get_url, 1, 3),
    function("postUrl", post_url, 1, 4),
    function("invokeUrl", legacy_invoke_url, 1, 5),
]

TASKS: list[Builtin] = _integration_rows() + [
    Builtin(tuple("zoho.encryption." + n for n in row.names), row.fn, row.min_args,
            row.max_args, (), True)
    for row in getattr(encoding, "ENCRYPTION_TASKS", {}).values()
]
