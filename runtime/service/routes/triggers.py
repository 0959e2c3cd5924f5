"""The ways a caller runs a script: execute a function, click a button; both wait for
the result, or with `?wait=false` answer 202 with the run id at once (a node runs it)."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ...triggers.queue import RunQueue
from ..bodies import ClickRequest, ExecuteRequest
from ..context import actor, documents, exact_body, json_response, parts, runner
from ..tokens import TokenInfo

router = APIRouter()

_WAIT = Query(True, description="false: answer 202 with the run id at once; any node runs "
              "it, and GET /api/v1/runs/{id} shows its state")


def queued(run_id: int) -> Response:
    """The 202 answer of a queued run."""
    location = f"/api/v1/runs/{run_id}"
    response = json_response({"run_id": run_id, "status": "queued", "state": "queued",
                              "location": location}, 202)
    response.headers["Location"] = location
    return response


@router.post("/api/v1/functions/{name}/execute", tags=["functions"],
             openapi_extra=documents(ExecuteRequest, required=False))
async def execute_function(name: str, request: Request,
                           token: TokenInfo = Depends(runner), wait: bool = _WAIT) -> Response:
    """Run the published function; answers the run result plus `run_id`."""
    data = await exact_body(request, ExecuteRequest)
    triggers = parts(request).triggers
    launcher = triggers.launcher
    if not wait:
        live, full = await run_in_threadpool(launcher.prepare_function, name,
                                             data.get("inputs") or {}, actor=actor(token))
        run_id = await run_in_threadpool(
            lambda: RunQueue(triggers.sessions, launcher, clock=triggers.clock).enqueue(
                live, full, trigger="function", actor=actor(token)))
        return queued(run_id)
    outcome = await run_in_threadpool(launcher.execute_function, name,
                                      data.get("inputs") or {}, actor=actor(token))
    return json_response(outcome.to_json())


@router.post("/api/v1/buttons/{name}/click", tags=["buttons"],
             openapi_extra=documents(ClickRequest))
async def click_button(name: str, request: Request,
                       token: TokenInfo = Depends(runner), wait: bool = _WAIT) -> Response:
    """Run the published button for a record (or records, on a list bulk action)."""
    data = await exact_body(request, ClickRequest)
    triggers = parts(request).triggers
    launcher = triggers.launcher
    if not wait:
        live, full = await run_in_threadpool(
            lambda: launcher.prepare_click(
                name, record=data.get("record"), records=data.get("records"),
                inputs=data.get("inputs") or {}, organization=data.get("organization"),
                user=data.get("user"), actor=actor(token)))
        run_id = await run_in_threadpool(
            lambda: RunQueue(triggers.sessions, launcher, clock=triggers.clock).enqueue(
                live, full, trigger="button", actor=actor(token)))
        return queued(run_id)
    outcome = await run_in_threadpool(
        lambda: launcher.click_button(
            name, record=data.get("record"), records=data.get("records"),
            inputs=data.get("inputs") or {}, organization=data.get("organization"),
            user=data.get("user"), actor=actor(token)))
    return json_response(outcome.to_json())
