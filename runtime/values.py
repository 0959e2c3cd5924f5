"""Deluge values: their Python representation, type names, display form and JSON form.

| Deluge      | Python                                   |
| ----------- | ---------------------------------------- |
| TEXT        | str (CaughtError is a str too)           |
| NUMBER      | int, range-checked to 64 bits            |
| DECIMAL     | decimal.Decimal, exact                   |
| BOOLEAN     | bool                                     |
| NULL        | None                                     |
| DATETIME    | DateTime (aware datetime + date-only)    |
| LIST        | list, or TypedList for List:String() ... |
| MAP         | dict, or BraceMap for a literal `{}`     |
| COLLECTION  | Collection                               |
| FILE        | File                                     |

Display and JSON rules are SPEC §6 and §10.
"""

from __future__ import annotations

__all__ = [
    "TEXT", "NUMBER", "DECIMAL", "BOOLEAN", "NULL", "DATETIME", "LIST", "MAP",
    "COLLECTION", "FILE",
    "MIN_NUMBER", "MAX_NUMBER", "DECIMAL_CONTEXT",
    "BraceMap", "TypedList", "Collection", "DateTime", "File", "CaughtError",
    "type_name", "check_number", "display", "to_json_text", "from_json", "adopt_json",
    "to_plain", "deluge_equal", "convert_to_type", "clean_text", "fixed_offset",
]

import datetime as _dt
import re
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, Overflow, DivisionByZero
from decimal import DivisionUndefined  # noqa: F401  (kept beside the traps it belongs to)
from typing import Any

from . import limits as _limits
from .errors import LimitExceeded, ScriptRuntimeError

TEXT = "TEXT"
NUMBER = "NUMBER"
DECIMAL = "DECIMAL"
BOOLEAN = "BOOLEAN"
NULL = "NULL"
DATETIME = "DATETIME"
LIST = "LIST"
MAP = "MAP"
COLLECTION = "COLLECTION"
FILE = "FILE"

MIN_NUMBER = -(2**63)
MAX_NUMBER = 2**63 - 1

# Exact arithmetic for accounting data: a precision far beyond any real amount, so
# + - * never round; division rounds explicitly (operators.divide).
DECIMAL_CONTEXT = Context(prec=1000, rounding=ROUND_HALF_UP, Emax=100_000, Emin=-100_000,
                          traps=[InvalidOperation, Overflow, DivisionByZero])

# Nesting bound for display / JSON (SPEC §8); the run's own limit can only be lower.
DEFAULT_MAX_NESTING = 512


class BraceMap(dict):  # type: ignore[type-arg]
    """The value of a literal `{}`: a MAP that turns into a LIST on its first `add`."""

    __slots__ = ()


class TypedList(list):  # type: ignore[type-arg]
    """`List:String()`, `List:Int()`, ...: a LIST that converts or rejects what is added."""

    __slots__ = ("element_type",)

    def __init__(self, element_type: str, items: Any = ()) -> None:
        super().__init__(items)
        self.element_type = element_type


class Collection:
    """`Collection()`: index-value (like a LIST) or key-value (like a MAP), fixed on first insert."""

    __slots__ = ("items", "keyed")

    def __init__(self) -> None:
        self.items: list[Any] | dict[Any, Any] = []
        self.keyed: bool | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Collection) and deluge_equal(self.items, other.items)

    __hash__ = None  # type: ignore[assignment]


# Zones whose UTC offset never changes (no DST gap, no fold): fixed offsets and the tz
# database's Etc/ zones and their links. Values in one such zone localize as plain
# wall-clock times and compare as wall clocks.
_FIXED_ZONE_KEYS = frozenset({"UTC", "UCT", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich",
                              "Universal", "Zulu"})
_NOT_FIXED, _FIXED_UTC, _FIXED_OFFSET = 0, 1, 2
_fixed_zones: dict[Any, int] = {}


def _zone_kind(zone: Any) -> int:
    """_NOT_FIXED, _FIXED_UTC (offset 0) or _FIXED_OFFSET for a tzinfo (cached)."""
    kind = _fixed_zones.get(zone)
    if kind is None:
        if type(zone) is _dt.timezone:
            fixed = True
        else:
            key = getattr(zone, "key", None)
            fixed = (type(zone).__name__ == "ZoneInfo" and type(key) is str
                     and (key in _FIXED_ZONE_KEYS or key.startswith("Etc/")))
        kind = _NOT_FIXED
        if fixed:
            offset = _dt.datetime(2000, 1, 1, tzinfo=zone).utcoffset()
            kind = _FIXED_UTC if not offset else _FIXED_OFFSET
        if len(_fixed_zones) < 4096:  # zones are few; a bound all the same
            _fixed_zones[zone] = kind
    return kind


