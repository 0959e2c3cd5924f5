"""Isolated occurrences/s across three worker nodes on PostgreSQL (issue 17 point 4).

    python tests/benchmarks/bench_nodes.py [--occurrences N] [--nodes 3] [--modes warm,cold]
                                           [--concurrency C] [--batch B] [--poll S]
                                           [--direct]

N one-off schedules of a small script (`info "tick " + n; return n;`) all fall due at
the same instant; three `sluice worker` processes (isolated runs, the default, and the
worker's own `--batch` unless one is given), started and ready before that instant,
materialize, claim, run and record them. The rate is N over the time from the due
instant to the last run recorded (goal >= 1,000/s, 0 lost, 0 duplicate). `--direct`
inserts the occurrences themselves instead of schedules (the rate without
materialization). Each mode runs against the same emptied database, side
by side in one invocation:

    warm   warm children serve up to SLUICE_WARM_RUNS (default 50) runs of the script
    cold   SLUICE_WARM_RUNS=1: a fresh zygote-forked child per run

After each mode, SQL checks: every occurrence succeeded exactly once (lost = occurrences
without a successful run, duplicate = run records beyond one per occurrence, stuck =
occurrences still pending or running), and what the CPU went to while the nodes worked:
the node processes with their zygotes and run children, and the PostgreSQL backends
serving the nodes, in ms of CPU per occurrence (from /proc: user + system, children
included once reaped), with what that means on this machine's cores as a ceiling.

Needs the local PostgreSQL (`SLUICE_TEST_POSTGRES_URL`, default
postgresql://postgres@127.0.0.1:5432/test); without it, it says so and exits 0. It
creates a temporary database and drops it at the end. The machine is shared and noisy:
compare the modes side by side, never as pass/fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchworkers import start_workers, stop_workers  # noqa: E402
from sluice_testdb import empty_postgres, postgres_database, postgres_unreachable  # noqa: E402
from sluicegate.store.db import make_engine  # noqa: E402
from sluicegate.store.runs import Run  # noqa: E402
from sluicegate.store.schedules import Occurrence, Schedule  # noqa: E402
from sluicegate.store.scripts import Script  # noqa: E402
from sluicegate.triggers import open_triggers  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

UTC = dt.UTC
TICK = 'info "tick " + n; return n;'
MODES = {"warm": {}, "cold": {"SLUICE_WARM_RUNS": "1"}}
_TICKS = os.sysconf("SC_CLK_TCK")


def _env(url: str, mode: str) -> dict[str, str]:
    return {**os.environ, "SLUICE_DATABASE_URL": url, "SLUICE_TIMEZONE": "UTC",
            "SLUICE_LOG_FORMAT": "json", **MODES[mode]}


def _add_work(url: str, due: dt.datetime, n: int, direct: bool) -> None:
    """N schedules (or, with `direct`, N pending occurrences) due at `due`, in bulk."""
    engine = make_engine(url)
    triggers = open_triggers(engine, migrate=False, node="bench")
    triggers.catalog.save("tick", TICK, kind="schedule")
    now = dt.datetime.now(UTC)
    with triggers.sessions() as s:
        script_id = s.scalar(select(Script.id).where(Script.name == "tick"))
        wall = due.replace(tzinfo=None).isoformat()
        rows = [{"name": f"once{i}", "script_id": script_id,
                 "recurrence": {"kind": "once", "start_wall": wall},
                 "timezone": "UTC", "start_at": due, "misfire": "run_once",
                 "misfire_grace": 60.0, "no_overlap": True, "retries": 0,
                 "retry_backoff": 30.0, "inputs": {"n": i}, "paused": False,
                 "next_fire_at": None if direct else due,
                 "fired_count": 1 if direct else 0, "created_by": "bench",
                 "created_at": now, "updated_at": now} for i in range(n)]
        for start in range(0, n, 5000):
            s.execute(insert(Schedule), rows[start:start + 5000])
        if direct:
            ids = s.scalars(select(Schedule.id).order_by(Schedule.id)).all()
            occurrences = [{"schedule_id": sid, "fire_at": due, "due_at": due,
                            "state": "pending", "manual": False, "attempt": 0,
                            "reclaims": 0, "reason": None, "created_at": now,
                            "finished_at": None} for sid in ids]
            for start in range(0, n, 5000):
                s.execute(insert(Occurrence), occurrences[start:start + 5000])
        s.commit()
    engine.dispose()


def _start_nodes(url: str, mode: str, count: int, concurrency: int, batch: int | None,
                 poll: float) -> list[subprocess.Popen[str]]:
    options = ["--poll", f"{poll:g}", "--concurrency", str(concurrency)]
    if batch is not None:
        options += ["--batch", str(batch)]
    return start_workers([f"node{i}" for i in range(count)], options, _env(url, mode))


# -- CPU accounting from /proc ------------------------------------------------------------
def _stat(pid: int) -> tuple[int, list[str]] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[1]), fields   # ppid, the fields after the command name


def _cpu(fields: list[str], children: bool = True) -> float:
    # utime, stime, cutime, cstime are fields 14-17 of stat (11-14 after the name)
    used = int(fields[11]) + int(fields[12])
    if children:
        used += int(fields[13]) + int(fields[14])
    return used / _TICKS


def _tree_cpu(roots: list[int]) -> dict[str, float]:
    """CPU seconds of each root's whole tree: the node itself, its zygote, the run
    children (live ones by their own counters, reaped ones in their zygote's)."""
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            got = _stat(int(entry))
            if got is not None:
                parents[int(entry)], stats[int(entry)] = got
    out = {"node": 0.0, "zygote+children": 0.0}
    for root in roots:
        if root in stats:
            out["node"] += _cpu(stats[root], children=False)
        frontier = [root]
        while frontier:
            pid = frontier.pop()
            for child, parent in parents.items():
                if parent == pid:
                    out["zygote+children"] += _cpu(stats[child])
                    frontier.append(child)
    return out


def _backend_cpu(url: str, conn: Any) -> float:
    pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = "
                             "current_database() AND pid <> pg_backend_pid()")).scalars()
    total = 0.0
    for pid in pids:
        got = _stat(int(pid))
        if got is not None:
            total += _cpu(got[1], children=False)
    return total


