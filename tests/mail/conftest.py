"""Fixtures of the mail suites: each test runs against SQLite and PostgreSQL, with the
shared test databases of tests/sluice_testdb.py."""

from __future__ import annotations

from sluice_testdb import (  # noqa: F401
    _postgres_url, _sqlite_template, db_url, postgres_url, sluice_home,
)
