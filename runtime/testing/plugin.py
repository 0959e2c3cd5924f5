"""The pytest plugin (entry point `pytest11`): `*.test.toml` files are collected as test
files and each case is a pytest item whose failure message is the `sluice test` diff.

It is loaded wherever sluicegate is installed; `-p no:sluicegate` turns it off. Only this
module is imported at pytest start-up; the runtime loads when a test file is collected.
"""

from __future__ import annotations

__all__ = ["pytest_collect_file", "TomlTestFile", "CaseItem"]

from pathlib import Path
from typing import Any

import pytest

_SUFFIX = ".test.toml"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(_SUFFIX):
        return TomlTestFile.from_parent(parent, path=file_path)  # type: ignore[no-any-return]
    return None


class CaseFailed(Exception):
    """A case whose expectations were not met; carries the report `sluice test` prints."""


class TomlTestFile(pytest.File):
    def collect(self) -> Any:
        import os

        from .cassettes import load_cassette
        from .spec import SpecError, load_test_file

        try:
            test = load_test_file(str(self.path))
            with open(test.script_path, "rb") as f:
                source = f.read()
            cassette = (load_cassette(test.cassette_path)
                        if os.path.isfile(test.cassette_path) else None)
        except SpecError as exc:
            raise self.CollectError(f"{exc.path}:{exc.line}: {exc.message}") from None
        except OSError as exc:
            raise self.CollectError(f"{self.path}: cannot read the script "
                                    f"({exc.strerror})") from None
        for case in test.cases:
            yield CaseItem.from_parent(self, name=case.name, test=test, case=case,
                                       source=source, cassette=cassette)


class CaseItem(pytest.Item):
    def __init__(self, *, test: Any, case: Any, source: bytes, cassette: Any,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.test = test
        self.case = case
        self.source = source
        self.cassette = cassette

    def runtest(self) -> None:
        from .runner import run_case

        replay = self.cassette.replay(self.case.name) if self.cassette is not None else None
        outcome = run_case(self.test, self.case, self.source, cassette=replay)
        if not outcome.passed:
            raise CaseFailed(outcome.report())

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, self.case.line - 1, f"case: {self.case.name}"
