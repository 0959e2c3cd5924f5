"""`sluice worker` processes for the node benchmarks (bench_triggers, bench_nodes): started
and waited for until each says it is ready, their stderr drained so that a worker logging
a JSON line per run never blocks on a full pipe, and stopped with SIGTERM (killed after
30 s)."""

from __future__ import annotations

import subprocess
import sys
import threading


def start_workers(names: list[str], options: list[str], env: dict[str, str]
                  ) -> list[subprocess.Popen[str]]:
    procs = [subprocess.Popen(
        [sys.executable, "-m", "sluicegate.cli", "worker", "--node", name, *options],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for name in names]
    for p in procs:
        assert p.stderr is not None
        for line in p.stderr:
            if "ready" in line:
                break
        else:
            raise SystemExit(f"a worker exited before it was ready ({p.wait()})")
    for p in procs:
        threading.Thread(target=lambda s=p.stderr: [None for _ in s], daemon=True).start()
    return procs


def stop_workers(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
