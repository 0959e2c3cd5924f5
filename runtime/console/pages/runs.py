"""The run history: a filterable, paged list and one run in full (inputs, logs, the HTTP
trace with secrets already scrubbed by the broker, mail, the error on its source line),
with replay for admins."""

from __future__ import annotations

__all__ = ["router"]

import datetime as _dt

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ...service.routes.ids import MAX_ID
from ...store.runs import RUN_TRIGGERS
from ...triggers.errors import NotFound, TriggerError
from ...triggers.launcher import Actor
from ..web import Refused, Viewer, admin_viewer, read_form, redirect, render, service, viewer

router = APIRouter(include_in_schema=False)
_PAGE = 50
_STATUSES = ("success", "failure")


def _day(text: str | None, field: str) -> _dt.datetime | None:
    if not text:
        return None
    try:
        day = _dt.date.fromisoformat(text)
    except ValueError:
        raise Refused(422, f"{field}: expected a date like 2026-12-07") from None
    return _dt.datetime(day.year, day.month, day.day, tzinfo=_dt.UTC)


@router.get("/runs")
async def list_runs(request: Request, script: str = "", trigger: str = "", status: str = "",
                    since: str = "", until: str = "", before: int | None = None,
                    who: Viewer = Depends(viewer)) -> Response:
    if trigger and trigger not in RUN_TRIGGERS:
        raise Refused(422, f"trigger: one of {', '.join(RUN_TRIGGERS)}")
    if status and status not in _STATUSES:
        raise Refused(422, "status: success or failure")
    if before is not None and not 1 <= before <= MAX_ID:
        raise Refused(422, "before: a run id")
    start, end = _day(since, "since"), _day(until, "until")
    history = service(request).triggers.history
    runs = await run_in_threadpool(
        lambda: history.list(script=script or None, trigger=trigger or None,
                             status=status or None, before=before, limit=_PAGE,
                             since=start, until=end + _dt.timedelta(days=1) if end else None))
    filters = {"script": script, "trigger": trigger, "status": status, "since": since,
               "until": until}
    older = runs[-1].id if len(runs) == _PAGE else None
    return render(request, "runs.html", who=who, runs=runs, filters=filters, older=older,
                  triggers=RUN_TRIGGERS, statuses=_STATUSES)


@router.get("/runs/{run_id}")
async def show_run(request: Request, run_id: int, who: Viewer = Depends(viewer)) -> Response:
    if not 1 <= run_id <= MAX_ID:
        raise Refused(404, f"No run with id {run_id}")
    triggers = service(request).triggers
    try:
        run = await run_in_threadpool(triggers.history.get, run_id)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    source: list[str] = []
    if run.script_version is not None:
        try:
            version = await run_in_threadpool(triggers.catalog.version, run.script_name,
                                              run.script_version)
            source = (version.source or "").split("\n")
        except TriggerError:   # the script was deleted since
            source = []
    return render(request, "run.html", who=who, run=run, source=source,
                  error_line=(run.error or {}).get("line"))


@router.post("/runs/{run_id}/replay")
async def replay_run(request: Request, run_id: int,
                     who: Viewer = Depends(admin_viewer)) -> Response:
    form = await read_form(request, who)
    version = form.get("version", "original")
    launcher = service(request).triggers.launcher
    actor = Actor(f"console {who.name}", {"name": who.name, "user_id": str(who.token.id)})
    try:
        outcome = await run_in_threadpool(
            lambda: launcher.replay(run_id, version=version, actor=actor))
    except TriggerError as exc:
        return redirect(f"/runs/{run_id}", f"Replay failed: {exc}")
    return redirect(f"/runs/{outcome.run_id}", f"Replayed run {run_id} as run "
                    f"{outcome.run_id}.")
