"""Schema migrations with Alembic, run from code so every command can bring a database
up to date (`upgrade(engine)`); the revisions live in store/migrations/versions/.

Every command that opens the database calls `upgrade`. A database that already holds
every head revision (the common case) is recognized by a read of its
`alembic_version` table against the heads read from the revision files, without
importing Alembic (and the dialect modules it loads: a quarter of a second of every
`sluice connections ...` or `sluice scripts ...`); anything else goes to Alembic.
"""

from __future__ import annotations

__all__ = ["upgrade", "alembic_config", "missing_revisions", "known_heads"]

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

_HERE = Path(__file__).resolve().parent
_VERSIONS = _HERE / "migrations" / "versions"
# the module-level assignments of an Alembic revision file
_REVISION = re.compile(r'^revision\s*(?::[^=]*)?=\s*"([^"]+)"', re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


@lru_cache(maxsize=1)
def known_heads() -> frozenset[str]:
    """The head revisions of the revision files: those no other revision names as its
    down revision (read as text; a test compares them with Alembic's own)."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in _VERSIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        down = _DOWN.search(source)
        if down is not None:
            downs.update(re.findall(r'"([^"]+)"', down.group(1)))
    return frozenset(revisions - downs)


def _applied(conn: Connection) -> frozenset[str]:
    """The revisions the database records (none in a new database, which has no
    `alembic_version` table yet, as Alembic's MigrationContext reads it)."""
    if not inspect(conn).has_table("alembic_version"):
        return frozenset()
    return frozenset(str(r[0]) for r in conn.execute(
        text("SELECT version_num FROM alembic_version")))


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply every migration up to `revision` (idempotent). Each area (connections,
    triggers) has its own branch of revisions, so the default target is all heads."""
    if revision == "heads":
        try:
            with engine.connect() as conn:
                if _applied(conn) == known_heads():
                    return  # current: nothing for Alembic to do
        except SQLAlchemyError:
            pass  # Alembic connects again and reports what is wrong
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def missing_revisions(engine: Engine) -> list[str]:
    """The head revisions this code knows and the database has not applied (empty when
    the schema is current; /readyz is not ready until it is)."""
    with engine.connect() as conn:
        applied = _applied(conn)
    # an applied revision that is a descendant of a known head cannot exist here; an
    # older applied head means that branch has migrations still to run
    return sorted(known_heads() - applied)
