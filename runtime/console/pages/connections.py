"""Connections as the vendor's users set them up: "Pick Your Service" (the predefined
services) or "Custom Service" (the vendor's own fields: Service Name, Authentication Type,
Param Type, Client ID, Client Secret, Authorize URL, Access Token URL, Refresh Token URL,
Connection Name, Scope), OAuth 2 authorization in the browser, and a details page with the
snippet to paste into a script, test, update, revoke, delete and the audit trail.

Secrets are write-only: a form never shows one back, not even after a validation error;
the registry stores them sealed and no page reads them."""

from __future__ import annotations

__all__ = ["derive_link_name", "router"]

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ...connections.keyring import KeyringError
from ...connections.registry import ConnectionNotFound, RegistryError
from ...errors import ScriptRuntimeError
from ...store.runs import Run
from ..web import Refused, Viewer, admin_viewer, read_form, redirect, render, service, viewer

router = APIRouter(include_in_schema=False)
AUTH_TYPES = (("oauth2", "OAuth2"), ("api_key", "API Key"), ("basic", "Basic Authentication"),
              ("oauth1", "OAuth1"))
PARAM_TYPES = (("header", "Header"), ("query", "Query String"))
_SECRETS = ("client_secret", "api_key", "password", "consumer_secret", "token_secret")
_LAST_USE_SAMPLE = 2000


def derive_link_name(connection_name: str) -> str:
    """The link name scripts use, from the connection's name (the console shows the same
    derivation live as it is typed)."""
    link = re.sub(r"[^a-z0-9]+", "_", connection_name.lower()).strip("_")
    if link and not link[0].isalpha():
        link = "c_" + link
    return link[:50]


def _registry(request: Request) -> Any:
    try:
        return service(request).connections.open()
    except KeyringError as exc:
        raise Refused(503, f"Connections are unavailable: {exc}") from None


def _last_use(request: Request) -> dict[str, Any]:
    """When each connection was last used, from the HTTP traces of the latest runs."""
    seen: dict[str, Any] = {}
    with service(request).triggers.sessions() as s:
        for http, started in s.execute(select(Run.http, Run.started_at)
                                       .order_by(Run.id.desc()).limit(_LAST_USE_SAMPLE)):
            for call in http or []:
                link = call.get("connection")
                if link and link not in seen:
                    seen[link] = started
    return seen


def _scopes(text: str) -> list[str] | None:
    parts = [p for p in re.split(r"[\s,]+", text.strip()) if p]
    return parts or None


@router.get("/connections")
async def list_connections(request: Request, who: Viewer = Depends(viewer)) -> Response:
    registry = _registry(request)
    views = await run_in_threadpool(registry.list)
    used = await run_in_threadpool(_last_use, request)
    return render(request, "connections.html", who=who, views=views, used=used,
                  sample=_LAST_USE_SAMPLE)


@router.get("/connections/new")
async def pick_service(request: Request, who: Viewer = Depends(admin_viewer)) -> Response:
    catalogue = _registry(request).catalogue
    services = []
    for name in catalogue.names():
        defaults = catalogue.resolve(name)
        services.append({"name": name, "display_name": defaults.display_name,
                         "auth_type": defaults.auth_type,
                         "centres": catalogue.data_centres(name),
                         "scopes": " ".join(defaults.params.get("scopes") or [])})
    return render(request, "connection_pick.html", who=who, services=services, errors={},
                  form={})


def _custom_form(request: Request, who: Viewer, form: dict[str, str],
                 errors: dict[str, str], status: int = 200) -> Response:
    shown = {k: v for k, v in form.items() if k not in _SECRETS}   # never echo a secret
    return render(request, "connection_custom.html", who=who, form=shown, errors=errors,
                  auth_types=AUTH_TYPES, param_types=PARAM_TYPES, status=status)


@router.get("/connections/new/custom")
def custom_service(request: Request, who: Viewer = Depends(admin_viewer)) -> Response:
    return _custom_form(request, who, {"auth_type": "oauth2", "param_type": "header"}, {})


