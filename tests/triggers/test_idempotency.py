"""Idempotency keys across re-runs, on SQLite and PostgreSQL, in-process and isolated: a
connection with `idempotency_header` gives every request of a scheduled run a key that
is the same when a re-claimed occurrence runs again and differs across calls and
occurrences; requests of other triggers, and of connections without the setting, carry
none."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sluice_testdb import UTC, ManualClock
from sluicegate.connections.keyring import Keyring, generate_key
from sluicegate.connections.registry import Registry, RegistryError
from sluicegate.http.broker import Broker
from sluicegate.isolation import ZygoteForker
from sluicegate.store.db import make_engine
from sluicegate.triggers import SchedulerSettings, open_triggers
from sluicegate.triggers.launcher import Actor
from sluicegate.triggers.scheduler import Scheduler
from sluicegate.triggers.setup import Triggers

SCRIPT = """
a = invokeurl [ url: "/orders" type: POST parameters: {"n": 1} connection: "shop" ];
b = invokeurl [ url: "/orders" type: POST parameters: {"n": 2} connection: "shop" ];
c = invokeurl [ url: "/orders" type: GET connection: "plain" ];
return a.get("ok");
"""


class _Recorder(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        server: Any = self.server
        with server.lock:
            server.seen.append((self.command, self.headers.get("Idempotency-Key")))
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


KEY = generate_key()   # one master key per database, as every node must share it


@pytest.fixture
def api() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.daemon_threads = True
    server.seen = []
    server.lock = threading.Lock()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture(scope="module")
def zygote() -> Iterator[ZygoteForker]:
    forker = ZygoteForker()
    yield forker
    forker.close()


@pytest.fixture(params=["in-process", "isolated"])
def shop(request: pytest.FixtureRequest, db_url: str, clock: ManualClock,
         api: Any) -> Iterator[Triggers]:
    engine = make_engine(db_url)
    registry = Registry(engine, Keyring.from_texts([KEY]), actor="tests")
    base = f"http://127.0.0.1:{api.server_address[1]}"
    registry.add("shop", "api_key", secret="k-1", base_urls=[base],
                 idempotency_header="Idempotency-Key")
    registry.add("plain", "api_key", secret="k-2", base_urls=[base])
    broker = Broker(registry)
    forker = request.getfixturevalue("zygote") if request.param == "isolated" else None
    triggers = open_triggers(engine, clock=clock, migrate=False, broker=broker,
                             forker=forker, node="test")
    triggers.catalog.save("orders", SCRIPT, kind="schedule")
    clock.set(dt.datetime(2025, 1, 6, 9, 59, tzinfo=UTC))
    triggers.schedules.add({"name": "orders", "script": "orders", "timezone": "UTC",
                            "recurrence": {"kind": "once"}, "start": "2025-01-06T10:00"})
    yield triggers
    broker.close()
    engine.dispose()


def _node(triggers: Triggers, name: str) -> Scheduler:
    return Scheduler(triggers.sessions, triggers.executor, triggers.history,
                     clock=triggers.clock, settings=SchedulerSettings(lease=30), node=name)


def _keys(api: Any) -> list[str | None]:
    with api.lock:
        found = [key for _, key in api.seen]
        api.seen.clear()
    return found


def test_a_reclaimed_occurrence_sends_the_same_keys_and_another_occurrence_new_ones(
        shop: Triggers, clock: ManualClock, api: Any) -> None:
    a, b = _node(shop, "node-a"), _node(shop, "node-b")
    clock.set(dt.datetime(2025, 1, 6, 10, 0, tzinfo=UTC))
    a.materialize(clock.now())
    [claim] = a.claim(clock.now(), 10)
    first = a.execute(claim)                        # node a runs it, then freezes
    assert first.result is not None and first.result.ok, first.result.error
    k1, k2, plain = _keys(api)
    assert plain is None                            # that connection has no such header
    assert k1 != k2 and all(uuid.UUID(k) for k in (k1, k2))  # type: ignore[arg-type]
    clock.set(dt.datetime(2025, 1, 6, 10, 0, 31, tzinfo=UTC))
    assert b.run_due() == 1                         # re-claimed after the lease: again
    assert _keys(api) == [k1, k2, None]             # ... with the same keys
    a.finish([first])                               # superseded: not recorded
    [run] = shop.history.list()
    assert (run.attempt, run.node) == (2, "node-b")
    assert [call.get("idempotency_key") for call in run.http] == [k1, k2, None]
    shop.schedules.run_now("orders")                # another occurrence: other keys
    assert b.run_due() == 1
    k3, k4, _ = _keys(api)
    assert len({k1, k2, k3, k4}) == 4


def test_runs_of_other_triggers_carry_no_key(shop: Triggers, api: Any) -> None:
    shop.catalog.save("order_now", SCRIPT, kind="function")
    out = shop.launcher.execute_function("order_now", {}, actor=Actor.named("ada"))
    assert out.result.ok, out.result.error
    assert _keys(api) == [None, None, None]


def test_the_setting_is_checked_changed_audited_and_removed(shop: Triggers) -> None:
    registry = Registry(shop.engine, Keyring.from_texts([KEY]), actor="ada")
    assert registry.get("shop").params["idempotency_header"] == "Idempotency-Key"
    for bad in ("Idempotency Key", "Authorization", "X-API-Key", "content-type"):
        with pytest.raises(RegistryError) as err:
            registry.update("shop", idempotency_header=bad)
        assert err.value.field == "idempotency-header"
    registry.update("shop", idempotency_header="X-Request-Id")
    registry.update("shop", idempotency_header="")
    assert "idempotency_header" not in registry.get("shop").params
    changes = [e["changes"].get("idempotency_header") for e in registry.audit_log("shop")]
    assert changes == [None, ["Idempotency-Key", "X-Request-Id"], ["X-Request-Id", None]]
    assert registry.audit_log("shop")[0]["changes"]["params"]["idempotency_header"] == \
        "Idempotency-Key"


def test_a_key_the_script_sets_itself_is_kept(shop: Triggers, clock: ManualClock,
                                              api: Any) -> None:
    shop.catalog.save("own", 'r = invokeurl [ url: "/orders" type: POST headers: '
                      '{"Idempotency-Key": "invoice-42"} connection: "shop" ];\n'
                      'return r.get("ok");', kind="schedule")
    shop.schedules.add({"name": "own", "script": "own", "timezone": "UTC",
                        "recurrence": {"kind": "once"}, "start": "2025-01-06T10:00"})
    clock.set(dt.datetime(2025, 1, 6, 10, 0, tzinfo=UTC))
    assert _node(shop, "node-a").run_due() == 2      # "orders" and "own"
    keys = _keys(api)
    assert len(keys) == 4 and keys.count("invoice-42") == 1
    assert sum(1 for k in keys if k is not None and k != "invoice-42") == 2
