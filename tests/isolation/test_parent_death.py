"""Isolated runs die with their parent: a child forked by `sluice run --isolated` when the
command is killed, a run whose lease is lost while its parent waits on it, and a zygote
started again by a short-lived thread (the parent-death signal is tied to the thread
that forked, so replacements come from one long-lived thread)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from proctree import alive
from sluice_testdb import wait_until
from sluicegate.isolation import IsolatedExecutor
from sluicegate.limits import PROFILES
from sluicegate.triggers.lease import RunLease

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="parent-death signals are Linux's")

# ~20 ms a loop without a word to the parent (see tests/triggers/test_node_faults.py)
BUSY = """t = leftpad("", 1000000);
l = leftpad("", n).replaceAll(" ", "x,").toList(",");
c = 0;
for each i in l { c = c + t.replaceAll(" ", "ab").length(); }
return c;"""

_HOST = textwrap.dedent("""
    import os, sys
    from sluicegate.isolation import DirectForker
    from sluicegate.limits import PROFILES
    forker = DirectForker()
    channel, pid = forker.spawn({"source": sys.argv[1], "inputs": {"n": 3000},
                                 "limits": PROFILES["schedule"], "filename": "busy.dg"})
    print(pid, flush=True)
    channel.recv(1)   # waits for a result that never comes: the test kills us
""")


def test_a_run_forked_by_the_command_line_dies_when_the_command_is_killed() -> None:
    host = subprocess.Popen([sys.executable, "-c", _HOST, BUSY], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert host.stdout is not None
        child = int(host.stdout.readline())
        assert alive(child) and os.getpgid(child) == child   # its own process group
        host.send_signal(signal.SIGKILL)
        host.wait(10)
        started = time.monotonic()
        wait_until(lambda: not alive(child), 10, "the run to die with its parent")
        assert time.monotonic() - started <= 2.0
    finally:
        if host.poll() is None:
            host.kill()
            host.wait(10)
        if host.stdout is not None:
            host.stdout.close()


def test_a_lost_lease_kills_the_run_at_once() -> None:
    lease = RunLease(1, 60.0)
    executor = IsolatedExecutor()
    threading.Timer(0.5, lease.lose).start()
    started = time.monotonic()
    result = executor.execute(BUSY, {"n": 3000}, PROFILES["schedule"], filename="busy.dg",
                              cancel=lease)
    assert time.monotonic() - started < 2.5
    assert result.error is not None and "no longer holds its lease" in result.error.message


def test_a_replacement_zygote_outlives_the_thread_that_asked_for_it() -> None:
    from sluicegate.service.server import start_zygote

    forker = start_zygote()
    try:
        first = forker.current.process
        first.kill()
        first.wait(10)

        def one_run() -> None:   # a request thread, gone as soon as it is answered
            channel, pid = forker.spawn({"source": "return 1;", "inputs": {},
                                         "limits": PROFILES["function"]})
            channel.close()
            forker.reap(pid, kill=True)
        asker = threading.Thread(target=one_run)
        asker.start()
        asker.join(30)
        task = f"/proc/self/task/{asker.native_id}"
        wait_until(lambda: not os.path.exists(task), 10, "the asking thread to end")
        replacement = forker.current.process
        assert replacement is not first and forker.restarts == 1
        # a parent-death signal tied to the asking thread would have killed it by now
        assert replacement.poll() is None and alive(replacement.pid)
        channel, pid = forker.spawn({"source": "return 2;", "inputs": {},
                                     "limits": PROFILES["function"]})
        channel.close()
        forker.reap(pid, kill=True)
    finally:
        forker.close()