def _custom_settings(form: dict[str, str]) -> tuple[str, dict[str, Any], str]:
    """(auth type, registry settings, secret) from the Custom Service form."""
    auth = form.get("auth_type", "")
    if auth not in dict(AUTH_TYPES):
        raise RegistryError("auth_type", "choose an authentication type")
    if not form.get("service_name", "").strip():
        raise RegistryError("service_name", "is required")
    settings: dict[str, Any] = {"display_name": form.get("connection_name", "").strip(),
                                "base_urls": [u for u in re.split(r"[\s,]+",
                                                                  form.get("base_url", ""))
                                              if u]}
    placement = form.get("param_type") or None
    if auth == "oauth2":
        settings.update(client_id=form.get("client_id", "").strip() or None,
                        authorize_url=form.get("authorize_url", "").strip() or None,
                        token_url=form.get("token_url", "").strip() or None,
                        refresh_url=form.get("refresh_url", "").strip() or None,
                        scopes=_scopes(form.get("scope", "")), param_type=placement)
        secret = form.get("client_secret", "")
        if not secret:
            raise RegistryError("client_secret", "is required")
    elif auth == "api_key":
        name = form.get("param_name", "").strip()
        if not name:
            raise RegistryError("param_name", "name the header or query parameter")
        settings.update(param_type=placement, param_name=name)
        secret = form.get("api_key", "")
        if not secret:
            raise RegistryError("api_key", "is required")
    elif auth == "basic":
        settings.update(username=form.get("username", "").strip() or None)
        secret = form.get("password", "")
    else:
        settings.update(client_id=form.get("client_id", "").strip() or None)
        consumer = form.get("consumer_secret", "")
        if not consumer:
            raise RegistryError("consumer_secret", "is required")
        secret = consumer + "&" + form.get("token_secret", "")
    return auth, settings, secret


_FIELD_OF = {"link": "connection_name", "client-id": "client_id", "authorize-url":
             "authorize_url", "authorize_url": "authorize_url", "token-url": "token_url",
             "refresh-url": "refresh_url", "base-url": "base_url", "param-type": "param_type",
             "param-name": "param_name", "username": "username", "secret": "client_secret",
             "scopes": "scope", "auth": "auth_type"}


@router.post("/connections/new/custom")
async def create_custom(request: Request, who: Viewer = Depends(admin_viewer)) -> Response:
    form = await read_form(request, who)
    link = derive_link_name(form.get("connection_name", ""))
    registry = _registry(request)
    try:
        if not link:
            raise RegistryError("link", "give the connection a name")
        auth, settings, secret = _custom_settings(form)
        await run_in_threadpool(lambda: registry.add(
            link, auth, secret=secret, service="custom", actor=f"console {who.name}",
            **settings))
    except RegistryError as exc:
        field = _FIELD_OF.get(exc.field, exc.field)
        if field == "client_secret" and form.get("auth_type") == "api_key":
            field = "api_key"
        return _custom_form(request, who, form, {field: exc.reason}, status=422)
    return await _after_create(request, who, link)


@router.post("/connections/new/service")
async def create_from_service(request: Request,
                              who: Viewer = Depends(admin_viewer)) -> Response:
    form = await read_form(request, who)
    registry = _registry(request)
    service_name = form.get("service", "")
    centre = form.get("data_centre", "")
    link = derive_link_name(form.get("connection_name", ""))
    try:
        if not link:
            raise RegistryError("connection_name", "give the connection a name")
        full = f"{service_name}:{centre}" if centre else service_name
        defaults = registry.catalogue.resolve(full)
        secret = form.get("client_secret", "")
        if defaults.auth_type == "oauth2" and not secret:
            raise RegistryError("client_secret", "is required")
        await run_in_threadpool(lambda: registry.add(
            link, defaults.auth_type, secret=secret, service=full,
            display_name=form.get("connection_name", "").strip(),
            client_id=form.get("client_id", "").strip() or None,
            scopes=_scopes(form.get("scope", "")), actor=f"console {who.name}"))
    except (RegistryError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, RegistryError) else str(exc)
        return redirect("/connections/new", f"{service_name}: not added: {reason}")
    return await _after_create(request, who, link)


async def _after_create(request: Request, who: Viewer, link: str) -> Response:
    view = _registry(request).get(link)
    if view.status == "needs_authorization":
        return redirect(f"/connections/{link}", f"Connection '{link}' added; authorize it "
                        "to use it.")
    return redirect(f"/connections/{link}", f"Connection '{link}' added.")


