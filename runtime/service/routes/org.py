"""The organization profile: GET and PUT /api/v1/org (admin)."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ...org import ProfileBook
from ..context import actor, admin, documents, exact_body, json_response, parts
from ..tokens import TokenInfo

router = APIRouter(tags=["organization"])


class OrganizationRequest(BaseModel):
    """Profile fields to set; fields left out keep their value (the first PUT needs
    `admin_email`)."""

    model_config = ConfigDict(extra="forbid")

    admin_email: str | None = Field(None, description="zoho.adminuser / zoho.adminuserid")
    org_id: str | None = Field(None, description="organization.organization_id")
    name: str | None = None
    currency: str | None = Field(None, description="ISO 4217 code")
    timezone: str | None = Field(None, description="IANA time zone, the runs' default")
    date_format: str | None = None
    creator_owner: str | None = None
    creator_application: str | None = None


@router.get("/api/v1/org")
def get_org(request: Request, _token: TokenInfo = Depends(admin)) -> Response:
    """The organization profile (404 until one is set)."""
    return json_response(ProfileBook(parts(request).triggers.sessions).require().to_json())


@router.put("/api/v1/org", openapi_extra=documents(OrganizationRequest))
async def set_org(request: Request, token: TokenInfo = Depends(admin)) -> Response:
    """Set profile fields; the next run on every node sees them."""
    data = await exact_body(request, OrganizationRequest)
    book = ProfileBook(parts(request).triggers.sessions)
    profile = await run_in_threadpool(lambda: book.set(data, by=actor(token).name))
    return json_response(profile.to_json())
