"""Connections: named credentials that the broker attaches to a script's requests.

    catalogue   predefined services (services.json): endpoints, scopes, token formats
    keyring     the master key ring that encrypts secrets at rest, with rotation
    signers     one small class per authentication type, no I/O (OAuth 2, OAuth 1,
                API key, Basic)
    oauth       OAuth 2 flows with authlib: authorization code + PKCE + state, client
                credentials, refresh, revocation
    registry    connections in the database, authorization, proactive and reactive
                refresh (once per connection across threads, processes and nodes), audit
    setup       the registry and broker of the command line, opened lazily
    cli         `sluice connections add|authorize|list|show|test|revoke|delete`

Importing this package is cheap (the command line imports `cli` at every start); the
public names below load their modules on first use.
"""

from __future__ import annotations

__all__ = ["Registry", "RegistryError", "ConnectionNotFound", "ConnectionView", "Grant",
           "Keyring", "Catalogue", "broker_for_cli", "open_registry"]

from ..lazy import lazy_names

_HOMES = {"Registry": "registry", "RegistryError": "registry",
          "ConnectionNotFound": "registry", "ConnectionView": "registry", "Grant": "registry",
          "Keyring": "keyring", "Catalogue": "catalogue", "broker_for_cli": "setup",
          "open_registry": "setup"}

__getattr__ = lazy_names(globals(), _HOMES)