def fixed_offset(zone: Any) -> bool:
    """Whether `zone` (a tzinfo) has one UTC offset at every instant."""
    return _zone_kind(zone) != _NOT_FIXED


def _as_walls(a: _dt.datetime, b: _dt.datetime) -> bool:
    """Whether two values compare as their wall clocks exactly as their instants: one
    fixed zone, and (off UTC) no instant conversion that would overflow at the edges of
    the calendar, where the comparison as instants fails."""
    zone = a.tzinfo
    if zone is not b.tzinfo:
        return False
    kind = _zone_kind(zone)
    return kind == _FIXED_UTC or (kind == _FIXED_OFFSET and 1 < a.year < 9999
                                  and 1 < b.year < 9999)


class DateTime:
    """A DATE or DATETIME: an aware datetime in the run's time zone, flagged date-only or not."""

    __slots__ = ("value", "date_only")

    def __init__(self, value: _dt.datetime, date_only: bool = False) -> None:
        self.value = value
        self.date_only = date_only

    # Compared as instants: within one zone Python compares wall clocks, which would make
    # the two 01:30s of a fall-back night equal.
    def _instant(self) -> _dt.datetime:
        return self.value.astimezone(_dt.timezone.utc)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateTime) and self._instant() == other._instant()

    # Two values in the same fixed-offset zone compare as wall clocks, which Python does
    # when both hold the same tzinfo (no conversion needed: there is no fold).
    def __lt__(self, other: DateTime) -> bool:
        a, b = self.value, other.value
        if _as_walls(a, b):
            return a < b
        return self._instant() < other._instant()

    def __le__(self, other: DateTime) -> bool:
        a, b = self.value, other.value
        if _as_walls(a, b):
            return a <= b
        return self._instant() <= other._instant()

    def __gt__(self, other: DateTime) -> bool:
        a, b = self.value, other.value
        if _as_walls(a, b):
            return a > b
        return self._instant() > other._instant()

    def __ge__(self, other: DateTime) -> bool:
        a, b = self.value, other.value
        if _as_walls(a, b):
            return a >= b
        return self._instant() >= other._instant()

    def __hash__(self) -> int:
        return hash(self._instant())

    def __repr__(self) -> str:
        return f"DateTime({display(self)!r})"


class File:
    """A FILE value: a name, a content type and the bytes; `param_name` is the multipart
    field it is sent as (`setParamName`), `charset` the one set by `setCharset`."""

    __slots__ = ("name", "content_type", "data", "param_name", "charset")

    def __init__(self, name: str, content_type: str, data: bytes,
                 param_name: str | None = None, charset: str | None = None) -> None:
        self.name = name
        self.content_type = content_type
        self.data = data
        self.param_name = param_name
        self.charset = charset

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, File) and self.name == other.name
                and self.content_type == other.content_type and self.data == other.data)

    __hash__ = None  # type: ignore[assignment]


class CaughtError(str):
    """The value a `catch (e)` binds: TEXT whose text is the message, plus `message` and `lineNo`."""

    __slots__ = ("line_no",)

    def __new__(cls, message: str, line_no: int | None) -> CaughtError:
        self = super().__new__(cls, message)
        self.line_no = line_no
        return self


_TYPE_NAMES: dict[type, str] = {
    str: TEXT, CaughtError: TEXT, int: NUMBER, Decimal: DECIMAL, bool: BOOLEAN,
    type(None): NULL, DateTime: DATETIME, list: LIST, TypedList: LIST, dict: MAP,
    BraceMap: MAP, Collection: COLLECTION, File: FILE,
}


def type_name(value: Any) -> str:
    """The Deluge type name of a value (TEXT, NUMBER, ...), as error messages print it."""
    name = _TYPE_NAMES.get(type(value))
    if name is not None:
        return name
    for cls, name in _TYPE_NAMES.items():
        if isinstance(value, cls):
            return name
    return type(value).__name__.upper()


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text every encoder can write: a UTF-16 surrogate pair becomes its one character (as
    JSON reads "\\ud83d\\ude00"), a lone half becomes U+FFFD. Texts from outside a script
    (inputs, response bodies in odd charsets) pass here, and so does what a run gives back."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def check_number(value: int) -> int:
    """Return a NUMBER result unchanged, or raise `Number out of range` outside 64 bits."""
    if MIN_NUMBER <= value <= MAX_NUMBER:
        return value
    raise ScriptRuntimeError("Number out of range")


