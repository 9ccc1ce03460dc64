"""month flows for the series; the figures read one (force, closed) index per table

The opened-date indexes (ix_wanted_circulated, ix_suspect_identified, ix_bail_started) go: "opened in a recent
window" is now answered from the (force, closed) index (a row never closes before it opens) and the monthly
series from month_flow. On PostgreSQL the open indexes carry their grouping columns as INCLUDE columns.

month_flow starts empty: until the next import of a dataset its series is computed from the case rows (correct,
slower); month_flow_state says which import the flows were built from.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, key columns, covered columns) — the open index of each case table.
OPEN_INDEXES = [
    ("wanted", "ix_wanted_open", ["force", "closed_on"], ["district", "reason", "offence", "circulated_on",
                                                          "last_reviewed_on"]),
    ("suspect", "ix_suspect_open", ["force", "closed_on"], ["district", "offence", "identified_on"]),
    ("bail_period", "ix_bail_open", ["force", "kind", "ended_on"], ["district", "offence", "started_on",
                                                                  "bail_end_on"]),
]  # fmt: skip
OPENED_INDEXES = [
    ("wanted", "ix_wanted_circulated", ["force", "circulated_on", "district", "reason", "offence"]),
    ("suspect", "ix_suspect_identified", ["force", "identified_on", "district", "offence"]),
    ("bail_period", "ix_bail_started", ["force", "kind", "started_on", "district", "offence"]),
]


def upgrade() -> None:
    op.create_table(
        "month_flow",
        sa.Column("force", sa.String(length=32), nullable=False),
        sa.Column("series", sa.String(length=16), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("district", sa.String(length=48), nullable=False),
        sa.Column("offence", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "force", "series", "month", "district", "offence", "reason", name=op.f("pk_month_flow")
        ),
    )
    op.create_table(
        "month_flow_state",
        sa.Column("force", sa.String(length=32), nullable=False),
        sa.Column("dataset", sa.String(length=16), nullable=False),
        sa.Column("import_batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("force", "dataset", name=op.f("pk_month_flow_state")),
    )
    for table, name, _ in OPENED_INDEXES:
        op.drop_index(name, table_name=table)
    if op.get_bind().dialect.name == "postgresql":
        for table, name, keys, covered in OPEN_INDEXES:
            op.drop_index(name, table_name=table)
            op.create_index(name, table, keys, unique=False, postgresql_include=covered)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, name, keys, covered in OPEN_INDEXES:
            op.drop_index(name, table_name=table)
            op.create_index(name, table, [*keys, *covered], unique=False)
    for table, name, cols in OPENED_INDEXES:
        op.create_index(name, table, cols, unique=False)
    op.drop_table("month_flow_state")
    op.drop_table("month_flow")
