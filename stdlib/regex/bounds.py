"""What bounds the cost of a script's pattern, and the errors that say a bound was hit.

REGEX_TIMEOUT is read at each call (`bounds.REGEX_TIMEOUT`), so a test may lower it.
"""

from __future__ import annotations

__all__ = [
    "CACHED_LITERAL",
    "CACHE_SIZE",
    "MAX_DEPTH",
    "MAX_PATTERN",
    "REGEX_TIMEOUT",
    "RE_BUDGET",
    "SMALL_RESULT",
    "invalid",
    "shown",
    "too_long",
]

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass
from sluicegate.errors import ScriptRuntimeError

# Seconds a pattern that only the backtracking `regex` package can run may take per call.
REGEX_TIMEOUT = 1.0
# Upper bound of backtracking steps accepted for the stdlib `re` engine (a few ms).
RE_BUDGET = 2_000_000
# Results whose size bound is below this are built without size bookkeeping.
SMALL_RESULT = 65_536
CACHE_SIZE = 512
# Longest pattern accepted [chosen]: compiling is linear at best (a counted repeat or an
# alternation per character costs far more), it cannot be interrupted, and compiled
# patterns are cached for the whole process. Real patterns are a few hundred characters.
MAX_PATTERN = 10_000
# Literal texts longer than this are matched ignoring case without the process-wide cache.
CACHED_LITERAL = 1_000
# Deepest group nesting accepted (the engines' parsers recurse; Java's stack is finite too).
MAX_DEPTH = 200



def shown(text: str) -> str:
    """A script's pattern as messages quote it: long ones are cut."""
    return text if len(text) <= 120 else text[:117] + "..."


def invalid(pattern: str, reason: str) -> ScriptRuntimeError:
    return ScriptRuntimeError(f"Invalid regular expression '{shown(pattern)}': {reason}")


def too_long(pattern: str) -> ScriptRuntimeError:
    return ScriptRuntimeError(f"Regular expression '{shown(pattern)}' took too long")
