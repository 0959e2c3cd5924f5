"""`sluice demo`: the main job end to end, offline.

First the plain example scripts run in-process with their logs, mail and results. Then
the connection story: a local OAuth 2 provider and a Books-like API start on loopback
(sluicegate.examples.provider), a connection is created in a temporary database
(`$SLUICE_DATABASE_URL` when one is configured), authorized with PKCE and state, the
examples that name `connection: "zbooks"` list and update invoices through it, the token
expires (proactive refresh) and is then revoked by the provider (a 401, one refresh, one
retry), and every request is shown as it was signed, with the token replaced by
`<token>`. The demo checks its own output for the tokens the provider issued.
"""

from __future__ import annotations

__all__ = ["run_demo", "example_scripts"]

import io
import json
import os
import tempfile
import time
from decimal import Decimal
from importlib import resources
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from .engine import RunResult, Runtime
from .values import to_json_text

_LINK = "zbooks"


def example_scripts() -> list[tuple[str, str, dict[str, Any]]]:
    """(name, source, inputs) of every example shipped in sluicegate.examples."""
    folder = resources.files("sluicegate.examples")
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".dg"):
            continue
        inputs_file = folder / (entry.name[:-3] + ".json")
        inputs = (json.loads(inputs_file.read_text(encoding="utf-8"), parse_float=Decimal)
                  if inputs_file.is_file() else {})
        found.append((entry.name, entry.read_text(encoding="utf-8"), inputs))
    return found


def _report(out: TextIO, name: str, source: str, inputs: dict[str, Any],
            result: RunResult) -> bool:
    out.write(f"\n== {name}  (inputs: {', '.join(sorted(inputs)) or 'none'})\n")
    for line in result.logs:
        out.write(f"  info  {line}\n")
    for mail in result.mail:
        out.write(f"  mail  to {', '.join(mail['to'])}: {mail['subject']}\n")
    if result.ok:
        out.write(f"  => {to_json_text(result.to_json()['return'])}\n")
    else:
        assert result.error is not None
        out.write("  " + result.error.diagnostic(source).replace("\n", "\n  ") + "\n")
    stats = result.stats
    out.write(f"  ({stats['statements']} statements, {stats['duration_ms']} ms)\n")
    return result.ok


def run_demo(out: TextIO) -> int:
    failures = 0
    plain = [(n, s, i) for n, s, i in example_scripts() if "_demo" not in i]
    connected = [(n, s, {k: v for k, v in i.items() if k != "_demo"})
                 for n, s, i in sorted((e for e in example_scripts() if "_demo" in e[2]),
                                       key=lambda e: e[2]["_demo"].get("order", 0))]
    out.write("sluicegate demo: running the example scripts in-process, offline\n")
    runtime = Runtime()
    for name, source, inputs in plain:
        if not _report(out, name, source, inputs, runtime.run(source, inputs, filename=name)):
            failures += 1
    failures += _connections_demo(out, connected)
    out.write(f"\n{'all examples ran' if not failures else f'{failures} example(s) failed'}\n")
    from .testing.session import run_example_tests

    tests_failed = run_example_tests(out)
    return 0 if failures == 0 and not tests_failed else 1


