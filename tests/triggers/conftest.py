"""Fixtures of the trigger suites: each test runs against SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sluice_testdb import (  # noqa: F401
    UTC, ManualClock, _postgres_url, _sqlite_template, db_url, postgres_url, sluice_home,
)
from sluicegate.store.db import make_engine
from sluicegate.triggers import open_triggers
from sluicegate.triggers.setup import Triggers


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(dt.datetime(2025, 1, 6, 9, 0, tzinfo=UTC))


@pytest.fixture
def triggers(db_url: str, clock: ManualClock) -> Iterator[Triggers]:  # noqa: F811
    engine = make_engine(db_url)
    yield open_triggers(engine, clock=clock, migrate=False, node="test-node")
    engine.dispose()
