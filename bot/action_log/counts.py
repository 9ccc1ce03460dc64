"""Counts over a force's action log, unaudited (no action is shown): the state of the log by pillar and status,
and what was overdue and completed in a month (the monthly summary's headlines, App Home's overview)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.action_log.as_of import changes_undone
from bot.action_log.types import LIVE_STATUSES, PILLARS, STATUSES, HistoryEntry
from bot.config import Force
from bot.models import Action, ActionHistory


@dataclass(frozen=True)
class MonthActions:
    """One force's actions in a month that ended (or is summarised up to) ``last``."""

    overdue: int  # at ``last``: due before it and still being worked on then
    completed: int  # completed from the month's first day to ``last``
    undated: int = 0  # at ``last``: still being worked on and with no due date (so never counted as overdue)


@dataclass(frozen=True)
class _Logged:
    """The fields of one action the month's counts read, as they are now, and its history."""

    status: str
    due_on: dt.date | None
    completed_on: dt.date | None
    kind: str
    opened_on: dt.date
    history: tuple[HistoryEntry, ...]


@dataclass(frozen=True)
class LogStates:
    """A force's action log with the history of each action, to count it as it stood on any past day."""

    tz: dt.tzinfo
    actions: tuple[_Logged, ...]


_COUNTED = ("status", "due_on", "completed_on", "kind")  # what a change since can have altered of _Logged


def log_states(session: Session, force: Force) -> LogStates:
    a, h = Action, ActionHistory
    history: dict[int, list[HistoryEntry]] = {}
    rows = session.execute(
        select(h.action_id, h.field, h.old_value, h.new_value, h.changed_by, h.changed_at, h.note, h.version,
               h.effective_on)
        .join(a, a.id == h.action_id)
        .where(a.force == force.slug)
        .order_by(h.id)
    )  # fmt: skip
    for r in rows:
        entry = HistoryEntry(r.field, r.old_value, r.new_value, r.changed_by, r.changed_at, r.note, r.version,
                             r.effective_on)  # fmt: skip
        history.setdefault(r.action_id, []).append(entry)
    actions = session.execute(
        select(a.id, a.status, a.due_on, a.completed_on, a.kind, a.opened_on, a.created_at).where(a.force == force.slug)
    )
    tz = force.timezone
    return LogStates(
        tz,
        tuple(
            _Logged(status, due, done, kind, opened or created.astimezone(tz).date(), tuple(history.get(i, ())))
            for i, status, due, done, kind, opened, created in actions
        ),
    )


def month_actions(log: LogStates, first: dt.date, last: dt.date) -> MonthActions:
    """Each action as it stood at the end of ``last`` (:mod:`bot.action_log.as_of`: a due date moved, a cancellation
    or a completion made since is undone), so a past month's figures are what the log said then. Overdue at
    ``last``: in the log by then, due before it and still being worked on then — live, or completed only after it
    (a completion recorded by import carries no history). HMIC recommendations are tracked apart: never counted."""
    overdue = completed = undated = 0
    for now in log.actions:
        if now.opened_on > last:
            continue
        _, undo = changes_undone(list(now.history), log.tz, last)
        then = replace(now, **{k: v for k, v in undo.items() if k in _COUNTED}) if undo else now  # type: ignore[arg-type]
        if then.kind == "hmic":
            continue
        due, done = then.due_on, then.completed_on
        if (
            due is not None
            and due < last
            and (then.status in LIVE_STATUSES or (then.status == "complete" and done and done > last))
        ):
            overdue += 1
        if then.status == "complete" and done is not None and first <= done <= last:
            completed += 1
        if due is None and then.status in LIVE_STATUSES:
            undated += 1
    return MonthActions(overdue=overdue, completed=completed, undated=undated)


def counts_by_pillar(session: Session, force: str) -> dict[str, dict[str, int]]:
    """pillar -> status -> number of actions now (achievements included, HMIC recommendations not: they are
    tracked apart and never count as open actions): every pillar and status (zeros included) in report order,
    then any pillar or status the data has beyond them."""
    counts = {p: dict.fromkeys(STATUSES, 0) for p in PILLARS}
    rows = session.execute(
        select(Action.pillar, Action.status, func.count())
        .where(Action.force == force, Action.kind != "hmic")
        .group_by(Action.pillar, Action.status)
    )
    for pillar, status, n in rows:
        counts.setdefault(pillar, dict.fromkeys(STATUSES, 0))
        counts[pillar][status] = counts[pillar].get(status, 0) + int(n)
    return counts
