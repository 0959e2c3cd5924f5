"""The pytest11 plugin: *.test.toml cases are pytest items with the `sluice test` diff."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]


def _files(pytester: pytest.Pytester) -> None:
    pytester.makefile(".dg", add="return a + b;\n")
    pytester.path.joinpath("add.test.toml").write_text(textwrap.dedent("""
        [[case]]
        name = "adds"
        inputs = { a = 1, b = 2 }
        expect.return = 3

        [[case]]
        name = "scale matters"
        inputs = { a = 1.25, b = 11.25 }
        expect.return = 12.5
        """))


def test_cases_are_items_failures_show_the_diff_and_bad_files_name_the_line(
        pytester: pytest.Pytester) -> None:
    _files(pytester)
    bad = pytester.mkdir("bad")
    (bad / "one.dg").write_text("return 1;\n")
    (bad / "one.test.toml").write_text('[[case]]\nname = "a"\nexpct = 1\n')
    result = pytester.runpytest_inprocess("-v", "-p", "no:cacheprovider",
                                          "--continue-on-collection-errors")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*add.test.toml::adds PASSED*",
        "*add.test.toml::scale matters FAILED*",
    ])
    result.stdout.fnmatch_lines([
        "*add.test.toml:10: case 'scale matters': return value",
        "*expected: 12.5",
        "*actual: 12.50  (same value, different scale)",
    ])
    result.stdout.fnmatch_lines(["*one.test.toml:3: unknown key 'expct'*"])


def test_the_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    _files(pytester)
    result = pytester.runpytest_inprocess("-p", "no:sluicegate", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
