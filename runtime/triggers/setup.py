"""Putting the trigger layer together over one database: the catalog, the history, the
launcher, the schedule book and the executor they share, with the clock injected.

    triggers = open_triggers(make_engine())
    triggers.launcher.execute_function("greet", {"name": "Ada"}, actor=Actor.named("me"))
"""

from __future__ import annotations

__all__ = ["Triggers", "ensure_schema", "open_triggers"]

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ..engine import Runtime
from ..store.db import session_factory
from ..store.migrate import upgrade
from .clock import Clock, SystemClock
from .executor import Executor, InProcessExecutor, isolated_executor
from .history import RunHistory, field_cap_from_environment, input_cap_from_environment
from .inputs import InputDefaults, ProfileDefaults
from .launcher import Launcher, node_name
from .resolver import StoredFunctions, StoredSources
from .scheduler import Scheduler, SchedulerSettings
from .schedules import ScheduleBook
from .scripts import ScriptCatalog

# any fixed number: the PostgreSQL advisory lock that serializes migrations across nodes
_MIGRATION_LOCK = 0x51_1CE_6A7E


def ensure_schema(engine: Engine) -> None:
    """Bring the database up to date; nodes starting together migrate one at a time."""
    if engine.dialect.name != "postgresql":
        upgrade(engine)
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
        try:
            upgrade(engine)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
            conn.commit()


@dataclass
class Triggers:
    """The trigger layer's parts, sharing one database, executor and clock."""

    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    defaults: InputDefaults
    catalog: ScriptCatalog
    history: RunHistory
    executor: Executor
    launcher: Launcher
    schedules: ScheduleBook
    node: str

    def scheduler(self, settings: SchedulerSettings | None = None) -> Scheduler:
        return Scheduler(self.sessions, self.executor, self.history, clock=self.clock,
                         settings=settings, node=self.node, defaults=self.defaults,
                         limits=self.launcher.limits_for("schedule"))


def open_triggers(engine: Engine, *, executor: Executor | None = None,
                  clock: Clock | None = None, broker: Any = None, forker: Any = None,
                  defaults: InputDefaults | None = None, node: str | None = None,
                  migrate: bool = True) -> Triggers:
    """The trigger layer over `engine`. Without an `executor`, scripts run isolated in
    children of `forker` when one is given (a `ZygoteForker`), else in-process; either
    way with `broker` for their HTTP calls and a resolver over the catalog, so stored
    functions can call each other."""
    if migrate:
        ensure_schema(engine)
    sessions = session_factory(engine)
    clock = clock or SystemClock()
    if defaults is None:
        from ..org import ProfileBook

        book = ProfileBook(sessions)
        base = InputDefaults.from_environment()
        defaults = ProfileDefaults(base.organization, base.user,
                                   profile=lambda: _organization_keys(book))
    node = node or node_name()
    catalog = ScriptCatalog(sessions, clock)
    history = RunHistory(sessions, max_field_bytes=field_cap_from_environment(),
                         max_input_bytes=input_cap_from_environment())
    if executor is None and forker is not None:
        executor = isolated_executor(forker, broker=broker, sources=StoredSources(catalog))
    if executor is None:
        # scripts read `now` from the same clock the schedules fire by
        executor = InProcessExecutor(Runtime(broker=broker, resolver=StoredFunctions(catalog),
                                             now=clock.now))
    launcher = Launcher(catalog, history, executor, defaults=defaults, clock=clock, node=node)
    return Triggers(engine, sessions, clock, defaults, catalog, history, executor, launcher,
                    ScheduleBook(sessions, clock), node)


def _organization_keys(book: Any) -> dict[str, Any] | None:
    profile = book.get()
    return None if profile is None else profile.organization_map()
