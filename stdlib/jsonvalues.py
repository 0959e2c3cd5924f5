"""Lenient JSON parsing: JSON text to Deluge values, and the toMap, getJSON and toJSONList rows.

The vendor's parser accepts more than strict JSON: its documented examples use unquoted keys
and values and single-quoted strings (`{company:Zoho, product:Creator}`,
`{Name:'Lia Shelton', OrderNo:[343,443,577]}`; Zoho Deluge docs: toMap, toJSONList). This
module accepts that family, the way the classic lenient JSON tokenizers do:

- strings in double or single quotes with the JSON escapes and `\\'`; an unknown escape
  keeps its character, raw control characters are kept, lone surrogates become U+FFFD;
- unquoted keys and values: a run of characters up to one of ``, : ] } / \\ " [ { ; = #``
  or a control character, trimmed (`Lia Shelton` is one value);
  `true` / `false` / `null` in any case and numbers in JSON notation are recognised,
  anything else is TEXT;
- `=` or `=>` between a key and its value, `;` as well as `,` between members, a trailing
  separator (`[1,2,]`), and an empty array slot as null (`[1,,2]` is `1, null, 2`).

Values follow SPEC §10 "JSON values": object -> MAP in written order (a repeated key keeps
its first position and its last value), array -> LIST, integer -> NUMBER, a number with a
fraction or exponent -> DECIMAL keeping the written scale (`1.50` stays `1.50`).

Chosen where the vendor documents nothing:
- an integer outside 64 bits raises `Number out of range` (SPEC §2, as for `--input`);
- a DECIMAL beyond 10^±1000 raises `Number out of range` (its plain display would be huge);
- an unquoted number with leading zeros (`007`, `02134`) stays TEXT, keeping every digit;
- anything after the value and comments (`//`, `/* */`) make the text invalid.

Bounds (SPEC §8): more open arrays/objects than `limits.max_nesting`, or one array/object
with more than `limits.max_elements` members, raise LimitExceeded; so does text longer
than `limits.max_text`.

Strict JSON, the common case (API responses), is parsed by the standard library's C
decoder, then audited only when a cheap scan of the text shows it could break a bound.
Text it rejects goes to the lenient parser below, which is iterative: depth is a counter,
never the Python stack, so `[[[[...` ten thousand levels deep fails at once with the
nesting limit.
"""

from __future__ import annotations

__all__ = ["FUNCTIONS", "METHODS", "parse_json"]

import json
import re
from decimal import Decimal
from typing import Any

from sluicegate.errors import LimitExceeded, ScriptRuntimeError
from sluicegate.limits import Limits, check_collection, check_text, current
from sluicegate.values import LIST, MAP, TEXT, Collection, File, check_number, display

from .args import wrong_type
from .builtin import Builtin, method

# Magnitude bound for a DECIMAL read from JSON (see the module docstring).
_MAX_DECIMAL_EXPONENT = 1000


# ---------------------------------------------------------------------------------------
# Errors


def _invalid(fname: str, what: str, pos: int) -> ScriptRuntimeError:
    return ScriptRuntimeError(
        f"{fname}: the text is not valid JSON ({what} at character {pos + 1})")


def _nesting(limits: Limits) -> LimitExceeded:
    return LimitExceeded(f"Nesting limit of {limits.max_nesting} levels exceeded",
                         limit="nesting")


def _checked_decimal(value: Decimal) -> Decimal:
    if -_MAX_DECIMAL_EXPONENT <= value.adjusted() <= _MAX_DECIMAL_EXPONENT:
        return value
    raise ScriptRuntimeError("Number out of range")


# ---------------------------------------------------------------------------------------
# Fast path: strict JSON through the C decoder


def _reject_constant(name: str) -> Any:
    # NaN / Infinity are not JSON; the lenient parser reads them as TEXT.
    raise ValueError(name)


# strict=False keeps raw control characters inside strings, as the lenient parser does.
_STRICT = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant, strict=False)

# The scans below work on the UTF-8 bytes of the text, where translate/replace/`in` run in
# C: a regular expression over the same text costs more than the decoding itself.
# _DIGIT_SHAPE maps digits to "0", e/E to "e" and all else but signs to a space; signs
# are deleted. So 19 zeros in a row may be an integer beyond 64 bits and "e0000" an
# exponent past the DECIMAL bound (a false alarm only costs an audit).
_DIGIT_SHAPE = bytes(
    ord("0") if chr(b) in "0123456789" else ord("e") if chr(b) in "eE" else ord(" ")
    for b in range(256))
