"""Redaction: the forms of a connection's secrets a server can echo back, found and replaced.

An API may quote what it received: an error repeating the token, an echo endpoint, a
debug field. The broker replaces every credential of the connection it used with
`[redacted]` in the response's body, headers and URL (and in its own messages and the
call trace) before a script or the run record sees them. Servers re-encode what they
quote, so exact matching is not enough. A secret is found when it appears

- in UTF-8 or any ASCII-compatible charset, in the charset the Content-Type names, and in
  UTF-16 or UTF-32 (either byte order) whenever the body holds NUL bytes;
- with any of its characters escaped, in any mix and up to three layers deep: JSON and
  JavaScript string escapes (`\\u003d` as Gson writes `=`, `\\/`, `\\x3d`), HTML character
  references (`&#61;`, `&#x3D;`, `&equals;`) and percent-encoding (`%3D`, `%3d`; `+`
  for a space in the form `quote_plus` writes);
- base64-encoded, standard or URL-safe alphabet, with or without padding, alone or at
  any byte offset inside a longer base64 text, also wrapped over several lines (MIME, PEM);
- for a Basic connection, the same for `user:password`.

So a secret "split" means one broken up by escapes, encodings or line breaks: every one
of its characters is there, in order, each in some encoding. A secret cut into pieces
placed apart (half a token in one field, half in another) or only a part of one (a
provider quoting the first eight characters) is not detected. Decoding is bounded:
escapes of characters no secret holds are skipped, and a response that takes longer
than `BUDGET` seconds to check is refused (`ScrubTimeout`). Inside a longer base64
text the one or two characters at each edge that also encode the neighbouring bytes
remain (they carry at most a few bits of the secret). Bodies are scrubbed as sent; a
script that decodes a response with a charset no server plausibly uses for JSON or text
(EBCDIC, UTF-7) is outside what this module looks for.
"""

from __future__ import annotations

__all__ = ["BUDGET", "REDACTED", "ScrubTimeout", "scrub_bytes", "scrub_text"]

import base64
import bisect
import codecs
import html
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from html.entities import html5
from urllib.parse import quote_plus

REDACTED = "[redacted]"
# Escape layers decoded (a secret URL-encoded inside a JSON string inside HTML is three).
_DEPTH = 3
# Shorter secrets get no base64 fragments: a fragment of a few characters would match
# unrelated base64 text, and the secret itself is still matched in full.
_MIN_FRAGMENT = 8
_SIMPLE = {"\\\\": "\\", "\\/": "/", '\\"': '"', "\\'": "'", "\\b": "\b", "\\f": "\f",
           "\\n": "\n", "\\r": "\r", "\\t": "\t"}
_MARKERS = ("\\", "&", "%")
# Characters an escape of an outer layer may stand for when it hides an inner one
# (`%253D`, `\\u0026#61;`): always decoded, whatever the secrets hold.
_SYNTAX = frozenset("%\\&#;")
# Decoding escapes is the one part whose cost grows with what a server sends; a response
# it takes longer than this to check is refused rather than delivered unchecked.
BUDGET = 2.0
_WIDE = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")


class ScrubTimeout(Exception):
    """Checking a response for echoed secrets took longer than its budget."""


@lru_cache(maxsize=256)
def _escape_pattern(chars: frozenset[str]) -> re.Pattern[str]:
    """The escapes that may stand for a character in `chars`: every ASCII escape in each
    form (few; `_decoded` drops those of other characters), the exact forms of the
    non-ASCII ones, and the named references of `chars`. Escapes of non-ASCII text no
    secret holds (a JSON body with its accents or CJK escaped, `&nbsp;`) are skipped at
    the regex engine's speed; each alternative fails on its first differing character."""
    wide = sorted(c for c in chars if ord(c) >= 0x80)
    alts = [r"\\u00[0-7][0-9a-fA-F]", r"\\x[0-7][0-9a-fA-F]", r"%[0-7][0-9a-fA-F]",
            r"&\#0*[0-9]{1,3};?", r"&\#[xX]0*[0-9a-fA-F]{1,2};?"]
    simple = "".join(re.escape(k[1]) for k, v in _SIMPLE.items() if v in chars)
    if simple:
        alts.append(rf"\\[{simple}]")
    for c in wide:
        cp = ord(c)
        if cp > 0xFFFF:
            high, low = 0xD800 + ((cp - 0x10000) >> 10), 0xDC00 + ((cp - 0x10000) & 0x3FF)
            alts.append(rf"\\u(?i:{high:04x})\\u(?i:{low:04x})")
        else:
            alts.append(rf"\\u(?i:{cp:04x})")
        alts.append(rf"&\#0*{cp};?")
        alts.append(rf"&\#[xX]0*(?i:{cp:x});?")
        alts.append("".join(rf"%(?i:{b:02x})" for b in c.encode("utf-8", "surrogatepass")))
    names = sorted({name for name, value in html5.items() if value in chars}, key=len,
                   reverse=True)
    if names:
        alts.append("&(?:" + "|".join(re.escape(n) for n in names) + ")")
    return re.compile("|".join(alts))


