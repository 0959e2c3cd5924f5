"""The dashboard: what ran in the last day, how long scripts take, which connections fail."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..charts import bar_chart, dashboard, hourly_chart
from ..web import Viewer, render, service, viewer

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, who: Viewer = Depends(viewer)) -> Response:
    triggers = service(request).triggers
    data = await run_in_threadpool(dashboard, triggers.sessions, triggers.clock.now())
    durations = bar_chart([(name, [("p50", p50, "#6d9eeb"), ("p95", p95, "#1f5fbf")])
                           for name, p50, p95, _ in data.durations], "ms",
                          "Run duration per script, p50 and p95, over the latest runs")
    failures = bar_chart([(link, [("failed calls", failed, "#d64534")])
                          for link, failed, _ in data.failures], "",
                          "Failed HTTP calls per connection, over the latest runs")
    return render(request, "home.html", who=who, data=data,
                  hourly=hourly_chart(data.hours), durations=durations, failures=failures)
