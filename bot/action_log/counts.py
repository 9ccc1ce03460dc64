"""Counts over a force's action log, unaudited (no action is shown): the state of the log by pillar and status,
and what was overdue and completed in a month (the monthly summary's headlines, App Home's overview)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from bot.action_log.types import LIVE_STATUSES, PILLARS, STATUSES
from bot.models import Action


@dataclass(frozen=True)
class MonthActions:
    """One force's actions in a month that ended (or is summarised up to) ``last``."""

    overdue: int  # at ``last``: due before it and still being worked on then
    completed: int  # completed from the month's first day to ``last``


def month_actions(session: Session, force: str, first: dt.date, last: dt.date) -> MonthActions:
    """Overdue at D = ``last``: due before D and still being worked on at D — live now, or completed only after
    D. Cancellations carry no date, so a cancelled action is never counted as overdue."""
    a = Action
    overdue_col = func.coalesce(
        func.sum(
            case(
                (
                    and_(
                        a.due_on < last,
                        or_(a.status.in_(LIVE_STATUSES), and_(a.status == "complete", a.completed_on > last)),
                    ),
                    1,
                ),
                else_=0,
            )
        ),
        0,
    )
    done_col = func.coalesce(
        func.sum(case((and_(a.status == "complete", a.completed_on.between(first, last)), 1), else_=0)), 0
    )
    # HMIC recommendations are tracked apart: never counted among the actions.
    row = session.execute(select(overdue_col, done_col).where(a.force == force, a.kind != "hmic")).one()
    return MonthActions(overdue=int(row[0]), completed=int(row[1]))


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
