"""connections: the registry tables (connections, credentials, pending authorizations,
audit trail).

Revision ID: 0001_connections
Revises:
Create Date: 2025-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_connections"
down_revision = None
branch_labels = ("connections",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_name", sa.String(length=50), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("auth_type", sa.String(length=20), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("base_urls", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("link_name", name=op.f("uq_connections_link_name")),
    )
    op.create_table(
        "connection_credentials",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"], ondelete="CASCADE",
            name=op.f("fk_connection_credentials_connection_id_connections")),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_connection_credentials")),
    )
    op.create_table(
        "connection_authorizations",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("code_verifier", sa.Text(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"], ondelete="CASCADE",
            name=op.f("fk_connection_authorizations_connection_id_connections")),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_connection_authorizations")),
    )
    op.create_index(op.f("ix_connection_authorizations_connection_id"),
                    "connection_authorizations", ["connection_id"])
    op.create_table(
        "connection_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("link_name", sa.String(length=50), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_audit")),
    )
    op.create_index(op.f("ix_connection_audit_link_name"), "connection_audit", ["link_name"])


def downgrade() -> None:
    op.drop_index(op.f("ix_connection_audit_link_name"), table_name="connection_audit")
    op.drop_table("connection_audit")
    op.drop_index(op.f("ix_connection_authorizations_connection_id"),
                  table_name="connection_authorizations")
    op.drop_table("connection_authorizations")
    op.drop_table("connection_credentials")
    op.drop_table("connections")
