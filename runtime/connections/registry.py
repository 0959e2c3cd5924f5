"""The connection registry: connections and their encrypted credentials in the database,
the OAuth flows that fill them, and the grants the broker signs requests with.

    registry = Registry(engine, Keyring.load())
    registry.add("zbooks", "oauth2", service="zoho_books", client_id=..., secret=...)
    start = registry.begin_authorization("zbooks", redirect_uri)   # send the user to start.url
    registry.complete_authorization(state, code)                   # from the callback
    grant = registry.grant("zbooks")          # signer + allowed base URLs, token refreshed

Token refresh happens once per connection at a time, across threads (a lock per
connection), processes and nodes (a lease on the credential row), and no transaction is
open while the provider is asked (`refresh`; the authorization flows likewise, in
`authorization`). Whoever waited uses the tokens the winner stored when the generation
moved on. A rotated refresh token is written in the same transaction as the new access
token. `invalid_grant` turns the connection to `needs_authorization`, and every later use
fails at once with "Connection 'x' needs to be re-authorized" instead of asking the
provider again. A refresh forced by a rejection (a 401, or a marker in the body) happens
at most once per `min_refresh_interval` seconds per connection (30 by default), since a
script can make an API refuse at will.

Decrypted credentials are cached per registry for `cache_ttl` seconds (changes made
through the same registry apply at once), so signing a request costs no database read.
Every change and authorization is written to the audit table: who, when, which fields
(secret fields only as "set" or "changed"), never a secret value.
"""

from __future__ import annotations

# The errors, views and grants live in `model`, the checking of settings in `settings`;
# they are re-exported here, where callers have always found them.
__all__ = ["Registry", "RegistryError", "AuthorizationFailed", "ConnectionNotFound",
           "ConnectionView", "Grant", "LINK_NAME", "default_actor", "no_implicit_connection"]

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from ..errors import ScriptRuntimeError
from ..http.broker import deadline_transport
from ..http.guard import BaseUrl
from ..store.connections import (
    AUTH_TYPES, Connection, ConnectionAudit, ConnectionCredential, PendingAuthorization,
)
from ..store.db import session_factory, utcnow
from .catalogue import Catalogue, UnknownService
from .model import (
    AuthorizationFailed, ConnectionNotFound, ConnectionView, Entry, Grant, RegistryError,
    default_actor, no_implicit_connection,
)
from .authorization import Authorizations
from .keycheck import record_key, verify_key
from .keyring import Keyring
from .oauth import OAuth2Flow, OAuth2Settings, TokenEndpointError, TokenSet
from .refresh import TokenRefresh
from .settings import parse_secret, secret_values, validate_bases, validate_params
from .signers import (
    ApiKeySigner, BasicSigner, OAuth1Signer, OAuth2Signer, Signer,
)

log = logging.getLogger("sluicegate.connections")

LINK_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}\Z")


