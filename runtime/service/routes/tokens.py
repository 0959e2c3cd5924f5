"""API tokens over the API (admin): create (the token is in that answer only), list
(never a secret), revoke by id or prefix."""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..context import actor, admin, documents, exact_body, json_response, parts
from ..tokens import TokenInfo

router = APIRouter(tags=["tokens"])


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(description="admin or runner")
    name: str = ""


@router.get("/api/v1/tokens")
def list_tokens(request: Request, _token: TokenInfo = Depends(admin)) -> Response:
    return json_response({"tokens": [t.to_json() for t in parts(request).tokens.list()]})


@router.post("/api/v1/tokens", status_code=201, openapi_extra=documents(TokenRequest))
async def create_token(request: Request, token: TokenInfo = Depends(admin)) -> Response:
    """A new token; `token` in this answer is the only time it is shown."""
    data = await exact_body(request, TokenRequest)
    info, secret = parts(request).tokens.create(data["role"], data.get("name") or "",
                                                by=actor(token).name)
    return json_response({**info.to_json(), "token": secret}, 201)


@router.post("/api/v1/tokens/{key}/revoke")
def revoke_token(key: str, request: Request, _token: TokenInfo = Depends(admin)) -> Response:
    """Revoke by id or prefix; refused from the next request on."""
    return json_response(parts(request).tokens.revoke(key).to_json())
