"""The run history: list, read, replay."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..bodies import ReplayRequest
from ..context import actor, admin, documents, exact_body, json_response, parts, runner
from ..tokens import TokenInfo
from .ids import MAX_ID, RunId

router = APIRouter(tags=["runs"])


@router.get("/api/v1/runs")
def list_runs(request: Request, script: str | None = None, trigger: str | None = None,
              status: str | None = None, schedule: str | None = None,
              before: int | None = Query(None, ge=1, le=MAX_ID,
                                         description="page back from this run id"),
              limit: int = Query(50, ge=1, le=1000),
              _token: TokenInfo = Depends(runner)) -> Response:
    """Recorded runs, newest first."""
    triggers = parts(request).triggers
    schedule_id = triggers.schedules.get(schedule, preview=0).id if schedule else None
    runs = triggers.history.list(script=script, trigger=trigger, status=status,
                                 schedule_id=schedule_id, before=before, limit=limit)
    return json_response({"runs": [r.summary() for r in runs],
                          "next_before": runs[-1].id if len(runs) == limit else None})


@router.get("/api/v1/runs/{run_id}")
def get_run(run_id: RunId, request: Request, _token: TokenInfo = Depends(runner)) -> Response:
    """One run in full: inputs (redacted), logs, return, error, HTTP trace, mail."""
    return json_response(parts(request).triggers.history.get(run_id).to_json())


@router.post("/api/v1/runs/{run_id}/replay",
             openapi_extra=documents(ReplayRequest, required=False))
async def replay_run(run_id: RunId, request: Request,
                     token: TokenInfo = Depends(admin)) -> Response:
    """Run again with the recorded inputs, on the original or the current version."""
    data = await exact_body(request, ReplayRequest)
    launcher = parts(request).triggers.launcher
    outcome = await run_in_threadpool(
        lambda: launcher.replay(run_id, version=data.get("version", "original"),
                                actor=actor(token)))
    return json_response(outcome.to_json())
