"""The two ways a caller runs a script: execute a function, click a button."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..bodies import ClickRequest, ExecuteRequest
from ..context import actor, documents, exact_body, json_response, parts, runner
from ..tokens import TokenInfo

router = APIRouter()


@router.post("/api/v1/functions/{name}/execute", tags=["functions"],
             openapi_extra=documents(ExecuteRequest, required=False))
async def execute_function(name: str, request: Request,
                           token: TokenInfo = Depends(runner)) -> Response:
    """Run the published function; answers the run result plus `run_id`."""
    data = await exact_body(request, ExecuteRequest)
    launcher = parts(request).triggers.launcher
    outcome = await run_in_threadpool(launcher.execute_function, name,
                                      data.get("inputs") or {}, actor=actor(token))
    return json_response(outcome.to_json())


@router.post("/api/v1/buttons/{name}/click", tags=["buttons"],
             openapi_extra=documents(ClickRequest))
async def click_button(name: str, request: Request,
                       token: TokenInfo = Depends(runner)) -> Response:
    """Run the published button for a record (or records, on a list bulk action)."""
    data = await exact_body(request, ClickRequest)
    launcher = parts(request).triggers.launcher
    outcome = await run_in_threadpool(
        lambda: launcher.click_button(
            name, record=data.get("record"), records=data.get("records"),
            inputs=data.get("inputs") or {}, organization=data.get("organization"),
            user=data.get("user"), actor=actor(token)))
    return json_response(outcome.to_json())
