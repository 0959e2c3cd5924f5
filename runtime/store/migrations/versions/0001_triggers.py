"""Triggers: scripts and versions, schedules and occurrences, runs, API tokens.

Revision ID: 0001_triggers
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op
from sluicegate.store.scripts import JsonText, UtcDateTime

revision = "0001_triggers"
down_revision = None
branch_labels = ("triggers",)
depends_on = None

_RunId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "scripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("module", sa.String(64), nullable=True),
        sa.Column("location", sa.String(16), nullable=True),
        sa.Column("user_inputs", JsonText(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("entry_name", sa.String(200), nullable=True),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scripts")),
        sa.UniqueConstraint("name", name=op.f("uq_scripts_name")),
    )
    op.create_index(op.f("ix_scripts_entry_name"), "scripts", ["entry_name"])

    op.create_table(
        "script_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("script_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("params", JsonText(), nullable=False),
        sa.Column("entry_name", sa.String(200), nullable=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("published_by", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(["script_id"], ["scripts.id"], ondelete="CASCADE",
                                name=op.f("fk_script_versions_script_id_scripts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_versions")),
        sa.UniqueConstraint("script_id", "number", name=op.f("uq_script_versions_script_id")),
    )

    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("script_id", sa.Integer(), nullable=False),
        sa.Column("recurrence", JsonText(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_after", sa.Integer(), nullable=True),
        sa.Column("end_on", UtcDateTime(), nullable=True),
        sa.Column("misfire", sa.String(16), nullable=False),
        sa.Column("misfire_grace", sa.Float(), nullable=False),
        sa.Column("no_overlap", sa.Boolean(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("retry_backoff", sa.Float(), nullable=False),
        sa.Column("inputs", JsonText(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_fire_at", UtcDateTime(), nullable=True),
        sa.Column("fired_count", sa.Integer(), nullable=False),
        sa.Column("busy_occurrence_id", sa.Integer(), nullable=True),
        sa.Column("busy_until", UtcDateTime(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["script_id"], ["scripts.id"], ondelete="CASCADE",
                                name=op.f("fk_schedules_script_id_scripts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("name", name=op.f("uq_schedules_name")),
    )
    op.create_index(op.f("ix_schedules_script_id"), "schedules", ["script_id"])
    op.create_index(op.f("ix_schedules_next_fire_at"), "schedules", ["next_fire_at"])

    op.create_table(
        "schedule_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("fire_at", UtcDateTime(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("reclaims", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(120), nullable=True),
        sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["schedule_id"], ["schedules.id"], ondelete="CASCADE",
                                name=op.f("fk_schedule_occurrences_schedule_id_schedules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_occurrences")),
        sa.UniqueConstraint("schedule_id", "fire_at",
                            name=op.f("uq_schedule_occurrences_schedule_id")),
    )
    op.create_index("ix_schedule_occurrences_claim", "schedule_occurrences",
                    ["state", "due_at"])
    op.create_index("ix_schedule_occurrences_lease", "schedule_occurrences",
                    ["state", "lease_expires_at"])

    op.create_table(
        "runs",
        sa.Column("id", _RunId, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("script_id", sa.Integer(), nullable=True),
        sa.Column("script_name", sa.String(100), nullable=False),
        sa.Column("script_version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("inputs", JsonText(), nullable=False),
        sa.Column("logs", JsonText(), nullable=False),
        sa.Column("logs_truncated", sa.Boolean(), nullable=False),
        sa.Column("return", JsonText(), nullable=True),
        sa.Column("error", JsonText(), nullable=True),
        sa.Column("stats", JsonText(), nullable=False),
        sa.Column("http", JsonText(), nullable=False),
        sa.Column("mail", JsonText(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("occurrence_id", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("replay_of", _RunId, nullable=True),
        sa.Column("node", sa.String(120), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["script_id"], ["scripts.id"], ondelete="SET NULL",
                                name=op.f("fk_runs_script_id_scripts")),
        sa.ForeignKeyConstraint(["replay_of"], ["runs.id"], ondelete="SET NULL",
                                name=op.f("fk_runs_replay_of_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_started_at"), "runs", ["started_at"])
    op.create_index(op.f("ix_runs_schedule_id"), "runs", ["schedule_id"])
    op.create_index("ix_runs_script_started", "runs", ["script_name", "started_at"])

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_used_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_tokens_digest")),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_index("ix_runs_script_started", table_name="runs")
    op.drop_index(op.f("ix_runs_schedule_id"), table_name="runs")
    op.drop_index(op.f("ix_runs_started_at"), table_name="runs")
    op.drop_table("runs")
    op.drop_index("ix_schedule_occurrences_lease", table_name="schedule_occurrences")
    op.drop_index("ix_schedule_occurrences_claim", table_name="schedule_occurrences")
    op.drop_table("schedule_occurrences")
    op.drop_index(op.f("ix_schedules_next_fire_at"), table_name="schedules")
    op.drop_index(op.f("ix_schedules_script_id"), table_name="schedules")
    op.drop_table("schedules")
    op.drop_table("script_versions")
    op.drop_index(op.f("ix_scripts_entry_name"), table_name="scripts")
    op.drop_table("scripts")
