"""Signed-in browsers: a console session stands for one live API token.

The cookie holds a random session id; the database keeps only its SHA-256 digest, the
token it stands for, the CSRF token every form of the session must carry, and when it
expires. Each request re-checks that the token is still live, so revoking a token signs
its browsers out at once, on every node."""

from __future__ import annotations

__all__ = ["COOKIE", "SessionBook", "Viewer"]

import datetime as _dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ..service.tokens import TokenInfo
from ..store.console import ConsoleSession
from ..store.tokens import ApiToken
from ..triggers.clock import Clock, SystemClock

COOKIE = "sluice_session"
_LIFETIME = _dt.timedelta(hours=12)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the token behind the session and the session's CSRF token."""

    token: TokenInfo
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.token.allows("admin")

    @property
    def name(self) -> str:
        return self.token.name or self.token.prefix


class SessionBook:
    """Opens, finds and closes console sessions."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None,
                 lifetime: _dt.timedelta = _LIFETIME) -> None:
        self.sessions = sessions
        self.clock = clock or SystemClock()
        self.lifetime = lifetime

    def open(self, token: TokenInfo) -> str:
        """A new session for `token`; returns the id for the cookie (not kept)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.sessions() as s:
            s.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
            s.add(ConsoleSession(digest=_digest(session_id), token_id=token.id,
                                 csrf=secrets.token_urlsafe(32), created_at=now,
                                 expires_at=now + self.lifetime))
            s.commit()
        return session_id

    def find(self, session_id: str | None) -> Viewer | None:
        """The viewer of a live session whose token is live, else None."""
        if not session_id or len(session_id) > 100:
            return None
        now = self.clock.now()
        with self.sessions() as s:
            row = s.execute(select(ConsoleSession, ApiToken)
                            .join(ApiToken, ApiToken.id == ConsoleSession.token_id)
                            .where(ConsoleSession.digest == _digest(session_id))).first()
            if row is None:
                return None
            session, token = row
            if session.expires_at < now or token.revoked_at is not None:
                return None
            info = TokenInfo(token.id, token.name, token.role, token.prefix,
                             token.created_by, token.created_at, token.last_used_at,
                             token.revoked_at)
            return Viewer(info, session.csrf)

    def close(self, session_id: str | None) -> None:
        if not session_id:
            return
        with self.sessions() as s:
            s.execute(delete(ConsoleSession).where(
                ConsoleSession.digest == _digest(session_id)))
            s.commit()
