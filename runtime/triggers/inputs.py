"""The inputs a triggered script sees, named like the vendor's, and their redaction.

- Functions: whatever the caller passes (the record map such as `invoice`, declared
  parameters), plus `organization` and `user` when the caller gave none.
- Buttons: the record map under the module's record name (`invoice` for `invoices`) on a
  details-page button, or the list of selected records under the module name (`invoices`)
  on a list-page bulk action; the button's declared user inputs; `organization`, `user`.
- Schedules: the schedule's stored inputs, `organization` and `user`.

`redact` replaces values of secret-looking keys before inputs are stored with a run.
"""

from __future__ import annotations

__all__ = [
    "REDACTED",
    "InputDefaults",
    "ProfileDefaults",
    "actor_user",
    "button_inputs",
    "function_inputs",
    "record_name",
    "redact",
    "schedule_inputs",
]

import os
import re
from decimal import Decimal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidField

REDACTED = "[redacted]"

# Books-style module -> the variable that holds one record of it (vendor naming)
_RECORD_NAMES = {
    "invoices": "invoice", "estimates": "estimate", "customers": "customer",
    "contacts": "contact", "vendors": "vendor", "salesorders": "salesorder",
    "purchaseorders": "purchaseorder", "bills": "bill", "expenses": "expense",
    "items": "item", "creditnotes": "creditnote", "vendorcredits": "vendor_credit",
    "customerpayments": "customer_payment", "vendorpayments": "vendor_payment",
    "retainerinvoices": "retainerinvoice", "recurringinvoices": "recurring_invoice",
    "projects": "project", "journals": "journal", "salesreceipts": "salesreceipt",
    "deliverychallans": "deliverychallan", "quotes": "quote", "deals": "deal",
    "leads": "lead", "accounts": "account",
}

_ORGANIZATION_FIELDS = ("organization_id", "name", "time_zone", "currency_code",
                        "currency_symbol", "language_code", "api_root_endpoint")
_USER_FIELDS = ("name", "email", "user_id", "zuid")

# A key is secret when its lower-case name contains one of these; redaction errs on the
# side of hiding (a stored run is read by more people than the script's author).
_SECRET_KEY = re.compile(r"pass(word|wd|phrase)?$|secret|token|api[_-]?key|apikey|"
                         r"authorization|credential|private[_-]?key|access[_-]?key|"
                         r"^pwd$|signature|cookie")


def record_name(module: str) -> str:
    """The input name of one record of `module` (`invoices` -> `invoice`)."""
    low = module.lower()
    if low in _RECORD_NAMES:
        return _RECORD_NAMES[low]
    return low[:-1] if low.endswith("s") and len(low) > 1 else low


