"""Where requests may go: connection base URLs checked before signing, redirects kept
inside the base, private addresses refused for plain requests (after DNS, connecting to
the checked address), one deadline per call and a streamed size cap."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sluicegate.connections.registry import Registry
from sluicegate.engine import Runtime
from sluicegate.http.broker import Broker
from sluicegate.http.guard import Guard, HostPolicy
from sluicegate.limits import Limits

from connlab import LabServer, Runner


@pytest.fixture
def other(leaks) -> Iterator[LabServer]:  # type: ignore[no-untyped-def]
    server = LabServer(leaks).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def local_broker(registry: Registry) -> Iterator[Broker]:
    """Plain requests may reach loopback, as with SLUICE_ALLOW_PRIVATE_HOSTS=127.0.0.1."""
    b = Broker(registry, policy=HostPolicy.parse("127.0.0.1"))
    try:
        yield b
    finally:
        b.close()


def _basic(registry: Registry, lab: LabServer, base: str) -> None:
    registry.add("b", "basic", username=lab.username, base_urls=[base], secret=lab.password)


@pytest.mark.parametrize("target", [
    "{other}/basic/me", "{lab}/echo", "http://localhost:{port}/basic/me",
    "{lab}/basic/../echo", "{lab}/basic/%2e%2e/echo", "https://127.0.0.1:{port}/basic/me",
    "http://127.0.0.1:1/basic/me",
])
def test_connection_requests_outside_the_base_urls_are_refused_before_signing(
        registry: Registry, lab: LabServer, other: LabServer, run: Runner,
        target: str) -> None:
    _basic(registry, lab, lab.url + "/basic/")
    url = target.format(other=other.url, lab=lab.url, port=lab.port)
    result = run(f'invokeurl [ url: "{url}" type: GET connection: "b" ];')
    assert not result.ok
    assert "may only be used with" in result.error.message
    assert "nothing was sent" in result.error.message
    assert not lab.requests and not other.requests
    assert result.http[0]["status"] is None and "error" in result.http[0]


def test_the_refusal_is_catchable(registry: Registry, lab: LabServer, other: LabServer,
                                  run: Runner) -> None:
    _basic(registry, lab, lab.url + "/basic/")
    result = run(f'try {{ invokeurl [ url: "{other.url}/x" type: GET connection: "b" ]; }} '
                 f'catch (e) {{ return "caught"; }}')
    assert result.value == "caught"


def test_redirects_inside_the_base_are_followed_and_signed_again(
        registry: Registry, lab: LabServer, run: Runner) -> None:
    _basic(registry, lab, lab.url)
    result = run(f'return invokeurl [ url: "{lab.url}/redirect?to=/basic/me" type: GET '
                 f'connection: "b" ];')
    assert result.value == {"ok": True}
    assert [r.path for r in lab.requests] == ["/redirect?to=/basic/me", "/basic/me"]


def test_a_redirect_to_another_origin_is_refused_and_no_credential_travels(
        registry: Registry, lab: LabServer, other: LabServer, run: Runner) -> None:
    _basic(registry, lab, lab.url)
    for status in (301, 302, 303, 307, 308):
        result = run(f'invokeurl [ url: "{lab.url}/redirect?status={status}&to='
                     f'{other.url}/echo" type: GET connection: "b" ];')
        assert not result.ok
        assert "outside its base URL" in result.error.message
    assert not other.requests


def test_a_redirect_leaving_the_path_prefix_is_refused(
        registry: Registry, lab: LabServer, run: Runner) -> None:
    _basic(registry, lab, lab.url + "/redirect")
    result = run(f'invokeurl [ url: "{lab.url}/redirect?to=/basic/me" type: GET '
                 f'connection: "b" ];')
    assert "outside its base URL" in result.error.message
    assert [r.path for r in lab.requests] == ["/redirect?to=/basic/me"]


@pytest.mark.parametrize("host", [
    "127.0.0.1", "2130706433", "0x7f.0.0.1", "0177.0.0.01", "127.1", "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]", "localhost", "10.0.0.1", "169.254.169.254", "[fd00:ec2::254]",
    "192.168.1.1", "0",
])
def test_plain_requests_to_private_addresses_are_refused(
        lab: LabServer, run: Runner, host: str) -> None:
    result = run(f'getUrl("http://{host}:{lab.port}/echo");')
    assert not result.ok
    message = result.error.message
    # httpx already rejects a few spellings as invalid URLs; either way nothing is sent
    assert message.startswith("Refused to connect to") or "not a valid URL" in message
    assert not lab.requests


def test_a_public_looking_name_that_resolves_to_loopback_is_refused(
        registry: Registry, lab: LabServer, leaks) -> None:  # type: ignore[no-untyped-def]
    class Rebinding:
        def resolve(self, host: str, port: int) -> list[str]:
            return ["127.0.0.1"] if host == "api.innocent.example" else []

    broker = Broker(registry, guard=Guard(HostPolicy(), Rebinding()))
    try:
        result = Runner(broker, leaks)(
            f'return getUrl("http://api.innocent.example:{lab.port}/echo");')
    finally:
        broker.close()
    assert "api.innocent.example' (127.0.0.1): a loopback address" in result.error.message
    assert not lab.requests


def test_the_transport_connects_to_the_address_that_was_checked(
        registry: Registry, lab: LabServer, leaks) -> None:  # type: ignore[no-untyped-def]
    class Pinned:
        calls = 0

        def resolve(self, host: str, port: int) -> list[str]:
            Pinned.calls += 1
            return ["127.0.0.1"]

    broker = Broker(registry, guard=Guard(HostPolicy.parse("127.0.0.0/8"), Pinned()))
    try:
        result = Runner(broker, leaks)(
            f'return getUrl("http://service.test:{lab.port}/echo", false);')
    finally:
        broker.close()
    assert result.value["responseCode"] == 200
    assert Pinned.calls == 1 and lab.requests[0].headers["Host"] == f"service.test:{lab.port}"


def test_plain_redirects_are_checked_again_and_drop_script_credentials_cross_origin(
        local_broker: Broker, lab: LabServer, other: LabServer, leaks) -> None:  # type: ignore[no-untyped-def]
    run = Runner(local_broker, leaks)
    refused = run(f'getUrl("{lab.url}/redirect?to=http://169.254.169.254/latest/meta-data");')
    assert "cloud metadata" in refused.error.message
    moved = run(f'return getUrl("{lab.url}/redirect?to={other.url}/echo", '
                f'{{"Authorization": "Bearer script-token"}});')
    assert moved.ok and moved.value["you_sent"] == ""
    assert "Authorization" not in other.requests[0].headers


def test_non_http_schemes_and_urls_with_credentials_are_refused(run: Runner) -> None:
    for url in ("file:///etc/passwd", "gopher://x/", "http://user:pw@example.com/"):
        result = run(f'getUrl("{url}");')
        assert not result.ok


def test_one_deadline_covers_the_whole_call(local_broker: Broker, lab: LabServer) -> None:
    runtime = Runtime(broker=local_broker)
    started = time.monotonic()
    result = runtime.run(f'return getUrl("{lab.url}/slow");',
                         limits=Limits(http_timeout=0.6))
    elapsed = time.monotonic() - started
    assert not result.ok and "timed out after 0.6 s" in result.error.message
    assert elapsed < 2.0  # the drip sends a byte every 50 ms: per-read timeouts never fire


@pytest.mark.parametrize("query", ["n=5000", "n=50000&chunked=1"])
def test_the_response_size_cap_is_enforced_while_streaming(local_broker: Broker,
                                                           lab: LabServer, query: str) -> None:
    runtime = Runtime(broker=local_broker)
    result = runtime.run(f'return getUrl("{lab.url}/big?{query}");',
                         limits=Limits(http_max_bytes=4096))
    assert result.error.type == "LimitExceeded"
    assert "size limit of 4096 bytes" in result.error.message
    ok = runtime.run(f'return getUrl("{lab.url}/big?n=4096").length();',
                     limits=Limits(http_max_bytes=4096))
    assert ok.value == 4096


def test_unknown_connections_and_missing_registry(registry: Registry, run: Runner,
                                                  leaks) -> None:  # type: ignore[no-untyped-def]
    result = run('invokeurl [ url: "https://api.example.com/x" type: GET connection: "nope" ];')
    assert result.error.message == "Connection 'nope' does not exist"
    bare = Broker(None)
    try:
        result = Runner(bare, leaks)(
            'invokeurl [ url: "https://api.example.com/x" type: GET connection: "x" ];')
    finally:
        bare.close()
    assert "no connection registry" in result.error.message


def test_cookies_an_api_sets_in_one_run_never_reach_another_run(
        local_broker: Broker, lab: LabServer, registry: Registry) -> None:
    """The broker serves every run of a host: it keeps no cookie jar."""
    registry.add("b", "basic", username=lab.username, base_urls=[lab.url], secret=lab.password)
    runtime = Runtime(broker=local_broker)
    for connection in ("", ' connection: "b"'):
        first = runtime.run(f'return invokeurl [ url: "{lab.url}/cookie" type: GET'
                            f'{connection} ];')
        assert first.value == {"set": True}
        second = runtime.run(f'return invokeurl [ url: "{lab.url}/echo" type: GET'
                             f'{connection} ];')
        assert second.ok and second.value["cookie"] is None
