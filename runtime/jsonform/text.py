"""Deluge values written as compact JSON text (MAP display, request bodies, results;
SPEC §6 and §10): decimals keep their scale, dates and files are written as their display
text, and the run's text size limit is checked before a long text is built.

Two writers give the same text. The fast one hands a value that holds only JSON-native
types and DECIMALs to the C encoder (DECIMALs as marked texts whose marks are removed
afterwards), long lists of records a column at a time (jsonform.records); anything else
(subclasses, dates, keys other than texts, a text that holds a mark) takes the careful
writer, a value at a time.
"""

from __future__ import annotations

__all__ = ["to_json_text"]

from decimal import Decimal
from itertools import chain, compress, repeat
from operator import is_
from typing import Any

from .. import limits as _limits
from ..errors import LimitExceeded
from ..values import (_PLAIN_SCALARS, _SMALL_TEXT, DEFAULT_MAX_NESTING, NODE_BUDGET,
                      CaughtError, Collection, DateTime, File, _decimal_text, _too_large,
                      display)


# A DECIMAL goes through the C encoder as a marked text (`"\u0000D` digits `\u0000E"`
# once encoded), the marks and quotes removed afterwards; used only when the marks counted
# in the output are exactly the decimals' (no text or key of the value writes one).
_DECIMAL_MARK, _DECIMAL_END = "\x00D", "\x00E"
_ENCODED_MARK, _ENCODED_END = '"\\u0000D', '\\u0000E"'
_ENCODED_NUL = "\\u0000"
_ENCODED_SLOT = '"\\u0000S'
_PLAIN_OR_DECIMAL = frozenset({*_PLAIN_SCALARS, Decimal})
_CONTAINERS = frozenset({dict, list})


def _marked_decimal(value: Any) -> str:
    if type(value) is Decimal:
        text = str(value)  # _decimal_text, inline (a call per DECIMAL)
        if "E" in text or "e" in text:
            text = format(value, "f")
        return f"\x00D{text}\x00E"  # _DECIMAL_MARK, _DECIMAL_END
    if type(value) is _Slot:
        return "\x00S\x00E"  # encoded "\u0000S\u0000E": _ENCODED_SLOT once the ends go
    raise TypeError(type(value).__name__)  # not reached: the walk let only plain types by


def _plain_records_json(item: list[Any], level: int, stack: list[Any],
                        keep: list[Any] | None = None) -> tuple[int, int] | None:
    """For a list of exact dicts (records) in the plain walk: (characters of its keys and
    texts, decimals among its values), its nested containers pushed on `stack`; None when
    a key is not a text or a value is not plain. Checked a pass at a time at C speed:
    records that share their n keys and hold scalars only, a column (every n-th value)
    at a time; any others, all their values at once. `keep`: where records of scalar
    columns are noted (the list, its columns, their types, its decimals) for
    records.records_text."""
    keys = set().union(*item)
    try:
        # TypeError: a key that is no text. (A subclass of str passes: the careful writer
        # writes display(key), its text, as the encoder does.)
        key_chars = len("".join(keys))
    except TypeError:
        return None
    values = list(chain.from_iterable(map(dict.values, item)))
    n = len(keys)
    if set(map(len, item)) == {n}:  # every record has exactly these n keys
        columns = [values[i::n] for i in range(n)]
        found = _scalar_columns(columns)
        if found is not None:
            if keep is not None:
                keep.append((item, columns, found[2], found[1]))
            return key_chars * len(item) + found[0], found[1]
    chars = len("".join(chain.from_iterable(item)))
    types = list(map(type, values))
    kinds = set(types)
    if not kinds <= _PLAIN_OR_DECIMAL | _CONTAINERS:
        return None
    if str in kinds:
        chars += sum(map(len, compress(values, map(is_, types, repeat(str)))))
    for kind in kinds & _CONTAINERS:
        stack.extend((v, level + 2) for v in compress(values, map(is_, types, repeat(kind))))
    return chars, types.count(Decimal) if Decimal in kinds else 0


_NO_TEXT_SCALARS = frozenset({int, bool, type(None)})


