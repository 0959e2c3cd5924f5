"""`sluice test --watch`: run, then run again whenever a test file, script, cassette or data
file under the given paths changes, until interrupted.

Changes are found by polling modification times and sizes (every `--interval` seconds,
0.5 by default): no dependency and no OS-specific notification API, and a few hundred
files cost microseconds a poll. A bad test file prints its error and the watch goes on.
"""

from __future__ import annotations

__all__ = ["watch", "snapshot"]

import os
import time
from collections.abc import Callable
from typing import Any, TextIO

_WATCHED = (".test.toml", ".dg", ".json")
_SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv", "venv", ".tox"}


def snapshot(paths: list[str]) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every watched file under `paths`."""
    seen: dict[str, tuple[int, int]] = {}
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")]
                for name in files:
                    if name.endswith(_WATCHED):
                        _stat(os.path.join(root, name), seen)
        else:
            _stat(path, seen)
            if path.endswith(".test.toml"):
                folder = os.path.dirname(path) or "."
                for name in os.listdir(folder):
                    if name.endswith((".dg", ".json")):
                        _stat(os.path.join(folder, name), seen)
    return seen


def _stat(path: str, seen: dict[str, tuple[int, int]]) -> None:
    try:
        st = os.stat(path)
    except OSError:
        return
    seen[path] = (st.st_mtime_ns, st.st_size)


def watch(args: Any, run_once: Callable[[], int], out: TextIO, *,
          stop: Callable[[], bool] = lambda: False,
          sleep: Callable[[float], None] = time.sleep) -> int:
    paths = list(args.paths or ["."])
    try:
        last = snapshot(paths)
        # said first, so that the last line after every run is its summary
        out.write(f"watching {', '.join(paths)} for changes (Ctrl-C to stop)\n")
        out.flush()
        run_once()
        while not stop():
            sleep(args.interval)
            now = snapshot(paths)
            if now == last:
                continue
            changed = sorted(p for p in set(now) | set(last) if now.get(p) != last.get(p))
            last = now
            out.write(f"\nchanged: {', '.join(changed[:5])}"
                      f"{' ...' if len(changed) > 5 else ''}\n")
            run_once()
            out.flush()
    except KeyboardInterrupt:
        return 130
    return 0
