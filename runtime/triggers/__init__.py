"""Triggers: how stored scripts come to run, and what is kept of each run.

    errors      the exception tree of the trigger layer
    clock       the injected clock
    executor    the one interface every execution goes through (in-process here)
    inputs      the inputs scripts see, named like the vendor's; redaction
    recurrence  when a schedule fires (cronsim, time zones, daylight saving)
    scripts     the catalog: versions, publish, rollback, diff, the live version
    resolver    calls between stored scripts by qualified name
    buttons     the two shapes a button may return
    history     run records, listing, retention
    launcher    functions, button clicks, replays
    schedules   the schedule book: add, pause, resume, run now, preview
    scheduler   materialize / claim / execute / finish, safe across nodes
    lease       a claim's fencing token and lease as its run sees it; run keys
    node        the loop and threads that keep a process scheduling
    setup       the parts assembled over one database
"""

from __future__ import annotations

__all__ = [
           "Actor",
           "Executor",
           "InProcessExecutor",
           "RetentionPolicy",
           "SchedulerNode",
           "SchedulerSettings",
           "Triggers",
           "open_triggers",
]

from .executor import Executor, InProcessExecutor
from .history import RetentionPolicy
from .launcher import Actor
from .node import SchedulerNode
from .scheduler import SchedulerSettings
from .setup import Triggers, open_triggers
