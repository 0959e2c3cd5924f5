"""The zygote: a preloaded, single-threaded process that forks isolated runs for a host.

A threaded host (the HTTP service, a worker) must not fork itself: another thread may
hold a lock at that instant. It starts a zygote instead, before its own threads, with an
environment stripped of secrets. The zygote imports everything once and keeps one spare
child already forked and waiting, so a run starts with a message, not a fork; the next
spare is forked while the run goes on.

    host -> zygote   {"op": "run", "job": {...}}  + the run's channel (SCM_RIGHTS)
    zygote -> host   {"pid": N}
    host -> zygote   {"op": "reap", "pid": N, "kill": bool}
    zygote -> host   {"status": <wait status> | null}
"""

from __future__ import annotations

__all__ = ["ZygoteForker", "main"]

import base64
import gc
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import asdict, fields
from decimal import Decimal
from typing import Any

from ..limits import Limits
from ..values import to_json_text
from . import protocol

# Sources up to this size (base64) are compiled in the zygote and shared with children.
_COMPILE_HERE_MAX = 1 << 20
# What the zygote keeps of the host's environment: nothing secret, just enough to run.
_KEEP_ENV = ("PATH", "SLUICE_TIMEZONE", "LANG", "LC_ALL", "PYTHONPATH", "TZ")


def _encode_job(job: dict[str, Any]) -> dict[str, Any]:
    source = job["source"]
    raw = source if isinstance(source, bytes) else source.encode("utf-8", "surrogatepass")
    return {"source": base64.b64encode(raw).decode("ascii"), "inputs": job.get("inputs") or {},
            "limits": asdict(job["limits"]), "entry": job.get("entry"),
            "filename": job.get("filename"), "timezone": job.get("timezone"),
            "system": job.get("system") or {}}


def _decode_job(data: dict[str, Any]) -> dict[str, Any]:
    defaults = Limits()
    names = {f.name for f in fields(Limits)}
    # JSON turns 30.0 into Decimal; give each field its declared type back.
    limits = Limits(**{k: type(getattr(defaults, k))(v) for k, v in data["limits"].items()
                       if k in names})
    return {"source": base64.b64decode(data["source"]), "inputs": data.get("inputs") or {},
            "limits": limits, "entry": data.get("entry"),
            "filename": data.get("filename") or "<script>",
            "timezone": data.get("timezone"), "system": data.get("system") or {}}


class ZygoteForker:
    """The host side: starts the zygote process and asks it for children."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        host, zygote = socket.socketpair()
        env = {k: v for k, v in os.environ.items() if k in _KEEP_ENV}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from sluicegate.isolation.zygote import main; "
             "main(int(sys.argv[1]))", str(zygote.fileno())],
            pass_fds=[zygote.fileno()], env=env, stdin=subprocess.DEVNULL,
            close_fds=True)
        zygote.close()
        self.control = host
        ready = protocol.receive(self.control)
        if not ready.get("ready"):
            raise RuntimeError("the isolation zygote did not start")

    def spawn(self, job: dict[str, Any]) -> tuple[socket.socket, int]:
        parent, child = socket.socketpair()
        try:
            with self._lock:
                payload = to_json_text({"op": "run", "job": _encode_job(job)}).encode("utf-8")
                socket.send_fds(self.control, [len(payload).to_bytes(4, "big") + payload],
                                [child.fileno()])
                reply = protocol.receive(self.control)
        finally:
            child.close()
        return parent, int(reply["pid"])

    def reap(self, pid: int, kill: bool) -> int | None:
        with self._lock:
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

    def __init__(self, control: socket.socket, generation: int) -> None:
        self.generation = generation
        ours, theirs = socket.socketpair()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - the spare child
            ours.close()
            control.close()  # the child never talks to the zygote
            _spare_main(theirs)
        theirs.close()
        self.socket = ours


def _spare_main(sock: socket.socket) -> None:
    from .child import run_child
    try:
        request, fds = _receive_request(sock)
        if not fds:
            os._exit(5)
        channel = socket.socket(fileno=fds[0])
        sock.close()
        job = _decode_job(request["job"])
    except BaseException:  # noqa: BLE001 - nothing to report to: the host sees the exit
        os._exit(5)
    run_child(channel, job)


def _receive_request(sock: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One length-prefixed JSON message that may carry file descriptors."""
    head, fds, _, _ = socket.recv_fds(sock, 65536, 4)
    if len(head) < 4:
        raise EOFError("the other side closed the channel")
    size = int.from_bytes(head[:4], "big")
    if size > protocol.MAX_MESSAGE:
        raise ValueError("message too large")
    body = bytearray(head[4:])
    while len(body) < size:
        chunk = sock.recv(min(size - len(body), 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        body += chunk
    return json.loads(bytes(body), parse_float=Decimal), fds


def main(fd: int) -> None:
    """The zygote's loop, in the process ZygoteForker starts (FD: its control socket)."""
    from .executor import preload
    control = socket.socket(fileno=fd)
    preload()
    gc.collect()
    gc.freeze()  # forked children then share the preloaded heap without touching it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    generation = 0
    compiled_at: dict[str, int] = {}
    spare = _Spare(control, generation)
    protocol.send(control, {"ready": True})
    while True:
        try:
            request, fds = _receive_request(control)
        except (EOFError, OSError, ValueError):
            break
        op = request.get("op")
        if op == "run" and fds:
            needed = _compile_here(request, compiled_at, generation)
            if needed > generation:
                generation = needed
            if spare.generation < needed:  # forked before this script was compiled here
                _discard(spare)
                spare = _Spare(control, generation)
            payload = to_json_text(request).encode("utf-8")
            socket.send_fds(spare.socket, [len(payload).to_bytes(4, "big") + payload], fds)
            for extra in fds:
                os.close(extra)
            spare.socket.close()
            protocol.send(control, {"pid": spare.pid})
            spare = _Spare(control, generation)
        elif op == "reap":
            pid = int(request.get("pid", 0))
            if request.get("kill"):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                _, status = os.waitpid(pid, 0)
                protocol.send(control, {"status": status})
            except ChildProcessError:
                protocol.send(control, {"status": None})
        else:
            for extra in fds:
                os.close(extra)
            protocol.send(control, {"error": "unknown request"})
    _discard(spare)


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
        compile_script(source)
    except ScriptSyntaxError:
        return 0  # the child reports it
    if len(compiled_at) > 4096:
        compiled_at.clear()
    compiled_at[key] = generation + 1
    return generation + 1

