"""Creator form statements run against a Creator application through its REST API.

    rows = Orders[Status == "Open"] sort by Added_Time desc range from 1 to 10;
    for each r in Orders[Amount > 100] { r.Flag = true; }
    id = insert into Orders [ Item = "Pen" Qty = 2 ];
    delete from Orders[ID == id];

The application comes from the run's organization map (`organization` input, or the host's
organization profile): `creator_owner` and `creator_application` name it (without them a
statement is "Not supported in this runtime", naming what to set, as SPEC §4 says),
`creator_reports` maps a form to the report its records are read through (the API reads
records through reports; without an entry the form's default report `All_<Form>s`), and
`creator_connection` may name the connection (else the organization's `zoho_creator`
connection), `creator_date_format` and `creator_fields` say how fetched values are typed
(`creator_values.py`). A fetch gives a LIST of records (`RecordSet`); setting a field of a
fetched record, or of the whole fetch, updates it in Creator at once. API errors raise, as a failed
statement does in the vendor's runtime.
"""

from __future__ import annotations

__all__ = ["CreatorRecord", "RecordSet", "fetch", "insert", "delete", "set_field",
           "get_field", "form_method", "ORG_KEYS", "FORM_METHODS", "RECORD_METHODS"]

import datetime as _dt
from dataclasses import dataclass
from functools import partial
from decimal import Decimal, InvalidOperation
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import current
from sluicegate.stdlib.builtin import Builtin
from sluicegate.values import LIST, DateTime, display, type_name

from .records import FORM_METHODS, RECORD_METHOD_NAMES, CreatorRecord, RecordSet
from .registry import lookup
from .creator_values import record_id, record_types, typed_record
from .criteria import render
from .runner import send
from .spec import ApiResponse

ORG_KEYS = ("creator_owner", "creator_application", "creator_reports", "creator_connection",
            "creator_date_format", "creator_fields")
_PAGE = 200            # the API's most records per request
_MAX_RECORDS = 1000    # one fetch reads at most this many (five requests)
_OK, _NO_RECORDS = 3000, 3100   # Creator API v2 status codes ("API Status Codes")


@dataclass(frozen=True)
class _App:
    owner: str
    app: str
    reports: dict[str, str]
    connection: str | None
    org: dict[str, Any]

    def report(self, form: str) -> str:
        return self.reports.get(form) or f"All_{form}s"


def _application(what: str) -> _App:
    """The Creator application of the run (SPEC §4: without one, the statement is not
    supported, and the message says what to configure)."""
    ctx = current()
    org = ctx.system.get("organization")
    org = org if isinstance(org, dict) else {}
    owner, app = org.get("creator_owner"), org.get("creator_application")
    if not isinstance(owner, str) or not owner or not isinstance(app, str) or not app:
        raise ScriptRuntimeError(
            f"Not supported in this runtime: {what} needs the Creator application it runs "
            "against; set creator_owner and creator_application in the organization "
            "profile (the 'organization' input of the run)")
    reports = org.get("creator_reports")
    reports = {display(k): display(v) for k, v in reports.items()} if isinstance(
        reports, dict) else {}
    link = org.get("creator_connection")
    return _App(owner, app, reports, link if isinstance(link, str) and link else None, org)


def _send(task: str, app: _App, args: dict[str, Any]) -> ApiResponse:
    row = lookup(task)
    assert row is not None
    return send("creator", row.build({"owner": app.owner, "app": app.app, **args}),
                app.connection)


def _checked(response: ApiResponse, what: str, app: _App, form: str) -> dict[str, Any]:
    value = response.value
    code = value.get("code") if isinstance(value, dict) else None
    if code in (_OK, _NO_RECORDS):
        return value  # type: ignore[no-any-return]
    message = value.get("message") if isinstance(value, dict) else None
    if not message and isinstance(value, dict):
        message = display(value.get("error") or value.get("description") or "")
    hint = ""
    if response.status == 404:
        hint = (f"; records of form '{form}' are read through report '{app.report(form)}': "
                "name its report in creator_reports of the organization profile")
    raise ScriptRuntimeError(f"Creator {what} failed: {message or display(value)[:200]}"
                             f" (code {code if code is not None else response.status}){hint}")


