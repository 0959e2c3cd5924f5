"""The HTTP API (ARCHITECTURE "Contract: HTTP API"), as a FastAPI application.

    POST /api/v1/functions/{name}/execute   runner   run result + run_id
    POST /api/v1/buttons/{name}/click       runner   {"code", "message", "run_id"} or a table
    GET  /api/v1/runs, /api/v1/runs/{id}    runner   the run history
    POST /api/v1/runs/{id}/replay           admin
    /api/v1/scripts..., /api/v1/schedules...  admin  the catalog and the schedule book
    GET  /api/v1/connections[/{link}]       admin    connections (never their secrets)
    POST /api/v1/connections/{link}/authorize admin  start an OAuth authorization whose
                                                     redirect comes back to this service
    GET  /oauth/callback                    none     completes it (the state is checked)
    GET  /healthz                           none     database, scheduler, executor mode
    GET  /readyz                            none     database reachable, migrations current
    GET  /metrics                           none     Prometheus text (per process)
    GET  /openapi.json, /docs, /redoc       none     this API, described (served offline)
    /, /sign-in, /runs, /scripts, ...      session  the web console (sluicegate.console)

The routes live in `routes/`, one router per resource; what they share (the token check,
the body reader, the parts of the service) in `context`, the error envelope in `errors`.

Every `/api` route needs `Authorization: Bearer <token>`: no or an unknown token is 401,
a token whose role is too low is 403, and both are decided before anything is read or
written. Request bodies are parsed with exact decimals (`12.50` stays `12.50`), and
results are written the same way. A database that fails under a request (connection
lost, disk full) is a 503 that says why; a run that finished but could not be recorded
is returned under `result` of that answer.
"""

from __future__ import annotations

__all__ = ["MAX_BODY_BYTES", "create_app"]

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi_offline import FastAPIOffline

from ..observability import RequestObserver, install_run_observer
from ..triggers.executor import executor_mode
from ..triggers.node import SchedulerNode
from ..triggers.setup import Triggers
from ..console import install_console
from .context import MAX_BODY_BYTES, ServiceParts
from .errors import install_error_handlers
from .registry import ServiceRegistry
from .routes import ROUTERS
from .tokens import TokenBook


def create_app(triggers: Triggers, tokens: TokenBook, *, node: SchedulerNode | None = None,
               grace: float = 10.0, registry: ServiceRegistry | None = None) -> FastAPI:
    """The application over one database; `node` (if any) runs while the app serves;
    `registry` (default: one over the same database) completes OAuth authorizations."""
    service = ServiceParts(triggers, tokens, registry or ServiceRegistry(triggers.engine),
                           node, executor_mode(triggers.executor))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if node is not None:
            node.start()
        try:
            yield
        finally:
            if node is not None:
                await run_in_threadpool(node.stop, grace)
            if registry is None:
                service.connections.close()

    # /docs and /redoc from files installed with the package, never from a CDN
    app = FastAPIOffline(title="sluicegate", version="1", lifespan=lifespan,
                         summary="Run stored Deluge functions, buttons and schedules; read "
                                 "their run history.")
    app.state.service = service
    install_error_handlers(app)
    install_run_observer()
    app.add_middleware(RequestObserver)
    for router in ROUTERS:
        app.include_router(router)
    install_console(app)
    return app
