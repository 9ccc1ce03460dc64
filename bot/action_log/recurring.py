"""Recurring actions (e.g. "every 6 months", monthly audits) reopen themselves when they come round again: a
completed action whose period has passed since its completion is set back to open, due on the day it came round,
with a history row saying why. Run by the reminders job and ``mo-bot remind`` before anyone is reminded."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.action_log.service import to_view
from bot.action_log.types import ActionView
from bot.audit import AuditEntry, record
from bot.config import Force
from bot.dates import add_months
from bot.models import Action, ActionHistory

ACTOR = "job:recurring"


def due_again(completed_on: dt.date, months: int, today: dt.date | None = None) -> dt.date:
    """When the action comes round again after ``completed_on``; given ``today``, the latest time it came round up to
    today when that is later (a log imported, or the job not run, for longer than a period: the one due now is the
    latest, not one years back)."""
    due = add_months(completed_on, months)
    if today is None or due > today:
        return due
    n = 1
    while add_months(completed_on, months * (n + 1)) <= today:
        n += 1
    return add_months(completed_on, months * n)


def reopen_due(session: Session, force: Force, now: dt.datetime, dry_run: bool = False) -> list[ActionView]:
    """Reopen every completed recurring action of ``force`` that has come round by today; return them (as they
    are now, or would be with ``dry_run``). Each reopening is one history row and one audit row."""
    today = now.astimezone(force.timezone).date()
    rows = session.scalars(
        select(Action)
        .where(Action.force == force.slug, Action.status == "complete", Action.recur_months.is_not(None))
        .order_by(Action.id)
    ).all()
    out: list[ActionView] = []
    for row in rows:
        if row.completed_on is None or row.recur_months is None:
            continue
        first = due_again(row.completed_on, row.recur_months)
        if first > today:
            continue
        due = due_again(row.completed_on, row.recur_months, today)
        if not dry_run:
            note = f"recurs every {row.recur_months} month(s): due again on {due.isoformat()}"
            if due != first:
                note += f" (it first came round on {first.isoformat()}, since its completion on {row.completed_on})"
            version = row.version + 1
            for field, old, new in (("status", "complete", "open"), ("due_on", _iso(row.due_on), due.isoformat())):
                session.add(
                    ActionHistory(action_id=row.id, field=field, old_value=old, new_value=new, changed_by=ACTOR,
                                  changed_at=now, note=note, version=version, effective_on=due)
                )  # fmt: skip
            row.status, row.due_on, row.completed_on = "open", due, None
            row.version, row.updated_at = version, now
            record(
                session,
                AuditEntry(actor=ACTOR, action="change", outcome="ok", force=force.slug,
                           detail=f"reopen {row.reference}: {note}"),
                now,
            )  # fmt: skip
        out.append(to_view(force, row, today))
    session.flush()
    return out


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None
