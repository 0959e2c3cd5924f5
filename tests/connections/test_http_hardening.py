"""Issue 11, HTTP side: framing and destination headers are the runtime's alone, kept-alive
connections are never shared between credentials, echoed secrets are redacted in every
encoding a server plausibly produces, and a script cannot force token refreshes."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from connlab import (
    REFLECTIONS,
    Clock,
    LabServer,
    Leaks,
    Runner,
    add_oauth2,
    authorize,
    dump_database,
    reflect,
)
from sluicegate.connections.registry import Registry
from sluicegate.engine import Runtime
from sluicegate.examples.provider import LocalProvider
from sluicegate.http.broker import Broker
from sluicegate.http.guard import HostPolicy
from sluicegate.http.redaction import scrub_bytes, scrub_text
from sluicegate.store.db import make_engine
from sluicegate.triggers.history import RunHistory
from sqlalchemy.orm import sessionmaker

# Every character the encoders treat specially, and bytes whose base64 holds + and /.
KEY_BODY = "k=ab/c+d&e<f>g'h ??>>>~%_"


@pytest.fixture
def key(leaks: Leaks) -> str:
    import secrets
    return leaks.secret(KEY_BODY + secrets.token_urlsafe(12))


@pytest.fixture
def lab_link(registry: Registry, lab: LabServer, key: str) -> str:
    registry.add("k", "api_key", base_urls=[lab.url + "/"], secret=key, param_type="header",
                 param_name="X-Api-Key")
    return "k"


@pytest.fixture
def lab_run(registry: Registry, leaks: Leaks) -> Iterator[Runner]:
    """Plain requests may reach the loopback lab too (for the legacy forms)."""
    broker = Broker(registry, policy=HostPolicy.parse("127.0.0.1"))
    yield Runner(broker, leaks)
    broker.close()


# ---- framing and destination headers ------------------------------------------------------
FRAMING = ["Content-Length", "transfer-encoding", "CONNECTION", "Host", "Upgrade", "TE",
           "Trailer", "Keep-Alive", "Proxy-Authorization", "proxy-connection"]


@pytest.mark.parametrize("name", FRAMING)
def test_scripts_cannot_set_framing_or_destination_headers(
        lab: LabServer, lab_link: str, lab_run: Runner, name: str) -> None:
    result = lab_run(f'''
        r = invokeurl [ url: "{lab.url}/echo" type: POST body: "hello"
                        headers: {{"{name}": "5"}} connection: "k" ];
        return r;''')
    assert result.error is not None and result.error.type == "RuntimeError"
    assert f"Header '{name}' cannot be set by a script" in result.error.message
    assert lab.requests == []  # nothing was sent
    assert result.http and "cannot be set" in result.http[0]["error"]


def test_the_refusal_is_catchable_and_covers_the_legacy_forms(
        lab: LabServer, lab_run: Runner) -> None:
    result = lab_run(f'''
        out = List();
        try {{ getUrl("{lab.url}/echo", {{"Host": "attacker.example"}}); }}
        catch (e) {{ out.add(e.message); }}
        try {{ postUrl("{lab.url}/echo", "x", {{"Transfer-Encoding": "chunked"}}); }}
        catch (e) {{ out.add(e.message); }}
        try {{ invokeUrl("{lab.url}/echo", "PUT", "x", {{"Content-Length": "0"}}); }}
        catch (e) {{ out.add(e.message); }}
        return out;''')
    assert result.ok, result.error
    assert [m.split("'")[1] for m in result.value] == ["Host", "Transfer-Encoding",
                                                      "Content-Length"]
    assert lab.requests == []


def test_a_content_length_that_does_not_match_keeps_the_run_and_its_http_log(
        lab: LabServer, lab_run: Runner) -> None:
    result = lab_run(f'''
        info "before";
        r = invokeurl [ url: "{lab.url}/echo" type: POST body: "hello"
                        headers: {{"Content-Length": "100"}} ];''')
    assert result.error is not None and result.error.type == "RuntimeError", result.error
    assert result.logs == ["before"]
    assert len(result.http) == 1 and "Content-Length" in result.http[0]["error"]


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\x00b", "a\x0bb", "a\x7fb", "a\x1bb"])
def test_header_values_with_control_characters_are_refused(
        lab: LabServer, lab_run: Runner, value: str) -> None:
    result = lab_run(f'return invokeurl [ url: "{lab.url}/echo" type: GET '
                     f'headers: {{"X-A": {json.dumps(value)}}} ];')
    assert result.error is not None and result.error.type == "RuntimeError"
    assert "Header 'X-A' contains" in result.error.message
    assert lab.requests == []


def test_a_header_value_outside_ascii_is_sent_as_utf8(lab: LabServer, lab_run: Runner) -> None:
    result = lab_run(f'return invokeurl [ url: "{lab.url}/echo" type: GET '
                     f'headers: {{"X-Name": "José"}} ];')
    assert result.ok, result.error
    assert lab.requests[-1].headers["X-Name"].encode("latin-1").decode("utf-8") == "José"


def test_host_comes_from_the_url_on_signed_requests(lab: LabServer, lab_link: str,
                                                    lab_run: Runner) -> None:
    refused = lab_run(f'return invokeurl [ url: "{lab.url}/echo" type: GET '
                      f'headers: {{"host": "attacker.example"}} connection: "k" ];')
    assert refused.error is not None and "Header 'host'" in refused.error.message
    assert lab.requests == []
    sent = lab_run(f'return invokeurl [ url: "{lab.url}/echo" type: GET connection: "k" ];')
    assert sent.ok, sent.error
    assert lab.requests[-1].headers["Host"] == f"127.0.0.1:{lab.port}"


# ---- one keep-alive pool per credential ---------------------------------------------------
def test_kept_alive_connections_are_never_shared_between_credentials(
        registry: Registry, lab: LabServer, lab_link: str, lab_run: Runner) -> None:
    registry.add("other", "api_key", base_urls=[lab.url + "/"], secret="other-key-0123456789",
                 param_type="header", param_name="X-Api-Key")
    calls = tuple(f'invokeurl [ url: "{lab.url}/echo" type: GET connection: "{link}" ];'
                  for link in ("k", "other"))
    for source in (calls[0], calls[0], calls[1], calls[0]):
        assert lab_run(source).ok
    ports = [r.peer for r in lab.requests]
    assert ports[0] == ports[1] == ports[3], "one credential keeps its connection alive"
    assert ports[2] not in (ports[0],), "another credential never rides on it"
    plain = lab_run(f'invokeurl [ url: "{lab.url}/echo" type: GET ];')
    assert plain.ok and lab.requests[-1].peer not in (ports[0], ports[2])


# ---- echoed secrets -----------------------------------------------------------------------
def _forms(secret: str) -> list[str]:
    """What a script could read back if redaction failed."""
    raw = secret.encode()
    return [secret, quote(secret, safe=""), base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("="), json.dumps(secret)[1:-1]]


@pytest.mark.parametrize("how", REFLECTIONS)
def test_an_echoed_key_is_redacted_in_every_encoding(
        lab: LabServer, lab_link: str, lab_run: Runner, key: str, how: str) -> None:
    result = lab_run(f'''
        r = invokeurl [ url: "{lab.url}/reflect?how={how}" type: GET connection: "k"
                        detailed: true ];
        info r;
        throw r.get("responseText").toString();''')
    printed = result.to_json_text()
    sent, _ = reflect(key, how)
    assert sent.decode("latin-1") not in printed
    for form in _forms(key):
        assert form not in printed, (how, form)
    # (a UTF-16 body the script reads as UTF-8 shows the mark with NULs between)
    assert "[redacted]" in printed.replace("\\u0000", "")
    assert result.error is not None
    assert "[redacted]" in result.error.message.replace("\x00", "")


@pytest.mark.parametrize("how", ["raw", "url", "b64", "b64_inside", "gson", "utf16"])
def test_an_echoed_user_and_password_pair_is_redacted(
        registry: Registry, lab: LabServer, lab_run: Runner, how: str) -> None:
    registry.add("b", "basic", username=lab.username, base_urls=[lab.url + "/"],
                 secret=lab.password)
    result = lab_run(f'return invokeurl [ url: "{lab.url}/reflect?how={how}" type: GET '
                     f'connection: "b" ];')
    printed = result.to_json_text()
    pair = f"{lab.username}:{lab.password}"
    for form in _forms(pair) + _forms(lab.password):
        assert form not in printed, (how, form)
    assert "[redacted]" in printed


def test_a_secret_echoed_in_a_redirect_reaches_neither_the_trace_nor_the_stored_run(
        lab: LabServer, lab_link: str, lab_run: Runner, key: str, tmp_path: Path,
        migrated_template: Path) -> None:
    result = lab_run(f'''
        info "start";
        r = invokeurl [ url: "{lab.url}/reflect?how=b64url&redirect=1" type: GET
                        connection: "k" ];''')
    assert result.error is not None and "outside its base URL" in result.error.message
    db = tmp_path / "runs.db"
    shutil.copyfile(migrated_template, db)
    engine = make_engine(f"sqlite:///{db}")
    try:
        history = RunHistory(sessionmaker(engine))
        now = dt.datetime.now(dt.UTC)
        history.record(trigger="cli", script_id=None, script_name="s", script_version=None,
                       inputs={}, result=result, started_at=now, finished_at=now)
    finally:
        engine.dispose()
    stored = dump_database(f"sqlite:///{db}")
    assert "[redacted]" in stored
    for form in _forms(key):
        assert form not in stored and form not in result.to_json_text()


def test_bodies_without_a_secret_are_returned_untouched() -> None:
    secret = ("token-0123456789abcdef",)
    binary = bytes(range(256)) * 64 + b"\x00\x00%41&amp;\\u0041"
    assert scrub_bytes(binary, secret, "utf-16") == binary
    text = '{"a": "\\u00e9 &amp; %20 caf\u00e9", "b": "dG9rZW4t"}'
    assert scrub_text(text, secret) is text
    assert scrub_text("x" + secret[0][::-1], secret) == "x" + secret[0][::-1]


# ---- forced refreshes ---------------------------------------------------------------------
def _marker_loop(provider: LocalProvider, times: int = 10) -> str:
    """A run that makes the API echo the connection's refresh marker, over and over."""
    root = provider.api_base.split("/books/")[0]
    items = ", ".join(str(i) for i in range(times))
    return (f'for each i in {{{items}}} {{ r = invokeurl [ url: "{root}/echo'
            f'?m=PLEASE_REFRESH" type: GET connection: "zb" ]; }} return 1;')


