"""Warm isolated children: one forked child serves up to K runs of the same script version.

A fresh child per run costs a fork, a first touch of the preloaded heap and an exit
teardown (about 5 ms of CPU); most of that is paid once per child here. A warm child:

- serves only jobs whose script and run settings (source, entry, file name, limits, time
  zone, system values) are identical: never another script, never another version;
- is retired (its channel closed, the process reaped) after K runs, after any run that
  did not succeed (an error, a limit, a kill, a crash) and after idling `IDLE_SECONDS`;
- runs each job under its own limits: the wall-clock limit is the parent's (it kills the
  child, as for any isolated run), the CPU limit a per-run timer in the child (SIGPROF,
  whose default action ends the process) with the per-process rlimit as a backstop for
  all K runs; memory is the process's rlimit, as for a fresh child;
- keeps nothing of a run for the next but what an in-process runtime shares between runs
  too (compiled code, pattern caches): every run has its own context, values and inputs.

    parent -> child   the first job rides on the spawn, as for a fresh child, marked warm
    child  -> parent  {"op": "result", ...}            (HTTP and look-ups as usual before)
    parent -> child   {"op": "next", "inputs": {...}}  the next run, same script
    parent closes the channel                          the child exits

`WarmExecutor` is an `IsolatedExecutor`; `SLUICE_WARM_RUNS` sets K (1 turns reuse off).
"""

from __future__ import annotations

__all__ = ["WarmExecutor", "serve_warm", "warm_runs_from_env", "DEFAULT_RUNS"]

import hashlib
import os
import resource
import signal
import socket
import threading
import time
import weakref
from dataclasses import asdict
from typing import Any

from ..engine import ErrorInfo, RunResult
from ..limits import Limits, RunContext
from . import protocol
from .executor import IsolatedExecutor, _kill, _stopped

DEFAULT_RUNS = 50
# An idle warm child is retired after this long (it holds its memory while it waits).
IDLE_SECONDS = 30.0
# Idle warm children kept at most, over all scripts (the oldest is retired first).
MAX_IDLE = 16
# Job keys remembered (scripts and settings seen lately).
_KEYS_KEPT = 256


def warm_runs_from_env(default: int = DEFAULT_RUNS) -> int:
    """K from SLUICE_WARM_RUNS (a positive integer; 1 is a fresh child per run)."""
    raw = os.environ.get("SLUICE_WARM_RUNS", "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"SLUICE_WARM_RUNS must be a positive integer, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"SLUICE_WARM_RUNS must be a positive integer, not {raw!r}")
    return value


class _Child:
    __slots__ = ("channel", "pid", "runs", "idle_since")

    def __init__(self, channel: socket.socket, pid: int) -> None:
        self.channel = channel
        self.pid = pid
        self.runs = 0
        self.idle_since = 0.0


