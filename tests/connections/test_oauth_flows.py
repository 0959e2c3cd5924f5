"""OAuth 2 flows against the local provider: authorization code with PKCE and state,
client credentials, refresh with rotation, invalid_grant, revocation, client auth."""

from __future__ import annotations

import sys
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from sluicegate.connections.registry import Registry, RegistryError
from sluicegate.examples.provider import LocalProvider
from sluicegate.store.connections import ConnectionCredential, PendingAuthorization

from connlab import Clock, Runner, add_oauth2, authorize


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_authorization_code_uses_pkce_s256_state_and_extra_parameters(
        registry: Registry, provider: LocalProvider) -> None:
    add_oauth2(registry, provider, authorize_params={"access_type": "offline"},
               scopes=["ZohoBooks.invoices.ALL", "ZohoBooks.settings.READ"])
    start = registry.begin_authorization("zb", "http://127.0.0.1:9/oauth/callback")
    query = _query(start.url)
    assert query["response_type"] == "code" and query["client_id"] == provider.client_id
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"] == start.state and len(start.state) >= 32
    assert query["scope"] == "ZohoBooks.invoices.ALL,ZohoBooks.settings.READ"
    assert query["access_type"] == "offline"
    assert start.code_verifier not in start.url
    answer = _query(provider.approve(start.url))
    view = registry.complete_authorization(answer["state"], answer["code"])
    assert (view.status, view.token_generation, view.has_refresh_token) == (
        "connected", 1, True)
    assert provider.counts["authorization_code"] == 1


def test_a_wrong_or_replayed_state_is_refused(registry: Registry,
                                              provider: LocalProvider) -> None:
    add_oauth2(registry, provider)
    start = registry.begin_authorization("zb", "http://127.0.0.1:9/cb")
    answer = _query(provider.approve(start.url))
    with pytest.raises(RegistryError, match="state"):
        registry.complete_authorization("forged-state", answer["code"])
    registry.complete_authorization(answer["state"], answer["code"])
    with pytest.raises(RegistryError, match="state"):
        registry.complete_authorization(answer["state"], answer["code"])


def test_the_pkce_verifier_is_stored_encrypted_and_a_pasted_code_completes(
        registry: Registry, provider: LocalProvider) -> None:
    add_oauth2(registry, provider)
    start = registry.begin_authorization("zb", "http://127.0.0.1:9/cb")
    with registry._sessions() as s:  # the pending row holds ciphertext only
        pending = s.execute(select(PendingAuthorization)).scalar_one()
        assert start.code_verifier not in pending.code_verifier
        assert start.state not in pending.state_hash
    code = _query(provider.approve(start.url))["code"]
    view = registry.complete_pending("zb", code)
    assert view.status == "connected"


def test_a_code_with_the_wrong_verifier_is_refused_by_the_provider(
        registry: Registry, provider: LocalProvider) -> None:
    add_oauth2(registry, provider)
    first = registry.begin_authorization("zb", "http://127.0.0.1:9/cb")
    registry.begin_authorization("zb", "http://127.0.0.1:9/cb")
    code = _query(provider.approve(first.url))["code"]
    # the latest pending authorization has another verifier: the provider refuses
    with pytest.raises(RegistryError, match="invalid_grant"):
        registry.complete_pending("zb", code)
    assert registry.get("zb").status == "needs_authorization"


def test_client_credentials_grant(registry: Registry, provider: LocalProvider,
                                  run: Runner) -> None:
    add_oauth2(registry, provider, grant="client_credentials", authorize_url=None)
    view = registry.authorize_client_credentials("zb")
    assert view.status == "connected" and not view.has_refresh_token
    assert provider.counts["client_credentials"] == 1
    provider.expire_access_tokens()
    result = run(f'r = invokeurl [ url: "{provider.api_base}/invoices" type: GET '
                 f'parameters: {{"organization_id": "1"}} connection: "zb" ]; '
                 f'return r.get("invoices").size();')
    assert result.ok and result.value == 3
    assert provider.counts["client_credentials"] == 2  # a new token, no refresh token


