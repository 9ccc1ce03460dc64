"""Where the bot has posted about an action (channel + ts), so a change can update those messages in place and
add a short note in their thread instead of posting a new message each time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import ActionMessage

# Only the latest few messages about an action are kept in step; older ones are history.
KEEP_IN_STEP = 5


@dataclass(frozen=True)
class PostedMessage:
    channel_id: str
    ts: str


def remember_message(session: Session, action_id: int, channel_id: str, ts: str, now: dt.datetime) -> None:
    exists = session.scalar(
        select(ActionMessage.id).where(
            ActionMessage.action_id == action_id, ActionMessage.channel_id == channel_id, ActionMessage.ts == ts
        )
    )
    if exists is None:
        session.add(ActionMessage(action_id=action_id, channel_id=channel_id, ts=ts, posted_at=now))
        session.flush()


def messages_for(session: Session, action_id: int) -> list[PostedMessage]:
    rows = session.execute(
        select(ActionMessage.channel_id, ActionMessage.ts)
        .where(ActionMessage.action_id == action_id)
        .order_by(ActionMessage.posted_at.desc(), ActionMessage.id.desc())
        .limit(KEEP_IN_STEP)
    ).all()
    return [PostedMessage(c, t) for c, t in rows]


def forget_message(session: Session, channel_id: str, ts: str) -> None:
    """A message Slack no longer has (deleted): stop trying to update it."""
    for m in session.scalars(
        select(ActionMessage).where(ActionMessage.channel_id == channel_id, ActionMessage.ts == ts)
    ):
        session.delete(m)
    session.flush()
