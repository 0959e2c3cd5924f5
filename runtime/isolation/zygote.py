"""The zygote: a preloaded, single-threaded process that forks isolated runs for a host.

A threaded host (the HTTP service, a worker) must not fork itself: another thread may
hold a lock at that instant. It starts a zygote instead, before its own threads, as a
fresh process with an empty environment (what /proc/PID/environ shows of it and of every
child is empty; PYTHONPATH travels as an argument) and the identity its children switch
to. The zygote imports everything once and keeps spare children already forked and
waiting, so a run starts with a message, not a fork; spares are replaced while no request
waits. `sluice run --isolated` starts one too, so that no child is forked from a process
whose environment held SLUICE_MASTER_KEY.
The zygote and each child sit in process groups of their own and die with their parent
(the parent-death signal, `child.die_with_parent`): when a node is killed, its runs end
with it instead of running on as orphans.

    host -> zygote   {"op": "run", "job": {...}}  + the run's channel (SCM_RIGHTS)
    zygote -> host   {"pid": N}
    host -> zygote   {"op": "reap", "pid": N, "kill": bool}
    zygote -> host   {"status": <wait status> | null}
    host -> zygote   {"op": "forget", "pid": N}        (no answer: reaped in the background)
"""

from __future__ import annotations

__all__ = ["ZygoteForker", "main"]

import base64
import gc
import hashlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, fields
from decimal import Decimal
from typing import Any

from ..limits import Limits
from ..values import clean_text, to_json_text
from . import protocol
from .identity import Identity, child_identity

# Spare children kept forked and waiting.
_POOL = 2
# Sources up to this size (base64) are compiled in the zygote and shared with children;
# larger ones compile in the child, under the run's limits, so no script can hold the
# zygote (and every run waiting on it) for long.
_COMPILE_HERE_MAX = 64 << 10
_BOOT = ("import sys; sys.path[:0] = [p for p in sys.argv[3].split(sys.argv[4]) if p]; "
         "from sluicegate.isolation.zygote import main; "
         "main(int(sys.argv[1]), sys.argv[2], int(sys.argv[5]))")
# ... and only while they compile within this long: a slower one is left to the child.
_COMPILE_HERE_SECONDS = 0.05


def _encode_job(job: dict[str, Any]) -> dict[str, Any]:
    source = job["source"]
    raw = source if isinstance(source, bytes) else source.encode("utf-8", "surrogatepass")
    return {"source": base64.b64encode(raw).decode("ascii"), "inputs": job.get("inputs") or {},
            "limits": asdict(job["limits"]), "entry": job.get("entry"),
            "filename": job.get("filename"), "timezone": job.get("timezone"),
            "system": job.get("system") or {}, "warm": job.get("warm")}


def _decode_job(data: dict[str, Any]) -> dict[str, Any]:
    defaults = Limits()
    names = {f.name for f in fields(Limits)}
    # JSON turns 30.0 into Decimal; give each field its declared type back.
    limits = Limits(**{k: type(getattr(defaults, k))(v) for k, v in data["limits"].items()
                       if k in names})
    return {"source": base64.b64decode(data["source"]), "inputs": data.get("inputs") or {},
            "limits": limits, "entry": data.get("entry"),
            "filename": data.get("filename") or "<script>",
            "timezone": data.get("timezone"), "system": data.get("system") or {},
            "warm": data.get("warm")}


