"""The examples are tested: `sluice test examples/` passes, covers every statement of every
example script, and changing any numeric constant of an example makes its tests fail."""

from __future__ import annotations

import io
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sluicegate.testing.coverage import collect
from sluicegate.testing.session import Session
from wbhelpers import sluice_test

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.dg"))


def test_sluice_test_examples_passes(capsys):
    code, out, _ = sluice_test(capsys, str(EXAMPLES))
    assert code == 0, out
    assert re.fullmatch(r"\d+ passed, 0 failed", out.splitlines()[-1])


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_example_has_tests_that_run_all_its_statements(script):
    spec = EXAMPLES / script.replace(".dg", ".test.toml")
    assert spec.is_file(), f"{script} has no test file"
    session = Session([str(spec)], jobs=1, coverage=True)
    session.load()
    session.run()
    assert session.failed == 0
    (coverage,) = collect(session)
    assert coverage.missed_lines == [], f"{script}: lines never run {coverage.missed_lines}"


_TOKEN = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|'
                    r'(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])', re.S)


def numeric_constants(source: str) -> list[re.Match[str]]:
    """Number literals of a script outside comments and text literals."""
    return [m for m in _TOKEN.finditer(source) if m.group(1)]


@pytest.mark.parametrize("script", SCRIPTS)
def test_changing_any_constant_of_an_example_fails_its_tests(tmp_path: Path, script: str):
    for name in (script, script.replace(".dg", ".test.toml")):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    for extra in EXAMPLES.glob(script.replace(".dg", ".*.json")):
        shutil.copy(extra, tmp_path / extra.name)
    original = (EXAMPLES / script).read_text(encoding="utf-8")
    constants = numeric_constants(original)
    assert constants, f"{script} has no numeric constant to change"
    survivors = []
    for m in constants:
        changed = str(Decimal(m.group(1)) + 1)
        mutated = original[:m.start(1)] + changed + original[m.end(1):]
        (tmp_path / script).write_text(mutated, encoding="utf-8")
        session = Session([str(tmp_path)], jobs=1)
        session.load()
        session.run()
        if session.failed == 0:
            line = original.count("\n", 0, m.start(1)) + 1
            survivors.append(f"line {line}: {m.group(1)} -> {changed}")
        session.report(io.StringIO())
    assert survivors == [], f"{script}: changes its tests did not notice: {survivors}"


def test_the_demo_ends_with_the_examples_tests_summary():
    from sluicegate.testing.session import run_example_tests

    out = io.StringIO()
    assert run_example_tests(out) == 0
    lines = out.getvalue().splitlines()
    assert "examples/late_fee_button.test.toml:7: ok: overdue invoice gets a 2% fee" in lines
    assert re.fullmatch(r"\d+ passed, 0 failed", lines[-1])


def test_the_readme_example_test_file_passes(tmp_path, capsys):
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("A complete test file", 1)[1].split("```toml\n", 1)[1]
    (tmp_path / "readme.test.toml").write_text(example.split("```", 1)[0])
    shutil.copy(EXAMPLES / "late_fee_button.dg", tmp_path / "late_fee_button.dg")
    code, out, _ = sluice_test(capsys, str(tmp_path))
    assert (code, out.splitlines()[-1]) == (0, "2 passed, 0 failed"), out
