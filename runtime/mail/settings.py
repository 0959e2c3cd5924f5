"""The SMTP server mail is delivered through: `SLUICE_SMTP_URL` and `SLUICE_SMTP_PASSWORD`.

    SLUICE_SMTP_URL=smtp://USER@HOST:PORT     port 587 by default; STARTTLS when the
                                              server offers it (`?starttls=require` refuses
                                              a server without it, `?starttls=off` never
                                              upgrades: a local relay)
    SLUICE_SMTP_URL=smtps://USER@HOST:PORT    TLS from the first byte, port 465 by default
    SLUICE_SMTP_PASSWORD=...                  the password (never in the URL or on argv)

Certificates are verified against the system's trust store. Unset, mail is recorded with
its run and not delivered ("not delivered: no SMTP configured").
"""

from __future__ import annotations

__all__ = ["SmtpSettings", "SmtpUrlError", "smtp_settings"]

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

_STARTTLS = ("auto", "require", "off")


class SmtpUrlError(ValueError):
    """SLUICE_SMTP_URL cannot be used; the message says why (never the password)."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP server."""

    host: str
    port: int
    tls: bool = False                 # smtps: TLS from the start
    starttls: str = "auto"            # smtp: auto (when offered), require, off
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0

    def describe(self) -> str:
        """The server as logs and /healthz may show it: no password."""
        scheme = "smtps" if self.tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def smtp_settings(environ: Mapping[str, str] | None = None) -> SmtpSettings | None:
    """The settings of SLUICE_SMTP_URL (None when unset); SmtpUrlError when unusable."""
    env = os.environ if environ is None else environ
    url = (env.get("SLUICE_SMTP_URL") or "").strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SmtpUrlError("SLUICE_SMTP_URL: not a URL; use smtp://USER@HOST:PORT or "
                           "smtps://USER@HOST:PORT") from None
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise SmtpUrlError(f"SLUICE_SMTP_URL: the scheme {scheme or '(none)'}:// is not "
                           "supported; use smtp:// (STARTTLS) or smtps:// (TLS)")
    if not parts.hostname:
        raise SmtpUrlError("SLUICE_SMTP_URL: no host; use smtp://USER@HOST:PORT")
    if parts.password is not None:
        raise SmtpUrlError("SLUICE_SMTP_URL: holds a password; remove it from the URL "
                           "and put it in SLUICE_SMTP_PASSWORD")
    options = parse_qs(parts.query)
    unknown = set(options) - {"starttls", "timeout"}
    if unknown:
        raise SmtpUrlError(f"SLUICE_SMTP_URL: unknown option {sorted(unknown)[0]!r} "
                           "(options: starttls=auto|require|off, timeout=SECONDS)")
    starttls = options.get("starttls", ["auto"])[-1].lower()
    if starttls not in _STARTTLS:
        raise SmtpUrlError("SLUICE_SMTP_URL: starttls must be auto, require or off")
    if scheme == "smtps" and "starttls" in options:
        raise SmtpUrlError("SLUICE_SMTP_URL: smtps:// is TLS already; starttls applies to "
                           "smtp:// only")
    try:
        timeout = float(options.get("timeout", ["30"])[-1])
    except ValueError:
        timeout = -1.0
    if not 0 < timeout <= 600:
        raise SmtpUrlError("SLUICE_SMTP_URL: timeout must be seconds between 0 and 600")
    return SmtpSettings(host=parts.hostname, port=port or (465 if scheme == "smtps" else 587),
                        tls=scheme == "smtps", starttls=starttls,
                        username=unquote(parts.username or ""),
                        password=env.get("SLUICE_SMTP_PASSWORD") or "", timeout=timeout)
