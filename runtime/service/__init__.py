"""The service: the HTTP API and the long-running processes.

    tokens   API tokens (hashed), roles admin and runner
    app      the FastAPI application: functions, buttons, runs, scripts, schedules,
             the OAuth callback, /healthz, the OpenAPI document
    server   `sluice serve` (uvicorn + a scheduler node) and `sluice worker`
    cli      the `sluice` sub-commands of this package (argparse only at import)
"""

from __future__ import annotations

__all__: list[str] = []
