"""people_ahead and people_state: the distinct people of the current rows from the latest import on, per group
at each level of the filters (bot/figures/people_ahead.py), so that "how many people" reads as many rows as there
are groups.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "people_ahead",
        sa.Column("force", sa.String(32), primary_key=True),
        sa.Column("dataset", sa.String(16), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("district", sa.String(48), primary_key=True),
        sa.Column("reason", sa.String(32), primary_key=True),
        sa.Column("offence", sa.String(64), primary_key=True),
        sa.Column("leaves", sa.Date(), primary_key=True),
        sa.Column("people", sa.Integer(), nullable=False),
    )
    # Until an import fills it, every answer counts people from the rows, as before.
    op.create_table(
        "people_state",
        sa.Column("force", sa.String(32), primary_key=True),
        sa.Column("dataset", sa.String(16), primary_key=True),
        sa.Column("import_batch_id", BigId, nullable=True),
        sa.Column("start", sa.Date(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("people_state")
    op.drop_table("people_ahead")
