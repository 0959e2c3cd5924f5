"""Runs with some fast paths switched off, for the differential tests that compare a run
with and without each optimization (`fastpaths.OPTIMIZATIONS`): the switched-off set is
restored and the compiled-script cache emptied on the way in and out, so no compiled
code crosses from one setting to the other."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sluicegate.engine import Runtime
from sluicegate.limits import Limits
from sluicegate.optimizer import fastpaths
from sluicegate.sandbox import clear_cache


@contextmanager
def fast_paths_off(off: Iterable[str]) -> Iterator[None]:
    """Exactly the optimizations `off` are switched off inside the block."""
    saved = set(fastpaths.disabled)
    fastpaths.disabled.clear()
    fastpaths.disabled.update(off)
    try:
        clear_cache()
        yield
    finally:
        fastpaths.disabled.clear()
        fastpaths.disabled.update(saved)
        clear_cache()


def run_with(text: str, inputs: dict[str, Any], off: Iterable[str] = (),
             limits: Limits | None = None) -> dict[str, Any]:
    """The JSON result of running `text` (as f.dg, UTC) with `off` switched off."""
    with fast_paths_off(off):
        return Runtime(timezone="UTC").run(text, dict(inputs), filename="f.dg",
                                           limits=limits or Limits()).to_json()
