"""The catalogue of predefined services, read from `services.json` (data, not code).

A service supplies defaults for a new connection: authentication type, endpoints, default
scopes and their delimiter, how the token is sent, and the base URLs the connection may
be used with. Zoho services are per data centre: `zoho_books` is the US data centre,
`zoho_books:eu` the European one (data centres: us, eu, in, au, jp, ca, sa, cn).
"""

from __future__ import annotations

__all__ = ["Catalogue", "ServiceDefaults", "UnknownService"]

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any


class UnknownService(ValueError):
    """A service name that is neither in the catalogue nor `custom`."""


@dataclass(frozen=True)
class ServiceDefaults:
    """The connection settings a predefined service implies (all overridable)."""

    name: str
    display_name: str
    auth_type: str
    params: dict[str, Any] = field(default_factory=dict)
    base_urls: tuple[str, ...] = ()
    docs: str = ""


_PARAM_KEYS = ("authorize_url", "token_url", "refresh_url", "revoke_url", "revoke_token_in",
               "scopes", "scope_delimiter", "authorize_params", "token_auth", "header_format",
               "param_type", "param_name", "refresh_on_body", "refresh_on_status")


def _fill(value: Any, servers: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, server in servers.items():
            value = value.replace("{" + key + "}", server)
        return value
    if isinstance(value, list):
        return [_fill(v, servers) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, servers) for k, v in value.items()}
    return value


class Catalogue:
    """The predefined services; `resolve("zoho_books:eu")` gives concrete defaults."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._services: dict[str, dict[str, Any]] = data["services"]
        self._centres: dict[str, dict[str, dict[str, str]]] = data.get("data_centres", {})

    @classmethod
    def builtin(cls) -> Catalogue:
        return _builtin()

    def names(self) -> list[str]:
        return sorted(self._services)

    def data_centres(self, name: str) -> list[str]:
        family = self._services.get(name, {}).get("data_centres")
        return sorted(self._centres.get(family, {})) if family else []

    def resolve(self, name: str) -> ServiceDefaults:
        service, _, centre = name.strip().lower().partition(":")
        entry = self._services.get(service)
        if entry is None:
            raise UnknownService(f"unknown service '{name}'; predefined services are "
                                 f"{', '.join(self.names())}, or use 'custom'")
        servers: dict[str, str] = {}
        family = entry.get("data_centres")
        if family:
            centre = centre or entry.get("default_data_centre", "us")
            servers = self._centres[family].get(centre, {})
            if not servers:
                raise UnknownService(f"service '{service}' has no data centre '{centre}'; "
                                     f"choose one of {', '.join(self.data_centres(service))}")
        elif centre:
            raise UnknownService(f"service '{service}' has no data centres")
        params = {k: _fill(entry[k], servers) for k in _PARAM_KEYS if entry.get(k) is not None}
        display = entry["display_name"] + (f" ({centre.upper()})" if family else "")
        return ServiceDefaults(name=f"{service}:{centre}" if family and centre != entry.get(
            "default_data_centre", "us") else service, display_name=display,
            auth_type=entry["auth_type"], params=params,
            base_urls=tuple(_fill(entry.get("base_urls", []), servers)),
            docs=entry.get("docs", ""))


@lru_cache(maxsize=1)
def _builtin() -> Catalogue:
    text = resources.files("sluicegate.connections").joinpath("services.json").read_text(
        encoding="utf-8")
    return Catalogue(json.loads(text))
