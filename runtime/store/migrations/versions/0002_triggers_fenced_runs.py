"""triggers: at most one run record per claim of an occurrence.

A node records a scheduled run only while the occurrence still carries its claim's
fencing token (occurrence, attempt); this unique index makes the database refuse a
second record of the same claim whatever happens in the code above it. Runs of other
triggers have no occurrence (NULL), which a unique index never compares.

Before fencing, a node that lost its lease still recorded its run; should two records of
one claim exist from then, the later ones keep everything but their link to the
occurrence (they stay in the history, under their schedule), so the index can be built.

Revision ID: 0002_triggers_fenced_runs
Revises: 0001_triggers
Create Date: 2026-12-07
"""

from alembic import op

revision = "0002_triggers_fenced_runs"
down_revision = "0001_triggers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE runs SET occurrence_id = NULL WHERE occurrence_id IS NOT NULL AND id "
               "NOT IN (SELECT MIN(id) FROM runs WHERE occurrence_id IS NOT NULL "
               "GROUP BY occurrence_id, attempt)")
    op.create_index("uq_runs_occurrence_attempt", "runs", ["occurrence_id", "attempt"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_runs_occurrence_attempt", table_name="runs")
