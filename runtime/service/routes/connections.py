"""Connections (never their secrets) and the OAuth callback that completes an
authorization started here or by `sluice connections authorize`."""

from __future__ import annotations

__all__ = ["router"]

from html import escape
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

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
