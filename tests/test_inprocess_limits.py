"""In-process limits: the memory budget measures the run's own values, and built-ins stop
at the run's limits (the hostile suite covers the scripts; these cover the machinery)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sluicegate import Runtime
from sluicegate.errors import LimitExceeded
from sluicegate.limits import Limits, RunContext, activate, check_time, spend
from sluicegate.memory import resident, value_size
from sluicegate.stdlib.tasks import parse_body

_MB = 1024 * 1024
_LOOP = 'n = 0;\nfor each i in "1,".repeat(40000).toList()\n{\n\tn = n + 1;\n}\n'


def test_memory_the_host_holds_is_not_charged_to_the_run() -> None:
    """The host grows by 150 MB during a run with a 40 MB budget: the run holds little,
    so it succeeds (resident size alone would have blamed it)."""
    held: list[bytes] = []

    def now() -> dt.datetime:
        held.append(b"x" * (150 * _MB))  # touched, so resident
        return dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

    runtime = Runtime(now=now)
    result = runtime.run("t = zoho.currenttime;\n" + _LOOP + "return n;",
                         limits=Limits(memory_bytes=40 * _MB, max_statements=1_000_000))
    assert held, "the host allocation ran inside the run"
    assert result.ok, result.error
    assert result.value == 40001


def test_memory_the_run_holds_ends_it() -> None:
    source = ('x = "0123456789abcdef".repeat(62500);\nl = List();\n'
              'for each i in "1,".repeat(200).toList()\n{\n\tl.add(x + i);\n}\n' + _LOOP)
    result = Runtime().run(source, limits=Limits(memory_bytes=40 * _MB))
    assert result.error is not None
    assert result.error.type == "LimitExceeded"
    assert result.error.message == f"Memory limit of {40 * _MB} bytes exceeded"
    assert result.error.line == 5  # the add that went over, not some later statement


def test_memory_reused_from_earlier_runs_is_still_counted() -> None:
    """After the process held and freed 300 MB, a run reuses that memory without the
    process growing: the large texts it builds are counted all the same."""
    junk = [b"x" * _MB for _ in range(300)]
    del junk
    source = ('x = "0123456789abcdef".repeat(62500);\nl = List();\n'
              'for each i in "1,".repeat(200).toList()\n{\n\tl.add(x + i);\n}\n')
    result = Runtime().run(source, limits=Limits(memory_bytes=40 * _MB))
    assert result.error is not None
    assert result.error.message == f"Memory limit of {40 * _MB} bytes exceeded"


def test_value_size_counts_a_shared_text_once() -> None:
    big = "x" * _MB
    once = value_size([big])
    assert once >= _MB
    assert value_size([[big] * 1000, {"a": big}]) < once + 20_000
    assert value_size([[big + "1", big + "2"]]) >= 2 * _MB


def test_resident_size_is_read() -> None:
    assert resident() > 10 * _MB


def test_checks_outside_a_run_do_nothing() -> None:
    check_time()
    spend(1 << 30)


def test_spent_work_reads_the_clock() -> None:
    ctx = RunContext(limits=Limits(timeout=0.001))
    ctx.start()
    ctx.deadline -= 1.0  # long past
    with activate(ctx):
        spend(10)  # below a quantum: no clock read
        with pytest.raises(LimitExceeded, match="Time limit"):
            spend(1 << 23)


@pytest.mark.parametrize("depth", [600, 100_000])
def test_a_deeply_nested_response_ends_at_the_nesting_limit(depth: int) -> None:
    body = "[" * depth + "]" * depth
    with pytest.raises(LimitExceeded, match="Nesting limit of 512 levels"):
        parse_body(body)


def test_deep_json_of_a_script_value_is_the_nesting_limit() -> None:
    source = ('m = Map();\nc = m;\nfor each i in "1,".repeat(600).toList()\n{\n'
              '\tn = Map();\n\tc.put("a", n);\n\tc = n;\n}\n')
    for tail in ("t = m.toString();", "info m;", "x = m == m.toMap();",
                 'r = zoho.encryption.base64Encode(m.toString());'):
        result = Runtime().run(source + tail)
        assert result.error is not None, tail
        assert result.error.type == "LimitExceeded", (tail, result.error)
        assert "Nesting limit of 512 levels" in result.error.message, (tail, result.error)


def test_a_huge_result_is_refused_before_it_is_serialized() -> None:
    source = ('x = "0123456789abcdef".repeat(1000000);\nl = List();\n'
              'for each i in "1,".repeat(10).toList()\n{\n\tl.add(x);\n}\nreturn l;')
    result: Any = Runtime().run(source)
    assert result.error is not None
    assert result.error.type == "LimitExceeded"


_PEAK_PROBE = """
import json, resource, sys
from sluicegate import Runtime
from sluicegate.limits import Limits
runtime = Runtime()
runtime.run("return 1;")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
result = runtime.run(sys.stdin.read(), limits=Limits(memory_bytes=int(sys.argv[1])))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"error": result.error and result.error.message, "grown": peak - before}))
"""


@pytest.mark.parametrize("element", ["x + i", "x.replaceAll(\"0\", \"\" + i)",
                                     "(x + i).subString(1)"])
def test_memory_stays_within_twice_the_budget(element: str) -> None:
    """The issue's case, 450 distinct large texts, in a fresh process: the run ends with
    the memory limit and the process never grew by more than twice the budget."""
    import json
    import subprocess
    import sys

    budget = 100 * _MB
    source = ('x = "0123456789abcdef".repeat(62500);\nl = List();\n'
              'for each i in "1,".repeat(450).toList()\n{\n\tl.add(' + element + ');\n}\n')
    done = subprocess.run([sys.executable, "-c", _PEAK_PROBE, str(budget)], input=source,
                          capture_output=True, text=True, timeout=120, check=True)
    out = json.loads(done.stdout)
    assert out["error"] == f"Memory limit of {budget} bytes exceeded"
    assert out["grown"] < 2 * budget, out
