"""`sluice serve` as a process: health, buttons and functions over HTTP, schedules run by
its scheduler, and a clean stop on SIGTERM (on SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
from sluicegate.service.tokens import TokenBook
from sluicegate.store.db import make_engine
from sluicegate.triggers import open_triggers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_buttons_functions_and_runs_schedules_until_sigterm(db_url: str) -> None:
    engine = make_engine(db_url)
    triggers = open_triggers(engine, migrate=False)
    tokens = TokenBook(triggers.sessions)
    runner = {"Authorization": "Bearer " + tokens.create("runner")[1]}
    admin = {"Authorization": "Bearer " + tokens.create("admin")[1]}
    triggers.catalog.save("late_fee", 'fee = invoice.get("total") * 0.02;\n'
                          'return {"code": 0, "message": "Fee " + fee};', kind="button",
                          module="invoices")
    triggers.catalog.save("double", "return n * 2;", kind="function")
    triggers.catalog.save("tick", 'info "tick";', kind="schedule")
    triggers.schedules.add({"name": "tick", "script": "tick", "recurrence": {"kind": "once"},
                            "start": "2099-01-01T00:00"})
    engine.dispose()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sluicegate.cli", "serve", "--port",
                             str(port), "--poll", "0.1", "--grace", "5"],
                            env={**os.environ, "SLUICE_DATABASE_URL": db_url},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    health = http.get("/healthz")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, "sluice serve exited early"
                    assert time.monotonic() < deadline, "sluice serve did not start"
                    time.sleep(0.1)
            assert health.json()["scheduler"] == "running"
            click = http.post("/api/v1/buttons/late_fee/click", headers=runner,
                              content=b'{"record": {"total": 250.00}}').json()
            assert (click["code"], click["message"]) == (0, "Fee 5.0000")
            result = http.post("/api/v1/functions/double/execute", headers=runner,
                               json={"inputs": {"n": 21}}).json()
            assert (result["status"], result["return"]) == ("success", 42)
            assert http.post("/api/v1/schedules/tick/run-now",
                             headers=admin).status_code == 202
            deadline = time.monotonic() + 10
            while not http.get("/api/v1/runs?trigger=schedule", headers=runner).json()["runs"]:
                assert time.monotonic() < deadline, "the scheduler did not run the schedule"
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
