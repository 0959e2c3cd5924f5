"""The organization profile (`OrganizationProfile`) and its store (`ProfileBook`).

Fields are checked before anything is written: the admin e-mail is an address (scripts
send mail `from: zoho.adminuserid`), the time zone is an IANA name, the currency an ISO
4217 code, the date format one `toString` understands. Setting merges: fields not given
keep their stored value, and the first `set` must name the admin e-mail.
"""

from __future__ import annotations

__all__ = ["PROFILE_FIELDS", "OrganizationProfile", "ProfileBook"]

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session, sessionmaker

from ..store.db import utcnow
from ..store.organization import Organization
from ..triggers.errors import InvalidField, NotFound

# field -> the key of the `organization` map scripts read
PROFILE_FIELDS = {
    "admin_email": "admin_email",
    "org_id": "organization_id",
    "name": "name",
    "currency": "currency_code",
    "timezone": "time_zone",
    "date_format": "date_format",
    "creator_owner": "creator_owner",
    "creator_application": "creator_application",
}
_LIMITS = {"admin_email": 254, "org_id": 64, "name": 200, "currency": 3, "timezone": 64,
           "date_format": 64, "creator_owner": 100, "creator_application": 100}
# one address, no display name: it is the envelope sender of delivered mail
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*"
                    r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


@dataclass(frozen=True)
class OrganizationProfile:
    """The stored profile; empty strings are fields never set."""

    admin_email: str
    org_id: str = ""
    name: str = ""
    currency: str = ""
    timezone: str = ""
    date_format: str = ""
    creator_owner: str = ""
    creator_application: str = ""

    def organization_map(self) -> dict[str, str]:
        """The keys this profile gives the `organization` input (only fields set)."""
        values = asdict(self)
        return {key: values[name] for name, key in PROFILE_FIELDS.items() if values[name]}

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def check_field(name: str, value: Any) -> str:
    """`value` as the stored text of profile field `name`; InvalidField naming it if not."""
    if name not in PROFILE_FIELDS:
        raise InvalidField(name, "not a field of the organization profile (fields: "
                           + ", ".join(PROFILE_FIELDS) + ")")
    if not isinstance(value, str):
        raise InvalidField(name, "must be text")
    text = value.strip()
    if len(text) > _LIMITS[name] and name != "currency":
        raise InvalidField(name, f"at most {_LIMITS[name]} characters")
    if name == "admin_email" and not _EMAIL.match(text):
        raise InvalidField(name, f"{text!r} is not an e-mail address (name@example.com)")
    if name == "timezone" and text:
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidField(name, f"{text!r} is not an IANA time zone "
                               "(e.g. Europe/Berlin)") from None
    if name == "currency" and text:
        if not re.fullmatch(r"[A-Za-z]{3}", text):
            raise InvalidField(name, f"{text!r} is not an ISO 4217 code (e.g. EUR)")
        text = text.upper()
    if name == "date_format" and text and not re.search(r"[dMy]", text):
        raise InvalidField(name, f"{text!r} has no day, month or year pattern "
                           "(e.g. dd-MMM-yyyy)")
    return text


class ProfileBook:
    """Reads and sets the one organization profile of a database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def get(self) -> OrganizationProfile | None:
        with self.sessions() as session:
            row = session.get(Organization, 1)
            return None if row is None else _profile(row)

    def require(self) -> OrganizationProfile:
        profile = self.get()
        if profile is None:
            raise NotFound("No organization profile yet: set one with "
                           "`sluice org set --admin-email ADDRESS`")
        return profile

    def set(self, changes: Mapping[str, Any], *, by: str) -> OrganizationProfile:
        """Merge `changes` into the profile (creating it: then `admin_email` is needed)."""
        checked = {name: check_field(name, value) for name, value in changes.items()
                   if value is not None}
        if "admin_email" in changes and not checked.get("admin_email"):
            raise InvalidField("admin_email", "cannot be empty")
        with self.sessions.begin() as session:
            row = session.get(Organization, 1, with_for_update=True)
            if row is None:
                if not checked.get("admin_email"):
                    raise InvalidField("admin_email", "the first profile needs the admin "
                                       "e-mail (--admin-email)")
                row = Organization(id=1, **{n: "" for n in PROFILE_FIELDS})
                session.add(row)
            for name, value in checked.items():
                setattr(row, name, value)
            row.updated_by = by
            row.updated_at = utcnow()
            session.flush()
            return _profile(row)


def _profile(row: Organization) -> OrganizationProfile:
    return OrganizationProfile(**{name: getattr(row, name) or "" for name in PROFILE_FIELDS})
