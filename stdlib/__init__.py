"""The built-in functions of Deluge, one module per value type, joined into lookup tables.

Reading this package tells the whole surface a script can reach: nothing outside these
tables is callable from a script.

    text       TEXT methods (and the bounded regex engine in `regex`)
    xpath      executeXPath on XML text, JSON text or a MAP
    numbers    NUMBER and DECIMAL methods
    lists      LIST methods
    maps       MAP and COLLECTION methods
    dates      DATETIME methods, date literals and patterns
    jsonvalues lenient JSON parsing (toMap, getJSON, toJSONList)
    encoding   base64, URL encoding, hashes and HMACs (also as zoho.encryption.*)
    files      FILE methods (name, content, type, charset, multipart parameter name)
    nulls      null and type checks, constructors, ifnull
    tasks      integration tasks and system values (zoho.*)

`METHODS[type][lower-case name]`, `FUNCTIONS[lower-case name]` and `TASKS` are the
tables of `tables`, which registers each module's `METHODS`, `FUNCTIONS` and `TASKS` rows.
Reading them here (`from sluicegate.stdlib import METHODS`) gives them whole; the runtime
reads `tables` directly, which imports a module when a name it defines is first used.
"""

from __future__ import annotations

__all__ = ["METHODS", "FUNCTIONS", "TASKS", "Builtin", "ANY", "method_names"]

from typing import Any

from .builtin import ANY, Builtin
from .tables import method_names

_WHOLE = ("METHODS", "FUNCTIONS", "TASKS")


def __getattr__(name: str) -> Any:
    """The whole tables, every module registered (the first read loads them)."""
    if name not in _WHOLE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import tables

    tables.load_all()
    value = getattr(tables, name)
    globals()[name] = value
    return value