class _Clock:
    """Wall time plus an offset the demo moves forward to let a token expire."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def _connections_demo(out: TextIO, scripts: list[tuple[str, str, dict[str, Any]]]) -> int:
    from .connections.keycheck import node_keyring
    from .connections.keyring import Keyring, generate_key
    from .connections.registry import Registry
    from .examples.provider import LocalProvider
    from .http.broker import Broker
    from .http.guard import HostPolicy
    from .store.db import make_engine
    from .store.migrate import upgrade

    buffer = io.StringIO()
    failures = 0
    clock = _Clock()
    configured = os.environ.get("SLUICE_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="sluice-demo-") as home, \
            LocalProvider(access_ttl=3600, clock=clock) as provider:
        engine = make_engine(configured or f"sqlite:///{home}/sluicegate.db")
        upgrade(engine)
        # a configured database holds the installation's secrets: the demo seals its
        # connection with the installation's key, as every node must
        keyring = node_keyring(engine) if configured else Keyring.from_texts([generate_key()])
        registry = Registry(engine, keyring, clock=clock, actor="demo")
        link = _LINK if not configured else f"{_LINK}_demo_{os.getpid()}"
        broker = Broker(registry, policy=HostPolicy.parse("127.0.0.1,::1,localhost"))
        try:
            failures = _story(buffer, provider, registry, broker, clock, link, scripts,
                              configured is not None)
        finally:
            if configured:
                registry.delete(link, actor="demo")
            broker.close()
            engine.dispose()
        issued = [t for bucket in (provider.state.access, provider.state.refresh)
                  for t in bucket] + [provider.client_secret]
    text = buffer.getvalue()
    leaked = [t for t in issued if t in text]
    if leaked:
        text = text.replace(leaked[0], "<token>")
        failures += 1
        text += "  !! a token appeared in the demo output\n"
    out.write(text)
    return failures


def _story(out: TextIO, provider: Any, registry: Any, broker: Any, clock: _Clock, link: str,
           scripts: list[tuple[str, str, dict[str, Any]]], renamed: bool) -> int:
    out.write(f"\n== connections: a local OAuth 2 provider and Books-like API on "
              f"{provider.url}\n")
    view = registry.add(link, "oauth2", secret=provider.client_secret,
                        display_name="Zoho Books (local demo)", client_id=provider.client_id,
                        authorize_url=provider.authorize_url, token_url=provider.token_url,
                        revoke_url=provider.revoke_url, base_urls=[provider.api_base],
                        scopes=["ZohoBooks.invoices.ALL", "ZohoBooks.settings.READ"],
                        scope_delimiter=",", header_format="Zoho-oauthtoken {token}",
                        authorize_params={"access_type": "offline", "prompt": "consent"})
    out.write(f"1. added connection '{link}': {view.auth_type}, bound to "
              f"{', '.join(view.base_urls)}, status {view.status}\n")
    start = registry.begin_authorization(link, "http://127.0.0.1:8787/oauth/callback")
    shown = dict(parse_qsl(urlsplit(start.url).query))
    out.write(f"2. authorization URL: {provider.authorize_url}?response_type=code"
              f"&scope={shown.get('scope')}&code_challenge_method=S256&state=...\n")
    callback = provider.approve(start.url)
    answer = dict(parse_qsl(urlsplit(callback).query))
    view = registry.complete_authorization(answer["state"], answer["code"])
    out.write(f"   the user consented; the callback's state matched and the code was "
              f"exchanged with the PKCE verifier: {view.status}, token generation "
              f"{view.token_generation}\n")
    header = f"Authorization: {view.params['header_format'].replace('{token}', '<token>')}"
    services = {"service_roots": {"books": provider.api_base}}
    runtime = Runtime(broker=broker, system=services)
    failures = 0
    for step, (name, source, inputs) in enumerate(scripts, start=3):
        if "books_api" in inputs:
            inputs = {**inputs, "books_api": provider.api_base}
        if renamed:
            source = source.replace(f'"{_LINK}"', f'"{link}"')
        out.write(f"{step}. run {name}\n")
        result = runtime.run(source, inputs, filename=name)
        failures += not _report(out, name, source, inputs, result)
        _signed(out, result, header)
    counts = provider.counts
    out.write(f"\n{len(scripts) + 3}. an hour passes: the access token expires\n")
    clock.offset += 3600
    name, source, inputs = scripts[0]
    source = source.replace(f'"{_LINK}"', f'"{link}"')
    result = runtime.run(source.replace(f'"{_LINK}"', f'"{link}"'), inputs, filename=name)
    failures += not result.ok
    out.write(f"   {name}: {'ok' if result.ok else 'failed'}; the registry refreshed before "
              f"sending (refreshes at the provider: {counts['refresh_token']} -> "
              f"{provider.counts['refresh_token']})\n")
    _signed(out, result, header)
    out.write(f"{len(scripts) + 4}. a minute later the provider invalidates every access "
              "token it issued\n")
    clock.offset += 60  # a rejection refreshes at most once per 30 s per connection
    provider.expire_access_tokens()
    result = runtime.run(source.replace(f'"{_LINK}"', f'"{link}"'), inputs, filename=name)
    failures += not result.ok
    out.write(f"   {name}: {'ok' if result.ok else 'failed'}; the API answered 401, the "
              f"registry refreshed once and the broker retried once (refreshes: "
              f"{provider.counts['refresh_token']})\n")
    _signed(out, result, header)
    out.write(f"{len(scripts) + 5}. audit trail of '{link}':\n")
    for record in registry.audit_log(link):
        out.write(f"   {record['at'][:19]}  {record['actor']:<15} {record['action']:<16} "
                  f"{json.dumps(record['changes'], sort_keys=True)[:90]}\n")
    return failures


def _signed(out: TextIO, result: RunResult, header: str) -> None:
    for call in result.http:
        if call.get("status") is None:
            out.write(f"   refused  {call['method']} {call['url']}: nothing was sent\n")
            continue
        retried = ", after one refresh and retry" if call.get("retried") else ""
        out.write(f"   signed   {call['method']} {call['url']} -> {call['status']} "
                  f"({call['ms']} ms) with '{header}', token generation "
                  f"{call['token_generation']}{retried}\n")
