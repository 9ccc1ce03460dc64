"""The month's closures by outcome from the import's aggregate, without the rows.

``closed_by_outcome`` at D counts the rows closed from the 1st of D's month to D, by recorded outcome — a sum, but
over the month's closures, which at the design point are tens of thousands of rows read from the table. From the
latest import's as-of date on the current rows are the rows as known, so each import writes their closures per
group, day and outcome from the 1st of its as-of date's month on (``closed_ahead``: every D it answers for has its
month start there or later), and the answer at D sums the days of D's month: a row per group, day and outcome.
Before ``start`` (bot/figures/ahead_state.py) and for ``older_than`` (it cuts on the opened date) the rows answer
(bot/figures/outcomes.py).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import Session

from bot.dates import month_start
from bot.figures.ahead_state import answers_at
from bot.figures.source import BAIL, SOURCES, WANTED, group_conditions
from bot.figures.types import Filters
from bot.models import ClosedAhead


def count_closures(session: Session, dataset: str, force: str, start: dt.date) -> None:
    """Write ``closed_ahead`` for ``force``'s ``dataset``: its rows closed from the 1st of ``start``'s month on
    (the caller has emptied it: bot/figures/ahead.py). One grouped statement over that range of closed dates."""
    src = SOURCES[dataset]
    m = src.model
    closed = getattr(m, src.closed.key)
    kind = m.kind if dataset == BAIL.dataset else literal("")
    reason = m.reason if dataset == WANTED.dataset else literal("")
    outcome = func.coalesce(m.outcome, "")
    keys = [closed, kind, m.district, reason, m.offence, outcome]
    rows = (
        select(literal(force), literal(dataset), *keys, func.count())
        .where(m.force == force, closed >= month_start(start))
        .group_by(*keys)
    )
    cols = ["force", "dataset", "day", "kind", "district", "reason", "offence", "outcome", "closed"]
    session.execute(insert(ClosedAhead).from_select(cols, rows))


def closed_from_aggregate(
    session: Session, dataset: str, force: str, at: dt.date, filters: Filters, kind: str | None = None
) -> dict[str, int] | None:
    """Recorded outcome (``''``: none) -> rows closed from the 1st of ``at``'s month to ``at`` under ``filters``
    (bail: of ``kind``), or None when the aggregate cannot answer and the rows must."""
    if not answers_at(session, dataset, force, at, filters):
        return None
    ca = ClosedAhead
    conds = [ca.force == force, ca.dataset == dataset, ca.day >= month_start(at), ca.day <= at]
    if kind is not None:
        conds.append(ca.kind == kind)
    stmt = select(ca.outcome, func.sum(ca.closed)).where(*conds, *group_conditions(ca, filters)).group_by(ca.outcome)
    return {o: int(n) for o, n in session.execute(stmt) if n}
