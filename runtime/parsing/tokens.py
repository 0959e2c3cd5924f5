"""The parser's tokens and trees, without Lark.

A script that parses is read by `plainparse` from tables exported once from Lark's
parser, and importing Lark would be a fifth of a cold `sluice run`: its tokens and the
trees of rules the translator has no method for are these classes. They behave as Lark's
(`lark.Token`, `lark.Tree`) for everything the translator reads: a token is the text
itself (a `str`) with `type`, `value` and its positions; a tree has `data` and
`children`, and compares as Lark's does.

Lark's own parser still runs where a script does not parse (its errors are the ones
reported) and for the editor tooling, so the translator meets Lark's tokens too:
`isinstance(x, Token)` is true of both, as `larkload` registers `lark.Token` here when it
imports Lark.
"""

from __future__ import annotations

__all__ = ["Token", "Tree"]

from abc import ABCMeta
from typing import Any


class Token(str, metaclass=ABCMeta):
    """A token: its text, with the type of its terminal and where it is (Lark's fields)."""

    __slots__ = ("type", "start_pos", "value", "line", "column", "end_line", "end_column",
                 "end_pos")

    type: str
    start_pos: int | None
    value: Any
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    end_pos: int | None

    def __new__(cls, type: str, value: Any, start_pos: int | None = None,
                line: int | None = None, column: int | None = None,
                end_line: int | None = None, end_column: int | None = None,
                end_pos: int | None = None) -> Token:
        inst = super().__new__(cls, value)
        inst.type = type
        inst.start_pos = start_pos
        inst.value = value
        inst.line = line
        inst.column = column
        inst.end_line = end_line
        inst.end_column = end_column
        inst.end_pos = end_pos
        return inst

    def __reduce__(self) -> Any:
        return (self.__class__, (self.type, self.value, self.start_pos, self.line,
                                 self.column))

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"

    def __eq__(self, other: object) -> bool:
        # as Lark's: two tokens of different types differ even when their texts do not
        if isinstance(other, Token) and self.type != other.type:
            return False
        return str.__eq__(self, other)

    __hash__ = str.__hash__


class Tree:
    """A rule's node where no translator method stands for the rule (Lark's `Tree`)."""

    __slots__ = ("data", "children", "meta")

    def __init__(self, data: str, children: list[Any], meta: Any = None) -> None:
        self.data = data
        self.children = children
        self.meta = meta

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"

    def __eq__(self, other: object) -> bool:
        try:
            return self.data == other.data and self.children == other.children  # type: ignore[attr-defined]
        except AttributeError:
            return False

    def __ne__(self, other: object) -> bool:
        return not (self == other)

    def __hash__(self) -> int:
        return hash((self.data, tuple(self.children)))
