"""API tokens: bearer credentials of the HTTP API, stored only as a SHA-256 digest.

A token is 256 random bits, so a fast digest is enough to make the stored value useless
to a reader of the database (no dictionary to try); lookups go by the digest.
"""

from __future__ import annotations

__all__ = ["TOKEN_ROLES", "ApiToken"]

import datetime as _dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, utcnow
from .scripts import UtcDateTime

TOKEN_ROLES = ("admin", "runner")


class ApiToken(Base):
    """One API token: its role, a display prefix and the digest of the secret."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    revoked_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)
