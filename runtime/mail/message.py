"""A recorded `sendmail` message as an RFC 5322 message (`email.message.EmailMessage`).

The script's message dict (from, to, cc, bcc, reply_to, subject, message, content_type,
attachments) becomes headers and a text or HTML body; `files` (the attachments' bytes,
base64, kept only in the outbox) become MIME parts. Bcc is only in the envelope.
Addresses are parsed strictly: an address the mail server would have to guess at is a
permanent failure naming the field, not a message sent to someone else.
"""

from __future__ import annotations

__all__ = ["BadMessage", "build_message", "envelope"]

import base64
import datetime as _dt
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

# one mailbox: printable local part, a dotted domain; what any relay accepts as is
_ADDR = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*"
                   r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$")


class BadMessage(ValueError):
    """The message cannot be sent as recorded (a bad address); retrying cannot help."""


def _addresses(field: str, values: Any) -> list[str]:
    items = values if isinstance(values, list) else ([values] if values else [])
    out: list[str] = []
    for item in items:
        text = str(item)
        if "\r" in text or "\n" in text:
            raise BadMessage(f"{field}: a line break in an address")
        for part in text.split(","):
            if not part.strip():
                continue
            name, addr = parseaddr(part.strip())
            if not _ADDR.match(addr):
                raise BadMessage(f"{field}: {part.strip()!r} is not an e-mail address")
            try:
                out.append(str(Address(display_name=name, addr_spec=addr)))
            except (ValueError, IndexError):
                raise BadMessage(f"{field}: {part.strip()!r} is not an e-mail address") \
                    from None
    return out


def _bare(address: str) -> str:
    return parseaddr(address)[1]


def envelope(message: dict[str, Any]) -> tuple[str, list[str]]:
    """The SMTP envelope: the sender's bare address and every recipient's (to, cc, bcc)."""
    sender = _addresses("from", message.get("from"))
    if len(sender) != 1:
        raise BadMessage("from: needs exactly one address")
    recipients = [_bare(a) for key in ("to", "cc", "bcc")
                  for a in _addresses(key, message.get(key))]
    if not recipients:
        raise BadMessage("to: no recipient")
    return _bare(sender[0]), list(dict.fromkeys(recipients))


def build_message(message: dict[str, Any], *, domain: str | None = None,
                  now: _dt.datetime | None = None) -> EmailMessage:
    """The message to send (BadMessage when it cannot be built as recorded)."""
    out = EmailMessage()
    try:
        out["From"] = _addresses("from", message.get("from"))[0]
        out["To"] = ", ".join(_addresses("to", message.get("to")))
        cc = _addresses("cc", message.get("cc"))
        if cc:
            out["Cc"] = ", ".join(cc)
        reply_to = _addresses("reply_to", message.get("reply_to"))
        if reply_to:
            out["Reply-To"] = ", ".join(reply_to)
        out["Subject"] = str(message.get("subject") or "")
    except (ValueError, IndexError) as exc:
        if isinstance(exc, BadMessage):
            raise
        raise BadMessage(f"a header cannot be written: {exc}") from None
    out["Date"] = format_datetime(now or _dt.datetime.now(_dt.timezone.utc))
    out["Message-ID"] = make_msgid(domain=domain)
    body = str(message.get("message") or "")
    kind = str(message.get("content_type") or "text/html").lower()
    if "html" in kind:
        out.set_content(_plain_alternative(body))
        out.add_alternative(body, subtype="html")
    else:
        out.set_content(body)
    for item in message.get("files") or []:
        maintype, _, subtype = str(item.get("content_type") or
                                   "application/octet-stream").partition("/")
        try:
            data = base64.b64decode(str(item.get("base64") or ""), validate=True)
        except ValueError:
            raise BadMessage(f"attachment {item.get('name')!r} is not readable") from None
        out.add_attachment(data,
                           maintype=maintype or "application",
                           subtype=subtype or "octet-stream",
                           filename=str(item.get("name") or "attachment"))
    return out


def _plain_alternative(html: str) -> str:
    """A text rendering of an HTML body for mail readers without HTML."""
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag in ("br", "p", "div", "tr", "li"):
                self.parts.append("\n")

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip() + "\n"
