"""Running one case: its inputs, trigger, clock and fakes in, an `Outcome` out (passed,
the failures with their file:line and diff, and what actually happened, for `--update`).

Every case runs in-process on a fresh `Runtime` whose broker is a `TestBroker`, whose
clock is the case's fixed `now` (default `DEFAULT_NOW` in the organization's time zone),
and whose limits are the trigger's profile: the same case always gives the same result.
"""

from __future__ import annotations

__all__ = ["Failure", "Outcome", "run_case", "DEFAULT_NOW", "case_inputs"]

import datetime as _dt
import hashlib
import os
import random
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..engine import RunResult, Runtime
from .broker import Call, TestBroker
from .compare import PathMissing, diff, get_path, render, same, subset
from .fakes import Change, FakeStore
from .spec import Case, TestFile, from_toml_value

DEFAULT_NOW = _dt.datetime(2026, 1, 15, 9, 0, 0)
_ORGANIZATION = {"organization_id": "10234695", "name": "Test Organization",
                 "currency_code": "USD", "currency_symbol": "$", "language_code": "en"}
_USER = {"name": "Test User", "email": "tester@example.com", "user_id": "1000000000001",
         "zuid": "1000000000001"}


@dataclass
class Failure:
    line: int
    what: str
    detail: str = ""
    key: str = ""  # the expectation that failed (`return`, `logs`, ...), for --update

    def text(self, path: str) -> str:
        head = f"{path}:{self.line}: {self.what}"
        if not self.detail:
            return head
        return head + "\n" + "\n".join("    " + x for x in self.detail.splitlines())


@dataclass
class Outcome:
    path: str
    case: str
    line: int
    index: int
    failures: list[Failure] = field(default_factory=list)
    actual: dict[str, Any] = field(default_factory=dict)
    covered: dict[str, set[int]] = field(default_factory=dict)
    duration_ms: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures

    def report(self) -> str:
        return "\n".join(f.text(self.path) for f in self.failures)


def _zone(case: Case) -> tuple[str, _dt.tzinfo]:
    name = case.organization.get("time_zone") or case.timezone or "UTC"
    try:
        return name, ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{name}'") from None


class FolderFunctions:
    """Calls to other scripts (`standalone.fn(...)`) find the function among the `.dg`
    files beside the script under test, as a stored script finds the published ones."""

    def __init__(self, folder: str) -> None:
        self.folder = folder or "."
        self._index: dict[str, Any] | None = None

    def __call__(self, qualified_name: str) -> Any:
        if self._index is None:
            self._index = _folder_functions(self.folder)
        return self._index.get(qualified_name.lower())


_FOLDERS: dict[str, tuple[tuple[tuple[str, float], ...], dict[str, Any]]] = {}


def _folder_functions(folder: str) -> dict[str, Any]:
    """qualified name -> (fn, params, name) of every function of the folder's scripts
    (each folder is compiled once per set of file versions)."""
    from ..errors import ScriptSyntaxError
    from ..sandbox import compile_script

    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".dg"))
    except OSError:
        return {}
    stamp = tuple((n, os.path.getmtime(os.path.join(folder, n))) for n in names)
    cached = _FOLDERS.get(folder)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    index: dict[str, Any] = {}
    for name in names:
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as f:
                compiled = compile_script(f.read(), path)
        except (OSError, ScriptSyntaxError):
            continue  # a script that does not compile offers no function
        for key, entry in compiled.functions.items():
            index.setdefault(key, entry)
    _FOLDERS[folder] = (stamp, index)
    return index


class _SeededRandom:
    """randomNumber's source in a case: seeded from the case's name, so a case draws the
    same numbers on every run and in every worker process."""

    def __init__(self, seed: str) -> None:
        self._random = random.Random(hashlib.sha256(seed.encode("utf-8")).digest())

    def randbelow(self, n: int) -> int:
        return self._random.randrange(n)


