"""connections: the fingerprint of the master key the database's secrets are sealed with.

Revision ID: 0002_master_key
Revises: 0001_connections
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_master_key"
down_revision = "0001_connections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "master_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_key")),
    )


def downgrade() -> None:
    op.drop_table("master_key")
