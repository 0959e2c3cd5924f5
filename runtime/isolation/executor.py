"""The isolated executor: each run in a forked, resource-limited child; the parent serves
its HTTP calls through the real broker and kills it at the wall-clock limit.

    IsolatedExecutor(broker=..., forker=DirectForker())    fork this process (the CLI)
    IsolatedExecutor(broker=..., forker=ZygoteForker())    fork a preloaded zygote (services)

Forking this process is only safe while it has one thread; multi-threaded hosts (the
HTTP service, workers) use the zygote, a single-threaded process started before any
thread, that forks the children for them.
"""

from __future__ import annotations

__all__ = ["IsolatedExecutor", "DirectForker", "Forker", "preload"]

import logging
import os
import select
import signal
import socket
import threading
import time
from typing import Any, Protocol

from ..engine import ErrorInfo, RunResult
from ..errors import DelugeError, LimitExceeded
from ..limits import Limits, RunContext
from . import protocol
from .child import die_with_parent, own_group, run_child
from .identity import Identity, child_identity

log = logging.getLogger("sluicegate.isolation")

# Time the parent allows past the run's own limit before it kills the child; the child
# normally stops itself at its limit and reports it.
_GRACE = 1.0
# How often a run that can be cancelled (a scheduled run and its lease) checks whether
# it must stop while the child computes without a word to the parent.
_CANCEL_POLL = 0.1
_STOPPED = ("The run was stopped: this node no longer holds its lease (another node runs "
            "the occurrence)")


class Forker(Protocol):
    """Starts a child for a job; returns the parent's end of its channel and its pid."""

    def spawn(self, job: dict[str, Any]) -> tuple[socket.socket, int]: ...

    def reap(self, pid: int, kill: bool, need_status: bool = True) -> int | None: ...


# Touches the parser, translator, policy pass, fast paths and the common built-ins once,
# so their lazily built tables exist before the fork instead of in every child.
_WARM_UP = """
string standalone.warm(String a, Int b)
{
    m = Map(); l = List(); t = {"k": 1.50, "l": {1, 2}};
    for each i in {1, 2} { l.add(i); m.put("k" + i, i * 2 % 3); if (i > 1 && !false) { } }
    try { x = a.trim().toUpperCase().length() / 0; } catch (e) { info e.message; }
    info t.toString() + m.get("k1") + l.size() + ifnull(null, 1) + '01-Jan-2024'.addDay(1);
    return "a".replaceAll("a", "b") + "x,y".toList(",") + "{}".toMap();
}
"""

# Scripts that do not parse: a run parses without Lark (plainparse), and only a syntax
# error loads Lark's parser to report it, which a child must not have to import.
_WARM_UP_ERRORS = ("x = ;", "x = 1 ? 2 : 3;", 'r = invokeurl [ url: "u" ] info r;')


# Modules built-ins import on first use. A child that switched to an unprivileged user
# may not be able to read the Python installation any more (/root is 0700): whatever it
# could need is imported before the fork. Every codec too: `response-decoding`,
# `base64Decode(x, charset)` and files name theirs.
_LAZY_MODULES = ("difflib", "_strptime", "unicodedata", "stringprep", "logging", "resource",
                 "regex", "re._casefix", "xml.parsers.expat", "xml.etree.ElementTree",
                 "cryptography.hazmat.primitives.ciphers",
                 "cryptography.hazmat.primitives.padding",
                 "sluicegate.memory", "sluicegate.optimizer.inference",
                 "sluicegate.jsonform.records")
# Packages whose every module a run may import on first use (built-ins, task tables, the
# child's own code: a warm child imports its loop after switching user).
_RUN_PACKAGES = ("sluicegate.stdlib", "sluicegate.integrations", "sluicegate.isolation")


def preload() -> None:
    """Import and build everything a run needs, so that children start warm."""
    import encodings
    import importlib
    import pkgutil

    from ..engine import Runtime
    from ..errors import ScriptSyntaxError
    from ..translator import translate
    from .child import _libc
    Runtime().run(_WARM_UP, {"a": "x", "b": 1})
    for broken in _WARM_UP_ERRORS:
        try:
            translate(broken)
        except ScriptSyntaxError:
            pass  # the error is the point: Lark's parser is loaded
    codecs_found = (f"encodings.{m.name}" for m in pkgutil.iter_modules(encodings.__path__))
    run_modules = []
    for package_name in _RUN_PACKAGES:
        package = importlib.import_module(package_name)
        run_modules += [m.name for m in pkgutil.walk_packages(package.__path__,
                                                              package_name + ".")]
    for name in (*_LAZY_MODULES, *run_modules, *codecs_found):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - platform codecs (mbcs, oem) and the like
            pass
    try:
        _libc()
    except OSError:
        pass


