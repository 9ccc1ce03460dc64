"""The append-only audit log (DPA 2018 Part 3, s.62): who, when, what was asked, how many records shown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import AuditEvent

OUTCOMES = ("ok", "refused", "invalid", "error")


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    outcome: str
    detail: str = ""
    force: str | None = None
    team_id: str | None = None
    channel_id: str | None = None
    records_disclosed: int = 0
    reference: str | None = None


def record(session: Session, entry: AuditEntry, at: dt.datetime | None = None) -> AuditEvent:
    """Append one event in the caller's transaction (use when it must commit or fail with the change)."""
    if entry.outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of {OUTCOMES}, got {entry.outcome!r}")
    ev = AuditEvent(
        actor=entry.actor,
        action=entry.action,
        outcome=entry.outcome,
        detail=entry.detail,
        force=entry.force,
        team_id=entry.team_id,
        channel_id=entry.channel_id,
        records_disclosed=entry.records_disclosed,
        reference=entry.reference,
    )
    if at is not None:
        ev.at = at
    session.add(ev)
    session.flush()
    return ev


_INSERT = insert(AuditEvent.__table__)


def append(session: Session, entry: AuditEntry, at: dt.datetime | None = None) -> None:
    """:func:`record` without the ORM: one Core INSERT on the session's connection, in the caller's transaction.

    For the hot path (every `/mo` answer appends one event): the ORM unit of work (instance state, flush, identity
    map) costs several times the INSERT itself. Same row, same defaults (``at``: now when not given); nothing is
    added to the session, so nothing is returned. Pending ORM changes in the session are flushed at commit, in the
    same transaction, so the event still commits with them or neither does."""
    if entry.outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of {OUTCOMES}, got {entry.outcome!r}")
    row = {
        "actor": entry.actor,
        "action": entry.action,
        "outcome": entry.outcome,
        "detail": entry.detail,
        "force": entry.force,
        "team_id": entry.team_id,
        "channel_id": entry.channel_id,
        "records_disclosed": entry.records_disclosed,
        "reference": entry.reference,
    }
    if at is not None:
        row["at"] = at
    session.connection().execute(_INSERT, row)


def record_separately(sessions: sessionmaker[Session], entry: AuditEntry, at: dt.datetime | None = None) -> None:
    """Append one event in its own transaction: a refused or failed request is logged even though its
    own work was rolled back."""
    with sessions() as s, s.begin():
        append(s, entry, at)


def events_since(session: Session, since: dt.datetime) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.at >= since).order_by(AuditEvent.id)))
