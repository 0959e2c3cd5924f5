"""Secrets at rest: AES-GCM under a master key bound to the column, a 0600 key file or
SLUICE_MASTER_KEY, rotation without losing connections; the service catalogue."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from sluicegate.connections.catalogue import Catalogue, UnknownService
from sluicegate.connections.keyring import Keyring, KeyringError, generate_key
from sluicegate.connections.registry import Registry
from sluicegate.examples.provider import LocalProvider
from sluicegate.store.connections import ConnectionCredential
from sluicegate.store.db import make_engine

from connlab import Leaks, add_oauth2, authorize


def test_ciphertexts_are_bound_to_their_column_and_key() -> None:
    ring = Keyring.from_texts([generate_key()])
    sealed = ring.encrypt("s3cret-value", "connection:1:secrets")
    assert "s3cret" not in sealed and sealed.startswith("sg1.")
    assert ring.decrypt(sealed, "connection:1:secrets") == "s3cret-value"
    with pytest.raises(KeyringError, match="integrity"):
        ring.decrypt(sealed, "connection:2:secrets")
    with pytest.raises(KeyringError, match="not in the key ring"):
        Keyring.from_texts([generate_key()]).decrypt(sealed, "connection:1:secrets")


def test_the_key_file_is_created_with_mode_0600_and_refused_when_readable_by_others(
        tmp_path: Path) -> None:
    ring = Keyring.load(home=tmp_path, env={})
    path = tmp_path / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Keyring.load(home=tmp_path, env={}).primary_id == ring.primary_id
    os.chmod(path, 0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        Keyring.load(home=tmp_path, env={})


def test_the_environment_key_wins_and_passphrases_are_stretched(tmp_path: Path) -> None:
    ring = Keyring.load(home=tmp_path, env={"SLUICE_MASTER_KEY": "a long enough passphrase"})
    assert not (tmp_path / "master.key").exists()
    again = Keyring.from_texts(["a long enough passphrase"])
    assert again.decrypt(ring.encrypt("x", "c"), "c") == "x"
    with pytest.raises(KeyringError, match="at least 16"):
        Keyring.from_texts(["short"])


def _setup(db_url: str, ring: Keyring, provider: LocalProvider) -> Registry:
    from sluicegate.store.migrate import upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    registry = Registry(engine, ring, cache_ttl=0)
    add_oauth2(registry, provider)
    authorize(registry, provider)
    registry.add("k", "api_key", base_urls=["https://api.example.com"], secret="key-123456")
    return registry


def test_rotating_the_key_file_keeps_every_connection(db_url: str, tmp_path: Path,
                                                      provider: LocalProvider,
                                                      leaks: Leaks) -> None:
    ring = Keyring.load(home=tmp_path, env={})
    leaks.secret((tmp_path / "master.key").read_text().strip())
    registry = _setup(db_url, ring, provider)
    try:
        before = registry.grant("zb").signer
        rotated = registry.rotate_master_key(actor="tests")
        keys = (tmp_path / "master.key").read_text().split()
        leaks.secrets.update(keys)
        assert len(keys) == 1 and rotated.primary_id != ring.primary_id
        assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600
        with registry._sessions() as s:
            cred = s.execute(select(ConnectionCredential)).scalars().first()
            assert cred is not None and cred.access_token is not None
            with pytest.raises(KeyringError):
                ring.decrypt(cred.access_token, f"connection:{cred.connection_id}:access_token")
        assert registry.grant("zb").signer == before
        assert registry.grant("k").signer.keys == (("X-API-Key", "key-123456"),)
        reopened = Registry(make_engine(db_url), Keyring.load(home=tmp_path, env={}))
        assert reopened.grant("zb").signer == before
        reopened.close()
        assert registry.audit_log("*")[-1]["action"] == "rotate_key"
    finally:
        registry.close()


def test_rotating_an_environment_key_re_encrypts_under_its_first_key(
        db_url: str, provider: LocalProvider, leaks: Leaks) -> None:
    old, new = leaks.secret(generate_key()), leaks.secret(generate_key())
    registry = _setup(db_url, Keyring.from_texts([old]), provider)
    try:
        signer = registry.grant("zb").signer
        registry._keyring = Keyring.from_texts([new, old])  # SLUICE_MASTER_KEY="new,old"
        registry.rotate_master_key()
        only_new = Registry(make_engine(db_url), Keyring.from_texts([new]))
        assert only_new.grant("zb").signer == signer
        only_new.close()
    finally:
        registry.close()


def test_the_catalogue_has_every_required_service_with_endpoints_and_formats() -> None:
    catalogue = Catalogue.builtin()
    assert set(catalogue.names()) >= {"zoho_books", "zoho_crm", "zoho_desk", "google", "slack",
                                      "github", "hubspot", "stripe", "xero", "quickbooks"}
    books = catalogue.resolve("zoho_books")
    assert books.params["token_url"] == "https://accounts.zoho.com/oauth/v2/token"
    assert books.params["header_format"] == "Zoho-oauthtoken {token}"
    assert books.params["scope_delimiter"] == ","
    assert "https://www.zohoapis.com/books/" in books.base_urls
    eu = catalogue.resolve("zoho_crm:eu")
    assert eu.params["authorize_url"] == "https://accounts.zoho.eu/oauth/v2/auth"
    assert eu.base_urls == ("https://www.zohoapis.eu/crm/",)
    assert catalogue.resolve("zoho_desk:in").base_urls == ("https://desk.zoho.in/api/",)
    assert catalogue.resolve("google").params["authorize_params"]["access_type"] == "offline"
    assert catalogue.resolve("stripe").auth_type == "api_key"
    assert catalogue.resolve("xero").params["token_auth"] == "client_secret_basic"
    for name in catalogue.names():
        for dc in catalogue.data_centres(name) or [None]:
            service = catalogue.resolve(f"{name}:{dc}" if dc else name)
            assert service.base_urls and all(u.startswith("https://") for u in
                                              service.base_urls)
    with pytest.raises(UnknownService):
        catalogue.resolve("zoho_books:mars")
    with pytest.raises(UnknownService):
        catalogue.resolve("myspace")


def test_a_predefined_service_fills_the_connection(registry: Registry) -> None:
    view = registry.add("zbooks", "oauth2", service="zoho_books:au", client_id="1000.ABC",
                        secret="client-secret-xyz")
    assert view.service == "zoho_books:au" and view.display_name == "Zoho Books (AU)"
    assert view.params["token_url"] == "https://accounts.zoho.com.au/oauth/v2/token"
    assert view.base_urls[0] == "https://www.zohoapis.com.au/books/"
    start = registry.begin_authorization("zbooks", "http://127.0.0.1:9/cb")
    assert "access_type=offline" in start.url and "prompt=consent" in start.url
    assert "scope=ZohoBooks.invoices.ALL%2CZohoBooks.contacts.ALL" in start.url
