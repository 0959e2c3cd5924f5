"""Schema migrations with Alembic, run from code so every command can bring a database
up to date (`upgrade(engine)`); the revisions live in store/migrations/versions/."""

from __future__ import annotations

__all__ = ["upgrade", "alembic_config"]

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
