"""Regular expressions from scripts: Java syntax, always finished in bounded time.

Script authors write Java regular expressions (the vendor runs on Java) and a pattern
must never hang a run (SPEC §7). A pattern is translated once per (pattern, flags) and
kept in a bounded LRU cache; each call then picks the engine that is safe for it:

    literal      a pattern without regex meaning (",", "\\.", "{name}"): str methods
    stdlib re    only when a static bound on its backtracking work for this text is
                 small (no quantifier over a group offering choices, and
                 n * choices <= _RE_BUDGET): fastest for the short texts scripts handle
    google-re2   everything RE2 expresses: linear in the length of the text
    regex        what RE2 lacks (backreferences, lookaround, possessive and atomic
                 groups, class set operations, \\G, \\X, Unicode blocks), with a
                 REGEX_TIMEOUT per call

Matches are found the way Java's Matcher.find finds them (after an empty match the next
search starts one character later), whichever engine runs.

Java syntax translated for the engines: \\Q...\\E, \\p{Alpha} and the other POSIX classes
(US-ASCII, as in Java), \\p{L} / \\p{IsLatin} / \\p{InGreek} / \\p{javaLowerCase},
\\h \\v \\R, \\uXXXX, \\x{...}, \\0 octal, \\cX, \\e, (?<name>...), \\k<name>, inline flags in
mid pattern ((?i) applies to the rest of its group, as in Java), (?x) comments mode,
possessive quantifiers, [a-z&&[^aeiou]], and a '{' that does not start a repetition
(taken literally, so "{name}" works).

Chosen differences from Java, identical whichever engine runs:
- \\d \\w \\s \\b are US-ASCII (Java's default); case-insensitive matching is Unicode.
- '$' without (?m) matches only at the very end of the text (RE2's rule), never before
  a final line break; '.' excludes only '\\n'.

Replacement texts use Java's syntax: $1, ${name}, and a backslash quotes the next
character ("\\$" is a dollar). Errors are ScriptRuntimeError, e.g.
`Invalid regular expression '(a': unclosed group`,
`Invalid replacement text '$2': No group 2`,
`Regular expression '(a|aa)+\\1$' took too long`.
"""

from __future__ import annotations

__all__ = [
    "REGEX_TIMEOUT",
    "Pattern",
    "compile_pattern",
    "contains_match",
    "find_all",
    "full_match",
    "literal_regex",
    "literal_text",
    "replace_all",
    "replace_first",
    "replace_literal",
]

import functools
import itertools
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

import re2

if TYPE_CHECKING:
    import regex
from re2 import _re2  # the compiled RE2 object; the re2 wrapper's Python loop is slow
from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import PYTHON_STEP, check_text, current, spend, time_exceeded

# Seconds a pattern that only the backtracking `regex` package can run may take per call.
REGEX_TIMEOUT = 1.0
# Upper bound of backtracking steps accepted for the stdlib `re` engine (a few ms).
_RE_BUDGET = 2_000_000
# Results whose size bound is below this are built without size bookkeeping.
_SMALL_RESULT = 65_536
_CACHE_SIZE = 512
# Longest pattern accepted [chosen]: compiling is linear at best (a counted repeat or an
# alternation per character costs far more), it cannot be interrupted, and compiled
# patterns are cached for the whole process. Real patterns are a few hundred characters.
MAX_PATTERN = 10_000
# Literal texts longer than this are matched ignoring case without the process-wide cache.
_CACHED_LITERAL = 1_000
# Deepest group nesting accepted (the engines' parsers recurse; Java's stack is finite too).
_MAX_DEPTH = 200

_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
_ANCHOR_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH


def _shown(text: str) -> str:
    """A script's pattern as messages quote it: long ones are cut."""
    return text if len(text) <= 120 else text[:117] + "..."


def _invalid(pattern: str, reason: str) -> ScriptRuntimeError:
    return ScriptRuntimeError(f"Invalid regular expression '{_shown(pattern)}': {reason}")


def _too_long(pattern: str) -> ScriptRuntimeError:
    return ScriptRuntimeError(f"Regular expression '{_shown(pattern)}' took too long")


# ---------------------------------------------------------------------------
# Translation: Java pattern -> (stdlib re, regex, RE2) pattern texts
# ---------------------------------------------------------------------------

class _PatternError(Exception):
    """A Java pattern this translator rejects; the message is the reason."""


# Java's POSIX classes (US-ASCII): class contents, and RE2's POSIX name for negation.
_POSIX: dict[str, tuple[str, str | None]] = {
    "lower": ("a-z", "lower"), "upper": ("A-Z", "upper"), "ascii": (r"\x00-\x7f", "ascii"),
    "alpha": ("A-Za-z", "alpha"), "digit": ("0-9", "digit"), "alnum": ("0-9A-Za-z", "alnum"),
    "punct": (r"\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e", "punct"),
    "graph": (r"\x21-\x7e", "graph"), "print": (r"\x20-\x7e", "print"),
    "blank": (r" \t", "blank"), "cntrl": (r"\x00-\x1f\x7f", "cntrl"),
    "xdigit": ("0-9A-Fa-f", "xdigit"), "space": (r" \t\n\x0b\x0c\r", "space"),
}
_SHORTHAND: dict[str, tuple[str, str | None]] = {
    "d": _POSIX["digit"], "w": ("0-9A-Za-z_", "word"), "s": _POSIX["space"],
}
# \h and \v of Java: explicit code point lists (py syntax, rx/RE2 syntax).
_HSPACE = (" \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000",
           " \\t\\xa0\\x{1680}\\x{180e}\\x{2000}-\\x{200a}\\x{202f}\\x{205f}\\x{3000}")
_VSPACE = ("\\n\\x0b\\x0c\\r\\x85\\u2028\\u2029", "\\n\\x0b\\x0c\\r\\x85\\x{2028}\\x{2029}")
_JAVA_SPACE = (("\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\u1680\\u2000-\\u2006\\u2008-\\u200a"
               "\\u2028\\u2029\\u205f\\u3000"),
               ("\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x{1680}\\x{2000}-\\x{2006}\\x{2008}-\\x{200a}"
               "\\x{2028}\\x{2029}\\x{205f}\\x{3000}"))
_CATEGORIES = frozenset((
    "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No",
    "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So",
    "Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Cs", "Co", "Cn"))
