"""revision_delta and revision_delta_state: what each import's revisions changed in every count, per group and
day, so that a figure at a past date takes them from a short range instead of reading the revised rows
(bot/figures/revisions.py). Created empty: until an import (or the retention purge) builds a force's table and
stamps its state, the figures read the rows as before, so an existing database answers the same meanwhile.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "revision_delta",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("force", sa.String(32), nullable=False),
        sa.Column("dataset", sa.String(16), nullable=False),
        sa.Column("revised_on", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("district", sa.String(48), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("offence", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
    )
    op.create_index("ix_revision_delta_at", "revision_delta", ["force", "dataset", "revised_on", "day"])
    op.create_table(
        "revision_delta_state",
        sa.Column("force", sa.String(32), primary_key=True),
        sa.Column("dataset", sa.String(16), primary_key=True),
        sa.Column("import_batch_id", BigId, nullable=True),
        sa.Column("review_days", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("revision_delta_state")
    op.drop_index("ix_revision_delta_at", table_name="revision_delta")
    op.drop_table("revision_delta")
