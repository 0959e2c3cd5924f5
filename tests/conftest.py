"""Shared fixtures: a fresh Runtime per test, and the child processes tests start."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from sluicegate.engine import Runtime


@pytest.fixture
def runtime() -> Runtime:
    return Runtime(timezone="UTC")


@pytest.fixture
def run(runtime: Runtime):  # type: ignore[no-untyped-def]
    """Run a script text and return the RunResult."""
    def _run(source: str, inputs=None, **kwargs):  # type: ignore[no-untyped-def]
        return runtime.run(source, inputs or {}, **kwargs)
    return _run


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Child processes a test starts (workers, servers): killed if still running and
    their pipes closed when the test ends."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