_SIGNS = b"+-"
_LONG_INTEGER = b"0" * 19
_BIG_EXPONENT = b"e0000"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# Everything but quotes and brackets is deleted; brackets become "(" and ")".
_BRACKET_SHAPE = bytes(
    ord("(") if chr(b) in "[{" else ord(")") if chr(b) in "]}" else b for b in range(256))
_NOT_BRACKET_OR_QUOTE = bytes(b for b in range(256) if chr(b) not in '[]{}"')
_SURROGATE = re.compile("[\ud800-\udfff]")


def _too_deep(raw: bytes, max_nesting: int) -> bool:
    """Whether strict JSON (as UTF-8) nests deeper than max_nesting.

    Escapes are dropped, then everything but quotes and brackets. Two adjacent quotes
    never enclose a bracket and do not change which brackets are inside strings, so they
    go first; if quotes remain, the pieces inside strings (every other one) are dropped.
    Of the brackets left, each pass of `replace("()")` removes exactly the innermost level.
    """
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    shape = raw.translate(_BRACKET_SHAPE, _NOT_BRACKET_OR_QUOTE).replace(b'""', b"")
    if b'"' in shape:
        shape = b"".join(shape.split(b'"')[::2])
    for _ in range(max_nesting):
        shape = shape.replace(b"()", b"")
        if not shape:
            return False
    return True


def _fix_text(text: str) -> str:
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _audit(value: Any, limits: Limits) -> Any:
    """Check numbers, sizes and text of a decoded tree in place (iteratively)."""
    max_elements = limits.max_elements
    if type(value) is str:
        return _fix_text(value)
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is not dict and type(node) is not list:
            continue  # a scalar at the top: checked below
        if len(node) > max_elements:
            check_collection(len(node))
        if type(node) is dict:
            if any(_SURROGATE.search(k) for k in node):
                items = list(node.items())
                node.clear()
                node.update((_fix_text(k), v) for k, v in items)
            entries: Any = node.items()
        else:
            entries = enumerate(node)
        for key, item in entries:  # values are replaced in place, never added
            t = type(item)
            if t is dict or t is list:
                stack.append(item)
            elif t is int:
                check_number(item)
            elif t is Decimal:
                _checked_decimal(item)
            elif t is str:
                node[key] = _fix_text(item)
    if type(value) is int:
        check_number(value)
    elif type(value) is Decimal:
        _checked_decimal(value)
    return value


_FAILED = object()


def _parse_strict(text: str, limits: Limits) -> Any:
    try:
        value = _STRICT.decode(text)
    except (ValueError, RecursionError):
        return _FAILED
    raw = text.encode("utf-8", "surrogatepass")
    if text.count("{") + text.count("[") > limits.max_nesting and (
            _too_deep(raw, limits.max_nesting)):
        raise _nesting(limits)
    shape = raw.translate(_DIGIT_SHAPE, _SIGNS)
    if (_LONG_INTEGER in shape or _BIG_EXPONENT in shape
            or (b"\\" in raw and _SURROGATE_ESCAPE.search(text))
            or len(text) >= 2 * limits.max_elements):
        value = _audit(value, limits)
    return value


# ---------------------------------------------------------------------------------------
# Lenient parser


_SPACE = re.compile(r"[\x00-\x20\ufeff]*")
_DQ_STRING = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"', re.DOTALL)
_SQ_STRING = re.compile(r"'([^'\\]*(?:\\.[^'\\]*)*)'", re.DOTALL)
_BAREWORD = re.compile(r'[^,:\]}/\\"\[{;=#\x00-\x1f]+')
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\s\S])")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r"}
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WORDS: dict[str, Any] = {"true": True, "false": False, "null": None}


def _unescape_one(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) == 5:
        return chr(int(code[1:], 16))
    return _ESCAPES.get(code, code)