def _scalar_columns(columns: list[list[Any]]) -> tuple[int, int, list[set[type]]] | None:
    """(characters of the texts, decimals, each column's element types) of columns that
    hold plain scalars only, each of texts alone, of DECIMALs alone or of NUMBERs,
    booleans and nulls; None otherwise (the caller then walks the values as one)."""
    chars = decimals = 0
    found = []
    for column in columns:
        kinds = set(map(type, column))
        if kinds == {str}:
            chars += len("".join(column))
        elif kinds == {Decimal}:
            decimals += len(column)
        elif not kinds <= _NO_TEXT_SCALARS:
            return None
        found.append(kinds)
    return chars, decimals, found


def _plain_json(value: Any, depth: int, max_depth: int) -> str | None:
    """The C encoder's output when the value holds only JSON-native types and DECIMALs
    (the common case: maps of text and numbers), else None. Subclasses (BraceMap,
    CaughtError, TypedList), dates and non-text keys all take the careful writer."""
    stack = [(value, depth)]
    visited = 0
    chars = 0  # characters of the texts inside: the JSON text is at least this long
    decimals = 0
    kept: list[Any] = []  # long lists of records at the top (jsonform.records)
    while stack:
        item, level = stack.pop()
        visited += 1 + (len(item) if type(item) in (dict, list) else 0)
        if visited > NODE_BUDGET:
            raise _too_large()  # the careful writer would only walk as far again
        t = type(item)
        if t is dict:
            if level >= max_depth:
                return None
            for k, v in item.items():
                if type(k) is not str:
                    return None
                tv = type(v)
                if tv is str:
                    chars += len(v)
                elif tv is dict or tv is list:
                    stack.append((v, level + 1))
                elif tv is Decimal:
                    decimals += 1
                elif tv not in _PLAIN_SCALARS:
                    return None
            chars += sum(map(len, item))
        elif t is list:
            if level >= max_depth:
                return None
            if (len(item) > 1 and type(item[0]) is dict and level + 1 < max_depth
                    and set(map(type, item)) == {dict}):
                # records: the walk of each map below, done for all of them at once (only
                # within the node budget, so it is never reported earlier than the walk)
                size = len(item) + sum(map(len, item))
                if visited + size <= NODE_BUDGET:
                    from . import records  # loaded with the first records written
                    found = _plain_records_json(item, level, stack, kept if (
                        level <= depth + 1 and len(item) >= records.MIN_RECORDS)
                        else None)
                    if found is None:
                        return None
                    visited += size
                    chars += found[0]
                    decimals += found[1]
                    continue
            for v in item:
                tv = type(v)
                if tv is str:
                    chars += len(v)
                elif tv is dict or tv is list:
                    stack.append((v, level + 1))
                elif tv is Decimal:
                    decimals += 1
                elif tv not in _PLAIN_SCALARS:
                    return None
        elif t is str:
            chars += len(item)
        elif t is Decimal:
            decimals += 1
        elif t not in _PLAIN_SCALARS:
            return None
    if chars + visited > _SMALL_TEXT:
        _limits.check_text(chars + visited)  # before the text is built
    # The walk above went through every value within the node budget, so the value holds
    # no cycle: the encoder need not keep a table of the containers it is in.
    text = _with_records(value, kept, decimals) if kept else None
    if text is None:
        text = _encoded(value, decimals)
    if text is not None and len(text) > _SMALL_TEXT:
        _limits.check_text(len(text))
    return text


class _Slot:
    """Stands, in the MAP given to the encoder, for a list of records written by
    records.records_text (_with_records)."""

    __slots__ = ()


_SLOT = _Slot()


def _encoded(value: Any, decimals: int) -> str | None:
    """The C encoder's text of a plain value holding `decimals` DECIMALs (as marked
    texts, the marks then removed), or None when a text of the value holds a mark."""
    import json  # where a value is written as JSON (see _quoted)

    if not decimals:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                          check_circular=False)
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      default=_marked_decimal, check_circular=False)
    # Each DECIMAL writes the escape \u0000 twice (its two marks); a text or key that
    # holds a NUL (or a backslash and "u0000") writes it once more. Exactly twice as
    # many as the decimals: every one is a mark, so the marks below are the decimals'.
    if text.count(_ENCODED_NUL) != 2 * decimals:
        return None  # a text holds a mark itself: the careful writer
    return text.replace(_ENCODED_MARK, "").replace(_ENCODED_END, "")


