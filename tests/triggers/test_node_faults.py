"""Real `sluice worker` processes on PostgreSQL, killed (SIGKILL), frozen past their lease
(SIGSTOP) or robbed of their lease mid-run: the running script dies with its node or
within 2 s of the lease being lost, the occurrence runs again elsewhere, and exactly one
run is recorded for it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from proctree import alive, descendants, running_script, signal_tree
from sluice_testdb import wait_until
from sluicegate.store.db import make_engine
from sluicegate.store.runs import Run
from sluicegate.store.schedules import Occurrence
from sluicegate.triggers import open_triggers
from sluicegate.triggers.clock import SystemClock
from sluicegate.triggers.setup import Triggers
from sqlalchemy import select, text

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="parent-death signals and /proc are Linux's")


class _HeldHandler(BaseHTTPRequestHandler):
    """The first GET waits until the test releases it; later ones answer at once."""

    def do_GET(self) -> None:
        server: Any = self.server
        with server.lock:
            server.hits += 1
            first = server.hits == 1
        if first:
            server.release.wait(60)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the worker that asked is gone

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def held_api() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _HeldHandler)
    server.daemon_threads = True
    server.hits = 0
    server.lock = threading.Lock()
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture
def triggers(postgres_url: str) -> Iterator[Triggers]:
    engine = make_engine(postgres_url)
    found = open_triggers(engine, migrate=False, node="test")
    found.clock = found.schedules.clock = SystemClock()
    yield found
    engine.dispose()


def _worker(url: str, node: str, lease: float, log: Path,
            processes: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    env = {**os.environ, "SLUICE_DATABASE_URL": url, "SLUICE_TIMEZONE": "UTC",
           "SLUICE_ALLOW_PRIVATE_HOSTS": "127.0.0.1"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sluicegate.cli", "worker", "--node", node, "--poll",
             "0.05", "--lease", str(lease), "--concurrency", "2", "--grace", "1"],
            env=env, stdout=subprocess.DEVNULL, stderr=out, text=True)
    processes.append(proc)
    wait_until(lambda: "ready" in log.read_text() or proc.poll() is not None, 60,
               f"worker {node} to start")
    assert proc.poll() is None, log.read_text()
    return proc


def _held_schedule(triggers: Triggers, server: Any) -> int:
    port = server.server_address[1]
    triggers.catalog.save("call", f'r = invokeurl [ url: "http://127.0.0.1:{port}/held" '
                          'type: GET ];\ninfo "called"; return r.get("ok");',
                          kind="schedule")
    triggers.schedules.add({"name": "call", "script": "call", "recurrence": {"kind": "once"},
                            "start": "2099-01-01T00:00"})
    return triggers.schedules.run_now("call").id


def _occurrence(triggers: Triggers, occurrence: int) -> Occurrence:
    with triggers.sessions() as s:
        found = s.get(Occurrence, occurrence)
        assert found is not None
        return found


def _runs(triggers: Triggers, occurrence: int) -> list[tuple[str, int, str]]:
    with triggers.sessions() as s:
        return [(r.node, r.attempt, r.status) for r in s.scalars(
            select(Run).where(Run.occurrence_id == occurrence).order_by(Run.id))]


def _script_of(worker: subprocess.Popen[str]) -> int:
    found: list[int] = []

    def spotted() -> bool:
        pid = running_script(worker.pid)
        if pid is not None:
            found.append(pid)
        return pid is not None
    wait_until(spotted, 20, "the isolated child running the script")
    return found[0]


def _gone_within(pids: list[int], seconds: float, what: str) -> float:
    started = time.monotonic()
    wait_until(lambda: not any(alive(p) for p in pids), max(seconds, 10.0), what)
    took = time.monotonic() - started
    assert took <= seconds, f"{what} took {took:.2f} s"
    return took


# About 20 ms of computing a loop, never a word to the parent: a child that outlived its
# node would go on for n loops (a minute for 3000), as orphans did before.
BUSY = """t = leftpad("", 1000000);
l = leftpad("", n).replaceAll(" ", "x,").toList(",");
c = 0;
for each i in l { c = c + t.replaceAll(" ", "ab").length(); }
return c;"""


def test_a_worker_killed_with_sigkill_takes_its_running_script_along(
        triggers: Triggers, postgres_url: str, tmp_path: Path,
        processes: list[subprocess.Popen[str]]) -> None:
    doomed = _worker(postgres_url, "doomed", 2.0, tmp_path / "doomed.log", processes)
    triggers.catalog.save("busy", BUSY, kind="schedule")
    triggers.schedules.add({"name": "busy", "script": "busy", "recurrence": {"kind": "once"},
                            "start": "2099-01-01T00:00", "inputs": {"n": 3000}})
    occurrence = triggers.schedules.run_now("busy").id
    script = _script_of(doomed)
    tree = descendants(doomed.pid)          # the zygote, its spares and the script
    assert script in tree and len(tree) >= 2
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    _gone_within(tree, 2.0, "the zygote and the running script to die with their worker")
    with triggers.engine.begin() as conn:   # the re-run need not take as long
        conn.execute(text("UPDATE schedules SET inputs = :i"), {"i": '{"n": 1}'})
    rescuer = _worker(postgres_url, "rescuer", 2.0, tmp_path / "rescuer.log", processes)
    wait_until(lambda: _occurrence(triggers, occurrence).state == "succeeded", 30,
               "the rescuer to re-claim and run the occurrence")
    assert _runs(triggers, occurrence) == [("rescuer", 2, "success")]
    rescuer.send_signal(signal.SIGTERM)
    assert rescuer.wait(30) == 0


def test_a_worker_that_loses_its_lease_kills_its_run_and_records_nothing(
        triggers: Triggers, postgres_url: str, held_api: Any, tmp_path: Path,
        processes: list[subprocess.Popen[str]]) -> None:
    log = tmp_path / "w1.log"
    worker = _worker(postgres_url, "w1", 3.0, log, processes)
    occurrence = _held_schedule(triggers, held_api)
    wait_until(lambda: held_api.hits >= 1, 30, "the script's HTTP call")
    script = _script_of(worker)
    with triggers.engine.begin() as conn:   # another node takes the occurrence over
        conn.execute(text("UPDATE schedule_occurrences SET attempt = attempt + 1, "
                          "lease_owner = 'thief', lease_expires_at = now() + interval "
                          "'1 hour' WHERE id = :id"), {"id": occurrence})
    # a heartbeat comes every third of the lease; the kill follows it at once
    _gone_within([script], 1.0 + 2.0, "the run's child to be killed once the lease was lost")
    assert worker.poll() is None and held_api.hits == 1
    held_api.release.set()                  # its HTTP call returns: still nothing recorded
    wait_until(lambda: "superseded" in log.read_text(), 20, "the run to be logged superseded")
    assert "lease lost to another node" in log.read_text()
    assert _runs(triggers, occurrence) == []
    occ = _occurrence(triggers, occurrence)
    assert (occ.state, occ.lease_owner, occ.attempt) == ("running", "thief", 2)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_a_worker_frozen_past_its_lease_stops_its_run_on_waking_and_records_nothing(
        triggers: Triggers, postgres_url: str, held_api: Any, tmp_path: Path,
        processes: list[subprocess.Popen[str]]) -> None:
    frozen_log = tmp_path / "frozen.log"
    frozen = _worker(postgres_url, "frozen", 2.0, frozen_log, processes)
    occurrence = _held_schedule(triggers, held_api)
    wait_until(lambda: held_api.hits >= 1, 30, "the script's HTTP call")
    script = _script_of(frozen)
    other = _worker(postgres_url, "other", 2.0, tmp_path / "other.log", processes)
    stopped = signal_tree(frozen.pid, signal.SIGSTOP)   # the whole tree, as a VM pause
    try:
        wait_until(lambda: _occurrence(triggers, occurrence).state == "succeeded", 30,
                   "the other node to re-claim and run the occurrence")
    finally:
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
    _gone_within([script], 2.0, "the frozen node's run to be stopped when it woke")
    held_api.release.set()
    wait_until(lambda: "superseded" in frozen_log.read_text(), 20,
               "the frozen node to log its run superseded")
    assert _runs(triggers, occurrence) == [("other", 2, "success")]
    occ = _occurrence(triggers, occurrence)
    assert (occ.state, occ.attempt, occ.reclaims) == ("succeeded", 2, 1)
    for proc in (frozen, other):
        proc.send_signal(signal.SIGTERM)
    assert [proc.wait(30) for proc in (frozen, other)] == [0, 0]