class ZygoteForker:
    """The host side: starts the zygote process and asks it for children."""

    def __init__(self, identity: Identity | None | str = "host") -> None:
        """`identity`: who children run as; by default `child_identity()` (raises
        ValueError for a SLUICE_ISOLATION_USER it cannot use)."""
        self._lock = threading.Lock()
        chosen = child_identity() if identity == "host" else identity
        self.identity = chosen if isinstance(chosen, Identity) else None
        host, zygote = socket.socketpair()
        # its own process group: a Ctrl-C meant for the host does not reach it; it ends
        # when the host does (the control socket closes; the parent-death signal)
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(zygote.fileno()),
             self.identity.encode() if self.identity else "-",
             os.environ.get("PYTHONPATH", ""), os.pathsep, str(os.getpid())],
            pass_fds=[zygote.fileno()], env={}, stdin=subprocess.DEVNULL,
            close_fds=True, process_group=0)
        zygote.close()
        self.control = host
        ready = protocol.receive(self.control)
        if not ready.get("ready"):
            raise RuntimeError("the isolation zygote did not start")

    def spawn(self, job: dict[str, Any]) -> tuple[socket.socket, int]:
        parent, child = socket.socketpair()
        try:
            with self._lock:
                # inputs may hold half a surrogate pair (JSON "\ud83d"): U+FFFD, as in-process
                payload = clean_text(to_json_text({"op": "run", "job": _encode_job(job)}))
                payload = payload.encode("utf-8")
                socket.send_fds(self.control, [len(payload).to_bytes(4, "big") + payload],
                                [child.fileno()])
                reply = protocol.receive(self.control)
        finally:
            child.close()
        return parent, int(reply["pid"])

    def reap(self, pid: int, kill: bool, need_status: bool = True) -> int | None:
        with self._lock:
            if not need_status and not kill:
                # The child reported and is exiting: the zygote reaps it in the background.
                protocol.send(self.control, {"op": "forget", "pid": pid})
                return None
            protocol.send(self.control, {"op": "reap", "pid": pid, "kill": kill})
            reply = protocol.receive(self.control)
        status = reply.get("status")
        return status if isinstance(status, int) else None

    def close(self) -> None:
        try:
            self.control.close()
        finally:
            self.process.terminate()
            self.process.wait(timeout=5)


class _Spare:
    """A child forked ahead of time, waiting for its job on a private socket."""

    def __init__(self, control: socket.socket, generation: int, network_left: bool,
                 identity: Identity | None) -> None:
        self.generation = generation
        ours, theirs = socket.socketpair()
        zygote = os.getpid()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - the spare child
            from .child import die_with_parent
            die_with_parent(zygote)  # a run never outlives the zygote (nor its node)
            ours.close()
            control.close()  # the child never talks to the zygote
            _spare_main(theirs, network_left, identity)
        from .child import own_group
        own_group(self.pid)
        theirs.close()
        self.socket = ours


def _spare_main(sock: socket.socket, network_left: bool, identity: Identity | None) -> None:
    from .child import prepare, run_child
    try:
        prepare((sock.fileno(),), network_left, identity)
        request, fds = _receive_request(sock)
        if not fds:
            os._exit(5)
        channel = socket.socket(fileno=fds[0])
        sock.close()
        job = _decode_job(request["job"])
    except BaseException:  # noqa: BLE001 - nothing to report to: the host sees the exit
        os._exit(5)
    run_child(channel, job, prepared=True)


