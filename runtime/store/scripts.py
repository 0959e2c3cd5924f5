"""Stored scripts and their versions (functions, buttons, schedule scripts), and the two
column types every trigger model shares: UTC timestamps and exact JSON text.

A script is a name, a kind and where it applies (module, button location, declared user
inputs); its source lives in numbered, immutable versions. `Script.published_version`
points at the version that runs; a rollback moves that pointer back to an older number.
"""

from __future__ import annotations

__all__ = [
    "BUTTON_LOCATIONS",
    "SCRIPT_KINDS",
    "JsonText",
    "Script",
    "ScriptVersion",
    "UtcDateTime",
]

import datetime as _dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..values import to_json_text
from .db import Base, utcnow

SCRIPT_KINDS = ("function", "button", "schedule")
_EMPTY = {list: "[]", dict: "{}"}   # what to_json_text writes for them
BUTTON_LOCATIONS = ("details", "list")


class UtcDateTime(TypeDecorator[_dt.datetime]):
    """An aware UTC datetime on every database. SQLite keeps no offset, so values are
    stored as naive UTC there (a fixed format, which keeps text comparisons in order)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: _dt.datetime | None,
                           dialect: Dialect) -> _dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UtcDateTime needs an aware datetime")
        value = value.astimezone(_dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: _dt.datetime | None,
                             dialect: Dialect) -> _dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=_dt.UTC)
        return value.astimezone(_dt.UTC)


class JsonText(TypeDecorator[Any]):
    """JSON kept as text, decimals exact (`12.50` stays `12.50`): the database's own JSON
    type would turn amounts into floats."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not value and type(value) in _EMPTY:   # most run records: no error, HTTP, mail
            return _EMPTY[type(value)]
        return to_json_text(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value, parse_float=Decimal)


class Script(Base):
    """A named script of one kind; what it applies to; which version is live."""

    __tablename__ = "scripts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    module: Mapped[str | None] = mapped_column(String(64), default=None)
    location: Mapped[str | None] = mapped_column(String(16), default=None)
    user_inputs: Mapped[list[dict[str, Any]]] = mapped_column(JsonText, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    # lower-case qualified name of the live version's function (`standalone.fn`), so that
    # other scripts can call it through the runtime's resolver
    entry_name: Mapped[str | None] = mapped_column(String(200), index=True, default=None)
    published_version: Mapped[int | None] = mapped_column(Integer, default=None)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    versions: Mapped[list[ScriptVersion]] = relationship(
        back_populates="script", order_by="ScriptVersion.number",
        cascade="all, delete-orphan", passive_deletes=True)


class ScriptVersion(Base):
    """One saved text of a script: immutable once written."""

    __tablename__ = "script_versions"
    __table_args__ = (UniqueConstraint("script_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    script_id: Mapped[int] = mapped_column(ForeignKey("scripts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    # the declared parameters of the entry function: [{"name": ..., "type": ...}]
    params: Mapped[list[dict[str, str]]] = mapped_column(JsonText, default=list)
    entry_name: Mapped[str | None] = mapped_column(String(200), default=None)
    author: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    published_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    published_by: Mapped[str | None] = mapped_column(String(200), default=None)

    script: Mapped[Script] = relationship(back_populates="versions")