def case_inputs(case: Case, zone_name: str) -> dict[str, Any]:
    """The inputs a trigger of this kind gives the script (as `sluice run --input` would)."""
    inputs = {k: from_toml_value(v) for k, v in case.inputs.items()}
    if case.record is not None and case.module:
        inputs[_record_name(case.module)] = from_toml_value(case.record)
    if case.records is not None and case.module:
        inputs[case.module.lower()] = from_toml_value(case.records)
    inputs["organization"] = {**_ORGANIZATION, "time_zone": zone_name,
                              **from_toml_value(case.organization)}
    inputs["user"] = {**_USER, **from_toml_value(case.user)}
    return inputs


# The input names of one record, as triggers.inputs.record_name gives them to buttons
# (not imported from there: that module loads the whole database layer).
_RECORD_NAMES = {"customerpayments": "customer_payment", "vendorpayments": "vendor_payment",
                 "vendorcredits": "vendor_credit", "recurringinvoices": "recurring_invoice"}


def _record_name(module: str) -> str:
    from .fakes import books_singular
    return _RECORD_NAMES.get(module.lower()) or books_singular(module)


def run_case(test: TestFile, case: Case, source: bytes, *, cassette: Any = None,
             recorder: Any = None, tracer: Any = None) -> Outcome:
    outcome = Outcome(test.path, case.name, case.line, case.index)
    try:
        zone_name, zone = _zone(case)
    except ValueError as exc:
        outcome.failures.append(Failure(case.line, str(exc)))
        return outcome
    clock = case.now or DEFAULT_NOW
    if clock.tzinfo is None:
        clock = clock.replace(tzinfo=zone)
    store = FakeStore.seeded(from_toml_value(case.seed), from_toml_value(case.variables),
                             clock)
    broker = TestBroker(store, case.stubs, cassette=cassette, recorder=recorder)
    runtime = Runtime(timezone=zone_name, broker=broker, now=lambda: clock,
                      random=_SeededRandom(f"{os.path.basename(test.path)}\0{case.name}"),
                      resolver=FolderFunctions(os.path.dirname(test.script_path)))
    inputs = case_inputs(case, zone_name)
    started = _dt.datetime.now()
    if tracer is not None:
        with tracer:
            result = runtime.run(source, inputs, filename=test.script_path,
                                 profile=case.trigger, entry=case.entry)
    else:
        result = runtime.run(source, inputs, filename=test.script_path, profile=case.trigger,
                             entry=case.entry)
    outcome.duration_ms = (_dt.datetime.now() - started).total_seconds() * 1000
    outcome.actual = _actual(result, broker)
    outcome.failures = check(case, result, broker)
    return outcome


def _actual(result: RunResult, broker: TestBroker) -> dict[str, Any]:
    """What happened, in the shapes the expectations are written in."""
    out: dict[str, Any] = {"logs": list(result.logs), "mail": list(result.mail)}
    if result.ok:
        out["return"] = result.to_json()["return"]
    else:
        assert result.error is not None
        out["error"] = {"type": result.error.type, "message": result.error.message,
                        "line": result.error.line}
    out["http"] = [{"method": c.method, "url": c.url, "body": c.body, "body_text": c.body_text}
                   for c in broker.calls]
    for kind in ("created", "updated", "deleted"):
        out[kind] = [{"module": ch.qualified, "id": ch.id, "fields": ch.fields}
                     for ch in broker.store.changes if ch.kind == kind]
    out["records"] = {f"{service}.{module}": records
                      for service, modules in broker.store.records.items()
                      for module, records in modules.items()}
    return out


