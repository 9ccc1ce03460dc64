"""Lapsed pre-charge bail: bail still open at D (no end recorded) whose bail end date is before D. The bail
ended in law at the end of its bail end date; until the lapse is assessed and the decision recorded (a court
extension, or revert to RUI) the person is neither on bail nor released under investigation — so a lapsed
period is never counted as active bail, and never as "ending soon" (that window starts at D).

The predicates here are the one definition every bail query uses (figures, lists, the series, the summary)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from bot.config import Force
from bot.figures.source import BAIL, Source, count_open_where, row_conditions, val
from bot.figures.types import Filters
from bot.models import BailPeriod


def not_lapsed(at: Any, m: Any = BailPeriod) -> ColumnElement[bool]:
    """An open bail/RUI row (of ``m``: the table, or its rows as known at a date) that has not lapsed at ``at``
    (RUI has no bail end date: never lapses)."""
    return or_(m.bail_end_on.is_(None), val(m.bail_end_on) >= at)


def lapsed(at: Any, m: Any = BailPeriod) -> ColumnElement[bool]:
    """An open bail row whose bail end date is before ``at`` (combine with "open at" and kind bail)."""
    return val(m.bail_end_on) < at


def lapsed_count(
    session: Session, force: Force, as_of: dt.date, at: dt.date, filters: Filters, src: Source = BAIL
) -> int:
    """Bail lapsed at ``at`` under the filters of a question asked at ``as_of`` (the ``older_than`` cutoff stays
    the one ``as_of`` fixes, as in every comparison of an answer); ``src`` may be the rows as known at ``at``."""
    conds = row_conditions(src, force.slug, as_of, filters, kind="bail")
    stmt = select(*count_open_where(src, at, conds, lapsed(at, src.model)))
    return sum(int(x) for x in session.execute(stmt, {"at": at}).one())


def lapsed_counts(
    session: Session, force: Force, as_of: dt.date, ats: list[dt.date], filters: Filters
) -> dict[dt.date, int]:
    """:func:`lapsed_count` at each of ``ats`` in one statement (a monthly series' month ends)."""
    if not ats:
        return {}
    conds = row_conditions(BAIL, force.slug, as_of, filters, kind="bail")
    cols = [c for at in ats for c in count_open_where(BAIL, at, conds, lapsed(at))]
    r = [int(x) for x in session.execute(select(*cols)).one()]
    return {at: r[2 * i] + r[2 * i + 1] for i, at in enumerate(ats)}


def lapsed_days(bail_end_on: dt.date, as_of: dt.date) -> int:
    """How many days ago the bail lapsed: 1 on the day after its bail end date."""
    return (as_of - bail_end_on).days
