"""Export of the audit log for the data-protection officer (DPA 2018 s.62): CSV or JSON Lines, streamed.

Events are read in id order in batches (``yield_per``; a server-side cursor on PostgreSQL), so a year of audit
events never sits in memory. The period is given in local dates (the deployment's timezone) and covers whole
days: ``since`` from its midnight, ``until`` to the end of that day. Every CSV cell goes through
:func:`bot.exports.neutralise_cell`: the detail column holds what people typed, and a spreadsheet must show it,
never run it as a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.exports import neutralise_cell
from bot.models import AuditEvent

FORMATS = ("csv", "jsonl")


@dataclass(frozen=True)
class Scope:
    """An export asked in Slack: one force's events (never another's), optionally one person's."""

    force: str
    team_ids: tuple[str, ...]
    actor: str | None = None


COLUMNS = (
    "id",
    "at",
    "actor",
    "team_id",
    "channel_id",
    "force",
    "action",
    "detail",
    "outcome",
    "records_disclosed",
    "reference",
)


def period_bounds(since: dt.date, until: dt.date | None, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime | None]:
    """[start, end) in UTC for whole local days ``since`` … ``until`` (inclusive)."""
    if until is not None and until < since:
        raise ValueError(f"--until {until.isoformat()} is before --since {since.isoformat()}")
    start = dt.datetime.combine(since, dt.time(), tz).astimezone(dt.UTC)
    end = None
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
    return start, end


def iter_events(
    session: Session,
    start: dt.datetime,
    end: dt.datetime | None,
    batch: int = 1000,
    *,
    scope: Scope | None = None,
) -> Iterator[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.at >= start)
    if end is not None:
        stmt = stmt.where(AuditEvent.at < end)
    if scope is not None:
        # One force's events: those naming it, and those of its workspaces that named no force (refused early).
        of_force = or_(
            AuditEvent.force == scope.force, and_(AuditEvent.force.is_(None), AuditEvent.team_id.in_(scope.team_ids))
        )
        stmt = stmt.where(of_force)
        if scope.actor is not None:
            stmt = stmt.where(AuditEvent.actor == scope.actor)
    stmt = stmt.order_by(AuditEvent.id).execution_options(yield_per=batch)
    for ev in session.scalars(stmt):
        yield ev
        # Batches are released as they are written; expunge keeps the identity map from growing.
        session.expunge(ev)


def _row(ev: AuditEvent) -> dict[str, object]:
    return {
        "id": ev.id,
        "at": ev.at.astimezone(dt.UTC).isoformat(),
        "actor": ev.actor,
        "team_id": ev.team_id,
        "channel_id": ev.channel_id,
        "force": ev.force,
        "action": ev.action,
        "detail": ev.detail,
        "outcome": ev.outcome,
        "records_disclosed": ev.records_disclosed,
        "reference": ev.reference,
    }


def _cell(v: object) -> object:
    return "" if v is None else neutralise_cell(v)


def export_audit(
    session: Session,
    out: TextIO,
    start: dt.datetime,
    end: dt.datetime | None,
    fmt: str = "csv",
    *,
    scope: Scope | None = None,
) -> int:
    """Write the events in [start, end) (of ``scope`` only, when given) to ``out``; returns how many."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    n = 0
    if fmt == "csv":
        w = csv.writer(out)
        w.writerow(COLUMNS)
        for ev in iter_events(session, start, end, scope=scope):
            row = _row(ev)
            w.writerow([_cell(row[c]) for c in COLUMNS])
            n += 1
    else:
        for ev in iter_events(session, start, end, scope=scope):
            out.write(json.dumps(_row(ev), ensure_ascii=False) + "\n")
            n += 1
    return n