def _read_string(text: str, pos: int, fname: str) -> tuple[str, int]:
    pattern = _DQ_STRING if text[pos] == '"' else _SQ_STRING
    match = pattern.match(text, pos)
    if match is None:
        raise _invalid(fname, "unterminated string", pos)
    body = match.group(1)
    if "\\" in body:
        body = _fix_text(_ESCAPE.sub(_unescape_one, body))
    return body, match.end()


def _word_value(word: str) -> Any:
    """The value of an unquoted word: literal, NUMBER, DECIMAL or else TEXT."""
    low = word.lower()
    if low in _WORDS:
        return _WORDS[low]
    if _INTEGER.fullmatch(word):
        if len(word) > 20:  # beyond 64 bits, and int() refuses very long digit runs
            raise ScriptRuntimeError("Number out of range")
        return check_number(int(word))
    if _NUMBER.fullmatch(word):
        return _checked_decimal(Decimal(word))
    return word


def _read_key(text: str, pos: int, fname: str) -> tuple[str, int]:
    """A member name and the `:` / `=` / `=>` after it; returns the position of the value."""
    c = text[pos] if pos < len(text) else ""
    if c == '"' or c == "'":
        key, pos = _read_string(text, pos, fname)
    elif c == "":
        raise _invalid(fname, "unexpected end of text", pos)
    else:
        match = _BAREWORD.match(text, pos)
        key = match.group().strip() if match else ""
        if not key:
            raise _invalid(fname, "expected a key", pos)
        pos = match.end()  # type: ignore[union-attr]
    pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    c = text[pos] if pos < len(text) else ""
    if c == ":":
        pos += 1
    elif c == "=":
        pos += 2 if text.startswith(">", pos + 1) else 1
    elif c == "":
        raise _invalid(fname, "unexpected end of text", pos)
    else:
        raise _invalid(fname, "expected ':' after a key", pos)
    return key, _SPACE.match(text, pos).end()  # type: ignore[union-attr]


def _parse_lenient(text: str, fname: str, limits: Limits) -> Any:
    space = _SPACE.match
    n = len(text)
    max_nesting = limits.max_nesting
    max_elements = limits.max_elements
    # Open containers, innermost last: [container, key the next value goes under].
    stack: list[list[Any]] = []
    pos = space(text, 0).end()  # type: ignore[union-attr]
    while True:
        # Read one value at `pos`, or open a container and go round for its first member.
        c = text[pos] if pos < n else ""
        if c == "{" or c == "[":
            if len(stack) >= max_nesting:
                raise _nesting(limits)
            pos = space(text, pos + 1).end()  # type: ignore[union-attr]
            close = "}" if c == "{" else "]"
            if text.startswith(close, pos):
                value: Any = {} if c == "{" else []
                pos += 1
            elif c == "{":
                key, pos = _read_key(text, pos, fname)
                stack.append([{}, key])
                continue
            else:
                stack.append([[], None])
                continue
        elif c == '"' or c == "'":
            value, pos = _read_string(text, pos, fname)
        elif c == "":
            raise _invalid(fname, "unexpected end of text", pos)
        elif stack and (c == "," or c == ";") and type(stack[-1][0]) is list:
            value = None  # an empty array slot
        else:
            match = _BAREWORD.match(text, pos)
            word = match.group().strip() if match else ""
            if not word:
                raise _invalid(fname, f"unexpected '{c}'", pos)
            value = _word_value(word)
            pos = match.end()  # type: ignore[union-attr]
        # Store the value, then close every container that ends here.
        while True:
            if not stack:
                pos = space(text, pos).end()  # type: ignore[union-attr]
                if pos != n:
                    raise _invalid(fname, "unexpected text after the value", pos)
                return value
            frame = stack[-1]
            container = frame[0]
            if type(container) is list:
                container.append(value)
                close = "]"
            else:
                container[frame[1]] = value
                close = "}"
            if len(container) > max_elements:
                check_collection(len(container))
            pos = space(text, pos).end()  # type: ignore[union-attr]
            c = text[pos] if pos < n else ""
            if c == "," or c == ";":
                pos = space(text, pos + 1).end()  # type: ignore[union-attr]
                if not text.startswith(close, pos):
                    if close == "}":
                        frame[1], pos = _read_key(text, pos, fname)
                    break
                pos += 1
            elif c == close:
                pos += 1
            elif c == "":
                raise _invalid(fname, "unexpected end of text", pos)
            else:
                raise _invalid(fname, f"expected ',' or '{close}'", pos)
            value = stack.pop()[0]


