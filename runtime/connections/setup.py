"""Wiring for the command line: the registry in the default database, and the broker of
`sluice run`, both opened only when first needed.

`broker_for_cli()` costs nothing at start-up: a plain script that makes no HTTP call
imports neither httpx nor SQLAlchemy, and one that makes plain calls never touches the
database. The database (and `$SLUICE_HOME`) is opened on the first `connection:` call,
and only if it already exists: `sluice run` never creates files.
"""

from __future__ import annotations

__all__ = ["broker_for_cli", "open_registry", "database_exists", "LEEWAY_ENV"]

import os
from pathlib import Path
from typing import Any

# Seconds before expiry at which a token is refreshed before use (default 60); a
# connection's own `refresh_leeway` wins.
LEEWAY_ENV = "SLUICE_TOKEN_LEEWAY"


def database_exists() -> bool:
    """Whether a database is configured or the default SQLite file is already there."""
    if os.environ.get("SLUICE_DATABASE_URL"):
        return True
    home = Path(os.environ.get("SLUICE_HOME") or Path.home() / ".local/share/sluicegate")
    return (home / "sluicegate.db").is_file()


def open_registry(**options: Any) -> Any:
    """The registry of the default database, migrated to the current schema."""
    from ..store.db import make_engine
    from ..store.migrate import upgrade
    from .keycheck import node_keyring
    from .registry import Registry, RegistryError

    leeway = os.environ.get(LEEWAY_ENV)
    if leeway and "leeway" not in options:
        try:
            options["leeway"] = float(leeway)
        except ValueError:
            raise RegistryError("leeway", f"{LEEWAY_ENV} must be a number of seconds, not "
                                f"{leeway[:20]!r}") from None
    engine = make_engine()
    try:
        upgrade(engine)
        keyring = node_keyring(engine)
    except BaseException:
        engine.dispose()
        raise
    return Registry(engine, keyring, owns_engine=True, **options)


class _LazyRegistry:
    """Opens the registry on the first connection request, if a database exists."""

    def __init__(self) -> None:
        self._registry: Any = None
        # why the registry cannot be opened on this host (a master key that does not
        # match the database, a bad database URL): the run fails, and so does the command
        self.problem: str | None = None

    def _open(self, link_name: str) -> Any:
        if self._registry is None:
            from ..errors import ScriptRuntimeError

            if not database_exists():
                raise ScriptRuntimeError(f"Connection '{link_name}' does not exist (no "
                                         "connections have been added yet)")
            from ..store.db import DatabaseUrlError
            from .keyring import KeyringError

            try:
                self._registry = open_registry()
            except (KeyringError, DatabaseUrlError) as exc:
                self.problem = str(exc)
                raise ScriptRuntimeError(f"Connections are unavailable: {exc}") from None
        return self._registry

    def grant(self, link_name: str) -> Any:
        return self._open(link_name).grant(link_name)

    def refresh_after_rejection(self, link_name: str, generation: int) -> Any:
        return self._open(link_name).refresh_after_rejection(link_name, generation)

    def implicit_connection(self, kind: str) -> str:
        if self._registry is None and not database_exists():
            from .registry import no_implicit_connection

            raise no_implicit_connection(kind)
        return self._open(f"zoho_{kind}").implicit_connection(kind)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._registry is not None:
            self._registry.close()


class _CliBroker:
    """A Broker built on first use (httpx is imported only by scripts that call out)."""

    def __init__(self) -> None:
        self._broker: Any = None
        self._registry: _LazyRegistry | None = None

    @property
    def problem(self) -> str | None:
        """Why connections could not be used on this host, if they could not."""
        return self._registry.problem if self._registry is not None else None

    def send(self, request: Any, ctx: Any) -> Any:
        if self._broker is None:
            from ..http.broker import Broker

            self._registry = _LazyRegistry()
            self._broker = Broker(self._registry)
        return self._broker.send(request, ctx)

    def close(self) -> None:
        if self._broker is not None:
            self._broker.close()


def broker_for_cli() -> Any:
    """The broker of `sluice run`: plain calls guarded, connections from the default
    database (which it never creates)."""
    return _CliBroker()
