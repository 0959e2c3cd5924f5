"""The JSON text of a list of records, written a column at a time (jsonform.text).

The fast writer (text._plain_json) hands plain values to the C encoder, DECIMALs as
marked texts whose marks and quotes are removed afterwards: for a long list of records
that is a call back into Python per DECIMAL and two passes over the whole text. Records
that share their keys in one order and whose columns each hold texts alone, DECIMALs
alone, or NUMBERs, booleans and nulls (what the walk found) are written here instead:
each column encoded by one C-speed map (the encoder's own text quoting, str() of the
DECIMALs as the marked path writes them, int's repr, as the C encoder writes ints), the
records joined in one pass. The text is the encoder's, character for character (the
differential fuzz test compares it with the careful writer).

Only a list of records that is the value itself or a value of the MAP that is the value
is written so (where it sits is known without a walk of parents); the rest of that MAP
goes through the encoder with a placeholder for each such list (text._with_records).
Loaded with the first list of records written, not with the runtime (cold start).
"""

from __future__ import annotations

__all__ = ["MIN_RECORDS", "records_text"]

from decimal import Decimal
from itertools import chain, repeat
from typing import Any

try:  # what the encoder writes for a text (C); json itself is not loaded (cold start)
    from _json import encode_basestring as _quoted
except ImportError:  # pragma: no cover - no C accelerator: json's Python version
    from json.encoder import encode_basestring as _quoted

# Shorter lists of records are not worth the setup (the encoder writes them well enough).
MIN_RECORDS = 32


def _decimal_texts(column: list[Decimal]) -> list[str]:
    """What the marked path writes for each DECIMAL: str(), or format "f" where str()
    shows an exponent (text._marked_decimal)."""
    texts = list(map(str, column))
    joined = "".join(texts)
    if "E" in joined or "e" in joined:
        texts = [format(v, "f") if "E" in t or "e" in t else t for v, t in zip(column, texts)]
    return texts


def _scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is bool:
        return "true" if value else "false"
    return int.__repr__(value)


def _column_texts(column: list[Any], kinds: set[type]) -> list[str]:
    if kinds == {str}:
        return list(map(_quoted, column))
    if kinds == {Decimal}:
        return _decimal_texts(column)
    if kinds == {int}:
        return list(map(int.__repr__, column))
    return list(map(_scalar_text, column))  # NUMBERs, booleans and nulls


def records_text(records: list[dict[str, Any]], columns: list[list[Any]],
                 kinds: list[set[type]]) -> str | None:
    """The compact JSON of `records` (every one with the same text keys, `columns` their
    values a key at a time in the first record's order, each of the element types in
    `kinds`), or None when the records do not all list their keys in that order (the
    encoder writes each map in its own order)."""
    keys = list(records[0])
    if not keys or list(chain.from_iterable(records)) != keys * len(records):
        return None
    parts: list[Any] = []
    for i, (key, column) in enumerate(zip(keys, columns)):
        parts.append(repeat(("{" if i == 0 else ",") + _quoted(key) + ":"))
        parts.append(_column_texts(column, kinds[i]))
    parts.append(repeat("},"))
    return "[" + "".join(chain.from_iterable(zip(*parts)))[:-1] + "]"
