"""Per-run limits (SPEC §8) and the run context that the built-ins can consult.

`Limits` holds the configured numbers. `RunContext` is the mutable state of one run
(step budget, call depth, logs, clock, time zone, broker). The active context is kept
in a context variable so built-ins deep in the stdlib (dates need the time zone, size
checks need the limits) reach it without it being passed through every call.
"""

from __future__ import annotations

__all__ = [
    "Limits", "RunContext", "current", "activate", "check_text", "check_collection",
    "PROFILES", "spend", "check_time", "check_memory", "time_exceeded", "PYTHON_STEP",
    "WORK_QUANTUM", "text_limit_exceeded",
]

import contextvars
import datetime as _dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from .errors import LimitExceeded


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits of one run; every field can be set by the host (SPEC §8)."""

    max_statements: int = 200_000
    max_call_depth: int = 75
    timeout: float = 30.0
    max_http_calls: int = 250
    max_mail: int = 100
    http_timeout: float = 40.0
    http_max_bytes: int = 15 * 1024 * 1024
    max_info_bytes: int = 500 * 1024
    max_text: int = 16 * 1024 * 1024
    max_elements: int = 1_000_000
    max_nesting: int = 512
    memory_bytes: int = 512 * 1024 * 1024
    max_source_bytes: int = 2 * 1024 * 1024

    def with_(self, **changes: Any) -> Limits:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


PROFILES: dict[str, Limits] = {
    "function": Limits(timeout=30.0),
    "button": Limits(timeout=10.0),
    "schedule": Limits(timeout=15 * 60.0),
}


@dataclass(eq=False, slots=True)
class RunContext:
    """The state of one run. Generated code reaches it as its first argument."""

    limits: Limits = field(default_factory=Limits)
    timezone: _dt.tzinfo = field(default_factory=lambda: ZoneInfo("UTC"))
    date_format: str | None = None
    now: Callable[[], _dt.datetime] | None = None
    system: dict[str, Any] = field(default_factory=dict)
    broker: Any = None
    mailer: Any = None
    tasks: Any = None
    resolver: Any = None
    # Where randomNumber draws from (an object with `randbelow(n)`): the OS's random
    # source unless the host injects one (`sluice test` seeds one per case).
    random: Any = None
    # a scheduled run's identity across re-runs (connections derive idempotency keys
    # from it) and what tells it to stop (its node lost the lease): `is_set()` -> bool
    run_key: str | None = None
    cancel: Any = None
    # mutable run state
    remaining: int = 0
    # date literals read in this run, by (text, zone, date format): stdlib/dates.py
    date_literals: dict[Any, Any] = field(default_factory=dict)
    depth: int = 0
    deadline: float = 0.0
    started: float = 0.0
    last_refill: float = 0.0
    batch: int = 0
    logs: list[str] = field(default_factory=list)
    info_bytes: int = 0
    info_truncated: bool = False
    http_calls: int = 0
    http_trace: list[dict[str, Any]] = field(default_factory=list)
    mail: list[dict[str, Any]] = field(default_factory=list)
    functions: dict[str, Any] = field(default_factory=dict)
    # work done inside built-ins since the clock was last read (see `spend`)
    work: int = 0
    # memory (see `check_memory`): resident bytes at the first check, growth that
    # triggers the next measurement of held values, time of the last check; characters
    # of large texts built since the last measurement, and how many trigger the next
    memory_base: int = 0
    memory_next: int = 0
    memory_checked: float = 0.0
    allocated: int = 0
    allocated_next: int = 0

    def start(self) -> None:
        self.remaining = self.limits.max_statements
        self.started = self.last_refill = time.monotonic()
        self.batch = 32
        self.deadline = self.started + self.limits.timeout
        self.work = 0
        self.memory_base = 0
        self.memory_next = self.allocated_next = self.limits.memory_bytes
        self.allocated = 0
        # the first resident-size read (the baseline) waits one period: short runs,
        # most runs, never pay for it
        self.memory_checked = self.started

    @property
    def statements(self) -> int:
        return self.limits.max_statements - self.remaining

    def current_datetime(self) -> _dt.datetime:
        if self.now is not None:
            return self.now().astimezone(self.timezone)
        return _dt.datetime.now(self.timezone)


_DEFAULT = RunContext()
_CURRENT: contextvars.ContextVar[RunContext] = contextvars.ContextVar("sluicegate_run",
                                                                       default=_DEFAULT)


def current() -> RunContext:
    """The context of the run executing on this thread (a default one outside any run)."""
    return _CURRENT.get()


@contextmanager
def activate(ctx: RunContext) -> Iterator[RunContext]:
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)


def text_limit_exceeded() -> LimitExceeded:
    """The error of a text over the run's size limit."""
    limit = _CURRENT.get().limits.max_text
    return LimitExceeded(f"Text size limit of {limit} characters exceeded", limit="text")


