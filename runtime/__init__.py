"""sluicegate: a sandboxed runtime for Deluge business scripts with connection injection.

    from sluicegate import Runtime
    result = Runtime().run('info "hi"; return 1 + 2;')

The public names are loaded on first use so that `import sluicegate` stays cheap.
"""

from __future__ import annotations

from .lazy import lazy_names

__all__ = ["Runtime", "RunResult", "ErrorInfo", "Limits", "DelugeError", "ScriptRuntimeError",
           "ScriptSyntaxError", "LimitExceeded"]

_EXPORTS = {
    "Runtime": "engine", "RunResult": "engine", "ErrorInfo": "engine", "Limits": "limits",
    "DelugeError": "errors", "ScriptRuntimeError": "errors", "ScriptSyntaxError": "errors",
    "LimitExceeded": "errors",
}

__getattr__ = lazy_names(globals(), _EXPORTS)
