"""Run statistics count only the statements a run executed."""

from __future__ import annotations

from sluicegate.engine import Runtime

SCRIPT = "number standalone.twice(Number n)\n{\n    info n;\n    return n * 2;\n}\n"


def test_a_run_stopped_by_an_input_check_executed_no_statement() -> None:
    result = Runtime().run(SCRIPT, {"n": "twelve"})
    assert result.error is not None and "cannot be used as" in result.error.message
    assert result.stats["statements"] == 0


def test_a_run_without_its_entry_executed_no_statement() -> None:
    result = Runtime().run(SCRIPT, {"n": 1}, entry="thrice")
    assert result.error is not None and result.stats["statements"] == 0


def test_a_run_counts_the_statements_it_executed() -> None:
    result = Runtime().run(SCRIPT, {"n": 2})
    assert result.ok and result.value == 4 and 2 <= result.stats["statements"] <= 3
