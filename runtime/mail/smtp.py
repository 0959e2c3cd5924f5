"""Sending one message through the configured SMTP server (`SmtpTransport`).

Failures are sorted for the outbox: `PermanentFailure` (a 5xx answer: the server
refused the sender, every recipient or the message) is not retried; anything else (a
4xx answer, a refused or dropped connection, a timeout, a TLS failure) is a
`TemporaryFailure`, retried with backoff. Messages say what happened and never carry
the password.
"""

from __future__ import annotations

__all__ = ["PartialDelivery", "PermanentFailure", "SmtpTransport", "TemporaryFailure"]

import smtplib
import ssl
from email.message import EmailMessage

from .settings import SmtpSettings


class TemporaryFailure(Exception):
    """Delivery failed this time; a later attempt may succeed."""


class PermanentFailure(Exception):
    """The server refused the message; sending it again would be refused again."""


class PartialDelivery(PermanentFailure):
    """The server took the message for some recipients and refused the others."""


def _answer(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(str(text).split())}"[:300]


class SmtpTransport:
    """One SMTP session per call; STARTTLS as the settings say."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage, sender: str, recipients: list[str]) -> None:
        s = self.settings
        context = ssl.create_default_context()
        try:
            client: smtplib.SMTP
            if s.tls:
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with client:
                client.ehlo()
                if not s.tls and s.starttls != "off":
                    if client.has_extn("starttls"):
                        client.starttls(context=context)
                        client.ehlo()
                    elif s.starttls == "require":
                        raise PermanentFailure(f"{s.host} does not offer STARTTLS and the "
                                               "URL says starttls=require")
                if s.username:
                    client.login(s.username, s.password)
                refused = client.send_message(message, from_addr=sender, to_addrs=recipients)
        except smtplib.SMTPAuthenticationError as exc:
            answer = _answer(exc.smtp_code, exc.smtp_error)
            raise PermanentFailure(f"authentication refused: {answer}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            first = next(iter(exc.recipients.values()), (550, b"refused"))
            failure = PermanentFailure if first[0] >= 500 else TemporaryFailure
            raise failure(f"every recipient refused: {_answer(*first)}") from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            failure = PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure
            raise failure(f"refused: {_answer(exc.smtp_code, exc.smtp_error)}") from None
        except smtplib.SMTPResponseException as exc:
            failure = PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure
            raise failure(f"refused: {_answer(exc.smtp_code, exc.smtp_error)}") from None
        except ssl.SSLError as exc:
            raise TemporaryFailure(f"TLS with {s.host}:{s.port} failed: {exc.reason}") from None
        except (OSError, smtplib.SMTPException) as exc:
            what = type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"
            raise TemporaryFailure(f"cannot reach {s.host}:{s.port} ({what})") from None
        if refused:
            # accepted for some recipients: those are delivered; the rest is reported
            names = ", ".join(f"{k} ({_answer(*v)})" for k, v in refused.items())
            raise PartialDelivery(f"not accepted for {names}")
