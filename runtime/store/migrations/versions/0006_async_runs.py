"""triggers: queued (asynchronous) runs and incoming webhooks.

Revision ID: 0006_async_runs
Revises: 0005_mail_outbox
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sluicegate.store.scripts import JsonText, UtcDateTime

revision = "0006_async_runs"
down_revision = "0005_mail_outbox"
branch_labels = None
depends_on = None

_RunRef = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "queued_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", _RunRef, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("script_id", sa.Integer(), nullable=False),
        sa.Column("script_version", sa.Integer(), nullable=False),
        sa.Column("inputs", JsonText(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("lease_owner", sa.String(120), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE",
                                name=op.f("fk_queued_runs_run_id_runs")),
        sa.ForeignKeyConstraint(["script_id"], ["scripts.id"], ondelete="CASCADE",
                                name=op.f("fk_queued_runs_script_id_scripts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queued_runs")),
        sa.UniqueConstraint("run_id", name=op.f("uq_queued_runs_run_id")),
    )
    op.create_index("ix_queued_runs_claim", "queued_runs", ["state", "lease_until"])
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("script_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["script_id"], ["scripts.id"], ondelete="CASCADE",
                                name=op.f("fk_webhooks_script_id_scripts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
        sa.UniqueConstraint("digest", name=op.f("uq_webhooks_digest")),
    )
    op.create_index(op.f("ix_webhooks_script_id"), "webhooks", ["script_id"])


def downgrade() -> None:
    op.drop_table("webhooks")
    op.drop_table("queued_runs")
