"""How the HTTP API answers failures: one envelope, `{"error": {"type", "message", ...}}`,
for every error a route, the validation of a path or query, or the store can raise.

    TriggerError      NotFound 404, Conflict 409, InvalidField / InvalidSource 422,
                      Unavailable 503 (with the run's `result` when it ran), others 400
    RequestValidationError  422 InvalidField naming the parameter
    RegistryError     422 InvalidField;  ConnectionNotFound 404;  KeyringError 503
    SQLAlchemyError   503 Unavailable (the failure named, never the statement)
    HTTPException     its status, typed by status
"""

from __future__ import annotations

__all__ = ["install_error_handlers"]

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..connections.keyring import KeyringError
from ..connections.registry import ConnectionNotFound, RegistryError
from ..triggers.errors import (
    Conflict, InvalidField, InvalidSource, NotFound, TriggerError, Unavailable, store_failure,
)
from .context import json_response

log = logging.getLogger("sluicegate.service")

_KINDS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
          405: "MethodNotAllowed", 413: "PayloadTooLarge", 422: "InvalidBody"}


def _trigger_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TriggerError)
    status = {NotFound: 404, Conflict: 409, InvalidField: 422, InvalidSource: 422}.get(
        type(exc), 400)
    body: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, InvalidField):
        body.update(field=exc.field, reason=exc.reason)
    if isinstance(exc, InvalidSource):
        body.update(line=exc.line, column=exc.column, diagnostic=exc.diagnostic)
    if isinstance(exc, Unavailable):
        answer: dict[str, Any] = {"error": body}
        if exc.result is not None:
            answer["result"] = exc.result.to_json()
        return json_response(answer, 503)
    return json_response({"error": body}, status)


def _validation_error(_request: Request, exc: Exception) -> Response:
    """A path, query or body parameter FastAPI could not accept: the first problem, named
    by where it is (`path.run_id`, `query.limit`), in the service's envelope."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    field = ".".join(str(p) for p in first.get("loc", ())) or "request"
    reason = str(first.get("msg", "invalid"))
    return json_response({"error": {"type": "InvalidField", "message": f"{field}: {reason}",
                                    "field": field, "reason": reason}}, 422)


def _store_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SQLAlchemyError)
    log.error("database failure under a request: %s", store_failure(exc))
    return json_response({"error": {"type": "Unavailable", "message": "The database is "
                                    f"unavailable: {store_failure(exc)}"}}, 503)


def _registry_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistryError)
    return json_response({"error": {"type": "InvalidField", "message": str(exc),
                                    "field": exc.field, "reason": exc.reason}}, 422)


def _no_connection(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConnectionNotFound)
    return json_response({"error": {"type": "NotFound", "message": exc.message}}, 404)


def _no_keyring(_request: Request, exc: Exception) -> Response:
    return json_response({"error": {"type": "Unavailable",
                                    "message": f"Connections are unavailable: {exc}"}}, 503)


def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kind = _KINDS.get(exc.status_code, "HTTPError")
    return JSONResponse({"error": {"type": kind, "message": exc.detail}},
                        status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TriggerError, _trigger_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(SQLAlchemyError, _store_error)
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(ConnectionNotFound, _no_connection)
    app.add_exception_handler(KeyringError, _no_keyring)
    app.add_exception_handler(StarletteHTTPException, _http_error)
