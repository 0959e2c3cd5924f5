"""`sluice test` speed: a test file of 20 cases (goal: under 1 s on this machine).

    python tests/benchmarks/bench_workbench.py

Measured side by side in one run:
- `sluice test FILE` as a command (a fresh process: start-up, imports, TOML, 20 cases);
- the same session in-process (load + run), serial and with one worker per core;
- the 20 runs alone through `Runtime.run` with the same inputs (no spec, no fakes), as
  the floor the workbench adds its work to.
Each case reads a fake CRM record, creates one, calls a stubbed URL and checks return
value, logs and the records created.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = """
lead = zoho.crm.getRecordById("Leads", leadId);
total = 0;
for each line in lines
{
    total = total + line.get("qty") * line.get("price");
}
zoho.crm.createRecord("Tasks", {"Subject": "Follow up " + lead.get("Last_Name"), "Amount": total});
rate = invokeurl [ url: "https://rates.test/latest" type: GET ];
info lead.get("Last_Name") + ": " + total;
return {"total": total, "eur": total * rate.get("EUR")};
"""


def spec(cases: int) -> str:
    parts = ['[[crm.Leads]]\nid = "1"\nLast_Name = "Ng"\n',
             '[[http]]\nurl = "https://rates.test/latest"\nbody = { EUR = 0.50 }\n']
    for i in range(cases):
        qty = i + 1
        parts.append(f'[[case]]\nname = "case {i}"\n'
                     f'inputs = {{ leadId = "1", lines = [ {{ qty = {qty}, price = 2.50 }}, '
                     f'{{ qty = 1, price = 1.00 }} ] }}\n'
                     f'[case.expect]\nlogs = ["Ng: {qty * 2.5 + 1:.2f}"]\n'
                     f'return_at = {{ total = {qty * 2.5 + 1:.2f} }}\n'
                     'created = [ { module = "crm.Tasks", '
                     'fields = { Subject = "Follow up Ng" } } ]\n')
    return "\n".join(parts)


def best(fn, rounds: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    from sluicegate.engine import Runtime
    from sluicegate.testing.broker import TestBroker
    from sluicegate.testing.fakes import FakeStore
    from sluicegate.testing.session import Session
    from sluicegate.testing.spec import Stub

    folder = Path(tempfile.mkdtemp(prefix="bench-workbench-"))
    (folder / "leads.dg").write_text(SCRIPT)
    path = folder / "leads.test.toml"
    path.write_text(spec(20))

    def command() -> None:
        done = subprocess.run([sys.executable, "-m", "sluicegate.cli", "test", str(path)],
                              capture_output=True, text=True, check=False)
        assert done.stdout.splitlines()[-1] == "20 passed, 0 failed", done.stdout

    def session(jobs: int) -> None:
        s = Session([str(path)], jobs=jobs)
        s.load()
        s.run()
        assert s.failed == 0

    from decimal import Decimal
    stub = Stub("GET", "https://rates.test/latest", 1, body={"EUR": Decimal("0.50")})

    def runtime_only() -> None:
        for i in range(20):
            store = FakeStore({"crm": {"Leads": [{"id": "1", "Last_Name": "Ng"}]}})
            rt = Runtime(broker=TestBroker(store, [stub]))
            result = rt.run(SCRIPT, {"leadId": "1", "lines": [
                {"qty": i + 1, "price": Decimal("2.50")}, {"qty": 1, "price": Decimal("1.00")}]})
            assert result.ok, result.error

    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = best(command, 3)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)) / 3
    serial = best(lambda: session(1))
    cores = os.cpu_count() or 1
    # a session forks only with enough cases per core; force it here to measure the pool
    import sluicegate.testing.session as sess
    saved = sess._CASES_PER_WORKER
    sess._CASES_PER_WORKER = 1
    try:
        parallel = best(lambda: session(cores))
    finally:
        sess._CASES_PER_WORKER = saved
    floor = best(runtime_only)
    big = folder / "many" / "leads.test.toml"
    big.parent.mkdir()
    (big.parent / "leads.dg").write_text(SCRIPT)
    big.write_text(spec(400))

    def big_session(jobs: int) -> None:
        s = Session([str(big)], jobs=jobs)
        s.load()
        s.run()
        assert s.failed == 0

    big_serial = best(lambda: big_session(1), 3)
    sess._CASES_PER_WORKER = 1
    try:
        big_parallel = best(lambda: big_session(cores), 3)
    finally:
        sess._CASES_PER_WORKER = saved
    print(f"{'sluice test, 20 cases, new process':<44} {cmd * 1e3:8.1f} ms   (goal < 1000 ms)"
          f"   CPU {cpu * 1e3:.0f} ms a run (wall time includes waiting on a busy machine)")
    print(f"{'session in-process, serial':<44} {serial * 1e3:8.1f} ms   "
          f"ratio to Runtime.run alone {serial / floor:5.2f}x")
    print(f"{f'session in-process, {cores} worker processes':<44} {parallel * 1e3:8.1f} ms   "
          f"ratio to serial {parallel / serial:5.2f}x")
    print(f"{'20 x Runtime.run alone (fake broker)':<44} {floor * 1e3:8.1f} ms")
    print(f"{'400 cases, serial':<44} {big_serial * 1e3:8.1f} ms")
    print(f"{f'400 cases, {cores} worker processes':<44} {big_parallel * 1e3:8.1f} ms   "
          f"ratio to serial {big_parallel / big_serial:5.2f}x")


if __name__ == "__main__":
    main()
