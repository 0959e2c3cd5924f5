"""What every console page shares: the templates, who is signed in, forms with CSRF
checks, one-time notices, and the answers for a signed-out or under-privileged viewer.

Pages are rendered on the server (Jinja2, autoescaped); the few scripts in `static/` only
enhance them (live diagnostics, the derived link name, copy buttons), so every flow also
works as plain forms. Every POST carries the session's CSRF token in a hidden field and
the cookie is SameSite=Lax and HttpOnly: a form posted from another site is refused."""

from __future__ import annotations

__all__ = ["AdminRequired", "FormError", "Refused", "SignInRequired", "Viewer",
           "admin_viewer", "console", "read_form", "redirect", "render", "viewer"]

import datetime as _dt
import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from ..service.context import ServiceParts, parts
from .sessions import COOKIE, SessionBook, Viewer

_FORM_BYTES = 2 * 1024 * 1024   # a script source is the largest field a form carries
_NOTICE = "sluice_notice"

_env = Environment(loader=PackageLoader("sluicegate.console", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True,
                   lstrip_blocks=True)


def _when(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, (int, float)):
        value = _dt.datetime.fromtimestamp(value, _dt.UTC)
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value.tzinfo else \
        value.strftime("%Y-%m-%d %H:%M:%S")


def _pretty(value: Any) -> str:
    from ..values import to_json_text

    try:
        return json.dumps(json.loads(to_json_text(value)), indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


_env.filters["when"] = _when
_env.filters["pretty"] = _pretty
_env.filters["urlpart"] = lambda v: quote(str(v), safe="")
_env.filters["count"] = lambda n, word: f"{n} {word}" if n == 1 else f"{n} {word}s"


class SignInRequired(Exception):
    """No live session: the browser is sent to the sign-in page."""


class AdminRequired(Exception):
    """A runner token on an admin page or form: a 403 page that says so."""


class Refused(Exception):
    """A request the console will not act on; shown as a page with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FormError(Exception):
    """A field that cannot be used; the page is shown again with the message beside it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class Console:
    """The console's own parts beside the service's."""

    sessions: SessionBook


def console(request: Request) -> Console:
    return request.app.state.console  # type: ignore[no-any-return]


def viewer(request: Request) -> Viewer:
    found = console(request).sessions.find(request.cookies.get(COOKIE))
    if found is None:
        raise SignInRequired()
    return found


def admin_viewer(who: Viewer = Depends(viewer)) -> Viewer:
    if not who.is_admin:
        raise AdminRequired()
    return who


def service(request: Request) -> ServiceParts:
    return parts(request)


def notice(response: Response, text: str) -> Response:
    """A one-time message for the next page (the outcome of an action)."""
    response.set_cookie(_NOTICE, quote(text[:300]), max_age=60, httponly=True,
                        samesite="lax", path="/")
    return response


def redirect(url: str, message: str | None = None) -> Response:
    response = RedirectResponse(url, status_code=303)
    return notice(response, message) if message else response


def render(request: Request, template: str, *, who: Viewer | None = None,
           status: int = 200, **context: Any) -> HTMLResponse:
    from urllib.parse import unquote

    message = request.cookies.get(_NOTICE)
    html = _env.get_template(template).render(
        request=request, who=who, notice=unquote(message) if message else None, **context)
    response = HTMLResponse(html, status_code=status)
    if message:
        response.delete_cookie(_NOTICE, path="/")
    response.headers["Cache-Control"] = "no-store"
    return response


async def read_form(request: Request, who: Viewer | None) -> dict[str, str]:
    """The posted fields (urlencoded, capped); refused unless the CSRF token matches the
    session's (`who` None: the sign-in form, which has no session yet)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > _FORM_BYTES:
        raise Refused(413, "The form is too large")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > _FORM_BYTES:
            raise Refused(413, "The form is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=500)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "The form could not be read") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key, value)
    if who is not None:
        sent = fields.get("csrf", "")
        if not hmac.compare_digest(sent.encode(), who.csrf.encode()):
            raise Refused(403, "This form did not come from this console session "
                                "(it expired, or another site sent it). Reload the page "
                                "and try again.")
    return fields
