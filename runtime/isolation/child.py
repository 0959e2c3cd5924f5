"""What a forked child does: lock itself down, run one script, report, exit.

The child is forked from a process that has imported everything and holds no secrets
(a zygote, or the CLI before it loads any credential). Before running the script it:

- drops its environment (no SLUICE_MASTER_KEY, no database URL can be read back),
- closes every file descriptor but its channel to the parent, and points stdio at
  /dev/null,
- sets resource limits: address space (memory), CPU seconds, open files, file size 0,
  no core dumps, no new processes,
- leaves the network namespace when the kernel allows it (root), so even a sandbox
  escape has no network; all HTTP goes to the parent as messages.

Every HTTP call, mail and function lookup is a request to the parent over the channel.
The child always ends with `os._exit`, never returning into the code it was forked from.
"""

from __future__ import annotations

__all__ = ["run_child", "ChannelBroker", "channel_resolver"]

import ctypes
import os
import resource
import socket
from typing import Any

from ..errors import LimitExceeded, ScriptRuntimeError
from ..http.messages import HttpRequest, HttpResponse
from ..limits import Limits
from . import protocol

_CLONE_NEWNET = 0x40000000


class ChannelBroker:
    """The child's broker: every request is sent to the parent, which checks and signs it."""

    def __init__(self, channel: socket.socket) -> None:
        self.channel = channel

    def send(self, request: HttpRequest, ctx: Any) -> HttpResponse:
        protocol.send(self.channel, {"op": "http", "request": protocol.encode_request(request)})
        reply = protocol.receive(self.channel)
        if reply.get("ok"):
            return protocol.decode_response(reply.get("response"))
        message = str(reply.get("message") or "HTTP request failed")
        if reply.get("kind") == "LimitExceeded":
            raise LimitExceeded(message, limit=str(reply.get("limit") or "http"))
        raise ScriptRuntimeError(message)


def channel_resolver(channel: socket.socket) -> Any:
    """A resolver that asks the parent for the source of a stored function by name."""
    from ..sandbox import compile_script

    def resolve(name: str) -> Any:
        protocol.send(channel, {"op": "resolve", "name": name})
        reply = protocol.receive(channel)
        source = reply.get("source")
        if not isinstance(source, str):
            return None
        compiled = compile_script(source, str(reply.get("filename") or name))
        return compiled.functions.get(name)
    return resolve


def _lock_down(keep_fd: int, limits: Limits) -> None:
    os.environ.clear()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, 65536)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, 0)
    _limit(resource.RLIMIT_NOFILE, keep_fd + 8)
    _limit(resource.RLIMIT_NPROC, 0)
    cpu = int(limits.timeout) + 2
    _limit(resource.RLIMIT_CPU, cpu, cpu + 1)
    _limit(resource.RLIMIT_AS, _address_space_in_use() + limits.memory_bytes)
    try:  # best effort: only privileged processes may leave the network namespace
        libc = ctypes.CDLL(None, use_errno=True)
        libc.unshare(_CLONE_NEWNET)
    except (OSError, AttributeError):
        pass


def _limit(kind: int, soft: int, hard: int | None = None) -> None:
    try:
        _, current_hard = resource.getrlimit(kind)
        hard = soft if hard is None else hard
        if current_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, current_hard), min(hard, current_hard)
        resource.setrlimit(kind, (soft, hard))
    except (ValueError, OSError):
        pass


def _address_space_in_use() -> int:
    """Virtual memory the forked image already maps: the limit is set on top of it."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 256 * 1024 * 1024


def run_child(channel: socket.socket, job: dict[str, Any]) -> None:
    """Run one job in this (already forked) process and exit; never returns."""
    code = 0
    try:
        from ..engine import Runtime
        limits: Limits = job["limits"]
        _lock_down(channel.fileno(), limits)
        runtime = Runtime(limits=limits, timezone=job.get("timezone"),
                          broker=ChannelBroker(channel), resolver=channel_resolver(channel),
                          system=job.get("system") or {}, now=job.get("now"))
        result = runtime.run(job["source"], job.get("inputs") or {},
                             filename=job.get("filename", "<script>"), limits=limits,
                             entry=job.get("entry"), convert_inputs=job.get("convert", True))
        protocol.send(channel, {"op": "result", "result": result.to_json()})
    except MemoryError:
        code = 3
    except BaseException:  # noqa: BLE001 - the parent reports a crash from the exit code
        code = 4
    finally:
        os._exit(code)
