"""Connections (never their secrets) and the OAuth callback that completes an
authorization started here or by `sluice connections authorize`."""

from __future__ import annotations

__all__ = ["router"]

from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ...connections.registry import RegistryError
from ..bodies import AuthorizeRequest
from ..context import actor, admin, documents, exact_body, json_response, parts
from ..tokens import TokenInfo

router = APIRouter()


@router.get("/oauth/callback", tags=["service"], name="oauth_callback")
def oauth_callback(request: Request, state: str | None = None, code: str | None = None,
                   error: str | None = None, error_description: str | None = None) -> Response:
    """Complete a connection's OAuth authorization: the provider redirects the user here
    with `code` and the `state` the authorization started with."""
    if error:
        detail = f": {error_description}" if error_description else ""
        return json_response({"error": {"type": "AuthorizationRefused", "field": "error",
                                        "message": f"The provider answered {error}{detail}; "
                                                   "the connection was not authorized"}}, 400)
    for field, value in (("state", state), ("code", code)):
        if not value:
            return json_response({"error": {"type": "InvalidField", "field": field,
                                            "message": f"{field}: missing from the redirect"}},
                                 400)
    try:
        view = parts(request).connections.open().complete_authorization(
            state or "", code or "", actor="oauth callback")
    except RegistryError as exc:  # unknown, expired or used state; a refused code
        if _browser(request):
            return _page(400, "The connection was not authorized", str(exc))
        return json_response({"error": {"type": "AuthorizationFailed", "field": exc.field,
                                        "message": str(exc)}}, 400)
    if _browser(request):   # back to the console's page of the connection
        return RedirectResponse(f"/connections/{quote(view.link_name)}?authorized=1", 303)
    return json_response({"status": "authorized", "connection": view.link_name,
                          "connection_status": view.status})


def _browser(request: Request) -> bool:
    """A person's browser following the provider's redirect (it asks for HTML), not a
    program completing the flow."""
    return "text/html" in request.headers.get("accept", "")


def _page(status: int, heading: str, message: str) -> HTMLResponse:
    title = escape(heading)
    return HTMLResponse(f"<!doctype html><html lang=en><meta charset=utf-8><title>{title}"
                        f"</title><h1>{title}</h1><p>{escape(message)}</p>"
                        "<p><a href=/connections>Connections</a></p></html>", status)


@router.get("/api/v1/connections", tags=["connections"])
def list_connections(request: Request, _token: TokenInfo = Depends(admin)) -> Response:
    """Connections and their status (never a secret)."""
    registry = parts(request).connections.open()
    return json_response({"connections": [v.to_json() for v in registry.list()]})


@router.get("/api/v1/connections/{link}", tags=["connections"])
def get_connection(link: str, request: Request, _token: TokenInfo = Depends(admin)) -> Response:
    return json_response(parts(request).connections.open().get(link).to_json())


@router.post("/api/v1/connections/{link}/authorize", tags=["connections"],
             openapi_extra=documents(AuthorizeRequest, required=False))
async def authorize_connection(link: str, request: Request,
                               token: TokenInfo = Depends(admin)) -> Response:
    """Start an OAuth 2 authorization; send the user to `authorization_url`. The provider
    redirects back to `redirect_uri` (default: this service's /oauth/callback), which
    completes it."""
    body = AuthorizeRequest.model_validate(await exact_body(request, AuthorizeRequest))
    redirect_uri = body.redirect_uri or str(request.url_for("oauth_callback"))
    registry = parts(request).connections
    start = await run_in_threadpool(lambda: registry.open().begin_authorization(
        link, redirect_uri, actor=actor(token).name))
    return json_response({"connection": link, "authorization_url": start.url,
                          "redirect_uri": redirect_uri})


# -- administration: what `sluice connections` does, secrets only in request bodies --------
class ConnectionSettings(BaseModel):
    """A connection's settings (as `sluice connections add|update` flags); `secret` is the
    API key, the Basic password, the OAuth client secret or the OAuth 1 secrets."""

    model_config = ConfigDict(extra="forbid")

    secret: str | None = Field(None, description="never returned, never logged")
    display_name: str | None = None
    base_urls: list[str] | None = None
    client_id: str | None = None
    authorize_url: str | None = None
    token_url: str | None = None
    refresh_url: str | None = None
    revoke_url: str | None = None
    scopes: list[str] | None = None
    scope_delimiter: str | None = None
    grant: str | None = None
    param_type: str | None = None
    param_name: str | None = None
    header_format: str | None = None
    username: str | None = None
    authorize_params: dict[str, str] | None = None
    token_auth: str | None = None
    refresh_leeway: float | None = None
    refresh_on_status: list[int] | None = None
    refresh_on_body: list[str] | None = None


