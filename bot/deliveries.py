"""Claiming Slack deliveries once, so a retried Events API delivery does no duplicate work.

Slack re-sends an event (with ``X-Slack-Retry-Num``) when the first delivery was not acknowledged within 3
seconds or failed — but a slow first delivery may still be running, or have run on another worker or replica.
The first delivery INSERTs its key; a retry finds the key taken and is acknowledged without running the listener.
A unique primary key makes the claim atomic on both databases without locking anything else.
"""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db import rowcount
from bot.models import SlackDelivery

KEEP = dt.timedelta(days=1)  # Slack retries within minutes; a day is generous
_PURGE_EVERY = 500  # claims per process between purges of old keys
_counter = itertools.count(1)


def claim(sessions: sessionmaker[Session], key: str, now: dt.datetime) -> bool:
    """True if this is the first delivery of ``key`` (the caller does the work); False if already claimed."""
    key = key[:160]
    with sessions() as s:
        try:
            with s.begin():
                s.add(SlackDelivery(key=key, received_at=now))
        except IntegrityError:
            return False
        if next(_counter) % _PURGE_EVERY == 0:
            with s.begin():
                purge(s, now - KEEP)
    return True


def purge(session: Session, before: dt.datetime) -> int:
    result = session.execute(delete(SlackDelivery).where(SlackDelivery.received_at < before))
    return rowcount(result)
