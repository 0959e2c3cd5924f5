"""The connection registry of a service process: opened over the service's own database
on first use, and the broker that signs the `invokeurl ... connection:` requests of every
script the process runs (functions, buttons, schedules, replays).

The master key is read only when a connection is first needed (a script's request, the
OAuth callback, an admin call), so a service whose scripts use no connection never
creates a key file. In isolated mode the broker, the registry and the key stay in the
host process; the children ask the host for each request.
"""

from __future__ import annotations

__all__ = ["ServiceRegistry", "service_broker"]

import threading
from typing import Any

from sqlalchemy import Engine

from ..errors import ScriptRuntimeError


class ServiceRegistry:
    """A `sluicegate.connections.Registry` over `engine`, opened on first use."""

    def __init__(self, engine: Engine, *, keyring: Any = None, **options: Any) -> None:
        self.engine = engine
        self._keyring = keyring
        self._options = options
        self._registry: Any = None
        self._lock = threading.Lock()

    def open(self) -> Any:
        """The registry itself; raises KeyringError when the master key cannot be read."""
        with self._lock:
            if self._registry is None:
                from ..connections.keycheck import node_keyring
                from ..connections.registry import Registry

                keyring = self._keyring or node_keyring(self.engine)
                self._registry = Registry(self.engine, keyring, **self._options)
            return self._registry

    def _for_scripts(self) -> Any:
        from ..connections.keyring import KeyringError

        try:
            return self.open()
        except KeyringError as exc:
            raise ScriptRuntimeError(f"Connections are unavailable: {exc}") from None

    # -- what the broker asks ------------------------------------------------------------
    def grant(self, link_name: str) -> Any:
        return self._for_scripts().grant(link_name)

    def refresh_after_rejection(self, link_name: str, generation: int) -> Any:
        return self._for_scripts().refresh_after_rejection(link_name, generation)

    def implicit_connection(self, kind: str) -> str:
        return self._for_scripts().implicit_connection(kind)  # type: ignore[no-any-return]

    def close(self) -> None:
        with self._lock:
            if self._registry is not None:
                self._registry.close()
                self._registry = None


def service_broker(registry: ServiceRegistry) -> Any:
    """The broker of a service process: destination checks from the environment
    (`SLUICE_ALLOW_PRIVATE_HOSTS`), connections from `registry`."""
    from ..http.broker import Broker

    return Broker(registry)
