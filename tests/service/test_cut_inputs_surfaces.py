"""A run whose inputs were cut when stored (issue 15 point 5), as the HTTP API and the
command line show it: the run JSON's `inputs_truncated`, `sluice runs show`, and a replay
refused with the field named (422; exit 2) while a whole run still replays."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from servicelab import serve_api
from sluicegate.triggers.setup import Triggers
from sluicegate.store.db import make_engine
from sluicegate.triggers import Actor, open_triggers

ME = Actor.named("ada", "42")
NINE_MB = 9 * 1024 * 1024


@pytest.fixture
def served(db_url: str) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    def scripts(triggers: Triggers) -> None:
        triggers.catalog.save("size", "return payload.length();", kind="function")

    with serve_api(db_url, node="api-test", prepare=scripts, timeout=120) as api:
        yield api.client, api.admin


def test_the_api_marks_cut_inputs_and_refuses_their_replay(
        served: tuple[httpx.Client, dict[str, str]]) -> None:
    client, admin = served
    big = client.post("/api/v1/functions/size/execute", headers=admin,
                      json={"inputs": {"payload": "p" * NINE_MB}})
    assert big.status_code == 200 and big.json()["return"] == NINE_MB
    run = client.get(f"/api/v1/runs/{big.json()['run_id']}", headers=admin)
    assert len(run.content) < 1024 * 1024 + 16 * 1024
    data = run.json()
    assert data["inputs_truncated"]["cap"] == 1024 * 1024
    assert data["inputs_truncated"]["bytes"] > NINE_MB
    assert data["inputs"]["payload"].endswith(f"… [cut: {NINE_MB:,} bytes]")
    refused = client.post(f"/api/v1/runs/{data['run_id']}/replay", headers=admin, json={})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["field"] == "inputs" and "cannot be replayed" in error["reason"]
    small = client.post("/api/v1/functions/size/execute", headers=admin,
                        json={"inputs": {"payload": "abc"}}).json()
    assert client.get(f"/api/v1/runs/{small['run_id']}",
                      headers=admin).json()["inputs_truncated"] is None
    again = client.post(f"/api/v1/runs/{small['run_id']}/replay", headers=admin, json={})
    assert again.status_code == 200 and again.json()["return"] == 3


def test_the_command_line_shows_cut_inputs_and_refuses_their_replay(
        db_url: str, monkeypatch: pytest.MonkeyPatch, sluice) -> None:
    monkeypatch.setenv("SLUICE_RUN_INPUT_BYTES", "2048")
    engine = make_engine(db_url)
    triggers = open_triggers(engine, migrate=False, node="cli-test")
    triggers.catalog.save("size", "return payload.length();", kind="function")
    cut = triggers.launcher.execute_function("size", {"payload": "p" * 5000}, actor=ME)
    whole = triggers.launcher.execute_function("size", {"payload": "p" * 50}, actor=ME)
    engine.dispose()

    code, out, _ = sluice("runs", "show", str(cut.run_id))
    assert code == 0
    assert "(inputs cut when stored: 5," in out and "over the cap of 2,048 " \
        "(SLUICE_RUN_INPUT_BYTES); this run cannot be replayed)" in out
    code, out, _ = sluice("runs", "show", str(cut.run_id), "--json")
    assert '"inputs_truncated":{"bytes":5' in out
    code, out, err = sluice("runs", "replay", str(cut.run_id))
    assert code == 2 and out == ""
    assert f"inputs: run {cut.run_id} cannot be replayed: its inputs were cut" in err
    assert "Traceback" not in err
    code, out, err = sluice("runs", "replay", str(whole.run_id))
    assert (code, out) == (0, "return: 50\n"), err
    assert "SLUICE_RUN_INPUT_BYTES" in sluice("runs", "replay", "--help")[1]
