"""`sluice org set|show`: the organization profile on the command line.

    sluice org set --admin-email admin@acme.test --org-id 6000 --name Acme \
                   --currency EUR --timezone Europe/Berlin --date-format dd-MM-yyyy \
                   --creator-owner acme --creator-app crm
    sluice org show [--json]

Only argparse is imported at registration: `sluice run` builds this parser too.
"""

from __future__ import annotations

__all__ = ["register"]

import argparse
import sys
from typing import Any

# option -> profile field, in the order `show` prints them
_OPTIONS = (("admin-email", "admin_email", "E", "the admin's e-mail: zoho.adminuser(id), "
             "and zoho.loginuser(id) when the caller gives no user e-mail"),
            ("org-id", "org_id", "ID", "organization.organization_id"),
            ("name", "name", "NAME", "organization.name"),
            ("currency", "currency", "CODE", "organization.currency_code (ISO 4217)"),
            ("timezone", "timezone", "TZ", "organization.time_zone and the runs' default "
             "time zone (IANA name)"),
            ("date-format", "date_format", "FORMAT", "organization.date_format, the "
             "format dates display in (e.g. dd-MMM-yyyy)"),
            ("creator-owner", "creator_owner", "OWNER", "organization.creator_owner: the "
             "Creator account Creator form statements use"),
            ("creator-app", "creator_application", "APP", "organization.creator_application:"
             " the Creator application Creator form statements use"))


def cmd_org_set(args: argparse.Namespace) -> int:
    from ..service.cli import _open, _print_json, _who
    from .profile import ProfileBook

    changes = {field: getattr(args, field) for _, field, _, _ in _OPTIONS
               if getattr(args, field) is not None}
    if not changes:
        from ..cli import UsageError
        raise UsageError("nothing to set: give at least one option, e.g. --admin-email")
    profile = ProfileBook(_open().sessions).set(changes, by=_who())
    if args.json:
        _print_json(profile.to_json())
    else:
        sys.stdout.write("organization profile saved\n")
        _show(profile)
    return 0


def cmd_org_show(args: argparse.Namespace) -> int:
    from ..service.cli import _open, _print_json
    from .profile import ProfileBook

    profile = ProfileBook(_open().sessions).require()
    if args.json:
        _print_json(profile.to_json())
    else:
        _show(profile)
    return 0


def _show(profile: Any) -> None:
    values = profile.to_json()
    for option, field, _, _ in _OPTIONS:
        sys.stdout.write(f"{option + ':':<15}{values[field] or '-'}\n")


def register(sub: Any) -> None:
    """Add `sluice org` to `sluice`'s sub-parsers."""
    from ..service.cli import _guarded

    org = sub.add_parser("org", help="the organization profile scripts see (admin e-mail, "
                         "organization map, default time zone)")
    osub = org.add_subparsers(dest="action", metavar="ACTION")
    osub.required = True
    p = osub.add_parser("set", help="set profile fields (the first set needs --admin-email); "
                        "fields not given keep their value")
    for option, field, metavar, text in _OPTIONS:
        p.add_argument(f"--{option}", dest=field, metavar=metavar, help=text)
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    p.set_defaults(func=_guarded(cmd_org_set))
    p = osub.add_parser("show", help="the stored profile")
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    p.set_defaults(func=_guarded(cmd_org_show))