def _decimal_text(value: Decimal) -> str:
    """format(value, "f"), the digits without an exponent. str() gives that same text
    whenever it shows no exponent (the exponent is at most 0 and the number not below
    1E-6), at a fraction of the cost; an "E" (or "e": the context's `capitals`) in it
    means the formatting is needed."""
    text = str(value)
    if "E" in text or "e" in text:
        return format(value, "f")
    return text


def display(value: Any, depth: int = 0) -> str:
    """The display form of SPEC §6: what `info`, `+` with text and toString() show."""
    t = type(value)
    if t is str or t is CaughtError:
        return value  # type: ignore[no-any-return]
    if t is int:
        return str(value)
    if t is bool:
        return "true" if value else "false"
    if value is None:
        return ""
    if t is Decimal:
        return _decimal_text(value)
    if t is DateTime:
        return _date_display(value)
    if isinstance(value, list):
        return _joined(value, depth)
    if isinstance(value, dict):
        return to_json_text(value, depth)
    if t is Collection:
        if value.keyed:
            return to_json_text(value.items, depth)
        return _joined(value.items, depth)
    if t is File:
        return value.name  # type: ignore[no-any-return]
    if isinstance(value, str):
        return str.__str__(value)
    return str(value)


# Texts shorter than this are built without asking the run's limits.
_SMALL_TEXT = 1 << 16


def _joined(items: list[Any], depth: int) -> str:
    """The elements' display forms joined by commas, measured as they are made (a list
    holding one large text a million times must not build a huge text first)."""
    parts = []
    size = 0
    limit = 0
    for v in items:
        t = type(v)
        piece = v if t is str else _list_item_display(v, depth)
        parts.append(piece)
        size += len(piece) + 1
        if size > _SMALL_TEXT:
            if not limit:
                limit = _limits.current().limits.max_text
            if size > limit:
                _limits.check_text(size)
    if limit:
        _limits.check_text(size)  # charged as work: building it takes time and memory
    return ",".join(parts)


def _list_item_display(value: Any, depth: int) -> str:
    if isinstance(value, (list, dict, Collection)):
        return to_json_text(value, depth + 1)
    return display(value, depth + 1)


def _date_display(value: DateTime) -> str:
    v = value.value
    month = _MONTHS[v.month - 1]
    if value.date_only:
        return f"{v.day:02d}-{month}-{v.year:04d}"
    return f"{v.day:02d}-{month}-{v.year:04d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


_PLAIN_SCALARS = (str, int, bool, type(None))


# How many values one display or serialization may visit. A map that holds itself twice
# has 2^depth paths; without a budget showing it would never end.
NODE_BUDGET = 2_000_000


def _too_large() -> LimitExceeded:
    return LimitExceeded(f"Value too large to show or serialize (more than {NODE_BUDGET} "
                         "nested values; does a MAP or LIST contain itself?)", limit="elements")


