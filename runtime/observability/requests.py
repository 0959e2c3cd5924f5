"""One log line and the request metrics for every HTTP API request (ASGI middleware).

The line names the route's template (`/api/v1/runs/{run_id}`), not the raw path, and no
query string or header: a webhook's secret is in its path and a token in its header,
and neither must reach a log. Requests no route matched are logged as `unmatched`.
"""

from __future__ import annotations

__all__ = ["RequestObserver"]

import logging
import time
from typing import Any

from .logs import log_event
from .metrics import API_REQUESTS, API_SECONDS

log = logging.getLogger("sluicegate.requests")


class RequestObserver:
    """ASGI middleware: times each HTTP request and records its outcome."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = str(scope.get("method", ""))
            API_REQUESTS.labels(method, route, str(status)).inc()
            API_SECONDS.labels(method, route).observe(seconds)
            client = scope.get("client")
            log_event(log, f"{method} {route} {status}",
                      logging.INFO if status < 500 else logging.WARNING,
                      event="request", method=method, route=route, status=status,
                      duration_ms=round(seconds * 1000, 3),
                      client=client[0] if client else None)
