"""API tokens (admin): create (the token is shown once, on the page that created it), list
and revoke. Revoking a token also ends the console sessions signed in with it."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ...store.tokens import TOKEN_ROLES
from ...triggers.errors import TriggerError
from ..web import Viewer, admin_viewer, read_form, redirect, render, service

router = APIRouter(include_in_schema=False)


@router.get("/tokens")
async def list_tokens(request: Request, who: Viewer = Depends(admin_viewer)) -> Response:
    tokens = await run_in_threadpool(service(request).tokens.list)
    return render(request, "tokens.html", who=who, tokens=tokens, roles=TOKEN_ROLES,
                  created=None, errors={})


@router.post("/tokens")
async def create_token(request: Request, who: Viewer = Depends(admin_viewer)) -> Response:
    form = await read_form(request, who)
    book = service(request).tokens
    try:
        info, secret = await run_in_threadpool(lambda: book.create(
            form.get("role", ""), form.get("name", "").strip(), by=f"console {who.name}"))
    except TriggerError as exc:
        tokens = await run_in_threadpool(book.list)
        field = getattr(exc, "field", "name")
        return render(request, "tokens.html", who=who, tokens=tokens, roles=TOKEN_ROLES,
                      created=None, errors={field: getattr(exc, "reason", str(exc))},
                      status=422)
    tokens = await run_in_threadpool(book.list)
    # shown once, on this answer only (no-store); the store keeps only its digest
    return render(request, "tokens.html", who=who, tokens=tokens, roles=TOKEN_ROLES,
                  created=(info, secret), errors={})


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: int,
                       who: Viewer = Depends(admin_viewer)) -> Response:
    await read_form(request, who)
    try:
        info = await run_in_threadpool(service(request).tokens.revoke, str(token_id))
    except TriggerError as exc:
        return redirect("/tokens", f"Not revoked: {exc}")
    return redirect("/tokens", f"Token {info.prefix}… revoked.")