class Registry(Authorizations, TokenRefresh):
    """Connections, their credentials and flows, in one database (thread-safe)."""

    def __init__(self, engine: Engine, keyring: Keyring, *,
                 catalogue: Catalogue | None = None, http: httpx.Client | None = None,
                 clock: Callable[[], float] = time.time, leeway: float = 60.0,
                 cache_ttl: float = 5.0, token_timeout: float = 10.0,
                 actor: str | None = None, owns_engine: bool = False,
                 min_refresh_interval: float = 30.0) -> None:
        try:
            verify_key(engine, keyring)   # a ring that cannot open the database's secrets
        except Exception:
            if owns_engine:
                engine.dispose()
            raise
        self._engine = engine
        self._owns_engine = owns_engine
        self._sessions = session_factory(engine)
        self._keyring = keyring
        self.catalogue = catalogue or Catalogue.builtin()
        self._own_http = http is None
        self._http = http or httpx.Client(transport=deadline_transport(),
                                          timeout=token_timeout, follow_redirects=False,
                                          trust_env=False)
        self._clock = clock
        self.leeway = leeway
        self.min_refresh_interval = min_refresh_interval
        self._ttl = cache_ttl
        self._implicit: dict[str, tuple[float, str]] = {}  # kind -> (loaded at, link)
        self._token_timeout = token_timeout
        self.actor = actor
        self._cache: dict[str, Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        # link -> (monotonic time, message) of the last refresh that failed for a
        # passing reason: runs that were already waiting for it fail with the same
        # message instead of asking a struggling provider again, one after another.
        self._failed: dict[str, tuple[float, str]] = {}
        self.refresh_count = 0

    def close(self) -> None:
        """Close the token client (and the engine, when the registry opened it)."""
        if self._own_http:
            self._http.close()
        if self._owns_engine:
            self._engine.dispose()

    # ---- administration ----------------------------------------------------------------
    def add(self, link_name: str, auth_type: str, *, secret: str, service: str | None = None,
            display_name: str | None = None, base_urls: list[str] | None = None,
            client_id: str | None = None, authorize_url: str | None = None,
            token_url: str | None = None, refresh_url: str | None = None,
            revoke_url: str | None = None, scopes: list[str] | None = None,
            scope_delimiter: str | None = None, grant: str | None = None,
            param_type: str | None = None, param_name: str | None = None,
            header_format: str | None = None, username: str | None = None,
            authorize_params: dict[str, str] | None = None, token_auth: str | None = None,
            refresh_on_status: list[int] | None = None,
            refresh_on_body: list[str] | None = None, refresh_leeway: float | None = None,
            idempotency_header: str | None = None,
            actor: str | None = None) -> ConnectionView:
        """Create a connection; OAuth 2 ones start as `needs_authorization`."""
        if not LINK_NAME.match(link_name or ""):
            raise RegistryError("link", "must start with a lowercase letter, then lowercase "
                                "letters, digits or _, at most 50 characters")
        if auth_type not in AUTH_TYPES:
            raise RegistryError("auth", f"must be one of {', '.join(AUTH_TYPES)}")
        params: dict[str, Any] = {}
        service_name = "custom"
        service_urls: list[str] = []
        shown = link_name
        if service and service.strip().lower() != "custom":
            try:
                defaults = self.catalogue.resolve(service)
            except UnknownService as exc:
                raise RegistryError("service", str(exc)) from None
            if defaults.auth_type != auth_type:
                raise RegistryError("auth", f"service '{defaults.name}' uses "
                                    f"{defaults.auth_type}, not {auth_type}")
            params.update(json.loads(json.dumps(defaults.params)))
            service_name, service_urls, shown = (defaults.name, list(defaults.base_urls),
                                                 defaults.display_name)
        given = {"client_id": client_id, "authorize_url": authorize_url,
                 "token_url": token_url, "refresh_url": refresh_url,
                 "revoke_url": revoke_url, "scopes": scopes,
                 "scope_delimiter": scope_delimiter, "grant": grant,
                 "param_type": param_type, "param_name": param_name,
                 "header_format": header_format, "username": username,
                 "authorize_params": authorize_params, "token_auth": token_auth,
                 "refresh_on_status": refresh_on_status, "refresh_on_body": refresh_on_body,
                 "refresh_leeway": refresh_leeway, "idempotency_header": idempotency_header}
        params.update({k: v for k, v in given.items() if v is not None})
        params = validate_params(auth_type, params)
        urls = validate_bases(base_urls or service_urls)
        if secret is None or (secret == "" and auth_type != "basic"):
            raise RegistryError("secret", "is required (--secret-stdin or --secret-env)")
        secrets = parse_secret(auth_type, secret, params)
        status = "needs_authorization" if auth_type == "oauth2" else "connected"
        who = actor or self.actor or default_actor()
        with self._sessions() as s:
            if s.execute(select(Connection.id).where(Connection.link_name == link_name)
                         ).first() is not None:
                raise RegistryError("link", f"a connection named '{link_name}' already exists")
            conn = Connection(link_name=link_name, display_name=display_name or shown,
                              service=service_name, auth_type=auth_type, params=params,
                              base_urls=urls, status=status, created_by=who, updated_by=who)
            s.add(conn)
            s.flush()
            conn.credential = ConnectionCredential(
                secrets=self._seal(json.dumps(secrets), conn.id, "secrets"), generation=0)
            self._audit(s, link_name, "add", who, {
                "service": service_name, "auth_type": auth_type, "params": params,
                "base_urls": urls, "status": status, "secret": "set"})
            s.commit()
            view = self._view(conn, conn.credential)
        self._forget(link_name)
        return view

    # Settings `update` may change; `service` and `auth` are fixed (delete and add again).
    UPDATABLE = ("client_id", "authorize_url", "token_url", "refresh_url", "revoke_url",
                 "scopes", "scope_delimiter", "grant", "param_type", "param_name",
                 "header_format", "username", "authorize_params", "token_auth",
                 "refresh_on_status", "refresh_on_body", "refresh_leeway",
                 "idempotency_header")

    def update(self, link_name: str, *, secret: str | None = None,
               display_name: str | None = None, base_urls: list[str] | None = None,
               actor: str | None = None, **changes: Any) -> ConnectionView:
        """Change a connection's settings, base URLs or secret, all or nothing.

        The audit records which fields changed from what to what; a new secret is
        recorded as `"secret": "changed"`, never its value. A new key or password (API
        key, Basic, OAuth 1) starts a new token generation; a new OAuth 2 client secret
        keeps the tokens already granted."""
        unknown = sorted(set(changes) - set(self.UPDATABLE))
        if unknown:
            raise RegistryError(unknown[0].replace("_", "-"), "cannot be changed by update")
        given = {k: v for k, v in changes.items() if v is not None}
        if not given and secret is None and display_name is None and base_urls is None:
            raise RegistryError("update", "nothing to change: give at least one setting, "
                                "--base-url or a new secret")
        who = actor or self.actor or default_actor()
        with self._locked(link_name) as (s, conn, cred):
            old_params = dict(conn.params or {})
            params = validate_params(conn.auth_type, {**old_params, **given})
            urls = validate_bases(base_urls) if base_urls is not None else None
            audit: dict[str, Any] = {}
            for key in sorted(set(old_params) | set(params)):
                if old_params.get(key) != params.get(key):
                    audit[key] = [old_params.get(key), params.get(key)]
            conn.params = params
            if urls is not None and urls != list(conn.base_urls or []):
                audit["base_urls"] = [list(conn.base_urls or []), urls]
                conn.base_urls = urls
            if display_name is not None and display_name != conn.display_name:
                audit["display_name"] = [conn.display_name, display_name]
                conn.display_name = display_name
            if secret is not None:
                if secret == "" and conn.auth_type != "basic":
                    raise RegistryError("secret", "cannot be empty")
                secrets = parse_secret(conn.auth_type, secret, params)
                cred.secrets = self._seal(json.dumps(secrets), conn.id, "secrets")
                audit["secret"] = "changed"
                if conn.auth_type != "oauth2":
                    cred.generation += 1
                    # a key or password is the whole credential: a new one restores a
                    # revoked (or failed) connection, as adding it again would
                    if conn.status in ("revoked", "error"):
                        audit["status"] = [conn.status, "connected"]
                        conn.status, conn.last_error = "connected", None
            if not audit:
                raise RegistryError("update", "nothing changed: the values given are the "
                                    "connection's current ones")
            conn.updated_at, conn.updated_by = utcnow(), who
            self._audit(s, link_name, "update", who, audit)
            s.commit()
            view = self._view(conn, cred)
        self._forget(link_name)
        return view

    def implicit_connection(self, kind: str) -> str:
        """The organization's own connection of a Zoho service (`crm`, `books`), used by an
        integration task called without a connection argument, as the vendor uses the
        organization's built-in one: the only connection of service `zoho_<kind>` (any
        data centre), or the one whose link name is `zoho<kind>` when there are several."""
        service = f"zoho_{kind}"
        cached = self._implicit.get(kind)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]  # read from the database at most once per cache period
        with self._sessions() as s:
            rows = s.execute(select(Connection.link_name, Connection.service)
                             .order_by(Connection.link_name)).all()
        links = [link for link, svc in rows if svc.split(":", 1)[0] == service]
        found = None
        if len(links) == 1:
            found = str(links[0])
        elif f"zoho{kind}" in links:
            found = f"zoho{kind}"
        if found is not None:
            self._implicit[kind] = (time.monotonic(), found)
            return found
        if not links:
            raise no_implicit_connection(kind)
        raise ScriptRuntimeError(
            f"zoho.{kind} tasks called without a connection: several {service} connections "
            f"exist ({', '.join(links)}); name one as the task's last argument, or call one "
            f"of them 'zoho{kind}'")

    def get(self, link_name: str) -> ConnectionView:
        with self._sessions() as s:
            conn = self._find(s, link_name)
            return self._view(conn, conn.credential)

    def list(self) -> list[ConnectionView]:
        with self._sessions() as s:
            rows = s.execute(select(Connection).order_by(Connection.link_name)).scalars().all()
            return [self._view(c, c.credential) for c in rows]

    def delete(self, link_name: str, *, actor: str | None = None) -> None:
        who = actor or self.actor or default_actor()
        with self._sessions() as s:
            conn = self._find(s, link_name)
            s.execute(delete(PendingAuthorization).where(
                PendingAuthorization.connection_id == conn.id))
            s.delete(conn)
            self._audit(s, link_name, "delete", who, {"status": [conn.status, None]})
            s.commit()
        self._forget(link_name)

    def revoke(self, link_name: str, *, actor: str | None = None) -> str | None:
        """Forget the tokens, mark the connection revoked, then revoke them at the provider
        when it has a revoke URL (with no transaction open; a refresh under way is fenced
        off by the new generation). Returns a warning when the provider refused."""
        who = actor or self.actor or default_actor()
        with self._locked(link_name) as (s, conn, cred):
            entry = self._decode(conn, cred)
            old = conn.status
            cred.access_token = cred.refresh_token = None
            cred.expires_at = None
            cred.generation += 1
            cred.refresh_holder = cred.refresh_until = None
            conn.status, conn.last_error = "revoked", None
            conn.updated_at, conn.updated_by = utcnow(), who
            self._audit(s, link_name, "revoke", who, {"status": [old, "revoked"],
                                                      "tokens": "removed"})
            s.commit()
        self._forget(link_name)
        if entry.auth_type == "oauth2" and entry.params.get("revoke_url"):
            token, hint = ((entry.refresh_token, "refresh_token") if entry.refresh_token
                           else (entry.access_token, "access_token"))
            if token:
                try:
                    self._flow(entry).revoke(token, hint)
                except TokenEndpointError as err:
                    return f"the provider did not confirm the revocation ({err.code})"
        return None

    def audit_log(self, link_name: str | None = None, *, skip: int = 0
                  ) -> list[dict[str, Any]]:
        """The audit entries (of one connection), oldest first, past the first `skip`."""
        with self._sessions() as s:
            query = select(ConnectionAudit).order_by(ConnectionAudit.id)
            if link_name:
                query = query.where(ConnectionAudit.link_name == link_name)
            if skip:
                query = query.offset(skip)
            return [{"at": a.at.isoformat(), "actor": a.actor, "link_name": a.link_name,
                     "action": a.action, "changes": a.changes}
                    for a in s.execute(query).scalars()]

    def rotate_master_key(self, new_key: str | None = None, *,
                          actor: str | None = None) -> Keyring:
        """Re-encrypt every secret under a new primary key without losing connections.

        With a key file: a new key is generated (or `new_key` used), written beside the
        old one, every secret re-encrypted, then the old key dropped from the file. With
        `SLUICE_MASTER_KEY`: secrets are re-encrypted under its first key (put the new key
        first, the old one after it, rotate, then remove the old one)."""
        who = actor or self.actor or default_actor()
        ring = self._keyring.with_primary(new_key) if (
            new_key or self._keyring.source is not None) else self._keyring
        ring.save()
        with self._sessions() as s:
            self._begin_exclusive(s)
            creds = s.execute(select(ConnectionCredential).with_for_update()).scalars().all()
            for cred in creds:
                for name in ("secrets", "access_token", "refresh_token"):
                    value = getattr(cred, name)
                    if value:
                        context = f"connection:{cred.connection_id}:{name}"
                        setattr(cred, name, ring.encrypt(ring.decrypt(value, context),
                                                         context))
            for pending in s.execute(select(PendingAuthorization)).scalars().all():
                context = f"pending:{pending.state_hash}"
                pending.code_verifier = ring.encrypt(
                    ring.decrypt(pending.code_verifier, context), context)
            self._audit(s, "*", "rotate_key", who, {"key_id": ring.primary_id,
                                                    "credentials": len(creds)})
            record_key(s, ring.primary_id)
            s.commit()
        final = ring.only_primary() if ring.source is not None else ring
        final.save()
        self._keyring = final
        self._cache.clear()
        return final

    # ---- use by the broker -------------------------------------------------------------
    def grant(self, link_name: str) -> Grant:
        """Signer and base URLs for a request; refreshes first when the token expires
        within `leeway` seconds. Raises ScriptRuntimeError when the connection is unusable."""
        entry = self._entry(link_name)
        self._check_usable(entry)
        if entry.auth_type == "oauth2" and self._expiring(entry):
            entry = self._refresh(entry, force=False, seen=entry.generation)
        return self._grant(entry)

    def refresh_after_rejection(self, link_name: str, generation: int) -> Grant | None:
        """After the API refused the token of `generation`: one refresh (or the token
        someone else already refreshed to). None when the connection cannot refresh; the
        same generation when it was refreshed less than `min_refresh_interval` seconds
        ago (decided under the credential's row lock, so across nodes)."""
        entry = self._entry(link_name)
        if not self._refreshable(entry):
            return None
        if entry.generation > generation:
            return self._grant(entry)
        return self._grant(self._refresh(entry, force=True, seen=generation))

    # ---- internals ---------------------------------------------------------------------
    def _seal(self, text: str, connection_id: int, name: str) -> str:
        return self._keyring.encrypt(text, f"connection:{connection_id}:{name}")

    def _open(self, value: str | None, connection_id: int, name: str) -> str | None:
        if value is None:
            return None
        return self._keyring.decrypt(value, f"connection:{connection_id}:{name}")

    def _decode(self, conn: Connection, cred: ConnectionCredential) -> Entry:
        secrets = json.loads(self._open(cred.secrets, conn.id, "secrets") or "{}")
        entry = Entry(
            id=conn.id, link_name=conn.link_name, auth_type=conn.auth_type,
            params=dict(conn.params or {}), base_urls=list(conn.base_urls or []),
            status=conn.status, last_error=conn.last_error, secrets=secrets,
            access_token=self._open(cred.access_token, conn.id, "access_token"),
            refresh_token=self._open(cred.refresh_token, conn.id, "refresh_token"),
            expires_at=cred.expires_at, generation=cred.generation,
            loaded_at=time.monotonic())
        entry.bases = tuple(BaseUrl.parse(u) for u in entry.base_urls)
        return entry

    def _view(self, conn: Connection, cred: ConnectionCredential | None) -> ConnectionView:
        return ConnectionView(
            link_name=conn.link_name, display_name=conn.display_name, service=conn.service,
            auth_type=conn.auth_type, params=dict(conn.params or {}),
            base_urls=list(conn.base_urls or []), status=conn.status,
            last_error=conn.last_error,
            token_generation=cred.generation if cred else 0,
            expires_at=cred.expires_at if cred else None,
            has_secret=bool(cred and cred.secrets),
            has_access_token=bool(cred and cred.access_token),
            has_refresh_token=bool(cred and cred.refresh_token),
            scope=cred.scope if cred else None,
            created_at=conn.created_at.isoformat(timespec="seconds"),
            updated_at=conn.updated_at.isoformat(timespec="seconds"),
            created_by=conn.created_by, updated_by=conn.updated_by)

    def _find(self, s: Session, link_name: str) -> Connection:
        conn = s.execute(select(Connection).where(Connection.link_name == link_name)
                         ).scalar_one_or_none()
        if conn is None:
            raise ConnectionNotFound(f"Connection '{link_name}' does not exist")
        return conn

    def _entry(self, link_name: str) -> Entry:
        cached = self._cache.get(link_name)
        if cached is not None and time.monotonic() - cached.loaded_at < self._ttl:
            return cached
        with self._sessions() as s:
            conn = self._find(s, link_name)
            entry = self._decode(conn, conn.credential)
        self._cache[link_name] = entry
        return entry

    def _forget(self, link_name: str) -> None:
        self._cache.pop(link_name, None)
        self._implicit.clear()  # an added, changed or deleted connection may change it

    def _check_usable(self, entry: Entry) -> None:
        link = entry.link_name
        if entry.status == "needs_authorization" or (
                entry.status == "connected" and entry.auth_type == "oauth2"
                and not entry.access_token):
            raise ScriptRuntimeError(f"Connection '{link}' needs to be re-authorized")
        if entry.status == "revoked":
            raise ScriptRuntimeError(f"Connection '{link}' has been revoked; authorize it "
                                     "again to use it")
        if entry.status == "error":
            raise ScriptRuntimeError(f"Connection '{link}' is in error: "
                                     f"{entry.last_error or 'unknown error'}")

    def _expiring(self, entry: Entry) -> bool:
        """Whether the token expires within the leeway: the connection's own
        (`refresh_leeway`), else the registry's."""
        if entry.expires_at is None:
            return False
        leeway = entry.params.get("refresh_leeway")
        return entry.expires_at - (self.leeway if leeway is None else leeway) <= self._clock()

    @staticmethod
    def _refreshable(entry: Entry) -> bool:
        return entry.auth_type == "oauth2" and (
            bool(entry.refresh_token) or entry.params.get("grant") == "client_credentials")

    def _grant(self, entry: Entry) -> Grant:
        if entry.grant is None:
            entry.grant = self._build_grant(entry)
        return entry.grant

    def _build_grant(self, entry: Entry) -> Grant:
        p = entry.params
        known = secret_values(entry.secrets)
        signer: Signer
        if entry.auth_type == "oauth2":
            assert entry.access_token is not None
            placement = p.get("param_type") or "header"
            signer = OAuth2Signer(entry.access_token, p.get("header_format") or
                                  "Bearer {token}", placement,
                                  p.get("param_name") or ("Authorization" if placement ==
                                                          "header" else "access_token"))
            known += [entry.access_token, entry.refresh_token or ""]
        elif entry.auth_type == "oauth1":
            signer = OAuth1Signer(p["client_id"], entry.secrets.get("consumer_secret", ""),
                                  entry.secrets.get("token") or p.get("username"),
                                  entry.secrets.get("token_secret"), p.get("realm"),
                                  clock=self._clock)
        elif entry.auth_type == "api_key":
            signer = ApiKeySigner(tuple(entry.secrets.get("keys", {}).items()),
                                  p.get("param_type") or "header", p.get("header_format"))
        else:
            basic = BasicSigner(p.get("username", ""), entry.secrets.get("password", ""))
            signer = basic
            # the pair a server may quote back decoded from the header, in any encoding
            password = entry.secrets.get("password", "")
            known += [basic.header_value.split(" ", 1)[1],
                              f"{p.get('username', '')}:{password}" if password else ""]
        return Grant(entry.link_name, entry.generation, signer, entry.bases,
                     tuple(sorted({v for v in known if v}, key=len, reverse=True)),
                     self._refreshable(entry),
                     frozenset(p.get("refresh_on_status") or (401,)),
                     tuple(p.get("refresh_on_body") or ()), p.get("idempotency_header"))

    def _flow(self, entry: Entry) -> OAuth2Flow:
        p = entry.params
        settings = OAuth2Settings(
            client_id=p["client_id"], token_url=p["token_url"],
            authorize_url=p.get("authorize_url"), refresh_url=p.get("refresh_url"),
            revoke_url=p.get("revoke_url"), scopes=tuple(p.get("scopes") or ()),
            scope_delimiter=p.get("scope_delimiter", " "),
            authorize_params=dict(p.get("authorize_params") or {}),
            token_auth=p.get("token_auth", "auto"),
            revoke_token_in=p.get("revoke_token_in", "body"))
        return OAuth2Flow(settings, entry.secrets.get("client_secret", ""), self._http,
                          clock=self._clock, timeout=self._token_timeout)

    def _store_tokens(self, s: Session, conn: Connection, cred: ConnectionCredential,
                      tokens: TokenSet, flow: OAuth2Flow, action: str, who: str) -> None:
        old_status = conn.status
        cred.access_token = self._seal(tokens.access_token, conn.id, "access_token")
        if tokens.refresh_token:
            cred.refresh_token = self._seal(tokens.refresh_token, conn.id, "refresh_token")
        elif action == "authorize":
            cred.refresh_token = None
        cred.expires_at = tokens.expires_at
        if tokens.scope:
            cred.scope = tokens.scope
        cred.generation += 1
        if action == "refresh":  # what the forced-refresh rate limit counts from
            cred.refreshed_at = self._now()
        conn.status, conn.last_error = "connected", None
        conn.updated_at = utcnow()
        if action == "authorize":
            conn.updated_by = who
        changes: dict[str, Any] = {"token_generation": cred.generation}
        if old_status != "connected":
            changes["status"] = [old_status, "connected"]
        if tokens.refresh_token and action == "refresh":
            changes["refresh_token"] = "rotated"
        if flow.token_auth_used and conn.params.get("token_auth") == "auto":
            conn.params = {**conn.params, "token_auth": flow.token_auth_used}
            changes["token_auth"] = flow.token_auth_used
        if tokens.scope:
            changes["scope"] = tokens.scope
        self._audit(s, conn.link_name, action, who, changes)

    def _begin_exclusive(self, s: Session) -> None:
        # SQLite has no row locks: BEGIN IMMEDIATE takes the database's write lock before
        # the first read, which serializes refreshes across processes the same way.
        if self._engine.dialect.name == "sqlite":
            s.connection().exec_driver_sql("BEGIN IMMEDIATE")

    @contextmanager
    def _locked(self, link_name: str) -> Iterator[tuple[Session, Connection,
                                                        ConnectionCredential]]:
        """A session holding the lock on the connection's credential row."""
        with self._sessions() as s:
            self._begin_exclusive(s)
            conn = self._find(s, link_name)
            cred = s.execute(select(ConnectionCredential)
                             .where(ConnectionCredential.connection_id == conn.id)
                             .with_for_update()).scalar_one()
            s.refresh(conn)
            yield s, conn, cred

    @staticmethod
    def _audit(s: Session, link_name: str, action: str, actor: str,
               changes: dict[str, Any]) -> None:
        s.add(ConnectionAudit(link_name=link_name, action=action, actor=actor,
                              changes=changes, at=utcnow()))

