"""Fetched Creator records as Deluge values (the field types of "Data types of Zoho Creator
fields", https://www.zoho.com/deluge/help/creator-field-datatype.html).

The Creator REST API v2 answers JSON, parsed as every answer is (`values.from_json`): a JSON
number is a NUMBER (a DECIMAL with a fraction), a list a LIST (multi-select, checkbox), an
object a MAP (composite fields such as Name and Address, a lookup's `{"ID", "display_value"}`).
Record IDs, the record's own and those inside lookups, are 64-bit numbers the API writes as
text: they become NUMBER, as Deluge has them (`Lookup == r.ID` needs the number).

The answer does not say which fields are dates: date and date-time fields come as text in the
application's date format (`creator_date_format` of the organization map, else the
organization's `date_format`, else Creator's default `dd-MMM-yyyy`; a date-time adds
` HH:mm:ss`). Such text becomes a DATE or DATETIME
only for a field known to be one: the system fields `Added_Time` and `Modified_Time`, and the
fields the organization profile declares in `creator_fields`, by form:

    "creator_fields": {"Orders": {"Due": "date", "Shipped": "datetime", "Qty": "number",
                                  "Price": "decimal", "Paid": "boolean"}}

which also types numbers and decision boxes an application's API writes as text. Any other
text stays TEXT; a declared field whose text does not read as its type stays TEXT too (the
record is still usable), never an error.
"""

from __future__ import annotations

__all__ = ["RecordTypes", "record_types", "typed_record", "FIELD_KINDS"]

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.values import MAX_NUMBER, MIN_NUMBER, display

DEFAULT_DATE_FORMAT = "dd-MMM-yyyy"          # Creator's default application date format
SYSTEM_DATETIMES = ("Added_Time", "Modified_Time")
FIELD_KINDS = frozenset({"text", "number", "decimal", "date", "datetime", "boolean"})


@dataclass(frozen=True)
class RecordTypes:
    """How to read the fields of one form's records."""

    date_format: str
    kinds: dict[str, str]                    # field -> one of FIELD_KINDS

    def kind(self, field: str) -> str | None:
        if field in self.kinds:
            return self.kinds[field]
        return "datetime" if field in SYSTEM_DATETIMES else None


def record_types(org: dict[str, Any], form: str) -> RecordTypes:
    """The typing of `form`'s records from the organization profile; a declaration that is
    not a map of field kinds is named (the profile is the user's to fix)."""
    date_format = next((f for f in (org.get("creator_date_format"), org.get("date_format"))
                        if isinstance(f, str) and f.strip()), DEFAULT_DATE_FORMAT)
    declared = org.get("creator_fields")
    forms = declared if isinstance(declared, dict) else {}
    fields = forms.get(form) or {}
    if (declared is not None and not isinstance(declared, dict)) or not isinstance(fields,
                                                                                   dict):
        raise ScriptRuntimeError("creator_fields of the organization profile must map a form "
                                 "to a map of its fields' kinds ({\"Orders\": {\"Due\": "
                                 "\"date\"}})")
    kinds: dict[str, str] = {}
    for name, kind in fields.items():
        word = display(kind).strip().lower()
        if word not in FIELD_KINDS:
            raise ScriptRuntimeError(
                f"creator_fields of the organization profile: {form}.{display(name)} is "
                f"'{display(kind)}', not one of {', '.join(sorted(FIELD_KINDS))}")
        kinds[display(name)] = word
    return RecordTypes(date_format.strip(), kinds)


def record_id(value: Any) -> Any:
    """An ID the API writes as text, as the NUMBER Deluge has when it fits."""
    text = display(value)
    return int(text) if text.isdigit() and int(text) <= MAX_NUMBER else value


def _ids(value: Any) -> Any:
    """Lookups inside a value (`{"ID": "...", "display_value": ...}`, lists of them) with
    NUMBER IDs."""
    if isinstance(value, dict):
        return {k: record_id(v) if k == "ID" and isinstance(v, str) else _ids(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_ids(v) for v in value]
    return value


def _number(text: str, decimal: bool) -> Any:
    try:
        number = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if decimal:
        return number
    if number == number.to_integral_value() and MIN_NUMBER <= number <= MAX_NUMBER:
        return int(number)
    return None


def _date(text: str, pattern: str, method: str) -> Any:
    """The text read as the script's own `text.toDate(pattern)` / `toDateTime` would."""
    from sluicegate.dispatch import call_method

    try:
        return call_method(text.strip(), method, pattern)
    except ScriptRuntimeError:
        return None


def _declared(value: str, kind: str, date_format: str) -> Any:
    if value.strip() == "":
        return value
    if kind in ("number", "decimal"):
        found = _number(value, kind == "decimal")
    elif kind == "date":
        found = _date(value, date_format, "toDate")
    elif kind == "datetime":
        found = _date(value, date_format + " HH:mm:ss", "toDateTime")
    elif kind == "boolean":
        found = {"true": True, "false": False}.get(value.strip().lower())
    else:
        found = None
    return value if found is None else found


def typed_record(record: dict[str, Any], types: RecordTypes) -> dict[str, Any]:
    """One record of the API's answer with the values Deluge gives its fields."""
    out: dict[str, Any] = {}
    for name, value in record.items():
        if name == "ID":
            out[name] = record_id(value)
            continue
        kind = types.kind(name)
        if isinstance(value, str) and kind not in (None, "text"):
            out[name] = _declared(value, kind, types.date_format)
        else:
            out[name] = _ids(value)
    return out
