"""What the API does with hostile or malformed requests: oversized bodies are refused by
Content-Length before a byte is read and counted while they stream; bodies nested past the
JSON limit, ids past 64 bits and bad query values are 422s in the service's own
`{"error": ...}` envelope, never a 500 or FastAPI's `{"detail": ...}`."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from servicelab import ServiceApi, serve_api
from sluicegate.triggers.setup import Triggers
from sluicegate.service.app import MAX_BODY_BYTES


Api = ServiceApi


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    def scripts(triggers: Triggers) -> None:
        triggers.catalog.save("echo", "return inputs;", kind="function")

    with serve_api(db_url, node="requests-test", prepare=scripts, timeout=30) as served:
        yield served


def _error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert "detail" not in body
    return body["error"]


@pytest.mark.parametrize("path", ["/api/v1/runs/99999999999999999999999",
                                  "/api/v1/runs/9223372036854775808", "/api/v1/runs/0",
                                  "/api/v1/runs/abc"])
def test_a_run_id_outside_64_bits_is_a_422_naming_it(api: Api, path: str) -> None:
    error = _error(api.client.get(path, headers=api.admin), 422)
    assert error["type"] == "InvalidField"
    assert error["field"] == "path.run_id"


def test_the_largest_64_bit_run_id_is_simply_not_found(api: Api) -> None:
    error = _error(api.client.get("/api/v1/runs/9223372036854775807", headers=api.admin), 404)
    assert error["type"] == "NotFound"


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "before=99999999999999999999"])
def test_bad_query_values_use_the_error_envelope(api: Api, query: str) -> None:
    error = _error(api.client.get(f"/api/v1/runs?{query}", headers=api.admin), 422)
    assert error["field"].startswith("query.")


def test_a_body_nested_past_the_json_limit_is_a_422(api: Api) -> None:
    deep = "[" * 600 + "]" * 600
    body = '{"inputs": {"x": ' + deep + "}}"
    error = _error(api.client.post("/api/v1/functions/echo/execute", headers=api.admin,
                                   content=body), 422)
    assert "nests deeper than 512" in error["message"]


def test_a_body_nested_past_the_parser_is_a_422_too(api: Api) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    body = '{"inputs": {"x": ' + deep + "}}"
    error = _error(api.client.post("/api/v1/functions/echo/execute", headers=api.admin,
                                   content=body), 422)
    assert "nests deeper" in error["message"]


def test_a_declared_oversized_body_is_refused_before_it_is_sent(api: Api) -> None:
    """The server answers 413 on the header alone: it never waits for the 20 MB."""
    parts = urlsplit(api.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        head = (f"POST /api/v1/functions/echo/execute HTTP/1.1\r\nHost: x\r\n"
                f"{next(iter(api.admin))}: {api.admin['Authorization']}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {20 * 1024 * 1024}\r\n"
                "\r\n{")
        sock.sendall(head.encode())
        answer = ""
        while "PayloadTooLarge" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data.decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert '"PayloadTooLarge"' in answer


def test_a_streamed_body_is_counted_as_it_arrives(api: Api) -> None:
    chunk = b" " * (1024 * 1024)

    def body() -> Iterator[bytes]:
        yield b'{"inputs": {}'
        for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
            yield chunk
        yield b"}"
    response = api.client.post("/api/v1/functions/echo/execute", headers=api.admin,
                               content=body())
    error = _error(response, 413)
    assert error["type"] == "PayloadTooLarge"


def test_a_body_within_the_limit_still_runs(api: Api) -> None:
    response = api.client.post("/api/v1/functions/echo/execute", headers=api.admin,
                               content=json.dumps({"inputs": {"n": [[1]]}}))
    assert response.status_code == 200, response.text


def test_a_past_one_off_schedule_is_a_422_naming_start(api: Api) -> None:
    api.client.post("/api/v1/scripts", headers=api.admin,
                    json={"name": "tick", "source": "return 1;", "kind": "schedule"})
    response = api.client.post("/api/v1/schedules", headers=api.admin, json={
        "name": "once", "script": "tick", "recurrence": {"kind": "once"},
        "start": "2020-01-01T00:00", "timezone": "UTC"})
    error = _error(response, 422)
    assert error["field"] == "start" and "misfire grace" in error["reason"]
