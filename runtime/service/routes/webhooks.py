"""Incoming webhooks: POST (or GET) /hooks/{token} runs the function the token exposes.

No bearer token: the secret in the URL is the credential (`sluice scripts expose NAME`
shows it once). The query parameters (as text) and the JSON object body become the
function's inputs, the body winning over the query for the same name. The answer is the
run result, as `execute` gives it. An unknown or revoked token is a 404 that says no
more, and the request logs name the route template, never the token.
"""

from __future__ import annotations

__all__ = ["router"]

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ...triggers.launcher import Actor
from ...triggers.webhooks import WebhookBook
from ..context import exact_body, json_response, parts

router = APIRouter(tags=["webhooks"])


async def _script(token: str, request: Request) -> str:
    """The function the token exposes; 404 (saying no more) for any other token."""
    triggers = parts(request).triggers
    book = WebhookBook(triggers.sessions, triggers.catalog)
    name = await run_in_threadpool(book.script_for, token)
    if name is None:
        raise HTTPException(404, "No such webhook")
    return name


async def _run(name: str, token: str, request: Request, body: dict[str, Any]) -> Response:
    inputs: dict[str, Any] = dict(request.query_params)
    inputs.update(body)
    launcher = parts(request).triggers.launcher
    outcome = await run_in_threadpool(
        lambda: launcher.execute_function(
            name, inputs, actor=Actor(f"webhook {token[:12]}", {"name": "webhook"}),
            trigger="webhook"))
    return json_response(outcome.to_json())


@router.post("/hooks/{token}")
async def post_hook(token: str, request: Request) -> Response:
    """Run the exposed function with the query and the JSON body as inputs."""
    name = await _script(token, request)   # checked before the body is read
    return await _run(name, token, request, await exact_body(request))


@router.get("/hooks/{token}")
async def get_hook(token: str, request: Request) -> Response:
    """Run the exposed function with the query parameters as inputs."""
    return await _run(await _script(token, request), token, request, {})