# ---- fetch ---------------------------------------------------------------------------------
def _window(start: Any, end: Any) -> tuple[int, int | None]:
    """`range from a to b`: 1-based and inclusive; 0 counts as the first record, as scripts
    write `range from 0 to 0` for "the first one"."""
    def number(v: Any, what: str) -> int:
        if isinstance(v, bool) or not isinstance(v, (int, Decimal, str)):
            raise ScriptRuntimeError(f"range {what} must be a NUMBER but found {type_name(v)}")
        try:
            return max(int(Decimal(display(v))), 1)
        except (InvalidOperation, ValueError):
            raise ScriptRuntimeError(f"range {what} must be a NUMBER") from None
    first = number(start, "from") if start is not None else 1
    last = number(end, "to") if end is not None else None
    if last is not None and last < first:
        raise ScriptRuntimeError(f"range from {first} to {last} selects no record")
    return first, last


_DATE_FORMATS = ("%d-%b-%Y %H:%M:%S", "%d-%b-%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d",
                 "%m/%d/%Y %H:%M:%S", "%m/%d/%Y")


def _sort_key(value: Any) -> tuple[int, Any]:
    """Order numbers as numbers and dates as dates, typed or written as text."""
    if value is None or value == "":
        return (3, "")
    if isinstance(value, DateTime):
        return (1, value.value.replace(tzinfo=None))
    text = display(value)
    try:
        return (0, Decimal(text))
    except InvalidOperation:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return (1, _dt.datetime.strptime(text, fmt))
        except ValueError:
            continue
    return (2, text.lower())


def fetch(ctx: Any, form: str, parts: tuple[Any, ...] | None, values: list[Any],
          sort: str | None, descending: bool, start: Any, end: Any) -> RecordSet:
    """`Form[criteria] sort by F [desc] range from a to b`: the matching records."""
    app = _application(f"{form}[...]")
    criteria = render(parts, values) if parts else None
    first, last = _window(start, end)
    report = app.report(form)
    types = record_types(app.org, form)
    wanted = None if last is None else last - first + 1
    # Without a sort the API applies the window; with one, read every match and sort here.
    offset = 1 if sort else first
    records: list[CreatorRecord] = []
    while True:
        limit = _PAGE if sort or wanted is None else min(_PAGE, wanted - len(records))
        answer = _checked(_send("zoho.creator.getRecords", app, {
            "report": report, "criteria": criteria, "from": offset, "limit": limit}),
            f"fetch from {form}", app, form)
        page = answer.get("data") if answer.get("code") == _OK else []
        page = page if isinstance(page, list) else []
        records.extend(CreatorRecord(form, typed_record(r, types))
                       for r in page if isinstance(r, dict))
        if len(page) < limit or (not sort and wanted is not None and len(records) >= wanted):
            break
        if len(records) >= _MAX_RECORDS:
            raise ScriptRuntimeError(f"More than {_MAX_RECORDS} records of {form} match; "
                                     "narrow the criteria or add a range")
        offset += len(page)
    if sort:
        records.sort(key=lambda r: _sort_key(r.get(sort)), reverse=descending)
        records = records[first - 1:None if last is None else last]
    return RecordSet(form, criteria, records)


# ---- insert, update, delete ------------------------------------------------------------------
def insert(ctx: Any, form: str, fields: list[tuple[str, Any]]) -> Any:
    """`insert into Form [ F = v ... ]`: the new record's ID."""
    app = _application(f"insert into {form}")
    answer = _checked(_send("zoho.creator.createRecord", app,
                            {"form": form, "record": dict(fields)}),
                      f"insert into {form}", app, form)
    data = answer.get("data")
    return record_id(data.get("ID")) if isinstance(data, dict) else None


