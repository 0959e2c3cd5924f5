"""The Deluge grammar, shipped as a package resource."""

from pathlib import Path

__all__ = ["GRAMMAR_PATH", "grammar_text"]

GRAMMAR_PATH = Path(__file__).with_name("deluge.lark")


def grammar_text() -> str:
    """The text of deluge.lark."""
    return GRAMMAR_PATH.read_text(encoding="utf-8")
