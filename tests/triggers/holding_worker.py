"""A scheduler node for tests: its executor holds every run for `inputs["hold"]` seconds
before running it, so that a test can kill the node in the middle of a run.

    python holding_worker.py DATABASE_URL NODE_NAME LEASE_SECONDS
"""

from __future__ import annotations

import sys
import time
from typing import Any

from sluicegate.engine import RunResult
from sluicegate.limits import Limits
from sluicegate.store.db import make_engine
from sluicegate.triggers import SchedulerNode, SchedulerSettings, open_triggers
from sluicegate.triggers.executor import Executor
from sluicegate.triggers.scheduler import Scheduler


class HoldingExecutor:
    """Waits `inputs["hold"]` seconds, then runs the script with the real executor."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner

    def execute(self, source: str, inputs: dict[str, Any], limits: Limits, *,
                entry: str | None = None, filename: str = "<script>",
                **run: Any) -> RunResult:
        time.sleep(float(inputs.get("hold") or 0))
        return self.inner.execute(source, inputs, limits, entry=entry, filename=filename,
                                  **run)


def main() -> None:
    url, node, lease = sys.argv[1], sys.argv[2], float(sys.argv[3])
    triggers = open_triggers(make_engine(url), node=node, migrate=False)
    scheduler = Scheduler(triggers.sessions, HoldingExecutor(triggers.executor),
                          triggers.history, settings=SchedulerSettings(lease=lease),
                          node=node)
    print("ready", flush=True)
    SchedulerNode(scheduler, poll=0.05).run()


if __name__ == "__main__":
    main()
