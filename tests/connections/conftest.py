"""Fixtures of the connection suites; the servers and helpers they use live in connlab.py
(a module of its own, so test files import them by a name no other suite shares)."""

from connlab import (  # noqa: F401
    leaks,
    lab,
    provider,
    migrated_template,
    db_url,
    keyring,
    clock,
    registry,
    broker,
    run,
    connected,
    shared_db,
)
