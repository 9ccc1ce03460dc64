"""slack_file_import.covers_from: an export sent to the bot may declare, as on the command line, that it holds every
case open since a date (``--covers-from``); a ``--snapshot`` waiting for its Confirm keeps that declaration.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("slack_file_import", schema=None) as batch_op:
        batch_op.add_column(sa.Column("covers_from", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slack_file_import", schema=None) as batch_op:
        batch_op.drop_column("covers_from")
