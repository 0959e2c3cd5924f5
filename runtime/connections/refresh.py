"""Token refresh: once per connection at a time across threads, processes and nodes, and
never with a database transaction open while the provider is asked.

The credential row of a connection carries a refresh lease (`refresh_holder`,
`refresh_until`) and a generation that every stored token moves on:

1. Threads of one registry queue on a lock per connection; the first one does the work,
   the others find the new generation in the cache when their turn comes.
2. Read the row (a short transaction). Nothing to do when its generation moved on from
   the one the caller saw (use it), the connection is no longer connected (its error), or
   no refresh is due.
3. Claim the lease in one UPDATE, on condition that the generation is still the one seen
   and that no unexpired lease is held. One claimant wins.
4. The winner asks the provider with no transaction open; that call ends within the token
   timeout (and the request's deadline), and the lease lasts longer than that.
5. The answer is stored in a short locked transaction, only while the generation is still
   the one seen: the generation is the fence. A holder that froze past its lease and woke
   after another node stored a token discards what it got; a refusal is recorded the same
   way (an `invalid_grant` after someone else rotated the refresh token is not a reason to
   ask the user to authorize again).
6. The others poll the row, from 20 ms backing off to 250 ms, until the generation moves
   on (they use it), the connection leaves `connected` (they fail with its state), the
   holder recorded a passing failure after they began to wait (they fail with it instead
   of asking a struggling provider again), or the lease expired unrenewed (they claim it).
   They wait no longer than the request's deadline allows.

A refresh forced by a rejection happens at most once per `min_refresh_interval` seconds
per connection (`refreshed_at`, read with the row), since a script can make an API refuse
at will.
"""

from __future__ import annotations

__all__ = ["TokenRefresh"]

import datetime as _dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from ..errors import ScriptRuntimeError
from ..http.broker import deadline_left
from ..observability.metrics import TOKEN_REFRESHES
from ..store.connections import Connection, ConnectionCredential
from ..store.db import utcnow
from .model import Entry
from .oauth import OAuth2Flow, TokenEndpointError, TokenSet

if TYPE_CHECKING:
    from .registry import Registry

log = logging.getLogger("sluicegate.connections")

_LEASE_MARGIN = 5.0      # seconds a lease outlasts the token request it covers
_FIRST_POLL = 0.02
_LONGEST_POLL = 0.25
# refusals that asking again cannot cure (the connection changes state instead)
_FINAL = ("invalid_grant", "invalid_client", "unauthorized_client")


@dataclass(frozen=True)
class _Row:
    """What a waiter needs of the credential row besides the decoded entry."""

    refreshed_at: _dt.datetime | None
    holder: str | None
    until: float | None
    failed_at: float | None