def _decoded(token: str) -> str | None:
    """What one escape stands for, or None when it is not one (kept as it is)."""
    first = token[0]
    if first == "\\":
        if token[1] == "u":
            if len(token) == 12:
                high, low = int(token[2:6], 16), int(token[8:12], 16)
                return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            return chr(int(token[2:], 16))
        if token[1] == "x":
            return chr(int(token[2:], 16))
        return _SIMPLE[token]
    if first == "&":
        value = html.unescape(token)
        return None if value == token else value
    if first == "%":
        try:
            return bytes.fromhex(token.replace("%", "")).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


@dataclass
class _View:
    """A text derived from its parent by decoding escapes (or dropping line breaks), with
    the map back: segment k starts at `starts[k]` here and came from
    `[sources[k], ends[k])` of the parent, one character for one when `literal[k]`."""

    text: str
    parent: _View | None = None
    starts: list[int] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    literal: list[bool] = field(default_factory=list)

    def add(self, at: int, source: int, end: int, literal: bool) -> None:
        self.starts.append(at)
        self.sources.append(source)
        self.ends.append(end)
        self.literal.append(literal)

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that `[start, end)` of this view came from."""
        view: _View | None = self
        while view is not None and view.parent is not None:
            start, end = view._first(start), view._last(end - 1)
            view = view.parent
        return start, end

    def _first(self, i: int) -> int:
        k = bisect.bisect_right(self.starts, i) - 1
        return self.sources[k] + (i - self.starts[k]) if self.literal[k] else self.sources[k]

    def _last(self, i: int) -> int:
        k = bisect.bisect_right(self.starts, i) - 1
        if self.literal[k]:
            return self.sources[k] + (i - self.starts[k]) + 1
        return self.ends[k]


def _unescaped(view: _View, pattern: re.Pattern[str], chars: frozenset[str],
               deadline: float) -> _View | None:
    """The view with every escape `pattern` finds decoded once; None when there was none.
    Raises ScrubTimeout past `deadline`."""
    text = view.text
    if not any(marker in text for marker in _MARKERS):
        return None
    pieces: list[str] = []
    child = _View("", view)
    at = done = 0
    for count, m in enumerate(pattern.finditer(text)):
        if not count & 0x3FF and time.monotonic() > deadline:
            raise ScrubTimeout("checking the response for echoed credentials took too long")
        value = _decoded(m.group())
        if value is None or (len(value) == 1 and value not in chars):
            continue
        if m.start() > done:
            child.add(at, done, m.start(), True)
            pieces.append(text[done:m.start()])
            at += m.start() - done
        child.add(at, m.start(), m.end(), False)
        pieces.append(value)
        at += len(value)
        done = m.end()
    if not child.starts:
        return None
    if done < len(text):
        child.add(at, done, len(text), True)
        pieces.append(text[done:])
    child.text = "".join(pieces)
    return child


_BREAK = re.compile(r"[\r\n]+")


def _unwrapped(view: _View) -> _View | None:
    """The view without line breaks (base64 wrapped at 64 or 76 columns); None if none."""
    text = view.text
    if "\n" not in text and "\r" not in text:
        return None
    child = _View("", view)
    pieces: list[str] = []
    at = done = 0
    for m in _BREAK.finditer(text):
        if m.start() > done:
            child.add(at, done, m.start(), True)
            pieces.append(text[done:m.start()])
            at += m.start() - done
        done = m.end()
    if done < len(text):
        child.add(at, done, len(text), True)
        pieces.append(text[done:])
    if not pieces:
        return None
    child.text = "".join(pieces)
    return child


def _base64_forms(raw: bytes) -> set[str]:
    """`raw` in base64 (both alphabets): whole, with and without padding, and the parts
    fully determined by `raw` when it starts 0, 1 or 2 bytes into a 3-byte group."""
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        forms.update((whole, whole.rstrip("=")))
        if len(raw) * 8 // 6 < _MIN_FRAGMENT:
            continue
        for shift in (0, 1, 2):
            encoded = encode(b"\0" * shift + raw + b"\0\0").decode("ascii")
            first = -(-shift * 8 // 6)
            last = (shift + len(raw)) * 8 // 6
            forms.add(encoded[first:last])
    return forms


@lru_cache(maxsize=256)
def _needles(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """What to look for in every view: each secret and its base64 forms, longest first."""
    found: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        found.add(secret)
        found.add(quote_plus(secret))
        found.update(_base64_forms(secret.encode("utf-8", "surrogatepass")))
    return tuple(sorted((n for n in found if n), key=len, reverse=True))


@lru_cache(maxsize=256)
def _escapes_for(needles: tuple[str, ...]) -> tuple[frozenset[str], re.Pattern[str]]:
    chars = frozenset("".join(needles)) | _SYNTAX
    return chars, _escape_pattern(chars)


def _views(text: str, needles: tuple[str, ...], deadline: float) -> list[_View]:
    root = _View(text)
    views = [root]
    current: _View | None = root
    chars, pattern = _escapes_for(needles)
    for _ in range(_DEPTH):
        current = (_unescaped(current, pattern, chars, deadline) if current is not None
                   else None)
        if current is None:
            break
        views.append(current)
    for view in list(views):
        unwrapped = _unwrapped(view)
        if unwrapped is not None:
            views.append(unwrapped)
    return views


def _spans(text: str, needles: tuple[str, ...], deadline: float) -> list[tuple[int, int]]:
    """Every span of `text` that is, or decodes to, a needle; merged and in order."""
    spans: list[tuple[int, int]] = []
    for view in _views(text, needles, deadline):
        haystack = view.text
        for needle in needles:
            i = haystack.find(needle)
            while i >= 0:
                spans.append(view.original(i, i + len(needle)))
                i = haystack.find(needle, i + len(needle))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def scrub_text(text: str, secrets: tuple[str, ...], deadline: float | None = None) -> str:
    """`text` with every form of every secret replaced by `[redacted]` (the same object
    when nothing was found). Raises ScrubTimeout past `deadline` (`BUDGET` from now)."""
    if not secrets or not text:
        return text
    spans = _spans(text, _needles(secrets),
                   time.monotonic() + BUDGET if deadline is None else deadline)
    if not spans:
        return text
    out: list[str] = []
    done = 0
    for start, end in spans:
        out.append(text[done:start])
        out.append(REDACTED)
        done = end
    out.append(text[done:])
    return "".join(out)


def scrub_bytes(data: bytes, secrets: tuple[str, ...], charset: str | None = None) -> bytes:
    """A body with every form of every secret replaced by `[redacted]`, in UTF-8 (which
    covers any ASCII-compatible charset for ASCII secrets), in `charset` (the one the
    Content-Type names) and, when the body holds NUL bytes, in UTF-16 and UTF-32."""
    if not secrets or not data:
        return data
    deadline = time.monotonic() + BUDGET
    text = data.decode("utf-8", "surrogateescape")
    scrubbed = scrub_text(text, secrets, deadline)
    if scrubbed is not text:
        data = scrubbed.encode("utf-8", "surrogateescape")
    wide = b"\0" in data
    for encoding in _encodings(charset, wide):
        data = _scrub_in(data, encoding, secrets, deadline)
    return data


@lru_cache(maxsize=64)
def _encodings(charset: str | None, wide: bool) -> tuple[str, ...]:
    """The encodings to read a body in besides UTF-8."""
    found: list[str] = []
    if charset:
        try:
            name = codecs.lookup(charset).name
        except LookupError:
            name = ""
        if name in ("utf-16", "utf-32"):
            found.extend(e for e in _WIDE if e.startswith(name))
        elif name and name not in ("utf-8", "ascii"):
            found.append(name)
    if wide:
        found.extend(e for e in _WIDE if e not in found)
    return tuple(found)


def _scrub_in(data: bytes, encoding: str, secrets: tuple[str, ...], deadline: float
              ) -> bytes:
    """Scrub `data` read in `encoding`; bytes are re-encoded only where a secret was."""
    unit = 4 if "32" in encoding else 2 if "16" in encoding else 1
    whole = len(data) - len(data) % unit
    try:
        text = data[:whole].decode(encoding, "surrogatepass")
        errors = "surrogatepass"
    except (UnicodeDecodeError, ValueError, TypeError):
        try:
            text = data[:whole].decode(encoding, "replace")
        except (ValueError, TypeError):
            return data  # not a text codec at all
        errors = "replace"
    scrubbed = scrub_text(text, secrets, deadline)
    if scrubbed is text:
        return data
    try:
        return scrubbed.encode(encoding, errors) + data[whole:]
    except (UnicodeEncodeError, ValueError, TypeError):
        return REDACTED.encode(encoding, "replace")
