"""Cost of an isolated run over an in-process run of the same small script.

    python tests/benchmarks/bench_isolation.py

Both paths run the same cached script back to back in one process; the difference per
run is the price of the fork, the limits and the result message (goal <= 3 ms). Warm
children (isolation/warm.py) serve up to K runs of one script each: runs/s with and
without that reuse, and in CPU time (parent and children), what bounds runs/s on 2 cores.
"""

from __future__ import annotations

import os
import time

from sluicegate.engine import Runtime
from sluicegate.isolation import DirectForker, IsolatedExecutor, ZygoteForker, preload
from sluicegate.isolation.warm import DEFAULT_RUNS, WarmExecutor
from sluicegate.limits import Limits

SCRIPT = 'total = 0; for each i in {1, 2, 3} { total = total + i; } info "sum " + total; ' \
         'return total;'


def per_run(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def cpu_per_run(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    """CPU time of this process and its reaped children per run (best of 3)."""
    best = float("inf")
    for _ in range(3):
        before = os.times()
        for _ in range(n):
            fn()
        after = os.times()
        used = sum(after[i] - before[i] for i in range(4))
        best = min(best, used / n)
    return best


def main() -> None:
    preload()
    limits = Limits()
    runtime = Runtime()
    direct = IsolatedExecutor(forker=DirectForker())
    forker = ZygoteForker()
    zygote = IsolatedExecutor(forker=forker)
    try:
        for ex in (direct, zygote):
            assert ex.execute(SCRIPT, {}, limits).value == 6
        inproc = per_run(lambda: runtime.run(SCRIPT, {}, limits=limits), 500)
        forked = per_run(lambda: direct.execute(SCRIPT, {}, limits), 100)
        spared = per_run(lambda: zygote.execute(SCRIPT, {}, limits), 100)
        warm = WarmExecutor(forker=forker, max_runs=DEFAULT_RUNS)
        warm_direct = WarmExecutor(forker=DirectForker(), max_runs=DEFAULT_RUNS)
        warmed = per_run(lambda: warm.execute(SCRIPT, {}, limits), 400)
        warmed_direct = per_run(lambda: warm_direct.execute(SCRIPT, {}, limits), 400)
        cold_cpu = cpu_per_run(lambda: direct.execute(SCRIPT, {}, limits), 100)
        warm_cpu = cpu_per_run(lambda: warm_direct.execute(SCRIPT, {}, limits), 400)
        warm.close()
        warm_direct.close()
    finally:
        forker.close()
    print(f"in-process run                 {inproc * 1e3:8.3f} ms")
    print(f"isolated, fork per run         {forked * 1e3:8.3f} ms   cost "
          f"{(forked - inproc) * 1e3:6.3f} ms")
    print(f"isolated, zygote spare child   {spared * 1e3:8.3f} ms   cost "
          f"{(spared - inproc) * 1e3:6.3f} ms   (goal <= 3 ms)")
    print(f"isolated, warm child (K={DEFAULT_RUNS})   {warmed * 1e3:8.3f} ms   cost "
          f"{(warmed - inproc) * 1e3:6.3f} ms   zygote; {warmed_direct * 1e3:.3f} ms direct")
    print(f"runs/s one thread: fresh spare {1 / spared:7.0f}/s   warm {1 / warmed:7.0f}/s")
    print(f"CPU per isolated run (parent + children): fresh fork {cold_cpu * 1e3:6.3f} ms   "
          f"warm {warm_cpu * 1e3:6.3f} ms   -> on 2 cores at most {2 / cold_cpu:5.0f} vs "
          f"{2 / warm_cpu:5.0f} runs/s")


if __name__ == "__main__":
    main()