def _with_records(value: Any, kept: list[Any], decimals: int) -> str | None:
    """The text of a value that is, or is a MAP holding, long lists of records of scalar
    columns (`kept` by the walk): those lists written by records.records_text, the
    rest by the encoder with a placeholder (a Slot, written as a marked text) for each.
    None when no such list is there, or a text of the value holds a mark."""
    from . import records

    by_id = {id(entry[0]): entry for entry in kept}
    if type(value) is list:
        entry = by_id.get(id(value))
        return None if entry is None else records.records_text(*entry[:3])
    if type(value) is not dict:
        return None
    texts: list[str] = []
    shallow: dict[str, Any] | None = None
    for key, item in value.items():
        entry = by_id.get(id(item)) if type(item) is list else None
        text = None if entry is None else records.records_text(*entry[:3])
        if text is not None:
            if shallow is None:
                shallow = dict(value)
            shallow[key] = _SLOT
            texts.append(text)
            decimals -= entry[3]  # type: ignore[index]
    if shallow is None:
        return None
    import json  # where a value is written as JSON (see _quoted)

    outer = json.dumps(shallow, ensure_ascii=False, separators=(",", ":"),
                       default=_marked_decimal, check_circular=False)
    if outer.count(_ENCODED_NUL) != 2 * (decimals + len(texts)):
        return None  # a text holds a mark itself: the careful writer
    pieces = outer.replace(_ENCODED_MARK, "").replace(_ENCODED_END, "").split(_ENCODED_SLOT)
    return "".join(chain.from_iterable(zip(pieces, [*texts, ""])))


def to_json_text(value: Any, depth: int = 0, max_depth: int = DEFAULT_MAX_NESTING) -> str:
    """Compact JSON of a value (MAP display, request bodies): decimals keep their scale."""
    fast = _plain_json(value, depth, max_depth)
    if fast is not None:
        return fast
    parts: list[str] = []
    budget = [NODE_BUDGET, 0, _limits.current().limits.max_text]  # values left, characters, limit
    _write_json(value, parts, depth, max_depth, budget)
    if budget[1] > _SMALL_TEXT:
        _limits.check_text(budget[1] + len(parts))
    return "".join(parts)


# What json.dumps(text, ensure_ascii=False) returns, without building an encoder per call
# (the C function json.dumps itself ends in; json.encoder's own name for it). `json` is
# imported where a value is written as JSON: a run that writes none does not load it.
try:
    from _json import encode_basestring as _quoted
except ImportError:  # pragma: no cover - no C accelerator: json's Python version
    from json.encoder import encode_basestring as _quoted


def _write_json(value: Any, out: list[str], depth: int, max_depth: int,
                budget: list[int]) -> None:
    if depth > max_depth:
        raise LimitExceeded(f"Nesting limit of {max_depth} levels exceeded", limit="nesting")
    budget[0] -= 1
    if budget[0] < 0:
        raise _too_large()
    t = type(value)
    if t is str or t is CaughtError:
        budget[1] += len(value)
        if budget[1] > budget[2]:
            _limits.check_text(budget[1])
        out.append(_quoted(str.__str__(value)))
    elif t is bool:
        out.append("true" if value else "false")
    elif t is int:
        out.append(str(value))
    elif value is None:
        out.append("null")
    elif t is Decimal:
        out.append(_decimal_text(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for k, v in value.items():
            if not first:
                out.append(",")
            first = False
            key = display(k)
            budget[1] += len(key)
            out.append(_quoted(key))
            out.append(":")
            _write_json(v, out, depth + 1, max_depth, budget)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _write_json(v, out, depth + 1, max_depth, budget)
        out.append("]")
    elif t is Collection:
        _write_json(value.items, out, depth, max_depth, budget)
    elif t is DateTime or t is File:
        out.append(_quoted(display(value)))
    elif t is float:
        out.append(repr(value))
    else:
        text = display(value)
        budget[1] += len(text)
        out.append(_quoted(text))