def check_text(length: int) -> None:
    """Raise LimitExceeded when a text would be longer than the run allows.

    Built-ins call it before building a large text, so the text's size is also charged
    as work (`spend`): building it takes time and memory."""
    ctx = _CURRENT.get()
    limit = ctx.limits.max_text
    if length > limit:
        raise LimitExceeded(f"Text size limit of {limit} characters exceeded", limit="text")
    ctx.work += length
    ctx.allocated += length
    if ctx.work >= WORK_QUANTUM or ctx.allocated > ctx.allocated_next:
        _checkpoint(ctx)


def check_collection(size: int) -> None:
    """Raise LimitExceeded when a LIST or MAP would hold more elements than the run allows.

    Not charged as work: it is asked on every `add` to a long list, whatever it costs."""
    limit = _CURRENT.get().limits.max_elements
    if size > limit:
        raise LimitExceeded(f"Collection size limit of {limit} elements exceeded",
                            limit="elements")


# Units of work a built-in may do between two reads of the clock: a unit is about a
# nanosecond (a character copied, a byte scanned by C code), so a quantum is a few
# milliseconds. Built-ins charge as they go, so one call can never run far past the
# run's deadline or memory budget.
WORK_QUANTUM = 1 << 22
# What one step of Python-level work costs in units (comparing two values in Python,
# visiting a node): about a microsecond.
PYTHON_STEP = 1024
# Resident-size checks happen at most this often from the step budget (sandbox.refill).
MEMORY_PERIOD = 0.005
# After a measurement that finds the run within budget, the next comes when memory grew
# by the room left in the budget, or at least by this much (a sixteenth of a small
# budget): measuring walks every value the run holds, so it must stay rare.
_MEMORY_SLACK = 16 * 1024 * 1024


def spend(units: int) -> None:
    """Charge `units` of work done inside a built-in (elements sorted, nodes visited,
    bytes scanned). About every WORK_QUANTUM units the run's deadline and memory are
    checked: LimitExceeded ends a call that would run past them."""
    ctx = _CURRENT.get()
    ctx.work += units
    if ctx.work >= WORK_QUANTUM:
        _checkpoint(ctx)


def _checkpoint(ctx: RunContext) -> None:
    ctx.work = 0
    if not ctx.deadline:  # no run is active on this thread (a built-in called directly)
        ctx.allocated = 0
        return
    now = time.monotonic()
    if now > ctx.deadline:
        raise time_exceeded(ctx)
    if now - ctx.memory_checked >= MEMORY_PERIOD or ctx.allocated > ctx.allocated_next:
        check_memory(ctx, now)


def time_exceeded(ctx: RunContext) -> LimitExceeded:
    return LimitExceeded(f"Time limit of {ctx.limits.timeout:g} s exceeded", limit="time")


def check_time() -> None:
    """Raise LimitExceeded when the run is past its deadline (for loops in built-ins)."""
    ctx = _CURRENT.get()
    if ctx.deadline and time.monotonic() > ctx.deadline:
        raise time_exceeded(ctx)


def check_memory(ctx: RunContext, now: float) -> None:
    """Raise LimitExceeded when the run holds more memory than `limits.memory_bytes`.

    The resident size of the process is read (cheap); only when it grew past the budget
    since the run's first check, or when the run built more large texts than the room
    left in its budget (memory the allocator kept from earlier runs is reused without
    growing the process), are the run's own values measured (memory.held_by_run), so
    memory held by the host or other runs is never charged to this one."""
    if not ctx.deadline:
        return  # no run is active on this thread
    from . import memory

    ctx.memory_checked = now
    rss = memory.resident()
    if not ctx.memory_base:
        ctx.memory_base = rss
    grown = rss - ctx.memory_base
    if grown <= ctx.memory_next and ctx.allocated <= ctx.allocated_next:
        return
    held = memory.held_by_run()
    limit = ctx.limits.memory_bytes
    if held > limit:
        raise LimitExceeded(f"Memory limit of {limit} bytes exceeded", limit="memory")
    room = max(min(_MEMORY_SLACK, limit // 16), limit - held)
    ctx.memory_next = grown + room
    ctx.allocated = 0
    ctx.allocated_next = room
