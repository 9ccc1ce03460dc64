"""coverage: the date from which each import holds every open case, and the latest retention cutoff per force

A dataset's figures are complete only from the earliest date its imports declare to cover (or, without a
declaration, their as-of dates) and never before the last retention purge. Existing batches cover from their
as-of date (covers_from NULL); no purge is known until the next one runs.

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


def upgrade() -> None:
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("covers_from", sa.Date(), nullable=True))
    op.create_table(
        "retention_cutoff",
        sa.Column("force", sa.String(length=32), nullable=False),
        sa.Column("cutoff", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("force", name=op.f("pk_retention_cutoff")),
    )


def downgrade() -> None:
    op.drop_table("retention_cutoff")
    # Not batch mode: on SQLite that rebuilds import_batch, which the case tables reference (the foreign keys
    # refuse the DROP TABLE). Both databases drop a column in place (SQLite since 3.35).
    op.execute("ALTER TABLE import_batch DROP COLUMN covers_from")
