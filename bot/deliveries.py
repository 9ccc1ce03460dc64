"""Claiming keys once, in a table every worker and replica shares: Slack deliveries that must not run twice, and
changes that must not be made twice.

- **Retries.** Slack re-sends an event (with ``X-Slack-Retry-Num``) when the first delivery was not acknowledged
  within 3 seconds or failed — but a slow first delivery may still be running, or have run on another worker or
  replica. The first delivery claims its ``event_id``; a retry finds the key taken and is not run again. An
  attempt that fails gives its claim back (:func:`release`), so a later retry runs.
- **Replays.** A signed request copied and sent again within Slack's 5-minute window passes the signature check.
  Its ``X-Slack-Signature`` is claimed the first time; a copy finds it taken and is not run again.
- **Changes made once per interaction** (:func:`claim_in`). A change claims the key of the interaction that asked
  for it (a slash command's ``trigger_id``, a modal's view id) in the change's own transaction, once the rules
  have accepted it: committed with the change, or rolled back with it. A request the rules refuse claims nothing,
  so a form answered with errors can be corrected and sent again.

A claim is one ``INSERT … ON CONFLICT DO NOTHING`` on the primary key, atomic on both databases without locking
anything else. Keys are kept a day (every replay and retry comes within minutes) and purged as new ones come.
"""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.db import lock_wait_at_most, rowcount
from bot.models import SlackDelivery

KEEP = dt.timedelta(days=1)  # Slack retries within minutes and a signature is valid for 5; a day is generous
_PURGE_EVERY = 500  # claims per process between purges of old keys
_counter = itertools.count(1)
MAX_KEY = 160  # the column's length
TAKE_OVER_WAIT_MS = 1000  # on the ack path: Slack waits 3 s


def claim(sessions: sessionmaker[Session], key: str, now: dt.datetime, wait_ms: int | None = None) -> bool:
    """True if this is the first delivery of ``key`` (the caller does the work); False if already claimed. The
    claim is committed at once, in its own transaction. With ``wait_ms`` the claim waits at most that long for
    a lock (an import writing on SQLite) and raises OperationalError after it, for the caller to say so."""
    with sessions() as s:
        with s.begin():
            if wait_ms is None:
                first = claim_in(s, key, now)
            else:
                with lock_wait_at_most(s, wait_ms):
                    first = claim_in(s, key, now)
        if first and next(_counter) % _PURGE_EVERY == 0:
            try:
                with s.begin():
                    if wait_ms is None:
                        purge(s, now - KEEP)
                    else:
                        with lock_wait_at_most(s, wait_ms):
                            purge(s, now - KEEP)
            except OperationalError:  # busy: the next purge takes these too; the claim above is what mattered
                pass
    return first


def release(sessions: sessionmaker[Session], key: str) -> None:
    """Give back the claim on ``key`` (its work failed): the next delivery of it is run."""
    with sessions() as s, s.begin():
        s.execute(delete(SlackDelivery).where(SlackDelivery.key == key[:MAX_KEY]))


def take_over(sessions: sessionmaker[Session], key: str, now: dt.datetime, claimed_before: dt.datetime) -> bool:
    """Take over the claim on ``key`` if it was made before ``claimed_before`` (the attempt that made it is dead:
    killed, or hung past any ack); True for the one caller that took it. One conditional UPDATE: of several
    takers at once, one wins."""
    with sessions() as s, s.begin(), lock_wait_at_most(s, TAKE_OVER_WAIT_MS):
        taken = s.execute(
            update(SlackDelivery)
            .where(SlackDelivery.key == key[:MAX_KEY], SlackDelivery.received_at < claimed_before)
            .values(received_at=now)
        )
        return rowcount(taken) == 1


def claim_in(session: Session, key: str, now: dt.datetime) -> bool:
    """Claim ``key`` in ``session``'s transaction: True if it was free (it is now taken, until the transaction
    ends: committed, it stays taken; rolled back, it is free again). On PostgreSQL a concurrent transaction
    claiming the same key waits for this one and then finds it taken; SQLite has one writer at a time."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(SlackDelivery)
        .values(key=key[:MAX_KEY], received_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(SlackDelivery.key)
    )
    return session.execute(stmt).first() is not None


def taken(session: Session, key: str) -> bool:
    """Whether ``key`` is already claimed (committed, or earlier in this transaction)."""
    return session.get(SlackDelivery, key[:MAX_KEY]) is not None


def purge(session: Session, before: dt.datetime) -> int:
    result = session.execute(delete(SlackDelivery).where(SlackDelivery.received_at < before))
    return rowcount(result)
