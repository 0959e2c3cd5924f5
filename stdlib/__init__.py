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

`METHODS[type][lower-case name]` and `FUNCTIONS[lower-case name]` are built once at
import from each module's `METHODS` and `FUNCTIONS` rows.
"""

from __future__ import annotations

__all__ = ["METHODS", "FUNCTIONS", "TASKS", "Builtin", "ANY", "method_names"]

from sluicegate.values import (
    BOOLEAN, COLLECTION, DATETIME, DECIMAL, FILE, LIST, MAP, NULL, NUMBER, TEXT,
)

from . import (
    dateconvert, dates, encoding, files, jsonvalues, lists, maps, nulls, numbers, tasks, text,
    xpath,
)
from .builtin import ANY, Builtin

_MODULES = (nulls, text, xpath, numbers, lists, maps, dates, dateconvert, jsonvalues, encoding,
            files, tasks)
_TYPES = (TEXT, NUMBER, DECIMAL, BOOLEAN, NULL, DATETIME, LIST, MAP, COLLECTION, FILE, ANY)

METHODS: dict[str, dict[str, Builtin]] = {t: {} for t in _TYPES}
FUNCTIONS: dict[str, Builtin] = {}
TASKS: dict[str, Builtin] = {}


def _register() -> None:
    for module in _MODULES:
        for row in getattr(module, "METHODS", ()):
            for receiver in row.receivers:
                table = METHODS[receiver]
                for name in row.names:
                    table[name.lower()] = row
        for row in getattr(module, "FUNCTIONS", ()):
            for name in row.names:
                FUNCTIONS[name.lower()] = row
        for row in getattr(module, "TASKS", ()):
            for name in row.names:
                TASKS[name.lower()] = row


def method_names(type_tag: str) -> list[str]:
    """Canonical names of the methods a value of this type answers (for suggestions)."""
    rows = list(METHODS.get(type_tag, {}).values()) + list(METHODS[ANY].values())
    seen: dict[str, None] = {}
    for row in rows:
        for name in row.names:
            seen.setdefault(name, None)
    return list(seen)


_register()
