"""Schema migrations with Alembic, run from code so every command can bring a database
up to date (`upgrade(engine)`); the revisions live in store/migrations/versions/."""

from __future__ import annotations

__all__ = ["upgrade", "alembic_config", "missing_revisions"]

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

_HERE = Path(__file__).resolve().parent


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply every migration up to `revision` (idempotent). Each area (connections,
    triggers) has its own branch of revisions, so the default target is all heads."""
    command.upgrade(alembic_config(engine), revision)


def missing_revisions(engine: Engine) -> list[str]:
    """The head revisions this code knows and the database has not applied (empty when
    the schema is current; /readyz is not ready until it is)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        applied = set(MigrationContext.configure(conn).get_current_heads())
    known = set(script.get_heads())
    # an applied revision that is a descendant of a known head cannot exist here; an
    # older applied head means that branch has migrations still to run
    return sorted(known - applied)
