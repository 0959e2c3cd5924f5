"""The TEXT built-ins: searching, slicing, case, padding, splitting and regex replacement.

Rules follow the vendor's pages ("Zoho Deluge docs: Text functions > NAME") and SPEC §10
"Text" / "More text"; where both are silent the choice is marked "chosen".

Common conventions:
- Positions and lengths count Unicode code points (an emoji is one character). [chosen]
- A TEXT argument also accepts a NUMBER or DECIMAL, read as its display form
  (`phone.startsWith(91)`); anything else raises
  `Argument N of NAME must be TEXT but found TYPE`. [chosen]
- Searches are case-sensitive unless the name says IgnoreCase. [doc]
- Patterns of replaceAll/replaceFirst/matches are Java regular expressions, run by
  `stdlib.regex` in bounded time. [doc + SPEC §7]
- Results that could exceed the run's text limit are measured before they are built.

Deliberately elsewhere: toNumber/toLong/toDecimal (numbers), toMap/getJSON/toJSONList
(jsonvalues), toDate/toDateTime/toTime/isDate (dates), toString/toText/isEmpty/isBlank/
isNull (nulls), encodeUrl/urlEncode/urlDecode/base64 (encoding), executeXPath (xpath).
"""

from __future__ import annotations

__all__ = ["FUNCTIONS", "METHODS"]

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import PYTHON_STEP, check_collection, check_text, spend
from sluicegate.values import File, TypedList, display

from .args import want_bool, want_int, wrong_type
from .builtin import Builtin, OnFirstUse, method

# The regex engine (and re2) is imported when a built-in first needs it (cold start).
rx: Any = OnFirstUse("sluicegate.stdlib.regex", globals(), "rx")

_TEXT = "TEXT"
# Below this size a result is built without asking the limits (the hot path stays cheap).
_SMALL = 65_536


def _text(fname: str, index: int, value: Any) -> str:
    """A TEXT argument; a NUMBER or DECIMAL is read as its display form."""
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]
    if t is int or t is Decimal:
        return display(value)
    if isinstance(value, str):
        return str.__str__(value)
    raise wrong_type(fname, index, value, "TEXT")


