"""people_ahead.named: beside the people of each group and day, the rows naming a person that stop counting then
(bot/figures/people_ahead.py), so an answer says how many of its rows its people were counted from.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 19:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("people_ahead", sa.Column("named", sa.Integer(), nullable=False, server_default="0"))
    # What the aggregates hold was counted without the named rows: they are emptied and unstamped, so the answers
    # read the rows until each dataset's next import counts them whole again.
    op.execute("DELETE FROM people_ahead")
    op.execute("DELETE FROM closed_ahead")
    op.execute("DELETE FROM ahead_state")


def downgrade() -> None:
    with op.batch_alter_table("people_ahead") as batch:
        batch.drop_column("named")