@router.get("/connections/{link}")
async def show_connection(request: Request, link: str, authorized: str = "",
                          who: Viewer = Depends(viewer)) -> Response:
    registry = _registry(request)
    try:
        view = await run_in_threadpool(registry.get, link)
    except ConnectionNotFound:
        raise Refused(404, f"No connection named '{link}'") from None
    audit = await run_in_threadpool(registry.audit_log, link) if who.is_admin else []
    base = view.base_urls[0] if view.base_urls else "https://api.example.com/"
    snippet = (f'response = invokeurl\n[\n\turl: "{base}"\n\ttype: GET\n'
               f'\tconnection: "{view.link_name}"\n];\ninfo response;')
    return render(request, "connection.html", who=who, view=view, audit=audit[-50:],
                  snippet=snippet, authorized=authorized == "1", param_types=PARAM_TYPES)


@router.post("/connections/{link}/authorize")
async def authorize(request: Request, link: str,
                    who: Viewer = Depends(admin_viewer)) -> Response:
    await read_form(request, who)
    registry = _registry(request)
    callback = str(request.url_for("oauth_callback"))
    try:
        start = await run_in_threadpool(lambda: registry.begin_authorization(
            link, callback, actor=f"console {who.name}"))
    except (RegistryError, ConnectionNotFound) as exc:
        return redirect(f"/connections/{link}", f"Cannot authorize: {exc}")
    return RedirectResponse(start.url, status_code=303)


@router.post("/connections/{link}/test")
async def test_connection(request: Request, link: str,
                          who: Viewer = Depends(admin_viewer)) -> Response:
    from ...http.messages import HttpRequest
    from ...limits import Limits, RunContext
    from ...service.registry import service_broker

    await read_form(request, who)
    parts = service(request)
    view = _registry(request).get(link)
    url = view.base_urls[0] if view.base_urls else ""
    broker = service_broker(parts.connections)
    ctx = RunContext(limits=Limits())
    try:
        response = await run_in_threadpool(
            lambda: broker.send(HttpRequest("GET", url, connection=link), ctx))
        message = f"Test: GET {ctx.http_trace[-1]['url']} answered {response.status}."
    except ScriptRuntimeError as exc:
        message = f"Test failed: GET {url}: {exc.message}"
    finally:
        broker.close()
    return redirect(f"/connections/{link}", message)


@router.post("/connections/{link}/update")
async def update_connection(request: Request, link: str,
                            who: Viewer = Depends(admin_viewer)) -> Response:
    form = await read_form(request, who)
    registry = _registry(request)
    changes: dict[str, Any] = {}
    for key in ("client_id", "authorize_url", "token_url", "refresh_url", "param_name",
                "username"):
        if form.get(key, "").strip():
            changes[key] = form[key].strip()
    if form.get("scope", "").strip():
        changes["scopes"] = _scopes(form["scope"])
    if form.get("param_type"):
        changes["param_type"] = form["param_type"]
    bases = [u for u in re.split(r"[\s,]+", form.get("base_url", "")) if u]
    secret = form.get("secret") or None
    try:
        await run_in_threadpool(lambda: registry.update(
            link, secret=secret, base_urls=bases or None,
            display_name=form.get("display_name", "").strip() or None,
            actor=f"console {who.name}", **changes))
    except (RegistryError, ConnectionNotFound) as exc:
        return redirect(f"/connections/{link}", f"Not updated: {exc}")
    return redirect(f"/connections/{link}", "Connection updated.")


@router.post("/connections/{link}/revoke")
async def revoke_connection(request: Request, link: str,
                            who: Viewer = Depends(admin_viewer)) -> Response:
    await read_form(request, who)
    try:
        await run_in_threadpool(lambda: _registry(request).revoke(
            link, actor=f"console {who.name}"))
    except (RegistryError, ConnectionNotFound) as exc:
        return redirect(f"/connections/{link}", f"Not revoked: {exc}")
    return redirect(f"/connections/{link}", "Connection revoked: its tokens were dropped.")


@router.post("/connections/{link}/delete")
async def delete_connection(request: Request, link: str,
                            who: Viewer = Depends(admin_viewer)) -> Response:
    form = await read_form(request, who)
    if form.get("confirm") != link:
        return redirect(f"/connections/{link}", "Not deleted: type the link name to confirm.")
    try:
        await run_in_threadpool(lambda: _registry(request).delete(
            link, actor=f"console {who.name}"))
    except (RegistryError, ConnectionNotFound) as exc:
        return redirect(f"/connections/{link}", f"Not deleted: {exc}")
    return redirect("/connections", f"Connection '{link}' deleted.")
