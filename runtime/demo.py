"""`sluice demo`: the example scripts run offline, with their logs, mail and results."""

from __future__ import annotations

__all__ = ["run_demo", "example_scripts"]

import json
from decimal import Decimal
from importlib import resources
from typing import Any, TextIO

from .engine import Runtime
from .values import to_json_text


def example_scripts() -> list[tuple[str, str, dict[str, Any]]]:
    """(name, source, inputs) of every example shipped in sluicegate.examples."""
    folder = resources.files("sluicegate.examples")
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".dg"):
            continue
        inputs_file = folder / (entry.name[:-3] + ".json")
        inputs = (json.loads(inputs_file.read_text(encoding="utf-8"), parse_float=Decimal)
                  if inputs_file.is_file() else {})
        found.append((entry.name, entry.read_text(encoding="utf-8"), inputs))
    return found


def run_demo(out: TextIO) -> int:
    runtime = Runtime()
    failures = 0
    out.write("sluicegate demo: running the example scripts in-process, offline\n")
    for name, source, inputs in example_scripts():
        out.write(f"\n== {name}  (inputs: {', '.join(sorted(inputs)) or 'none'})\n")
        result = runtime.run(source, inputs, filename=name)
        for line in result.logs:
            out.write(f"  info  {line}\n")
        for mail in result.mail:
            out.write(f"  mail  to {', '.join(mail['to'])}: {mail['subject']}\n")
        if result.ok:
            out.write(f"  => {to_json_text(result.to_json()['return'])}\n")
        else:
            failures += 1
            assert result.error is not None
            out.write("  " + result.error.diagnostic(source).replace("\n", "\n  ") + "\n")
        stats = result.stats
        out.write(f"  ({stats['statements']} statements, {stats['duration_ms']} ms)\n")
    out.write(f"\n{'all examples ran' if not failures else f'{failures} example(s) failed'}\n")
    return 0 if failures == 0 else 1
