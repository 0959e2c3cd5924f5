"""Warm isolated children: K runs of one script per child, never across scripts, a fresh
child after any failure, and nothing of one run visible to the next."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sluicegate.isolation import DirectForker, ZygoteForker
from sluicegate.isolation.warm import WarmExecutor, warm_runs_from_env
from sluicegate.limits import Limits

SCRIPT = 'info "n=" + n; return n * 2;'


@pytest.fixture(scope="module")
def zygote() -> Iterator[ZygoteForker]:
    forker = ZygoteForker()
    yield forker
    forker.close()


@pytest.fixture(params=["direct", "zygote"])
def warm(request: pytest.FixtureRequest) -> Iterator[WarmExecutor]:
    forker = DirectForker() if request.param == "direct" else request.getfixturevalue("zygote")
    executor = WarmExecutor(forker=forker, max_runs=3, timezone="UTC")
    yield executor
    executor.close()


def test_a_child_serves_k_runs_of_a_script_then_a_fresh_one_takes_over(
        warm: WarmExecutor) -> None:
    seen = []
    for n in range(7):
        result = warm.execute(SCRIPT, {"n": n}, Limits())
        assert result.ok and result.value == 2 * n and result.logs == [f"n={n}"]
        assert result.stats["isolated"] is True
        seen.append(result.stats["child_run"])
    assert seen == [1, 2, 3, 1, 2, 3, 1]


def test_a_child_never_serves_another_script_or_other_settings(warm: WarmExecutor) -> None:
    assert warm.execute(SCRIPT, {"n": 1}, Limits()).stats["child_run"] == 1
    other = warm.execute(SCRIPT + " ", {"n": 1}, Limits())  # another version of the text
    assert other.stats["child_run"] == 1
    stricter = warm.execute(SCRIPT, {"n": 1}, Limits(timeout=5))
    assert stricter.stats["child_run"] == 1
    assert warm.execute(SCRIPT, {"n": 2}, Limits()).stats["child_run"] == 2


def test_any_failure_retires_the_child(warm: WarmExecutor) -> None:
    src = 'if (n == 0) { x = 1 / n; } return n;'
    assert warm.execute(src, {"n": 5}, Limits()).stats["child_run"] == 1
    failed = warm.execute(src, {"n": 0}, Limits())
    assert failed.error is not None and failed.error.message == "Division by zero"
    assert failed.stats["child_run"] == 2
    after = warm.execute(src, {"n": 5}, Limits())
    assert after.ok and after.stats["child_run"] == 1  # a fresh child


def test_a_limit_breach_retires_the_child(warm: WarmExecutor) -> None:
    src = 'if (spin) { l = {1,2,3,4,5,6,7,8,9,10}; for each a in l { for each b in l { ' \
          'for each c in l { for each d in l { for each e in l { x = a; } } } } } } return 1;'
    limits = Limits(max_statements=1_000)
    assert warm.execute(src, {"spin": False}, limits).stats["child_run"] == 1
    stopped = warm.execute(src, {"spin": True}, limits)
    assert stopped.error is not None and stopped.error.type == "LimitExceeded"
    again = warm.execute(src, {"spin": False}, limits)
    assert again.ok and again.stats["child_run"] == 1


def test_nothing_a_run_creates_survives_into_the_next(warm: WarmExecutor) -> None:
    """Run 1 writes a secret into every value it can reach (literals, a parsed map, its
    inputs, the info log); run 2 of the same child sees exactly what a fresh child sees."""
    src = '''
m = {"k": "v"};
l = {1, 2};
j = "{\\"a\\": 1}".toMap();
t = "base";
if (secret != null)
{
    m.put("s", secret); l.add(secret); j.put("s", secret); rec.put("s", secret);
    t = t + secret; info secret;
}
return {"m": m, "l": l, "j": j, "rec": rec, "t": t};
'''
    first = warm.execute(src, {"secret": "S3CR3T-0042", "rec": {"id": 1}}, Limits())
    assert first.ok and "S3CR3T-0042" in first.to_json_text()
    second = warm.execute(src, {"secret": None, "rec": {"id": 2}}, Limits())
    assert second.ok and second.stats["child_run"] == 2
    assert "S3CR3T" not in second.to_json_text()
    fresh = WarmExecutor(forker=DirectForker(), max_runs=1, timezone="UTC")
    cold = fresh.execute(src, {"secret": None, "rec": {"id": 2}}, Limits())
    assert second.to_json()["return"] == cold.to_json()["return"]
    assert second.logs == cold.logs == []


def test_warm_runs_are_configured_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLUICE_WARM_RUNS", raising=False)
    assert warm_runs_from_env() == 50
    monkeypatch.setenv("SLUICE_WARM_RUNS", "7")
    assert warm_runs_from_env() == 7
    for bad in ("0", "-3", "many"):
        monkeypatch.setenv("SLUICE_WARM_RUNS", bad)
        with pytest.raises(ValueError, match="SLUICE_WARM_RUNS"):
            warm_runs_from_env()
