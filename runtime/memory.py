"""Memory measurement for in-process runs: the process's resident size and what a run holds.

An in-process run shares its process with the host (and, in `serve --in-process`, with
other runs), so no rlimit can bound it. The run's memory is checked in two steps
(limits.check_memory): the process's resident size, cheap to read, says whether memory
grew by more than the run's budget since the run started; only then are the values the
run holds measured, by walking the variables of its frames, so that a run is never
blamed for memory another run, the host or the allocator's free lists hold.

    resident()      bytes resident now (Linux /proc/self/statm; elsewhere the peak)
    held_by_run()   bytes of the values reachable from the running script's variables
"""

from __future__ import annotations

__all__ = ["resident", "held_by_run", "value_size"]

import os
import sys
from decimal import Decimal
from typing import Any

from .positions import SCRIPT_FILENAME
from .values import Collection, DateTime, File

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# (pid, fd) of /proc/self/statm: a forked child must open its own (the file names the
# process that opened it) and closes the descriptors it inherits.
_statm: tuple[int, int] = (0, -1)


def resident() -> int:
    """Bytes of the process resident in memory (about 2 µs on Linux)."""
    global _statm
    pid, fd = _statm
    if pid != os.getpid():
        try:
            fd = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            fd = -1
        _statm = (os.getpid(), fd)
    if fd >= 0:
        try:
            return int(os.pread(fd, 64, 0).split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            _statm = (0, -1)
    import resource  # no /proc: the peak, which only ever grows (checks come later, never wrong)

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


_SCALARS = (int, bool, Decimal, type(None))


def value_size(roots: list[Any]) -> int:
    """Bytes of the Deluge values reachable from roots, each object counted once.

    Only script value types are followed (texts, numbers, collections, dates, files), so
    a frame's helpers and run context are not counted."""
    getsizeof = sys.getsizeof
    seen: set[int] = set()
    stack = list(roots)
    total = 0
    while stack:
        obj = stack.pop()
        t = type(obj)
        if t in _SCALARS:
            if obj is None or t is bool or (t is int and -5 <= obj <= 256):
                continue  # shared singletons
        ident = id(obj)
        if ident in seen:
            continue
        if isinstance(obj, str) or t in _SCALARS:
            seen.add(ident)
            total += getsizeof(obj)
        elif isinstance(obj, list):
            seen.add(ident)
            total += getsizeof(obj)
            stack.extend(obj)
        elif isinstance(obj, dict):
            seen.add(ident)
            total += getsizeof(obj)
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif t is Collection:
            seen.add(ident)
            total += getsizeof(obj)
            stack.append(obj.items)
        elif t is File:
            seen.add(ident)
            total += getsizeof(obj) + getsizeof(obj.data) + getsizeof(obj.name)
        elif t is DateTime:
            seen.add(ident)
            total += getsizeof(obj) + getsizeof(obj.value)
    return total


def held_by_run() -> int:
    """Bytes held by the variables of the script frames on this thread's stack (the run
    calling this: user functions nest, so every script frame is one of its calls)."""
    roots: list[Any] = []
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == SCRIPT_FILENAME:
            local = frame.f_locals  # a snapshot dict of the frame's variables
            roots.extend(local.values())
            # the snapshot would keep values the script drops alive until its frame ends
            local.clear()
        frame = frame.f_back
    return value_size(roots)
