"""The engine: `Runtime.run` compiles (or reuses) a script, runs it and returns a RunResult.

    rt = Runtime()
    result = rt.run('info "hi"; return 1+2;', inputs={})
    result.status, result.value, result.logs, result.error, result.stats

A run never raises for anything the script does: syntax errors, runtime errors and limit
violations all come back as a failed RunResult with the error's type, message and position.
"""

from __future__ import annotations

__all__ = ["Runtime", "RunResult", "ErrorInfo"]

import decimal
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .compilebudget import CompileTimeLimit, compile_deadline
from .errors import LimitExceeded, ScriptRuntimeError, ScriptSyntaxError, format_diagnostic
from .hooks import CATCHABLE, error_message
from .limits import PROFILES, Limits, RunContext, activate
from .positions import locate
from .sandbox import CompiledScript, compile_script
from .values import (
    DECIMAL_CONTEXT, adopt_json, clean_text, convert_to_type, from_json, to_json_text,
    to_plain,
)


# Values may nest 512 levels (SPEC §8) and displaying or converting one takes about two
# Python frames a level, on top of 75 nested user calls: more than CPython's default
# 1,000 frames. Python-to-Python calls cost no C stack in 3.11, so this is safe.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))


@dataclass
class ErrorInfo:
    """Why a run failed: the error type of SPEC §9 and where, in script terms."""

    type: str
    message: str
    line: int | None = None
    column: int | None = None
    filename: str = "<script>"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "line": self.line,
                "column": self.column}

    def diagnostic(self, source: str | None) -> str:
        kind = "error" if self.type != "LimitExceeded" else "limit exceeded"
        return format_diagnostic(self.filename, source, self.line, self.column, kind,
                                 self.message)


@dataclass
class RunResult:
    status: str
    value: Any = None
    logs: list[str] = field(default_factory=list)
    error: ErrorInfo | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    mail: list[dict[str, Any]] = field(default_factory=list)
    http: list[dict[str, Any]] = field(default_factory=list)
    plain: Any = field(default=None, repr=False)  # `value` as JSON-ready Python, when known

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def to_json(self) -> dict[str, Any]:
        """The result object of ARCHITECTURE's `sluice run --json` contract."""
        plain = self.plain if self.plain is not None or self.value is None else to_plain(
            self.value)
        return {"status": self.status, "return": plain, "logs": list(self.logs),
                "error": self.error.to_json() if self.error else None,
                # attachments' bytes ride along to the outbox only
                "mail": [{k: v for k, v in m.items() if k != "files"} for m in self.mail],
                "http": list(self.http), "stats": dict(self.stats)}

    def to_json_text(self) -> str:
        """The JSON object as text, decimals written with their scale (always encodable)."""
        return clean_text(to_json_text(self.to_json()))


