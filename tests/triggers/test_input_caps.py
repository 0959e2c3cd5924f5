"""Issue 15 point 5: what a run record keeps of the run's inputs is capped (1 MB of JSON by
default, `SLUICE_RUN_INPUT_BYTES`), a cut record says so with the full size, and a run
whose inputs were cut is not replayed with inputs it did not run with."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sluicegate.http.broker import Broker
from sluicegate.store.db import make_engine
from sluicegate.triggers import Actor, open_triggers
from sluicegate.triggers.errors import InvalidField
from sluicegate.triggers.history import cap_inputs, input_cap_from_environment
from sluicegate.triggers.queue import RunQueue
from sluicegate.triggers.setup import Triggers
from sqlalchemy import text

ME = Actor.named("ada", "42")
NINE_MB = 9 * 1024 * 1024


def _stored_inputs_bytes(triggers: Triggers, run_id: int) -> int:
    with triggers.sessions() as s:
        stored = s.execute(text("select inputs from runs where id = :id"),
                           {"id": run_id}).scalar()
    return len(stored.encode())


def test_a_9_mb_input_is_stored_under_the_cap_and_marked_as_cut(triggers: Triggers) -> None:
    triggers.catalog.save("size", "return payload.length() + amount;", kind="function")
    out = triggers.launcher.execute_function("size", {"payload": "p" * NINE_MB, "amount": 3},
                                             actor=ME)
    assert out.result.ok and out.result.value == NINE_MB + 3   # the run had all of it
    record = triggers.history.get(out.run_id)
    assert record.inputs_truncated["bytes"] > NINE_MB
    assert record.inputs_truncated["cap"] == 1024 * 1024
    assert _stored_inputs_bytes(triggers, out.run_id) <= 1024 * 1024
    assert record.inputs["payload"].endswith(f"… [cut: {NINE_MB:,} bytes]")
    assert record.inputs["amount"] == 3
    data = record.to_json()
    assert data["inputs_truncated"] == record.inputs_truncated
    assert "inputs_truncated" not in data["stats"]
    with triggers.sessions() as s:   # the whole row, every column, stays small
        row = s.execute(text("select * from runs where id = :id"), {"id": out.run_id}).one()
    assert sum(len(str(v)) for v in row) < 1024 * 1024 + 8 * 1024


def test_a_run_whose_inputs_were_cut_is_not_replayed(triggers: Triggers) -> None:
    triggers.catalog.save("size", "return payload.length();", kind="function")
    out = triggers.launcher.execute_function("size", {"payload": "p" * NINE_MB}, actor=ME)
    with pytest.raises(InvalidField) as refused:
        triggers.launcher.replay(out.run_id, actor=ME)
    assert refused.value.field == "inputs"
    assert f"run {out.run_id} cannot be replayed: its inputs were cut" in str(refused.value)
    assert "SLUICE_RUN_INPUT_BYTES" in str(refused.value)
    assert len(triggers.history.list()) == 1          # nothing ran


def test_a_run_under_the_cap_keeps_its_inputs_whole_and_replays(triggers: Triggers) -> None:
    triggers.catalog.save("size", "return payload.length() + amount;", kind="function")
    payload = "q" * 500_000
    out = triggers.launcher.execute_function("size", {"payload": payload, "amount": 1},
                                             actor=ME)
    record = triggers.history.get(out.run_id)
    assert record.inputs_truncated is None and record.to_json()["inputs_truncated"] is None
    assert record.inputs["payload"] == payload
    again = triggers.launcher.replay(out.run_id, actor=ME)
    assert again.result.value == 500_001
    assert triggers.history.get(again.run_id).replay_of == out.run_id


def test_the_input_cap_is_a_setting(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert input_cap_from_environment() == 1024 * 1024
    monkeypatch.setenv("SLUICE_RUN_INPUT_BYTES", "12")
    with pytest.raises(InvalidField, match="SLUICE_RUN_INPUT_BYTES"):
        input_cap_from_environment()
    monkeypatch.setenv("SLUICE_RUN_INPUT_BYTES", "4096")
    engine = make_engine(db_url)
    try:
        triggers = open_triggers(engine, migrate=False, node="cap-test")
        assert triggers.history.max_input_bytes == 4096
        triggers.catalog.save("size", "return payload.length();", kind="function")
        small = triggers.launcher.execute_function("size", {"payload": "s" * 3000}, actor=ME)
        big = triggers.launcher.execute_function("size", {"payload": "b" * 5000}, actor=ME)
        assert triggers.history.get(small.run_id).inputs_truncated is None
        cut = triggers.history.get(big.run_id)
        # the full inputs: the payload and the defaults every function gets (organization,
        # user)
        assert cut.inputs_truncated["cap"] == 4096
        assert 5000 < cut.inputs_truncated["bytes"] < 6000
        assert _stored_inputs_bytes(triggers, big.run_id) <= 4096
        with pytest.raises(InvalidField, match="cap of 4,096 bytes"):
            triggers.launcher.replay(big.run_id, actor=ME)
    finally:
        engine.dispose()


def test_cut_inputs_keep_the_keys_in_order_with_notes_where_values_do_not_fit() -> None:
    inputs = {"id": 7, "big": list(range(2000)), "name": "x" * 3000, "tail": True}
    kept, marker = cap_inputs(inputs, 2048)
    assert marker is not None and marker["cap"] == 2048 and "keys_left_out" not in marker
    assert list(kept) == ["id", "big", "name", "tail"]
    assert kept["id"] == 7 and kept["tail"] is True
    assert kept["big"].startswith("[not stored: ") and kept["big"].endswith(" bytes of JSON]")
    assert kept["name"].endswith("… [cut: 3,000 bytes]")
    many = {f"k{i}": "v" * 50 for i in range(1000)}
    kept, marker = cap_inputs(many, 1024)
    assert marker["keys_left_out"] == 1000 - len(kept) and len(kept) > 5
    assert cap_inputs({"a": 1}, 1024) == ({"a": 1}, None)


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with a 3 MB body after reading the request's."""

    def do_POST(self) -> None:  # noqa: N802 (the handler's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"r" * (3 * 1024 * 1024)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/echo"
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_http_request_and_response_bodies_are_not_stored_in_the_record(
        db_url: str, echo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    engine = make_engine(db_url)
    broker = Broker()
    try:
        _post_big_bodies(open_triggers(engine, migrate=False, broker=broker, node="t"), echo)
    finally:
        broker.close()
        engine.dispose()


def _post_big_bodies(triggers: Triggers, echo: str) -> None:
    triggers.catalog.save("post", f'r = invokeurl [ url: "{echo}" type: POST '
                                  'parameters: big ]; return r.length();',
                          kind="function")
    out = triggers.launcher.execute_function("post", {"big": "b" * 600_000}, actor=ME)
    assert out.result.ok, out.result.error
    assert out.result.value == 3 * 1024 * 1024
    record = triggers.history.get(out.run_id)
    assert len(record.http) == 1
    assert set(record.http[0]) <= {"method", "url", "status", "ms", "connection",
                                   "token_generation", "error"}
    with triggers.sessions() as s:
        row = s.execute(text("select http, logs, mail, error, stats from runs "
                             "where id = :id"), {"id": out.run_id}).one()
    assert sum(len(v or "") for v in row) < 20_000     # neither body


def test_a_queued_run_shows_cut_inputs_at_once_and_runs_with_all_of_them(
        triggers: Triggers) -> None:
    triggers.catalog.save("size", "return payload.length();", kind="function")
    live, inputs = triggers.launcher.prepare_function("size", {"payload": "z" * 2_000_000},
                                                      actor=ME)
    queue = RunQueue(triggers.sessions, triggers.launcher, clock=triggers.clock)
    run_id = queue.enqueue(live, inputs, trigger="function", actor=ME)
    queued = triggers.history.get(run_id)
    assert queued.status == "queued" and queued.inputs_truncated["cap"] == 1024 * 1024
    assert _stored_inputs_bytes(triggers, run_id) <= 1024 * 1024
    assert queue.run_due() == 1
    done = triggers.history.get(run_id)
    assert (done.status, done.return_value) == ("success", 2_000_000)
    assert done.inputs_truncated["bytes"] > 2_000_000
    with pytest.raises(InvalidField, match="cannot be replayed"):
        triggers.launcher.replay(run_id, actor=ME)
