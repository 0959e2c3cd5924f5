"""Schedules: the list, a form (calendar rule or cron, time zone, end rule) that previews
the next fire times before saving, and a schedule's page with pause, resume, run now,
delete and its occurrences with their runs."""

from __future__ import annotations

__all__ = ["router"]

import json
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ...triggers.errors import InvalidField, NotFound, TriggerError
from ...triggers.recurrence import KINDS, WEEKDAYS
from ...triggers.schedules import parse_request
from ..web import Refused, Viewer, admin_viewer, read_form, redirect, render, service, viewer

router = APIRouter(include_in_schema=False)
_ZONES = ("UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York",
          "America/Chicago", "America/Los_Angeles", "Asia/Kolkata", "Asia/Tokyo",
          "Asia/Dubai", "Australia/Sydney")


def _request(form: dict[str, str], raw_days: list[str]) -> dict[str, Any]:
    """The schedule request (as the API takes it) that the form's fields describe."""
    kind = form.get("kind", "daily")
    recurrence: dict[str, Any] = {"kind": kind}
    if form.get("interval") and kind not in ("once", "cron"):
        recurrence["interval"] = form["interval"]
    if kind == "weekly":
        recurrence["days"] = raw_days
    if kind in ("monthly", "yearly") and form.get("day"):
        recurrence["day"] = form["day"]
    if kind == "cron":
        recurrence["cron"] = form.get("cron", "")
    end: dict[str, Any] | None = None
    if form.get("end") == "after":
        end = {"after": form.get("end_after", "")}
    elif form.get("end") == "on":
        end = {"on": form.get("end_on", "")}
    try:
        inputs = json.loads(form.get("inputs") or "{}", parse_float=Decimal)
    except ValueError as exc:
        raise InvalidField("inputs", f"not valid JSON ({exc})") from None
    try:
        grace = float(form.get("misfire_grace") or 60)
        retries = int(form.get("retries") or 0)
    except ValueError:
        raise InvalidField("retries", "must be a whole number") from None
    return {"name": form.get("name", "").strip(), "script": form.get("script", ""),
            "recurrence": recurrence, "start": form.get("start") or None,
            "timezone": form.get("timezone") or "UTC", "end": end,
            "misfire": form.get("misfire") or "run_once", "misfire_grace": grace,
            "no_overlap": form.get("no_overlap") == "on", "retries": retries,
            "inputs": inputs}


async def _form_page(request: Request, who: Viewer, form: dict[str, Any],
                     days: list[str], errors: dict[str, str], preview: list[Any] | None,
                     status: int = 200, editing: str | None = None) -> Response:
    catalog = service(request).triggers.catalog
    scripts = await run_in_threadpool(catalog.list, "schedule")
    return render(request, "schedule_new.html", who=who, form=form, days=days,
                  errors=errors, preview=preview, scripts=scripts, kinds=KINDS,
                  weekdays=WEEKDAYS, zones=_ZONES, status=status, editing=editing)


@router.get("/schedules")
async def list_schedules(request: Request, who: Viewer = Depends(viewer)) -> Response:
    schedules = await run_in_threadpool(service(request).triggers.schedules.list)
    return render(request, "schedules.html", who=who, schedules=schedules)


@router.get("/schedules/new")
async def new_schedule(request: Request, who: Viewer = Depends(admin_viewer)) -> Response:
    form = {"kind": "daily", "timezone": "UTC", "misfire": "run_once", "misfire_grace": "60",
            "no_overlap": "on", "retries": "0", "inputs": "{}", "end": "never"}
    return await _form_page(request, who, form, [], {}, None)


@router.post("/schedules/new")
async def create_schedule(request: Request, who: Viewer = Depends(admin_viewer)) -> Response:
    form = await read_form(request, who)
    days = [d for d in WEEKDAYS if form.get(f"day_{d}") == "on"]
    triggers = service(request).triggers
    try:
        data = _request(form, days)
        if form.get("action") == "preview":
            fields = parse_request(data, triggers.clock.now())
            timing = fields["timing"]
            now = triggers.clock.now()
            upcoming = timing.upcoming(now if timing.start < now else None, 5)
            return await _form_page(request, who, form, days, {}, upcoming)
        await run_in_threadpool(lambda: triggers.schedules.add(
            data, by=f"console {who.name}"))
    except TriggerError as exc:
        field = exc.field if isinstance(exc, InvalidField) else "name"
        reason = exc.reason if isinstance(exc, InvalidField) else str(exc)
        return await _form_page(request, who, form, days, {field.split(".")[0]: reason},
                                None, status=422)
    name = data["name"]
    return redirect(f"/schedules/{name}", f"Schedule '{name}' created.")


