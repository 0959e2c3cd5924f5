"""connections: a refresh lease on the credential row, so that no transaction stays open
while a node asks the provider for a new token.

Revision ID: 0003_refresh_lease
Revises: 0002_master_key
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_refresh_lease"
down_revision = "0002_master_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("connection_credentials",
                  sa.Column("refresh_holder", sa.String(length=120), nullable=True))
    op.add_column("connection_credentials", sa.Column("refresh_until", sa.Float(), nullable=True))
    op.add_column("connection_credentials",
                  sa.Column("refresh_failed_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connection_credentials") as batch:
        batch.drop_column("refresh_failed_at")
        batch.drop_column("refresh_until")
        batch.drop_column("refresh_holder")
