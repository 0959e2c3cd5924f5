"""Triggers under load: scheduler throughput and lag on PostgreSQL, buttons through the
running service.

    python tests/benchmarks/bench_triggers.py [--occurrences N] [--skip-buttons]
    python tests/benchmarks/bench_triggers.py --faults-only [--lease S]
    python tests/benchmarks/bench_triggers.py --lag-only [--only isolated]
    (every part: [--batch N|default], the workers' --batch, default 64)

1. occurrences/s: N one-off schedules all due at the same instant, two `sluice worker`
   processes on one PostgreSQL database; the rate is N over the time from the due
   instant to the last run recorded (goal >= 1,000/s). Measured with scripts run
   in-process (`--in-process`: the scheduler's own cost), isolated (the default: warm
   children serve up to SLUICE_WARM_RUNS runs of a script) and isolated-cold
   (SLUICE_WARM_RUNS=1: a fresh child per run).
2. due-to-start lag: schedules due at a steady 200/s (then 100/s) for 3 s; the lag of a
   run is its start minus its fire time; p50 and p99 (goal p99 <= 0.5 s). A rate above
   what the workers can run shows up as a growing lag, not as a lost occurrence.
3. button requests/s through `sluice serve` (4 concurrent clients over HTTP, token
   checked, run recorded) against the same script run in-process in a loop, as a ratio.
4. faults: three isolated `sluice worker` nodes with a short lease (`--lease`, default
   3 s) and occurrences due at a steady rate (`--fault-rate`, default 50/s), each run
   waiting 100 ms on a loopback API (so every node has runs in flight); a third of the way in, one node is killed
   (SIGKILL) or its whole process tree frozen (SIGSTOP) for three leases, then resumed.
   Reported: occurrences, lost (a fire time without a successful run), duplicate (run
   records beyond one per occurrence), stuck (still pending or running at the end),
   occurrences/s and the due-to-start lag p50/p99 (the killed node's claims wait for
   their lease to expire), beside the same run without a fault. Goal: 0 lost, 0
   duplicate, 0 stuck.

Needs the local PostgreSQL (`SLUICE_TEST_POSTGRES_URL`, default
postgresql://postgres@127.0.0.1:5432/test); without it, it says so and exits 0. Numbers
are rates and ratios on a shared, noisy machine: compare them side by side, never as
pass/fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from benchworkers import start_workers, stop_workers  # noqa: E402
from proctree import signal_tree  # noqa: E402
from sluice_testdb import empty_postgres, postgres_database, postgres_unreachable  # noqa: E402
from sluicegate.engine import Runtime  # noqa: E402
from sluicegate.limits import PROFILES  # noqa: E402
from sluicegate.service.tokens import TokenBook  # noqa: E402
from sluicegate.store.db import make_engine  # noqa: E402
from sluicegate.store.runs import Run  # noqa: E402
from sluicegate.store.schedules import Occurrence, Schedule  # noqa: E402
from sluicegate.store.scripts import Script  # noqa: E402
from sluicegate.triggers import open_triggers  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

UTC = dt.UTC
TICK = 'info "tick " + n; return n;'
BUTTON = ('fee = invoice.get("total") * 0.02;\n'
          'return {"code": 0, "message": "Fee " + fee};')


def _supports(flag: str, command: str) -> bool:
    out = subprocess.run([sys.executable, "-m", "sluicegate.cli", command, "--help"],
                         capture_output=True, text=True).stdout
    return flag in out


# What each mode sets for the worker and service processes.
MODE_ENV = {"in-process": {}, "isolated": {}, "isolated-cold": {"SLUICE_WARM_RUNS": "1"}}
_mode_env: dict[str, str] = {}
# the workers' --batch ([] when `--batch default`: the worker's own)
_batch: list[str] = ["--batch", "64"]


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "SLUICE_DATABASE_URL": url, "SLUICE_TIMEZONE": "UTC",
            "SLUICE_ALLOW_PRIVATE_HOSTS": "127.0.0.1", **_mode_env}


def _add_once_schedules(url: str, times: list[dt.datetime], source: str = TICK) -> None:
    """Schedules inserted in bulk (adding them one by one through the schedule book
    would take longer than running them)."""
    engine = make_engine(url)
    triggers = open_triggers(engine, migrate=False, node="bench")
    triggers.catalog.save("tick", source, kind="schedule")
    with triggers.sessions() as s:
        script_id = s.scalar(select(Script.id).where(Script.name == "tick"))
        now = dt.datetime.now(UTC)
        rows = [{"name": f"once{i}", "script_id": script_id,
                 "recurrence": {"kind": "once",
                                "start_wall": t.replace(tzinfo=None).isoformat()},
                 "timezone": "UTC", "start_at": t,
                 "misfire": "run_once", "misfire_grace": 60.0, "no_overlap": True,
                 "retries": 0, "retry_backoff": 30.0, "inputs": {"n": i}, "paused": False,
                 "next_fire_at": t, "fired_count": 0, "created_by": "bench",
                 "created_at": now, "updated_at": now} for i, t in enumerate(times)]
        s.execute(insert(Schedule), rows)
        s.commit()
    engine.dispose()


def _workers(url: str, in_process: bool, count: int = 2,
             *options: str) -> list[subprocess.Popen[str]]:
    extra = ["--in-process"] if in_process and _supports("--in-process", "worker") else []
    return start_workers([f"bench{i}" for i in range(count)],
                         ["--poll", "0.05", *_batch, "--concurrency", "4", *extra,
                          *options], _env(url))


def _wait_runs(url: str, n: int, timeout: float) -> None:
    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while True:
            done = conn.execute(select(func.count()).select_from(Run)).scalar_one()
            conn.commit()
            if done >= n:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"only {done} of {n} runs after {timeout:g} s")
            time.sleep(0.05)
    engine.dispose()


def occurrences_per_second(url: str, n: int, in_process: bool) -> float:
    empty_postgres(url)
    procs = _workers(url, in_process)
    try:
        due = dt.datetime.now(UTC) + dt.timedelta(seconds=2 + n / 2000)
        _add_once_schedules(url, [due] * n)
        _wait_runs(url, n, 120)
    finally:
        stop_workers(procs)
    engine = make_engine(url)
    with engine.connect() as conn:
        last = conn.execute(select(func.max(Run.finished_at))).scalar_one()
        count = conn.execute(select(func.count(func.distinct(Run.occurrence_id)))).scalar_one()
    engine.dispose()
    assert count == n, f"{count} distinct occurrences ran, expected {n}"
    return n / max((last - due).total_seconds(), 1e-6)


def lag_percentiles(url: str, in_process: bool, rate: int = 200,
                    seconds: float = 3.0) -> tuple[float, float]:
    empty_postgres(url)
    procs = _workers(url, in_process)
    n = int(rate * seconds)
    try:
        first = dt.datetime.now(UTC) + dt.timedelta(seconds=2)
        _add_once_schedules(url, [first + dt.timedelta(seconds=i / rate) for i in range(n)])
        _wait_runs(url, n, 60)
    finally:
        stop_workers(procs)
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(Run.started_at, Occurrence.fire_at)
                            .join(Occurrence, Occurrence.id == Run.occurrence_id)).all()
    engine.dispose()
    lags = sorted((started - fire).total_seconds() for started, fire in rows)
    return statistics.median(lags), lags[min(len(lags) - 1, int(len(lags) * 0.99))]


def faults(url: str, fault: str, lease: float, rate: int = 50,
           seconds: float = 12.0) -> dict[str, float]:
    """One node of three killed or frozen a third of the way into a steady stream of
    occurrences; what became of every fire time."""
    empty_postgres(url)
    api = _SlowApi(0.1)
    procs = _workers(url, False, 3, "--lease", f"{lease:g}", "--grace", "1")
    n = int(rate * seconds)
    victim = procs[0]
    try:
        first = dt.datetime.now(UTC) + dt.timedelta(seconds=2)
        # each run waits 100 ms on an API, as real jobs do: every node has runs in
        # flight when the fault strikes
        _add_once_schedules(url, [first + dt.timedelta(seconds=i / rate) for i in range(n)],
                            f'r = invokeurl [ url: "{api.url}" type: GET ]; return n;')
        time.sleep(max(0.0, (first - dt.datetime.now(UTC)).total_seconds() + seconds / 3))
        if fault == "SIGKILL":
            victim.kill()
        elif fault == "SIGSTOP":
            frozen = signal_tree(victim.pid, signal.SIGSTOP)
            time.sleep(3 * lease)
            for pid in frozen:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
        _wait_settled(url, n, seconds + 20 * lease + 60)
    finally:
        stop_workers([p for p in procs if p.poll() is None])
        api.close()
    return _fault_report(url, n, first)


class _SlowApi:
    """A loopback API that answers every GET after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                try:
                    self.wfile.write(b"{}")
                except OSError:
                    pass  # the node that asked was killed

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/work"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _wait_settled(url: str, n: int, timeout: float) -> None:
    """Until every fire time has an occurrence that ended (or `timeout` passes: what is
    left then counts as stuck or lost)."""
    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            ended = conn.execute(select(func.count()).select_from(Occurrence).where(
                Occurrence.state.in_(("succeeded", "failed", "skipped")))).scalar_one()
            conn.commit()
            if ended >= n:
                break
            time.sleep(0.1)
    engine.dispose()