class TokenRefresh:
    """The refresh half of the registry (mixed into `Registry`)."""

    def _refresh(self: Registry, entry: Entry, *, force: bool, seen: int) -> Entry:
        link = entry.link_name
        waited_since = time.monotonic()
        with self._thread_lock(link):
            cached = self._cache.get(link)
            if cached is not None and cached.generation > seen:
                return cached
            failed = self._failed.get(link)
            if failed is not None and failed[0] >= waited_since:
                raise ScriptRuntimeError(failed[1])
            fresh = self._refresh_across_nodes(link, force=force, seen=seen)
            self._cache[link] = fresh
            return fresh

    def _refresh_across_nodes(self: Registry, link: str, *, force: bool, seen: int) -> Entry:
        began = self._clock()
        give_up = time.monotonic() + self._longest_wait()
        left = deadline_left()
        if left is not None:
            give_up = min(give_up, time.monotonic() + left)
        pause = _FIRST_POLL
        while True:
            fresh, row = self._read_row(link)
            if fresh.generation != seen or fresh.status != "connected" or (
                    not self._expiring(fresh) and (not force or self._refreshed_recently(
                        row.refreshed_at))):
                self._check_usable(fresh)
                return fresh
            if row.holder is None and row.failed_at is not None and row.failed_at >= began:
                raise ScriptRuntimeError(
                    f"Connection '{link}' could not refresh its access token: a refresh "
                    "made at the same time by another node failed; try again later")
            holder = self._claim_lease(fresh.id, seen)
            if holder is not None:
                return self._refresh_holding(fresh, holder, seen)
            now = time.monotonic()
            if now >= give_up:
                raise ScriptRuntimeError(
                    f"Connection '{link}' could not refresh its access token: another "
                    "node's refresh of it did not finish in time; try again later")
            time.sleep(min(pause, give_up - now))
            pause = min(pause * 2, _LONGEST_POLL)

    def _longest_wait(self: Registry) -> float:
        """How long a waiter waits for others' refreshes: one lease that may expire, and
        its own refresh after taking the lease over."""
        return 2 * self._lease_seconds() + _LEASE_MARGIN

    def _lease_seconds(self: Registry) -> float:
        return self._token_timeout + _LEASE_MARGIN

    def _read_row(self: Registry, link: str) -> tuple[Entry, _Row]:
        with self._sessions() as s:
            conn = self._find(s, link)
            cred = conn.credential
            return self._decode(conn, cred), _Row(cred.refreshed_at, cred.refresh_holder,
                                                  cred.refresh_until, cred.refresh_failed_at)

    def _claim_lease(self: Registry, connection_id: int, seen: int) -> str | None:
        """The holder id when this registry won the refresh of generation `seen`."""
        holder = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"
        now = self._clock()
        cred = ConnectionCredential
        with self._sessions() as s:
            claimed = s.execute(
                update(cred)
                .where(cred.connection_id == connection_id, cred.generation == seen,
                       or_(cred.refresh_until.is_(None), cred.refresh_until < now))
                .values(refresh_holder=holder, refresh_until=now + self._lease_seconds())
                .execution_options(synchronize_session=False)).rowcount
            s.commit()
        return holder if claimed == 1 else None

    def _refresh_holding(self: Registry, fresh: Entry, holder: str, seen: int) -> Entry:
        """Ask the provider (no transaction open), then store what it said, fenced by the
        generation."""
        flow = self._flow(fresh)
        try:
            if fresh.refresh_token:
                tokens = flow.refresh(fresh.refresh_token)
            elif fresh.params.get("grant") == "client_credentials":
                tokens = flow.client_credentials()
            else:
                raise TokenEndpointError("invalid_grant", "no refresh token")
        except TokenEndpointError as err:
            return self._refresh_refused(fresh, holder, seen, err)
        except BaseException:
            self._release_lease(fresh.id, holder)
            raise
        return self._store_refreshed(fresh, seen, tokens, flow)

    def _store_refreshed(self: Registry, fresh: Entry, seen: int, tokens: TokenSet,
                         flow: OAuth2Flow) -> Entry:
        link = fresh.link_name
        with self._locked(link) as (s, conn, cred):
            if cred.generation != seen:
                s.commit()
                log.info("discarded a token of connection %s: generation %d was stored "
                         "while this refresh was under way", link, cred.generation)
                current = self._decode(conn, cred)
                self._check_usable(current)
                return current
            self._store_tokens(s, conn, cred, tokens, flow, "refresh", "system:refresh")
            cred.refresh_holder = cred.refresh_until = cred.refresh_failed_at = None
            s.commit()
            stored = self._decode(conn, cred)
        self._failed.pop(link, None)
        self.refresh_count += 1
        TOKEN_REFRESHES.labels(link, "ok").inc()
        log.info("refreshed the token of connection %s (generation %d)", link,
                 stored.generation)
        return stored

    def _refresh_refused(self: Registry, fresh: Entry, holder: str, seen: int,
                         err: TokenEndpointError) -> Entry:
        link = fresh.link_name
        with self._locked(link) as (s, conn, cred):
            if cred.generation != seen:   # someone else refreshed meanwhile: use theirs
                s.commit()
                current = self._decode(conn, cred)
                self._check_usable(current)
                return current
            if cred.refresh_holder == holder:
                cred.refresh_holder = cred.refresh_until = None
            if err.code not in _FINAL:
                cred.refresh_failed_at = self._clock()
            self._refresh_failed(s, conn, err)
        if conn.status == "needs_authorization":
            raise ScriptRuntimeError(f"Connection '{link}' needs to be re-authorized")
        if conn.status == "error":
            raise ScriptRuntimeError(
                f"Connection '{link}' could not refresh its access token: the provider "
                f"refused the client ({err.code}); check its client id and secret")
        message = (f"Connection '{link}' could not refresh its access token: "
                   f"{_reason(err)}; try again later")
        self._failed[link] = (time.monotonic(), message)
        raise ScriptRuntimeError(message)

    def _release_lease(self: Registry, connection_id: int, holder: str) -> None:
        """Give the lease back after an unexpected failure, so others need not wait for
        it to expire (best effort: it expires anyway)."""
        cred = ConnectionCredential
        try:
            with self._sessions() as s:
                s.execute(update(cred)
                          .where(cred.connection_id == connection_id,
                                 cred.refresh_holder == holder)
                          .values(refresh_holder=None, refresh_until=None)
                          .execution_options(synchronize_session=False))
                s.commit()
        except Exception:  # noqa: BLE001 - the lease expires on its own
            log.warning("could not release the refresh lease of connection %d",
                        connection_id)

    def _now(self: Registry) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self._clock(), _dt.UTC)

    def _refreshed_recently(self: Registry, at: _dt.datetime | None) -> bool:
        """Whether the token was refreshed less than `min_refresh_interval` ago: then a
        rejection does not refresh it again (a script can make an API refuse at will). A
        refresh that failed does not count: the next run may recover at once, and within
        a run the broker asks only once."""
        if at is None:
            return False
        if at.tzinfo is None:  # SQLite hands back naive UTC
            at = at.replace(tzinfo=_dt.UTC)
        return self._clock() - at.timestamp() < self.min_refresh_interval

    def _refresh_failed(self: Registry, s: Session, conn: Connection,
                        err: TokenEndpointError) -> None:
        link = conn.link_name
        if err.code == "invalid_grant":
            old = conn.status
            conn.status = "needs_authorization"
            conn.last_error = f"token refresh refused: {err}"
            self._audit(s, link, "refresh_failed", "system:refresh",
                        {"status": [old, "needs_authorization"], "error": err.code})
        elif err.code in ("invalid_client", "unauthorized_client"):
            old = conn.status
            conn.status = "error"
            conn.last_error = f"token refresh refused: {err}"
            self._audit(s, link, "refresh_failed", "system:refresh",
                        {"status": [old, "error"], "error": err.code})
        else:
            conn.last_error = f"token refresh failed: {err}"
        conn.updated_at = utcnow()
        s.commit()
        self._forget(link)
        TOKEN_REFRESHES.labels(link, "failed").inc()
        log.warning("token refresh of connection %s failed: %s", link, err.code)

    @contextmanager
    def _thread_lock(self: Registry, link_name: str) -> Iterator[None]:
        with self._locks_guard:
            lock = self._locks.setdefault(link_name, threading.Lock())
        with lock:
            yield


def _reason(err: TokenEndpointError) -> str:
    """Why a refresh failed, for the script: the provider's words are not repeated (they
    come from outside), only what kind of failure it was."""
    if err.code == "network":
        return err.description or "the token endpoint could not be reached"
    if err.code == "invalid_response":
        return err.description or "the token endpoint's answer was not understood"
    if err.status is not None and err.status >= 500:
        return f"the token endpoint answered HTTP {err.status} ({err.code})"
    return f"the token endpoint refused ({err.code})"