def _marked(registry: Registry, provider: LocalProvider) -> None:
    root = provider.api_base.split("/books/")[0]
    add_oauth2(registry, provider, refresh_on_body=["PLEASE_REFRESH"], base_urls=[root + "/"])
    authorize(registry, provider)


def test_a_run_refreshes_a_connection_at_most_once_and_runs_at_most_once_per_interval(
        registry: Registry, provider: LocalProvider, clock: Clock, run: Runner) -> None:
    _marked(registry, provider)
    first = run(_marker_loop(provider))
    assert first.ok, first.error
    assert provider.counts["refresh_token"] == 1
    assert [e.get("refresh") for e in first.http] == (
        ["refreshed"] + ["not asked: once per run"] * 9)
    second = run(_marker_loop(provider))  # another run right after: the rate limit holds
    assert provider.counts["refresh_token"] == 1
    assert second.http[0]["refresh"] == "refused: refreshed too recently"
    clock.offset += registry.min_refresh_interval + 1
    run(_marker_loop(provider))
    assert provider.counts["refresh_token"] == 2


def test_the_refresh_rate_limit_is_shared_by_registries_on_one_database(
        registry: Registry, provider: LocalProvider, clock: Clock, db_url: str,
        keyring, leaks: Leaks) -> None:  # type: ignore[no-untyped-def]
    _marked(registry, provider)
    broker = Broker(registry, policy=HostPolicy())
    try:
        first = Runner(broker, leaks)(_marker_loop(provider, 2))
    finally:
        broker.close()
    assert first.http[0]["refresh"] == "refreshed"
    engine = make_engine(db_url)
    other = Registry(engine, keyring, clock=clock, actor="node-2")
    broker = Broker(other, policy=HostPolicy())
    try:
        result = Runner(broker, leaks)(_marker_loop(provider, 2))
    finally:
        broker.close()
        other.close()
        engine.dispose()
    assert result.http[0]["refresh"] == "refused: refreshed too recently"
    assert provider.counts["refresh_token"] == 1


