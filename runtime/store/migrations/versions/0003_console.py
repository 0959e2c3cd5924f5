"""triggers: console sessions, and run indexes for the console's filtered, paged history.

Revision ID: 0003_console
Revises: 0002_triggers_fenced_runs
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from sluicegate.store.scripts import UtcDateTime

revision = "0003_console"
down_revision = "0002_triggers_fenced_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], ondelete="CASCADE",
                                name=op.f("fk_console_sessions_token_id_api_tokens")),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_console_sessions")),
    )
    op.create_index(op.f("ix_console_sessions_token_id"), "console_sessions", ["token_id"])
    # newest-first pages of one status / trigger / script over a large history
    op.create_index("ix_runs_status_id", "runs", ["status", "id"])
    op.create_index("ix_runs_trigger_id", "runs", ["trigger", "id"])
    op.create_index("ix_runs_script_id_order", "runs", ["script_name", "id"])


def downgrade() -> None:
    op.drop_index("ix_runs_script_id_order", table_name="runs")
    op.drop_index("ix_runs_trigger_id", table_name="runs")
    op.drop_index("ix_runs_status_id", table_name="runs")
    op.drop_index(op.f("ix_console_sessions_token_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
