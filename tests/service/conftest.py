"""Fixtures of the service suites: each test runs against SQLite and PostgreSQL, with the
shared test databases of tests/sluice_testdb.py; `sluice` runs the command line in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from sluicegate.cli import main

from sluice_testdb import (  # noqa: F401
    _postgres_url, _sqlite_template, db_url, postgres_url, sluice_home,
)


@pytest.fixture
def sluice(db_url: str, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
           capsys: pytest.CaptureFixture[str],
           tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run `sluice ARGS...` in-process on the test database (UTC, in a scratch folder);
    returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("SLUICE_DATABASE_URL", db_url)
    monkeypatch.setenv("SLUICE_TIMEZONE", "UTC")
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's own misuse exits
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err
    return run
