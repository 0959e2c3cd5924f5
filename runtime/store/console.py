"""Console sign-in sessions: a browser's session stands for one API token.

Only a digest of the session id is stored (the cookie holds the id), with the token it
stands for and the CSRF token its forms must carry. Revoking the API token ends its
sessions (the row goes with it), and every request re-checks that the token is live."""

from __future__ import annotations

__all__ = ["ConsoleSession"]

import datetime as _dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, utcnow
from .scripts import UtcDateTime


class ConsoleSession(Base):
    """One signed-in browser."""

    __tablename__ = "console_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"),
                                          index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime)
