"""The refresh lease (issue 10, point 2): no database transaction stays open while a node
asks the provider for a token, and the lease on the credential row still makes one
refresh across nodes. A lease left by a frozen node is taken over when it expires; a
holder that wakes after that stores nothing (the generation fences it); the others fail
with a holder's passing failure instead of asking again; nobody waits past the request's
deadline. On SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from connlab import Clock, Leaks, add_oauth2, authorize
from sluice_testdb import wait_until
from sluicegate.connections.keyring import Keyring, generate_key
from sluicegate.connections.registry import Registry
from sluicegate.errors import ScriptRuntimeError
from sluicegate.examples.provider import LocalProvider
from sluicegate.http.broker import deadline
from sluicegate.store.connections import ConnectionAudit, ConnectionCredential
from sluicegate.store.db import make_engine
from sluicegate.store.migrate import upgrade
from sqlalchemy import Engine, select, text, update


@dataclass
class Nodes:
    """Registries on one shared database, as separate nodes would have them."""

    url: str
    schema: str
    engine: Engine
    keyring: Keyring
    provider: LocalProvider
    first: Registry
    opened: list[tuple[Registry, Engine]]

    def node(self, clock: Callable[[], float] = time.time) -> Registry:
        engine = make_engine(self.url, **_options(self.schema))
        registry = Registry(engine, self.keyring, clock=clock, actor="tests")
        self.opened.append((registry, engine))
        return registry

    def expire_token(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(ConnectionCredential).values(expires_at=0.0))

    def row(self) -> ConnectionCredential:
        with self.engine.connect() as conn:
            return conn.execute(select(ConnectionCredential)).one()  # type: ignore[return-value]

    def refreshes_stored(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(ConnectionAudit.id)
                                    .where(ConnectionAudit.action == "refresh")).all())


def _options(schema: str) -> dict[str, Any]:
    return {"connect_args": {"options": f"-csearch_path={schema}"}} if schema != "-" else {}


@pytest.fixture
def nodes(shared_db: tuple[str, str], provider: LocalProvider, leaks: Leaks
          ) -> Iterator[Nodes]:
    url, schema = shared_db
    engine = make_engine(url, **_options(schema))
    upgrade(engine)
    keyring = Keyring.from_texts([leaks.secret(generate_key())])
    first = Registry(engine, keyring, actor="tests")
    lab = Nodes(url, schema, engine, keyring, provider, first, [])
    try:
        add_oauth2(first, provider)
        authorize(first, provider)
        lab.expire_token()
        yield lab
    finally:
        for registry, own in lab.opened:
            registry.close()
            own.dispose()
        first.close()
        engine.dispose()


class Background:
    """`registry.grant(link)` in a thread: its grant, or the error it raised."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self.result = call()
        except BaseException as err:  # noqa: BLE001 - handed to the test
            self.error = err

    def join(self, timeout: float = 30.0) -> Any:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the background call did not end"
        if self.error is not None:
            raise self.error
        return self.result


def _token_requests(provider: LocalProvider) -> int:
    """Token requests since the connection was authorized (its code exchange was one)."""
    return provider.counts["token_requests"] - provider.counts["authorization_code"]


def _row_is_writable_now(lab: Nodes) -> bool:
    """Another session takes the credential row's write lock at once (0.3 s at most): so
    nobody holds it (the old design kept it locked across the token request)."""
    if lab.schema == "-":
        path = lab.url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path, timeout=0.3, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE connection_credentials SET scope = scope")
            conn.execute("COMMIT")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            conn.close()
    other = make_engine(lab.url, **_options(lab.schema))
    try:
        with other.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '300ms'"))
            conn.execute(text("SELECT 1 FROM connection_credentials FOR UPDATE"))
        return True
    except Exception:  # noqa: BLE001 - a lock timeout
        return False
    finally:
        other.dispose()


def test_no_transaction_is_open_while_the_provider_is_asked(nodes: Nodes) -> None:
    nodes.provider.set_token_delay(1.5)
    node = nodes.node()
    call = Background(lambda: node.grant("zb"))
    wait_until(lambda: _token_requests(nodes.provider) == 1, 15,
               "the refresh to reach the token endpoint")
    assert nodes.row().refresh_holder is not None   # the lease is visible meanwhile
    assert _row_is_writable_now(nodes)
    grant = call.join()
    row = nodes.row()
    assert grant.generation == row.generation == 2
    assert row.refresh_holder is None and row.refresh_until is None
    assert nodes.provider.counts["refresh_token"] == 1


