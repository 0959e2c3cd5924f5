"""Exactly one token refresh per connection, however many runs need it at once: 50
threads of one process, two registries (nodes) on one database, and two processes on
SQLite and on PostgreSQL (one claims the refresh lease, the others wait for its
generation)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import update

from sluicegate.connections.keyring import Keyring, generate_key
from sluicegate.connections.registry import Registry
from sluicegate.engine import RunResult, Runtime
from sluicegate.examples.provider import LocalProvider
from sluicegate.http.broker import Broker
from sluicegate.store.connections import ConnectionCredential
from sluicegate.store.db import make_engine
from sluicegate.store.migrate import upgrade

from connlab import Clock, Leaks, add_oauth2, authorize

_WORKER = Path(__file__).with_name("refresh_worker.py")


def _script(provider: LocalProvider) -> str:
    return (f'r = invokeurl [ url: "{provider.api_base}/invoices" type: GET '
            f'parameters: {{"organization_id": "1"}} connection: "zb" ]; return r.get("code");')


def _concurrently(runtimes: list[Runtime], source: str, count: int, leaks: Leaks
                  ) -> list[RunResult]:
    barrier = threading.Barrier(count)
    results: list[RunResult] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        barrier.wait()
        result = runtimes[i % len(runtimes)].run(source, {})
        with lock:
            results.append(result)
            leaks.output(result.to_json_text())

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_fifty_runs_on_an_expired_token_cause_exactly_one_refresh(
        registry: Registry, provider: LocalProvider, clock: Clock, connected: str,
        broker: Broker, leaks: Leaks) -> None:
    provider.set_token_delay(0.2)
    clock.offset += 7200
    results = _concurrently([Runtime(broker=broker)], _script(provider), 50, leaks)
    assert [r.value for r in results] == [0] * 50
    assert provider.counts["refresh_token"] == 1
    assert {c["token_generation"] for r in results for c in r.http} == {2}


def test_fifty_runs_rejected_with_401_cause_exactly_one_refresh(
        registry: Registry, provider: LocalProvider, connected: str, broker: Broker,
        leaks: Leaks) -> None:
    provider.set_token_delay(0.2)
    provider.expire_access_tokens()  # only the provider knows: every call gets a 401
    results = _concurrently([Runtime(broker=broker)], _script(provider), 50, leaks)
    assert [r.value for r in results] == [0] * 50
    assert provider.counts["refresh_token"] == 1
    assert all(r.http[0]["token_generation"] == 2 for r in results)


def test_two_registries_on_one_database_refresh_once(
        db_url: str, keyring: Keyring, registry: Registry, provider: LocalProvider,
        clock: Clock, connected: str, leaks: Leaks) -> None:
    engine = make_engine(db_url)
    second = Registry(engine, keyring, clock=clock)
    brokers = [Broker(registry), Broker(second)]
    try:
        provider.set_token_delay(0.2)
        clock.offset += 7200
        results = _concurrently([Runtime(broker=b) for b in brokers], _script(provider), 40,
                                leaks)
        assert [r.value for r in results] == [0] * 40
        assert provider.counts["refresh_token"] == 1
    finally:
        for b in brokers:
            b.close()
        second.close()
        engine.dispose()


def test_two_processes_refresh_once(shared_db: tuple[str, str], provider: LocalProvider,
                                    tmp_path: Path, leaks: Leaks) -> None:
    url, schema = shared_db
    options = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema != "-" else {}
    engine = make_engine(url, **options)
    key = leaks.secret(generate_key())
    upgrade(engine)
    registry = Registry(engine, Keyring.from_texts([key]))
    try:
        add_oauth2(registry, provider)
        authorize(registry, provider)
        with engine.begin() as conn:  # the token expires for everyone
            conn.execute(update(ConnectionCredential).values(expires_at=0.0))
        provider.set_token_delay(0.3)
        go = tmp_path / "go"
        env = {**os.environ, "SLUICE_MASTER_KEY": key}
        workers = [subprocess.Popen(
            [sys.executable, str(_WORKER), url, schema, "zb", provider.api_base, str(go), "25"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(2)]
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        go.touch()
        reports = []
        for worker in workers:
            out, err = worker.communicate(timeout=60)
            leaks.output(out + err)
            assert worker.returncode == 0, err
            reports.append(json.loads(out.strip().splitlines()[-1]))
        assert [r["ok"] for r in reports] == [25, 25], reports
        assert provider.counts["refresh_token"] == 1
        assert all(r["generations"] == [2] for r in reports), reports
        if schema != "-":  # the lease really was taken on PostgreSQL
            assert engine.dialect.name == "postgresql"
    finally:
        registry.close()
        engine.dispose()
