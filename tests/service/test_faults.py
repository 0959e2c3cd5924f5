"""Faults under load, on SQLite and PostgreSQL where they apply: the database connection
lost in the middle of a run, a full disk under the run history, a worker stopped with
SIGTERM and one killed with SIGKILL while a run is in flight. Each leaves a clear record
(a run recorded once, or an occurrence handed back or re-claimed with its reason), never
half of one, and the service keeps serving afterwards."""

from __future__ import annotations

import datetime as dt
import errno
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from servicelab import LiveServer
from sluice_testdb import wait_until
from sluicegate.engine import RunResult
from sluicegate.limits import Limits
from sluicegate.service.app import create_app
from sluicegate.service.tokens import TokenBook
from sluicegate.store.db import make_engine
from sluicegate.store.runs import Run
from sluicegate.store.schedules import Occurrence
from sluicegate.triggers import SchedulerNode, SchedulerSettings, open_triggers
from sluicegate.triggers.clock import SystemClock
from sluicegate.triggers.executor import Executor
from sluicegate.triggers.launcher import Actor
from sluicegate.triggers.scheduler import Scheduler
from sluicegate.triggers.setup import Triggers
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.pool import NullPool

ME = Actor.named("ada")
UTC = dt.UTC


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def triggers(engine: Engine) -> Triggers:
    found = open_triggers(engine, migrate=False, node="node-a")
    found.clock = SystemClock()
    found.schedules.clock = SystemClock()
    return found


def _runs(triggers: Triggers) -> list[tuple[str, str, int | None]]:
    with triggers.sessions() as s:
        return [(r.trigger, r.status, r.occurrence_id)
                for r in s.scalars(select(Run).order_by(Run.id))]


def _kill_other_backends(url: str) -> int:
    """Terminate every other session on this database (what a failover or an
    administrator does), from a connection of its own."""
    admin = make_engine(url, poolclass=NullPool)
    with admin.connect() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
        conn.commit()
    admin.dispose()
    return int(killed)


class _During:
    """An executor that does something (kill connections, fill the disk) mid-run."""

    def __init__(self, inner: Executor, action: Callable[[], Any]) -> None:
        self.inner, self.action = inner, action

    def execute(self, source: str, inputs: dict[str, Any], limits: Limits, *,
                entry: str | None = None, filename: str = "<script>",
                **run: Any) -> RunResult:
        self.action()
        return self.inner.execute(source, inputs, limits, entry=entry, filename=filename,
                                  **run)


