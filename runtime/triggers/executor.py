"""The one door every execution goes through: `Executor.execute(...) -> RunResult`.

Functions, buttons, schedules and replays all hand a script's source, its inputs and its
limits to an executor and get a RunResult back; nothing else in the trigger layer runs
scripts. `InProcessExecutor` runs them on the calling thread with a `Runtime`; an isolated
executor (a forked, resource-limited child per run) plugs in behind the same method.
"""

from __future__ import annotations

__all__ = ["Executor", "InProcessExecutor"]

from typing import Any, Protocol

from ..engine import RunResult, Runtime
from ..limits import Limits


class Executor(Protocol):
    """Runs one script and reports how it went; never raises for what the script does."""

    def execute(self, source: str, inputs: dict[str, Any], limits: Limits, *,
                entry: str | None = None, filename: str = "<script>") -> RunResult: ...


class InProcessExecutor:
    """Runs scripts in this process with a shared `Runtime` (tests, trusted local use)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def execute(self, source: str, inputs: dict[str, Any], limits: Limits, *,
                entry: str | None = None, filename: str = "<script>") -> RunResult:
        return self.runtime.run(source, inputs, filename=filename, limits=limits, entry=entry)