def to_plain(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """A value as plain JSON-ready Python (dict/list/str/int/Decimal/bool/None), for results."""
    if budget is None:
        budget = [NODE_BUDGET, 4 * _limits.current().limits.max_text]  # values, characters left
    budget[0] -= 1
    if budget[0] < 0:
        raise _too_large()
    if depth > DEFAULT_MAX_NESTING:
        raise LimitExceeded(f"Nesting limit of {DEFAULT_MAX_NESTING} levels exceeded",
                            limit="nesting")
    t = type(value)
    if t is str:
        budget[1] -= len(value)
        if budget[1] < 0:
            raise LimitExceeded("The returned value holds more text than a result may "
                                "(four times the text size limit)", limit="text")
        return value if value.isascii() else clean_text(value)
    if t is int or t is bool or value is None or t is Decimal:
        return value
    if isinstance(value, dict):
        return {clean_text(display(k)): to_plain(v, depth + 1, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v, depth + 1, budget) for v in value]
    if t is Collection:
        return to_plain(value.items, depth, budget)
    if isinstance(value, str):
        return clean_text(str.__str__(value))
    return clean_text(display(value))


def deluge_equal(a: Any, b: Any, depth: int = 0) -> bool:
    """`==` of SPEC §3: different types are unequal except NUMBER/DECIMAL; structures by value."""
    ta, tb = type(a), type(b)
    if ta is tb and (ta is str or ta is int):
        return a == b  # type: ignore[no-any-return]
    if a is None or b is None:
        return a is b
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in (int, Decimal) and tb in (int, Decimal):
        return a == b  # type: ignore[no-any-return]
    if isinstance(a, str) and isinstance(b, str):
        return str.__eq__(a, b)
    if depth > DEFAULT_MAX_NESTING and (isinstance(a, (list, dict)) or ta is Collection):
        raise LimitExceeded(f"Nesting limit of {DEFAULT_MAX_NESTING} levels exceeded",
                            limit="nesting")
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(deluge_equal(x, y, depth + 1) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        if len(a) != len(b):
            return False
        for k, v in a.items():
            if k not in b or not deluge_equal(v, b[k], depth + 1):
                return False
        return True
    if ta is Collection and tb is Collection:
        return deluge_equal(a.items, b.items, depth + 1)
    if ta is DateTime and tb is DateTime:
        return a == b  # type: ignore[no-any-return]
    if ta is File and tb is File:
        return a == b  # type: ignore[no-any-return]
    return False


# Declared parameter types of function wrappers, by lower-cased name.
_STRING_TYPES = {"string", "text"}
_INT_TYPES = {"int", "integer", "number", "long", "bigint"}
_DECIMAL_TYPES = {"decimal", "float", "double", "currency"}
_BOOL_TYPES = {"bool", "boolean"}
_MAP_TYPES = {"map", "keyvalue"}
_LIST_TYPES = {"list", "collection"}


def convert_to_type(value: Any, declared: str) -> Any:
    """Convert a value passed to a function wrapper to its declared parameter type.

    `Int` accepts whole numbers and numeric text; `String` takes the display form of
    anything; unknown type names (Creator form types and the like) pass values through.
    Raises ValueError with a reason when the value cannot be converted.
    """
    kind = declared.lower()
    if value is None:
        return None
    if kind in _STRING_TYPES:
        return value if isinstance(value, str) else display(value)
    if kind in _INT_TYPES:
        if type(value) is int:
            return value
        if type(value) is Decimal and value == value.to_integral_value():
            return check_number(int(value))
        if isinstance(value, str):
            text = value.strip()
            try:
                return check_number(int(text))
            except ValueError:
                pass
        raise ValueError(f"expected a whole number but got {type_name(value)} '{display(value)}'")
    if kind in _DECIMAL_TYPES:
        if type(value) is Decimal:
            return value
        if type(value) is int:
            return Decimal(value)
        if isinstance(value, str):
            try:
                return Decimal(value.strip())
            except InvalidOperation:
                pass
        raise ValueError(f"expected a number but got {type_name(value)} '{display(value)}'")
    if kind in _BOOL_TYPES:
        if type(value) is bool:
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(f"expected true or false but got {type_name(value)}")
    if kind in _MAP_TYPES:
        if isinstance(value, dict):
            return value
        raise ValueError(f"expected a MAP but got {type_name(value)}")
    if kind in _LIST_TYPES:
        if isinstance(value, list):
            return value
        raise ValueError(f"expected a LIST but got {type_name(value)}")
    return value


def to_json_text(value: Any, depth: int = 0, max_depth: int = DEFAULT_MAX_NESTING) -> str:
    """Compact JSON of a value (MAP display, request bodies): decimals keep their scale
    (runtime/jsonform/text.py)."""
    return _text.to_json_text(value, depth, max_depth)


def from_json(value: Any, depth: int = 0, max_depth: int = DEFAULT_MAX_NESTING) -> Any:
    """Turn a value parsed from JSON (floats as Decimal) into a Deluge value, copied
    (SPEC §10 inputs; runtime/jsonform/inputs.py)."""
    return _inputs.from_json(value, depth, max_depth)


def adopt_json(value: Any, max_depth: int = DEFAULT_MAX_NESTING, depth: int = 0) -> Any:
    """Make a value parsed from JSON for one run a Deluge value in place
    (runtime/jsonform/inputs.py)."""
    return _inputs.adopt_json(value, max_depth, depth)


# The JSON forms, imported last (they use the above); either module may be imported first.
from .jsonform import inputs as _inputs  # noqa: E402
from .jsonform import text as _text  # noqa: E402
