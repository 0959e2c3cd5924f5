"""When a token is refreshed: proactively within a configurable leeway before expiry
(the registry's, `SLUICE_TOKEN_LEEWAY`, or the connection's own), and reactively when
the API refuses it with a 401 or with a status or body marker the connection names (one
refresh and one retry, never more)."""

from __future__ import annotations

import pytest

from sluicegate.connections.registry import Registry, RegistryError
from sluicegate.connections.setup import open_registry
from sluicegate.examples.provider import LocalProvider

from connlab import Clock, Runner, add_oauth2, authorize


def _list(provider: LocalProvider, link: str = "zb") -> str:
    return (f'r = invokeurl [ url: "{provider.api_base}/invoices" type: GET '
            f'parameters: {{"organization_id": "1"}} connection: "{link}" detailed: true ]; '
            f'return r.get("responseCode");')


def test_the_registry_leeway_decides_when_a_token_is_refreshed_before_use(
        registry: Registry, provider: LocalProvider, clock: Clock, connected: str) -> None:
    clock.offset += 3600 - 120  # two minutes left: outside the default 60 s leeway
    assert registry.grant("zb").generation == 1
    registry.leeway = 300.0
    registry._cache.clear()
    assert registry.grant("zb").generation == 2
    assert provider.counts["refresh_token"] == 1


def test_a_connection_leeway_wins_over_the_registry(
        registry: Registry, provider: LocalProvider, clock: Clock) -> None:
    add_oauth2(registry, provider, refresh_leeway=900)
    authorize(registry, provider)
    add_oauth2(registry, provider, link="late", refresh_leeway=0)
    authorize(registry, provider, link="late")
    clock.offset += 3600 - 600  # ten minutes left
    assert registry.grant("zb").generation == 2
    assert registry.grant("late").generation == 1
    clock.offset += 599  # one second left: a zero leeway still waits for expiry
    assert registry.grant("late").generation == 1
    assert registry.get("zb").params["refresh_leeway"] == 900.0


def test_the_leeway_comes_from_the_environment_for_the_command_line(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SLUICE_HOME", str(tmp_path))
    monkeypatch.delenv("SLUICE_DATABASE_URL", raising=False)
    monkeypatch.setenv("SLUICE_TOKEN_LEEWAY", "240")
    registry = open_registry()
    try:
        assert registry.leeway == 240.0
    finally:
        registry.close()
    monkeypatch.setenv("SLUICE_TOKEN_LEEWAY", "soon")
    with pytest.raises(RegistryError, match="SLUICE_TOKEN_LEEWAY must be a number"):
        open_registry()


def test_a_configured_status_triggers_one_refresh_and_one_retry(
        registry: Registry, provider: LocalProvider, run: Runner) -> None:
    add_oauth2(registry, provider, refresh_on_status=[401, 403])
    authorize(registry, provider)
    provider.set_rejection(403, {"code": 14, "message": "Invalid OAuth token"})
    provider.expire_access_tokens()
    result = run(_list(provider))
    assert result.value == 200
    assert provider.counts["refresh_token"] == 1
    assert result.http[0]["retried"] is True and result.http[0]["token_generation"] == 2


def test_a_configured_body_marker_triggers_a_refresh_even_on_a_200(
        registry: Registry, provider: LocalProvider, run: Runner) -> None:
    add_oauth2(registry, provider, refresh_on_body=["INVALID_OAUTHTOKEN"])
    authorize(registry, provider)
    provider.set_rejection(200, {"errorCode": "INVALID_OAUTHTOKEN", "message": "expired"})
    provider.expire_access_tokens()
    assert run(_list(provider)).value == 200
    assert provider.counts["refresh_token"] == 1


def test_without_configuration_other_statuses_are_just_answers(
        registry: Registry, provider: LocalProvider, run: Runner, connected: str) -> None:
    provider.set_rejection(403, {"code": 14, "message": "Invalid OAuth token"})
    provider.expire_access_tokens()
    result = run(_list(provider))
    assert result.value == 403 and provider.counts["refresh_token"] == 0
    assert "retried" not in result.http[0]


def test_a_token_refused_again_after_the_refresh_is_not_refreshed_twice(
        registry: Registry, provider: LocalProvider, run: Runner, connected: str) -> None:
    provider.set_rejection(401, {"code": 57, "message": "still no"})
    with provider.state.lock:
        provider.state.access_ttl = -1  # every new token is born expired
    provider.expire_access_tokens()
    result = run(_list(provider))
    assert result.value == 401  # the retried answer is returned, not retried again
    assert provider.counts["refresh_token"] == 1 and provider.counts["api_unauthorized"] == 2


@pytest.mark.parametrize("option, field_name", [
    ({"refresh_on_status": ["forbidden"]}, "refresh-on-status"),
    ({"refresh_on_status": [99]}, "refresh-on-status"),
    ({"refresh_on_body": [""]}, "refresh-on-body"),
    ({"refresh_leeway": "soon"}, "refresh-leeway"),
    ({"refresh_leeway": -5}, "refresh-leeway"),
    ({"authorize_params": {"access_type": 1}}, "authorize-param"),
])
def test_refresh_options_are_validated_naming_the_field(
        registry: Registry, provider: LocalProvider, option: dict, field_name: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(RegistryError) as info:
        add_oauth2(registry, provider, **option)
    assert info.value.field == field_name
