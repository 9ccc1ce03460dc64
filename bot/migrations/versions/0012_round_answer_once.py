"""round_answer: one answer per owner, action and meeting (a unique index), so a repeated click in the update
round's DM can never record a second answer. Duplicates written before are folded into the latest.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_round_answer_force_meeting_action_user"


def upgrade() -> None:
    # Keep the latest answer of each owner for each action and meeting (the one the DM now shows).
    op.execute(
        sa.text(
            "DELETE FROM round_answer WHERE id NOT IN (SELECT MAX(id) FROM round_answer "
            "GROUP BY force, meeting_on, action_id, user_id)"
        )
    )
    op.create_index(INDEX, "round_answer", ["force", "meeting_on", "action_id", "user_id"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="round_answer")
