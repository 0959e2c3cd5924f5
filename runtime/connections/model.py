"""What the connection registry hands out and raises: its errors, the view of a
connection (never a secret), the grant the broker signs a request with, and the decrypted
entry the registry caches per connection."""

from __future__ import annotations

__all__ = ["AuthorizationFailed", "ConnectionNotFound", "ConnectionView", "Entry", "Grant",
           "RegistryError", "default_actor", "first_base", "no_implicit_connection"]

import getpass
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import httpx

from ..errors import ScriptRuntimeError
from ..http.guard import BaseUrl, first_match
from .signers import Signer


class RegistryError(ValueError):
    """A field of a connection command that cannot be accepted (field, reason)."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


class AuthorizationFailed(RegistryError):
    """The provider refused or could not complete an authorization (not a usage error)."""


def no_implicit_connection(kind: str) -> ScriptRuntimeError:
    service = f"zoho_{kind}"
    return ScriptRuntimeError(
        f"zoho.{kind} tasks called without a connection use the organization's {service} "
        f"connection, and there is none: add one (sluice connections add NAME --auth oauth2 "
        f"--service {service} ...) or name a connection as the task's last argument")


class ConnectionNotFound(ScriptRuntimeError):
    """No connection has this link name."""


def default_actor() -> str:
    """Who is acting, for the audit trail: `SLUICE_ACTOR`, else the OS user."""
    actor = os.environ.get("SLUICE_ACTOR")
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@dataclass(frozen=True)
class ConnectionView:
    """A connection as `list` and `show` present it: no secret, only whether it is set."""

    link_name: str
    display_name: str
    service: str
    auth_type: str
    params: dict[str, Any]
    base_urls: list[str]
    status: str
    last_error: str | None
    token_generation: int
    expires_at: float | None
    has_secret: bool
    has_access_token: bool
    has_refresh_token: bool
    scope: str | None
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str

    def to_json(self) -> dict[str, Any]:
        return {"link_name": self.link_name, "display_name": self.display_name,
                "service": self.service, "auth_type": self.auth_type,
                "params": dict(self.params), "base_urls": list(self.base_urls),
                "status": self.status, "last_error": self.last_error,
                "token_generation": self.token_generation, "expires_at": self.expires_at,
                "secret_set": self.has_secret, "access_token_set": self.has_access_token,
                "refresh_token_set": self.has_refresh_token, "scope": self.scope,
                "created_at": self.created_at, "updated_at": self.updated_at,
                "created_by": self.created_by, "updated_by": self.updated_by}


@dataclass(frozen=True)
class Grant:
    """What the broker needs to send one request for a connection."""

    link_name: str
    generation: int
    signer: Signer
    bases: tuple[BaseUrl, ...]
    secrets: tuple[str, ...]
    refreshable: bool = False
    refresh_on_status: frozenset[int] = frozenset({401})
    refresh_on_body: tuple[str, ...] = ()
    # the header that carries a scheduled run's idempotency key (http.idempotency)
    idempotency_header: str | None = None

    def match(self, url: str | httpx.URL) -> BaseUrl | None:
        if isinstance(url, str):
            return first_base(self.bases, url)
        return first_match(self.bases, url)

    def rejected(self, status: int, body: bytes) -> bool:
        """Whether an answer says the token is no longer good (a refresh may help)."""
        if not self.refreshable:
            return False
        return status in self.refresh_on_status or any(
            marker.encode("utf-8") in body for marker in self.refresh_on_body)


@lru_cache(maxsize=1024)
def first_base(bases: tuple[BaseUrl, ...], url: str) -> BaseUrl | None:
    """`first_match`, remembered: a script calls the same few URLs over and over."""
    return first_match(bases, url)


@dataclass
class Entry:
    """The decrypted state of one connection, as cached by a registry."""

    id: int
    link_name: str
    auth_type: str
    params: dict[str, Any]
    base_urls: list[str]
    status: str
    last_error: str | None
    secrets: dict[str, Any]
    access_token: str | None
    refresh_token: str | None
    expires_at: float | None
    generation: int
    loaded_at: float
    bases: tuple[BaseUrl, ...] = field(default=())
    grant: Grant | None = None  # built on first use; an entry is replaced, never changed
