"""What a button script may return, checked: the vendor's two shapes and nothing else.

- a message: `{"code": N, "message": TEXT}`; code 0 is success, anything else is shown as
  a failure; the message may hold simple HTML (links, bold, italics, line breaks), and
  any other markup is escaped;
- a table: `{"header_context": [{"key": K, "value": LABEL}, ...], "data": [{K: ...}, ...]}`.
"""

from __future__ import annotations

__all__ = ["ButtonReply", "ButtonReturnError", "button_reply", "safe_message"]

import html
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from ..values import display, to_plain, type_name

_SHAPES = ('a map {"code": N, "message": TEXT} or {"header_context": [...], '
           '"data": [...]}')
_INLINE_TAGS = {"b", "i", "strong", "em", "u", "br"}
_LINK_SCHEMES = ("http://", "https://", "mailto:")


class ButtonReturnError(Exception):
    """A button script returned something the button cannot show."""


@dataclass(frozen=True)
class ButtonReply:
    """A valid button result: a message (`code`, `message`) or a table."""

    code: int | None = None
    message: str | None = None
    header_context: list[dict[str, Any]] | None = None
    data: list[dict[str, Any]] | None = None

    def to_json(self) -> dict[str, Any]:
        if self.header_context is not None:
            return {"header_context": self.header_context, "data": self.data}
        return {"code": self.code, "message": self.message}


def button_reply(value: Any) -> ButtonReply:
    """Check a button's return value; raises ButtonReturnError saying what was wrong."""
    if not isinstance(value, dict):
        got = "nothing" if value is None else f"{type_name(value)} {display(value)[:80]!r}"
        raise ButtonReturnError(f"A button must return {_SHAPES}; it returned {got}")
    keys = set(value)
    if keys == {"code", "message"}:
        code, message = value["code"], value["message"]
        if type(code) is not int:
            raise ButtonReturnError(f"The button's 'code' must be a NUMBER (0 for success); "
                                    f"it is {type_name(code)}")
        if not isinstance(message, str):
            raise ButtonReturnError(f"The button's 'message' must be TEXT; it is "
                                    f"{type_name(message)}")
        return ButtonReply(code=code, message=safe_message(str.__str__(message)))
    if keys == {"header_context", "data"}:
        header, data = value["header_context"], value["data"]
        if not isinstance(header, list) or not all(
                isinstance(h, dict) and isinstance(h.get("key"), str) for h in header):
            raise ButtonReturnError("The button's 'header_context' must be a LIST of maps "
                                    "with a TEXT 'key' (and a 'value' label)")
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise ButtonReturnError("The button's 'data' must be a LIST of maps, one per row")
        return ButtonReply(header_context=to_plain(header), data=to_plain(data))
    shown = ", ".join(sorted(map(str, keys))) or "no keys"
    raise ButtonReturnError(f"A button must return {_SHAPES}; it returned a map with "
                            f"{shown}")


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open_links = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.strip().lower().startswith(_LINK_SCHEMES):
                self.out.append(f'<a href="{html.escape(href.strip(), quote=True)}" '
                                'target="_blank" rel="noopener noreferrer">')
                self.open_links += 1
                return
        elif tag in _INLINE_TAGS:
            self.out.append(f"<{tag}>")
            return
        self.out.append(html.escape(self.get_starttag_text() or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.open_links:
            self.open_links -= 1
            self.out.append("</a>")
        elif tag in _INLINE_TAGS and tag != "br":
            self.out.append(f"</{tag}>")
        else:
            self.out.append(html.escape(f"</{tag}>"))

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))


def safe_message(message: str) -> str:
    """The message unchanged when it holds no markup; otherwise links (http, https,
    mailto) and inline emphasis kept, every other tag escaped so it shows as text."""
    if "<" not in message:
        return message
    parser = _Sanitizer()
    parser.feed(message)
    parser.close()
    parser.out.extend("</a>" for _ in range(parser.open_links))
    return "".join(parser.out)
