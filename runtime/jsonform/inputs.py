"""Run inputs (JSON-shaped Python values) made Deluge values: copied (`from_json`) or,
when parsed for one run alone, adopted in place (`adopt_json`); SPEC §10 inputs.

Lists of plain records, the common shape, are checked a column at a time at C speed;
anything else takes the per-item path, which decides what is converted or reported.
"""

from __future__ import annotations

__all__ = ["adopt_json", "from_json"]

from array import array
from decimal import Decimal
from itertools import chain, compress, repeat
from operator import is_
from typing import Any

from ..errors import LimitExceeded
from ..values import (DEFAULT_MAX_NESTING, MAX_NUMBER, MIN_NUMBER, _SURROGATE, check_number,
                     clean_text)


# Values that inputs hold as they are (an int only within the NUMBER range).
_INPUT_SCALARS = frozenset({str, bool, type(None), Decimal})
_INPUT_SCALARS_AND_INT = _INPUT_SCALARS | {int}


def _ints_in_range(values: Any, kinds: set[type]) -> bool:
    """Whether every int among `values` (of the element types `kinds`) is a NUMBER;
    at C speed when they are all ints (min and max)."""
    if int not in kinds:
        return True
    ints = values if len(kinds) == 1 else [v for v in values if type(v) is int]
    return not ints or (MIN_NUMBER <= min(ints) and max(ints) <= MAX_NUMBER)


def _columns(value: list[Any]) -> list[list[Any]] | None:
    """The values of a list of dicts as columns to check (the checks below do not care
    which value is in which column), their keys checked: texts only, cleaned by nothing.
    Records with the same n keys give n columns, every n-th value (exact columns when
    the records also list their keys in one order, the common case; mixed ones still
    check every value); others, one column of every value. None when a key is not such
    a text. All at C speed: the union of the keys reads the hashes the dicts hold."""
    keys = set().union(*value)
    if set(map(type, keys)) - {str}:  # (a subclass of str too: the per-item path copies)
        return None
    joined = "".join(keys)
    if not joined.isascii() and _SURROGATE.search(joined) is not None:
        return None
    values = list(chain.from_iterable(map(dict.values, value)))
    n = len(keys)
    if len(values) == n * len(value):
        # n distinct keys in all, so at most n in each record, and n * len(value) in all:
        # n in each, every record has exactly these keys (no pass over the lengths)
        return [values[i::n] for i in range(n)]
    return [values]


def _all_dicts(value: list[Any]) -> bool:
    """Whether every element of a list is an exact dict: one count over the element types
    (at C speed, a third less than building their set)."""
    return list(map(type, value)).count(dict) == len(value)


def _plain_column(column: list[Any], loose: bool) -> bool:
    """Whether a column holds only values inputs keep as they are: texts without a lone
    surrogate half, NUMBERs in range, DECIMALs, booleans and nulls. `loose` (the values
    lie within the nesting limit): a column of texts is checked by joining it, one of
    NUMBERs by array(), and what these also take, a subclass of str or int or an object
    with __index__, the per-item path keeps as it is too. Past the limit that path
    reports such a value, so only exact types pass (as does any column that fails the
    loose tests), by the set of element types."""
    first = type(column[0]) if loose and column else None
    if first is str:
        try:
            texts = "".join(column)
        except TypeError:
            pass
        else:
            return texts.isascii() or _SURROGATE.search(texts) is None
    elif first is int and _number_list(column):
        return True
    types = list(map(type, column))
    # one type throughout, the common case: a count, cheaper than building the set
    kinds = {types[0]} if types and types.count(types[0]) == len(types) else set(types)
    if not kinds <= _INPUT_SCALARS_AND_INT:
        return False
    if int in kinds:
        ints = column if len(kinds) == 1 else list(compress(column, map(
            is_, map(type, column), repeat(int))))
        if min(ints) < MIN_NUMBER or max(ints) > MAX_NUMBER:
            return False
    if str in kinds:
        texts = "".join(column if len(kinds) == 1 else compress(column, map(
            is_, map(type, column), repeat(str))))
        if not texts.isascii() and _SURROGATE.search(texts) is not None:
            return False
    return True


def _plain_records(value: list[Any], copy: bool, loose: bool = False) -> list[Any] | None:
    """A list of MAPs (exact dicts) with text keys and scalar values only (the common
    shape of records), checked over all the records at once at C speed, a column at a
    time: the maps copied (`copy`) or the list itself; None for any other list, which
    takes the per-item path (so what that path checks, converts or reports is unchanged).
    `loose`: the values lie within the nesting limit (see _plain_column)."""
    columns = _columns(value)
    if columns is None or not all(map(_plain_column, columns, repeat(loose))):
        return None
    return list(map(dict.copy, value)) if copy else value


def _number_list(value: list[Any]) -> bool:
    """A list of NUMBERs (and booleans) only, checked in one pass at C speed. (What else
    array() takes, an int subclass or an object with __index__, the per-item path keeps
    as it is too within the nesting limit: see _scalar_kinds.) Unsigned 32-bit first:
    CPython converts to "I" without the argument parsing "q" goes through (a third of
    the time), and what it takes "q" takes too: a negative or larger NUMBER, or no
    number, is then tried with "q" (the full NUMBER range)."""
    for code in ("I", "q"):
        try:
            array(code, value)
        except Exception:  # TypeError, OverflowError, or what a host's __index__ raises
            continue
        return True
    return False