def _fault_report(url: str, n: int, first: dt.datetime) -> dict[str, float]:
    engine = make_engine(url)
    with engine.connect() as conn:
        states = dict(conn.execute(select(Occurrence.state, func.count())
                                   .group_by(Occurrence.state)).all())
        rerun = conn.execute(select(func.count()).select_from(Occurrence)
                             .where(Occurrence.reclaims > 0)).scalar_one()
        per_occurrence = conn.execute(select(Run.occurrence_id, func.count())
                                      .group_by(Run.occurrence_id)).all()
        last = conn.execute(select(func.max(Run.finished_at))).scalar_one()
        rows = conn.execute(select(Run.started_at, Occurrence.fire_at)
                            .join(Occurrence, Occurrence.id == Run.occurrence_id)).all()
    engine.dispose()
    lags = sorted((started - fire).total_seconds() for started, fire in rows) or [0.0]
    return {"occurrences": sum(states.values()),
            "lost": n - states.get("succeeded", 0) - states.get("pending", 0)
            - states.get("running", 0),
            "duplicate": sum(count - 1 for _, count in per_occurrence if count > 1),
            "stuck": states.get("pending", 0) + states.get("running", 0),
            "rerun": rerun,
            "rate": n / max((last - first).total_seconds(), 1e-6) if last else 0.0,
            "p50": statistics.median(lags),
            "p99": lags[min(len(lags) - 1, int(len(lags) * 0.99))]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def button_rate(url: str, in_process: bool, seconds: float = 3.0,
                clients: int = 4) -> float:
    empty_postgres(url)
    engine = make_engine(url)
    triggers = open_triggers(engine, migrate=False)
    triggers.catalog.save("late_fee", BUTTON, kind="button", module="invoices")
    token = TokenBook(triggers.sessions).create("runner")[1]
    engine.dispose()
    port = _free_port()
    extra = ["--in-process"] if in_process and _supports("--in-process", "serve") else []
    proc = subprocess.Popen([sys.executable, "-m", "sluicegate.cli", "serve", "--port",
                             str(port), "--no-scheduler", *extra], env=_env(url),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    body = b'{"record": {"total": 250.00}}'
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("sluice serve did not start") from None
                time.sleep(0.1)
        counts = [0] * clients
        stop_at = time.monotonic() + seconds + 0.5

        def client(i: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
                warm_until = time.monotonic() + 0.5
                while time.monotonic() < stop_at:
                    reply = http.post("/api/v1/buttons/late_fee/click", content=body)
                    assert reply.status_code == 200 and reply.json()["code"] == 0, reply.text
                    if time.monotonic() > warm_until:
                        counts[i] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(counts) / seconds
    finally:
        proc.terminate()
        proc.wait(30)


def in_process_rate(seconds: float = 2.0) -> float:
    runtime = Runtime()
    inputs: dict[str, Any] = {"invoice": {"total": 250}}
    limits = PROFILES["button"]
    runtime.run(BUTTON, inputs, limits=limits)
    done = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        runtime.run(BUTTON, inputs, limits=limits)
        done += 1
    return done / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--occurrences", type=int, default=2000)
    parser.add_argument("--skip-buttons", action="store_true")
    parser.add_argument("--only", choices=tuple(MODE_ENV))
    parser.add_argument("--faults-only", action="store_true",
                        help="only the SIGKILL / SIGSTOP runs of part 4")
    parser.add_argument("--lease", type=float, default=3.0,
                        help="the workers' lease in the fault runs (seconds, default 3)")
    parser.add_argument("--fault-rate", type=int, default=50,
                        help="occurrences due per second in the fault runs (default 50)")
    parser.add_argument("--lag-only", action="store_true",
                        help="only the due-to-start lag runs of part 2")
    parser.add_argument("--batch", default="64",
                        help="the workers' --batch (default 64; 'default': the worker's own)")
    args = parser.parse_args()
    _batch[:] = [] if args.batch == "default" else ["--batch", args.batch]
    why = postgres_unreachable()
    if why:
        print(f"skipped: {why}")
        return
    modes = [m for m in MODE_ENV if args.only in (None, m)]
    with postgres_database() as url:
        for fault in () if args.lag_only else ("none", "SIGKILL", "SIGSTOP"):   # "none": the same run, no fault
            r = faults(url, fault, args.lease, rate=args.fault_rate)
            print(f"{fault:<7} of 1 of 3 nodes (lease {args.lease:g} s): occurrences "
                  f"{r['occurrences']:.0f}, lost {r['lost']:.0f}, duplicate "
                  f"{r['duplicate']:.0f}, stuck {r['stuck']:.0f} (run again after a "
                  f"lost lease: {r['rerun']:.0f}), {r['rate']:.0f} "
                  f"occurrences/s, lag p50 {r['p50'] * 1e3:.0f} ms p99 "
                  f"{r['p99'] * 1e3:.0f} ms  (goal: 0 lost, 0 duplicate, 0 stuck)")
        if args.faults_only:
            return
        for mode in () if args.lag_only else modes:
            _mode_env.clear()
            _mode_env.update(MODE_ENV[mode])
            rate = occurrences_per_second(url, args.occurrences, mode == "in-process")
            print(f"occurrences/s, 2 workers, {mode:<10}  {rate:9.0f} /s      "
                  f"(goal >= 1000/s; {args.occurrences} due at once)")
        for mode in modes:
            _mode_env.clear()
            _mode_env.update(MODE_ENV[mode])
            for rate in (200, 100):
                p50, p99 = lag_percentiles(url, mode == "in-process", rate=rate)
                print(f"due-to-start lag, {mode:<10} {rate}/s p50 {p50 * 1e3:6.0f} ms  "
                      f"p99 {p99 * 1e3:6.0f} ms  (goal p99 <= 500 ms; due over 3 s)")
        if not args.skip_buttons and not args.lag_only:
            local = in_process_rate()
            print(f"button run in-process, 1 thread   {local:9.0f} /s")
            for mode in modes:
                _mode_env.clear()
                _mode_env.update(MODE_ENV[mode])
                served = button_rate(url, mode == "in-process")
                print(f"button clicks via serve, {mode:<10} {served:7.0f} /s      "
                      f"ratio {served / local:5.3f} of in-process (4 HTTP clients)")


if __name__ == "__main__":
    main()
