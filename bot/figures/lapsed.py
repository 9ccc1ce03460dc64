"""Lapsed pre-charge bail: bail still open at D (no end recorded) whose bail end date is before D. The bail
ended in law at the end of its bail end date; until the lapse is assessed and the decision recorded (a court
extension, or revert to RUI) the person is neither on bail nor released under investigation — so a lapsed
period is never counted as active bail, and never as "ending soon" (that window starts at D).

The predicates here are the one definition every bail query uses (figures, lists, the series, the summary)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Date, bindparam, or_, select, text
from sqlalchemy.orm import Session

from bot.config import Force
from bot.figures.source import BAIL, Source, count_open_where, filter_values, row_conditions, val
from bot.figures.types import Filters
from bot.models import LAPSING_SQL, BailPeriod


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
    """:func:`lapsed_count` at each of ``ats`` in one statement (a monthly series' month ends).

    It reads the partial index of the periods that ever lapse (``ix_bail_lapsing``: the open bail and the bail
    that ended after its end date, a small part of the table), whose predicate the query repeats word for word.
    SQLite's planner preferred the ending-soon index, whose two equality columns look cheaper but whose range
    ("end date before D") holds nearly every bail period (1M rows: 460 ms for a 13-month series), so on SQLite
    the index is named (``INDEXED BY``); written as SQL text for that reason."""
    if not ats:
        return {}
    shape, values = filter_values(BAIL, force.slug, as_of, filters, kind="bail")
    plus = "+" if session.get_bind().dialect.name == "sqlite" else ""  # per-row compares: see source.val
    where = ["force = :force", LAPSING_SQL]
    if shape.district:
        where.append("district = :district")
    if shape.offence:
        where.append("lower(offence) = :offence")
    if shape.older:
        where.append(f"{plus}started_on < :older_cutoff")
    table = "bail_period INDEXED BY ix_bail_lapsing" if plus else "bail_period"
    params = [bindparam("older_cutoff", type_=Date)] if shape.older else []
    cols = []
    for i, at in enumerate(ats):
        values[f"at{i}"] = at
        params.append(bindparam(f"at{i}", type_=Date))
        cond = f"bail_end_on < :at{i} AND {plus}started_on <= :at{i} AND (ended_on IS NULL OR {plus}ended_on > :at{i})"
        cols.append(f"(SELECT count(*) FROM {table} WHERE {' AND '.join(where)} AND {cond})")
    stmt = text(f"SELECT {', '.join(cols)}").bindparams(*params)
    values.pop("kind", None)
    r = [int(x) for x in session.execute(stmt, values).one()]
    return dict(zip(ats, r, strict=True))


def lapsed_days(bail_end_on: dt.date, as_of: dt.date) -> int:
    """How many days ago the bail lapsed: 1 on the day after its bail end date."""
    return (as_of - bail_end_on).days
