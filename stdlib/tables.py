"""The lookup tables of the built-ins, filled from the modules as names are first used.

`METHODS[type][lower-case name]`, `FUNCTIONS[lower-case name]` and `TASKS[lower-case
name]` hold the `Builtin` rows of the stdlib modules (each module's `METHODS`,
`FUNCTIONS` and `TASKS` lists: the one source of truth). Importing every module is a
fifth of a cold `sluice run` that calls none of them, so a module is imported and its
rows registered when a name it defines is first looked up: `ensure(name)` reads the
precomputed `nameindex.NAMES` (module -> the lower-case names of its rows) and loads the
modules that define `name`. `load_all()` loads the rest, for readers of whole tables
(`sluicegate.stdlib.METHODS` & co, `check`, completion, suggestions).

The tables come out the same whatever the order names are used in: modules that share a
name load together, in `MODULES` order (`sharing`), so when two register the same key
the later one wins, as when all are registered in order, and a key once in a table is
final. Callers look a name up, and on a miss call `ensure(name)` and look again.
`build_names()` computes the index from the modules; a test checks that it equals
`nameindex.NAMES` (regenerate it with `write_index()`).
"""

from __future__ import annotations

__all__ = ["METHODS", "FUNCTIONS", "TASKS", "MODULES", "ensure", "load_all", "method_names",
           "build_names", "write_index", "sharing"]

import threading
from importlib import import_module
from typing import Any

from sluicegate.values import (
    BOOLEAN, COLLECTION, DATETIME, DECIMAL, FILE, LIST, MAP, NULL, NUMBER, TEXT,
)

from .builtin import ANY, Builtin
from .nameindex import NAMES

# Registration order: a later module's row wins a key two modules register.
MODULES = ("nulls", "text", "xpath", "numbers", "lists", "maps", "dates", "dateconvert",
           "jsonvalues", "encoding", "files", "tasks")
_TYPES = (TEXT, NUMBER, DECIMAL, BOOLEAN, NULL, DATETIME, LIST, MAP, COLLECTION, FILE, ANY)

METHODS: dict[str, dict[str, Builtin]] = {t: {} for t in _TYPES}
FUNCTIONS: dict[str, Builtin] = {}
TASKS: dict[str, Builtin] = {}

_RANK = {name: i for i, name in enumerate(MODULES)}


def _by_name(names: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """lower-case name -> the modules that define it, in `MODULES` order."""
    out: dict[str, tuple[str, ...]] = {}
    for module_name, module_names in names.items():
        for name in module_names:
            out[name] = (*out.get(name, ()), module_name)
    return out


_BY_NAME = _by_name(NAMES)

_loaded: set[str] = set()
_lock = threading.RLock()
_all_loaded = False


def ensure(name: str) -> bool:
    """Load the modules that define the lower-case `name`; True when one was loaded."""
    modules = _BY_NAME.get(name)
    if modules is None or _loaded.issuperset(modules):
        return False
    with _lock:
        _load(sharing(modules, NAMES, _BY_NAME))
    return True


def load_all() -> None:
    """Register every module's rows (for readers of whole tables)."""
    global _all_loaded
    if _all_loaded:
        return
    with _lock:
        _load(MODULES)
        _all_loaded = True


def sharing(modules: tuple[str, ...], names: dict[str, tuple[str, ...]],
            by_name: dict[str, tuple[str, ...]]) -> list[str]:
    """`modules` and every module that shares a name with one of them, transitively, in
    `MODULES` order: loaded together, so that a key found in a table is final (the later
    module's row, as when every module was registered in order)."""
    found: set[str] = set()
    todo = list(modules)
    while todo:
        module_name = todo.pop()
        if module_name in found:
            continue
        found.add(module_name)
        for name in names.get(module_name, ()):
            todo.extend(by_name.get(name, ()))
    return sorted(found, key=_RANK.__getitem__)


def _load(module_names: Any) -> None:
    """Import modules and register their rows; callers hold `_lock`. The rows are put in
    the tables once all are imported, each key once: a reader in another thread never
    sees a row that a later module of the group replaces."""
    staged: dict[tuple[int, str], tuple[dict[str, Builtin], str, Builtin]] = {}

    def stage(table: dict[str, Builtin], key: str, row: Builtin) -> None:
        staged[(id(table), key)] = (table, key, row)

    todo = [name for name in module_names if name not in _loaded]
    for module_name in todo:
        module = import_module(f"{__package__}.{module_name}")
        for row in getattr(module, "METHODS", ()):
            for receiver in row.receivers:
                for name in row.names:
                    stage(METHODS[receiver], name.lower(), row)
        for row in getattr(module, "FUNCTIONS", ()):
            for name in row.names:
                stage(FUNCTIONS, name.lower(), row)
        for row in getattr(module, "TASKS", ()):
            for name in row.names:
                stage(TASKS, name.lower(), row)
    for table, key, row in staged.values():
        table[key] = row
    _loaded.update(todo)


def method_names(type_tag: str) -> list[str]:
    """Canonical names of the methods a value of this type answers (for suggestions)."""
    load_all()
    rows = list(METHODS.get(type_tag, {}).values()) + list(METHODS[ANY].values())
    seen: dict[str, None] = {}
    for row in rows:
        for name in row.names:
            seen.setdefault(name, None)
    return list(seen)


def build_names() -> dict[str, tuple[str, ...]]:
    """The index computed from the modules themselves: module -> the sorted lower-case
    names of its METHODS, FUNCTIONS and TASKS rows."""
    out: dict[str, tuple[str, ...]] = {}
    for module_name in MODULES:
        module: Any = import_module(f"{__package__}.{module_name}")
        names = {name.lower() for table in ("METHODS", "FUNCTIONS", "TASKS")
                 for row in getattr(module, table, ()) for name in row.names}
        out[module_name] = tuple(sorted(names))
    return out


def index_source(names: dict[str, tuple[str, ...]]) -> str:
    """The text of `nameindex.py` for `names`."""
    lines = ['"""Which stdlib module defines each built-in name (lower case): generated by',
             "`sluicegate.stdlib.tables.write_index()` from the modules' rows, checked by",
             'tests/stdlib/test_lazy_tables.py. Read by `tables.ensure`."""', "",
             "NAMES: dict[str, tuple[str, ...]] = {"]
    for module_name, module_names in names.items():
        lines.append(f"    {module_name!r}: (")
        for name in module_names:
            lines.append(f"        {name!r},")
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_index() -> str:
    """Regenerate nameindex.py from the modules (after adding or renaming a built-in):
    `python -c "from sluicegate.stdlib.tables import write_index; write_index()"`."""
    import os

    target = os.path.join(os.path.dirname(__file__), "nameindex.py")
    with open(target, "w", encoding="utf-8") as f:
        f.write(index_source(build_names()))
    return target