class WarmExecutor(IsolatedExecutor):
    """An IsolatedExecutor whose children serve up to `max_runs` runs of one script."""

    def __init__(self, *, max_runs: int = DEFAULT_RUNS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_runs = max_runs
        self._idle: dict[str, list[_Child]] = {}
        self._lock = threading.Lock()
        # job keys already computed (a hash of the source and settings at every run
        # otherwise), by the settings themselves
        self._keys: dict[tuple[Any, ...], str] = {}
        # An executor dropped without close(): its idle children get the end of their
        # input and exit (their forker reaps them; a zygote does so in the background).
        weakref.finalize(self, _hang_up, self._idle)

    def execute(self, source: str | bytes, inputs: dict[str, Any], limits: Limits, *,
                entry: str | None = None, filename: str = "<script>",
                run_key: str | None = None, cancel: Any = None) -> RunResult:
        """As IsolatedExecutor.execute, in a warm child of the same script when one is
        idle; `cancel` (the node lost its lease) kills that child at once."""
        if self.max_runs <= 1:
            return super().execute(source, inputs, limits, entry=entry, filename=filename,
                                   run_key=run_key, cancel=cancel)
        started = time.monotonic()
        job = {"source": source, "inputs": inputs, "limits": limits, "entry": entry,
               "filename": filename, "timezone": self.timezone, "system": self.system}
        key = self._key_of(job)
        child = self._take(key)
        if child is not None:
            try:
                protocol.send(child.channel, {"op": "next", "inputs": inputs})
            except (OSError, protocol.ProtocolError):
                self._retire(child, kill=True)
                child = None
        if child is None:
            channel, pid = self.forker.spawn({**job, "warm": self.max_runs})
            child = _Child(channel, pid)
        ctx = RunContext(limits=limits, run_key=run_key, cancel=cancel)
        ctx.start()
        # Stopped from outside (the node's lease was lost): kill the child at once, even
        # while this thread waits on an HTTP call made for it.
        alive = threading.Lock()
        done = False
        pid = child.pid

        def kill_now() -> None:
            with alive:
                if not done:
                    _kill(pid)
        forget = cancel.on_stop(kill_now) if hasattr(cancel, "on_stop") else None
        try:
            result, killed = self._serve(child.channel, ctx, started, filename)
        except BaseException:
            self._retire(child, kill=True)
            raise
        finally:
            if forget is not None:
                forget()
            with alive:
                done = True   # from here the pid may be reaped and reused: no more kills
        child.runs += 1
        stopped = cancel is not None and cancel.is_set()
        if result is None or killed or stopped or not result.ok or \
                child.runs >= self.max_runs:
            status = self._retire(child, kill=result is None or killed or stopped,
                                  need_status=result is None)
            if result is None:
                result = _stopped(filename) if stopped else \
                    self._death(status, limits, filename, killed)
        else:
            self._keep(key, child)
        result.http = ctx.http_trace  # the parent's own record, not the child's word
        result.stats["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        result.stats["isolated"] = True
        result.stats["child_run"] = child.runs
        return result

    def _key_of(self, job: dict[str, Any]) -> str:
        if job["system"]:   # settings that may not be hashable: computed every time
            return _job_key(job)
        memo = (job["source"], job["entry"], job["filename"], job["limits"],
                job["timezone"])
        key = self._keys.get(memo)
        if key is None:
            key = _job_key(job)
            if len(self._keys) >= _KEYS_KEPT:
                self._keys.clear()
            self._keys[memo] = key
        return key

    # -- the pool of idle children ----------------------------------------------------
    def _take(self, key: str) -> _Child | None:
        with self._lock:
            expired = self._expired()
            idle = self._idle.get(key)
            child = idle.pop() if idle else None
            if idle is not None and not idle:
                del self._idle[key]
        for old in expired:
            self._retire(old, kill=False)
        return child

    def _keep(self, key: str, child: _Child) -> None:
        child.idle_since = time.monotonic()
        with self._lock:
            self._idle.setdefault(key, []).append(child)
            evicted = []
            while sum(len(v) for v in self._idle.values()) > MAX_IDLE:
                oldest_key = min(self._idle, key=lambda k: self._idle[k][0].idle_since)
                evicted.append(self._idle[oldest_key].pop(0))
                if not self._idle[oldest_key]:
                    del self._idle[oldest_key]
        for old in evicted:
            self._retire(old, kill=False)

    def _expired(self) -> list[_Child]:
        """Idle children past IDLE_SECONDS, taken out of the pool (caller holds the lock)."""
        now = time.monotonic()
        out: list[_Child] = []
        for key in list(self._idle):
            keep = [c for c in self._idle[key] if now - c.idle_since < IDLE_SECONDS]
            out += [c for c in self._idle[key] if now - c.idle_since >= IDLE_SECONDS]
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]
        return out

    def _retire(self, child: _Child, *, kill: bool, need_status: bool = False) -> int | None:
        """Close the child's channel (it exits on the end of its input) and reap it."""
        try:
            child.channel.close()
        except OSError:
            pass
        return self.forker.reap(child.pid, kill=kill, need_status=need_status or kill)

    def close(self) -> None:
        """Retire every idle child (a host stopping)."""
        with self._lock:
            idle = [c for children in self._idle.values() for c in children]
            self._idle.clear()
        for child in idle:
            self._retire(child, kill=False)

    @staticmethod
    def _death(status: int | None, limits: Limits, filename: str, killed: bool) -> RunResult:
        if (status is not None and not killed and os.WIFSIGNALED(status)
                and os.WTERMSIG(status) == signal.SIGPROF):
            # the child's per-run CPU timer (the rlimit is per process, not per run)
            error = ErrorInfo("LimitExceeded", f"CPU time limit of {_cpu_seconds(limits)} s "
                              "exceeded", None, None, filename)
            return RunResult("failure", None, [], error, {"statements": None,
                                                          "http_calls": 0})
        return IsolatedExecutor._death(status, limits, filename, killed)


def _hang_up(idle: dict[str, list[_Child]]) -> None:
    for children in idle.values():
        for child in children:
            try:
                child.channel.close()
            except OSError:
                pass
    idle.clear()


def _cpu_seconds(limits: Limits) -> int:
    return int(limits.timeout) + 2


def _job_key(job: dict[str, Any]) -> str:
    """What a warm child may be reused for: everything of a job but its inputs."""
    source = job["source"]
    raw = source if isinstance(source, bytes) else source.encode("utf-8", "surrogatepass")
    settings = _settings_bytes({"limits": asdict(job["limits"]), "entry": job.get("entry"),
                              "filename": job.get("filename"),
                              "timezone": job.get("timezone"),
                              "system": job.get("system") or {}})
    return hashlib.sha256(raw).hexdigest() + hashlib.sha256(settings).hexdigest()


def _settings_bytes(value: Any) -> bytes:
    from ..values import to_json_text
    return to_json_text(value).encode("utf-8")


# ---- the child ------------------------------------------------------------------------
def serve_warm(channel: socket.socket, job: dict[str, Any], prepared: bool) -> None:
    """Run the first job and up to K-1 more of the same script; exit; never returns."""
    from ..engine import Runtime
    from .child import ChannelBroker, _address_space_in_use, _close_all_but, _limit
    from .child import channel_resolver, prepare, result_message

    code = 0
    try:
        limits: Limits = job["limits"]
        most = max(1, int(job.get("warm") or 1))
        if not prepared:
            prepare((channel.fileno(),))
        else:
            _close_all_but({channel.fileno()})
        _limit(resource.RLIMIT_NOFILE, channel.fileno() + 8)
        backstop = _cpu_seconds(limits) * most + 1  # all K runs; each has its own timer
        _limit(resource.RLIMIT_CPU, backstop, backstop + 1)
        _limit(resource.RLIMIT_AS, _address_space_in_use() + limits.memory_bytes)
        runtime = Runtime(limits=limits, timezone=job.get("timezone"),
                          broker=ChannelBroker(channel), resolver=channel_resolver(channel),
                          system=job.get("system") or {}, now=job.get("now"))
        inputs = job.get("inputs") or {}
        for served in range(1, most + 1):
            signal.setitimer(signal.ITIMER_PROF, _cpu_seconds(limits))
            try:
                result = runtime.run(job["source"], inputs,
                                     filename=job.get("filename", "<script>"), limits=limits,
                                     entry=job.get("entry"), inputs_owned=True)
            finally:
                signal.setitimer(signal.ITIMER_PROF, 0)
            del inputs
            protocol.send(channel, result_message(result))
            if not result.ok or served >= most:
                break
            del result
            try:
                message = protocol.receive(channel)
            except (EOFError, OSError, protocol.ProtocolError):
                break  # retired by the parent
            if message.get("op") != "next" or not isinstance(message.get("inputs"), dict):
                break
            inputs = message["inputs"]  # noqa: F841 - the next pass runs them
    except MemoryError:
        code = 3
    except BaseException:  # noqa: BLE001 - the parent reports a crash from the exit code
        code = 4
    finally:
        os._exit(code)
