"""GET /healthz: the database answers and the scheduler loop runs."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Request
from fastapi.responses import Response
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
