"""Signing in with an API token, and out."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..sessions import COOKIE
from ..web import console, read_form, redirect, render, service

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect to another one."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/") -> Response:
    return render(request, "sign_in.html", next=_safe_next(next), error=None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await read_form(request, None)
    target = _safe_next(form.get("next"))
    token = service(request).tokens.verify(form.get("token", "").strip())
    if token is None:
        return render(request, "sign_in.html", next=target, status=401,
                      error="This token is unknown or revoked.")
    session_id = console(request).sessions.open(token)
    response = redirect(target)
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/",
                        max_age=int(console(request).sessions.lifetime.total_seconds()))
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    session_id = request.cookies.get(COOKIE)
    found = console(request).sessions.find(session_id)
    if found is not None:
        await read_form(request, found)   # a cross-site form cannot sign anyone out
    console(request).sessions.close(session_id)
    response = redirect("/sign-in", "Signed out.")
    response.delete_cookie(COOKIE, path="/")
    return response
