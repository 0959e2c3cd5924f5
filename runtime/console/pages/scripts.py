"""Scripts: the list by kind and module, the editor (highlighting and live diagnostics
from the same checker as `sluice check`), versions with diffs and rollback, running a
function from a form of its declared parameters, clicking a button with a record, and
deleting."""

from __future__ import annotations

__all__ = ["router"]

import json
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from ...store.scripts import BUTTON_LOCATIONS, SCRIPT_KINDS
from ...triggers.errors import InvalidField, InvalidSource, NotFound, TriggerError
from ...triggers.launcher import Actor
from ..highlight import highlight
from ..web import (
    Refused, Viewer, admin_viewer, read_form, redirect, render, service, viewer,
)

router = APIRouter(include_in_schema=False)
_SAMPLE_RECORD = '{\n  "invoice_id": "1001",\n  "invoice_number": "INV-00042",\n' \
                 '  "status": "overdue",\n  "balance": 1250.50\n}'
_MAX_CHECK_BYTES = 1024 * 1024


def _actor(who: Viewer) -> Actor:
    return Actor(f"console {who.name}", {"name": who.name, "user_id": str(who.token.id),
                                         "zuid": str(who.token.id)})


def diagnostics(source: str, filename: str) -> list[dict[str, Any]]:
    from ...checker import check_source

    return [p.to_json() for p in check_source(source, filename)]


@router.get("/scripts")
async def list_scripts(request: Request, kind: str = "", module: str = "",
                       who: Viewer = Depends(viewer)) -> Response:
    if kind and kind not in SCRIPT_KINDS:
        raise Refused(422, f"kind: one of {', '.join(SCRIPT_KINDS)}")
    catalog = service(request).triggers.catalog
    scripts = await run_in_threadpool(catalog.list, kind or None)
    modules = sorted({s.module for s in scripts if s.module})
    if module:
        scripts = [s for s in scripts if s.module == module]
    return render(request, "scripts.html", who=who, scripts=scripts, kind=kind, module=module,
                  kinds=SCRIPT_KINDS, modules=modules)


@router.get("/scripts/new")
def new_script(request: Request, who: Viewer = Depends(admin_viewer)) -> Response:
    return render(request, "script_new.html", who=who, kinds=SCRIPT_KINDS,
                  locations=BUTTON_LOCATIONS, form={"kind": "function", "source":
                  'string standalone.hello(String name)\n{\n\tinfo "Hello " + name;\n'
                  '\treturn "Hello " + name;\n}\n'}, errors={})


@router.post("/scripts/new")
async def create_script(request: Request, who: Viewer = Depends(admin_viewer)) -> Response:
    form = await read_form(request, who)
    catalog = service(request).triggers.catalog
    try:
        await run_in_threadpool(lambda: catalog.save(
            form.get("name", "").strip(), form.get("source", ""),
            kind=form.get("kind") or None, module=form.get("module") or None,
            location=form.get("location") or None if form.get("kind") == "button" else None,
            author=f"console {who.name}", message=form.get("message", ""),
            publish=form.get("publish") == "on"))
    except InvalidField as exc:
        return render(request, "script_new.html", who=who, kinds=SCRIPT_KINDS,
                      locations=BUTTON_LOCATIONS, form=form, status=422,
                      errors={exc.field: exc.reason})
    except InvalidSource as exc:
        return render(request, "script_new.html", who=who, kinds=SCRIPT_KINDS,
                      locations=BUTTON_LOCATIONS, form=form, status=422,
                      errors={"source": exc.diagnostic})
    except TriggerError as exc:
        return render(request, "script_new.html", who=who, kinds=SCRIPT_KINDS,
                      locations=BUTTON_LOCATIONS, form=form, status=409,
                      errors={"name": str(exc)})
    name = form.get("name", "").strip()
    return redirect(f"/scripts/{name}", f"Script '{name}' saved.")


async def _script_page(request: Request, who: Viewer, name: str, *, source: str | None = None,
                       errors: dict[str, str] | None = None, status: int = 200) -> Response:
    catalog = service(request).triggers.catalog
    try:
        info = await run_in_threadpool(catalog.get, name)
        versions = await run_in_threadpool(catalog.versions, name)
        latest = await run_in_threadpool(catalog.version, name, info.latest_version)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    text = latest.source or "" if source is None else source
    published = next((v for v in versions if v.number == info.published_version), None)
    params = published.params if published else latest.params
    runs = await run_in_threadpool(
        lambda: service(request).triggers.history.list(script=name, limit=10))
    return render(request, "script.html", who=who, info=info, versions=versions,
                  source=text, highlighted=highlight(text), params=params,
                  problems=diagnostics(text, f"{name}.dg"), runs=runs,
                  sample_record=_SAMPLE_RECORD, errors=errors or {}, status=status)


@router.get("/scripts/{name}")
async def show_script(request: Request, name: str, who: Viewer = Depends(viewer)) -> Response:
    return await _script_page(request, who, name)


