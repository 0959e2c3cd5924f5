"""What a forked child does: lock itself down, run one script, report, exit.

The child is forked from a process that has imported everything and holds no secrets
(a zygote, or the CLI before it loads any credential). Before running the script it:

- drops its environment (no SLUICE_MASTER_KEY, no database URL can be read back), and
  overwrites the environment block it was started with, which /proc/PID/environ shows
  whatever os.environ says (a zygote is also started with an empty one),
- closes every file descriptor but its channel to the parent, and points stdio at
  /dev/null,
- sets resource limits: address space (memory), CPU seconds, open files, file size 0,
  no core dumps, no new processes,
- leaves the network namespace when the kernel allows it (root), so even a sandbox
  escape has no network; all HTTP goes to the parent as messages,
- sets no-new-privileges and, when the host is root, switches to an unprivileged uid
  for good (`identity`).

Every HTTP call, mail and function lookup is a request to the parent over the channel.
The child always ends with `os._exit`, never returning into the code it was forked from.
"""

from __future__ import annotations

__all__ = ["run_child", "prepare", "ChannelBroker", "channel_resolver", "die_with_parent",
           "own_group"]

import ctypes
import os
import resource
import signal
import socket
import sys
from typing import Any

from ..errors import LimitExceeded, ScriptRuntimeError
from ..http.messages import HttpRequest, HttpResponse
from ..limits import Limits
from . import protocol
from .identity import Identity, drop_privileges

_CLONE_NEWNET = 0x40000000
_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38


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



def result_message(result: Any) -> dict[str, Any]:
    """The message that hands a run's result to the parent. The mail keeps its
    attachments' bytes (`files`): they go to the outbox, never into answers, which
    `RunResult.to_json` leaves them out of."""
    return {"op": "result", "result": {**result.to_json(), "mail": list(result.mail)}}

def channel_resolver(channel: socket.socket) -> Any:
    """A resolver that asks the parent for the source of a stored function by name."""
    from ..errors import ScriptSyntaxError
    from ..sandbox import compile_script

    def resolve(name: str) -> Any:
        protocol.send(channel, {"op": "resolve", "name": name})
        reply = protocol.receive(channel)
        source = reply.get("source")
        if not isinstance(source, str):
            return None
        try:
            compiled = compile_script(source, str(reply.get("filename") or name))
        except ScriptSyntaxError:
            return None  # published versions compile; a failure here means no function
        entry = compiled.functions.get(name.lower())
        if entry is None and compiled.entry.name:
            # a stored script whose one function is named otherwise than its catalogue name
            info = compiled.entry
            entry = (compiled.function(info), info.params, info.name)
        return entry
    return resolve


def leave_network() -> bool:
    """Move this process into a new, empty network namespace (no interfaces but a down
    loopback). Best effort: only privileged processes may; True when it worked."""
    try:
        return _libc().unshare(_CLONE_NEWNET) == 0
    except (OSError, AttributeError):
        return False


def own_group(pid: int) -> None:
    """The parent's half of moving a new child into a process group of its own: the
    child does it too (`die_with_parent`), and whichever runs first wins, so the child
    is in its group from the moment the parent knows its pid (the classic fork race)."""
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass  # the child got there first, or is already gone


def die_with_parent(parent: int, own_group: bool = True) -> None:
    """Call first thing in a forked child: the kernel kills this process (SIGKILL) when
    its parent dies, and with `own_group` it leaves the parent's process group, so that
    a signal meant for the parent's group (a terminal's Ctrl-C) does not reach it and a
    kill of its group reaches only it. The parent-death signal is tied to the parent
    *thread* that forked: forking threads must outlive their children (the zygote is
    single-threaded; a host starts zygotes from a thread that lives as long as it does).
    A parent that died before the signal was armed is caught by comparing `parent` with
    the parent we have now. Linux only; elsewhere a no-op."""
    if own_group:
        try:
            os.setpgid(0, 0)
        except OSError:
            pass  # already a group or session leader
    _arm_parent_death(parent)


def _arm_parent_death(parent: int) -> None:
    """SIGKILL this process when its parent dies; exit at once if it already has."""
    if not sys.platform.startswith("linux"):
        return
    try:
        _libc().prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(6)  # the parent is already gone: nobody would read our result


