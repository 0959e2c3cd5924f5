"""Lark, imported without the backtracking `regex` module.

Lark imports `regex` when it is installed, only to measure terminals written with Unicode
categories (`\\p{L}`), which the Deluge grammar has none of; importing it is about a tenth
of a cold `sluice run`. The first import of Lark goes through here, with an import hook
that refuses `regex` to this thread alone (other threads import it as usual), so Lark
falls back to `re` as it does where `regex` is not installed. Built-ins that need `regex`
import it when first used (and the isolation zygote preloads it).

A script that parses does not import Lark at all (plainparse); `tokens.Token` is told
here that Lark's tokens are tokens too.
"""

from __future__ import annotations

__all__ = ["Lark", "Token", "Transformer", "UnexpectedCharacters", "UnexpectedEOF",
           "UnexpectedInput", "UnexpectedToken"]

import sys
import threading
from typing import Any


class _RegexRefused:
    """A meta path entry that makes `import regex` fail in one thread."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "regex" and threading.get_ident() == self.thread:
            raise ImportError("regex is not needed by the Deluge grammar")
        return None


def _import_lark() -> None:
    if "lark" in sys.modules or "regex" in sys.modules:
        return
    refused = _RegexRefused()
    sys.meta_path.insert(0, refused)
    try:
        import lark  # noqa: F401
    finally:
        sys.meta_path.remove(refused)


_import_lark()

from lark import Lark, Token, Transformer  # noqa: E402
from lark.exceptions import (  # noqa: E402
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from .tokens import Token as _Token  # noqa: E402

# The translator reads Lark's tokens (errors, editor tooling) as it reads plainparse's.
_Token.register(Token)
