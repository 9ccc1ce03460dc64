"""shared_answer and shared_answer_warm: the `/mo` answers of each import generation, computed once after the import
and read by every process and replica (bot/shared_answers.py), and which process computes them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "shared_answer",
        sa.Column("force", sa.String(32), primary_key=True),
        sa.Column("dataset", sa.String(16), primary_key=True),
        sa.Column("generation", BigId, primary_key=True),
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "shared_answer_warm",
        sa.Column("force", sa.String(32), primary_key=True),
        sa.Column("dataset", sa.String(16), primary_key=True),
        sa.Column("generation", BigId, primary_key=True),
        sa.Column("claimed_by", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("shared_answer_warm")
    op.drop_table("shared_answer")
