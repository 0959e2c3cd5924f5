"""The test-file schema: `NAME.test.toml` read into `TestFile` and `Case` values, with
every mistake (unknown key, wrong type, missing name) reported as `file:line: message`.

The whole schema is the `_FILE`, `_CASE`, `_EXPECT` ... tables below; the README shows it
with a complete example. Values follow `sluice run --input`: tables are MAPs, arrays
LISTs, integers NUMBERs, floats DECIMALs with the scale written (`12.50`), and the inline
table `{ null = true }` is NULL (TOML has no null).
"""

from __future__ import annotations

__all__ = ["SpecError", "TestFile", "Case", "Stub", "NULL_MARK", "load_test_file",
           "from_toml_value", "TRIGGERS", "FAKE_SERVICES"]

import datetime as _dt
import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .fakes import SERVICES
from .tomlfile import Located, Path, TomlError, load_toml

TRIGGERS = ("function", "button", "schedule")
# Seed tables are named after the fake services (`[[crm.Leads]]`, `[[books.invoices]]`):
# a service added to fakes.SERVICES gets its own at once.
FAKE_SERVICES = tuple(service.name for service in SERVICES)
NULL_MARK = {"null": True}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


class SpecError(Exception):
    """A test file that cannot be used: printed as `file:line: message`, exit 2."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(f"{path}:{line or 1}: {message}")
        self.path = path
        self.line = line or 1
        self.message = message


@dataclass
class Stub:
    """One canned answer: method + URL (+ body paths) -> status, headers, body (or a
    transport error the script sees as a catchable runtime error)."""

    method: str
    url: str
    line: int
    match_body: dict[str, Any] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    error: str | None = None


@dataclass
class Case:
    name: str
    index: int
    line: int
    trigger: str = "function"
    module: str | None = None
    record: dict[str, Any] | None = None
    records: list[Any] | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    organization: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] = field(default_factory=dict)
    now: _dt.datetime | None = None
    timezone: str | None = None
    entry: str | None = None
    seed: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    stubs: list[Stub] = field(default_factory=list)
    expect: dict[str, Any] = field(default_factory=dict)
    expect_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class TestFile:
    __test__ = False  # not a pytest test class, whatever its name

    path: str
    script_path: str
    cases: list[Case]
    located: Located = field(repr=False)

    @property
    def cassette_path(self) -> str:
        return self.path[:-len(".test.toml")] + ".cassette.json"


# ---- value conversion ---------------------------------------------------------------------
def from_toml_value(value: Any) -> Any:
    """A TOML value as the JSON-shaped input of a run (`{ null = true }` is null)."""
    if isinstance(value, dict):
        if value == NULL_MARK:
            return None
        return {k: from_toml_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_toml_value(v) for v in value]
    return value


# ---- checkers -----------------------------------------------------------------------------
Checker = Callable[[Any, Path, "_Reader"], Any]


class _Reader:
    def __init__(self, path: str, located: Located) -> None:
        self.path = path
        self.located = located

    def fail(self, where: Path, message: str) -> SpecError:
        return SpecError(self.path, self.located.line(where), message)


def _describe(where: Path) -> str:
    shown = []
    for part in where:
        if isinstance(part, int):
            shown.append(f"[{part}]")
        else:
            shown.append(("." if shown else "") + part)
    return "".join(shown) or "the file"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, Decimal):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return "a date/time"
    return type(value).__name__


def _text(value: Any, where: Path, r: _Reader) -> str:
    if not isinstance(value, str):
        raise r.fail(where, f"{_describe(where)} must be a string, not {_kind(value)}")
    return value


def _integer(value: Any, where: Path, r: _Reader) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise r.fail(where, f"{_describe(where)} must be an integer, not {_kind(value)}")
    return value


def _boolean(value: Any, where: Path, r: _Reader) -> bool:
    if not isinstance(value, bool):
        raise r.fail(where, f"{_describe(where)} must be true or false, not {_kind(value)}")
    return value


def _value(value: Any, where: Path, r: _Reader) -> Any:
    """Any script value: no TOML dates (scripts read dates from text, as from JSON)."""
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        raise r.fail(where, f"{_describe(where)}: write dates as text (\"15-Aug-2026\"), "
                     "as a script receives them in JSON inputs")
    if isinstance(value, dict):
        return {k: _value(v, where + (k,), r) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(v, where + (i,), r) for i, v in enumerate(value)]
    return value


def _table_of(check: Checker) -> Checker:
    def run(value: Any, where: Path, r: _Reader) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise r.fail(where, f"{_describe(where)} must be a table, not {_kind(value)}")
        return {k: check(v, where + (k,), r) for k, v in value.items()}
    return run


def _list_of(check: Checker) -> Checker:
    def run(value: Any, where: Path, r: _Reader) -> list[Any]:
        if not isinstance(value, list):
            raise r.fail(where, f"{_describe(where)} must be an array, not {_kind(value)}")
        return [check(v, where + (i,), r) for i, v in enumerate(value)]
    return run


def _text_or_list(value: Any, where: Path, r: _Reader) -> list[str]:
    if isinstance(value, str):
        return [value]
    return _list_of(_text)(value, where, r)  # type: ignore[no-any-return]


def _record_table(value: Any, where: Path, r: _Reader) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise r.fail(where, f"{_describe(where)} must be a table, not {_kind(value)}")
    return _value(value, where, r)  # type: ignore[no-any-return]


_PATH = re.compile(r"(?:[^.\[\]]+|\[\d+\])(?:\.[^.\[\]]+|\[\d+\])*\Z")


def _paths(value: Any, where: Path, r: _Reader) -> dict[str, Any]:
    """A table of paths into a value (`data[0].id`, `a.b.2`) and the values there."""
    checked: dict[str, Any] = _table_of(_value)(value, where, r)
    for path in checked:
        if not _PATH.match(path):
            raise r.fail(where + (path,), f"'{path}' is not a path such as data[0].id "
                         "(keys joined by '.', list indexes as [n])")
    return checked


def _name(value: Any, where: Path, r: _Reader) -> str:
    text = _text(value, where, r)
    if not text.strip():
        raise r.fail(where, "a case needs a name that is not empty")
    return text


def _choice(options: tuple[str, ...]) -> Checker:
    def run(value: Any, where: Path, r: _Reader) -> str:
        text = _text(value, where, r)
        if text.lower() not in options and text.upper() not in options:
            raise r.fail(where, f"{_describe(where)} must be one of {', '.join(options)}, "
                         f"not '{text}'")
        return text.upper() if text.upper() in options else text.lower()
    return run


def _clock(value: Any, where: Path, r: _Reader) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise r.fail(where, f"{_describe(where)} must be a TOML date-time such as "
                 "2026-03-01T09:30:00 (local to the organization's time zone) or "
                 f"2026-03-01T09:30:00Z, not {_kind(value)}")


def _table(keys: dict[str, Checker], required: tuple[str, ...] = ()) -> Checker:
    def run(value: Any, where: Path, r: _Reader) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise r.fail(where, f"{_describe(where)} must be a table, not {_kind(value)}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key not in keys:
                near = difflib.get_close_matches(key, list(keys), n=1)
                hint = f" (did you mean '{near[0]}'?)" if near else \
                    f" (known keys: {', '.join(keys)})"
                inside = f" in {_describe(where)}" if where else ""
                raise r.fail(where + (key,), f"unknown key '{key}'{inside}{hint}")
            out[key] = keys[key](item, where + (key,), r)
        for key in required:
            if key not in value:
                raise r.fail(where, f"{_describe(where)} needs '{key}'")
        return out
    return run


_STUB = _table({
    "method": _choice(_METHODS), "url": _text, "match_body": _paths,
    "status": _integer, "headers": _table_of(_text), "body": _value, "error": _text,
}, required=("url",))

_ERROR = _table({"type": _text, "message": _text, "line": _integer})
_MAIL = _table({"to": _text_or_list, "cc": _text_or_list, "bcc": _text_or_list,
                "from": _text, "subject": _text, "message": _text,
                "message_contains": _text})
_CALL = _table({"method": _choice(_METHODS), "url": _text, "body": _paths,
                "body_text": _text}, required=("url",))
_CHANGE = _table({"module": _text, "id": _value, "fields": _record_table},
                 required=("module",))

def _store_key(value: Any, where: Path, r: _Reader) -> list[dict[str, Any]]:
    service = str(where[-1]).split(".", 1)[0]
    if "." not in str(where[-1]) or service not in FAKE_SERVICES:
        raise r.fail(where, f"'{where[-1]}' must name a fake service and module such as "
                     f"\"crm.Leads\" (services: {', '.join(FAKE_SERVICES)})")
    return _list_of(_record_table)(value, where, r)  # type: ignore[no-any-return]


_EXPECT = _table({
    "records": _table_of(_store_key),
    "return": _value, "return_at": _paths, "logs": _list_of(_text),
    "logs_contain": _list_of(_text), "error": _ERROR, "mail": _list_of(_MAIL),
    "http": _list_of(_CALL), "created": _list_of(_CHANGE), "updated": _list_of(_CHANGE),
    "deleted": _list_of(_CHANGE),
})

_SEED = _table_of(_list_of(_record_table))

_COMMON: dict[str, Checker] = {
    "trigger": _choice(TRIGGERS), "module": _text, "now": _clock, "timezone": _text,
    "entry": _text, "organization": _record_table, "user": _record_table,
    **{service: _SEED for service in FAKE_SERVICES},
    "crm_variables": _table_of(_value), "data": _text,
    "http": _list_of(_STUB),
}

_CASE = _table({
    **_COMMON, "name": _name, "record": _record_table, "records": _list_of(_record_table),
    "inputs": _table_of(_value), "expect": _EXPECT,
}, required=("name",))

_FILE = _table({**_COMMON, "script": _text, "case": _list_of(_CASE)}, required=("case",))


# ---- loading ------------------------------------------------------------------------------
def load_test_file(path: str) -> TestFile:
    """Read and check one test file; raises SpecError naming file:line."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except FileNotFoundError:
        raise SpecError(path, 1, "no such file") from None
    except UnicodeDecodeError:
        raise SpecError(path, 1, "not UTF-8 text") from None
    except OSError as exc:
        raise SpecError(path, 1, f"cannot read ({exc.strerror})") from None
    try:
        located = load_toml(text)
    except TomlError as exc:
        raise SpecError(path, exc.line, exc.message) from None
    reader = _Reader(path, located)
    checked = _FILE(located.data, (), reader)
    folder = os.path.dirname(path)
    default_script = os.path.basename(path)[:-len(".test.toml")] + ".dg"
    script_path = os.path.join(folder, checked.get("script", default_script))
    if not os.path.isfile(script_path):
        where = ("script",) if "script" in checked else ()
        raise reader.fail(where, f"the script {script_path} does not exist (name it with "
                          "script = \"NAME.dg\")")
    cases = []
    names: dict[str, int] = {}
    for i, raw in enumerate(checked["case"]):
        case = _case(checked, raw, i, reader, folder)
        if case.name in names:
            raise reader.fail(("case", i, "name"), f"a case named '{case.name}' is already "
                              f"defined on line {names[case.name]}")
        names[case.name] = case.line
        cases.append(case)
    return TestFile(path, script_path, cases, located)


