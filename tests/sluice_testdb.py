"""Test databases for the trigger and service suites: a migrated SQLite file per test
(copied from a template) and one PostgreSQL database per session on the local server
(tables emptied between tests), plus the manual clock the tests move by hand.

The conftest of each suite imports the fixtures `db_url` (each test on both databases)
and `postgres_url` (PostgreSQL only) from here."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sluicegate.store.db import make_engine
from sluicegate.store.migrate import upgrade
from sqlalchemy import text

PG_ADMIN_URL = os.environ.get("SLUICE_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
TABLES = ("runs", "schedule_occurrences", "schedules", "script_versions", "scripts",
          "api_tokens", "connection_audit", "connection_authorizations",
          "connection_credentials", "connections", "master_key")
UTC = dt.UTC


class ManualClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def now(self) -> dt.datetime:
        return self.current

    def set(self, when: dt.datetime) -> None:
        self.current = when

    def advance(self, seconds: float) -> dt.datetime:
        self.current += dt.timedelta(seconds=seconds)
        return self.current


def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        engine = make_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: skip, and say why
        return f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({type(exc).__name__}: " \
               f"{str(exc).splitlines()[0][:120]})"
    return None


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, migrated database on the local server, dropped afterwards."""
    name = f"sluice_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    try:
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        # every table the migrations made (new areas add tables), not only those listed
        tables = set(TABLES) | set(conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'alembic_version'")).scalars())
        conn.execute(text(f"TRUNCATE {', '.join(sorted(tables))} RESTART IDENTITY CASCADE"))
    engine.dispose()


def sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    path = directory / f"db-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(autouse=True)
def sluice_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own SLUICE_HOME (the master key file a service creates on
    first use lands there, never in the user's home) and no master key from outside."""
    home = tmp_path / "sluice-home"
    monkeypatch.setenv("SLUICE_HOME", str(home))
    monkeypatch.delenv("SLUICE_MASTER_KEY", raising=False)
    return home


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str | None]:
    if postgres_unreachable():
        yield None
        return
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path,
           _postgres_url: str | None) -> str:
    """A migrated, empty database of each kind (PostgreSQL skipped, saying why, when the
    local server cannot be reached)."""
    if request.param == "sqlite":
        return sqlite_copy(_sqlite_template, tmp_path)
    if _postgres_url is None:
        pytest.skip(postgres_unreachable() or "PostgreSQL is unreachable")
    empty_postgres(_postgres_url)
    return _postgres_url


@pytest.fixture
def postgres_url(_postgres_url: str | None) -> str:
    """Only PostgreSQL (tests of several nodes against one server)."""
    if _postgres_url is None:
        pytest.skip(postgres_unreachable() or "PostgreSQL is unreachable")
    empty_postgres(_postgres_url)
    return _postgres_url


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
