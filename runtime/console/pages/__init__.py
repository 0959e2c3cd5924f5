"""The console's pages, one router per resource, like the API's.

    auth         /sign-in, /sign-out
    home         /  (the dashboard: charts of the last day's runs)
    runs         /runs, /runs/{id}
    scripts      /scripts..., /editor/check (live diagnostics of the editor)
    schedules    /schedules...
    connections  /connections...
    tokens       /tokens (admin)
"""

from __future__ import annotations

__all__ = ["ROUTERS"]

from . import auth, connections, home, runs, schedules, scripts, tokens

ROUTERS = (auth.router, home.router, runs.router, scripts.router, schedules.router,
           connections.router, tokens.router)
