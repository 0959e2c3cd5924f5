"""sluicegate: a sandboxed runtime for Deluge business scripts with connection injection.

    from sluicegate import Runtime
    result = Runtime().run('info "hi"; return 1 + 2;')

The public names are loaded on first use so that `import sluicegate` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Runtime", "RunResult", "ErrorInfo", "Limits", "DelugeError", "ScriptRuntimeError",
           "ScriptSyntaxError", "LimitExceeded"]

_EXPORTS = {
    "Runtime": "engine", "RunResult": "engine", "ErrorInfo": "engine", "Limits": "limits",
    "DelugeError": "errors", "ScriptRuntimeError": "errors", "ScriptSyntaxError": "errors",
    "LimitExceeded": "errors",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sluicegate' has no attribute {name!r}")
    from importlib import import_module
    return getattr(import_module(f"sluicegate.{module}"), name)
