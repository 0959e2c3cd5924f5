"""What every route of the HTTP API shares: the service's parts, the token check, the
exact JSON body reader and the JSON answer.

The parts live on `app.state.service` (a `ServiceParts`), so routers are plain modules
with no closure over `create_app`. Bodies are read only after the token was accepted,
refused by `Content-Length` before a byte is read and counted while they stream, so an
oversized request never grows the process."""

from __future__ import annotations

__all__ = ["MAX_BODY_BYTES", "MAX_BODY_NESTING", "ServiceParts", "actor", "admin",
           "documents", "exact_body", "json_response", "parts", "runner"]

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError

from ..triggers.errors import InvalidField
from ..triggers.launcher import Actor
from ..triggers.node import SchedulerNode
from ..triggers.setup import Triggers
from ..values import to_json_text
from .registry import ServiceRegistry
from .tokens import TokenBook, TokenInfo

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_BODY_NESTING = 512     # SPEC §8: the JSON nesting limit of a run's values
_bearer = HTTPBearer(auto_error=False, description="An API token from "
                     "`sluice tokens create --role admin|runner`")


@dataclass
class ServiceParts:
    """The parts one application serves: the trigger store, the token book, the
    connection registry and (when it schedules) the scheduler node."""

    triggers: Triggers
    tokens: TokenBook
    connections: ServiceRegistry
    node: SchedulerNode | None
    executor_mode: str


def parts(request: Request) -> ServiceParts:
    return request.app.state.service  # type: ignore[no-any-return]


def _require(role: str) -> Callable[..., TokenInfo]:
    def check(request: Request,
              credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> TokenInfo:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "Missing bearer token",
                                headers={"WWW-Authenticate": "Bearer"})
        tokens = parts(request).tokens
        token = tokens.verify(credentials.credentials)
        if token is None:
            raise HTTPException(401, "Invalid or revoked token",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if not token.allows(role):
            raise HTTPException(403, f"This needs the {role} role; the token is a "
                                f"{token.role} token")
        tokens.touch(token)
        return token
    return check


runner = _require("runner")
admin = _require("admin")


def json_response(value: Any, status: int = 200) -> Response:
    return Response(to_json_text(value), status_code=status, media_type="application/json")


def _too_large() -> HTTPException:
    return HTTPException(413, f"Request body larger than {MAX_BODY_BYTES // 1024 // 1024} MB")


async def _read_capped(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_BODY_BYTES:
                raise _too_large()
        except ValueError:
            raise HTTPException(400, "Content-Length is not a number") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _nesting_exceeds(data: Any, limit: int) -> bool:
    """Whether containers nest deeper than `limit` (iterative: no recursion to overflow)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))
    return False


async def exact_body(request: Request, model: type[BaseModel] | None = None) -> dict[str, Any]:
    """The JSON body (whatever the Content-Type says) with exact decimals; checked
    against `model` when given. Call only after the token was accepted."""
    raw = await _read_capped(request)
    data: Any = {}
    if raw.strip():
        try:
            data = json.loads(raw, parse_float=Decimal)
        except RecursionError:
            raise HTTPException(422, f"Request body nests deeper than {MAX_BODY_NESTING} "
                                "levels") from None
        except ValueError:
            raise HTTPException(400, "Request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(422, "Request body must be a JSON object")
    if _nesting_exceeds(data, MAX_BODY_NESTING):
        raise HTTPException(422, f"Request body nests deeper than {MAX_BODY_NESTING} levels")
    if model is not None:
        try:
            model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise InvalidField(where, first["msg"]) from None
    return data


def documents(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its body itself."""
    return {"requestBody": {"required": required, "content": {
        "application/json": {"schema": model.model_json_schema()}}}}


def actor(token: TokenInfo) -> Actor:
    name = token.name or token.prefix
    return Actor(f"token {name}", {"name": name, "user_id": str(token.id),
                                   "zuid": str(token.id)})
