"""The schedule book: create, read, pause, resume, run now, delete; occurrences."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..bodies import ScheduleRequest
from ..context import actor, admin, documents, exact_body, json_response, parts
from ..tokens import TokenInfo

router = APIRouter(tags=["schedules"])


@router.get("/api/v1/schedules")
def list_schedules(request: Request, _token: TokenInfo = Depends(admin)) -> Response:
    schedules = parts(request).triggers.schedules
    return json_response({"schedules": [s.to_json() for s in schedules.list()]})


@router.post("/api/v1/schedules", status_code=201, openapi_extra=documents(ScheduleRequest))
async def add_schedule(request: Request, token: TokenInfo = Depends(admin)) -> Response:
    """Create a schedule; the answer previews its next fire times."""
    data = await exact_body(request, ScheduleRequest)
    schedules = parts(request).triggers.schedules
    info = await run_in_threadpool(lambda: schedules.add(data, by=actor(token).name))
    return json_response(info.to_json(), 201)


@router.get("/api/v1/schedules/{name}")
def get_schedule(name: str, request: Request, next: int = Query(5, ge=0, le=100),
                 _token: TokenInfo = Depends(admin)) -> Response:
    """The schedule, its next fire times and its latest occurrences."""
    schedules = parts(request).triggers.schedules
    info = schedules.get(name, preview=next)
    return json_response({**info.to_json(), "occurrences": [
        o.to_json() for o in schedules.occurrences(name, 20)]})


@router.get("/api/v1/schedules/{name}/occurrences")
def list_occurrences(name: str, request: Request, limit: int = Query(50, ge=1, le=1000),
                     _token: TokenInfo = Depends(admin)) -> Response:
    schedules = parts(request).triggers.schedules
    return json_response({"occurrences": [o.to_json() for o in
                                          schedules.occurrences(name, limit)]})


@router.post("/api/v1/schedules/{name}/pause")
def pause_schedule(name: str, request: Request, _token: TokenInfo = Depends(admin)) -> Response:
    return json_response(parts(request).triggers.schedules.pause(name).to_json())


@router.post("/api/v1/schedules/{name}/resume")
def resume_schedule(name: str, request: Request,
                    _token: TokenInfo = Depends(admin)) -> Response:
    return json_response(parts(request).triggers.schedules.resume(name).to_json())


@router.post("/api/v1/schedules/{name}/run-now", status_code=202)
def run_schedule_now(name: str, request: Request,
                     _token: TokenInfo = Depends(admin)) -> Response:
    """Queue an occurrence due now; a scheduler node runs it."""
    return json_response(parts(request).triggers.schedules.run_now(name).to_json(), 202)


@router.delete("/api/v1/schedules/{name}", status_code=204)
def delete_schedule(name: str, request: Request, _token: TokenInfo = Depends(admin)) -> Response:
    parts(request).triggers.schedules.delete(name)
    return Response(status_code=204)


@router.patch("/api/v1/schedules/{name}")
async def update_schedule(name: str, request: Request,
                          token: TokenInfo = Depends(admin)) -> Response:
    """Change fields of a schedule (script, recurrence, start, timezone, end, misfire,
    misfire_grace, no_overlap, retries, retry_backoff, inputs); the rest keep their
    value. A new timing fires from now on; the answer previews it."""
    data = await exact_body(request)
    schedules = parts(request).triggers.schedules
    info = await run_in_threadpool(lambda: schedules.update(name, data,
                                                            by=actor(token).name))
    return json_response(info.to_json())
