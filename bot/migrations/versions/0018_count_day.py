"""count_day, count_checkpoint and count_state: the current rows' counts per group and day and their running
totals at anchor days (bot/figures/day_counts.py), so that a figure reads as many rows as there are groups; and
revision_checkpoint: each import's revision changes summed at anchor days (bot/figures/revisions.py).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 09:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATES = ("open", "band1", "band2", "band3", "band4", "flag", "flag_band1", "flag_band2", "flag_band3", "flag_band4")


def _group(first: str, first_type: sa.types.TypeEngine) -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("force", sa.String(32), primary_key=True),
        sa.Column("dataset", sa.String(16), primary_key=True),
        sa.Column(first, first_type, primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("district", sa.String(48), primary_key=True),
        sa.Column("reason", sa.String(32), primary_key=True),
        sa.Column("offence", sa.String(64), primary_key=True),
    ]


def upgrade() -> None:
    day_counts = ("open", "opened", "closed", *STATES[1:])
    op.create_table(
        "count_day",
        *_group("day", sa.Date()),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in day_counts),
    )
    op.create_table(
        "count_checkpoint",
        *_group("at", sa.Date()),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in STATES),
    )
    op.create_table(
        "count_state",
        sa.Column("force", sa.String(32), primary_key=True),
        sa.Column("dataset", sa.String(16), primary_key=True),
        sa.Column("import_batch_id", BigId, nullable=True),
        sa.Column("review_days", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("anchor", sa.Date(), nullable=True),
    )
    op.create_table(
        "revision_checkpoint",
        sa.Column("force", sa.String(32), primary_key=True),
        sa.Column("dataset", sa.String(16), primary_key=True),
        sa.Column("at", sa.Date(), primary_key=True),
        sa.Column("revised_on", sa.Date(), primary_key=True),
        sa.Column("measure", sa.String(16), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("district", sa.String(48), primary_key=True),
        sa.Column("reason", sa.String(32), primary_key=True),
        sa.Column("offence", sa.String(64), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    # The corrections now read the revision checkpoints, which each dataset's next import builds (an import that
    # finds no state rebuilds every import's changes): until then the figures read the rows, as they do for any
    # state not current.
    op.execute("DELETE FROM revision_delta_state")


def downgrade() -> None:
    op.drop_table("revision_checkpoint")
    op.drop_table("count_state")
    op.drop_table("count_checkpoint")
    op.drop_table("count_day")