# Java binary properties (\p{IsAlphabetic}): regex name, RE2 approximation or None.
_BINARY: dict[str, tuple[str, str | None]] = {
    "alphabetic": ("Alphabetic", None), "ideographic": ("Ideographic", "Han"),
    "letter": ("L", "L"), "lowercase": ("Lowercase", "Ll"), "uppercase": ("Uppercase", "Lu"),
    "titlecase": ("Lt", "Lt"), "punctuation": ("P", "P"), "control": ("Cc", "Cc"),
    "white_space": ("White_Space", None), "whitespace": ("White_Space", None),
    "digit": ("Nd", "Nd"), "hex_digit": ("Hex_Digit", None), "hexdigit": ("Hex_Digit", None),
    "join_control": ("Join_Control", None), "joincontrol": ("Join_Control", None),
    "noncharacter_code_point": ("Noncharacter_Code_Point", None),
    "assigned": ("Assigned", None), "emoji": ("Emoji", None),
}
_JAVA_CHARACTER = {
    "javalowercase": "Ll", "javauppercase": "Lu", "javaletter": "L", "javadigit": "Nd",
    "javatitlecase": "Lt", "javaalphabetic": "Alphabetic", "javaideographic": "Ideographic",
}
_WS = " \t\n\r\f\x0b"
_FLAG_CHARS = "idmsuxUc"


def _esc_py(cp: int) -> str:
    ch = chr(cp)
    if cp < 128:
        if ch.isalnum() or ch == " ":
            return ch
        if 32 < cp < 127:
            return "\\" + ch
        return f"\\x{cp:02x}"
    if ch.isprintable() and not 0xD800 <= cp <= 0xDFFF:
        return ch
    return f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def _esc_x(cp: int) -> str:
    """Escape for the regex package and RE2 (both read \\x{...})."""
    if cp < 128 or (chr(cp).isprintable() and not 0xD800 <= cp <= 0xDFFF):
        return _esc_py(cp)
    return f"\\x{{{cp:x}}}"


@dataclass
class _Set:
    """A class shorthand (\\d, \\p{Alpha}, \\p{Lu} ...) rendered for each engine."""

    py_in: str | None      # inside [...]
    rx_in: str
    re2_in: str | None
    py_out: str | None     # standing alone
    rx_out: str
    re2_out: str | None


def _ascii_set(content: str, content_x: str, negated: bool, posix: str | None) -> _Set:
    if not negated:
        return _Set(content, content_x, content_x, f"[{content}]", f"[{content_x}]",
                    f"[{content_x}]")
    return _Set(None, f"[^{content_x}]", f"[:^{posix}:]" if posix else None,
                f"[^{content}]", f"[^{content_x}]", f"[^{content_x}]")


def _prop_set(rx_name: str, re2_name: str | None, negated: bool) -> _Set:
    p = "P" if negated else "p"
    rx = f"\\{p}{{{rx_name}}}"
    r2 = f"\\{p}{{{re2_name}}}" if re2_name else None
    return _Set(None, rx, r2, None, rx, r2)


def _property(name: str, negated: bool) -> _Set:
    """The set of Java's \\p{name}."""
    key = name.strip()
    lower = key.lower()
    if lower in _POSIX:
        content, posix = _POSIX[lower]
        return _ascii_set(content, content, negated, posix)
    if lower == "javawhitespace" or lower == "javaspacechar":
        return _ascii_set(_JAVA_SPACE[0], _JAVA_SPACE[1], negated, None)
    if lower in _JAVA_CHARACTER:
        target = _JAVA_CHARACTER[lower]
        return _prop_set(target, target if target in _CATEGORIES else None, negated)
    if "=" in key:
        kind, _, value = key.partition("=")
        kind = kind.strip().lower()
        value = value.strip()
        if kind in ("general_category", "gc"):
            return _prop_set(value, value, negated)
        if kind in ("script", "sc"):
            return _prop_set(f"Script={value}", value, negated)
        if kind in ("block", "blk"):
            return _prop_set(f"Block={value}", None, negated)
        raise _PatternError(f"unknown Unicode property {name}")
    if key in _CATEGORIES:
        return _prop_set(key, key, negated)
    if lower.startswith("is"):
        rest = key[2:]
        if rest in _CATEGORIES:
            return _prop_set(rest, rest, negated)
        if rest.lower() in _BINARY:
            rx_name, re2_name = _BINARY[rest.lower()]
            return _prop_set(rx_name, re2_name, negated)
        return _prop_set(f"Script={rest}", rest, negated)
    if lower.startswith("in"):
        return _prop_set(f"Block={key[2:]}", None, negated)
    # Anything else: let the engines decide (the regex package knows many names).
    return _prop_set(key, key, negated)


@dataclass
class _Frame:
    """An open group while translating."""

    kind: str                      # top, capture, group, look, atomic
    x: bool                        # comments mode
    m: bool                        # multiline
    pending: list[str] = field(default_factory=list)  # scoped flag groups to close
    alternatives: int = 1
    has_repeat: bool = False       # a choice-making quantifier directly inside
    ambiguous: bool = False        # a group inside offers choices
    alt_width: int | None = None   # fewest characters of the finished alternatives
    width: int = 0                 # fewest characters of the current alternative

    def min_width(self) -> int:
        return self.width if self.alt_width is None else min(self.alt_width, self.width)


@dataclass
class _Atom:
    width: int = 1                 # fewest characters it matches
    group: bool = False
    ambiguous: bool = False        # a group that contains a repeat or an alternation


@dataclass
class _Translation:
    py: str | None
    rx: str
    re2: str | None
    literal: str | None
    groups: int
    names: tuple[tuple[str, int], ...]
    nested: bool                   # a quantifier over a group with choices inside
    can_be_empty: bool             # some match may be empty (Java's find loop then matters)
    repeats: tuple[tuple[int, int | None], ...]   # (min, max) of every choice-making repeat
    branch_factor: int


