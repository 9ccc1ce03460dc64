"""The action log as the subgroup keeps it: several owners per action, kinds (action, achievement, HMIC
recommendation), recurring actions, real dates, and the update round before each meeting

- ``action_owner``: one row per owner; filled from each action's owner initials ("JM & JG" → JM, JG) and its Slack
  user, so an action owned jointly is found, changed and reminded for each owner.
- ``action.kind`` (HMIC recommendations and recorded achievements kept apart from open actions), ``recur_months``,
  ``opened_on`` (from the day the action was created) and ``evidence``; ``action_history.effective_on`` (the day
  a change recorded later took effect).
- ``meeting``, ``round_message`` and ``round_answer``: the meetings' dates and each update round's DMs and answers.

Existing rows keep their history; kinds are set from each row's source (an HMICFRS report, or the log's
Achievements) so a database holding the imported July 2022 log counts its open actions as the paper does.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The separators the log writes between joint owners: "JM & JG", "JM/JG", "JM, JG", "JM and JG".
_SPLIT = re.compile(r"\s*(?:&|/|,|\+|\band\b)\s*", re.IGNORECASE)


def upgrade() -> None:
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="action", nullable=False))
        batch_op.add_column(sa.Column("recur_months", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("opened_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("evidence", sa.Text(), nullable=True))
        batch_op.create_index("ix_action_force_kind_status_due", ["force", "kind", "status", "due_on"], unique=False)
    with op.batch_alter_table("action_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_on", sa.Date(), nullable=True))
    op.create_table(
        "action_owner",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("action_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("initials", sa.String(length=16), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"], ["action.id"], name=op.f("fk_action_owner_action_id_action"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_owner")),
        sa.UniqueConstraint("action_id", "position", name="uq_action_owner_action_position"),
    )
    with op.batch_alter_table("action_owner", schema=None) as batch_op:
        batch_op.create_index("ix_action_owner_user", ["user_id"], unique=False)
        batch_op.create_index("ix_action_owner_initials", ["initials"], unique=False)
    op.create_table(
        "meeting",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("force", sa.String(length=32), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
        sa.UniqueConstraint("force", "held_on", name="uq_meeting_force_held_on"),
    )
    op.create_table(
        "round_message",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("force", sa.String(length=32), nullable=False),
        sa.Column("meeting_on", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_message")),
        sa.UniqueConstraint("force", "meeting_on", "user_id", "kind", name="uq_round_message_force_meeting_user_kind"),
    )
    op.create_table(
        "round_answer",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("force", sa.String(length=32), nullable=False),
        sa.Column("meeting_on", sa.Date(), nullable=False),
        sa.Column("action_id", _ID, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["action.id"], name=op.f("fk_round_answer_action_id_action"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_answer")),
    )
    with op.batch_alter_table("round_answer", schema=None) as batch_op:
        batch_op.create_index("ix_round_answer_force_meeting", ["force", "meeting_on"], unique=False)
    _backfill()


def _backfill() -> None:
    conn = op.get_bind()
    action = sa.table(
        "action",
        sa.column("id", sa.Integer),
        sa.column("owner_initials", sa.String),
        sa.column("owner_user_id", sa.String),
        sa.column("source", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("kind", sa.String),
        sa.column("opened_on", sa.Date),
    )
    owner = sa.table(
        "action_owner",
        sa.column("action_id", sa.Integer),
        sa.column("position", sa.Integer),
        sa.column("initials", sa.String),
        sa.column("user_id", sa.String),
    )
    rows = conn.execute(
        sa.select(action.c.id, action.c.owner_initials, action.c.owner_user_id, action.c.source, action.c.created_at)
    ).all()
    owners: list[dict[str, object]] = []
    for id_, initials, user_id, source, created_at in rows:
        parts = [p.upper() for p in _SPLIT.split(initials or "") if p.strip()]
        if len(parts) <= 1:
            if parts or user_id:
                owners.append({"action_id": id_, "position": 0, "initials": parts[0] if parts else None,
                               "user_id": user_id})  # fmt: skip
        else:
            owners += [{"action_id": id_, "position": i, "initials": p, "user_id": None} for i, p in enumerate(parts)]
        src = (source or "").strip()
        kind = "hmic" if src.upper().startswith("HMIC") else "achievement" if src.endswith("Achievements") else "action"
        conn.execute(
            sa.update(action)
            .where(action.c.id == id_)
            .values(kind=kind, opened_on=created_at.date() if created_at is not None else None)
        )
    if owners:
        conn.execute(sa.insert(owner), owners)


def downgrade() -> None:
    with op.batch_alter_table("round_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_round_answer_force_meeting")
    op.drop_table("round_answer")
    op.drop_table("round_message")
    op.drop_table("meeting")
    with op.batch_alter_table("action_owner", schema=None) as batch_op:
        batch_op.drop_index("ix_action_owner_initials")
        batch_op.drop_index("ix_action_owner_user")
    op.drop_table("action_owner")
    with op.batch_alter_table("action_history", schema=None) as batch_op:
        batch_op.drop_column("effective_on")
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index("ix_action_force_kind_status_due")
        batch_op.drop_column("evidence")
        batch_op.drop_column("opened_on")
        batch_op.drop_column("recur_months")
        batch_op.drop_column("kind")