def _merged(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    return {**base, **own}


def _case(top: dict[str, Any], raw: dict[str, Any], index: int, r: _Reader,
          folder: str) -> Case:
    where: Path = ("case", index)
    line = r.located.line(where)

    def pick(key: str) -> Any:
        return raw.get(key, top.get(key))

    case = Case(name=raw["name"], index=index, line=line,
                trigger=pick("trigger") or "function", module=pick("module"),
                record=raw.get("record"), records=raw.get("records"),
                inputs=dict(raw.get("inputs", {})),
                organization=_merged(top.get("organization", {}), raw.get("organization", {})),
                user=_merged(top.get("user", {}), raw.get("user", {})),
                now=pick("now"), timezone=pick("timezone"), entry=pick("entry"))
    if (case.record is not None or case.records is not None) and not case.module:
        raise r.fail(where, "a case with a record needs 'module' (the module the record "
                     "comes from, e.g. module = \"invoices\")")
    zone = case.organization.get("time_zone") or case.timezone
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            key = ("organization", "time_zone") if case.organization.get("time_zone") \
                else ("timezone",)
            where_zone = where + key if key[0] in raw else key
            raise r.fail(where_zone, f"unknown time zone '{zone}' (an IANA name such as "
                         "Europe/Berlin)") from None
    if case.record is not None and case.records is not None:
        raise r.fail(where + ("records",), "give either 'record' (a details-page button or "
                     "workflow) or 'records' (a list bulk action), not both")
    seed: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for source, label in ((top, ()), (raw, where)):
        if "data" in source:
            _seed_from_json(seed, os.path.join(folder, source["data"]), r, label + ("data",))
        for service in FAKE_SERVICES:
            for module, records in source.get(service, {}).items():
                seed.setdefault(service, {})[module] = [dict(rec) for rec in records]
    case.seed = seed
    case.variables = _merged(top.get("crm_variables", {}), raw.get("crm_variables", {}))
    for source, label in ((raw, where), (top, ())):
        for i, stub in enumerate(source.get("http", [])):
            case.stubs.append(Stub(
                method=stub.get("method", "GET"), url=stub["url"],
                line=r.located.line(label + ("http", i)), match_body=stub.get("match_body"),
                status=stub.get("status", 200), headers=dict(stub.get("headers", {})),
                body=stub.get("body"), error=stub.get("error")))
    expect = raw.get("expect", {})
    case.expect = expect
    case.expect_lines = {key: r.located.line(where + ("expect", key)) for key in expect}
    case.expect_lines[""] = r.located.line(where + ("expect",)) if expect else line
    return case


def _seed_from_json(seed: dict[str, dict[str, list[dict[str, Any]]]], path: str,
                    r: _Reader, where: Path) -> None:
    """A JSON file of records: {"crm": {"Leads": [...]}, "books": {"invoices": [...]}}."""
    import json

    try:
        with open(path, encoding="utf-8") as f:
            loaded = json.load(f, parse_float=Decimal)
    except FileNotFoundError:
        raise r.fail(where, f"the data file {path} does not exist") from None
    except ValueError as exc:
        raise r.fail(where, f"the data file {path} is not valid JSON ({exc})") from None
    if not isinstance(loaded, dict):
        raise r.fail(where, f"the data file {path} must hold an object such as "
                     "{\"crm\": {\"Leads\": [...]}}")
    for service, modules in loaded.items():
        if service not in FAKE_SERVICES or not isinstance(modules, dict):
            raise r.fail(where, f"the data file {path}: '{service}' is not one of "
                         f"{', '.join(FAKE_SERVICES)} holding modules")
        for module, records in modules.items():
            if not isinstance(records, list) or not all(isinstance(x, dict) for x in records):
                raise r.fail(where, f"the data file {path}: {service}.{module} must be a "
                             "list of record objects")
            seed.setdefault(service, {})[module] = [dict(x) for x in records]
