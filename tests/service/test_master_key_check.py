"""One key for all nodes: the database remembers which master key sealed its secrets, and
a node or command with another key (or none) refuses with a message naming
SLUICE_MASTER_KEY and exit 2, before it can read a secret or seal one nobody else opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sluicegate.cli import main
from sluicegate.connections.keycheck import KeyMismatch, require_node_key, sealed_with
from sluicegate.connections.keyring import Keyring, generate_key
from sluicegate.connections.registry import Registry
from sluicegate.store.db import make_engine, session_factory
from sluicegate.store.migrate import upgrade


def _registry(url: str, key: str) -> Registry:
    engine = make_engine(url)
    upgrade(engine)
    return Registry(engine, Keyring.from_texts([key]), owns_engine=True)


def test_the_first_key_is_recorded_and_another_key_is_refused(db_url: str) -> None:
    first, other = generate_key(), generate_key()
    registry = _registry(db_url, first)
    registry.add("crm", "api_key", base_urls=["https://api.example.com"], secret="k-12345678")
    registry.close()
    with pytest.raises(KeyMismatch) as refused:
        _registry(db_url, other)
    message = str(refused.value)
    assert "SLUICE_MASTER_KEY" in message
    assert first not in message and other not in message
    _registry(db_url, first).close()   # the right key still opens it


def test_a_rotated_database_records_the_new_key(db_url: str) -> None:
    old, new = generate_key(), generate_key()
    registry = _registry(db_url, old)
    registry.add("crm", "api_key", base_urls=["https://api.example.com"], secret="k-12345678")
    registry._keyring = Keyring.from_texts([new, old])   # SLUICE_MASTER_KEY="new,old"
    registry.rotate_master_key(actor="tests")
    registry.close()
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        assert sealed_with(s) == Keyring.from_texts([new]).primary_id
    engine.dispose()
    with pytest.raises(KeyMismatch):
        _registry(db_url, old)
    _registry(db_url, new).close()


def test_a_database_from_before_the_record_is_read_from_its_ciphertexts(db_url: str) -> None:
    key, other = generate_key(), generate_key()
    registry = _registry(db_url, key)
    registry.add("crm", "api_key", base_urls=["https://api.example.com"], secret="k-12345678")
    registry.close()
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM master_key")
    engine.dispose()
    with pytest.raises(KeyMismatch):
        _registry(db_url, other)


def test_a_node_without_a_key_does_not_make_one_when_the_database_has_secrets(
        db_url: str, sluice_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _registry(db_url, generate_key())
    registry.add("crm", "api_key", base_urls=["https://api.example.com"], secret="k-12345678")
    registry.close()
    engine = make_engine(db_url)
    with pytest.raises(Exception, match="SLUICE_MASTER_KEY"):
        require_node_key(engine)
    engine.dispose()
    assert not (sluice_home / "master.key").exists()


def test_an_empty_database_needs_no_key_at_start(db_url: str, sluice_home: Path) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    assert require_node_key(engine) is None
    engine.dispose()
    assert not (sluice_home / "master.key").exists()


def _sluice(*argv: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sluicegate.cli", *argv], env=env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_every_command_with_the_wrong_key_exits_2_naming_the_variable(
        db_url: str, tmp_path: Path) -> None:
    right, wrong = generate_key(), generate_key()
    base = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    env = {**base, "SLUICE_DATABASE_URL": db_url, "SLUICE_HOME": str(tmp_path / "a"),
           "SLUICE_MASTER_KEY": right, "SLUICE_ALLOW_PRIVATE_HOSTS": "127.0.0.1"}
    added = _sluice("connections", "add", "crm", "--auth", "api_key", "--base-url",
                    "http://127.0.0.1:9/", "--secret-stdin", env=env, stdin="k-12345678\n")
    assert added.returncode == 0, added.stderr
    script = tmp_path / "call.dg"
    script.write_text('r = invokeurl [ url: "/x" type: GET connection: "crm" ];\nreturn 1;\n')
    # a second node with its own SLUICE_HOME and no key, or with another key
    for key in (None, wrong):
        other = {**env, "SLUICE_HOME": str(tmp_path / "b")}
        other.pop("SLUICE_MASTER_KEY")
        if key:
            other["SLUICE_MASTER_KEY"] = key
        for argv in (["worker", "--in-process"], ["connections", "list"],
                     ["connections", "test", "crm"], ["run", str(script)],
                     ["run", "--isolated", str(script)]):
            done = _sluice(*argv, env=other)
            assert done.returncode == 2, (argv, done.stdout, done.stderr)
            assert "SLUICE_MASTER_KEY" in done.stderr, (argv, done.stderr)
            assert "Traceback" not in done.stderr
            for secret in (right, wrong, "k-12345678"):
                assert secret not in done.stderr + done.stdout
        assert not (tmp_path / "b" / "master.key").exists()


def test_the_cli_refuses_in_process_too(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    registry = _registry(db_url, generate_key())
    registry.add("crm", "api_key", base_urls=["https://api.example.com"], secret="k-12345678")
    registry.close()
    monkeypatch.setenv("SLUICE_DATABASE_URL", db_url)
    monkeypatch.setenv("SLUICE_MASTER_KEY", generate_key())
    assert main(["connections", "list"]) == 2
    assert "SLUICE_MASTER_KEY" in capsys.readouterr().err
