"""The one door every execution goes through: `Executor.execute(...) -> RunResult`.

Functions, buttons, schedules and replays all hand a script's source, its inputs and its
limits to an executor and get a RunResult back; nothing else in the trigger layer runs
scripts. Two executors fit the door:

    InProcessExecutor   runs on the calling thread with a `Runtime` (tests, trusted
                        local use: `sluice serve --in-process`)
    isolated_executor   `sluicegate.isolation.IsolatedExecutor`: each run in a forked,
                        resource-limited child without network, database or secrets; the
                        parent keeps the broker and answers the child's HTTP calls and
                        stored-function look-ups (the default of `sluice serve`/`worker`)

Both are given the connection broker, so `invokeurl ... connection:` works from every
trigger, and a way to find stored functions, so scripts call each other by name. A
scheduled run also passes its `run_key` (the occurrence's identity, from which
connections derive idempotency keys) and `cancel` (`is_set()` turns true when the node
loses its lease; the run is then stopped at once: the isolated child is killed, an
in-process run ends at its next statement or HTTP call).
"""

from __future__ import annotations

__all__ = ["Executor", "InProcessExecutor", "executor_mode", "isolated_executor"]

from typing import Any, Protocol

from ..engine import RunResult, Runtime
from ..limits import Limits


class Executor(Protocol):
    """Runs one script and reports how it went; never raises for what the script does."""

    def execute(self, source: str, inputs: dict[str, Any], limits: Limits, *,
                entry: str | None = None, filename: str = "<script>",
                run_key: str | None = None, cancel: Any = None) -> RunResult: ...


class InProcessExecutor:
    """Runs scripts in this process with a shared `Runtime` (tests, trusted local use)."""

    mode = "in-process"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def execute(self, source: str, inputs: dict[str, Any], limits: Limits, *,
                entry: str | None = None, filename: str = "<script>",
                run_key: str | None = None, cancel: Any = None) -> RunResult:
        return self.runtime.run(source, inputs, filename=filename, limits=limits, entry=entry,
                                run_key=run_key, cancel=cancel)


def isolated_executor(forker: Any, *, broker: Any, sources: Any) -> Executor:
    """An IsolatedExecutor whose children are forked by `forker` (a ZygoteForker in a
    threaded host) and serve up to SLUICE_WARM_RUNS runs of one script each (warm.py);
    `sources(name) -> (source, file name) | None` finds stored functions."""
    from ..isolation.warm import WarmExecutor, warm_runs_from_env
    from .errors import InvalidField

    try:
        runs = warm_runs_from_env()  # a child serves up to this many runs of one script
    except ValueError as exc:
        raise InvalidField("SLUICE_WARM_RUNS", "must be a positive integer") from exc
    return WarmExecutor(broker=broker, resolver_source=sources, forker=forker, max_runs=runs)


def executor_mode(executor: Executor) -> str:
    """'isolated', 'in-process', or the class name of another executor (for /healthz)."""
    from ..isolation import IsolatedExecutor

    if isinstance(executor, IsolatedExecutor):
        return "isolated"
    return str(getattr(executor, "mode", type(executor).__name__))