def _receive_request(sock: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One length-prefixed JSON message that may carry file descriptors."""
    request, fds, _ = _receive_raw(sock)
    return request, fds


def _receive_raw(sock: socket.socket) -> tuple[dict[str, Any], list[int], bytes]:
    """A message, its descriptors and its bytes as received (forwarded unchanged)."""
    # Read the 4-byte length exactly (descriptors ride on its first byte): reading more
    # could swallow the start of the next message on this stream.
    head, fds, _, _ = socket.recv_fds(sock, 4, 4)
    if not head:
        raise EOFError("the other side closed the channel")
    while len(head) < 4:
        more = sock.recv(4 - len(head))
        if not more:
            raise EOFError("the other side closed the channel")
        head += more
    size = int.from_bytes(head, "big")
    if size > protocol.MAX_MESSAGE:
        raise ValueError("message too large")
    body = bytearray()
    while len(body) < size:
        chunk = sock.recv(min(size - len(body), 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        body += chunk
    raw = bytes(body)
    return json.loads(raw, parse_float=Decimal), fds, raw


def main(fd: int, identity_text: str = "-", host: int | None = None) -> None:
    """The zygote's loop, in the process ZygoteForker starts (FD: its control socket;
    `identity_text`: the children's uid:gid, or "-"; HOST: the pid of the process that
    started it)."""
    identity = Identity.decode(identity_text)
    from .child import die_with_parent, leave_network
    from .executor import preload
    if host is not None:
        die_with_parent(host, own_group=False)  # Popen made the group already
    control = socket.socket(fileno=fd)
    # The zygote needs no network (its sockets are a socketpair): leaving it once here
    # puts every child in the same empty namespace, instead of one new namespace a run.
    network_left = leave_network()
    preload()
    gc.collect()
    gc.freeze()  # forked children then share the preloaded heap without touching it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    generation = 0
    compiled_at: dict[str, int] = {}
    pool: list[_Spare] = []
    protocol.send(control, {"ready": True})
    finished: dict[int, int] = {}
    while True:
        _collect(finished, {s.pid for s in pool})
        # Spares are forked only while no request waits, so a fork never delays a run.
        while len(pool) < _POOL and not select.select([control], [], [], 0)[0]:
            pool.append(_Spare(control, generation, network_left, identity))
        try:
            request, fds, raw = _receive_raw(control)
        except (EOFError, OSError, ValueError):
            break
        op = request.get("op")
        if op == "run" and fds:
            needed = _compile_here(request, compiled_at, generation)
            generation = max(generation, needed)
            for stale in [s for s in pool if s.generation < needed]:
                _discard(stale)  # forked before this script was compiled here
                pool.remove(stale)
            spare = pool.pop(0) if pool else _Spare(control, generation, network_left,
                                                            identity)
            socket.send_fds(spare.socket, [len(raw).to_bytes(4, "big") + raw], fds)
            for extra in fds:
                os.close(extra)
            spare.socket.close()
            protocol.send(control, {"pid": spare.pid})
        elif op == "reap":
            pid = int(request.get("pid", 0))
            if request.get("kill"):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            status = finished.pop(pid, None)
            if status is None:
                try:
                    _, status = os.waitpid(pid, 0)
                except ChildProcessError:
                    status = None
            protocol.send(control, {"status": status})
        elif op == "forget":
            finished.pop(int(request.get("pid", 0)), None)
        else:
            for extra in fds:
                os.close(extra)
            protocol.send(control, {"error": "unknown request"})
    for spare in pool:
        _discard(spare)


def _collect(finished: dict[int, int], spares: set[int]) -> None:
    """Reap every child that has ended, keeping statuses the host may still ask for."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid not in spares:
            finished[pid] = status
            if len(finished) > 10_000:
                finished.pop(next(iter(finished)))


def _discard(spare: _Spare) -> None:
    spare.socket.close()
    try:
        os.kill(spare.pid, signal.SIGKILL)
        os.waitpid(spare.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _compile_here(request: dict[str, Any], compiled_at: dict[str, int], generation: int) -> int:
    """Compile the job's script in the zygote so children inherit the code; returns the
    spare generation that has it. Large sources are left to the child, where the run's
    limits apply to their compilation too."""
    from ..compilebudget import CompileTimeLimit, compile_deadline
    from ..errors import ScriptSyntaxError
    from ..sandbox import compile_script
    try:
        encoded = request["job"]["source"]
        if len(encoded) > _COMPILE_HERE_MAX:
            return 0
        source = base64.b64decode(encoded)
    except (KeyError, TypeError, ValueError):
        return 0
    key = hashlib.sha256(source).hexdigest()
    if key in compiled_at:
        return compiled_at[key]
    try:
        with compile_deadline(time.monotonic() + _COMPILE_HERE_SECONDS):
            compile_script(source)
    except ScriptSyntaxError:
        return 0  # the child reports it
    except CompileTimeLimit:
        compiled_at[key] = 0  # slow to compile: always left to the child, never retried
        return 0
    if len(compiled_at) > 4096:
        compiled_at.clear()
    compiled_at[key] = generation + 1
    return generation + 1

