"""The wire protocol between an isolated run (the child) and its host (the parent).

Each message is a 4-byte big-endian length and a UTF-8 JSON object. JSON and never
pickle: the child runs hostile code, so nothing it sends may be able to execute code in
the parent, and the parent checks the size of every message before reading it.

    child -> parent  {"op": "http", "request": {...}}       parent -> {"ok": true, "response": {...}}
                                                                   or {"ok": false, "kind", "message"}
    child -> parent  {"op": "resolve", "name": "ns.fn"}     parent -> {"ok": true, "source": ...|null}
    child -> parent  {"op": "result", "result": {...}}      (last message of a run)
"""

from __future__ import annotations

__all__ = ["send", "receive", "ProtocolError", "encode_request", "decode_request",
           "encode_response", "decode_response", "MAX_MESSAGE"]

import base64
import json
import socket
import struct
from decimal import Decimal
from typing import Any

from ..http.messages import HttpRequest, HttpResponse
from ..integrations import SERVICES

# Bodies travel base64-encoded inside JSON; 64 MB covers a 15 MB body with room to spare.
MAX_MESSAGE = 64 * 1024 * 1024
_HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    from ..values import clean_text, to_json_text
    data = clean_text(to_json_text(message)).encode("utf-8")
    if len(data) > MAX_MESSAGE:
        raise ProtocolError(f"message of {len(data)} bytes is over the {MAX_MESSAGE} limit")
    sock.sendall(_HEADER.pack(len(data)) + data)


def receive(sock: socket.socket, limit: int = MAX_MESSAGE) -> dict[str, Any]:
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    if size > limit:
        raise ProtocolError(f"message of {size} bytes is over the {limit} limit")
    try:
        message = json.loads(_recv_exact(sock, size), parse_float=Decimal)
    except ValueError as exc:
        raise ProtocolError(f"message is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("message is not a JSON object")
    return message


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ProtocolError("body is not base64 text")
    return base64.b64decode(text, validate=True)


def _pairs(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
            for p in value):
        raise ProtocolError("expected a list of [name, value] text pairs")
    return [(p[0], p[1]) for p in value]


def encode_request(request: HttpRequest) -> dict[str, Any]:
    return {"method": request.method, "url": request.url,
            "query": [list(p) for p in request.query],
            "headers": [list(p) for p in request.headers], "body": _b64(request.body),
            "files": [[f, n, t, _b64(d)] for f, n, t, d in request.files],
            "form": [list(p) for p in request.form], "connection": request.connection,
            "implicit": request.implicit}


def decode_request(data: Any) -> HttpRequest:
    """An HttpRequest from a child's message, every field type-checked."""
    if not isinstance(data, dict):
        raise ProtocolError("request is not an object")
    method, url, connection = data.get("method"), data.get("url"), data.get("connection")
    if not isinstance(method, str) or not isinstance(url, str):
        raise ProtocolError("request needs text method and url")
    if connection is not None and not isinstance(connection, str):
        raise ProtocolError("connection must be text")
    implicit = data.get("implicit")
    if implicit is not None and implicit not in SERVICES:
        raise ProtocolError("implicit must name a Zoho service")
    files_raw = data.get("files") or []
    if not isinstance(files_raw, list):
        raise ProtocolError("files must be a list")
    files = []
    for item in files_raw:
        if not (isinstance(item, list) and len(item) == 4
                and all(isinstance(x, str) for x in item)):
            raise ProtocolError("malformed file entry")
        files.append((item[0], item[1], item[2], _unb64(item[3]) or b""))
    return HttpRequest(method=method, url=url, query=_pairs(data.get("query") or []),
                       headers=_pairs(data.get("headers") or []), body=_unb64(data.get("body")),
                       files=files, form=_pairs(data.get("form") or []), connection=connection,
                       implicit=implicit)


def encode_response(response: HttpResponse) -> dict[str, Any]:
    return {"status": response.status, "headers": dict(response.headers),
            "body": _b64(response.body), "url": response.url}


def decode_response(data: Any) -> HttpResponse:
    if not isinstance(data, dict) or not isinstance(data.get("status"), int):
        raise ProtocolError("malformed response")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict):
        raise ProtocolError("malformed response headers")
    return HttpResponse(status=data["status"], headers={str(k): str(v) for k, v in
                                                        headers.items()},
                        body=_unb64(data.get("body")) or b"", url=str(data.get("url") or ""))