def test_the_code_exchange_holds_no_transaction_either(nodes: Nodes) -> None:
    node = nodes.node()
    start = node.begin_authorization("zb", "http://127.0.0.1:9/oauth/callback")
    answer = dict(parse_qsl(urlsplit(nodes.provider.approve(start.url)).query))
    nodes.provider.set_token_delay(1.5)
    before = nodes.provider.counts["token_requests"]
    call = Background(lambda: node.complete_authorization(answer["state"], answer["code"]))
    wait_until(lambda: nodes.provider.counts["token_requests"] == before + 1, 15,
               "the code exchange to reach the token endpoint")
    assert _row_is_writable_now(nodes)
    view = call.join()
    assert view.status == "connected" and view.token_generation == 2


def test_a_lease_left_by_a_frozen_node_is_taken_over_when_it_expires(nodes: Nodes) -> None:
    clock = Clock()
    with nodes.engine.begin() as conn:   # a node claimed the refresh, then froze
        conn.execute(update(ConnectionCredential).values(
            refresh_holder="frozen:1:x", refresh_until=time.time() + 600))
    node = nodes.node(clock)
    call = Background(lambda: node.grant("zb"))
    # while the lease holds, the waiter does not ask the provider itself
    observed_until = time.monotonic() + 0.5
    while time.monotonic() < observed_until:
        assert _token_requests(nodes.provider) == 0
        time.sleep(0.02)
    clock.offset += 601                    # the frozen node's lease has run out
    grant = call.join()
    assert grant.generation == 2
    assert nodes.provider.counts["refresh_token"] == 1
    assert nodes.row().refresh_holder is None


def test_a_holder_that_wakes_after_a_takeover_stores_nothing(nodes: Nodes,
                                                             caplog: Any) -> None:
    nodes.provider.state.rotate_refresh = False   # both requests get a token
    nodes.provider.set_token_delay(1.0)
    first, second = nodes.node(), nodes.node()
    late = Background(lambda: first.grant("zb"))
    wait_until(lambda: _token_requests(nodes.provider) == 1, 15,
               "the first refresh to reach the token endpoint")
    with nodes.engine.begin() as conn:   # its node froze past the lease: taken over
        conn.execute(update(ConnectionCredential).values(refresh_until=0.0))
    with caplog.at_level("INFO", logger="sluicegate.connections"):
        taken = second.grant("zb")
        woke = late.join()
    assert nodes.provider.counts["refresh_token"] == 2
    assert taken.generation == woke.generation == nodes.row().generation == 2
    assert nodes.refreshes_stored() == 1   # one of the two answers was discarded
    assert any("discarded a token" in r.getMessage() for r in caplog.records)


def test_a_refresh_under_way_cannot_undo_a_revocation(nodes: Nodes) -> None:
    nodes.provider.set_token_delay(1.0)
    node, admin = nodes.node(), nodes.node()
    call = Background(lambda: node.grant("zb"))
    wait_until(lambda: _token_requests(nodes.provider) == 1, 15,
               "the refresh to reach the token endpoint")
    admin.revoke("zb")
    with pytest.raises(ScriptRuntimeError, match="has been revoked"):
        call.join()
    row = nodes.row()
    assert row.access_token is None and row.refresh_token is None
    assert admin.get("zb").status == "revoked"


def test_waiters_fail_with_a_holders_passing_failure_and_do_not_ask_again(
        nodes: Nodes) -> None:
    nodes.provider.set_token_fault("server_error")
    nodes.provider.set_token_delay(1.0)
    holder = nodes.node()
    # the waiter's clock says it began waiting well before the holder failed, whatever
    # the scheduling of this test's threads (its lease checks use the same clock)
    behind = Clock()
    behind.offset = -120.0
    waiter = nodes.node(behind)
    first = Background(lambda: holder.grant("zb"))
    wait_until(lambda: _token_requests(nodes.provider) == 1, 15,
               "the holder's refresh to reach the token endpoint")
    second = Background(lambda: waiter.grant("zb"))
    with pytest.raises(ScriptRuntimeError, match="temporarily|HTTP 503|try again later"):
        first.join()
    with pytest.raises(ScriptRuntimeError, match="another node failed|try again later"):
        second.join()
    assert _token_requests(nodes.provider) == 1
    row = nodes.row()
    assert row.refresh_holder is None and row.refresh_failed_at is not None
    assert nodes.first.get("zb").status == "connected"   # a passing failure


def test_a_waiter_gives_up_by_the_requests_deadline(nodes: Nodes) -> None:
    with nodes.engine.begin() as conn:
        conn.execute(update(ConnectionCredential).values(
            refresh_holder="frozen:1:x", refresh_until=time.time() + 600))
    node = nodes.node()
    started = time.monotonic()
    with deadline(0.5), pytest.raises(ScriptRuntimeError, match="did not finish in time"):
        node.grant("zb")
    assert time.monotonic() - started < 5
    assert _token_requests(nodes.provider) == 0
