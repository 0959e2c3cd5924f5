"""Cost of an isolated run over an in-process run of the same small script.

    python tests/benchmarks/bench_isolation.py

Both paths run the same cached script back to back in one process; the difference per
run is the price of the fork, the limits and the result message (goal <= 3 ms).
"""

from __future__ import annotations

import time

from sluicegate.engine import Runtime
from sluicegate.isolation import DirectForker, IsolatedExecutor, ZygoteForker, preload
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
    finally:
        forker.close()
    print(f"in-process run                 {inproc * 1e3:8.3f} ms")
    print(f"isolated, fork per run         {forked * 1e3:8.3f} ms   cost "
          f"{(forked - inproc) * 1e3:6.3f} ms")
    print(f"isolated, zygote spare child   {spared * 1e3:8.3f} ms   cost "
          f"{(spared - inproc) * 1e3:6.3f} ms   (goal <= 3 ms)")


if __name__ == "__main__":
    main()
