"""The Deluge grammar, shipped as a package resource."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["GRAMMAR_PATH", "grammar_text"]

# Read with os.path and open(): importing pathlib is a tenth of the start-up of a
# `sluice run` that needs nothing else of it (GRAMMAR_PATH is made when asked for).
_GRAMMAR_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "deluge.lark")


def grammar_text() -> str:
    """The text of deluge.lark."""
    with open(_GRAMMAR_FILE, encoding="utf-8") as f:
        return f.read()


def __getattr__(name: str) -> Any:
    if name == "GRAMMAR_PATH":  # the grammar file as a pathlib.Path
        from pathlib import Path

        return Path(_GRAMMAR_FILE)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
