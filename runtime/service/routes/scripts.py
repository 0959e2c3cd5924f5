"""The script catalog: versions, diffs, publishing and rollback."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ...triggers.errors import InvalidField
from ..bodies import ScriptRequest, VersionRequest
from ..context import actor, admin, documents, exact_body, json_response, parts
from ..tokens import TokenInfo
from .ids import MAX_ID, VersionNumber

router = APIRouter(tags=["scripts"])


@router.get("/api/v1/scripts")
def list_scripts(request: Request, kind: str | None = None,
                 _token: TokenInfo = Depends(admin)) -> Response:
    catalog = parts(request).triggers.catalog
    return json_response({"scripts": [s.to_json() for s in catalog.list(kind)]})


@router.post("/api/v1/scripts", status_code=201, openapi_extra=documents(ScriptRequest))
async def save_script(request: Request, token: TokenInfo = Depends(admin)) -> Response:
    """Save a new version (published unless `publish` is false)."""
    body = ScriptRequest.model_validate(await exact_body(request, ScriptRequest))
    catalog = parts(request).triggers.catalog

    def save() -> Response:
        version = catalog.save(
            body.name, body.source, kind=body.kind, module=body.module,
            location=body.location, user_inputs=body.user_inputs,
            description=body.description, author=actor(token).name,
            message=body.message, publish=body.publish)
        return json_response({"script": catalog.get(body.name).to_json(),
                              "version": version.to_json()}, 201)
    return await run_in_threadpool(save)


@router.get("/api/v1/scripts/{name}")
def get_script(name: str, request: Request, _token: TokenInfo = Depends(admin)) -> Response:
    catalog = parts(request).triggers.catalog
    return json_response({**catalog.get(name).to_json(),
                          "versions": [v.to_json() for v in catalog.versions(name)]})


@router.get("/api/v1/scripts/{name}/versions/{number}")
def get_version(name: str, number: VersionNumber, request: Request,
                _token: TokenInfo = Depends(admin)) -> Response:
    return json_response(parts(request).triggers.catalog.version(name, number).to_json())


@router.get("/api/v1/scripts/{name}/diff")
def diff_script(name: str, request: Request,
                old: int | None = Query(None, alias="from", ge=1, le=MAX_ID),
                new: int | None = Query(None, alias="to", ge=1, le=MAX_ID),
                _token: TokenInfo = Depends(admin)) -> Response:
    """A unified diff between two versions (default: published and latest)."""
    return json_response({"diff": parts(request).triggers.catalog.diff(name, old, new)})


@router.post("/api/v1/scripts/{name}/publish",
             openapi_extra=documents(VersionRequest, required=False))
async def publish_script(name: str, request: Request,
                         token: TokenInfo = Depends(admin)) -> Response:
    """Publish a version (default: the latest)."""
    body = VersionRequest.model_validate(await exact_body(request, VersionRequest))
    catalog = parts(request).triggers.catalog
    version = await run_in_threadpool(lambda: catalog.publish(
        name, body.version, by=actor(token).name))
    return json_response(version.to_json())


@router.post("/api/v1/scripts/{name}/rollback", openapi_extra=documents(VersionRequest))
async def rollback_script(name: str, request: Request,
                          token: TokenInfo = Depends(admin)) -> Response:
    """Publish an older version again."""
    body = VersionRequest.model_validate(await exact_body(request, VersionRequest))
    if body.version is None:
        raise InvalidField("version", "name the version to roll back to")
    catalog = parts(request).triggers.catalog
    version = await run_in_threadpool(lambda: catalog.rollback(
        name, body.version or 0, by=actor(token).name))
    return json_response(version.to_json())


@router.delete("/api/v1/scripts/{name}", status_code=204)
def delete_script(name: str, request: Request, _token: TokenInfo = Depends(admin)) -> Response:
    """Delete a script with its versions and webhooks (409 while schedules use it)."""
    parts(request).triggers.catalog.delete(name)
    return Response(status_code=204)


@router.post("/api/v1/scripts/{name}/webhooks", status_code=201)
def expose_script(name: str, request: Request, token: TokenInfo = Depends(admin)) -> Response:
    """Expose a function at /hooks/{token}; the token is in this answer only."""
    from ...triggers.webhooks import WebhookBook

    triggers = parts(request).triggers
    secret = WebhookBook(triggers.sessions, triggers.catalog).expose(name,
                                                                     by=actor(token).name)
    return json_response({"script": name, "token": secret,
                          "url": str(request.base_url).rstrip("/") + f"/hooks/{secret}"}, 201)


@router.delete("/api/v1/scripts/{name}/webhooks")
def unexpose_script(name: str, request: Request, _token: TokenInfo = Depends(admin)) -> Response:
    """Revoke every webhook token of a script."""
    from ...triggers.webhooks import WebhookBook

    triggers = parts(request).triggers
    count = WebhookBook(triggers.sessions, triggers.catalog).revoke(name)
    return json_response({"script": name, "revoked": count})
