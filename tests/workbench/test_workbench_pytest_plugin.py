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


def test_each_case_is_an_item_and_a_failure_shows_the_diff(pytester: pytest.Pytester) -> None:
    _files(pytester)
    result = pytester.runpytest_inprocess("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*add.test.toml::adds PASSED*",
        "*add.test.toml::scale matters FAILED*",
        "*add.test.toml:10: case 'scale matters': return value",
        "*expected: 12.5",
        "*actual: 12.50  (same value, different scale)",
    ])


def test_a_bad_test_file_is_a_collection_error_naming_file_and_line(
        pytester: pytest.Pytester) -> None:
    pytester.makefile(".dg", add="return 1;\n")
    pytester.path.joinpath("add.test.toml").write_text('[[case]]\nname = "a"\nexpct = 1\n')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*add.test.toml:3: unknown key 'expct'*"])


def test_the_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    _files(pytester)
    result = pytester.runpytest_inprocess("-p", "no:sluicegate", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