class NewConnection(ConnectionSettings):
    link: str = Field(description="the link name scripts use: connection:\"link\"")
    auth: str = Field(description="oauth2, oauth1, api_key or basic")
    service: str | None = Field(None, description="a catalogue service, e.g. zoho_books")


def _settings(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("secret", "link", "auth", "service")}


@router.post("/api/v1/connections", tags=["connections"], status_code=201,
             openapi_extra=documents(NewConnection))
async def add_connection(request: Request, token: TokenInfo = Depends(admin)) -> Response:
    """Create a connection (as `sluice connections add`)."""
    data = await exact_body(request, NewConnection)
    registry = parts(request).connections.open()
    view = await run_in_threadpool(lambda: registry.add(
        data["link"], data["auth"], secret=data.get("secret") or "",
        service=data.get("service"), actor=actor(token).name, **_settings(data)))
    return json_response(view.to_json(), 201)


@router.patch("/api/v1/connections/{link}", tags=["connections"],
              openapi_extra=documents(ConnectionSettings))
async def update_connection(link: str, request: Request,
                            token: TokenInfo = Depends(admin)) -> Response:
    """Change settings, base URLs or the secret (a new key or password restores a revoked
    API-key or Basic connection)."""
    data = await exact_body(request, ConnectionSettings)
    registry = parts(request).connections.open()
    view = await run_in_threadpool(lambda: registry.update(
        link, secret=data.get("secret"), actor=actor(token).name, **_settings(data)))
    return json_response(view.to_json())


@router.delete("/api/v1/connections/{link}", tags=["connections"], status_code=204)
def delete_connection(link: str, request: Request,
                      token: TokenInfo = Depends(admin)) -> Response:
    parts(request).connections.open().delete(link, actor=actor(token).name)
    return Response(status_code=204)


@router.post("/api/v1/connections/{link}/revoke", tags=["connections"])
def revoke_connection(link: str, request: Request,
                      token: TokenInfo = Depends(admin)) -> Response:
    """Revoke the tokens (at the provider when it has a revoke URL)."""
    registry = parts(request).connections.open()
    warning = registry.revoke(link, actor=actor(token).name)
    return json_response({**registry.get(link).to_json(), "warning": warning})


class _Borrowed:
    """The service's registry lent to a short-lived broker, whose close must not close it."""

    def __init__(self, registry: Any) -> None:
        self._registry = registry

    def __getattr__(self, name: str) -> Any:
        return getattr(self._registry, name)

    def close(self) -> None:
        """The service closes its registry when it stops."""


@router.post("/api/v1/connections/{link}/test", tags=["connections"])
def test_connection(link: str, request: Request, url: str | None = None,
                    _token: TokenInfo = Depends(admin)) -> Response:
    """Send one signed GET through the connection (to `url`, default its first base URL);
    answers the status and the first 300 bytes, never a credential."""
    from ...errors import ScriptRuntimeError
    from ...http.broker import Broker
    from ...http.messages import HttpRequest
    from ...limits import Limits, RunContext

    registry = parts(request).connections.open()
    view = registry.get(link)
    target = url or (view.base_urls[0] if view.base_urls else "")
    broker = Broker(_Borrowed(registry))
    ctx = RunContext(limits=Limits())
    try:
        answer = broker.send(HttpRequest("GET", target, connection=link), ctx)
    except ScriptRuntimeError as exc:
        return json_response({"ok": False, "error": exc.message})
    finally:
        broker.close()
    entry = ctx.http_trace[-1]
    return json_response({"ok": answer.status < 400, "status": answer.status,
                          "url": entry["url"], "ms": entry["ms"],
                          "preview": answer.body[:300].decode("utf-8", "replace")})


@router.get("/api/v1/connections/{link}/audit", tags=["connections"])
def connection_audit(link: str, request: Request,
                     _token: TokenInfo = Depends(admin)) -> Response:
    """Who changed or authorized the connection, and when (never a secret)."""
    registry = parts(request).connections.open()
    registry.get(link)
    return json_response({"audit": registry.audit_log(link)})