@router.get("/schedules/{name}")
async def show_schedule(request: Request, name: str, who: Viewer = Depends(viewer)) -> Response:
    book = service(request).triggers.schedules
    try:
        info = await run_in_threadpool(book.get, name, 5)
        occurrences = await run_in_threadpool(book.occurrences, name, 50)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    return render(request, "schedule.html", who=who, info=info, occurrences=occurrences)


def _edit_form(info: Any) -> tuple[dict[str, Any], list[str]]:
    """A stored schedule as the form's fields (the form edits what it creates)."""
    rule = dict(info.recurrence)
    end = "after" if info.end_after else "on" if info.end_on else "never"
    form = {"name": info.name, "script": info.script, "kind": rule.get("kind", "daily"),
            "interval": str(rule.get("interval", "")), "day": str(rule.get("day", "")),
            "cron": rule.get("cron", ""), "start": str(info.start)[:16],
            "timezone": info.timezone, "end": end,
            "end_after": str(info.end_after or ""),
            "end_on": info.end_on.date().isoformat() if info.end_on else "",
            "misfire": info.misfire, "misfire_grace": f"{info.misfire_grace:g}",
            "no_overlap": "on" if info.no_overlap else "", "retries": str(info.retries),
            "inputs": json.dumps(info.inputs, default=str)}
    return form, list(rule.get("days", []))


@router.get("/schedules/{name}/edit")
async def edit_schedule(request: Request, name: str,
                        who: Viewer = Depends(admin_viewer)) -> Response:
    book = service(request).triggers.schedules
    try:
        info = await run_in_threadpool(book.get, name, 0)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    form, days = _edit_form(info)
    return await _form_page(request, who, form, days, {}, None, editing=name)


@router.post("/schedules/{name}/edit")
async def save_schedule(request: Request, name: str,
                        who: Viewer = Depends(admin_viewer)) -> Response:
    form = await read_form(request, who)
    form["name"] = name
    days = [d for d in WEEKDAYS if form.get(f"day_{d}") == "on"]
    triggers = service(request).triggers
    try:
        data = _request(form, days)
        data.pop("name")
        if form.get("action") == "preview":
            fields = parse_request({**data, "name": name}, triggers.clock.now())
            timing = fields["timing"]
            now = triggers.clock.now()
            upcoming = timing.upcoming(now if timing.start < now else None, 5)
            return await _form_page(request, who, form, days, {}, upcoming, editing=name)
        await run_in_threadpool(lambda: triggers.schedules.update(
            name, data, by=f"console {who.name}"))
    except TriggerError as exc:
        field = exc.field if isinstance(exc, InvalidField) else "name"
        reason = exc.reason if isinstance(exc, InvalidField) else str(exc)
        return await _form_page(request, who, form, days, {field.split(".")[0]: reason},
                                None, status=422, editing=name)
    return redirect(f"/schedules/{name}", f"Schedule '{name}' saved.")


@router.post("/schedules/{name}/{action}")
async def act_on_schedule(request: Request, name: str, action: str,
                          who: Viewer = Depends(admin_viewer)) -> Response:
    await read_form(request, who)
    book = service(request).triggers.schedules
    done = {"pause": "paused", "resume": "resumed", "run-now": "queued to run now",
            "delete": "deleted"}
    if action not in done:
        raise Refused(404, f"No action {action!r}")
    try:
        if action == "pause":
            await run_in_threadpool(book.pause, name)
        elif action == "resume":
            await run_in_threadpool(book.resume, name)
        elif action == "run-now":
            await run_in_threadpool(book.run_now, name)
        else:
            await run_in_threadpool(book.delete, name)
            return redirect("/schedules", f"Schedule '{name}' deleted.")
    except TriggerError as exc:
        return redirect(f"/schedules/{name}", f"Not done: {exc}")
    return redirect(f"/schedules/{name}", f"Schedule '{name}' {done[action]}.")
