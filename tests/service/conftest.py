"""Fixtures of the service suites: each test runs against SQLite and PostgreSQL, with the
shared test databases of tests/sluice_testdb.py."""

from __future__ import annotations

from sluice_testdb import _postgres_url, _sqlite_template, db_url, sluice_home  # noqa: F401
