"""Incoming webhooks: a function exposed at `/hooks/{token}`, the vendor's "execute via
webhook". The token is 256 random bits shown once; the database keeps its SHA-256
digest (as API tokens), so a reader of the database cannot call the hook.

    token = WebhookBook(sessions, catalog).expose("on_payment", by="ops")
    WebhookBook(...).script_for(token)     -> "on_payment" (or None)
"""

from __future__ import annotations

__all__ = ["TOKEN_PREFIX", "WebhookBook", "WebhookInfo"]

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ..store.db import utcnow
from ..store.queue import Webhook
from ..store.scripts import Script
from .errors import InvalidField
from .scripts import ScriptCatalog

TOKEN_PREFIX = "sgh_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class WebhookInfo:
    """A webhook as lists show it (never its token)."""

    id: int
    script: str
    prefix: str
    created_by: str
    created_at: Any
    revoked: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "script": self.script, "prefix": self.prefix,
                "created_by": self.created_by, "created_at": self.created_at.isoformat(),
                "revoked": self.revoked}


class WebhookBook:
    """Exposes functions at secret URLs, finds them by token, revokes them."""

    def __init__(self, sessions: sessionmaker[Session], catalog: ScriptCatalog) -> None:
        self.sessions = sessions
        self.catalog = catalog

    def expose(self, name: str, *, by: str) -> str:
        """A new token for the function `name` (earlier tokens stay valid until revoked)."""
        live = self.catalog.live(name, "function")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.sessions() as s:
            s.add(Webhook(script_id=live.script_id, prefix=token[:12], digest=_digest(token),
                          created_by=by, created_at=utcnow()))
            s.commit()
        return token

    def revoke(self, name: str) -> int:
        """Revoke every token of `name`; returns how many were active."""
        with self.sessions() as s:
            script_id = s.scalar(select(Script.id).where(Script.name == name))
            if script_id is None:
                raise InvalidField("name", f"no script named {name!r}")
            count = s.execute(update(Webhook).where(Webhook.script_id == script_id,
                                                    Webhook.revoked_at.is_(None))
                              .values(revoked_at=utcnow())).rowcount or 0
            s.commit()
        return int(count)

    def script_for(self, token: str) -> str | None:
        """The name of the script an active token exposes, or None."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        with self.sessions() as s:
            return s.scalar(select(Script.name).join(Webhook, Webhook.script_id == Script.id)
                            .where(Webhook.digest == _digest(token),
                                   Webhook.revoked_at.is_(None)))

    def list(self, name: str | None = None) -> list[WebhookInfo]:
        query = (select(Webhook, Script.name).join(Script, Webhook.script_id == Script.id)
                 .order_by(Webhook.id))
        if name:
            query = query.where(Script.name == name)
        with self.sessions() as s:
            return [WebhookInfo(w.id, n, w.prefix, w.created_by, w.created_at,
                                w.revoked_at is not None) for w, n in s.execute(query)]