def _timezone(inputs: dict[str, Any], default: str | None) -> Any:
    org = inputs.get("organization")
    name = None
    if isinstance(org, dict) and isinstance(org.get("time_zone"), str):
        name = org["time_zone"]
    for candidate in (name, default, os.environ.get("SLUICE_TIMEZONE"), "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _system_values(inputs: dict[str, Any]) -> dict[str, Any]:
    """`zoho.adminuser(id)` is the organization's admin e-mail (the stored profile puts it
    in `organization.admin_email`), `zoho.loginuser(id)` the e-mail of the user who
    triggered the run; each falls back on the other, so inputs still override."""
    user = inputs.get("user") if isinstance(inputs.get("user"), dict) else {}
    org = inputs.get("organization") if isinstance(inputs.get("organization"), dict) else {}
    login = (user or {}).get("email") or None
    admin = (org or {}).get("admin_email") or None
    return {"adminuser": admin or login, "adminuserid": admin or login,
            "loginuser": login or admin, "loginuserid": login or admin, "appname": None}


class Runtime:
    """Runs Deluge scripts in-process under limits. Thread-safe; one per host is enough."""

    def __init__(self, *, limits: Limits | None = None, timezone: str | None = None,
                 broker: Any = None, mailer: Any = None, resolver: Any = None,
                 now: Any = None, system: dict[str, Any] | None = None,
                 random: Any = None) -> None:
        self.limits = limits or Limits()
        self.timezone = timezone
        self.broker = broker
        self.mailer = mailer
        self.resolver = resolver
        self.now = now
        self.random = random
        self.system = system or {}

    def compile(self, source: str | bytes, filename: str = "<script>") -> CompiledScript:
        """Translate and compile a script (cached by source); raises ScriptSyntaxError."""
        return compile_script(source, filename)

    def run(self, source: str | bytes, inputs: dict[str, Any] | None = None, *,
            filename: str = "<script>", limits: Limits | None = None,
            entry: str | None = None, profile: str | None = None,
            convert_inputs: bool = True, inputs_owned: bool = False,
            run_key: str | None = None, cancel: Any = None) -> RunResult:
        """Run a script. Inputs are JSON-shaped (floats or Decimal for fractions) and are
        copied into Deluge values; `convert_inputs=False` is for callers whose inputs are
        Deluge values already (the run then works on them directly); `inputs_owned=True`
        is for inputs parsed from JSON for this run alone, which become Deluge values in
        place instead of being copied. `run_key`: a scheduled run's identity (idempotency
        keys); `cancel.is_set()` stops the run."""
        started = time.perf_counter()
        run_limits = limits or (PROFILES[profile] if profile else self.limits)
        size = len(source)
        if isinstance(source, str) and size * 4 > run_limits.max_source_bytes:
            # a character is at most 4 bytes: only a long text needs encoding to measure
            size = len(source.encode("utf-8", "surrogatepass"))
        if size > run_limits.max_source_bytes:
            # Parsing is linear but not free: a giant script would hold the run past its
            # time limit before the first statement (vendor editors cap scripts far lower).
            return RunResult("failure", error=ErrorInfo(
                "LimitExceeded", f"Script size limit of {run_limits.max_source_bytes} bytes "
                f"exceeded ({size} bytes)", None, None, filename),
                stats={"statements": 0, "duration_ms": _ms(started), "http_calls": 0})
        # Compiling counts against the run's time limit (a cached script costs nothing).
        begun = time.monotonic()
        try:
            with compile_deadline(begun + run_limits.timeout, run_limits.timeout):
                compiled = compile_script(source, filename)
        except ScriptSyntaxError as err:
            return RunResult("failure", error=ErrorInfo("SyntaxError", err.message, err.line,
                                                        err.column, filename),
                             stats={"statements": 0, "duration_ms": _ms(started),
                                    "http_calls": 0})
        except CompileTimeLimit as exc:
            return RunResult("failure", error=ErrorInfo("LimitExceeded", exc.message, None,
                                                        None, filename),
                             stats={"statements": 0, "duration_ms": _ms(started),
                                    "http_calls": 0})
        try:
            if not convert_inputs:
                values = dict(inputs or {})
            elif inputs_owned:
                values = adopt_json(dict(inputs or {}), max_depth=run_limits.max_nesting)
            else:
                values = from_json(dict(inputs or {}), max_depth=run_limits.max_nesting)
        except (LimitExceeded, RecursionError):
            return RunResult("failure", error=ErrorInfo(
                "LimitExceeded", f"Inputs are nested deeper than {run_limits.max_nesting} "
                "levels", None, None, filename))
        except ScriptRuntimeError as exc:  # a number past the 64-bit range
            return RunResult("failure", error=ErrorInfo(
                "RuntimeError", f"Inputs: {exc.message}", None, None, filename),
                stats={"statements": 0, "duration_ms": _ms(started), "http_calls": 0})
        ctx = RunContext(limits=run_limits, timezone=_timezone(values, self.timezone),
                         now=self.now, random=self.random, broker=self.broker,
                         mailer=self.mailer,
                         resolver=self.resolver, system={**_system_values(values),
                                                         **self.system},
                         run_key=run_key, cancel=cancel)
        org = values.get("organization")
        if isinstance(org, dict) and isinstance(org.get("date_format"), str):
            ctx.date_format = org["date_format"]
        if isinstance(org, dict):
            # The run's organization map over the host's profile: Creator form statements
            # read their application from it (integrations.forms.ORG_KEYS).
            host_org = ctx.system.get("organization")
            ctx.system["organization"] = {**(host_org if isinstance(host_org, dict) else {}),
                                          **org}
        ctx.functions = compiled.functions
        return self._execute(compiled, values, ctx, entry, filename, started, begun)

    def _execute(self, compiled: CompiledScript, values: dict[str, Any], ctx: RunContext,
                 entry_name: str | None, filename: str, started: float,
                 begun: float | None = None) -> RunResult:
        error: ErrorInfo | None = None
        value: Any = None
        info = compiled.entry
        if entry_name:
            match = [f for f in compiled.translation.functions if f.name.lower() ==
                     entry_name.lower()]
            if not match:
                error = ErrorInfo("RuntimeError", f"No function named '{entry_name}' in the "
                                  "script", None, None, filename)
            else:
                info = match[0]
        args: list[Any] = []
        if error is None and info.name:
            for ptype, pname in info.params:
                try:
                    args.append(convert_to_type(values.get(pname), ptype))
                except ValueError as exc:
                    error = ErrorInfo("RuntimeError", f"Input '{pname}' cannot be used as "
                                      f"{ptype}: {exc}", info.line, 1, filename)
                    break
        if error is None:
            fn = compiled.function(info)
            ctx.start()
            if begun is not None:  # the time limit started before compiling
                ctx.deadline = begun + ctx.limits.timeout
            try:
                # Stored functions the script calls compile under the run's deadline too.
                with activate(ctx), decimal.localcontext(DECIMAL_CONTEXT), \
                        compile_deadline(ctx.deadline, ctx.limits.timeout):
                    if info.name:
                        value = fn(ctx, *args)
                    else:
                        value = fn(ctx, values)
            except LimitExceeded as exc:
                line, col = locate(exc.__traceback__)
                error = ErrorInfo("LimitExceeded", exc.message, line, col, filename)
            except CATCHABLE as exc:
                line, col = locate(exc.__traceback__)
                error = ErrorInfo("RuntimeError", error_message(exc), line, col, filename)
            except RecursionError as exc:
                line, col = locate(exc.__traceback__)
                error = ErrorInfo("LimitExceeded", "Nesting too deep for this runtime",
                                  line, col, filename)
            except MemoryError as exc:
                line, col = locate(exc.__traceback__)
                error = ErrorInfo("LimitExceeded", "Memory limit exceeded", line, col,
                                  filename)
            except Exception as exc:  # a bug of ours, never shown as a traceback
                line, col = locate(exc.__traceback__)
                import logging  # only on this path: a run need not import it (cold start)

                logging.getLogger("sluicegate.engine").exception(
                    "internal error running %s", filename)
                error = ErrorInfo("InternalError", f"Internal error: {type(exc).__name__}",
                                  line, col, filename)
        # a run that never started (no such entry, an input of the wrong type) executed
        # no statement: the budget was never handed out
        stats = {"statements": ctx.statements if ctx.started else 0,
                 "duration_ms": _ms(started), "http_calls": ctx.http_calls}
        if error is None:
            # The returned value is turned into JSON here, under the run's protection: a
            # map that contains itself must fail the run, not the host printing it.
            try:
                with activate(ctx):
                    plain = to_plain(value)
            except (LimitExceeded, RecursionError):
                error = ErrorInfo("LimitExceeded", "The returned value is too large or nested "
                                  "too deeply to return", None, None, filename)
        if error is not None:
            return RunResult("failure", None, ctx.logs, error, stats, ctx.mail, ctx.http_trace)
        result = RunResult("success", value, ctx.logs, None, stats, ctx.mail, ctx.http_trace)
        result.plain = plain
        return result


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)

