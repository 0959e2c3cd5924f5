"""A provider's token endpoint failing during a refresh: refused connections, an answer
slower than the deadline (silent, or dripping a byte at a time), a 500 page, a 503, and
invalid JSON. Each gives the script a clear, catchable error without any secret; the
connection stays `connected` with the failure as its last error (a passing fault is no
reason to ask the user to authorize again); runs already waiting do not each ask the
struggling provider again; and the next run works once the provider is healthy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from sluicegate.connections.keyring import Keyring
from sluicegate.connections.registry import Registry
from sluicegate.engine import RunResult, Runtime
from sluicegate.examples.provider import LocalProvider
from sluicegate.http.broker import Broker
from sluicegate.http.guard import HostPolicy
from sluicegate.store.db import make_engine

from connlab import Clock, Leaks, Runner, add_oauth2, authorize, dump_database

TOKEN_TIMEOUT = 1.0


@pytest.fixture
def fragile(db_url: str, keyring: Keyring, clock: Clock, leaks: Leaks
            ) -> Iterator[Registry]:
    """A registry that gives the token endpoint one second."""
    engine = make_engine(db_url)
    registry = Registry(engine, keyring, clock=clock, actor="tests",
                        token_timeout=TOKEN_TIMEOUT)
    try:
        yield registry
    finally:
        registry.close()
        engine.dispose()
        leaks.output(dump_database(db_url))


@pytest.fixture
def runner(fragile: Registry, provider: LocalProvider, leaks: Leaks) -> Iterator[Runner]:
    add_oauth2(fragile, provider)
    authorize(fragile, provider)
    broker = Broker(fragile, policy=HostPolicy())
    try:
        yield Runner(broker, leaks)
    finally:
        broker.close()


def _script(provider: LocalProvider) -> str:
    return (f'r = invokeurl [ url: "{provider.api_base}/invoices" type: GET '
            f'parameters: {{"organization_id": "1"}} connection: "zb" ]; return r.get("code");')


PREFIX = "Connection 'zb' could not refresh its access token: "

FAULTS: dict[str, tuple[Callable[[LocalProvider], None], Callable[[LocalProvider], None],
                        str]] = {
    "refused": (LocalProvider.go_down, LocalProvider.come_back,
                "cannot reach the token endpoint (ConnectError); try again later"),
    "silent": (lambda p: p.set_token_delay(3.0), lambda p: p.set_token_delay(0.0),
               "the token endpoint did not answer in 1 s; try again later"),
    "dripping": (lambda p: p.set_token_fault("drip"), lambda p: p.set_token_fault(None),
                 "the token endpoint did not answer in 1 s; try again later"),
    "error_500": (lambda p: p.set_token_fault("error_500"),
                  lambda p: p.set_token_fault(None),
                  "the token endpoint answered HTTP 500 (http_500); try again later"),
    "unavailable_503": (lambda p: p.set_token_fault("server_error"),
                        lambda p: p.set_token_fault(None),
                        "the token endpoint answered HTTP 503 (temporarily_unavailable); "
                        "try again later"),
    "invalid_json": (lambda p: p.set_token_fault("invalid_json"),
                     lambda p: p.set_token_fault(None),
                     "the token endpoint's answer is not a JSON object; try again later"),
}


def _no_secret(result: RunResult, provider: LocalProvider, registry: Registry) -> None:
    shown = result.to_json_text() + str(registry.get("zb").to_json())
    for secret in [provider.client_secret, *provider.state.refresh, *provider.state.access]:
        assert secret not in shown


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_token_endpoint_gives_a_clear_error_and_the_next_run_works(
        fault: str, fragile: Registry, provider: LocalProvider, clock: Clock,
        runner: Runner) -> None:
    breaks, heals, reason = FAULTS[fault]
    clock.offset += 7200  # the token has expired: the run must refresh first
    breaks(provider)
    started = time.monotonic()
    failed = runner(_script(provider))
    elapsed = time.monotonic() - started
    assert not failed.ok and failed.error.type == "RuntimeError"
    assert failed.error.message == PREFIX + reason
    assert elapsed < TOKEN_TIMEOUT + 1.5  # the deadline holds even against a drip
    view = fragile.get("zb")
    assert view.status == "connected", view.last_error
    assert view.last_error and view.last_error.startswith("token refresh failed: ")
    assert view.token_generation == 1
    _no_secret(failed, provider, fragile)

    caught = runner(f'try {{ {_script(provider)} }} catch (e) {{ return "caught: " + e; }}')
    assert caught.ok and caught.value == "caught: " + PREFIX + reason

    heals(provider)
    healed = runner(_script(provider))
    assert healed.ok and healed.value == 0, healed.error
    assert healed.http[0]["token_generation"] == 2
    view = fragile.get("zb")
    assert (view.status, view.last_error, view.token_generation) == ("connected", None, 2)
    assert provider.counts["refresh_token"] == 1


def test_a_fault_in_the_reactive_refresh_after_a_401_is_reported_the_same_way(
        fragile: Registry, provider: LocalProvider, runner: Runner) -> None:
    provider.expire_access_tokens()  # only the API knows: it answers 401
    provider.set_token_fault("error_500")
    failed = runner(_script(provider))
    assert failed.error.message == PREFIX + "the token endpoint answered HTTP 500 " \
        "(http_500); try again later"
    assert fragile.get("zb").status == "connected"
    provider.set_token_fault(None)
    assert runner(_script(provider)).value == 0
    assert provider.counts["refresh_token"] == 1


def test_a_provider_quoting_the_secrets_it_was_sent_does_not_leak_them(
        fragile: Registry, provider: LocalProvider, clock: Clock, runner: Runner) -> None:
    refresh_tokens = set(provider.state.refresh)
    clock.offset += 7200
    provider.set_token_fault("echo")
    failed = runner(_script(provider))
    assert failed.error.message == PREFIX + "the token endpoint refused (invalid_request); " \
        "try again later"
    view = fragile.get("zb")
    assert view.status == "connected" and "[redacted]" in (view.last_error or "")
    for secret in [provider.client_secret, *refresh_tokens]:
        assert secret not in (view.last_error or "")
        assert secret not in str(fragile.audit_log("zb"))
    _no_secret(failed, provider, fragile)


def test_runs_waiting_on_a_failing_refresh_do_not_each_ask_the_provider_again(
        fragile: Registry, provider: LocalProvider, clock: Clock, runner: Runner,
        leaks: Leaks) -> None:
    clock.offset += 7200
    provider.set_token_delay(3.0)
    runtime: Runtime = runner.runtime
    results: list[RunResult] = []
    barrier = threading.Barrier(10)

    def one() -> None:
        barrier.wait()
        result = runtime.run(_script(provider), {})
        leaks.output(result.to_json_text())
        results.append(result)

    started = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert [r.error.message for r in results] == [
        PREFIX + "the token endpoint did not answer in 1 s; try again later"] * 10
    assert provider.counts["token_requests"] == 1 + 1  # the authorization, one refresh
    assert elapsed < TOKEN_TIMEOUT + 2.0
    provider.set_token_delay(0.0)
    assert runner(_script(provider)).value == 0


def test_a_refused_client_is_an_error_state_not_a_reauthorization(
        fragile: Registry, provider: LocalProvider, clock: Clock, runner: Runner) -> None:
    clock.offset += 7200
    with provider.state.lock:
        provider.state.client_secret = "rotated-at-the-provider"
    failed = runner(_script(provider))
    assert failed.error.message == ("Connection 'zb' could not refresh its access token: "
                                    "the provider refused the client (invalid_client); "
                                    "check its client id and secret")
    assert fragile.get("zb").status == "error"
    again = runner(_script(provider))
    assert again.error.message.startswith("Connection 'zb' is in error: token refresh "
                                          "refused: invalid_client")


def test_authorization_against_a_failing_provider_says_it_failed_and_can_be_retried(
        fragile: Registry, provider: LocalProvider) -> None:
    from sluicegate.connections.registry import AuthorizationFailed

    add_oauth2(fragile, provider, link="cc", grant="client_credentials", authorize_url=None)
    provider.set_token_fault("error_500")
    with pytest.raises(AuthorizationFailed) as info:
        fragile.authorize_client_credentials("cc")
    assert str(info.value) == ("client: the token endpoint failed while exchanging the client "
                               "credentials; try again (http_500: the token endpoint "
                               "answered HTTP 500)")
    assert fragile.get("cc").status == "needs_authorization"
    provider.set_token_fault(None)
    assert fragile.authorize_client_credentials("cc").status == "connected"
