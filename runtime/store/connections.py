"""The tables of the connection registry: connections, their credentials, pending
authorizations and the audit trail of changes.

Secret columns hold ciphertext from `sluicegate.connections.keyring` (never plaintext);
everything else is safe to show. The credential row is the unit of locking for a token
refresh (`SELECT ... FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), and its
`generation` counts the tokens issued so far, so a waiter can tell that someone else
refreshed while it waited.
"""

from __future__ import annotations

__all__ = ["Connection", "ConnectionCredential", "PendingAuthorization", "ConnectionAudit",
           "MasterKeyRecord", "CONNECTION_STATUSES", "AUTH_TYPES"]

import datetime as _dt
from typing import Any

from sqlalchemy import (
    JSON, DateTime, Float, ForeignKey, Integer, String, Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, utcnow

CONNECTION_STATUSES = ("connected", "needs_authorization", "revoked", "error")
AUTH_TYPES = ("oauth2", "oauth1", "api_key", "basic")


class Connection(Base):
    """A named connection: what service, how it authenticates, where it may be used."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_name: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(100))
    auth_type: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    base_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(30), default="needs_authorization")
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[_dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    updated_by: Mapped[str] = mapped_column(String(200), default="")

    credential: Mapped[ConnectionCredential] = relationship(
        back_populates="connection", uselist=False, cascade="all, delete-orphan",
        passive_deletes=True)


class ConnectionCredential(Base):
    """The encrypted secrets and tokens of one connection. A token refresh is claimed by a
    lease on this row (`refresh_holder` until `refresh_until`, epoch seconds), so the
    provider is asked once across nodes while no transaction stays open; a refresh that
    failed for a passing reason leaves `refresh_failed_at` for the others that waited."""

    __tablename__ = "connection_credentials"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True)
    secrets: Mapped[str | None] = mapped_column(Text, nullable=True)
    access_token: Mapped[str | None] = mapped_column(Text, nullable=True)
    refresh_token: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    scope: Mapped[str | None] = mapped_column(Text, nullable=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[_dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    refresh_holder: Mapped[str | None] = mapped_column(String(120), nullable=True)
    refresh_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    refresh_failed_at: Mapped[float | None] = mapped_column(Float, nullable=True)

    connection: Mapped[Connection] = relationship(back_populates="credential")


class PendingAuthorization(Base):
    """An authorization-code flow waiting for its callback, found by the hash of `state`."""

    __tablename__ = "connection_authorizations"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    code_verifier: Mapped[str] = mapped_column(Text)
    redirect_uri: Mapped[str] = mapped_column(Text)
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[float] = mapped_column(Float)


class ConnectionAudit(Base):
    """Who changed or authorized which connection, when, and which fields (never values
    of secrets). Kept after the connection is deleted."""

    __tablename__ = "connection_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[_dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    link_name: Mapped[str] = mapped_column(String(50), index=True)
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MasterKeyRecord(Base):
    """The fingerprint (key id) of the master key this database's secrets are sealed with:
    one row. Every node compares its key ring with it before it reads or writes a secret,
    so a node started with another key refuses to start instead of failing later."""

    __tablename__ = "master_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[_dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
