"""Java pattern syntax translated, in one pass, to the texts of the three engines (stdlib
`re`, `regex` and RE2), with what the engine choice needs to know of the pattern: its
groups, whether it may match empty, its choice-making repeats and how much a match may
backtrack. See the package docstring for the syntax covered and the chosen differences.
"""

from __future__ import annotations

__all__ = ["PatternError", "Translation", "Translator"]

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from .bounds import MAX_DEPTH


class PatternError(Exception):
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
        raise PatternError(f"unknown Unicode property {name}")
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
class Translation:
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


class Translator:
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
    def run(self) -> Translation:
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
            raise PatternError("unclosed group")
        top = self.frames[0]
        self.out(")" * len(top.pending))
        can_be_empty = top.min_width() == 0
        self.branch_factor *= top.alternatives
        return Translation(
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
            raise PatternError(f"illegal repetition range {m.group(0)}")
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
        if len(self.frames) > MAX_DEPTH:
            raise PatternError("groups are nested too deeply")
        if not p.startswith("(?", i):
            self.groups += 1
            self.frames.append(_Frame("capture", parent.x, parent.m))
            self.out("(")
            return i + 1
        j = i + 2
        if p.startswith("<", j) and not p.startswith(("<=", "<!"), j):
            m = _GROUP_NAME.match(p, j + 1)
            if m is None:
                raise PatternError("bad named group")
            name = m.group(0)
            if name in self.names:
                raise PatternError(f"named group <{name}> is already defined")
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
            raise PatternError(f"unknown inline modifier at index {j}")
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
            raise PatternError("unmatched closing ')'")
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
            raise PatternError("trailing backslash")
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
        c = p[i + 1]
        j = i + 2
        char = _char_escape(p, c, j)
        if char is not None:
            return "char", char[0], char[1]
        if c in "dDwWsShHvVpP":
            found, end = _set_escape(p, c, j)
            return "set", found, end
        if in_class:
            if c.isalnum():
                raise PatternError(f"illegal/unsupported escape sequence \\{c} in a class")
            return "char", ord(c), j
        if c == "b" and p.startswith("{g}", j):
            raise PatternError("unsupported grapheme boundary \\b{g}")
        if c in _ASSERTIONS:
            return "assert", _ASSERTIONS[c], j
        if c in _ATOMS:
            return "atom", _ATOMS[c], j
        if c == "k" or "1" <= c <= "9":
            return self.backref(c, j)
        if c.isalnum():
            raise PatternError(f"illegal/unsupported escape sequence \\{c}")
        return "char", ord(c), j

    def backref(self, c: str, j: int) -> tuple[str, object, int]:
        """A back reference, \\k<name> or \\<number> (its first digit `c`), ending at or
        after p[j]: ("backref", (re text, regex text), end index). A number takes as
        many digits as still name a group defined before it, as in Java."""
        p = self.p
        if c == "k":
            m = _GROUP_NAME.match(p, j + 1) if p.startswith("<", j) else None
            if m is None or not p.startswith(">", m.end()):
                raise PatternError("\\k is not followed by '<' for named capturing group")
            name = m.group(0)
            if name not in self.names:
                raise PatternError(f"named capturing group <{name}> does not exist")
            ref = f"(?P={name})"
            return "backref", (ref, ref), m.end() + 1
        number = int(c)
        while j < len(p) and p[j].isdigit() and number * 10 + int(p[j]) <= self.groups:
            number = number * 10 + int(p[j])
            j += 1
        ref = f"(?:\\{number})"
        return "backref", (ref, ref), j

    # -- character classes ----------------------------------------------------
    def char_class(self, i: int, depth: int = 0) -> tuple[str | None, str, str | None, int]:
        """Parse [...] at p[i]; return its text for (re, regex, RE2) and the end index."""
        if depth > MAX_DEPTH // 8:
            raise PatternError("character classes are nested too deeply")
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
                raise PatternError("unclosed character class")
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
                    raise PatternError("illegal character range")
                hi, i = hi_item, j
                if hi < lo:
                    raise PatternError("illegal character range")
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
                raise PatternError("trailing backslash")
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
_LOW_SURROGATE = re.compile(r"\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)


# Escapes that stand for one character by letter.
_SIMPLE_ESCAPES = {"t": 9, "n": 10, "r": 13, "f": 12, "a": 7, "e": 27}
# Zero-width escapes outside classes: (re, regex, RE2) texts, None where that engine
# cannot express it.
_ASSERTIONS: dict[str, tuple[str | None, str | None, str | None]] = {
    "b": ("(?a:\\b)", "(?a:\\b)", "\\b"),
    "B": ("(?a:\\B)", "(?a:\\B)", "\\B"),
    "A": ("\\A", "\\A", "\\A"),
    "z": ("\\Z", "\\Z", "\\z"),
    "Z": ("(?=\\n?\\Z)", "(?=\\n?\\Z)", None),
    "G": (None, "\\G", None),
}
# Escapes outside classes that match text but are no class: \R (any line break) and \X
# (a grapheme cluster).
_ATOMS: dict[str, tuple[str | None, str, str | None]] = {
    "R": ("(?:\\r\\n|[\\n\\x0b\\x0c\\r\\x85\\u2028\\u2029])",
          "(?:\\r\\n|[\\n\\x0b\\x0c\\r\\x85\\x{2028}\\x{2029}])",
          "(?:\\r\\n|[\\n\\x0b\\x0c\\r\\x{85}\\x{2028}\\x{2029}])"),
    "X": (None, "\\X", None),
}


def _char_escape(p: str, c: str, j: int) -> tuple[int, int] | None:
    """The character escape whose letter `c` is at p[j - 1] (\\t, \\0 octal, \\xhh,
    \\x{h...}, \\uXXXX with a following low surrogate, \\cX, \\N{name}): (code point,
    end index), or None when `c` starts no character escape."""
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], j
    if c == "0":
        m = _OCTAL.match(p, j)
        if m is None:
            raise PatternError("illegal octal escape sequence")
        digits = m.group(0)
        if len(digits) == 3 and digits[0] > "3":
            digits = digits[:2]
        return int(digits, 8), j + len(digits)
    if c == "x":
        if p.startswith("{", j):
            end = p.find("}", j)
            if end < 0:
                raise PatternError("unclosed hexadecimal escape sequence")
            try:
                cp = int(p[j + 1:end], 16)
            except ValueError:
                raise PatternError("illegal hexadecimal escape sequence") from None
            if cp > 0x10FFFF:
                raise PatternError("hexadecimal codepoint is too big")
            return cp, end + 1
        m = _HEX2.match(p, j)
        if m is None:
            raise PatternError("illegal hexadecimal escape sequence")
        return int(m.group(0), 16), m.end()
    if c == "u":
        m = _HEX4.match(p, j)
        if m is None:
            raise PatternError("illegal Unicode escape sequence")
        cp = int(m.group(0), 16)
        end = m.end()
        if 0xD800 <= cp <= 0xDBFF:
            low = _LOW_SURROGATE.match(p, end)
            if low is not None:
                cp = 0x10000 + ((cp - 0xD800) << 10) + (int(low.group(1), 16) - 0xDC00)
                end = low.end()
        return cp, end
    if c == "c":
        if j >= len(p):
            raise PatternError("illegal control escape sequence")
        return ord(p[j]) ^ 64, j + 1
    if c == "N" and p.startswith("{", j):
        end = p.find("}", j)
        try:
            ch = unicodedata.lookup(p[j + 1:end]) if end > 0 else ""
        except KeyError:
            ch = ""
        if len(ch) != 1:
            raise PatternError("unknown character name")
        return ord(ch), end + 1
    return None


def _set_escape(p: str, c: str, j: int) -> tuple[_Set, int]:
    """The class escape whose letter `c` (one of dDwWsShHvVpP) is at p[j - 1]: the set
    and the end index. Upper case negates."""
    if c in "dDwWsS":
        content, posix = _SHORTHAND[c.lower()]
        return _ascii_set(content, content, c.isupper(), posix), j
    if c in "hH":
        return _ascii_set(_HSPACE[0], _HSPACE[1], c == "H", None), j
    if c in "vV":
        return _ascii_set(_VSPACE[0], _VSPACE[1], c == "V", None), j
    if j < len(p) and p[j] == "{":
        end = p.find("}", j)
        if end < 0:
            raise PatternError("unclosed character family")
        name, j = p[j + 1:end], end + 1
    elif j < len(p):
        name, j = p[j], j + 1
    else:
        raise PatternError("illegal character family")
    return _property(name, c == "P"), j