def prepare(keep_fds: tuple[int, ...], network_left: bool = False,
            identity: Identity | None = None) -> None:
    """The lock-down steps that do not depend on the job; a zygote's spare child takes
    them before its job arrives, off the run's critical path. `network_left`: the parent
    already left the network (a zygote does it once, sparing every child the cost)."""
    parent = os.getppid()
    os.environ.clear()
    _wipe_initial_environment()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    _close_all_but(set(keep_fds))
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, 0)
    _limit(resource.RLIMIT_NPROC, 0)
    if not network_left:
        leave_network()
    try:
        _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    drop_privileges(identity)  # last: leaving the network needs the privilege
    if identity is not None:
        # the kernel clears the parent-death signal when a process changes its user or
        # group: arm it again, or a child of a killed node would run on as an orphan
        _arm_parent_death(parent)


def _wipe_initial_environment() -> None:
    """Zero the environment block this process image started with: /proc/PID/environ
    reads it (not os.environ), and a child forked from a process started with
    SLUICE_MASTER_KEY would otherwise show the key to anyone allowed to read that file."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (proc(5))
    except (OSError, ValueError, IndexError):
        return
    if 0 < start < end:
        ctypes.memset(start, 0, end - start)


def _lock_down(keep_fd: int, limits: Limits, prepared: bool,
               identity: Identity | None) -> None:
    if not prepared:
        prepare((keep_fd,), identity=identity)
    else:
        _close_all_but({keep_fd})  # the spare's own socket to the zygote goes too
    _limit(resource.RLIMIT_NOFILE, keep_fd + 8)
    cpu = int(limits.timeout) + 2
    _limit(resource.RLIMIT_CPU, cpu, cpu + 1)
    _limit(resource.RLIMIT_AS, _address_space_in_use() + limits.memory_bytes)


def _close_all_but(keep: set[int]) -> None:
    """Close every descriptor above stdio except `keep` (listing /proc is far cheaper
    than closing 65,536 numbers one by one)."""
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        low = 3
        for fd in sorted(keep):
            os.closerange(low, fd)
            low = fd + 1
        os.closerange(low, 65536)
        return
    for fd in open_fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the listing's own descriptor is already gone


def _limit(kind: int, soft: int, hard: int | None = None) -> None:
    try:
        _, current_hard = resource.getrlimit(kind)
        hard = soft if hard is None else hard
        if current_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, current_hard), min(hard, current_hard)
        resource.setrlimit(kind, (soft, hard))
    except (ValueError, OSError):
        pass


_LIBC: Any = None


def _libc() -> Any:
    """The C library handle, opened once (preload opens it before any fork)."""
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC


def _address_space_in_use() -> int:
    """Virtual memory the forked image already maps: the limit is set on top of it.
    (statm, not status: status costs about a millisecond to produce.)"""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 256 * 1024 * 1024


def run_child(channel: socket.socket, job: dict[str, Any], prepared: bool = False,
              identity: Identity | None = None) -> None:
    """Run one job in this (already forked) process and exit; never returns."""
    if job.get("warm"):  # a warm child: this job and more of the same script (warm.py)
        from .warm import serve_warm
        serve_warm(channel, job, prepared)
    code = 0
    try:
        from ..engine import Runtime
        limits: Limits = job["limits"]
        _lock_down(channel.fileno(), limits, prepared, identity)
        runtime = Runtime(limits=limits, timezone=job.get("timezone"),
                          broker=ChannelBroker(channel), resolver=channel_resolver(channel),
                          system=job.get("system") or {}, now=job.get("now"))
        result = runtime.run(job["source"], job.get("inputs") or {},
                             filename=job.get("filename", "<script>"), limits=limits,
                             entry=job.get("entry"), convert_inputs=job.get("convert", True),
                             inputs_owned=True)  # this process's own copy of the job
        protocol.send(channel, result_message(result))
    except MemoryError:
        code = 3
    except BaseException:  # noqa: BLE001 - the parent reports a crash from the exit code
        code = 4
    finally:
        os._exit(code)