class DirectForker:
    """Forks the calling process, for single-threaded hosts that hold no secret in their
    environment or memory (tests, embedders). `sluice run --isolated` uses a zygote: a
    process started afresh with an empty environment."""

    def __init__(self, identity: Identity | None | str = "host") -> None:
        self.identity = child_identity() if identity == "host" else identity

    def spawn(self, job: dict[str, Any]) -> tuple[socket.socket, int]:
        parent, child = socket.socketpair()
        host = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which always _exits
            die_with_parent(host)
            parent.close()
            run_child(child, job, identity=self.identity)  # type: ignore[arg-type]
        own_group(pid)
        child.close()
        return parent, pid

    def reap(self, pid: int, kill: bool, need_status: bool = True) -> int | None:
        if kill:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return None
        return status


class IsolatedExecutor:
    """Runs scripts in forked children; `execute` has the shape of triggers' Executor."""

    def __init__(self, *, broker: Any = None, resolver_source: Any = None,
                 timezone: str | None = None, system: dict[str, Any] | None = None,
                 forker: Forker | None = None) -> None:
        self.broker = broker
        self.resolver_source = resolver_source
        self.timezone = timezone
        self.system = system or {}
        self.forker = forker or DirectForker()

    def execute(self, source: str | bytes, inputs: dict[str, Any], limits: Limits, *,
                entry: str | None = None, filename: str = "<script>",
                run_key: str | None = None, cancel: Any = None) -> RunResult:
        """Run in a child; `cancel.is_set()` turning true (the node lost its lease) kills
        the child at once; `run_key` goes to the broker (idempotency keys)."""
        started = time.monotonic()
        # The child has no environment: SLUICE_TIMEZONE is read here, in the host.
        job = {"source": source, "inputs": inputs, "limits": limits, "entry": entry,
               "filename": filename,
               "timezone": self.timezone or os.environ.get("SLUICE_TIMEZONE"),
               "system": self.system}
        channel, pid = self.forker.spawn(job)
        ctx = RunContext(limits=limits, run_key=run_key, cancel=cancel)
        ctx.start()
        # Stopped from outside (the node's lease was lost): kill the child at once, even
        # while this thread waits on an HTTP call made for it and polls nothing.
        alive = threading.Lock()
        reaped = False

        def kill_now() -> None:
            with alive:
                if not reaped:
                    _kill(pid)
        forget = cancel.on_stop(kill_now) if hasattr(cancel, "on_stop") else None
        try:
            result, killed = self._serve(channel, ctx, started, filename)
        finally:
            channel.close()
            if forget is not None:
                forget()
        with alive:
            reaped = True  # from here the pid may be reaped and reused: no more kills
        status = self.forker.reap(pid, kill=result is None or killed,
                                  need_status=result is None)
        if result is None:
            if cancel is not None and cancel.is_set():
                result = _stopped(filename)
            else:
                result = self._death(status, limits, filename, killed)
        result.http = ctx.http_trace  # the parent's own record, not the child's word
        result.stats["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        result.stats["isolated"] = True
        return result

    def _serve(self, channel: socket.socket, ctx: RunContext, started: float,
               filename: str) -> tuple[RunResult | None, bool]:
        deadline = started + ctx.limits.timeout + _GRACE
        cancel = ctx.cancel
        while True:
            if cancel is not None and cancel.is_set():
                return None, True  # the lease is gone: the child is killed now
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, True
            wait = remaining if cancel is None else min(remaining, _CANCEL_POLL)
            ready, _, _ = select.select([channel], [], [], wait)
            if not ready:
                continue
            channel.settimeout(max(remaining, 0.01))
            try:
                message = protocol.receive(channel)
            except (EOFError, OSError, protocol.ProtocolError):
                return None, False
            op = message.get("op")
            if op == "result":
                return _result_from(message.get("result"), filename), False
            try:
                if op == "http":
                    reply = self._http(message, ctx)
                elif op == "resolve":
                    reply = self._resolve(message)
                else:
                    return None, True  # a child that speaks nonsense is stopped
                protocol.send(channel, reply)
            except (protocol.ProtocolError, OSError):
                return None, True

    def _http(self, message: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
        request = protocol.decode_request(message.get("request"))
        if ctx.cancel is not None and ctx.cancel.is_set():
            return {"ok": False, "kind": "LimitExceeded", "limit": "lease",
                    "message": _STOPPED}
        ctx.http_calls += 1
        if ctx.http_calls > ctx.limits.max_http_calls:
            return {"ok": False, "kind": "LimitExceeded", "limit": "http_calls",
                    "message": f"HTTP call limit of {ctx.limits.max_http_calls} exceeded"}
        if self.broker is None:
            from ..http.messages import UnconfiguredBroker
            broker: Any = UnconfiguredBroker()
        else:
            broker = self.broker
        try:
            response = broker.send(request, ctx)
        except DelugeError as exc:
            return {"ok": False, "kind": "RuntimeError", "message": exc.message}
        except LimitExceeded as exc:
            return {"ok": False, "kind": "LimitExceeded", "limit": exc.limit,
                    "message": exc.message}
        except Exception:  # noqa: BLE001 - a broker bug fails the call, not the whole run
            log.exception("the broker failed on a request of an isolated run")
            return {"ok": False, "kind": "RuntimeError",
                    "message": "HTTP request failed: internal error in the runtime's broker"}
        return {"ok": True, "response": protocol.encode_response(response)}

    def _resolve(self, message: dict[str, Any]) -> dict[str, Any]:
        name = message.get("name")
        if not isinstance(name, str) or self.resolver_source is None:
            return {"ok": True, "source": None}
        found = self.resolver_source(name)
        if not found:
            return {"ok": True, "source": None}
        source, filename = found
        return {"ok": True, "source": source, "filename": filename}

    @staticmethod
    def _death(status: int | None, limits: Limits, filename: str, killed: bool) -> RunResult:
        """A result for a child that ended without reporting one."""
        if killed or status is None:
            error = ErrorInfo("LimitExceeded", f"Time limit of {limits.timeout:g} s exceeded",
                              None, None, filename)
        elif os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU,
                                                               signal.SIGKILL):
            error = ErrorInfo("LimitExceeded", f"CPU time limit of {int(limits.timeout) + 2} s "
                              "exceeded", None, None, filename)
        elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3:
            error = ErrorInfo("LimitExceeded", f"Memory limit of {limits.memory_bytes} bytes "
                              "exceeded", None, None, filename)
        elif os.WIFSIGNALED(status):
            error = ErrorInfo("InternalError", f"The run was stopped by signal "
                              f"{signal.Signals(os.WTERMSIG(status)).name}", None, None,
                              filename)
        else:
            error = ErrorInfo("InternalError", "The run ended without a result", None, None,
                              filename)
        return RunResult("failure", None, [], error, {"statements": None, "http_calls": 0})


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # ended already


def _stopped(filename: str) -> RunResult:
    """The result of a run killed because its node lost the lease (never recorded)."""
    return RunResult("failure", None, [], ErrorInfo("LimitExceeded", _STOPPED, None, None,
                                                    filename),
                     {"statements": None, "http_calls": 0})


def _result_from(data: Any, filename: str) -> RunResult | None:
    """A RunResult from the child's report, every field checked (the child is untrusted)."""
    if not isinstance(data, dict) or data.get("status") not in ("success", "failure"):
        return None
    logs = data.get("logs")
    if not isinstance(logs, list) or not all(isinstance(x, str) for x in logs):
        return None
    error = None
    raw = data.get("error")
    if raw is not None:
        if not isinstance(raw, dict):
            return None
        error = ErrorInfo(str(raw.get("type") or "RuntimeError"), str(raw.get("message") or ""),
                          raw.get("line") if isinstance(raw.get("line"), int) else None,
                          raw.get("column") if isinstance(raw.get("column"), int) else None,
                          filename)
    stats = data.get("stats") if isinstance(data.get("stats"), dict) else {}
    mail = data.get("mail") if isinstance(data.get("mail"), list) else []
    return RunResult(data["status"], data.get("return"), logs, error, dict(stats), mail, [])
