"""The HTTP API (ARCHITECTURE "Contract: HTTP API"), as a FastAPI application.

    POST /api/v1/functions/{name}/execute   runner   run result + run_id
    POST /api/v1/buttons/{name}/click       runner   {"code", "message", "run_id"} or a table
    GET  /api/v1/runs, /api/v1/runs/{id}    runner   the run history
    POST /api/v1/runs/{id}/replay           admin
    /api/v1/scripts..., /api/v1/schedules...  admin  the catalog and the schedule book
    GET  /api/v1/connections[/{link}]       admin    connections (never their secrets)
    POST /api/v1/connections/{link}/authorize admin  start an OAuth authorization whose
                                                     redirect comes back to this service
    GET  /oauth/callback                    none     completes it (the state is checked)
    GET  /healthz                           none     database, scheduler, executor mode
    GET  /openapi.json, /docs               none     this API, described

Every `/api` route needs `Authorization: Bearer <token>`: no or an unknown token is 401,
a token whose role is too low is 403, and both are decided before anything is read or
written. Request bodies are parsed with exact decimals (`12.50` stays `12.50`), and
results are written the same way. A database that fails under a request (connection
lost, disk full) is a 503 that says why; a run that finished but could not be recorded
is returned under `result` of that answer.
"""

from __future__ import annotations

__all__ = ["MAX_BODY_BYTES", "create_app"]

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..connections.keyring import KeyringError
from ..connections.registry import ConnectionNotFound, RegistryError
from ..triggers.errors import (
    Conflict, InvalidField, InvalidSource, NotFound, TriggerError, Unavailable, store_failure,
)
from ..triggers.executor import executor_mode
from ..triggers.launcher import Actor
from ..triggers.node import SchedulerNode
from ..triggers.setup import Triggers
from ..values import to_json_text
from .registry import ServiceRegistry
from .tokens import TokenBook, TokenInfo

log = logging.getLogger("sluicegate.service")

MAX_BODY_BYTES = 10 * 1024 * 1024
_bearer = HTTPBearer(auto_error=False, description="An API token from "
                     "`sluice tokens create --role admin|runner`")


# -- request bodies (documented in the OpenAPI document; values are re-read exactly) ------
class _Body(BaseModel):
    """A request body: a field the API does not know is refused by name (a misspelt
    `input` would otherwise run the script with no inputs)."""

    model_config = ConfigDict(extra="forbid")


class ExecuteRequest(_Body):
    """Inputs of a custom function: the record map (`invoice`, ...), declared
    parameters; `organization` and `user` are filled in when absent."""

    inputs: dict[str, Any] = Field(default_factory=dict)


class ClickRequest(_Body):
    """A button click: one record (details page) or the selected records (list page)."""

    record: dict[str, Any] | None = None
    records: list[dict[str, Any]] | None = None
    inputs: dict[str, Any] = Field(default_factory=dict,
                                   description="the button's declared user inputs")
    organization: dict[str, Any] | None = None
    user: dict[str, Any] | None = None


class ReplayRequest(_Body):
    version: str = Field("original", description="'original' or 'current'")


class ScriptRequest(_Body):
    name: str
    source: str
    kind: str | None = Field(None, description="function, button or schedule (new scripts)")
    module: str | None = None
    location: str | None = Field(None, description="buttons: details or list")
    user_inputs: list[Any] | None = None
    description: str | None = None
    message: str = ""
    publish: bool = True


class AuthorizeRequest(_Body):
    redirect_uri: str | None = Field(None, description="where the provider sends the user "
                                     "back (default: this service's /oauth/callback)")


class VersionRequest(_Body):
    version: int | None = None


class ScheduleRequest(_Body):
    """A schedule (see `sluicegate.triggers.schedules` for every field)."""

    name: str
    script: str
    recurrence: dict[str, Any]
    start: str | None = None
    timezone: str | None = None
    end: dict[str, Any] | None = None
    misfire: str = "run_once"
    misfire_grace: float = 60.0
    no_overlap: bool = True
    retries: int = 0
    retry_backoff: float = 30.0
    inputs: dict[str, Any] = Field(default_factory=dict)


