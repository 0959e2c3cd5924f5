"""triggers: the organization profile (admin e-mail, id, name, currency, zone, formats).

Revision ID: 0004_organization
Revises: 0003_console
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sluicegate.store.scripts import UtcDateTime

revision = "0004_organization"
down_revision = "0003_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admin_email", sa.String(254), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("date_format", sa.String(64), nullable=False),
        sa.Column("creator_owner", sa.String(100), nullable=False),
        sa.Column("creator_application", sa.String(100), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
    )


def downgrade() -> None:
    op.drop_table("organization")
