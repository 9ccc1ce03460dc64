"""closed_ahead: the current rows closed per group, day and outcome from the 1st of the latest import's month on
(bot/figures/closed_ahead.py); people_state becomes ahead_state, the stamp of both forward aggregates; and an
index of the open rows by person, so an import recounts only the people it touched (bot/figures/people_ahead.py).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 12:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERSON_INDEXES = (
    ("wanted", "wanted", "closed_on"),
    ("suspect", "suspect", "closed_on"),
    ("bail_period", "bail", "ended_on"),
)


def upgrade() -> None:
    op.create_table(
        "closed_ahead",
        sa.Column("force", sa.String(32), primary_key=True),
        sa.Column("dataset", sa.String(16), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("district", sa.String(48), primary_key=True),
        sa.Column("reason", sa.String(32), primary_key=True),
        sa.Column("offence", sa.String(64), primary_key=True),
        sa.Column("outcome", sa.String(32), primary_key=True),
        sa.Column("closed", sa.Integer(), nullable=False),
    )
    # The stamp now covers both aggregates; what it holds was counted without the closures, so it is emptied and
    # the answers read the rows until each dataset's next import.
    op.execute("DELETE FROM people_state")
    op.rename_table("people_state", "ahead_state")
    # The open rows that name a person, so an import recounts only the people it touched.
    for table, stem, closed in PERSON_INDEXES:
        where = sa.text(f"{closed} IS NULL AND person_ref IS NOT NULL")
        op.create_index(f"ix_{stem}_person", table, ["force", "person_ref"], sqlite_where=where,
                        postgresql_where=where)  # fmt: skip


def downgrade() -> None:
    for table, stem, _closed in PERSON_INDEXES:
        op.drop_index(f"ix_{stem}_person", table_name=table)
    op.rename_table("ahead_state", "people_state")
    op.drop_table("closed_ahead")
