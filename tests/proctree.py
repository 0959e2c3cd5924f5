"""Process trees from /proc, for the tests and the benchmark that kill or freeze a worker
with its zygote and children (Linux)."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """Running or stopped; a zombie has ended."""
    found = _stat(pid)
    return found is not None and found[0] not in ("Z", "X")


def descendants(root: int) -> list[int]:
    """Every living process below `root`."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _stat(int(entry))
            if found is not None and found[0] not in ("Z", "X"):
                children.setdefault(found[1], []).append(int(entry))
    out: list[int] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def running_script(root: int) -> int | None:
    """The isolated child below `root` that is running a script: spares have no CPU-time
    limit yet, a child with its job has one (child._lock_down)."""
    for pid in descendants(root):
        try:
            limits = Path(f"/proc/{pid}/limits").read_text()
        except OSError:
            continue
        for line in limits.splitlines():
            if line.startswith("Max cpu time") and "unlimited" not in line:
                return pid
    return None


def signal_tree(root: int, sig: signal.Signals) -> list[int]:
    """Send `sig` to `root` and everything below it (twice over the tree, so that a child
    forked in between is caught too); returns the processes signalled."""
    signalled: set[int] = set()
    for _ in range(2):
        for pid in [root, *descendants(root)]:
            if pid not in signalled:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    continue
                signalled.add(pid)
    return sorted(signalled)
