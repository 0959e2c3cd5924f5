"""API tokens: creating, checking, listing and revoking the bearer tokens of the HTTP API.

A token is `sgt_` + 43 URL-safe characters (256 random bits). Only its SHA-256 digest
is stored, with a short prefix to recognise it in listings; the token itself is shown
once, when it is created. Roles: `admin` (everything) and `runner` (execute functions,
click buttons, read runs).
"""

from __future__ import annotations

__all__ = ["ROLE_RANK", "TokenBook", "TokenInfo", "digest"]

import datetime as _dt
import hashlib
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ..store.tokens import TOKEN_ROLES, ApiToken
from ..triggers.clock import Clock, SystemClock
from ..triggers.errors import InvalidField, NotFound

ROLE_RANK = {"runner": 1, "admin": 2}
_PREFIX = "sgt_"
_TOUCH_EVERY = _dt.timedelta(seconds=60)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A token as listings show it (never the secret)."""

    id: int
    name: str
    role: str
    prefix: str
    created_by: str
    created_at: _dt.datetime
    last_used_at: _dt.datetime | None
    revoked_at: _dt.datetime | None

    def allows(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]

    def to_json(self) -> dict[str, Any]:
        def iso(t: _dt.datetime | None) -> str | None:
            return t.isoformat() if t else None
        return {"id": self.id, "name": self.name, "role": self.role, "prefix": self.prefix,
                "created_by": self.created_by, "created_at": iso(self.created_at),
                "last_used_at": iso(self.last_used_at), "revoked_at": iso(self.revoked_at)}


def _info(t: ApiToken) -> TokenInfo:
    return TokenInfo(t.id, t.name, t.role, t.prefix, t.created_by, t.created_at,
                     t.last_used_at, t.revoked_at)


class TokenBook:
    """Stores API tokens hashed and checks presented ones."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self.sessions = sessions
        self.clock = clock or SystemClock()
        self._touched: dict[int, _dt.datetime] = {}
        self._lock = threading.Lock()

    def create(self, role: str, name: str = "", *, by: str = "") -> tuple[TokenInfo, str]:
        """A new token: its listing and the secret, which is not kept anywhere."""
        if role not in TOKEN_ROLES:
            raise InvalidField("role", f"must be one of {', '.join(TOKEN_ROLES)}")
        if len(name) > 100:
            raise InvalidField("name", "at most 100 characters")
        token = _PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(name=name, role=role, prefix=token[:12], digest=digest(token),
                       created_by=by, created_at=self.clock.now())
        with self.sessions() as s:
            s.add(row)
            s.commit()
            return _info(row), token

    def list(self) -> list[TokenInfo]:
        with self.sessions() as s:
            return [_info(t) for t in s.scalars(select(ApiToken).order_by(ApiToken.id))]

    def revoke(self, key: str) -> TokenInfo:
        """Revoke by id or prefix; a revoked token is refused from the next request on."""
        with self.sessions() as s:
            query = select(ApiToken)
            query = query.where(ApiToken.id == int(key)) if key.isdigit() else \
                query.where(ApiToken.prefix == key[:12])
            rows = s.scalars(query).all()
            if len(rows) != 1:
                raise NotFound(f"No token with id or prefix {key!r}")
            row = rows[0]
            if row.revoked_at is None:
                row.revoked_at = self.clock.now()
            s.commit()
            return _info(row)

    def verify(self, token: str) -> TokenInfo | None:
        """The live token matching `token`, or None (unknown, malformed or revoked)."""
        if not token.startswith(_PREFIX) or len(token) > 100:
            return None
        with self.sessions() as s:
            row = s.scalar(select(ApiToken).where(ApiToken.digest == digest(token)))
            if row is None or row.revoked_at is not None:
                return None
            return _info(row)

    def touch(self, info: TokenInfo) -> None:
        """Note that an accepted token was used (written at most once a minute)."""
        now = self.clock.now()
        with self._lock:
            last = self._touched.get(info.id)
            if last is not None and now - last < _TOUCH_EVERY:
                return
            self._touched[info.id] = now
        with self.sessions() as s:
            s.execute(update(ApiToken).where(ApiToken.id == info.id)
                      .values(last_used_at=now))
            s.commit()