def check(case: Case, result: RunResult, broker: TestBroker) -> list[Failure]:
    expect = case.expect
    lines = case.expect_lines
    failures: list[Failure] = []

    def at(key: str) -> int:
        return lines.get(key, lines.get("", case.line))

    for request in broker.unmatched:
        failures.append(Failure(case.line, f"case '{case.name}': unmatched request {request}",
                                "no stub, cassette or fake service answers it"))
    if "error" in expect:
        failures += _keyed("error", _check_error(case, result, at("error")))
    elif not result.ok:
        err = result.error
        assert err is not None
        where = f" at line {err.line}" if err.line else ""
        failures.append(Failure(at("") if expect else case.line,
                                f"case '{case.name}': the script failed",
                                f"{err.type}{where}: {err.message}", "error"))
    if result.ok:
        actual = result.to_json()["return"]
        if "return" in expect:
            wanted = from_toml_value(expect["return"])
            if not same(wanted, actual):
                failures.append(Failure(at("return"), f"case '{case.name}': return value",
                                        diff(wanted, actual), "return"))
        for path, value in expect.get("return_at", {}).items():
            wanted = from_toml_value(value)
            try:
                got = get_path(actual, path)
            except PathMissing as exc:
                failures.append(Failure(at("return_at"), f"case '{case.name}': return "
                                        f"value at {path}", str(exc), "return_at"))
                continue
            if not same(wanted, got):
                failures.append(Failure(at("return_at"), f"case '{case.name}': return "
                                        f"value at {path}", diff(wanted, got), "return_at"))
    if "logs" in expect and expect["logs"] != result.logs:
        failures.append(Failure(at("logs"), f"case '{case.name}': logs",
                                diff(expect["logs"], result.logs), "logs"))
    for text in expect.get("logs_contain", []):
        if not any(text in line for line in result.logs):
            failures.append(Failure(at("logs_contain"), f"case '{case.name}': no log line "
                                    f"contains {render(text)}", "logs: " + render(result.logs),
                                    "logs_contain"))
    if "mail" in expect:
        failures += _keyed("mail", _check_mail(case, result.mail, at("mail")))
    if "http" in expect:
        failures += _keyed("http", _check_http(case, broker.calls, at("http")))
    for key, wanted_records in expect.get("records", {}).items():
        failures += _keyed("records", _check_records(case, key, wanted_records,
                                                     broker.store, at("records")))
    for kind in ("created", "updated", "deleted"):
        if kind in expect:
            changes = [c for c in broker.store.changes if c.kind == kind]
            failures += _keyed(kind, _check_changes(case, kind, expect[kind], changes,
                                                    at(kind)))
    return failures


def _check_records(case: Case, key: str, wanted_list: list[dict[str, Any]],
                   store: FakeStore, line: int) -> list[Failure]:
    """The records of one fake module after the run: as many as listed, each holding
    the fields given (in store order)."""
    service, module = key.split(".", 1)
    actual = store.module(service, module) or []
    shown = [{k: r[k] for k in list(r)[:4]} for r in actual]
    failures = _count(case, f"record(s) in {key}", wanted_list, actual, line, shown)
    for i, (wanted, record) in enumerate(zip(wanted_list, actual, strict=False)):
        fields = from_toml_value(wanted)
        wrong = subset(fields, record)
        if wrong:
            failures.append(Failure(line, f"case '{case.name}': records {key}[{i}] "
                                    f"({', '.join(wrong)})",
                                    diff({k: fields[k] for k in wrong},
                                         {k: record.get(k) for k in wrong})))
    return failures


def _keyed(key: str, failures: list[Failure]) -> list[Failure]:
    for failure in failures:
        failure.key = key
    return failures


def _check_error(case: Case, result: RunResult, line: int) -> list[Failure]:
    wanted = case.expect["error"]
    err = result.error
    if err is None:
        return [Failure(line, f"case '{case.name}': expected an error, the script succeeded",
                        f"expected: {render(wanted)}\n  returned: "
                        f"{render(result.to_json()['return'])}")]
    problems = []
    if "type" in wanted and wanted["type"] != err.type:
        problems.append(f"type: expected {wanted['type']}, got {err.type}")
    if "message" in wanted and wanted["message"] not in err.message:
        problems.append(f"message: expected it to contain {render(wanted['message'])}, "
                        f"got {render(err.message)}")
    if "line" in wanted and wanted["line"] != err.line:
        problems.append(f"line: expected {wanted['line']}, got {err.line}")
    if problems:
        return [Failure(line, f"case '{case.name}': error", "\n".join(problems))]
    return []


