"""The database commands (`sluice connections ...`, `sluice scripts ...`) start without
what they do not use: building the parser of every sub-command loads neither the
organization profile's ORM models nor the editor analysis, and a database whose schema
is current is recognized without importing Alembic. These check the causes, which do
not depend on the machine's load (the time is about 0.6 s instead of 1 s)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sluicegate.store.db import make_engine
from sluicegate.store.migrate import alembic_config, known_heads, upgrade

_PROBE = """
import json, sys
from sluicegate.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _sluice(tmp_path: Path, *argv: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    env.update(SLUICE_HOME=str(tmp_path / "home"),
               SLUICE_DATABASE_URL=f"sqlite:///{tmp_path / 'sluice.db'}")
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_heads_read_from_the_revision_files_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    engine = make_engine("sqlite://")
    try:
        script = ScriptDirectory.from_config(alembic_config(engine))
        assert known_heads() == frozenset(script.get_heads())
        assert len(known_heads()) == 2  # the connections and the triggers branches
    finally:
        engine.dispose()


def test_a_current_database_is_opened_without_alembic(tmp_path: Path) -> None:
    first = _sluice(tmp_path, "connections", "list")  # creates and migrates the database
    assert first["code"] == 0
    assert "alembic" in first["modules"]
    again = _sluice(tmp_path, "connections", "list")
    assert again["code"] == 0
    loaded = set(again["modules"])
    assert not {m for m in loaded if m == "alembic" or m.startswith("alembic.")}
    # nor the sub-commands' heavy parts it does not use
    for unused in ("sluicegate.org.profile", "sluicegate.tooling.documents",
                   "sluicegate.tooling.analysis", "sluicegate.translator"):
        assert unused not in loaded, unused


def test_a_database_behind_the_code_is_still_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    try:
        upgrade(engine, "0001_triggers")
        upgrade(engine, "0001_connections")
        with engine.connect() as conn:
            applied = {r[0] for r in conn.exec_driver_sql("SELECT version_num FROM "
                                                          "alembic_version")}
        assert applied == {"0001_triggers", "0001_connections"}
        upgrade(engine)   # not current: Alembic runs every missing revision
        with engine.connect() as conn:
            applied = {r[0] for r in conn.exec_driver_sql("SELECT version_num FROM "
                                                          "alembic_version")}
            assert conn.exec_driver_sql("SELECT count(*) FROM organization").scalar() == 0
        assert applied == known_heads()
    finally:
        engine.dispose()


def test_the_packages_names_still_resolve_on_first_use() -> None:
    from sluicegate.org import PROFILE_FIELDS, ProfileBook
    from sluicegate.tooling import Document, analyze, diagnose

    assert ProfileBook.__module__ == "sluicegate.org.profile" and "timezone" in PROFILE_FIELDS
    assert Document.__module__ == "sluicegate.tooling.model"
    assert diagnose("x = ;")[0].type == "SyntaxError"
    assert analyze("x = 1;").tree is not None
