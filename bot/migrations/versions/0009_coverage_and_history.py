"""coverage, history and outcomes: the date from which each import holds every open case, the latest retention
cutoff per force, every import's version of each case row, and how wanted circulations and suspects closed

A dataset's figures are complete only from the earliest date its imports declare to cover (or, without a
declaration, their as-of dates) and never before the last retention purge. Existing batches cover from their
as-of date (covers_from NULL); no purge is known until the next one runs.

Each case row gets valid_from (the as-of date of the import that gave it its current values) and each case table a
history table of the versions later imports replaced. Existing rows start as their first version (valid_from
0001-01-01, no history): their history starts at this migration.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REFERENCE = sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql")


def _history(name: str, stem: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("force", sa.String(length=32), nullable=False),
        sa.Column("reference", REFERENCE, nullable=False),
        *columns,
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    op.create_index(f"ix_{stem}_history_valid", name, ["force", "valid_to", "valid_from"], unique=False)
    op.create_index(f"ix_{stem}_history_case", name, ["case_id"], unique=False)


def upgrade() -> None:
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("covers_from", sa.Date(), nullable=True))
    op.create_table(
        "retention_cutoff",
        sa.Column("force", sa.String(length=32), nullable=False),
        sa.Column("cutoff", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("force", name=op.f("pk_retention_cutoff")),
    )
    for table in ("wanted", "suspect"):
        op.add_column(table, sa.Column("outcome", sa.String(length=32), nullable=True))
    for table in ("wanted", "suspect", "bail_period"):
        # A constant default: PostgreSQL records it without rewriting the table, SQLite without touching a row.
        op.add_column(table, sa.Column("valid_from", sa.Date(), server_default=sa.text("'0001-01-01'"), nullable=False))
    for table, stem in (("wanted", "wanted"), ("suspect", "suspect"), ("bail_period", "bail")):
        where = sa.text("valid_from > '0001-01-01'")
        op.create_index(
            f"ix_{stem}_revised",
            table,
            ["force", "valid_from"],
            unique=False,
            sqlite_where=where,
            postgresql_where=where,
        )
    lapsing = sa.text("kind = 'bail' AND bail_end_on IS NOT NULL AND (ended_on IS NULL OR ended_on > bail_end_on)")
    op.create_index(
        "ix_bail_lapsing",
        "bail_period",
        ["force", "bail_end_on", "started_on", "ended_on", "district", "offence"],
        unique=False,
        sqlite_where=lapsing,
        postgresql_where=lapsing,
    )
    common = (
        sa.Column("offence", sa.String(length=64), nullable=False),
        sa.Column("district", sa.String(length=48), nullable=False),
    )
    _history(
        "wanted_history",
        "wanted",
        *(sa.Column(c.name, c.type, nullable=c.nullable) for c in common),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("circulated_on", sa.Date(), nullable=False),
        sa.Column("last_reviewed_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("person_ref", sa.String(length=64), nullable=True),
    )
    _history(
        "suspect_history",
        "suspect",
        *(sa.Column(c.name, c.type, nullable=c.nullable) for c in common),
        sa.Column("identified_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("person_ref", sa.String(length=64), nullable=True),
    )
    _history(
        "bail_period_history",
        "bail",
        *(sa.Column(c.name, c.type, nullable=c.nullable) for c in common),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("bail_end_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("person_ref", sa.String(length=64), nullable=True),
        sa.Column("oic", sa.String(length=32), nullable=True),
    )


def downgrade() -> None:
    op.drop_index("ix_bail_lapsing", table_name="bail_period")
    for name in ("wanted_history", "suspect_history", "bail_period_history"):
        op.drop_table(name)
    for table, stem in (("wanted", "wanted"), ("suspect", "suspect"), ("bail_period", "bail")):
        op.drop_index(f"ix_{stem}_revised", table_name=table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN valid_from")
    for table in ("wanted", "suspect"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN outcome")
    op.drop_table("retention_cutoff")
    # Not batch mode: on SQLite that rebuilds import_batch, which the case tables reference (the foreign keys
    # refuse the DROP TABLE). Both databases drop a column in place (SQLite since 3.35).
    op.execute("ALTER TABLE import_batch DROP COLUMN covers_from")