def _machine_cpu() -> float:
    """Busy CPU seconds of the whole machine (every process of every helper)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / _TICKS


def measure(url: str, mode: str, n: int, nodes: int, concurrency: int, batch: int | None,
            poll: float, direct: bool) -> dict[str, Any]:
    empty_postgres(url)
    procs = _start_nodes(url, mode, nodes, concurrency, batch, poll)
    engine = make_engine(url)
    try:
        due = dt.datetime.now(UTC) + dt.timedelta(seconds=2 + n / 4000)
        _add_work(url, due, n, direct)
        with engine.connect() as conn:
            time.sleep(max(0.0, (due - dt.datetime.now(UTC)).total_seconds()))
            roots = [p.pid for p in procs]
            before = (_tree_cpu(roots), _backend_cpu(url, conn), _machine_cpu(),
                      time.monotonic())
            deadline = time.monotonic() + 60 + n / 50
            while True:
                done = conn.execute(select(func.count()).select_from(Run)).scalar_one()
                conn.commit()
                if done >= n or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            after = (_tree_cpu(roots), _backend_cpu(url, conn), _machine_cpu(),
                     time.monotonic())
    finally:
        stop_workers(procs)
    with engine.connect() as conn:
        last = conn.execute(select(func.max(Run.finished_at))).scalar_one()
        runs = conn.execute(select(func.count()).select_from(Run)).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(Run.occurrence_id))))\
            .scalar_one()
        states = dict(conn.execute(select(Occurrence.state, func.count())
                                   .group_by(Occurrence.state)).all())
        per_node = dict(conn.execute(select(Run.node, func.count())
                                     .group_by(Run.node)).all())
        # a claim stamps its occurrences' start, a finish transaction their end: the
        # mean rows per claim and per finish
        claims = conn.execute(select(func.count(func.distinct(Occurrence.started_at))))\
            .scalar_one()
        finishes = conn.execute(select(func.count(func.distinct(Occurrence.finished_at))))\
            .scalar_one()
        warm_reused = conn.execute(text(
            "SELECT count(*) FROM runs WHERE (stats::jsonb ->> 'child_run')::int > 1")
        ).scalar_one()
    engine.dispose()
    seconds = max((last - due).total_seconds(), 1e-6) if last else float("inf")
    wall = after[3] - before[3]
    cpu = {k: after[0][k] - before[0][k] for k in before[0]}
    cpu["postgres"] = after[1] - before[1]
    cpu["machine"] = after[2] - before[2]
    return {"rate": n / seconds, "seconds": seconds, "runs": runs,
            "lost": n - states.get("succeeded", 0),
            "duplicate": runs - distinct,
            "stuck": states.get("pending", 0) + states.get("running", 0),
            "per_node": per_node, "reused": warm_reused, "cpu": cpu, "wall": wall,
            "per_claim": n / max(claims, 1), "per_finish": n / max(finishes, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--occurrences", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4,
                        help="runs at once per node (`sluice worker --concurrency`)")
    parser.add_argument("--batch", type=int, default=None,
                        help="`sluice worker --batch` (default: the worker's own)")
    parser.add_argument("--poll", type=float, default=1.0,
                        help="`sluice worker --poll` (default 1 s, the worker's own)")
    parser.add_argument("--modes", default="warm,cold")
    parser.add_argument("--direct", action="store_true",
                        help="insert occurrences instead of schedules (no materialization)")
    args = parser.parse_args()
    why = postgres_unreachable()
    if why:
        print(f"skipped: {why}")
        return
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        if mode not in MODES:
            raise SystemExit(f"--modes: unknown mode {mode!r} (warm, cold)")
    cores = os.cpu_count() or 1
    with postgres_database() as url:
        for mode in modes:
            r = measure(url, mode, args.occurrences, args.nodes, args.concurrency,
                        args.batch, args.poll, args.direct)
            cpu = r["cpu"]
            ours = cpu["node"] + cpu["zygote+children"] + cpu["postgres"]
            per = {k: v * 1e3 / args.occurrences for k, v in cpu.items()}
            ceiling = cores / (ours / args.occurrences) if ours else float("inf")
            print(f"{mode:<4} {args.nodes} nodes x {args.concurrency}: {r['rate']:7.0f} "
                  f"occurrences/s ({args.occurrences} in {r['seconds']:.2f} s; goal >= "
                  f"1000/s)  lost {r['lost']}, duplicate {r['duplicate']}, stuck "
                  f"{r['stuck']} (goal 0); runs per node "
                  f"{sorted(r['per_node'].values())}; warm reuses {r['reused']}; "
                  f"{r['per_claim']:.1f} per claim, {r['per_finish']:.1f} per finish")
            print(f"     CPU ms per occurrence: nodes {per['node']:.2f}, zygotes+children "
                  f"{per['zygote+children']:.2f}, PostgreSQL {per['postgres']:.2f} = "
                  f"{ours * 1e3 / args.occurrences:.2f} ms -> ceiling {ceiling:,.0f}/s on "
                  f"{cores} cores; whole machine busy {cpu['machine'] / r['wall']:.2f} of "
                  f"{cores} cores meanwhile")


if __name__ == "__main__":
    main()
