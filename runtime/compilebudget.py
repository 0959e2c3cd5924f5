"""The compile budget: a deadline that parsing and the compile passes check as they go.

Compiling is linear in the size of a script but not free (a 2 MB script takes seconds),
and it happens before the first statement runs, so a run's time limit must cover it:
`Runtime.run` compiles under the run's own deadline, the zygote under a short one of its
own (a slow script is left to the child), and saving a script under the save limit.

    with compile_deadline(time.monotonic() + 2.0):
        compile_script(source)        # raises CompileTimeLimit past the deadline

Checks are cheap (a thread-local read) and made every few hundred tokens and tree nodes.
CPython's final `compile()` of the tree is the one step that cannot be interrupted: it
is not started when the time left is below what the stages before it predict, and the
deadline is checked again when it returns.
"""

from __future__ import annotations

__all__ = ["CompileTimeLimit", "compile_deadline", "check", "remaining", "active",
           "limit_seconds"]

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import LimitExceeded

_state = threading.local()


class CompileTimeLimit(LimitExceeded):
    """Compiling a script did not finish before the deadline it was given."""

    def __init__(self, seconds: float | None) -> None:
        within = f" of {seconds:g} s" if seconds is not None else ""
        super().__init__(f"Time limit{within} exceeded while compiling the script",
                         limit="time")


@contextmanager
def compile_deadline(deadline: float | None, seconds: float | None = None) -> Iterator[None]:
    """Compile under `deadline` (time.monotonic()); `seconds` is the limit as the user
    set it, for the message. None leaves compiling unbounded (the outer deadline, if
    any, still holds: the earlier of the two applies)."""
    outer = getattr(_state, "deadline", None)
    outer_seconds = getattr(_state, "seconds", None)
    if deadline is not None and (outer is None or deadline < outer):
        _state.deadline, _state.seconds = deadline, seconds
    try:
        yield
    finally:
        _state.deadline, _state.seconds = outer, outer_seconds


def active() -> bool:
    return getattr(_state, "deadline", None) is not None


def remaining() -> float | None:
    """Seconds left before the deadline, None when there is none."""
    deadline = getattr(_state, "deadline", None)
    return None if deadline is None else deadline - time.monotonic()


def limit_seconds() -> float | None:
    """The limit the current deadline stands for, as the user set it (for messages)."""
    return getattr(_state, "seconds", None)


def check() -> None:
    """Raise CompileTimeLimit when the current deadline has passed."""
    deadline = getattr(_state, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise CompileTimeLimit(getattr(_state, "seconds", None))
