"""Per-run limits (SPEC §8) and the run context that the built-ins can consult.

`Limits` holds the configured numbers. `RunContext` is the mutable state of one run
(step budget, call depth, logs, clock, time zone, broker). The active context is kept
in a context variable so built-ins deep in the stdlib (dates need the time zone, size
checks need the limits) reach it without it being passed through every call.
"""

from __future__ import annotations

__all__ = [
    "Limits", "RunContext", "current", "activate", "check_text", "check_collection",
    "PROFILES",
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

    def start(self) -> None:
        self.remaining = self.limits.max_statements
        self.started = self.last_refill = time.monotonic()
        self.batch = 32
        self.deadline = self.started + self.limits.timeout

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


def check_text(length: int) -> None:
    """Raise LimitExceeded when a text would be longer than the run allows."""
    limit = _CURRENT.get().limits.max_text
    if length > limit:
        raise LimitExceeded(f"Text size limit of {limit} characters exceeded", limit="text")


def check_collection(size: int) -> None:
    """Raise LimitExceeded when a LIST or MAP would hold more elements than the run allows."""
    limit = _CURRENT.get().limits.max_elements
    if size > limit:
        raise LimitExceeded(f"Collection size limit of {limit} elements exceeded",
                            limit="elements")
