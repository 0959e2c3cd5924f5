"""The built-in reference (docs/builtins.md), generated from the stdlib tables.

    python -m sluicegate.stdlib.reference > docs/builtins.md

Every method, function and task a script can reach is listed with its names, the value
types it is called on, how many arguments it takes and the first sentence of its
docstring (which gives the signature as scripts write it). A test keeps the file equal
to this output, so the reference cannot drift from the tables.
"""

from __future__ import annotations

__all__ = ["markdown"]

import re
import sys

from . import FUNCTIONS, METHODS, TASKS
from .builtin import ANY, Builtin

_ORDER = ("TEXT", "NUMBER", "DECIMAL", "BOOLEAN", "DATETIME", "LIST", "MAP", "COLLECTION",
          "FILE", "NULL", ANY)


def _arity(row: Builtin) -> str:
    if row.max_args is None:
        return f"{row.min_args} or more"
    if row.min_args == row.max_args:
        return str(row.min_args)
    return f"{row.min_args} to {row.max_args}"


def _summary(row: Builtin) -> str:
    doc = " ".join((row.fn.__doc__ or "").split())
    if not doc:
        return ""
    # the first sentence; a period inside quotes or a signature does not end it
    match = re.match(r"(.+?\.)(\s+[A-Z(`]|$)", doc)
    text = match.group(1) if match else doc
    return text.replace("|", "\\|")


def _rows(rows: list[Builtin]) -> list[str]:
    seen: set[int] = set()
    lines = []
    for row in sorted(rows, key=lambda r: r.name.lower()):
        if id(row) in seen:
            continue
        seen.add(id(row))
        names = ", ".join(f"`{n}`" for n in row.names)
        lines.append(f"| {names} | {_arity(row)} | {_summary(row)} |")
    return lines


def markdown() -> str:
    """The whole reference as Markdown."""
    out = ["# Built-in reference", "",
           "Generated from the stdlib tables by `python -m sluicegate.stdlib.reference`; "
           "do not edit by hand. Each entry gives the names a script may use (case does "
           "not matter), how many arguments it takes, and the first sentence of its "
           "description, which shows the signature as scripts write it. A method is "
           "called on a value (`text.trim()`); rows marked as functions are called by "
           "name (`ifnull(a, b)`), and most methods may also be called as functions with "
           "the value first (`trim(text)`).", ""]
    for type_tag in _ORDER:
        rows = list({id(r): r for r in METHODS.get(type_tag, {}).values()}.values())
        if not rows:
            continue
        title = "Methods of every value" if type_tag == ANY else f"{type_tag} methods"
        out += [f"## {title}", "", "| names | arguments | description |",
                "| --- | --- | --- |", *_rows(rows), ""]
    out += ["## Functions", "", "| names | arguments | description |", "| --- | --- | --- |",
            *_rows(list(FUNCTIONS.values())), ""]
    out += ["## Tasks (`zoho.*`)", "", "| names | arguments | description |",
            "| --- | --- | --- |", *_rows(list(TASKS.values())), ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(markdown())
