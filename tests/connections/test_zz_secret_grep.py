"""Last: the demo runs end to end, then every log record, run result, CLI output and
database row produced by the connection tests so far is searched for every secret they
handed out (client secrets, tokens, keys, passwords, master keys). None may appear."""

from __future__ import annotations

import io
import re

from sluicegate.demo import run_demo
from sluicegate.examples.provider import LocalProvider

from connlab import LabServer, Leaks, Runner, dump_database


def test_the_demo_runs_offline_and_shows_what_was_signed_without_tokens(
        leaks: Leaks) -> None:
    out = io.StringIO()
    assert run_demo(out) == 0, out.getvalue()
    text = out.getvalue()
    leaks.output(text)
    assert "Authorization: Zoho-oauthtoken <token>" in text
    assert "token generation 2" in text and "after one refresh and retry" in text
    assert "refused  GET https://collector.example.net/steal: nothing was sent" in text
    assert not re.search(r"sgat_|sgrt_|sgcs_", text)


def test_no_secret_appears_in_any_log_record_or_output(
        leaks: Leaks, registry, provider: LocalProvider, lab: LabServer, connected: str,  # type: ignore[no-untyped-def]
        run: Runner, clock, db_url: str) -> None:
    registry.add("k", "api_key", param_type="query", base_urls=[lab.url], secret=lab.api_key)
    run(f'return invokeurl [ url: "{lab.url}/echo" type: GET connection: "k" ];')
    clock.offset += 7200
    run(f'return invokeurl [ url: "{provider.api_base}/invoices" type: GET '
        f'connection: "zb" parameters: {{"organization_id": "1"}} ];')
    leaks.secrets.update(provider.state.access)
    leaks.secrets.update(provider.state.refresh)
    leaks.output(dump_database(db_url))
    outputs = "\n".join(leaks.outputs)
    secrets = {s for s in leaks.secrets if len(s) >= 8}
    assert len(secrets) >= 8 and len(outputs) > 10_000
    found = sorted(s[:6] + "..." for s in secrets if s in outputs)
    assert not found, f"secrets found in outputs: {found}"
