"""Shared fixtures: a fresh Runtime per test, and the child processes tests start."""

from __future__ import annotations

import logging
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


@pytest.fixture(autouse=True)
def _node_logging_ends_with_its_test() -> Iterator[None]:
    """`serve` and `worker` run in-process by some tests install the node's log handler
    (`configure_logging`) on the sluicegate and uvicorn loggers; it is taken off when the
    test ends, so later tests' servers do not write JSON lines past the capture."""
    yield
    for name in ("sluicegate", "uvicorn"):
        logger = logging.getLogger(name)
        installed = [h for h in logger.handlers if h.get_name() == "sluicegate"]
        for handler in installed:
            logger.removeHandler(handler)
        if installed:
            logger.propagate = True
            logger.setLevel(logging.NOTSET)
