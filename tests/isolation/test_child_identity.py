"""Issue 11 point 8: children start with an empty environment in every mode, also as
/proc/PID/environ shows it (the block a process image started with, not os.environ), and
as root they run under a dedicated unprivileged uid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sluice_testdb import wait_until
from sluicegate.isolation import IsolatedExecutor, ZygoteForker
from sluicegate.isolation.identity import Identity, child_identity
from sluicegate.limits import Limits

KEY = "master-key-that-must-not-show-7a1c"
AS_ROOT = os.geteuid() == 0
_DEEP_LOOP = ("x = 0;\n" + "".join(f"for each v{i} in {{1,2,3,4,5,6,7,8,9,10}} {{ "
                                   for i in range(9)) + "x = x + 1;" + " }" * 9)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _environ(pid: int) -> bytes:
    return Path(f"/proc/{pid}/environ").read_bytes()


def _uids(pid: int) -> list[int]:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return [int(x) for x in line.split()[1:]]
    raise AssertionError("no Uid line")


def test_the_zygote_and_its_children_start_with_an_empty_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_MASTER_KEY", KEY)
    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))
    forker = ZygoteForker()
    try:
        zygote = forker.process.pid
        wait_until(lambda: len(_children(zygote)) >= 1, 30, "the zygote's spare children")
        assert _environ(zygote).strip(b"\0") == b""
        for child in _children(zygote):
            assert _environ(child).strip(b"\0") == b""
            if AS_ROOT:
                assert _uids(child) == [65532] * 4, "children switch to the dedicated uid"
        # and runs still work under that uid, built-ins loaded lazily included
        result = IsolatedExecutor(forker=forker).execute(
            'info "a".toUpperCase(); info zoho.encryption.base64Decode("aGk=", "UTF-16LE");'
            ' info "2024-03-01".toDate("yyyy-MM-dd");'
            ' try { x = "a".toUpercase(); } catch (e) { info e.message; }', {}, Limits())
        assert result.ok, result.error
        assert result.logs[0] == "A"
    finally:
        forker.close()


_DIRECT = """
import json, os, sys
from sluicegate.isolation import DirectForker, preload
from sluicegate.isolation import protocol
from sluicegate.limits import Limits
preload()
forker = DirectForker()
channel, pid = forker.spawn({"source": 'r = getUrl("https://example.com/");', "inputs": {},
                             "limits": Limits(), "entry": None, "filename": "x.dg",
                             "timezone": None, "system": {}})
protocol.receive(channel)  # the child asks for its request: it is locked down by now
with open(f"/proc/{pid}/environ", "rb") as f:
    environ = f.read()
with open(f"/proc/{pid}/status") as f:
    uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
forker.reap(pid, kill=True)
print(json.dumps({"environ": environ.strip(b"\\0").decode("latin-1"), "uids": uids,
                  "key_in_parent": os.environ.get("SLUICE_MASTER_KEY") is not None}))
"""


def test_a_child_forked_from_a_process_started_with_the_key_does_not_show_it() -> None:
    """DirectForker forks its caller: the child inherits the caller's initial environment
    block and overwrites it, so /proc/PID/environ shows nothing."""
    env = {**os.environ, "SLUICE_MASTER_KEY": KEY}
    done = subprocess.run([sys.executable, "-c", _DIRECT], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["key_in_parent"] is True
    assert report["environ"] == ""
    if AS_ROOT:
        assert report["uids"] == ["65532"] * 4


def test_sluice_run_isolated_children_never_show_the_master_key(tmp_path: Path) -> None:
    script = tmp_path / "busy.dg"
    script.write_text(_DEEP_LOOP)
    env = {**os.environ, "SLUICE_MASTER_KEY": KEY, "SLUICE_HOME": str(tmp_path / "home")}
    env.pop("SLUICE_DATABASE_URL", None)
    sluice = os.path.join(os.path.dirname(sys.executable), "sluice")
    proc = subprocess.Popen([sluice, "run", "--isolated", "--json", "--timeout", "20",
                             "--max-statements", "2000000000", str(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    seen: dict[int, bytes] = {}
    try:
        def running_child() -> bool:
            for zygote in _children(proc.pid):
                for child in _children(zygote):
                    try:
                        seen[child] = _environ(child)
                        seen[zygote] = _environ(zygote)
                    except OSError:
                        continue
            return len(seen) >= 2
        wait_until(running_child, 30, "the isolated run's child")
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    for pid, environ in seen.items():
        assert KEY.encode() not in environ and environ.strip(b"\0") == b"", pid
    assert _environ(os.getpid()) is not None  # reading environ works here at all


def test_the_isolation_user_is_configurable_and_never_root(
        monkeypatch: pytest.MonkeyPatch) -> None:
    if not AS_ROOT:
        assert child_identity() is None  # nothing to switch from
        return
    monkeypatch.setenv("SLUICE_ISOLATION_USER", "70000:70001")
    assert child_identity() == Identity(70000, 70001)
    monkeypatch.setenv("SLUICE_ISOLATION_USER", "none")
    assert child_identity() is None
    monkeypatch.setenv("SLUICE_ISOLATION_USER", "root")
    with pytest.raises(ValueError, match="SLUICE_ISOLATION_USER: children must not run as root"):
        child_identity()
    monkeypatch.setenv("SLUICE_ISOLATION_USER", "no-such-account-here")
    with pytest.raises(ValueError, match="no account named"):
        child_identity()


def test_sluice_run_refuses_an_unusable_isolation_user(tmp_path: Path) -> None:
    if not AS_ROOT:
        pytest.skip("only root switches users")
    script = tmp_path / "s.dg"
    script.write_text('info "x";')
    env = {**os.environ, "SLUICE_ISOLATION_USER": "0", "SLUICE_HOME": str(tmp_path / "h")}
    sluice = os.path.join(os.path.dirname(sys.executable), "sluice")
    done = subprocess.run([sluice, "run", "--isolated", str(script)], capture_output=True,
                          text=True, timeout=60, env=env)
    assert done.returncode == 2
    assert "SLUICE_ISOLATION_USER" in done.stderr and "Traceback" not in done.stderr