def _json(value: Any, status: int = 200) -> Response:
    return Response(to_json_text(value), status_code=status, media_type="application/json")


async def _exact_body(request: Request, model: type[BaseModel] | None = None) -> \
        dict[str, Any]:
    """The JSON body (whatever the Content-Type says) with exact decimals; checked
    against `model` when given. Read only after the token was accepted."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise HTTPException(413, f"Request body larger than {MAX_BODY_BYTES // 1024 // 1024} MB")
    data: Any = {}
    if raw.strip():
        try:
            data = json.loads(raw, parse_float=Decimal)
        except ValueError:
            raise HTTPException(400, "Request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(422, "Request body must be a JSON object")
    if model is not None:
        try:
            model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise InvalidField(where, first["msg"]) from None
    return data


def _documents(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its body itself."""
    return {"requestBody": {"required": required, "content": {
        "application/json": {"schema": model.model_json_schema()}}}}


def _actor(token: TokenInfo) -> Actor:
    name = token.name or token.prefix
    return Actor(f"token {name}", {"name": name, "user_id": str(token.id),
                                   "zuid": str(token.id)})


def create_app(triggers: Triggers, tokens: TokenBook, *, node: SchedulerNode | None = None,
               grace: float = 10.0, registry: ServiceRegistry | None = None) -> FastAPI:
    """The application over one database; `node` (if any) runs while the app serves;
    `registry` (default: one over the same database) completes OAuth authorizations."""
    connections = registry or ServiceRegistry(triggers.engine)
    mode = executor_mode(triggers.executor)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if node is not None:
            node.start()
        try:
            yield
        finally:
            if node is not None:
                await run_in_threadpool(node.stop, grace)
            if registry is None:
                connections.close()

    app = FastAPI(title="sluicegate", version="1", lifespan=lifespan,
                  summary="Run stored Deluge functions, buttons and schedules; read their "
                          "run history.")

    def require(role: str) -> Callable[..., TokenInfo]:
        def check(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> \
                TokenInfo:
            if credentials is None or credentials.scheme.lower() != "bearer":
                raise HTTPException(401, "Missing bearer token",
                                    headers={"WWW-Authenticate": "Bearer"})
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

    runner = require("runner")
    admin = require("admin")

    @app.exception_handler(TriggerError)
    async def trigger_error(_request: Request, exc: TriggerError) -> Response:
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
            return _json(answer, 503)
        return _json({"error": body}, status)

    @app.exception_handler(SQLAlchemyError)
    async def store_error(_request: Request, exc: SQLAlchemyError) -> Response:
        log.error("database failure under a request: %s", store_failure(exc))
        return _json({"error": {"type": "Unavailable", "message": "The database is "
                                f"unavailable: {store_failure(exc)}"}}, 503)

    @app.exception_handler(RegistryError)
    async def registry_error(_request: Request, exc: RegistryError) -> Response:
        return _json({"error": {"type": "InvalidField", "message": str(exc),
                                "field": exc.field, "reason": exc.reason}}, 422)

    @app.exception_handler(ConnectionNotFound)
    async def no_connection(_request: Request, exc: ConnectionNotFound) -> Response:
        return _json({"error": {"type": "NotFound", "message": exc.message}}, 404)

    @app.exception_handler(KeyringError)
    async def no_keyring(_request: Request, exc: KeyringError) -> Response:
        return _json({"error": {"type": "Unavailable",
                                "message": f"Connections are unavailable: {exc}"}}, 503)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        kind = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                413: "PayloadTooLarge", 422: "InvalidBody"}.get(exc.status_code, "HTTPError")
        return JSONResponse({"error": {"type": kind, "message": exc.detail}},
                            status_code=exc.status_code, headers=exc.headers)

    # -- health --------------------------------------------------------------------------
    @app.get("/healthz", tags=["service"])
    def healthz() -> Response:
        """Liveness and readiness: the database answers, the scheduler loop runs."""
        try:
            with triggers.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            database = "ok"
        except Exception as exc:
            database = f"unavailable: {type(exc).__name__}"
        scheduler = "off" if node is None else ("stopping" if node.stopping else "running")
        status = 200 if database == "ok" else 503
        return _json({"status": "ok" if status == 200 else "degraded", "database": database,
                      "scheduler": scheduler, "executor": mode, "node": triggers.node},
                     status)

    # -- connections ---------------------------------------------------------------------
    @app.get("/oauth/callback", tags=["service"], name="oauth_callback")
    def oauth_callback(state: str | None = None, code: str | None = None,
                       error: str | None = None,
                       error_description: str | None = None) -> Response:
        """Complete a connection's OAuth authorization: the provider redirects the user
        here with `code` and the `state` the authorization started with."""
        if error:
            detail = f": {error_description}" if error_description else ""
            return _json({"error": {"type": "AuthorizationRefused", "field": "error",
                                    "message": f"The provider answered {error}{detail}; "
                                               "the connection was not authorized"}}, 400)
        for field, value in (("state", state), ("code", code)):
            if not value:
                return _json({"error": {"type": "InvalidField", "field": field,
                                        "message": f"{field}: missing from the redirect"}},
                             400)
        try:
            view = connections.open().complete_authorization(state or "", code or "",
                                                             actor="oauth callback")
        except RegistryError as exc:  # unknown, expired or used state; a refused code
            return _json({"error": {"type": "AuthorizationFailed", "field": exc.field,
                                    "message": str(exc)}}, 400)
        return _json({"status": "authorized", "connection": view.link_name,
                      "connection_status": view.status})

    @app.get("/api/v1/connections", tags=["connections"])
    def list_connections(_token: TokenInfo = Depends(admin)) -> Response:
        """Connections and their status (never a secret)."""
        return _json({"connections": [v.to_json() for v in connections.open().list()]})

    @app.get("/api/v1/connections/{link}", tags=["connections"])
    def get_connection(link: str, _token: TokenInfo = Depends(admin)) -> Response:
        return _json(connections.open().get(link).to_json())

    @app.post("/api/v1/connections/{link}/authorize", tags=["connections"],
              openapi_extra=_documents(AuthorizeRequest, required=False))
    async def authorize_connection(link: str, request: Request,
                                   token: TokenInfo = Depends(admin)) -> Response:
        """Start an OAuth 2 authorization; send the user to `authorization_url`. The
        provider redirects back to `redirect_uri` (default: this service's
        /oauth/callback), which completes it."""
        body = AuthorizeRequest.model_validate(await _exact_body(request, AuthorizeRequest))
        redirect_uri = body.redirect_uri or str(request.url_for("oauth_callback"))
        start = await run_in_threadpool(lambda: connections.open().begin_authorization(
            link, redirect_uri, actor=_actor(token).name))
        return _json({"connection": link, "authorization_url": start.url,
                      "redirect_uri": redirect_uri})

    # -- functions and buttons -----------------------------------------------------------
    @app.post("/api/v1/functions/{name}/execute", tags=["functions"],
              openapi_extra=_documents(ExecuteRequest, required=False))
    async def execute_function(name: str, request: Request,
                               token: TokenInfo = Depends(runner)) -> Response:
        """Run the published function; answers the run result plus `run_id`."""
        data = await _exact_body(request, ExecuteRequest)
        outcome = await run_in_threadpool(triggers.launcher.execute_function, name,
                                          data.get("inputs") or {}, actor=_actor(token))
        return _json(outcome.to_json())

    @app.post("/api/v1/buttons/{name}/click", tags=["buttons"],
              openapi_extra=_documents(ClickRequest))
    async def click_button(name: str, request: Request,
                           token: TokenInfo = Depends(runner)) -> Response:
        """Run the published button for a record (or records, on a list bulk action)."""
        data = await _exact_body(request, ClickRequest)
        outcome = await run_in_threadpool(
            lambda: triggers.launcher.click_button(
                name, record=data.get("record"), records=data.get("records"),
                inputs=data.get("inputs") or {}, organization=data.get("organization"),
                user=data.get("user"), actor=_actor(token)))
        return _json(outcome.to_json())

    # -- runs ----------------------------------------------------------------------------
    @app.get("/api/v1/runs", tags=["runs"])
    def list_runs(script: str | None = None, trigger: str | None = None,
                  status: str | None = None, schedule: str | None = None,
                  before: int | None = Query(None, description="page back from this run id"),
                  limit: int = Query(50, ge=1, le=1000),
                  _token: TokenInfo = Depends(runner)) -> Response:
        """Recorded runs, newest first."""
        schedule_id = triggers.schedules.get(schedule, preview=0).id if schedule else None
        runs = triggers.history.list(script=script, trigger=trigger, status=status,
                                     schedule_id=schedule_id, before=before, limit=limit)
        return _json({"runs": [r.summary() for r in runs],
                      "next_before": runs[-1].id if len(runs) == limit else None})

    @app.get("/api/v1/runs/{run_id}", tags=["runs"])
    def get_run(run_id: int, _token: TokenInfo = Depends(runner)) -> Response:
        """One run in full: inputs (redacted), logs, return, error, HTTP trace, mail."""
        return _json(triggers.history.get(run_id).to_json())

    @app.post("/api/v1/runs/{run_id}/replay", tags=["runs"],
              openapi_extra=_documents(ReplayRequest, required=False))
    async def replay_run(run_id: int, request: Request,
                         token: TokenInfo = Depends(admin)) -> Response:
        """Run again with the recorded inputs, on the original or the current version."""
        data = await _exact_body(request, ReplayRequest)
        outcome = await run_in_threadpool(
            lambda: triggers.launcher.replay(run_id, version=data.get("version", "original"),
                                             actor=_actor(token)))
        return _json(outcome.to_json())

    # -- scripts -------------------------------------------------------------------------
    @app.get("/api/v1/scripts", tags=["scripts"])
    def list_scripts(kind: str | None = None, _token: TokenInfo = Depends(admin)) -> Response:
        return _json({"scripts": [s.to_json() for s in triggers.catalog.list(kind)]})

    @app.post("/api/v1/scripts", tags=["scripts"], status_code=201,
              openapi_extra=_documents(ScriptRequest))
    async def save_script(request: Request, token: TokenInfo = Depends(admin)) -> Response:
        """Save a new version (published unless `publish` is false)."""
        body = ScriptRequest.model_validate(await _exact_body(request, ScriptRequest))

        def save() -> Response:
            version = triggers.catalog.save(
                body.name, body.source, kind=body.kind, module=body.module,
                location=body.location, user_inputs=body.user_inputs,
                description=body.description, author=_actor(token).name,
                message=body.message, publish=body.publish)
            return _json({"script": triggers.catalog.get(body.name).to_json(),
                          "version": version.to_json()}, 201)
        return await run_in_threadpool(save)

    @app.get("/api/v1/scripts/{name}", tags=["scripts"])
    def get_script(name: str, _token: TokenInfo = Depends(admin)) -> Response:
        return _json({**triggers.catalog.get(name).to_json(),
                      "versions": [v.to_json() for v in triggers.catalog.versions(name)]})

    @app.get("/api/v1/scripts/{name}/versions/{number}", tags=["scripts"])
    def get_version(name: str, number: int, _token: TokenInfo = Depends(admin)) -> Response:
        return _json(triggers.catalog.version(name, number).to_json())

    @app.get("/api/v1/scripts/{name}/diff", tags=["scripts"])
    def diff_script(name: str, old: int | None = Query(None, alias="from"),
                    new: int | None = Query(None, alias="to"),
                    _token: TokenInfo = Depends(admin)) -> Response:
        """A unified diff between two versions (default: published and latest)."""
        return _json({"diff": triggers.catalog.diff(name, old, new)})

    @app.post("/api/v1/scripts/{name}/publish", tags=["scripts"],
              openapi_extra=_documents(VersionRequest, required=False))
    async def publish_script(name: str, request: Request,
                             token: TokenInfo = Depends(admin)) -> Response:
        """Publish a version (default: the latest)."""
        body = VersionRequest.model_validate(await _exact_body(request, VersionRequest))
        version = await run_in_threadpool(lambda: triggers.catalog.publish(
            name, body.version, by=_actor(token).name))
        return _json(version.to_json())

    @app.post("/api/v1/scripts/{name}/rollback", tags=["scripts"],
              openapi_extra=_documents(VersionRequest))
    async def rollback_script(name: str, request: Request,
                              token: TokenInfo = Depends(admin)) -> Response:
        """Publish an older version again."""
        body = VersionRequest.model_validate(await _exact_body(request, VersionRequest))
        if body.version is None:
            raise InvalidField("version", "name the version to roll back to")
        version = await run_in_threadpool(lambda: triggers.catalog.rollback(
            name, body.version or 0, by=_actor(token).name))
        return _json(version.to_json())

    # -- schedules -----------------------------------------------------------------------
    @app.get("/api/v1/schedules", tags=["schedules"])
    def list_schedules(_token: TokenInfo = Depends(admin)) -> Response:
        return _json({"schedules": [s.to_json() for s in triggers.schedules.list()]})

    @app.post("/api/v1/schedules", tags=["schedules"], status_code=201,
              openapi_extra=_documents(ScheduleRequest))
    async def add_schedule(request: Request, token: TokenInfo = Depends(admin)) -> Response:
        """Create a schedule; the answer previews its next fire times."""
        data = await _exact_body(request, ScheduleRequest)
        info = await run_in_threadpool(lambda: triggers.schedules.add(
            data, by=_actor(token).name))
        return _json(info.to_json(), 201)

    @app.get("/api/v1/schedules/{name}", tags=["schedules"])
    def get_schedule(name: str, next: int = Query(5, ge=0, le=100),
                     _token: TokenInfo = Depends(admin)) -> Response:
        """The schedule, its next fire times and its latest occurrences."""
        info = triggers.schedules.get(name, preview=next)
        return _json({**info.to_json(), "occurrences": [
            o.to_json() for o in triggers.schedules.occurrences(name, 20)]})

    @app.get("/api/v1/schedules/{name}/occurrences", tags=["schedules"])
    def list_occurrences(name: str, limit: int = Query(50, ge=1, le=1000),
                         _token: TokenInfo = Depends(admin)) -> Response:
        return _json({"occurrences": [o.to_json() for o in
                                      triggers.schedules.occurrences(name, limit)]})

    @app.post("/api/v1/schedules/{name}/pause", tags=["schedules"])
    def pause_schedule(name: str, _token: TokenInfo = Depends(admin)) -> Response:
        return _json(triggers.schedules.pause(name).to_json())

    @app.post("/api/v1/schedules/{name}/resume", tags=["schedules"])
    def resume_schedule(name: str, _token: TokenInfo = Depends(admin)) -> Response:
        return _json(triggers.schedules.resume(name).to_json())

    @app.post("/api/v1/schedules/{name}/run-now", tags=["schedules"], status_code=202)
    def run_schedule_now(name: str, _token: TokenInfo = Depends(admin)) -> Response:
        """Queue an occurrence due now; a scheduler node runs it."""
        return _json(triggers.schedules.run_now(name).to_json(), 202)

    @app.delete("/api/v1/schedules/{name}", tags=["schedules"], status_code=204)
    def delete_schedule(name: str, _token: TokenInfo = Depends(admin)) -> Response:
        triggers.schedules.delete(name)
        return Response(status_code=204)

    return app
