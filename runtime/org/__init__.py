"""The organization profile: who administers this installation and what scripts see of it.

    profile     `OrganizationProfile` (validated fields, the `organization` map it gives
                scripts) and `ProfileBook` (read and set the one stored profile)
    cli         `sluice org set|show`

Every trigger (functions, buttons, schedules, replays, `sluice scripts run`) takes the
`organization` map's defaults, `zoho.adminuser`, `zoho.adminuserid`, `zoho.loginuser`,
`zoho.loginuserid` and the default time zone from the profile; inputs still override.
`sluice run FILE` has no database and does not read it (pass `organization` as an input).
"""

from __future__ import annotations

__all__ = ["OrganizationProfile", "ProfileBook", "PROFILE_FIELDS"]

from ..lazy import lazy_names

# The profile's names, imported on first use: every `sluice` command builds the parser
# of `sluice org` (cli), and the profile module needs SQLAlchemy's ORM.
__getattr__ = lazy_names(globals(), dict.fromkeys(__all__, "profile"))
