"""triggers: the mail outbox, delivered after each run by a node's loop.

Revision ID: 0005_mail_outbox
Revises: 0004_organization
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sluicegate.store.scripts import JsonText, UtcDateTime

revision = "0005_mail_outbox"
down_revision = "0004_organization"
branch_labels = None
depends_on = None

_RunRef = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", _RunRef, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("message", JsonText(), nullable=False),
        sa.Column("sender", sa.String(254), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(120), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE",
                                name=op.f("fk_mail_outbox_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index(op.f("ix_mail_outbox_run_id"), "mail_outbox", ["run_id"])
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["state", "next_attempt_at"])
    op.create_index("ix_mail_outbox_sender_sent", "mail_outbox", ["sender", "sent_at"])


def downgrade() -> None:
    op.drop_table("mail_outbox")
