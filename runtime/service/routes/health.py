"""GET /healthz (the database answers, the scheduler loop runs), GET /readyz (ready for
traffic: the database answers and its schema is current), GET /metrics (Prometheus)."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import text

from ..context import json_response, parts

router = APIRouter(tags=["service"])


@router.get("/healthz")
def healthz(request: Request) -> Response:
    """Liveness and readiness: the database answers, the scheduler loop runs."""
    service = parts(request)
    try:
        with service.triggers.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:
        database = f"unavailable: {type(exc).__name__}"
    node = service.node
    scheduler = "off" if node is None else ("stopping" if node.stopping else "running")
    status = 200 if database == "ok" else 503
    return json_response({"status": "ok" if status == 200 else "degraded",
                          "database": database, "scheduler": scheduler,
                          "executor": service.executor_mode, "node": service.triggers.node},
                         status)


@router.get("/readyz")
def readyz(request: Request) -> Response:
    """Ready for traffic: the database answers and every migration is applied (a node
    started against an older schema, or a database restored from an old backup, is not)."""
    from ...store.migrate import missing_revisions

    service = parts(request)
    try:
        missing = missing_revisions(service.triggers.engine)
    except Exception as exc:
        return json_response({"status": "not ready", "database": f"unavailable: "
                              f"{type(exc).__name__}", "migrations": "unknown"}, 503)
    if missing:
        return json_response({"status": "not ready", "database": "ok",
                              "migrations": f"missing {', '.join(missing)}"}, 503)
    return json_response({"status": "ready", "database": "ok", "migrations": "current"})


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> Response:
    """Prometheus text format: this process's counters and histograms, and the shared
    database's scheduler backlog and lag, mail outbox and queued runs."""
    from ...observability import render

    service = parts(request)
    forker = getattr(service.triggers.executor, "forker", None)
    children = getattr(forker, "children", None)
    body = render(service.triggers.sessions, now=service.triggers.clock.now,
                  children=(lambda: int(children)) if children is not None else None)
    # the 0.0.4 text format every Prometheus reads (our metric names need nothing newer)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
