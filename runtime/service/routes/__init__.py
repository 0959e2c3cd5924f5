"""The HTTP API's routers, one per resource (FastAPI's layout for larger apps).

    health        GET /healthz
    connections   /api/v1/connections..., GET /oauth/callback
    triggers      POST /api/v1/functions/{name}/execute, /api/v1/buttons/{name}/click
    runs          /api/v1/runs...
    scripts       /api/v1/scripts...
    schedules     /api/v1/schedules...
    org           /api/v1/org (the organization profile)
    webhooks      /hooks/{token} (functions exposed with `sluice scripts expose`)
    tokens        /api/v1/tokens (create once-shown, list, revoke)
"""

from __future__ import annotations

__all__ = ["ROUTERS"]

from fastapi import APIRouter

from . import connections, health, org, runs, schedules, scripts, tokens, triggers, webhooks

ROUTERS: tuple[APIRouter, ...] = (
    health.router, connections.router, triggers.router, runs.router, scripts.router,
    schedules.router)
ROUTERS += (org.router, webhooks.router, tokens.router)