def _scalar_kinds(value: list[Any], loose: bool) -> set[type] | None:
    """The element types of a list of texts, NUMBERs, DECIMALs, booleans and nulls only
    (checked at C speed; {int} when they are NUMBERs and booleans), else None. `loose`:
    the elements lie within the nesting limit, where the per-item path keeps what else
    array() takes as it is; past the limit it reports such a value, so only exact
    types pass."""
    if loose and _number_list(value):
        return {int}
    kinds = set(map(type, value))
    if kinds <= _INPUT_SCALARS_AND_INT and _ints_in_range(value, kinds):
        return kinds
    return None


def _texts_clean(value: list[Any], kinds: set[type]) -> bool:
    """Whether no text of a list of scalars (of the element types `kinds`) holds a lone
    surrogate half: one join and, unless all ASCII, one search."""
    texts = "".join(value if kinds == {str} else compress(value, map(
        is_, map(type, value), repeat(str))))
    return texts.isascii() or _SURROGATE.search(texts) is None


def adopt_json(value: Any, max_depth: int = DEFAULT_MAX_NESTING, depth: int = 0) -> Any:
    """Make a value parsed from JSON for one run (floats as Decimal) a Deluge value in
    place: nothing else holds it, so no copy is needed (`from_json` copies). It checks
    what from_json checks, in the same order (so a bad input gives the same error), and
    converts the rare float where it is (a map with keys other than texts is copied)."""
    if depth > max_depth:
        raise LimitExceeded(f"Nesting limit of {max_depth} levels exceeded", limit="nesting")
    t = type(value)
    if t is dict:
        for k, v in value.items():
            if type(k) is not str or not k.isascii():  # keys made texts or cleaned: rare,
                return from_json(value, depth, max_depth)  # copied (see from_json)
            tv = type(v)
            if tv is str:
                if not v.isascii():
                    value[k] = clean_text(v)  # a lone surrogate half becomes U+FFFD
            elif tv not in _INPUT_SCALARS and not (tv is int and MIN_NUMBER <= v <= MAX_NUMBER):
                value[k] = adopt_json(v, max_depth, depth + 1)  # same key: no resize
        return value
    if t is list:
        if depth < max_depth and value and type(value[0]) is dict \
                and _all_dicts(value) \
                and _plain_records(value, False, depth + 2 <= max_depth) is not None:
            return value  # records of plain values, checked in bulk
        kinds = _scalar_kinds(value, depth < max_depth)
        if kinds is not None:
            if str in kinds:
                for i, v in enumerate(value):  # texts from outside: cleaned like from_json
                    if type(v) is str and not v.isascii():
                        value[i] = clean_text(v)
            return value
        for i, v in enumerate(value):
            tv = type(v)
            if tv is str:
                if not v.isascii():
                    value[i] = clean_text(v)
            elif tv not in _INPUT_SCALARS and not (tv is int and MIN_NUMBER <= v <= MAX_NUMBER):
                value[i] = adopt_json(v, max_depth, depth + 1)
        return value
    return from_json(value, depth, max_depth)


def from_json(value: Any, depth: int = 0, max_depth: int = DEFAULT_MAX_NESTING) -> Any:
    """Turn a value parsed from JSON (floats as Decimal) into a Deluge value (SPEC §10 inputs).

    Always returns fresh containers, so a script can change its inputs freely.
    """
    if depth > max_depth:
        raise LimitExceeded(f"Nesting limit of {max_depth} levels exceeded", limit="nesting")
    t = type(value)
    if t is dict:
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                k = str(k)
            elif not k.isascii():
                k = clean_text(k)
            tv = type(v)
            if tv is str:
                out[k] = v if v.isascii() else clean_text(v)
            elif tv is bool or v is None or tv is Decimal:
                out[k] = v
            elif tv is int and MIN_NUMBER <= v <= MAX_NUMBER:
                out[k] = v
            else:
                out[k] = from_json(v, depth + 1, max_depth)
        return out
    if t is list:
        if depth < max_depth and value and type(value[0]) is dict \
                and _all_dicts(value):
            # records of plain values, in bulk
            records = _plain_records(value, True, depth + 2 <= max_depth)
            if records is not None:
                return records
        kinds = _scalar_kinds(value, depth < max_depth)
        if kinds is not None and (str not in kinds or _texts_clean(value, kinds)):
            # a list of numbers or texts, checked and copied at C speed; a text with a
            # lone surrogate half takes the per-item path, which cleans it
            return value[:]
        items: list[Any] = []
        append = items.append
        for v in value:
            tv = type(v)
            if tv is str:
                append(v if v.isascii() else clean_text(v))
            elif tv is bool or v is None or tv is Decimal:
                append(v)
            elif tv is int and MIN_NUMBER <= v <= MAX_NUMBER:
                append(v)
            else:
                append(from_json(v, depth + 1, max_depth))
        return items
    if t is float:
        return Decimal(repr(value))
    if t is int:
        return check_number(value)
    if t is str:
        return clean_text(value)
    return value
