"""Database URLs as hosts hand them out (`postgres://`, `postgresql://`) all reach psycopg 3;
any other driver or database is one clear line naming the accepted forms, from the library
and from every command (exit 2, no traceback). The embedded SQLite file is owner-only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sluicegate.store.db import DatabaseUrlError, make_engine, normalize_url
from sluice_testdb import PG_ADMIN_URL, postgres_unreachable
from sqlalchemy import text


@pytest.mark.parametrize("url", ["postgres://u@h:5432/db", "postgresql://u@h:5432/db",
                                 "postgresql+psycopg://u@h:5432/db", "POSTGRES://u@h/db"])
def test_postgres_urls_use_psycopg_3(url: str) -> None:
    assert normalize_url(url).startswith("postgresql+psycopg://u@h")


@pytest.mark.parametrize("url", ["sqlite:///tmp/x.db", "sqlite://", "sqlite+pysqlite:///x.db"])
def test_sqlite_urls_are_kept(url: str) -> None:
    assert normalize_url(url).startswith("sqlite://")


@pytest.mark.parametrize("url", ["postgresql+psycopg2://u@h/db", "mysql://u@h/db",
                                 "not a url", "oracle://x"])
def test_other_urls_name_the_accepted_forms(url: str) -> None:
    with pytest.raises(DatabaseUrlError) as refused:
        normalize_url(url)
    message = str(refused.value)
    assert "SLUICE_DATABASE_URL" in message and "postgresql://" in message
    assert "\n" not in message


@pytest.mark.skipif(postgres_unreachable() is not None,
                    reason=postgres_unreachable() or "PostgreSQL is reachable")
def test_a_postgres_scheme_url_connects() -> None:
    url = "postgres://" + PG_ADMIN_URL.split("://", 1)[1]
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize("argv", [["runs", "list"], ["connections", "list"],
                                  ["worker", "--in-process"], ["tokens", "list"]])
def test_commands_refuse_a_bad_url_with_one_line_and_exit_2(argv: list[str],
                                                            tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    env.update(SLUICE_HOME=str(tmp_path), SLUICE_DATABASE_URL="postgresql+psycopg2://u@h/db")
    done = subprocess.run([sys.executable, "-m", "sluicegate.cli", *argv], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "postgresql+psycopg2:// is not supported" in done.stderr


def test_the_embedded_database_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "home" / "sluicegate.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    for file in path.parent.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    engine.dispose()


def test_runs_show_refuses_an_id_past_64_bits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    env["SLUICE_HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "sluicegate.cli", "runs", "show",
                           "99999999999999999999999"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "must be at most" in done.stderr
