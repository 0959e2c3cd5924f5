"""Calls between stored scripts: finding a published function by its qualified name
(`standalone.fn`, `automation.x`), so one stored script can call another the way the
vendor's scripts do.

    StoredFunctions   the in-process `Runtime` resolver: compiled functions
    StoredSources     the isolated executor's `resolver_source`: (source, file name), which
                      the parent hands to the child that compiles it
"""

from __future__ import annotations

__all__ = ["StoredFunctions", "StoredSources"]

import threading
import time
from typing import Any

from ..errors import ScriptSyntaxError
from ..sandbox import compile_script
from .scripts import ScriptCatalog


class StoredSources:
    """`sources(qualified_name) -> (source, file name) | None` over the catalog.

    Answers are remembered for `ttl` seconds so that a loop calling a stored function
    does not query the database on every pass; a publish is seen after at most `ttl`.
    """

    def __init__(self, catalog: ScriptCatalog, ttl: float = 2.0) -> None:
        self.catalog = catalog
        self.ttl = ttl
        self._seen: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def source(self, qualified_name: str) -> str | None:
        name = qualified_name.lower()
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(name)
        if hit is not None and hit[0] > now:
            return hit[1]
        source = self.catalog.source_of_function(name)
        with self._lock:
            self._seen[name] = (now + self.ttl, source)
        return source

    def __call__(self, qualified_name: str) -> tuple[str, str] | None:
        source = self.source(qualified_name)
        return None if source is None else (source, f"{qualified_name.lower()}.dg")


class StoredFunctions:
    """`resolver(qualified_name) -> (fn, params, display name) | None` over the catalog."""

    def __init__(self, catalog: ScriptCatalog, ttl: float = 2.0) -> None:
        self.sources = StoredSources(catalog, ttl)

    def __call__(self, qualified_name: str) -> Any:
        name = qualified_name.lower()
        source = self.sources.source(name)
        if source is None:
            return None
        try:
            compiled = compile_script(source, f"{name}.dg")
        except ScriptSyntaxError:
            return None  # published versions compile; a failure here means no function
        entry = compiled.functions.get(name)
        if entry is None and compiled.entry.name:
            info = compiled.entry
            entry = (compiled.function(info), info.params, info.name)
        return entry