def test_runs_with_one_credential_still_reuse_its_kept_alive_connection(
        lab: LabServer, lab_link: str, registry: Registry) -> None:
    """Two runtimes on one broker (the service's threads) with the same credential: the
    pool per credential still keeps its connection alive across runs."""
    broker = Broker(registry, policy=HostPolicy())
    try:
        for _ in range(2):
            assert Runtime(broker=broker).run(
                f'return invokeurl [ url: "{lab.url}/echo" type: GET connection: "k" ];',
                {}).ok
    finally:
        broker.close()
    assert lab.requests[0].peer == lab.requests[1].peer


def test_checking_a_response_for_secrets_has_a_bounded_cost() -> None:
    """Escapes of characters no secret holds are skipped at regex speed; a response made
    of escapes that could hide a secret is refused past the budget, never delivered
    unchecked."""
    import time

    from sluicegate.http.redaction import BUDGET, ScrubTimeout
    secrets = ("token-0123456789abcdef",)
    accents = b'{"name": "caf\\u00e9 \\u4e2d"}' * 200_000  # 6 MB of JSON escapes
    started = time.monotonic()
    assert scrub_bytes(accents, secrets) == accents
    assert time.monotonic() - started < BUDGET
    hostile = b"%41" * 5_000_000
    started = time.monotonic()
    with pytest.raises(ScrubTimeout):
        scrub_bytes(hostile, secrets)
    assert time.monotonic() - started < BUDGET + 1.5