class _Translator:
    """One pass over a Java pattern, writing the three engines' texts side by side."""

    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.py: list[str] = []
        self.rx: list[str] = []
        self.r2: list[str] = []
        self.py_ok = True
        self.re2_ok = True
        self.literal: list[str] | None = []
        self.groups = 0
        self.names: dict[str, int] = {}
        self.nested = False
        self.repeats: list[tuple[int, int | None]] = []
        self.branch_factor = 1
        self.frames = [_Frame("top", False, False)]
        self.last: _Atom | None = None

    # -- output ---------------------------------------------------------------
    def out(self, text: str) -> None:
        self.py.append(text)
        self.rx.append(text)
        self.r2.append(text)

    def out3(self, py: str | None, rx: str, r2: str | None) -> None:
        if py is None:
            self.py_ok = False
        else:
            self.py.append(py)
        self.rx.append(rx)
        if r2 is None:
            self.re2_ok = False
        else:
            self.r2.append(r2)

    def not_literal(self) -> None:
        self.literal = None

    def atom(self, width: int = 1, group: bool = False, ambiguous: bool = False) -> None:
        self.last = _Atom(width, group, ambiguous)
        self.frames[-1].width += width

    def char(self, cp: int) -> None:
        if self.literal is not None:
            self.literal.append(chr(cp))
        self.out3(_esc_py(cp), _esc_x(cp), _esc_x(cp))
        self.atom()

    # -- driver ---------------------------------------------------------------
    def run(self) -> _Translation:
        p = self.p
        n = len(p)
        i = 0
        while i < n:
            c = p[i]
            frame = self.frames[-1]
            if frame.x and c in _WS:
                i += 1
                continue
            if frame.x and c == "#":
                j = p.find("\n", i)
                i = n if j < 0 else j + 1
                continue
            if c == "\\":
                i = self.escape(i)
            elif c == "[":
                self.not_literal()
                py, rx, r2, i = self.char_class(i)
                self.out3(py, rx, r2)
                self.atom()
            elif c == "(":
                i = self.open_group(i)
            elif c == ")":
                self.close_group()
                i += 1
            elif c == "|":
                self.not_literal()
                frame.alternatives += 1
                frame.alt_width = frame.min_width()
                frame.width = 0
                self.out(")" * len(frame.pending))
                self.out("|")
                self.out("".join(frame.pending))
                self.last = None
                i += 1
            elif c in "*+?":
                i = self.quantifier(i, 0 if c != "+" else 1, None if c != "?" else 1, i + 1)
            elif c == "{":
                i = self.brace(i)
            elif c == ".":
                self.not_literal()
                self.out(".")
                self.atom()
                i += 1
            elif c == "^":
                self.not_literal()
                self.out("^")
                self.last = None
                i += 1
            elif c == "$":
                self.not_literal()
                if frame.m:
                    self.out("$")
                else:
                    self.out3("\\Z", "\\Z", "\\z")
                self.last = None
                i += 1
            else:
                self.char(ord(c))
                i += 1
        if len(self.frames) > 1:
            raise _PatternError("unclosed group")
        top = self.frames[0]
        self.out(")" * len(top.pending))
        can_be_empty = top.min_width() == 0
        self.branch_factor *= top.alternatives
        return _Translation(
            py="".join(self.py) if self.py_ok else None,
            rx="".join(self.rx),
            re2="".join(self.r2) if self.re2_ok else None,
            literal="".join(self.literal) if self.literal is not None else None,
            groups=self.groups,
            names=tuple(self.names.items()),
            nested=self.nested,
            can_be_empty=can_be_empty,
            repeats=tuple(self.repeats),
            branch_factor=self.branch_factor,
        )

    # -- quantifiers ----------------------------------------------------------
    def brace(self, i: int) -> int:
        m = _BRACE.match(self.p, i)
        if m is None:
            self.char(ord("{"))   # Java rejects this; real scripts write "{name}"
            return i + 1
        lo = int(m.group(1))
        if m.group(2) is None:
            hi: int | None = lo
        elif m.group(3):
            hi = int(m.group(3))
        else:
            hi = None
        if hi is not None and hi < lo:
            raise _PatternError(f"illegal repetition range {m.group(0)}")
        return self.quantifier(i, lo, hi, m.end())

    def quantifier(self, i: int, lo: int, hi: int | None, end: int) -> int:
        self.not_literal()
        p = self.p
        text = p[i:end]
        suffix = ""
        if end < len(p) and p[end] in "?+":
            suffix = p[end]
            end += 1
        if suffix == "+":
            self.out3(text + "+", text + "+", None)
        else:
            self.out(text + suffix)
        atom = self.last
        if atom is not None:
            self.frames[-1].width += atom.width * (lo - 1)
        if hi != lo:
            self.repeats.append((lo, hi))
            self.frames[-1].has_repeat = True
            if atom is not None and atom.group and atom.ambiguous:
                self.nested = True
        self.last = None
        return end

    # -- groups ---------------------------------------------------------------
    def open_group(self, i: int) -> int:
        self.not_literal()
        p = self.p
        parent = self.frames[-1]
        if len(self.frames) > _MAX_DEPTH:
            raise _PatternError("groups are nested too deeply")
        if not p.startswith("(?", i):
            self.groups += 1
            self.frames.append(_Frame("capture", parent.x, parent.m))
            self.out("(")
            return i + 1
        j = i + 2
        if p.startswith("<", j) and not p.startswith(("<=", "<!"), j):
            m = _GROUP_NAME.match(p, j + 1)
            if m is None:
                raise _PatternError("bad named group")
            name = m.group(0)
            if name in self.names:
                raise _PatternError(f"named group <{name}> is already defined")
            self.groups += 1
            self.names[name] = self.groups
            self.frames.append(_Frame("capture", parent.x, parent.m))
            self.out(f"(?P<{name}>")
            return m.end() + 1
        for opener, kind, re2_ok in (("=", "look", False), ("!", "look", False),
                                     ("<=", "look", False), ("<!", "look", False),
                                     (">", "atomic", False), (":", "group", True)):
            if p.startswith(opener, j):
                self.frames.append(_Frame(kind, parent.x, parent.m))
                text = "(?" + opener
                self.out3(text, text, text if re2_ok else None)
                return j + len(opener)
        m = _FLAGS.match(p, j)
        if m is None:
            raise _PatternError(f"unknown inline modifier at index {j}")
        on, off, close = m.group(1), m.group(2) or "", m.group(3)
        x = ("x" in on or parent.x) and "x" not in off
        multi = ("m" in on or parent.m) and "m" not in off
        kept_on = "".join(f for f in on if f in "ims")
        kept_off = "".join(f for f in off if f in "ims")
        flags = kept_on + ("-" + kept_off if kept_off else "")
        opener = f"(?{flags}:" if flags else "(?:"
        if close == ":":
            self.frames.append(_Frame("group", x, multi))
            self.out(opener)
        else:
            parent.x = x
            parent.m = multi
            if flags:
                parent.pending.append(opener)
                self.out(opener)
        return m.end()

    def close_group(self) -> None:
        if len(self.frames) == 1:
            raise _PatternError("unmatched closing ')'")
        frame = self.frames.pop()
        self.out(")" * len(frame.pending))
        self.out(")")
        self.branch_factor *= frame.alternatives
        ambiguous = frame.has_repeat or frame.alternatives > 1 or frame.ambiguous
        if ambiguous:
            self.frames[-1].ambiguous = True
        if frame.kind == "look":
            self.last = None
        else:
            self.atom(frame.min_width(), group=True, ambiguous=ambiguous)

    # -- escapes --------------------------------------------------------------
    def escape(self, i: int) -> int:
        p = self.p
        if i + 1 >= len(p):
            raise _PatternError("trailing backslash")
        c = p[i + 1]
        if c == "Q":
            end = p.find("\\E", i + 2)
            text = p[i + 2:] if end < 0 else p[i + 2:end]
            for ch in text:
                self.char(ord(ch))
            return len(p) if end < 0 else end + 2
        if c == "E":          # a stray \E is ignored, as in Java
            return i + 2
        result = self.escape_atom(i, in_class=False)
        kind, value, end = result
        if kind == "char":
            assert isinstance(value, int)
            self.char(value)
            return end
        self.not_literal()
        if kind == "set":
            assert isinstance(value, _Set)
            self.out3(value.py_out, value.rx_out, value.re2_out)
            self.atom()
        elif kind == "assert":
            assert isinstance(value, tuple)
            self.out3(*value)
            self.last = None
        elif kind == "backref":
            assert isinstance(value, tuple)
            self.out3(value[0], value[1], None)
            self.repeats.append((0, None))   # a backreference re-reads a whole group
            self.atom(0)
        else:   # "atom": a multi-character construct such as \R or \X
            assert isinstance(value, tuple)
            self.out3(*value)
            self.atom()
        return end

    def escape_atom(self, i: int, in_class: bool) -> tuple[str, object, int]:
        """Read the escape at p[i] == '\\': (kind, value, end index)."""
        p = self.p
        n = len(p)
        c = p[i + 1]
        j = i + 2
        simple = {"t": 9, "n": 10, "r": 13, "f": 12, "a": 7, "e": 27}
        if c in simple:
            return "char", simple[c], j
        if c == "0":
            m = _OCTAL.match(p, j)
            if m is None:
                raise _PatternError("illegal octal escape sequence")
            digits = m.group(0)
            if len(digits) == 3 and digits[0] > "3":
                digits = digits[:2]
            return "char", int(digits, 8), j + len(digits)
        if c == "x":
            if p.startswith("{", j):
                end = p.find("}", j)
                if end < 0:
                    raise _PatternError("unclosed hexadecimal escape sequence")
                try:
                    cp = int(p[j + 1:end], 16)
                except ValueError:
                    raise _PatternError("illegal hexadecimal escape sequence") from None
                if cp > 0x10FFFF:
                    raise _PatternError("hexadecimal codepoint is too big")
                return "char", cp, end + 1
            m = _HEX2.match(p, j)
            if m is None:
                raise _PatternError("illegal hexadecimal escape sequence")
            return "char", int(m.group(0), 16), m.end()
        if c == "u":
            m = _HEX4.match(p, j)
            if m is None:
                raise _PatternError("illegal Unicode escape sequence")
            cp = int(m.group(0), 16)
            end = m.end()
            if 0xD800 <= cp <= 0xDBFF:
                low = _LOW_SURROGATE.match(p, end)
                if low is not None:
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (int(low.group(1), 16) - 0xDC00)
                    end = low.end()
            return "char", cp, end
        if c == "c":
            if j >= n:
                raise _PatternError("illegal control escape sequence")
            return "char", ord(p[j]) ^ 64, j + 1
        if c == "N" and p.startswith("{", j):
            end = p.find("}", j)
            try:
                ch = unicodedata.lookup(p[j + 1:end]) if end > 0 else ""
            except KeyError:
                ch = ""
            if len(ch) != 1:
                raise _PatternError("unknown character name")
            return "char", ord(ch), end + 1
        if c in "dDwWsS":
            content, posix = _SHORTHAND[c.lower()]
            return "set", _ascii_set(content, content, c.isupper(), posix), j
        if c in "hH":
            return "set", _ascii_set(_HSPACE[0], _HSPACE[1], c == "H", None), j
        if c == "v" or c == "V":
            return "set", _ascii_set(_VSPACE[0], _VSPACE[1], c == "V", None), j
        if c in "pP":
            if j < n and p[j] == "{":
                end = p.find("}", j)
                if end < 0:
                    raise _PatternError("unclosed character family")
                name, j = p[j + 1:end], end + 1
            elif j < n:
                name, j = p[j], j + 1
            else:
                raise _PatternError("illegal character family")
            return "set", _property(name, c == "P"), j
        if in_class:
            if c.isalnum():
                raise _PatternError(f"illegal/unsupported escape sequence \\{c} in a class")
            return "char", ord(c), j
        if c == "b":
            if p.startswith("{g}", j):
                raise _PatternError("unsupported grapheme boundary \\b{g}")
            return "assert", ("(?a:\\b)", "(?a:\\b)", "\\b"), j
        if c == "B":
            return "assert", ("(?a:\\B)", "(?a:\\B)", "\\B"), j
        if c == "A":
            return "assert", ("\\A", "\\A", "\\A"), j
        if c == "z":
            return "assert", ("\\Z", "\\Z", "\\z"), j
        if c == "Z":
            return "assert", ("(?=\\n?\\Z)", "(?=\\n?\\Z)", None), j
        if c == "G":
            return "assert", (None, "\\G", None), j
        if c == "R":
            return "atom", ("(?:\\r\\n|[\\n\\x0b\\x0c\\r\\x85\\u2028\\u2029])",
                            "(?:\\r\\n|[\\n\\x0b\\x0c\\r\\x85\\x{2028}\\x{2029}])",
                            "(?:\\r\\n|[\\n\\x0b\\x0c\\r\\x{85}\\x{2028}\\x{2029}])"), j
        if c == "X":
            return "atom", (None, "\\X", None), j
        if c == "k":
            m = _GROUP_NAME.match(p, j + 1) if p.startswith("<", j) else None
            if m is None or not p.startswith(">", m.end()):
                raise _PatternError("\\k is not followed by '<' for named capturing group")
            name = m.group(0)
            if name not in self.names:
                raise _PatternError(f"named capturing group <{name}> does not exist")
            ref = f"(?P={name})"
            return "backref", (ref, ref), m.end() + 1
        if "1" <= c <= "9":
            number = int(c)
            while j < n and p[j].isdigit() and number * 10 + int(p[j]) <= self.groups:
                number = number * 10 + int(p[j])
                j += 1
            ref = f"(?:\\{number})"
            return "backref", (ref, ref), j
        if c.isalnum():
            raise _PatternError(f"illegal/unsupported escape sequence \\{c}")
        return "char", ord(c), j

    # -- character classes ----------------------------------------------------
    def char_class(self, i: int, depth: int = 0) -> tuple[str | None, str, str | None, int]:
        """Parse [...] at p[i]; return its text for (re, regex, RE2) and the end index."""
        if depth > _MAX_DEPTH // 8:
            raise _PatternError("character classes are nested too deeply")
        p = self.p
        n = len(p)
        i += 1
        negated = i < n and p[i] == "^"
        if negated:
            i += 1
        py: list[str] | None = []
        rx: list[str] = []
        r2: list[str] | None = []
        first = True
        x = self.frames[-1].x
        while True:
            if i >= n:
                raise _PatternError("unclosed character class")
            c = p[i]
            if c == "]" and not first:
                i += 1
                break
            first = False
            if x and c in _WS:
                i += 1
                continue
            if c == "[":
                _, inner, _, i = self.char_class(i, depth + 1)
                rx.append(inner)
                py = r2 = None
                continue
            if c == "&" and p.startswith("&&", i):
                rx.append("&&")
                py = r2 = None
                i += 2
                continue
            if c == "\\" and p.startswith("\\Q", i):
                end = p.find("\\E", i + 2)
                text = p[i + 2:] if end < 0 else p[i + 2:end]
                i = n if end < 0 else end + 2
                for ch in text:
                    rx.append(_esc_x(ord(ch)))
                    if py is not None:
                        py.append(_esc_py(ord(ch)))
                    if r2 is not None:
                        r2.append(_esc_x(ord(ch)))
                continue
            lo, i = self.class_item(i)
            if isinstance(lo, _Set):
                rx.append(lo.rx_in)
                if py is not None:
                    if lo.py_in is None:
                        py = None
                    else:
                        py.append(lo.py_in)
                if r2 is not None:
                    if lo.re2_in is None:
                        r2 = None
                    else:
                        r2.append(lo.re2_in)
                continue
            hi = lo
            if i + 1 < n and p[i] == "-" and p[i + 1] != "]":
                hi_item, j = self.class_item(i + 1)
                if isinstance(hi_item, _Set):
                    raise _PatternError("illegal character range")
                hi, i = hi_item, j
                if hi < lo:
                    raise _PatternError("illegal character range")
            for out, esc in ((py, _esc_py), (rx, _esc_x), (r2, _esc_x)):
                if out is not None:
                    out.append(esc(lo) if hi == lo else f"{esc(lo)}-{esc(hi)}")
        head = "[^" if negated else "["
        return (head + "".join(py) + "]" if py is not None else None,
                head + "".join(rx) + "]",
                head + "".join(r2) + "]" if r2 is not None else None, i)

    def class_item(self, i: int) -> tuple[int | _Set, int]:
        p = self.p
        if p[i] == "\\":
            if i + 1 >= len(p):
                raise _PatternError("trailing backslash")
            kind, value, end = self.escape_atom(i, in_class=True)
            if kind == "char":
                assert isinstance(value, int)
                return value, end
            assert isinstance(value, _Set)
            return value, end
        return ord(p[i]), i + 1