def parse_json(text: str, fname: str = "toMap") -> Any:
    """Parse JSON text (leniently) into Deluge values; errors name the built-in `fname`.

    Raises ScriptRuntimeError for text that is not JSON and LimitExceeded past the run's
    nesting, element or text limits.
    """
    limits = current().limits
    if len(text) > limits.max_text:
        check_text(len(text))
    value = _parse_strict(text.removeprefix("\ufeff"), limits)
    if value is _FAILED:
        value = _parse_lenient(text, fname, limits)
    return value


# ---------------------------------------------------------------------------------------
# Built-ins


def _parse_object(text: str, fname: str) -> dict[str, Any]:
    value = parse_json(text, fname)
    if type(value) is not dict:
        raise ScriptRuntimeError(f"{fname}: the text is not a JSON object")
    return value  # type: ignore[no-any-return]


def _to_map(receiver: Any) -> Any:
    """`text.toMap()`: the MAP a JSON object text stands for (Zoho Deluge docs: toMap).

    Not JSON, or JSON that is not an object, raises a runtime error (the docs: "If the text
    is not in JSON format, a runtime error will be thrown"). On a MAP it returns that same
    MAP (chosen: SPEC §7 lists toMap among the map functions).
    """
    if isinstance(receiver, dict):
        return receiver
    return _parse_object(receiver, "toMap")


def _json_key(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (list, dict, Collection, File)):
        raise wrong_type("getJSON", 1, value, "TEXT")
    return display(value)


def _get_json(receiver: Any, key: Any) -> Any:
    """`x.getJSON(key)`: the value under `key` in JSON object text or a MAP, null if absent.

    Zoho Deluge docs: getJSON ("If the specified key is not found, null value will be
    returned"; text that is not JSON, or JSON that is not an object, raises). The key may
    be of any type: JSON member names are text, so a NUMBER key is looked up by its display
    form (chosen); on a MAP the exact key is tried first (SPEC §10: 1 and "1" differ).
    """
    if isinstance(receiver, dict):
        try:
            if key in receiver:
                return receiver[key]
        except TypeError:
            raise wrong_type("getJSON", 1, key, "TEXT") from None
        if key is None or isinstance(key, str):
            return None
        return receiver.get(_json_key(key))
    name = _json_key(key)
    return _parse_object(receiver, "getJSON").get(name)  # type: ignore[arg-type]


def _to_json_list(receiver: Any) -> list[Any]:
    """`text.toJSONList()`: the LIST a JSON array text stands for (Zoho Deluge docs: toJSONList).

    Elements are Deluge values by SPEC §10 (objects are MAPs, so `item.getJSON("id")` works
    on them). Text that is not a JSON array raises. On a LIST (what getJSON gives for an
    array) it returns a new LIST of the same elements (chosen).
    """
    if isinstance(receiver, list):
        return list(receiver)
    value = parse_json(receiver, "toJSONList")
    if type(value) is not list:
        raise ScriptRuntimeError("toJSONList: the text is not a JSON array")
    return value  # type: ignore[no-any-return]


def _text_get(receiver: str, key: Any) -> Any:
    """`text.get(k)` on TEXT holding JSON: the key of the object, or the element at an
    index of the array, as if the text were converted first [seen: the vendor's own Desk
    samples call `get` on `...toString()` of a response]. Other text is an error."""
    value = parse_json(receiver, "get")
    if type(value) is dict:
        return value.get(key) if isinstance(key, str) else value.get(display(key))
    if type(value) is list:
        if type(key) is not int:
            raise ScriptRuntimeError("get: a JSON array text takes a NUMBER index")
        if not 0 <= key < len(value):
            raise ScriptRuntimeError(f"get: index {key} is out of range for a list of "
                                     f"{len(value)}")
        return value[key]
    raise ScriptRuntimeError("get: the text is not a JSON object or array")


METHODS: list[Builtin] = [
    method("get", _text_get, TEXT, 1),
    method("toMap", _to_map, (TEXT, MAP)),
    method("getJSON", _get_json, (TEXT, MAP), 1),
    method("toJSONList", _to_json_list, (TEXT, LIST)),
]

FUNCTIONS: list[Builtin] = []