# -- the database connection lost ------------------------------------------------------------
def test_a_function_whose_database_connections_die_mid_run_is_recorded_once(
        postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    triggers = open_triggers(engine, migrate=False)
    triggers.catalog.save("double", "return n * 2;", kind="function")
    killed: list[int] = []
    triggers.launcher.executor = _During(triggers.executor,
                                         lambda: killed.append(_kill_other_backends(
                                             postgres_url)))
    out = triggers.launcher.execute_function("double", {"n": 21}, actor=ME)
    assert killed and killed[0] >= 1   # the pooled connection the catalog used died
    assert (out.result.status, out.result.value) == ("success", 42)
    assert [r.id for r in triggers.history.list()] == [out.run_id]
    engine.dispose()


def test_a_settlement_cut_off_by_a_lost_connection_writes_nothing_and_is_written_once_later(
        postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    triggers = open_triggers(engine, migrate=False, node="node-a")
    triggers.catalog.save("tick", 'info "tick"; return 1;', kind="schedule")
    triggers.schedules.add({"name": "tick", "script": "tick", "recurrence": {"kind": "once"},
                            "start": "2099-01-01T00:00"})
    occurrence = triggers.schedules.run_now("tick").id
    scheduler = Scheduler(triggers.sessions, triggers.executor, triggers.history,
                          settings=SchedulerSettings(lease=30), node="node-a")
    now = dt.datetime.now(UTC)
    [claim] = scheduler.claim(now, 10)
    done = scheduler.execute(claim)
    values = scheduler.history.values   # the record of each run of a finished batch
    cut = []

    def values_then_cut(**fields: Any) -> dict[str, Any]:
        if not cut:   # inside finish's transaction: its connection dies now
            cut.append(_kill_other_backends(postgres_url))
        return values(**fields)

    scheduler.history.values = values_then_cut  # type: ignore[method-assign]
    with pytest.raises(Exception) as failure:
        scheduler.finish([done])
    assert "terminat" in str(failure.value).lower() or "closed" in str(failure.value).lower()
    with triggers.sessions() as s:       # nothing of the failed transaction is kept
        assert s.scalar(select(func.count()).select_from(Run)) == 0
        assert s.get(Occurrence, occurrence).state == "running"  # type: ignore[union-attr]
    scheduler.finish([done], again=True)
    scheduler.finish([done], again=True)  # a second retry changes nothing
    assert _runs(triggers) == [("schedule", "success", occurrence)]
    [occ] = triggers.schedules.occurrences("tick")
    assert (occ.state, occ.attempt) == ("succeeded", 1)
    engine.dispose()


# -- a full disk -------------------------------------------------------------------------------
class _Disk:
    """Makes every write to the runs table fail with ENOSPC while `full` is set."""

    def __init__(self, engine: Engine) -> None:
        self.full = False
        self.refused = 0
        event.listen(engine, "before_cursor_execute", self._check)

    def _check(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.full and statement.lstrip().upper().startswith("INSERT INTO RUNS"):
            self.refused += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_under_the_run_history_answers_503_with_the_result_and_keeps_serving(
        engine: Engine, triggers: Triggers) -> None:
    disk = _Disk(engine)
    tokens = TokenBook(triggers.sessions)
    runner = {"Authorization": "Bearer " + tokens.create("runner")[1]}
    triggers.catalog.save("double", 'info "doubling"; return n * 2;', kind="function")
    with LiveServer(create_app(triggers, tokens)) as server, \
            httpx.Client(base_url=server.url, timeout=10, headers=runner) as http:
        disk.full = True
        answer = http.post("/api/v1/functions/double/execute", json={"inputs": {"n": 4}})
        assert answer.status_code == 503
        body = answer.json()
        assert body["error"]["type"] == "Unavailable"
        assert body["error"]["message"] == ("The run finished but could not be recorded: "
                                            "No space left on device (disk full)")
        assert (body["result"]["status"], body["result"]["return"]) == ("success", 8)
        assert http.get("/healthz").json()["status"] == "ok"
        assert http.get("/api/v1/runs").json()["runs"] == []   # nothing half-written
        disk.full = False
        again = http.post("/api/v1/functions/double/execute", json={"inputs": {"n": 5}})
        assert (again.status_code, again.json()["return"]) == (200, 10)
        assert [r["id"] for r in http.get("/api/v1/runs").json()["runs"]] == [
            again.json()["run_id"]]
    assert disk.refused == 1


def test_a_sqlite_database_that_runs_out_of_pages_answers_503_and_recovers(
        tmp_path: Any) -> None:
    """The real SQLite 'database or disk is full' error, by capping the file's pages."""
    from sluice_testdb import sqlite_template

    url = f"sqlite:///{sqlite_template(tmp_path)}"
    engine = make_engine(url)
    cap = {"pages": 0}

    @event.listens_for(engine, "checkout")
    def _cap(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages + cap['pages'] if cap['pages'] else 1 << 30}")
        cursor.close()

    triggers = open_triggers(engine, migrate=False)
    tokens = TokenBook(triggers.sessions)
    runner = {"Authorization": "Bearer " + tokens.create("runner")[1]}
    triggers.catalog.save("chatty", 'for each i in {1,2,3,4,5,6,7,8} { info "' + "x" * 4000
                          + '" + i; }\nreturn 1;', kind="function")
    with LiveServer(create_app(triggers, tokens)) as server, \
            httpx.Client(base_url=server.url, timeout=10, headers=runner) as http:
        cap["pages"] = 1
        answer = http.post("/api/v1/functions/chatty/execute", json={})
        assert answer.status_code == 503
        assert "database or disk is full" in answer.json()["error"]["message"]
        assert answer.json()["result"]["status"] == "success"
        cap["pages"] = 0
        assert http.get("/api/v1/runs").json()["runs"] == []
        assert http.post("/api/v1/functions/chatty/execute", json={}).status_code == 200
        assert len(http.get("/api/v1/runs").json()["runs"]) == 1
    engine.dispose()


def test_a_scheduled_run_whose_record_hits_a_full_disk_is_recorded_once_the_disk_frees(
        engine: Engine, triggers: Triggers) -> None:
    disk = _Disk(engine)
    triggers.catalog.save("tick", 'info "tick"; return 1;', kind="schedule")
    triggers.schedules.add({"name": "tick", "script": "tick", "recurrence": {"kind": "once"},
                            "start": "2099-01-01T00:00"})
    scheduler = Scheduler(triggers.sessions, triggers.executor, triggers.history,
                          settings=SchedulerSettings(lease=30), node="node-a")
    node = SchedulerNode(scheduler, poll=0.05)
    disk.full = True
    node.start()
    try:
        occurrence = triggers.schedules.run_now("tick").id
        wait_until(lambda: disk.refused >= 2, 10, "the record to be refused and retried")
        with triggers.sessions() as s:
            held = s.get(Occurrence, occurrence)
            assert held is not None
            assert (held.state, held.lease_owner) == ("running", "node-a")
        assert _runs(triggers) == []
        disk.full = False
        wait_until(lambda: triggers.schedules.occurrences("tick")[0].state == "succeeded", 10,
              "the run to be recorded")
    finally:
        node.stop(5)
    assert _runs(triggers) == [("schedule", "success", occurrence)]
    assert node.errors >= 2
    assert triggers.schedules.occurrences("tick")[0].attempt == 1


# -- workers stopped or killed mid-run -----------------------------------------------------------
class _SlowHandler(BaseHTTPRequestHandler):
    """GET /slow?hold=S answers after S seconds."""

    def do_GET(self) -> None:
        query = dict(parse_qsl(urlsplit(self.path).query))
        self.server.hits += 1  # type: ignore[attr-defined]
        # a hold that ends when the test's server stops: no thread outlives its test
        self.server.stopping.wait(float(query.get("hold", "0")))  # type: ignore[attr-defined]
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class _SlowServer(ThreadingHTTPServer):
    """Stops whole: held requests end, and server_close joins their threads."""

    daemon_threads = False
    block_on_close = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SlowHandler)
        self.hits = 0
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a killed worker) is expected here, not a failure."""


@pytest.fixture
def slow_api() -> Iterator[ThreadingHTTPServer]:
    server = _SlowServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(10)


def _worker(url: str, node: str, processes: list[subprocess.Popen[str]], *extra: str) -> \
        subprocess.Popen[str]:
    env = {**os.environ, "SLUICE_DATABASE_URL": url, "SLUICE_TIMEZONE": "UTC",
           "SLUICE_ALLOW_PRIVATE_HOSTS": "127.0.0.1"}
    proc = subprocess.Popen([sys.executable, "-m", "sluicegate.cli", "worker", "--node",
                             node, "--poll", "0.05", *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    processes.append(proc)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "ready" in line:
            assert "isolated" in line
            threading.Thread(target=lambda: [None for _ in proc.stderr],  # type: ignore
                             daemon=True).start()
            return proc
    raise AssertionError(f"worker {node} exited before it was ready ({proc.wait()})")


def _slow_schedule(triggers: Triggers, server: ThreadingHTTPServer, hold: float) -> int:
    port = server.server_address[1]
    triggers.catalog.save("slow", f'r = invokeurl [ url: "http://127.0.0.1:{port}/slow" '
                          f'type: GET parameters: {{"hold": hold}} ];\nreturn r.get("ok");',
                          kind="schedule")
    triggers.schedules.add({"name": "slow", "script": "slow", "recurrence": {"kind": "once"},
                            "start": "2099-01-01T00:00", "inputs": {"hold": hold}})
    return triggers.schedules.run_now("slow").id


def _occurrence(triggers: Triggers, occurrence: int) -> Occurrence:
    with triggers.sessions() as s:
        found = s.get(Occurrence, occurrence)
        assert found is not None
        return found


@pytest.mark.parametrize("hold, grace, outcome", [(1.0, 10.0, "finished"),
                                                  (30.0, 0.5, "re-queued")])
def test_a_worker_stopped_with_sigterm_finishes_or_hands_back_its_run(
        triggers: Triggers, db_url: str, slow_api: ThreadingHTTPServer,
        processes: list[subprocess.Popen[str]], hold: float, grace: float,
        outcome: str) -> None:
    worker = _worker(db_url, "w1", processes, "--grace", str(grace))
    occurrence = _slow_schedule(triggers, slow_api, hold)
    wait_until(lambda: slow_api.hits >= 1, 20, "the run to start")  # type: ignore[attr-defined]
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    occ = _occurrence(triggers, occurrence)
    if outcome == "finished":
        assert (occ.state, occ.attempt) == ("succeeded", 1)
        assert _runs(triggers) == [("schedule", "success", occurrence)]
        return
    assert (occ.state, occ.attempt, occ.lease_owner) == ("pending", 0, None)
    assert occ.reason == "re-queued: node w1 stopped before the run ended"
    assert _runs(triggers) == []
    _wait_rescue(triggers, db_url, processes, occurrence)


def _wait_rescue(triggers: Triggers, db_url: str, processes: list[subprocess.Popen[str]],
                 occurrence: int) -> None:
    with triggers.engine.begin() as conn:   # the retry need not wait as long
        conn.execute(text("UPDATE schedules SET inputs = :i"), {"i": '{"hold": 0.1}'})
    _worker(db_url, "w2", processes)
    wait_until(lambda: _occurrence(triggers, occurrence).state == "succeeded", 30,
          "another worker to run the handed-back occurrence")
    assert _runs(triggers) == [("schedule", "success", occurrence)]


def test_a_worker_killed_mid_run_leaves_a_lease_that_another_worker_reclaims(
        triggers: Triggers, db_url: str, slow_api: ThreadingHTTPServer,
        processes: list[subprocess.Popen[str]]) -> None:
    doomed = _worker(db_url, "doomed", processes, "--lease", "1")
    occurrence = _slow_schedule(triggers, slow_api, 30.0)
    wait_until(lambda: slow_api.hits >= 1, 20, "the run to start")  # type: ignore[attr-defined]
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    occ = _occurrence(triggers, occurrence)
    assert (occ.state, occ.lease_owner) == ("running", "doomed")
    _wait_rescue(triggers, db_url, processes, occurrence)
    occ = _occurrence(triggers, occurrence)
    assert (occ.attempt, occ.reclaims) == (2, 1)
    assert occ.reason == "re-claimed after the lease of doomed expired"


# -- the isolation zygote lost ---------------------------------------------------------------
def test_a_dead_isolation_zygote_is_replaced_and_runs_go_on(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from sluicegate.service.server import start_zygote

    monkeypatch.setenv("SLUICE_WARM_RUNS", "1")  # every run asks the zygote for a child
    forker = start_zygote()
    try:
        triggers = open_triggers(engine, migrate=False, forker=forker)
        triggers.catalog.save("double", "return n * 2;", kind="function")
        first = triggers.launcher.execute_function("double", {"n": 1}, actor=ME)
        assert (first.result.value, first.result.stats["isolated"]) == (2, True)
        zygote = forker.current.process
        zygote.kill()
        zygote.wait(10)
        out = triggers.launcher.execute_function("double", {"n": 2}, actor=ME)
        assert (out.result.status, out.result.value) == ("success", 4), out.result.error
        assert out.result.stats["isolated"] is True
        assert forker.restarts == 1 and forker.current.process.poll() is None
        assert [r.status for r in triggers.history.list()] == ["success", "success"]
    finally:
        forker.close()