_BRACE = re.compile(r"\{(\d+)(,(\d*))?\}")
_GROUP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_FLAGS = re.compile(r"([idmsuxUc]*)(?:-([idmsuxUc]*))?([:)])")
_OCTAL = re.compile(r"[0-7]{1,3}")
_HEX2 = re.compile(r"[0-9A-Fa-f]{2}")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_POSITION = re.compile(r"\s+at position \d+$")
_LOW_SURROGATE = re.compile(r"\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)


# ---------------------------------------------------------------------------
# Replacement texts (Java: $1, ${name}, backslash quotes the next character)
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Replacement:
    parts: tuple[str | int, ...]   # literal text or a group number
    error: str | None
    literal: str | None            # the whole text when it has no group reference
    py_template: str               # for re / regex .sub
    refs: int
    literal_len: int


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_replacement(template: str, groups: int,
                       names: tuple[tuple[str, int], ...]) -> _Replacement:
    parts: list[str | int] = []
    buf: list[str] = []
    error: str | None = None
    i = 0
    n = len(template)
    while i < n and error is None:
        c = template[i]
        if c == "\\":
            if i + 1 >= n:
                error = "character to be escaped is missing"
                break
            buf.append(template[i + 1])
            i += 2
        elif c == "$":
            i += 1
            if i >= n:
                error = "Illegal group reference: group index is missing"
            elif template[i] == "{":
                end = template.find("}", i)
                if end < 0:
                    error = "named capturing group is missing trailing '}'"
                    break
                name = template[i + 1:end]
                number = dict(names).get(name)
                if number is None:
                    error = f"No group with name {{{name}}}"
                    break
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(number)
                i = end + 1
            elif "0" <= template[i] <= "9":
                number = int(template[i])
                i += 1
                while i < n and "0" <= template[i] <= "9" and number * 10 + int(template[i]) <= groups:
                    number = number * 10 + int(template[i])
                    i += 1
                if number > groups:
                    error = f"No group {number}"
                    break
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(number)
            else:
                error = "Illegal group reference"
        else:
            buf.append(c)
            i += 1
    if buf:
        parts.append("".join(buf))
    if error is not None:
        return _Replacement((), error, None, "", 0, 0)
    refs = sum(1 for part in parts if isinstance(part, int))
    literal = "".join(part for part in parts if isinstance(part, str))
    template_py = "".join(
        part.replace("\\", "\\\\") if isinstance(part, str) else f"\\g<{part}>"
        for part in parts)
    return _Replacement(tuple(parts), None, literal if refs == 0 else None, template_py,
                        refs, len(literal))


# ---------------------------------------------------------------------------
# Compiled patterns
# ---------------------------------------------------------------------------

class Pattern:
    """A script's pattern, translated and compiled for the engines that can run it.

    Use `replace`, `fullmatch`, `search` and `find_all`; each call picks the engine for
    the text at hand (see the module docstring).
    """

    __slots__ = (
        "_py",
        "_re2",
        "_rx",
        "_rx_failed",
        "_t",
        "groups",
        "ignore_case",
        "literal",
        "names",
        "source",
    )

    def __init__(self, source: str, ignore_case: bool) -> None:
        self.source = source
        self.ignore_case = ignore_case
        if len(source) > MAX_PATTERN:
            raise _invalid(source, f"longer than {MAX_PATTERN} characters")
        spend(PYTHON_STEP * len(source))  # the translator reads it in Python, then 2 compiles
        try:
            t = _Translator(source).run()
        except _PatternError as exc:
            raise _invalid(source, str(exc)) from None
        self._t = t
        self.literal = t.literal if not ignore_case else None
        self.groups = t.groups
        self.names = t.names
        self._py: re.Pattern[str] | None = None
        self._re2: _re2.RE2 | None = None
        self._rx: regex.Pattern[str] | None = None
        self._rx_failed: str | None = None
        if t.re2 is not None:
            options = re2.Options()
            options.log_errors = False
            options.case_sensitive = not ignore_case
            compiled = _re2.RE2(t.re2.encode("utf-8", "surrogatepass"), options)
            if compiled.ok():
                self._re2 = compiled
        if t.py is not None and not t.nested:
            try:
                self._py = re.compile(t.py, re.IGNORECASE if ignore_case else 0)
            except (re.error, RecursionError):
                self._py = None
        if self._re2 is None:
            self._compile_rx()
            if self._rx is None:
                raise _invalid(source, self._rx_failed or "not a valid pattern")

    def _compile_rx(self) -> regex.Pattern[str] | None:
        if self._rx is None and self._rx_failed is None:
            import regex  # the backtracking engine, imported when first needed (cold start)

            flags = regex.V1 | (regex.IGNORECASE if self.ignore_case else 0)
            try:
                self._rx = regex.compile("(?-f)" + self._t.rx, flags)
            except regex.error as exc:
                # Positions would point into the translated text, not the script's.
                self._rx_failed = _POSITION.sub("", str(exc))
            except RecursionError:
                self._rx_failed = "the pattern is nested too deeply"
        return self._rx

    def _use_py(self, n: int) -> bool:
        """True when stdlib re provably finishes quickly on a text of length n."""
        if self._py is None:
            return False
        if not self._t.repeats and self._t.branch_factor <= 64:
            return True     # constant work per position: linear, and C beats our loops
        cost = (n + 1) * self._t.branch_factor
        for lo, hi in self._t.repeats:
            top = n if hi is None or hi > n else hi
            cost *= max(top - lo, 0) + 1
            if cost > _RE_BUDGET:
                return False
        return cost <= _RE_BUDGET

    def _rx_or_raise(self) -> regex.Pattern[str]:
        rx = self._compile_rx()
        if rx is None:
            raise _invalid(self.source, self._rx_failed or "not a valid pattern")
        return rx

    # -- matching ---------------------------------------------------------------
    def fullmatch(self, text: str) -> bool:
        """Whether the whole text matches (Java String.matches)."""
        if self.literal is not None:
            return text == self.literal
        if len(text) > _SMALL_RESULT:
            spend(len(text))  # one pass over the text, whichever engine
        if self._use_py(len(text)):
            return self._py.fullmatch(text) is not None  # type: ignore[union-attr]
        data = self._encoded(text)
        if data is not None:
            spans = self._re2.Match(_ANCHOR_BOTH, data, 0, len(data))  # type: ignore[union-attr]
            return spans[0][0] >= 0
        with _Clock(self.source) as clock:
            return self._rx_or_raise().fullmatch(text, timeout=clock.left()) is not None

    def search(self, text: str) -> bool:
        """Whether the pattern matches somewhere in the text (Java Matcher.find)."""
        if self.literal is not None:
            return self.literal in text
        if len(text) > _SMALL_RESULT:
            spend(len(text))
        if self._use_py(len(text)):
            return self._py.search(text) is not None  # type: ignore[union-attr]
        data = self._encoded(text)
        if data is not None:
            spans = self._re2.Match(_UNANCHORED, data, 0, len(data))  # type: ignore[union-attr]
            return spans[0][0] >= 0
        with _Clock(self.source) as clock:
            return self._rx_or_raise().search(text, timeout=clock.left()) is not None

    def find_all(self, text: str) -> list[str]:
        """The text of every match, left to right (Java: while (m.find()) m.group())."""
        if self.literal is not None:
            if not self.literal:
                return [""] * (len(text) + 1)
            return [self.literal] * text.count(self.literal)
        if self._use_py(len(text)):
            return [m.group() for m in self._find_py(text, 0)]
        data = self._encoded(text)
        if data is not None:
            return [data[s[0][0]:s[0][1]].decode("utf-8") for s in self._re2_spans(data, 0)]
        return [m.group() for m in self._find_rx(text, 0)]

    def replace(self, text: str, replacement: str, count: int = 0) -> str:
        """Java replaceAll (count 0) / replaceFirst (count 1) with a Java replacement text."""
        rep = _parse_replacement(replacement, self.groups, self.names)
        if rep.error is not None:
            if self.search(text):
                raise ScriptRuntimeError(
                    f"Invalid replacement text '{_shown(replacement)}': {rep.error}")
            return text
        if self.literal is not None and rep.literal is not None:
            return _replace_plain(text, self.literal, rep.literal, count)
        n = len(text)
        small = n + (n + 1) * (rep.literal_len + rep.refs * n) <= _SMALL_RESULT
        if self._use_py(n):
            py = self._py
            assert py is not None
            if self._t.can_be_empty:
                return _splice(text, self._find_py(text, count), rep, small)
            if small:
                return py.sub(rep.py_template, text, count)
            return py.sub(_Expander(rep, n), text, count)
        data = self._encoded(text)
        if data is not None:
            return self._re2_replace(data, text, rep, count, small)
        if self._t.can_be_empty:
            return _splice(text, self._find_rx(text, count), rep, small)
        with _Clock(self.source) as clock:
            rx = self._rx_or_raise()
            if small:
                return rx.sub(rep.py_template, text, count, timeout=clock.left())
            return rx.sub(_Expander(rep, n), text, count, timeout=clock.left())

    # -- Java's find loop for the backtracking engines ------------------------------
    # Python's finditer/sub may try a non-empty match where an empty one just ended;
    # Java moves one character on. Patterns that can never match "" use the C loop.
    def _find_py(self, text: str, limit: int) -> list[re.Match[str]]:
        py = self._py
        assert py is not None
        if not self._t.can_be_empty:
            found = py.finditer(text)
            return list(itertools.islice(found, limit)) if limit else list(found)
        return _java_find(py.search, text, limit)

    def _find_rx(self, text: str, limit: int) -> list[re.Match[str]]:
        rx = self._rx_or_raise()
        with _Clock(self.source) as clock:
            if not self._t.can_be_empty:
                found = rx.finditer(text, timeout=clock.left())
                return list(itertools.islice(found, limit)) if limit else list(found)
            return _java_find(lambda t, pos: rx.search(t, pos, timeout=clock.left()),
                              text, limit)

    # -- RE2 ----------------------------------------------------------------------
    def _encoded(self, text: str) -> bytes | None:
        if self._re2 is None:
            return None
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:      # a lone surrogate: RE2 reads only valid UTF-8
            return None

    def _re2_spans(self, data: bytes, limit: int) -> list[list[tuple[int, int]]]:
        """Spans of successive matches (Java's find loop), at most `limit` (0: all)."""
        match = self._re2.Match  # type: ignore[union-attr]
        end = len(data)
        pos = 0
        found = []
        while pos <= end:
            # One search may read to the end of the text (`a(.*z)?` does, at every "a"):
            # linear per search, quadratic over a find loop, so each is charged as such.
            spend(end - pos + PYTHON_STEP)
            spans = match(_UNANCHORED, data, pos, end)
            start, stop = spans[0]
            if start < 0:
                break
            found.append(spans)
            if limit and len(found) >= limit:
                break
            if stop == start:               # empty match: step over one character
                if stop >= end:
                    break
                lead = data[stop]
                pos = stop + (1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4)
            else:
                pos = stop
        return found

    def _re2_replace(self, data: bytes, text: str, rep: _Replacement, count: int,
                     small: bool) -> str:
        matches = self._re2_spans(data, count)
        if not matches:
            return text
        parts = [p.encode("utf-8", "surrogatepass") if isinstance(p, str) else p
                 for p in rep.parts]
        out: list[bytes] = []
        last = 0
        size = 0
        limit = 0 if small else current().limits.max_text
        for spans in matches:
            start, stop = spans[0]
            out.append(data[last:start])
            mark = len(out)
            for part in parts:
                if isinstance(part, int):
                    s, e = spans[part]
                    if s >= 0:
                        out.append(data[s:e])
                else:
                    out.append(part)
            if limit:
                # UTF-8 bytes: at least a quarter as many characters
                size += start - last + sum(map(len, out[mark:]))
                if size > 4 * limit:
                    check_text(size // 4)
            last = stop
        out.append(data[last:])
        result = b"".join(out).decode("utf-8")
        if limit and len(result) > limit:
            check_text(len(result))
        return result


class _Clock:
    """The time budget of one call into the `regex` package, shared by its searches."""

    __slots__ = ("deadline", "run_ends", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.deadline = 0.0
        self.run_ends = False

    def __enter__(self) -> Self:
        self.deadline = time.monotonic() + REGEX_TIMEOUT
        run_deadline = current().deadline
        self.run_ends = bool(run_deadline) and run_deadline < self.deadline
        if self.run_ends:
            self.deadline = run_deadline
        return self

    def left(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self._expired()
        return remaining

    def _expired(self) -> BaseException:
        # the run's own deadline came first: the run is over, not just this pattern
        return time_exceeded(current()) if self.run_ends else _too_long(self.source)

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if isinstance(exc, TimeoutError):
            raise self._expired() from None


def _java_find(search: Callable[[str, int], re.Match[str] | None], text: str,
               limit: int) -> list[re.Match[str]]:
    """Successive matches as Java's Matcher.find gives them (after an empty match the
    next search starts one character later)."""
    found: list[re.Match[str]] = []
    pos = 0
    n = len(text)
    while pos <= n:
        spend(n - pos + PYTHON_STEP)
        m = search(text, pos)
        if m is None:
            break
        found.append(m)
        if limit and len(found) >= limit:
            break
        start, stop = m.span()
        pos = stop + 1 if stop == start else stop
    return found


def _splice(text: str, matches: list[re.Match[str]], rep: _Replacement, small: bool) -> str:
    """The text with each match replaced by the expanded replacement."""
    if not matches:
        return text
    out: list[str] = []
    last = 0
    size = 0
    limit = 0 if small else current().limits.max_text
    for m in matches:
        start, stop = m.span()
        out.append(text[last:start])
        piece = "".join(p if isinstance(p, str) else (m.group(p) or "") for p in rep.parts)
        out.append(piece)
        if limit:
            size += start - last + len(piece)
            if size > limit:
                check_text(size)
        last = stop
    if limit:
        check_text(size + len(text) - last)
    out.append(text[last:])
    return "".join(out)


class _Expander:
    """A re/regex replacement callback that expands Java parts and watches the size."""

    __slots__ = ("limit", "parts", "size")

    def __init__(self, rep: _Replacement, text_length: int) -> None:
        self.parts = rep.parts
        self.size = text_length         # the result's length so far, if nothing else matched
        self.limit = current().limits.max_text

    def __call__(self, m: re.Match[str]) -> str:
        piece = "".join(p if isinstance(p, str) else (m.group(p) or "") for p in self.parts)
        self.size += len(piece) - (m.end() - m.start())
        if self.size > self.limit:
            check_text(self.size)
        return piece


def _replace_plain(text: str, old: str, new: str, count: int) -> str:
    """str.replace with the size check done before the result is built."""
    if len(new) > len(old):
        n = len(text)
        bound = n + (n + 1) * len(new)
        if bound > _SMALL_RESULT:
            found = text.count(old) if old else n + 1
            if count:
                found = min(found, count)
            check_text(n + found * (len(new) - len(old)))
    return text.replace(old, new, count) if count else text.replace(old, new)


_LITERALS: dict[str, str | None] = {}


def literal_text(pattern: str) -> str | None:
    """The text a pattern stands for when it has no regex meaning ("\\." is "."), else None.

    The hot path of replaceAll: a plain dictionary, emptied when it grows large.
    """
    try:
        return _LITERALS[pattern]
    except KeyError:
        pass
    if len(pattern) > MAX_PATTERN:
        return None  # compile_pattern refuses it
    try:
        literal = _Translator(pattern).run().literal
    except _PatternError:
        literal = None
    if len(_LITERALS) >= 8 * _CACHE_SIZE:
        _LITERALS.clear()
    _LITERALS[pattern] = literal
    return literal


@functools.lru_cache(maxsize=_CACHE_SIZE)
def compile_pattern(pattern: str, ignore_case: bool = False) -> Pattern:
    """The compiled form of a Java pattern (cached per (pattern, ignore_case)).

    Raises ScriptRuntimeError `Invalid regular expression '...': reason` (errors are
    not cached, so a pattern past MAX_PATTERN never stays in the cache).
    """
    return Pattern(pattern, ignore_case)


def replace_all(text: str, pattern: str, replacement: str, ignore_case: bool = False) -> str:
    """Java `text.replaceAll(pattern, replacement)`; `$1` and `${name}` in replacement."""
    return compile_pattern(pattern, ignore_case).replace(text, replacement, 0)


def replace_first(text: str, pattern: str, replacement: str, ignore_case: bool = False) -> str:
    """Java `text.replaceFirst(pattern, replacement)`."""
    return compile_pattern(pattern, ignore_case).replace(text, replacement, 1)


def full_match(text: str, pattern: str, ignore_case: bool = False) -> bool:
    """Java `text.matches(pattern)`: the whole text must match."""
    return compile_pattern(pattern, ignore_case).fullmatch(text)


def contains_match(text: str, pattern: str, ignore_case: bool = False) -> bool:
    """Whether the pattern matches anywhere in the text."""
    return compile_pattern(pattern, ignore_case).search(text)


def find_all(text: str, pattern: str, ignore_case: bool = False) -> list[str]:
    """The text of every non-overlapping match, left to right."""
    return compile_pattern(pattern, ignore_case).find_all(text)


def literal_regex(old: str, ignore_case: bool, at_end: bool = False) -> re.Pattern[str]:
    """A stdlib pattern matching `old` literally (anchored at the end of the text when
    at_end); without a quantifier the backtracking engine stays linear. Short texts are
    compiled once per process; a long one (a script's own data) every time."""
    if len(old) > _CACHED_LITERAL:
        spend(len(old))
        return _literal_regex.__wrapped__(old, ignore_case, at_end)
    return _literal_regex(old, ignore_case, at_end)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _literal_regex(old: str, ignore_case: bool, at_end: bool) -> re.Pattern[str]:
    anchor = r"\Z" if at_end else ""
    return re.compile(re.escape(old) + anchor, re.IGNORECASE if ignore_case else 0)


# Past this many character comparisons in the worst case (text length times literal
# length), a case-insensitive literal search goes to RE2: the backtracking engine tries
# the whole literal at every position, quadratic in C and beyond the run's clock.
_QUADRATIC = 1 << 22


def find_ignore_case(text: str, old: str, count: int = 0) -> list[tuple[int, int]]:
    """Character spans of the non-overlapping occurrences of `old` in `text` ignoring
    case, left to right, at most `count` (0: all). A match is as long as `old`: case
    is compared character by character."""
    if old and len(text) * len(old) > _QUADRATIC:
        return _folded_spans(text, old, count)
    found = literal_regex(old, True).finditer(text)
    return [m.span() for m in (itertools.islice(found, count) if count else found)]


def _folded_spans(text: str, old: str, count: int) -> list[tuple[int, int]]:
    """find_ignore_case in linear time: both texts folded one character to one, the way
    re.IGNORECASE compares characters, then a plain substring search."""
    spend(128 * (len(text) + len(old)))  # two translations, a dictionary read a character
    folded, needle = _fold(text), _fold(old)
    spans: list[tuple[int, int]] = []
    n = len(old)
    pos = 0
    while not count or len(spans) < count:
        spend(len(text) - pos + PYTHON_STEP)
        i = folded.find(needle, pos)
        if i < 0:
            break
        spans.append((i, i + n))
        pos = i + n
    return spans


def _fold(text: str) -> str:
    # İ is the one character whose lower case is two characters; its simple lower case,
    # the one re.IGNORECASE uses, is i. The extra cases join ſ and s, ς and σ, and so on.
    return text.translate(_DOTTED_I).lower().translate(_EXTRA_FOLD)


_DOTTED_I = {0x130: 0x69}
try:
    from re._casefix import _EXTRA_CASES
except ImportError:  # pragma: no cover - another Python's private layout
    _EXTRA_CASES = {}
_EXTRA_FOLD = {k: min(k, *v) for k, v in _EXTRA_CASES.items()}


def replace_literal(text: str, old: str, new: str, ignore_case: bool = False,
                    count: int = 0) -> str:
    """Replace `old` by `new`, both taken literally (count 0: all occurrences)."""
    if not ignore_case:
        return _replace_plain(text, old, new, count)
    if not old:  # an empty literal matches at every position
        n = len(text)
        if n + (n + 1) * len(new) > _SMALL_RESULT:
            check_text(n + (min(count, n + 1) if count else n + 1) * len(new))
        return literal_regex(old, True).sub(lambda _m: new, text, count)
    spans = find_ignore_case(text, old, count)
    n = len(text)
    if n + len(spans) * len(new) > _SMALL_RESULT:
        check_text(n + len(spans) * (len(new) - len(old)))
    out: list[str] = []
    last = 0
    for start, stop in spans:
        out.append(text[last:start])
        out.append(new)
        last = stop
    out.append(text[last:])
    return "".join(out)
