"""`sluice serve` as a process: health, buttons and functions over HTTP run isolated by
default (a script that exhausts its memory ends with a limit error while the service
keeps serving), schedules run by its scheduler, `--in-process` for trusted local use,
and a clean stop on SIGTERM (on SQLite and PostgreSQL)."""

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


# Doubles a text to 8 MB, then keeps 80 copies: far past the 512 MB memory limit of a
# run, while every single value stays under the text and element limits.
_ONE_TO = "{" + ",".join(str(i) for i in range(1, 81)) + "}"
HOG = ('big = "x";\n'
       f'for each i in {_ONE_TO[:_ONE_TO.index(",24,")]}}} {{ big = big + big; }}\n'
       'keep = List();\n'
       f'for each i in {_ONE_TO} {{ keep.add(big + i); }}\n'
       'return keep.size();')


def _start(db_url: str, *extra: str) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sluicegate.cli", "serve", "--port",
                             str(port), "--poll", "0.1", "--grace", "5", *extra],
                            env={**os.environ, "SLUICE_DATABASE_URL": db_url},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc, port


def _health(http: httpx.Client, proc: subprocess.Popen[str]) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 30
    while True:
        try:
            return dict(http.get("/healthz").json())
        except httpx.TransportError:
            assert proc.poll() is None, "sluice serve exited early"
            assert time.monotonic() < deadline, "sluice serve did not start"
            time.sleep(0.1)


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
    triggers.catalog.save("hog", HOG, kind="function")
    triggers.schedules.add({"name": "tick", "script": "tick", "recurrence": {"kind": "once"},
                            "start": "2099-01-01T00:00"})
    engine.dispose()
    proc, port = _start(db_url)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            health = _health(http, proc)
            assert (health["scheduler"], health["executor"]) == ("running", "isolated")
            click = http.post("/api/v1/buttons/late_fee/click", headers=runner,
                              content=b'{"record": {"total": 250.00}}').json()
            assert (click["code"], click["message"]) == (0, "Fee 5.0000")
            run = http.get(f"/api/v1/runs/{click['run_id']}", headers=runner).json()
            assert run["stats"]["isolated"] is True
            hog = http.post("/api/v1/functions/hog/execute", headers=runner, json={}).json()
            assert (hog["status"], hog["error"]["type"]) == ("failure", "LimitExceeded")
            assert "Memory limit" in hog["error"]["message"]
            assert http.get(f"/api/v1/runs/{hog['run_id']}",
                            headers=runner).json()["status"] == "failure"
            assert http.get("/healthz").json()["status"] == "ok"
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


def test_serve_in_process_runs_scripts_on_its_own_threads(db_url: str) -> None:
    engine = make_engine(db_url)
    triggers = open_triggers(engine, migrate=False)
    runner = {"Authorization": "Bearer " + TokenBook(triggers.sessions).create("runner")[1]}
    triggers.catalog.save("double", "return n * 2;", kind="function")
    engine.dispose()
    proc, port = _start(db_url, "--in-process", "--no-scheduler")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            health = _health(http, proc)
            assert (health["scheduler"], health["executor"]) == ("off", "in-process")
            result = http.post("/api/v1/functions/double/execute", headers=runner,
                               json={"inputs": {"n": 4}}).json()
            assert (result["return"], result["stats"].get("isolated")) == (8, None)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
