"""Mail delivery: what `sendmail` recorded is sent after the run through an SMTP server.

    settings    SLUICE_SMTP_URL / SLUICE_SMTP_PASSWORD -> `SmtpSettings`
    message     a recorded message as an RFC 5322 message (text or HTML, attachments)
    smtp        `SmtpTransport`: one SMTP session per message, STARTTLS, failures sorted
                into temporary (retried) and permanent
    outbox      the outbox rows saved with each run, claims across nodes, the delivery
                loop (`MailCourier`) and each message's delivery state

A run never waits for a mail server: its messages are rows saved with the run, and a
node's courier delivers them afterwards with retries and backoff.
"""

from __future__ import annotations

__all__ = ["NO_SMTP", "MailCourier", "Outbox", "SmtpSettings", "SmtpTransport",
           "SmtpUrlError", "outbox_rows", "public_mail", "smtp_settings"]

from .outbox import NO_SMTP, MailCourier, Outbox, outbox_rows, public_mail
from .settings import SmtpSettings, SmtpUrlError, smtp_settings
from .smtp import SmtpTransport
