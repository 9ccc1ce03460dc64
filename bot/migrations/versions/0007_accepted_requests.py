"""accepted_request: deferred `/mo` requests kept from their acknowledgement until they are answered

A request acknowledged with "working on it" used to live only in the memory of the process answering it: a
deploy, a crash or a kill lost it after the user had been told it was coming. Each is now a row, written (with its
audit row) before the acknowledgement and marked done when answered; another process answers what a stopped one
left, while its response_url is valid, or records it expired.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accepted_request",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("trigger_id", sa.String(length=160), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("channel_is_dm", sa.Boolean(), nullable=False),
        sa.Column("force", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("response_url", sa.String(length=512), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=96), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accepted_request")),
    )
    with op.batch_alter_table("accepted_request", schema=None) as batch_op:
        batch_op.create_index("ix_accepted_request_status_lease", ["status", "lease_expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("accepted_request", schema=None) as batch_op:
        batch_op.drop_index("ix_accepted_request_status_lease")
    op.drop_table("accepted_request")