def delete(ctx: Any, form: str, parts: tuple[Any, ...] | None, values: list[Any]) -> None:
    """`delete from Form[criteria]`: every matching record."""
    app = _application(f"delete from {form}")
    if not parts:
        raise ScriptRuntimeError(f"delete from {form} needs criteria")
    _checked(_send("zoho.creator.deleteRecords", app,
                   {"report": app.report(form), "criteria": render(parts, values)}),
             f"delete from {form}", app, form)


def set_field(target: Any, name: str, value: Any) -> None:
    """`r.Field = v` on a fetched record (or on a whole fetch): updated in Creator."""
    form = target.form
    app = _application(f"an update of {form}")
    if type(target) is CreatorRecord:
        if target.get("ID") in (None, ""):
            raise ScriptRuntimeError(f"This {form} record has no ID, so it cannot be updated")
        _checked(_send("zoho.creator.updateRecord", app, {
            "report": app.report(form), "id": target["ID"], "record": {name: value}}),
            f"update of {form}", app, form)
        dict.__setitem__(target, name, value)
        return
    if not target:
        return
    if not target.criteria:  # `Form[]`: each record by its ID
        for record in target:
            set_field(record, name, value)
        return
    _checked(_send("zoho.creator.updateRecords", app, {
        "report": app.report(form), "criteria": target.criteria, "record": {name: value}}),
        f"update of {form}", app, form)
    for record in target:
        dict.__setitem__(record, name, value)


def get_field(records: RecordSet, name: str) -> Any:
    """`Form[criteria].Field`: the field of the first record; null when none matched."""
    return records[0].get(name) if records else None


def _numbers(records: RecordSet, field: str) -> list[Decimal]:
    out = []
    for r in records:
        v = r.get(field)
        if v in (None, ""):
            continue
        try:
            out.append(Decimal(display(v)))
        except InvalidOperation:
            raise ScriptRuntimeError(f"{field} of {records.form} is not a number: "
                                     f"{display(v)[:40]}") from None
    return out


def form_method(records: Any, field: str | None = None, name: str = "count",
                *args: Any) -> Any:
    """Aggregates of a fetch: `count()`, `sum(F)`, `avg(F)`, `min(F)`, `max(F)`,
    `distinct(F)`, and `Form[...].Field.getAll()`."""
    if type(records) is not RecordSet:
        if field is not None:  # `x.F.getAll()` on a value that is not a fetch: as usual
            from sluicegate.dispatch import call_method
            from sluicegate.hooks import get_field as read_field

            return call_method(read_field(records, field), name, *args)
        raise ScriptRuntimeError(f"{name}() needs the records of a form fetch")
    key = name.lower()
    if field is None and args:
        field = display(args[0])
    if key == "count":
        return len(records) if field is None else sum(
            1 for r in records if r.get(field) not in (None, ""))
    if field is None:
        raise ScriptRuntimeError(f"{name}() of a form fetch needs a field")
    if key == "getall":
        return [r.get(field) for r in records]
    if key == "distinct":
        seen: list[Any] = []
        for r in records:
            if r.get(field) not in seen:
                seen.append(r.get(field))
        return seen
    numbers = _numbers(records, field)
    if key == "sum":
        return sum(numbers, Decimal(0))
    if not numbers:
        return None
    if key in ("avg", "average"):
        return sum(numbers, Decimal(0)) / len(numbers)
    if key in ("min", "minimum"):
        return min(numbers)
    return max(numbers)


# What a fetch kept in a variable answers beyond the LIST methods (`recs.count()`).
RECORD_METHODS = {name: Builtin((name,), partial(form_method, name=name), 0, 0, (LIST,),
                                False) for name in RECORD_METHOD_NAMES}