def _count(case: Case, what: str, wanted: list[Any], actual: list[Any], line: int,
           shown: list[Any]) -> list[Failure]:
    if len(wanted) == len(actual):
        return []
    return [Failure(line, f"case '{case.name}': expected {len(wanted)} {what}, got "
                    f"{len(actual)}", "actual: " + render(shown))]


def _check_mail(case: Case, mail: list[dict[str, Any]], line: int) -> list[Failure]:
    wanted_list = case.expect["mail"]
    shown = [{k: m.get(k) for k in ("to", "subject", "message")} for m in mail]
    failures = _count(case, "mail message(s)", wanted_list, mail, line, shown)
    for i, (wanted, got) in enumerate(zip(wanted_list, mail, strict=False)):
        for key, value in wanted.items():
            if key == "message_contains":
                if value not in got.get("message", ""):
                    failures.append(Failure(line, f"case '{case.name}': mail[{i}].message "
                                            f"does not contain {render(value)}",
                                            "message: " + render(got.get("message"))))
                continue
            actual = got.get("reply_to" if key == "reply_to" else key)
            if key in ("to", "cc", "bcc") and isinstance(value, str):
                value = [value]
            if not same(value, actual):
                failures.append(Failure(line, f"case '{case.name}': mail[{i}].{key}",
                                        diff(value, actual)))
    return failures


def _check_http(case: Case, calls: list[Call], line: int) -> list[Failure]:
    wanted_list = case.expect["http"]
    shown = [f"{c.method} {c.url}" for c in calls]
    failures = _count(case, "HTTP call(s)", wanted_list, calls, line, shown)
    for i, (wanted, call) in enumerate(zip(wanted_list, calls, strict=False)):
        method = wanted.get("method", "GET")
        if method != call.method or wanted["url"] != call.url:
            failures.append(Failure(line, f"case '{case.name}': http[{i}]",
                                    diff(f"{method} {wanted['url']}",
                                         f"{call.method} {call.url}")))
        if "body_text" in wanted and wanted["body_text"] != call.body_text:
            failures.append(Failure(line, f"case '{case.name}': http[{i}].body_text",
                                    diff(wanted["body_text"], call.body_text)))
        for path, value in wanted.get("body", {}).items():
            want = from_toml_value(value)
            try:
                got = get_path(call.body, path)
            except PathMissing as exc:
                failures.append(Failure(line, f"case '{case.name}': http[{i}].body {path}",
                                        str(exc)))
                continue
            if not same(want, got):
                failures.append(Failure(line, f"case '{case.name}': http[{i}].body {path}",
                                        diff(want, got)))
    return failures


def _check_changes(case: Case, kind: str, wanted_list: list[dict[str, Any]],
                   changes: list[Change], line: int) -> list[Failure]:
    shown = [{"module": c.qualified, "id": c.id} for c in changes]
    failures = _count(case, f"record(s) {kind}", wanted_list, changes, line, shown)
    for i, (wanted, change) in enumerate(zip(wanted_list, changes, strict=False)):
        if wanted["module"].lower() != change.qualified.lower():
            failures.append(Failure(line, f"case '{case.name}': {kind}[{i}].module",
                                    diff(wanted["module"], change.qualified)))
        if "id" in wanted and str(from_toml_value(wanted["id"])) != change.id:
            failures.append(Failure(line, f"case '{case.name}': {kind}[{i}].id",
                                    diff(str(wanted["id"]), change.id)))
        fields = from_toml_value(wanted.get("fields", {}))
        wrong = subset(fields, change.fields)
        if wrong:
            failures.append(Failure(line, f"case '{case.name}': {kind}[{i}].fields "
                                    f"({', '.join(wrong)})",
                                    diff({k: fields[k] for k in wrong},
                                         {k: change.fields.get(k) for k in wrong})))
    return failures
