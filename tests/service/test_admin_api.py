"""Administration over the API: connections (everything the CLI does, secrets only in
bodies and never in answers), a revoked API-key connection restored by a new secret,
tokens (created once-shown, listed, revoked), schedule updates; and `sluice scripts run
--record` keeping a record's decimals. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from servicelab import ServiceApi, serve_api
from sluicegate.cli import main
from sluicegate.connections.keycheck import node_keyring
from sluicegate.service.registry import ServiceRegistry
from sluicegate.store.db import make_engine

SECRET = "k3y-very-secret-value-0042"


Api = ServiceApi


@pytest.fixture
def api(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("SLUICE_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    engine = make_engine(db_url)
    registry = ServiceRegistry(engine, keyring=node_keyring(engine))
    try:
        with serve_api(db_url, node="admin-test", registry=registry) as served:
            yield served
    finally:
        registry.close()
        engine.dispose()


def test_connections_are_administered_over_the_api_without_showing_a_secret(api: Api) -> None:
    c, admin = api.client, api.admin
    body = {"link": "crm", "auth": "api_key", "secret": SECRET, "param_name": "X-Api-Key",
            "base_urls": [f"{c.base_url}/nothing-here/"]}  # the console answers at /
    assert c.post("/api/v1/connections", headers=api.runner, json=body).status_code == 403
    created = c.post("/api/v1/connections", headers=admin, json=body)
    assert created.status_code == 201 and created.json()["status"] == "connected"
    bad = c.post("/api/v1/connections", headers=admin, json={**body, "link": "Bad Name"})
    assert bad.status_code == 422 and "link" in bad.json()["error"]["message"]
    tested = c.post("/api/v1/connections/crm/test", headers=admin).json()
    assert tested["status"] == 404 and tested["ok"] is False        # signed, answered
    changed = c.patch("/api/v1/connections/crm", headers=admin,
                      json={"display_name": "CRM", "param_name": "X-Key"})
    assert changed.status_code == 200 and changed.json()["display_name"] == "CRM"
    # revoked, then restored by a new key (no delete and re-add)
    revoked = c.post("/api/v1/connections/crm/revoke", headers=admin).json()
    assert revoked["status"] == "revoked"
    restored = c.patch("/api/v1/connections/crm", headers=admin,
                       json={"secret": SECRET + "-new"}).json()
    assert restored["status"] == "connected"
    audit = c.get("/api/v1/connections/crm/audit", headers=admin).json()["audit"]
    assert [e["action"] for e in audit] == ["add", "update", "revoke", "update"]
    assert audit[-1]["changes"]["status"] == ["revoked", "connected"]
    everything = json.dumps([created.json(), changed.json(), revoked, restored, audit,
                             c.get("/api/v1/connections", headers=admin).json()])
    assert SECRET not in everything
    assert c.delete("/api/v1/connections/crm", headers=admin).status_code == 204
    assert c.get("/api/v1/connections/crm", headers=admin).status_code == 404


def test_a_revoked_basic_connection_is_restored_by_the_cli_with_a_new_password(
        db_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SLUICE_DATABASE_URL", db_url)
    monkeypatch.setenv("PW", SECRET)
    assert main(["connections", "add", "legacy", "--auth", "basic", "--username", "ops",
                 "--base-url", "https://legacy.example.com/", "--secret-env", "PW"]) == 0
    assert main(["connections", "revoke", "legacy"]) == 0
    monkeypatch.setenv("PW", SECRET + "-2")
    assert main(["connections", "update", "legacy", "--secret-env", "PW"]) == 0
    out = capsys.readouterr().out
    assert "(connected," in out.splitlines()[-1] and SECRET not in out


def test_tokens_are_created_once_shown_listed_and_revoked_over_the_api(api: Api) -> None:
    c = api.client
    assert c.post("/api/v1/tokens", headers=api.runner, json={"role": "admin"}
                  ).status_code == 403
    made = c.post("/api/v1/tokens", headers=api.admin, json={"role": "runner", "name": "ci"})
    assert made.status_code == 201
    secret = made.json()["token"]
    listed = c.get("/api/v1/tokens", headers=api.admin).text
    assert secret not in listed and made.json()["prefix"] in listed
    assert c.get("/api/v1/runs", headers={"Authorization": f"Bearer {secret}"}
                 ).status_code == 200
    assert c.post(f"/api/v1/tokens/{made.json()['id']}/revoke", headers=api.admin
                  ).json()["revoked_at"] is not None
    assert c.get("/api/v1/runs", headers={"Authorization": f"Bearer {secret}"}
                 ).status_code == 401
    bad = c.post("/api/v1/tokens", headers=api.admin, json={"role": "root"})
    assert bad.status_code == 422 and "role" in bad.json()["error"]["message"]


def test_schedules_are_updated_over_the_api(api: Api) -> None:
    api.triggers.catalog.save("tick", "return 1;", kind="schedule")
    api.triggers.schedules.add({"name": "nightly", "script": "tick",
                                "recurrence": {"kind": "daily"}, "start": "2099-01-01T02:30",
                                "timezone": "Europe/Berlin"})
    changed = api.client.patch("/api/v1/schedules/nightly", headers=api.admin,
                               json={"start": "2099-01-01T04:00", "retries": 2,
                                     "inputs": {"dry_run": True}})
    assert changed.status_code == 200
    data = changed.json()
    assert data["next_runs"][0].startswith("2099-01-01T03:00:00")       # 04:00 Berlin
    assert (data["retries"], data["inputs"], data["timezone"]) == (2, {"dry_run": True},
                                                                    "Europe/Berlin")
    assert api.client.patch("/api/v1/schedules/nightly", headers=api.admin,
                            json={"name": "other"}).status_code == 422
    assert api.client.patch("/api/v1/schedules/nightly", headers=api.runner,
                            json={"retries": 1}).status_code == 403
    assert api.client.patch("/api/v1/schedules/nope", headers=api.admin,
                            json={"retries": 1}).status_code == 404


def test_scripts_run_record_keeps_decimals(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    monkeypatch.setenv("SLUICE_DATABASE_URL", db_url)
    script = tmp_path / "fee.dg"
    script.write_text('map button.fee(Map invoice)\n{\n    return {"code": 0, "message": '
                      '"balance " + invoice.get("balance")};\n}\n')
    assert main(["scripts", "add", "fee", str(script), "--kind", "button", "--module",
                 "invoices"]) == 0
    capsys.readouterr()
    assert main(["scripts", "run", "fee", "--record", '{"balance": 12.50}', "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["message"] == "balance 12.50"
