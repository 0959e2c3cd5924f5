"""OAuth 2 authorization of a connection: the authorization-code flow (PKCE + state, the
pending state kept in the database for its callback, or a code pasted by the user) and
the client-credentials grant. Mixed into `Registry`.

No transaction stays open while the provider is asked: the pending state is taken (and
deleted: a state is good for one exchange) in one short transaction, the code exchanged
with none open, and the tokens stored in another, which starts a new token generation.
"""

from __future__ import annotations

__all__ = ["Authorizations"]

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from ..store.connections import Connection, PendingAuthorization
from .model import AuthorizationFailed, ConnectionView, Entry, RegistryError, default_actor
from .oauth import AuthorizationStart, OAuth2Flow, TokenEndpointError, TokenSet

if TYPE_CHECKING:
    from .registry import Registry

_PENDING_SECONDS = 600.0


class Authorizations:
    """The authorization half of the registry (mixed into `Registry`)."""

    def begin_authorization(self: Registry, link_name: str, redirect_uri: str, *,
                            actor: str | None = None) -> AuthorizationStart:
        """Start an authorization-code flow (PKCE + state); the pending state is stored."""
        who = actor or self.actor or default_actor()
        with self._sessions() as s:
            conn = self._find(s, link_name)
            entry = self._decode(conn, conn.credential)
            if entry.auth_type != "oauth2":
                raise RegistryError("link", f"connection '{link_name}' uses {entry.auth_type}"
                                    "; only OAuth 2 connections are authorized")
            if entry.params.get("grant") == "client_credentials":
                raise RegistryError("link", "this connection uses the client credentials "
                                    "grant; it needs no browser authorization")
            try:
                start = self._flow(entry).start(redirect_uri)
            except TokenEndpointError as err:
                raise RegistryError("authorize_url", err.description or err.code) from None
            digest = hashlib.sha256(start.state.encode()).hexdigest()
            s.execute(delete(PendingAuthorization).where(
                PendingAuthorization.expires_at < self._clock()))
            s.add(PendingAuthorization(
                state_hash=digest, connection_id=conn.id, redirect_uri=redirect_uri,
                code_verifier=self._keyring.encrypt(start.code_verifier, f"pending:{digest}"),
                expires_at=self._clock() + _PENDING_SECONDS))
            self._audit(s, link_name, "authorize_start", who, {"redirect_uri": redirect_uri})
            s.commit()
        return start

    def complete_authorization(self: Registry, state: str, code: str, *,
                               actor: str | None = None) -> ConnectionView:
        """Finish the flow whose `state` came back with `code` (the OAuth callback)."""
        digest = hashlib.sha256((state or "").encode()).hexdigest()
        with self._sessions() as s:
            pending = s.get(PendingAuthorization, digest)
            if pending is None or pending.expires_at < self._clock():
                raise RegistryError("state", "unknown or expired authorization state; start "
                                    "the authorization again")
            link = s.get(Connection, pending.connection_id).link_name
        return self._complete(link, digest, code, actor)

    def complete_pending(self: Registry, link_name: str, code: str, *,
                         actor: str | None = None) -> ConnectionView:
        """Finish the latest pending flow of a connection with a code pasted by the user
        (the PKCE verifier still binds the code to the request this registry made)."""
        with self._sessions() as s:
            conn = self._find(s, link_name)
            pending = s.execute(
                select(PendingAuthorization)
                .where(PendingAuthorization.connection_id == conn.id)
                .where(PendingAuthorization.expires_at >= self._clock())
                .order_by(PendingAuthorization.created_at.desc(),
                          PendingAuthorization.expires_at.desc())).scalars().first()
            if pending is None:
                raise RegistryError("code", f"no authorization of '{link_name}' is waiting "
                                    f"for a code; run 'sluice connections authorize "
                                    f"{link_name}' first")
            digest = pending.state_hash
        return self._complete(link_name, digest, code, actor)

    def pending_exists(self: Registry, state: str) -> bool:
        digest = hashlib.sha256(state.encode()).hexdigest()
        with self._sessions() as s:
            return s.get(PendingAuthorization, digest) is not None

    def authorize_client_credentials(self: Registry, link_name: str, *,
                                     actor: str | None = None) -> ConnectionView:
        who = actor or self.actor or default_actor()
        flow = self._flow(self._entry_now(link_name))
        try:
            tokens = flow.client_credentials()
        except TokenEndpointError as err:
            self._authorization_failed(link_name, who, err)
            raise AuthorizationFailed("client", f"{_refusal(err, 'the client credentials')}"
                                      f" ({err})") from None
        return self._authorized(link_name, tokens, flow, who)

    # ---- internals ---------------------------------------------------------------------
    def _complete(self: Registry, link_name: str, digest: str, code: str,
                  actor: str | None) -> ConnectionView:
        who = actor or self.actor or default_actor()
        with self._sessions() as s:   # take the state: it is good for one exchange
            self._begin_exclusive(s)
            pending = s.get(PendingAuthorization, digest)
            if pending is None:
                raise RegistryError("state", "this authorization was already completed")
            verifier = self._keyring.decrypt(pending.code_verifier, f"pending:{digest}")
            redirect_uri = pending.redirect_uri
            s.delete(pending)
            conn = self._find(s, link_name)
            entry = self._decode(conn, conn.credential)
            s.commit()
        flow = self._flow(entry)
        try:
            tokens = flow.exchange_code(code, redirect_uri, verifier)
        except TokenEndpointError as err:
            self._authorization_failed(link_name, who, err)
            raise AuthorizationFailed("code", f"{_refusal(err, 'the code')} ({err})"
                                      ) from None
        return self._authorized(link_name, tokens, flow, who)

    def _entry_now(self: Registry, link_name: str) -> Entry:
        """The connection as the database holds it now (not the cached entry)."""
        with self._sessions() as s:
            conn = self._find(s, link_name)
            return self._decode(conn, conn.credential)

    def _authorized(self: Registry, link_name: str, tokens: TokenSet, flow: OAuth2Flow,
                    who: str) -> ConnectionView:
        with self._locked(link_name) as (s, conn, cred):
            self._store_tokens(s, conn, cred, tokens, flow, "authorize", who)
            cred.refresh_holder = cred.refresh_until = cred.refresh_failed_at = None
            s.commit()
            view = self._view(conn, cred)
        self._forget(link_name)
        return view

    def _authorization_failed(self: Registry, link_name: str, who: str,
                              err: TokenEndpointError) -> None:
        with self._locked(link_name) as (s, conn, _cred):
            conn.last_error = f"authorization failed: {err}"
            self._audit(s, link_name, "authorize_failed", who, {"error": err.code})
            s.commit()
        self._forget(link_name)


def _refusal(err: TokenEndpointError, what: str) -> str:
    """The start of an authorization failure: a refusal, or a provider that failed."""
    if err.code in ("network", "invalid_response") or (err.status or 0) >= 500:
        return f"the token endpoint failed while exchanging {what}; try again"
    return f"the provider refused {what}"