@dataclass(frozen=True)
class InputDefaults:
    """What `organization` and `user` hold when a trigger does not say."""

    organization: Mapping[str, Any] = field(default_factory=dict)
    user: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> InputDefaults:
        """An organization in `SLUICE_TIMEZONE` (UTC by default) with empty identifiers."""
        org = {name: "" for name in _ORGANIZATION_FIELDS}
        org["time_zone"] = os.environ.get("SLUICE_TIMEZONE") or "UTC"
        org["language_code"] = "en"
        return cls(organization=org, user={name: "" for name in _USER_FIELDS})

    def snapshot(self) -> InputDefaults:
        """These defaults as they stand now, for a batch of runs prepared together."""
        return self

    def organization_for(self, given: Any, *, time_zone: str | None = None) -> dict[str, Any]:
        if given is not None and not isinstance(given, Mapping):
            raise InvalidField("organization", "must be a JSON object")
        org = dict(self.organization)
        if time_zone:
            org["time_zone"] = time_zone
        org.update(given or {})
        return org

    def user_for(self, given: Any, actor: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if given is not None and not isinstance(given, Mapping):
            raise InvalidField("user", "must be a JSON object")
        user = dict(self.user)
        user.update(actor or {})
        user.update(given or {})
        return user


@dataclass(frozen=True)
class ProfileDefaults(InputDefaults):
    """InputDefaults topped with the stored organization profile, read at each run (once
    per claimed batch of scheduled runs) so a profile set through any node applies to the
    next run on every node.

    `profile()` returns the profile's `organization` keys (or None when there is none):
    its admin e-mail, id, name, currency, time zone and formats."""

    profile: Callable[[], Mapping[str, Any] | None] = lambda: None

    def _current(self) -> InputDefaults:
        stored = self.profile() or {}
        return InputDefaults(organization={**self.organization, **stored}, user=self.user)

    def snapshot(self) -> InputDefaults:
        """The profile read once for a batch of runs prepared together (a scheduler's
        claim of many occurrences reads it once, not once per occurrence)."""
        return self._current()

    def organization_for(self, given: Any, *, time_zone: str | None = None) -> dict[str, Any]:
        return self._current().organization_for(given, time_zone=time_zone)


def actor_user(name: str, user_id: str = "") -> dict[str, Any]:
    """The `user` map of whoever triggered a run (an API token, a CLI user, a schedule)."""
    return {"name": name, "user_id": user_id, "zuid": user_id}


def _check_names(inputs: Mapping[str, Any], what: str) -> None:
    for key in inputs:
        if not isinstance(key, str) or not key.isidentifier():
            raise InvalidField(f"{what}.{key}", "input names must be variable names "
                               "(a letter or _, then letters, digits or _)")


def function_inputs(given: Mapping[str, Any], defaults: InputDefaults,
                    actor: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The inputs of a custom function: the caller's, with `organization` and `user`."""
    _check_names(given, "inputs")
    inputs = dict(given)
    inputs["organization"] = defaults.organization_for(given.get("organization"))
    inputs["user"] = defaults.user_for(given.get("user"), actor)
    return inputs


def button_inputs(*, module: str, location: str, declared: Sequence[Mapping[str, Any]],
                  record: Any, records: Any, user_inputs: Mapping[str, Any],
                  organization: Any, user: Any, defaults: InputDefaults,
                  actor: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The inputs of a button click; refuses a record shape that does not fit the button."""
    inputs: dict[str, Any] = {}
    if location == "list":
        if record is not None:
            raise InvalidField("record", f"this is a list bulk-action button: send the "
                               f"selected records as 'records' (a list of {module})")
        if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
            raise InvalidField("records", "must be a list of record objects")
        inputs[module.lower()] = list(records)
    else:
        if records is not None:
            raise InvalidField("records", "this is a details-page button: send one record "
                               "as 'record'")
        if not isinstance(record, Mapping):
            raise InvalidField("record", "must be a record object")
        inputs[record_name(module)] = dict(record)
    declared_names = {str(d["name"]) for d in declared}
    for key in user_inputs:
        if key not in declared_names:
            allowed = ", ".join(sorted(declared_names)) or "none"
            raise InvalidField(f"inputs.{key}", f"not a user input of this button "
                               f"(declared: {allowed})")
    for spec in declared:
        name = str(spec["name"])
        if spec.get("required") and user_inputs.get(name) in (None, ""):
            raise InvalidField(f"inputs.{name}", "this user input is required")
        inputs[name] = user_inputs.get(name)
    inputs["organization"] = defaults.organization_for(organization)
    inputs["user"] = defaults.user_for(user, actor)
    return inputs


def schedule_inputs(stored: Mapping[str, Any], *, time_zone: str, defaults: InputDefaults,
                    actor: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The inputs of a scheduled run: `organization` in the schedule's zone, and `user`."""
    inputs = dict(stored)
    inputs["organization"] = defaults.organization_for(stored.get("organization"),
                                                       time_zone=time_zone)
    inputs["user"] = defaults.user_for(stored.get("user"), actor)
    return inputs


def redact(value: Any) -> Any:
    """A copy of `value` with the values of secret-looking keys replaced by `[redacted]`."""
    if type(value) in _LEAVES:   # neither a Mapping nor a list: nothing to copy
        return value
    if isinstance(value, Mapping):
        return {k: REDACTED if isinstance(k, str) and _secret_key(k)
                and v not in (None, "") else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


# exact types that are never a Mapping or a list (subclasses take the isinstance checks)
_LEAVES = frozenset({str, int, float, bool, type(None), Decimal})
_SECRET_KEYS: dict[str, bool] = {}   # key -> whether it looks secret (run inputs repeat them)
_SECRET_KEYS_KEPT = 4096


def _secret_key(key: str) -> bool:
    """Whether `key` names a secret (`_SECRET_KEY`), remembered for the keys seen most."""
    found = _SECRET_KEYS.get(key)
    if found is None:
        found = _SECRET_KEY.search(key.lower()) is not None
        if len(_SECRET_KEYS) < _SECRET_KEYS_KEPT:
            _SECRET_KEYS[key] = found
    return found