def test_a_response_too_costly_to_check_is_a_runtime_error_not_a_leak(
        lab: LabServer, lab_link: str, lab_run: Runner, key: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sluicegate.http.redaction as redaction
    monkeypatch.setattr(redaction, "BUDGET", 0.0)
    result = lab_run(f'return invokeurl [ url: "{lab.url}/reflect?how=url_lower" type: GET '
                     f'connection: "k" ];')
    assert result.error is not None and result.error.type == "RuntimeError"
    assert "could not be checked for echoed credentials" in result.error.message
    for form in _forms(key):
        assert form not in result.to_json_text()


def test_a_failing_provider_is_asked_once_per_run_not_once_per_call(
        registry: Registry, provider: LocalProvider, run: Runner) -> None:
    _marked(registry, provider)
    provider.set_token_fault("server_error")
    asked = provider.counts["token_requests"]
    root = provider.api_base.split("/books/")[0]
    catching = (f'n = 0; for each i in {{1,2,3,4,5,6,7,8,9,10}} {{ try {{ r = invokeurl [ '
                f'url: "{root}/echo?m=PLEASE_REFRESH" type: GET connection: "zb" ]; }} '
                f'catch (e) {{ n = n + 1; }} }} return n;')
    first = run(catching)
    assert first.ok and first.value == 1, first.error  # the failed refresh, then answers
    assert provider.counts["token_requests"] == asked + 1
    assert [e.get("refresh") for e in first.http][:2] == ["failed", "not asked: once per run"]
    provider.set_token_fault(None)  # a failed refresh does not hold the next run back
    second = run(catching)
    assert second.value == 0 and second.http[0]["refresh"] == "refreshed"
    assert provider.counts["token_requests"] == asked + 2


@pytest.mark.parametrize("name", ["Host", "content-length", "Proxy-Authorization"])
def test_a_connection_cannot_be_told_to_sign_into_a_framing_header(
        registry: Registry, lab: LabServer, name: str) -> None:
    from sluicegate.connections.registry import RegistryError
    with pytest.raises(RegistryError) as info:
        registry.add("h", "api_key", base_urls=[lab.url + "/"], secret="key-0123456789",
                     param_type="header", param_name=name)
    assert info.value.field == "param-name" and "only the runtime sets it" in str(info.value)