def _flag(fname: str, index: int, value: Any) -> bool:
    """The optional BOOLEAN of replaceAll & co; the text "true"/"false" is accepted too."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return want_bool(fname, index, value)


def _range_error(fname: str, detail: str) -> ScriptRuntimeError:
    return ScriptRuntimeError(f"{fname}: {detail}")


# ---------------------------------------------------------------------------
# Length, search and comparison
# ---------------------------------------------------------------------------

def length(s: str) -> int:
    """Number of characters (code points). Zoho Deluge docs: Text functions > length/len."""
    return len(s)


def contains(s: str, sub: Any) -> bool:
    """True when `sub` occurs in the text, case-sensitive.
    Zoho Deluge docs: Text functions > contains."""
    if type(sub) is not str:
        sub = _text("contains", 1, sub)
    return sub in s


def not_contains(s: str, sub: Any) -> bool:
    """The negation of contains. Zoho Deluge docs: Text functions > notContains."""
    if type(sub) is not str:
        sub = _text("notContains", 1, sub)
    return sub not in s


def _ci_find(s: str, sub: str) -> int:
    """Index of the first case-insensitive occurrence of sub, -1 when absent."""
    if s.isascii() and sub.isascii():
        return s.lower().find(sub.lower())
    found = rx.find_ignore_case(s, sub, 1)
    return found[0][0] if found else -1


def contains_ignore_case(s: str, sub: Any) -> bool:
    """contains, ignoring case. Zoho Deluge docs: Text functions > containsIgnoreCase."""
    return _ci_find(s, _text("containsIgnoreCase", 1, sub)) >= 0


def starts_with(s: str, prefix: Any) -> bool:
    """True when the text begins with prefix (case-sensitive; "" always matches).
    Zoho Deluge docs: Text functions > startsWith."""
    if type(prefix) is not str:
        prefix = _text("startsWith", 1, prefix)
    return s.startswith(prefix)


def ends_with(s: str, suffix: Any) -> bool:
    """True when the text ends with suffix. Zoho Deluge docs: Text functions > endsWith."""
    if type(suffix) is not str:
        suffix = _text("endsWith", 1, suffix)
    return s.endswith(suffix)


def starts_with_ignore_case(s: str, prefix: Any) -> bool:
    """startsWith ignoring case. Zoho Deluge docs: Text functions > startsWithIgnoreCase."""
    prefix = _text("startsWithIgnoreCase", 1, prefix)
    if s.isascii() and prefix.isascii():
        return s[:len(prefix)].lower() == prefix.lower()
    return rx.literal_regex(prefix, True).match(s) is not None


def ends_with_ignore_case(s: str, suffix: Any) -> bool:
    """endsWith ignoring case. Zoho Deluge docs: Text functions > endsWithIgnoreCase."""
    suffix = _text("endsWithIgnoreCase", 1, suffix)
    if s.isascii() and suffix.isascii():
        return not suffix or s[-len(suffix):].lower() == suffix.lower()
    # a case-insensitive match is as long as the literal: only the last len(suffix)
    # characters can match (a search would try the literal at every position)
    n = len(suffix)
    return n <= len(s) and rx.literal_regex(suffix, True).fullmatch(s[len(s) - n:]) is not None


def equals(s: str, other: Any) -> bool:
    """Case-sensitive equality with another TEXT; any other type is unequal (chosen, like
    Java's String.equals). Zoho Deluge docs: Text functions > equals."""
    return isinstance(other, str) and str.__eq__(s, other)


def equals_ignore_case(s: str, other: Any) -> bool:
    """Equality ignoring case; a non-TEXT argument is unequal (chosen).
    Zoho Deluge docs: Text functions > equalsIgnoreCase."""
    if not isinstance(other, str):
        return False
    if len(s) != len(other):
        return False
    return s == other or s.lower() == other.lower() or s.upper() == other.upper()


def index_of(s: str, sub: Any) -> int:
    """0-based index of the first occurrence, -1 when absent (SPEC §10).
    Zoho Deluge docs: Text functions > indexOf (alias find)."""
    if type(sub) is not str:
        sub = _text("indexOf", 1, sub)
    return s.find(sub)


def last_index_of(s: str, sub: Any) -> int:
    """0-based index of the last occurrence, -1 when absent (SPEC §10).
    Zoho Deluge docs: Text functions > lastIndexOf."""
    if type(sub) is not str:
        sub = _text("lastIndexOf", 1, sub)
    return s.rfind(sub)


def get_occurence_count(s: str, sub: Any) -> int:
    """Number of non-overlapping, case-sensitive occurrences; 0 for an empty search text
    (chosen). Zoho Deluge docs: Text functions > getOccurenceCount (vendor spelling)."""
    sub = _text("getOccurenceCount", 1, sub)
    return s.count(sub) if sub else 0


def get_prefix(s: str, sub: Any) -> str | None:
    """The text before the first occurrence of sub; null when absent.
    Zoho Deluge docs: Text functions > getPrefix."""
    i = s.find(_text("getPrefix", 1, sub))
    return None if i < 0 else s[:i]


def get_suffix(s: str, sub: Any) -> str | None:
    """The text after the first occurrence of sub; null when absent.
    Zoho Deluge docs: Text functions > getSuffix ("Create custom apps with Zoho Creator"
    .getSuffix("with") is " Zoho Creator")."""
    sub = _text("getSuffix", 1, sub)
    i = s.find(sub)
    return None if i < 0 else s[i + len(sub):]


def get_prefix_ignore_case(s: str, sub: Any) -> str | None:
    """getPrefix ignoring case. Zoho Deluge docs: Text functions > getPrefixIgnoreCase."""
    sub = _text("getPrefixIgnoreCase", 1, sub)
    if s.isascii() and sub.isascii():
        i = s.lower().find(sub.lower())
        return None if i < 0 else s[:i]
    found = rx.find_ignore_case(s, sub, 1)
    return s[:found[0][0]] if found else None


def get_suffix_ignore_case(s: str, sub: Any) -> str | None:
    """getSuffix ignoring case. Zoho Deluge docs: Text functions > getSuffixIgnoreCase."""
    sub = _text("getSuffixIgnoreCase", 1, sub)
    if s.isascii() and sub.isascii():
        i = s.lower().find(sub.lower())
        return None if i < 0 else s[i + len(sub):]
    found = rx.find_ignore_case(s, sub, 1)
    return s[found[0][1]:] if found else None


def is_ascii(s: str) -> bool:
    """True when every character is ASCII; true for "". Zoho Deluge docs: Text functions
    > isAscii."""
    return s.isascii()


# ---------------------------------------------------------------------------
# Slicing
# ---------------------------------------------------------------------------

def _substring(fname: str) -> Callable[..., str]:
    def substring(s: str, start: Any, end: Any = None) -> str:
        n = len(s)
        begin = want_int(fname, 1, start)
        if begin < 0:
            raise _range_error(fname, f"start index {begin} is negative")
        if begin > n:
            raise _range_error(fname, f"start index {begin} is beyond the text length {n}")
        if end is None:
            return s[begin:]
        stop = want_int(fname, 2, end)
        if stop < 0:
            return s[begin:]
        if stop > n:
            raise _range_error(fname, f"end index {stop} is beyond the text length {n}")
        if stop < begin:
            raise _range_error(fname, f"end index {stop} is before start index {begin}")
        return s[begin:stop]

    substring.__doc__ = (
        f"Characters from start (inclusive) to end (exclusive), 0-based; without end or\n"
        f"with a negative end, to the end of the text. Raises when start or end is beyond\n"
        f"the length, start is negative or end is before start (SPEC §10).\n"
        f"Zoho Deluge docs: Text functions > {fname}.")
    return substring


def left(s: str, count: Any) -> str:
    """The first n characters; n beyond the length raises, a negative n gives the whole
    text. Zoho Deluge docs: Text functions > left."""
    n = want_int("left", 1, count)
    if n < 0:
        return s
    if n > len(s):
        raise _range_error("left", f"{n} characters asked from a text of length {len(s)}")
    return s[:n]


def right(s: str, count: Any) -> str:
    """The last n characters; n beyond the length or negative raises.
    Zoho Deluge docs: Text functions > right."""
    n = want_int("right", 1, count)
    if n < 0:
        raise _range_error("right", f"the count {n} is negative")
    if n > len(s):
        raise _range_error("right", f"{n} characters asked from a text of length {len(s)}")
    return s[len(s) - n:]


# ---------------------------------------------------------------------------
# Whitespace, case and character filters
# ---------------------------------------------------------------------------

def trim(s: str) -> str:
    """Remove leading and trailing white space (Unicode white space, so a no-break space
    too; chosen). Zoho Deluge docs: Text functions > trim."""
    return s.strip()


def ltrim(s: str) -> str:
    """Remove leading white space. Zoho Deluge docs: Text functions > ltrim."""
    return s.lstrip()


def rtrim(s: str) -> str:
    """Remove trailing white space. Zoho Deluge docs: Text functions > rtrim."""
    return s.rstrip()


def to_upper_case(s: str) -> str:
    """Upper case (Unicode rules: "ß" becomes "SS", as in Java).
    Zoho Deluge docs: Text functions > toUpperCase."""
    return s.upper()


def to_lower_case(s: str) -> str:
    """Lower case. Zoho Deluge docs: Text functions > toLowerCase."""
    return s.lower()


_WORD = re.compile(r"\S+")


def proper(s: str) -> str:
    """First character of each word upper case, the rest lower case; words are separated
    by white space (chosen, so "o'neil" is "O'neil").
    Zoho Deluge docs: Text functions > proper ("zoho creator" is "Zoho Creator")."""
    if len(s) > _SMALL:
        spend(PYTHON_STEP // 8 * len(s))  # a Python call per word
    return _WORD.sub(lambda m: m.group()[:1].upper() + m.group()[1:].lower(), s)


def _is_alnum(c: str) -> bool:
    return c.isalpha() or "0" <= c <= "9"


def _is_not_alpha(c: str) -> bool:
    return not c.isalpha()


def _is_not_alnum(c: str) -> bool:
    return not (c.isalpha() or "0" <= c <= "9")


def _keep(s: str, wanted: Callable[[str], bool]) -> str:
    """The characters of s for which wanted is true; a long text goes in slices, each
    charged to the run's work budget (a Python call per character)."""
    if len(s) <= _SMALL:
        return "".join(filter(wanted, s))
    parts = []
    for i in range(0, len(s), _SMALL):
        spend(64 * _SMALL)
        parts.append("".join(filter(wanted, s[i:i + _SMALL])))
    return "".join(parts)


def get_alpha(s: str) -> str:
    """Only the letters (Unicode letters; chosen); spaces and everything else dropped
    (SPEC §10). Zoho Deluge docs: Text functions > getAlpha."""
    return _keep(s, str.isalpha)


def get_alpha_numeric(s: str) -> str:
    """Only letters and digits 0-9; spaces dropped (SPEC §10). Zoho Deluge docs: Text
    functions > getAlphaNumeric ("Your joining date is 25-01-2019" gives
    "Yourjoiningdateis25012019")."""
    return _keep(s, _is_alnum)


def remove_all_alpha(s: str) -> str:
    """Everything but the letters, spaces kept (SPEC §10).
    Zoho Deluge docs: Text functions > removeAllAlpha ("Zoho Creator 5" gives " 5")."""
    return _keep(s, _is_not_alpha)


def remove_all_alpha_numeric(s: str) -> str:
    """Everything but letters and digits, spaces kept (SPEC §10). Zoho Deluge docs: Text
    functions > removeAllAlphaNumeric ("Zoho Creator 5 is here!" gives "    !")."""
    return _keep(s, _is_not_alnum)


# ---------------------------------------------------------------------------
# Removal and replacement
# ---------------------------------------------------------------------------

def remove(s: str, sub: Any) -> str:
    """Remove every occurrence of sub (literal, case-sensitive); absent leaves the text.
    Zoho Deluge docs: Text functions > remove ("Zoho Creator".remove("Creator") is
    "Zoho ")."""
    sub = _text("remove", 1, sub)
    return s.replace(sub, "") if sub else s


def remove_first_occurence(s: str, sub: Any) -> str:
    """Remove the first occurrence of sub. Zoho Deluge docs: Text functions >
    removeFirstOccurence (vendor spelling)."""
    sub = _text("removeFirstOccurence", 1, sub)
    return s.replace(sub, "", 1) if sub else s


def remove_last_occurence(s: str, sub: Any) -> str:
    """Remove the last occurrence of sub. Zoho Deluge docs: Text functions >
    removeLastOccurence (vendor spelling)."""
    sub = _text("removeLastOccurence", 1, sub)
    i = s.rfind(sub)
    if i < 0 or not sub:
        return s
    return s[:i] + s[i + len(sub):]


# pattern -> the literal text it stands for, or None: the hot path of replaceAll.
_PLAIN: dict[str, str | None] = {}
_plain_get = _PLAIN.get
_UNKNOWN: object = object()


def _replacer(fname: str, ignore_case: bool, count: int) -> Callable[..., str]:
    def replace(s: str, pattern: Any, replacement: Any, literal: Any = False) -> str:
        if type(pattern) is not str:
            pattern = _text(fname, 1, pattern)
        if type(replacement) is not str:
            replacement = _text(fname, 2, replacement)
        if literal is not False and _flag(fname, 3, literal):
            return rx.replace_literal(s, pattern, replacement, ignore_case, count)
        if not ignore_case and "$" not in replacement and "\\" not in replacement:
            found = _plain_get(pattern, _UNKNOWN)
            if found is _UNKNOWN:
                found = rx.literal_text(pattern)
                if len(pattern) <= 1000:  # the cache lives as long as the process
                    _PLAIN[pattern] = found
                    if len(_PLAIN) > 4096:
                        _PLAIN.clear()
            if found is not None:
                plain = cast(str, found)
                if count == 0 and len(replacement) <= len(plain):
                    return s.replace(plain, replacement)
                return rx.replace_literal(s, plain, replacement, False, count)
        return rx.compile_pattern(pattern, ignore_case).replace(s, replacement, count)

    how = "every match" if count == 0 else "the first match"
    case = "ignoring case" if ignore_case else "case-sensitive"
    replace.__doc__ = (
        f"Replace {how} of a Java regular expression ({case}); $1 / ${{name}} in the\n"
        f"replacement name groups and \\$ is a dollar. With a third argument true, pattern\n"
        f"and replacement are both literal text (SPEC §10).\n"
        f"Zoho Deluge docs: Text functions > {fname}.")
    return replace


def matches(s: str, pattern: Any) -> bool:
    """True when the whole text matches the Java regular expression (SPEC §10).
    Zoho Deluge docs: Text functions > matches."""
    if type(pattern) is not str:
        pattern = _text("matches", 1, pattern)
    return rx.full_match(s, pattern)


# ---------------------------------------------------------------------------
# Building text
# ---------------------------------------------------------------------------

def _pad(fname: str, on_left: bool) -> Callable[[str, Any], str]:
    def pad(s: str, total: Any) -> str:
        n = want_int(fname, 1, total)
        if n <= len(s):
            return s
        if n > _SMALL:
            check_text(n)
        return s.rjust(n) if on_left else s.ljust(n)

    side = "left" if on_left else "right"
    pad.__doc__ = (
        f"Pad with spaces on the {side} to a total length of n (SPEC §10); a text already\n"
        f"that long, or a negative n, is returned unchanged.\n"
        f"Zoho Deluge docs: Text functions > {fname}.")
    return pad


def repeat(s: str, times: Any) -> str:
    """The text repeated n times; 0 gives ""; a negative count raises (chosen).
    Zoho Deluge docs: Text functions > repeat ("Zoho".repeat(3) is "ZohoZohoZoho")."""
    n = want_int("repeat", 1, times)
    if n < 0:
        raise _range_error("repeat", f"the count {n} is negative")
    size = len(s) * n
    if size > _SMALL:
        check_text(size)
    return s * n


def reverse(s: str) -> str:
    """The characters in reverse order. Zoho Deluge docs: Text functions > reverse."""
    return s[::-1]


def concat(s: str, other: Any) -> str:
    """The text followed by the display form of the argument, like `+` (SPEC §3; null
    adds nothing). Zoho Deluge docs: Text functions > concat."""
    tail = other if type(other) is str else display(other)
    if len(s) + len(tail) > _SMALL:
        check_text(len(s) + len(tail))
    return s + tail


def text_to_hex(s: str) -> str:
    """Lower-case hexadecimal of the UTF-8 bytes. Zoho Deluge docs: Text functions >
    textToHex ("Zoho Creator" is "5a6f686f2043726561746f72")."""
    data = s.encode("utf-8", "surrogatepass")
    if 2 * len(data) > _SMALL:
        check_text(2 * len(data))
    return data.hex()


def hex_to_text(s: str) -> str:
    """The text whose UTF-8 bytes the hexadecimal spells; malformed UTF-8 becomes U+FFFD
    (chosen). Zoho Deluge docs: Text functions > hexToText."""
    digits = s.strip()
    if digits[:2] in ("0x", "0X"):
        digits = digits[2:]
    try:
        data = bytes.fromhex(digits)
    except ValueError:
        shown = s if len(s) <= 60 else s[:57] + "..."
        raise ScriptRuntimeError(f"hexToText: '{shown}' is not hexadecimal text") from None
    return data.decode("utf-8", "replace")


# ---------------------------------------------------------------------------
# Lists and files
# ---------------------------------------------------------------------------

def _split(fname: str, s: str, sep: Any) -> list[str]:
    if type(sep) is not str:
        sep = _text(fname, 1, sep)
    if not s:
        return []
    parts = s.split(sep) if sep else list(s)
    if len(parts) > _SMALL:
        check_collection(len(parts))
    return parts


def to_list(s: str, sep: Any = ",") -> list[Any]:
    """Split on the literal separator, keeping every empty element, trailing ones too; an
    empty separator gives the characters (SPEC §10). Without a separator the text is
    split on "," (chosen, like toListString); "" gives an empty list (chosen).
    Zoho Deluge docs: Text functions > toList ("ZohoCreator/ZohoCRM".toList("/") is
    ZohoCreator,ZohoCRM)."""
    if type(sep) is str and sep and s:
        parts = s.split(sep)
        if len(parts) > _SMALL:
            check_collection(len(parts))
        return parts
    return _split("toList", s, sep)


def to_list_string(s: str, sep: Any = ",") -> list[Any]:
    """Comma-separated values as a LIST of TEXT (List:String).
    Zoho Deluge docs: List functions > toListString ("1,2,3,4,5")."""
    return TypedList("TEXT", _split("toListString", s, sep))


def to_file(s: str, name: Any) -> File:
    """A FILE named by the argument whose content is the text in UTF-8, content type
    text/plain (chosen). Zoho Deluge docs: File functions > toFile."""
    fname = _text("toFile", 1, name)
    return File(fname, "text/plain", s.encode("utf-8", "surrogatepass"))


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

def _row(names: str | tuple[str, ...], fn: Callable[..., Any], lo: int = 0,
         hi: int | None = -1) -> Builtin:
    return method(names, fn, _TEXT, lo, hi)


METHODS: list[Builtin] = [
    _row(("length", "len"), length),
    _row("contains", contains, 1),
    _row("notContains", not_contains, 1),
    _row("containsIgnoreCase", contains_ignore_case, 1),
    _row("startsWith", starts_with, 1),
    _row("startsWithIgnoreCase", starts_with_ignore_case, 1),
    _row("endsWith", ends_with, 1),
    _row("endsWithIgnoreCase", ends_with_ignore_case, 1),
    _row("equals", equals, 1),
    _row("equalsIgnoreCase", equals_ignore_case, 1),
    _row(("indexOf", "find"), index_of, 1),
    _row("lastIndexOf", last_index_of, 1),
    _row("getPrefix", get_prefix, 1),
    _row("getSuffix", get_suffix, 1),
    _row("getPrefixIgnoreCase", get_prefix_ignore_case, 1),
    _row("getSuffixIgnoreCase", get_suffix_ignore_case, 1),
    _row("subString", _substring("subString"), 1, 2),
    _row("subText", _substring("subText"), 1, 2),
    _row("mid", _substring("mid"), 1, 2),
    _row("left", left, 1),
    _row("right", right, 1),
    _row("trim", trim),
    _row("ltrim", ltrim),
    _row("rtrim", rtrim),
    _row("toUpperCase", to_upper_case),
    _row("toLowerCase", to_lower_case),
    _row("proper", proper),
    _row("replaceAll", _replacer("replaceAll", False, 0), 2, 3),
    _row("replaceFirst", _replacer("replaceFirst", False, 1), 2, 3),
    _row("replaceAllIgnoreCase", _replacer("replaceAllIgnoreCase", True, 0), 2, 3),
    _row("replaceFirstIgnoreCase", _replacer("replaceFirstIgnoreCase", True, 1), 2, 3),
    _row("remove", remove, 1),
    _row(("removeFirstOccurence", "removeFirstOccurrence"), remove_first_occurence, 1),
    _row(("removeLastOccurence", "removeLastOccurrence"), remove_last_occurence, 1),
    _row("getAlpha", get_alpha),
    _row("getAlphaNumeric", get_alpha_numeric),
    _row("removeAllAlpha", remove_all_alpha),
    _row("removeAllAlphaNumeric", remove_all_alpha_numeric),
    _row(("getOccurenceCount", "getOccurrenceCount"), get_occurence_count, 1),
    _row("matches", matches, 1),
    _row("leftpad", _pad("leftpad", True), 1),
    _row("rightpad", _pad("rightpad", False), 1),
    _row("repeat", repeat, 1),
    _row("reverse", reverse),
    _row("concat", concat, 1),
    _row("isAscii", is_ascii),
    _row("toList", to_list, 0, 1),
    _row("toListString", to_list_string, 0, 1),
    _row("hexToText", hex_to_text),
    _row("textToHex", text_to_hex),
    _row("toFile", to_file, 1),
]

FUNCTIONS: list[Builtin] = []
