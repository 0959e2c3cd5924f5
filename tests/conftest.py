"""Shared fixtures: a fresh Runtime per test and a clean compile cache."""

from __future__ import annotations

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
