"""The web console of `sluice serve`, at `/`: connections as the vendor sets them up,
scripts with a checking editor, schedules, runs with charts, and API tokens.

Server-rendered (Jinja2 templates in `templates/`, one stylesheet and one small script in
`static/`, nothing loaded from outside the server). Sign-in takes an API token and opens
a session (`sessions`); every form carries the session's CSRF token (`web`). Runner
tokens see and run; admin tokens manage. The pages are in `pages/`, one router per
resource; the charts are SVG drawn on the server (`charts`)."""

from __future__ import annotations

__all__ = ["install_console"]

from importlib import resources
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from .pages import ROUTERS
from .sessions import SessionBook
from .web import AdminRequired, Console, Refused, SignInRequired, redirect, render


def _sign_in(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/sign-in?next={quote(target, safe='')}")


def _admin_only(request: Request, _exc: Exception) -> Response:
    return render(request, "message.html", status=403, heading="Administrators only",
                  message="This needs an admin token; you are signed in with a runner "
                          "token, which can see and run but not change.")


def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    heading = {404: "Not found", 403: "Refused", 413: "Too large"}.get(exc.status,
                                                                       "Cannot do that")
    return render(request, "message.html", status=exc.status, heading=heading,
                  message=exc.message)


def install_console(app: FastAPI) -> None:
    """Add the console to the service's application (after `app.state.service` is set)."""
    service = app.state.service
    app.state.console = Console(SessionBook(service.triggers.sessions,
                                            service.triggers.clock))
    static = resources.files("sluicegate.console").joinpath("static")
    app.mount("/static/console", StaticFiles(directory=str(static)), name="console-static")
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(AdminRequired, _admin_only)
    app.add_exception_handler(Refused, _refused)
    for router in ROUTERS:
        app.include_router(router)