def test_refresh_rotates_the_refresh_token_and_stores_it_atomically(
        registry: Registry, provider: LocalProvider, clock: Clock, connected: str) -> None:
    before = dict(provider.state.refresh)
    clock.offset += 7200
    grant = registry.grant("zb")
    assert grant.generation == 2 and provider.counts["refresh_token"] == 1
    after = dict(provider.state.refresh)
    assert set(before).isdisjoint(after)  # the old refresh token is gone at the provider
    with registry._sessions() as s:
        cred = s.execute(select(ConnectionCredential)).scalar_one()
        stored = registry._open(cred.refresh_token, cred.connection_id, "refresh_token")
    assert stored in after  # and the new one is what the registry kept
    clock.offset += 7200
    assert registry.grant("zb").generation == 3  # the rotated token works in turn


def test_a_provider_that_does_not_rotate_keeps_the_old_refresh_token(
        registry: Registry, clock: Clock, leaks) -> None:  # type: ignore[no-untyped-def]
    with LocalProvider(rotate_refresh=False) as keeper:
        leaks.secret(keeper.client_secret)
        add_oauth2(registry, keeper)
        authorize(registry, keeper)
        original = set(keeper.state.refresh)
        for step in (1, 2):
            clock.offset += 7200
            assert registry.grant("zb").generation == 1 + step
        assert set(keeper.state.refresh) == original
        assert registry.get("zb").has_refresh_token
        leaks.secrets.update(keeper.state.access)
        leaks.secrets.update(original)


def test_invalid_grant_turns_the_connection_to_needs_authorization_without_retry_storm(
        registry: Registry, provider: LocalProvider, clock: Clock, connected: str,
        run: Runner) -> None:
    provider.invalidate_refresh_tokens()
    clock.offset += 7200
    script = (f'r = invokeurl [ url: "{provider.api_base}/invoices" type: GET '
              f'connection: "zb" ];')
    first = run(script)
    assert not first.ok
    assert first.error.message == "Connection 'zb' needs to be re-authorized"
    view = registry.get("zb")
    assert view.status == "needs_authorization" and "invalid_grant" in view.last_error
    attempts = provider.counts["refresh_token"]
    for _ in range(5):
        again = run(script)
        assert again.error.message == "Connection 'zb' needs to be re-authorized"
    assert provider.counts["refresh_token"] == attempts  # no more calls to the provider
    caught = run(f'try {{ {script} }} catch (e) {{ info e.message; }} return 1;')
    assert caught.ok and caught.logs == ["Connection 'zb' needs to be re-authorized"]
    authorize(registry, provider)
    assert run(script).ok


def test_client_auth_falls_back_to_basic_and_remembers_it(
        registry: Registry, leaks) -> None:  # type: ignore[no-untyped-def]
    with LocalProvider(client_auth=("basic",)) as basic_only:
        leaks.secret(basic_only.client_secret)
        add_oauth2(registry, basic_only)
        authorize(registry, basic_only)
        assert registry.get("zb").params["token_auth"] == "client_secret_basic"
        leaks.secrets.update(basic_only.state.access)
        leaks.secrets.update(basic_only.state.refresh)


def test_revoke_calls_the_provider_and_blocks_use(registry: Registry,
                                                   provider: LocalProvider,
                                                   connected: str, run: Runner) -> None:
    assert registry.revoke("zb") is None
    assert provider.counts["revoke"] == 1 and not provider.state.refresh
    view = registry.get("zb")
    assert view.status == "revoked" and not view.has_access_token
    result = run(f'invokeurl [ url: "{provider.api_base}/invoices" type: GET '
                 f'connection: "zb" ];')
    assert "has been revoked" in result.error.message


def test_authlib_is_used_without_its_httpx_integration() -> None:
    """authlib 1.9 prefers the httpx2 fork there; the project keeps one HTTP stack."""
    import sluicegate.connections.oauth  # noqa: F401

    assert "authlib.integrations.httpx_client" not in sys.modules
    assert "httpx2" not in sys.modules
