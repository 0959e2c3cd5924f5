"""The organization profile row: who administers this installation and how it presents
itself to scripts (admin e-mail, organization id and name, currency, time zone, date
format, the Creator owner and application). One row, id 1."""

from __future__ import annotations

__all__ = ["Organization"]

import datetime as _dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, utcnow
from .scripts import UtcDateTime


class Organization(Base):
    """The one organization profile of this database."""

    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin_email: Mapped[str] = mapped_column(String(254))
    org_id: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    currency: Mapped[str] = mapped_column(String(3), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="")
    date_format: Mapped[str] = mapped_column(String(64), default="")
    creator_owner: Mapped[str] = mapped_column(String(100), default="")
    creator_application: Mapped[str] = mapped_column(String(100), default="")
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