@router.post("/scripts/{name}")
async def save_script(request: Request, name: str,
                      who: Viewer = Depends(admin_viewer)) -> Response:
    form = await read_form(request, who)
    source = form.get("source", "")
    catalog = service(request).triggers.catalog
    try:
        version = await run_in_threadpool(lambda: catalog.save(
            name, source, author=f"console {who.name}", message=form.get("message", ""),
            publish=form.get("publish") == "on"))
    except InvalidSource as exc:
        return await _script_page(request, who, name, source=source, status=422,
                                  errors={"source": exc.diagnostic})
    except TriggerError as exc:
        return await _script_page(request, who, name, source=source, status=422,
                                  errors={"source": str(exc)})
    state = "published" if version.status == "published" else "saved as a draft"
    return redirect(f"/scripts/{name}", f"Version {version.number} {state}.")


@router.get("/scripts/{name}/diff")
async def diff_script(request: Request, name: str, old: int | None = None,
                      new: int | None = None, who: Viewer = Depends(viewer)) -> Response:
    catalog = service(request).triggers.catalog
    try:
        text = await run_in_threadpool(catalog.diff, name, old, new)
    except TriggerError as exc:
        raise Refused(404, str(exc)) from None
    return render(request, "diff.html", who=who, name=name, diff=text.split("\n"),
                  old=old, new=new)


@router.post("/scripts/{name}/rollback")
async def rollback_script(request: Request, name: str,
                          who: Viewer = Depends(admin_viewer)) -> Response:
    form = await read_form(request, who)
    catalog = service(request).triggers.catalog
    try:
        number = int(form.get("version", ""))
        version = await run_in_threadpool(lambda: catalog.rollback(
            name, number, by=f"console {who.name}"))
    except (ValueError, TriggerError) as exc:
        return redirect(f"/scripts/{name}", f"Rollback failed: {exc}")
    return redirect(f"/scripts/{name}", f"Version {version.number} is published again.")


@router.post("/scripts/{name}/delete")
async def delete_script(request: Request, name: str,
                        who: Viewer = Depends(admin_viewer)) -> Response:
    form = await read_form(request, who)
    if form.get("confirm") != name:
        return redirect(f"/scripts/{name}", "Not deleted: type the script's name to "
                        "confirm.")
    catalog = service(request).triggers.catalog
    try:
        await run_in_threadpool(catalog.delete, name)
    except TriggerError as exc:
        return redirect(f"/scripts/{name}", f"Not deleted: {exc}")
    return redirect("/scripts", f"Script '{name}' deleted; its runs stay in the history.")


def _input_value(raw: str, declared: str) -> Any:
    """A form field as the declared type expects it: text stays text; other types are
    read as JSON when they parse (numbers keep their written scale), else as text."""
    if declared.lower() in ("string", "text"):
        return raw
    try:
        return json.loads(raw, parse_float=Decimal)
    except ValueError:
        return raw


@router.post("/scripts/{name}/execute")
async def execute_function(request: Request, name: str,
                           who: Viewer = Depends(viewer)) -> Response:
    form = await read_form(request, who)
    catalog = service(request).triggers.catalog
    launcher = service(request).triggers.launcher
    try:
        live = await run_in_threadpool(catalog.live, name, "function")
        inputs = {p["name"]: _input_value(form.get(f"in_{p['name']}", ""), p["type"])
                  for p in live.params if form.get(f"in_{p['name']}", "") != ""}
        outcome = await run_in_threadpool(
            lambda: launcher.execute_function(name, inputs, actor=_actor(who)))
    except TriggerError as exc:
        return redirect(f"/scripts/{name}", f"Not run: {exc}")
    return redirect(f"/runs/{outcome.run_id}", f"Ran {name}: {outcome.result.status}.")


@router.post("/scripts/{name}/click")
async def click_button(request: Request, name: str, who: Viewer = Depends(viewer)) -> Response:
    form = await read_form(request, who)
    try:
        record = json.loads(form.get("record") or "{}", parse_float=Decimal)
    except ValueError as exc:
        return redirect(f"/scripts/{name}", f"Not run: the record is not valid JSON "
                        f"({exc})")
    launcher = service(request).triggers.launcher
    key = "records" if isinstance(record, list) else "record"
    try:
        outcome = await run_in_threadpool(
            lambda: launcher.click_button(name, actor=_actor(who), **{key: record}))
    except TriggerError as exc:
        return redirect(f"/scripts/{name}", f"Not run: {exc}")
    return redirect(f"/runs/{outcome.run_id}", f"Clicked {name}.")


@router.post("/editor/check")
async def check(request: Request, who: Viewer = Depends(viewer)) -> Response:
    """Live diagnostics and highlighting of the editor (JSON; the CSRF token comes in the
    X-CSRF-Token header)."""
    import hmac

    if not hmac.compare_digest(request.headers.get("x-csrf-token", "").encode(),
                               who.csrf.encode()):
        return JSONResponse({"error": {"type": "Forbidden", "message": "bad CSRF token"}},
                            status_code=403)
    body = await request.body()
    if len(body) > _MAX_CHECK_BYTES:
        return JSONResponse({"error": {"type": "PayloadTooLarge",
                                       "message": "the source is too large"}}, 413)
    try:
        data = json.loads(body or b"{}")
        source = str(data.get("source", ""))
        name = str(data.get("name") or "script")
    except (ValueError, AttributeError):
        return JSONResponse({"error": {"type": "BadRequest", "message": "not JSON"}}, 400)
    problems = await run_in_threadpool(diagnostics, source, f"{name}.dg")
    return JSONResponse({"html": highlight(source), "diagnostics": problems})
