"""Isolated execution: every run in a forked child with resource limits and no secrets.

    protocol  length-prefixed JSON messages between child and parent (never pickle)
    child     what the child does: drop env and fds, set rlimits, run, report, _exit
    executor  IsolatedExecutor (the parent side) and DirectForker
    zygote    a preloaded single-threaded process that forks children for threaded hosts
    identity  the unprivileged uid children switch to when the host is root
"""

from .executor import DirectForker, IsolatedExecutor, preload
from .zygote import ZygoteForker

__all__ = ["IsolatedExecutor", "DirectForker", "ZygoteForker", "preload"]
