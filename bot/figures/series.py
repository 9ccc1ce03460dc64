"""Monthly series for trends and charts: for each of the last N months ending with as_of's month (oldest
first), the rows open at the month's end (for the current month: at as_of), and those opened and closed in
the month (the current month up to as_of). For bail, "open" is active: the bail lapsed at a month end
(:mod:`bot.figures.lapsed`) is counted apart in ``lapsed_at_end`` and left out of ``open_at_end``.

Two reads: the current month from the case rows (the open count at as_of, and opened and closed since the 1st
— the same index ranges the snapshot figures read), and the earlier months' opened and closed from the month
flows an import keeps (:mod:`bot.figures.month_flow`). Earlier month ends follow by walking back,
``open(end of m−1) = open(end of m) − opened in m + closed in m``, which holds because a row is never closed
before it is opened (the import refuses such rows).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from bot.config import Force
from bot.dates import last_months, month_start
from bot.figures.caseload import flow_values
from bot.figures.day_counts import CountStateRow, events_in, open_and_flag_at, usable_state
from bot.figures.history import revised_source, revised_until, versions_source
from bot.figures.lapsed import lapsed, lapsed_counts
from bot.figures.month_flow import flows_current, window_flows
from bot.figures.revisions import series_corrections, usable
from bot.figures.source import (
    BAIL,
    NO_FILTERS,
    SOURCES,
    Shape,
    Source,
    bound_conditions,
    date_param,
    filter_values,
    flows,
    open_cube,
)
from bot.figures.types import KINDS, Filters, MonthPoint


@cache
def _statements(src: Source, shape: Shape) -> tuple[Any, Any]:
    conds = bound_conditions(src, shape)
    return open_cube(src, conds, [], [], since_ago=False), flows(src, conds, since_ago=False)


def monthly_series(
    session: Session,
    dataset: str,
    force: Force,
    as_of: dt.date,
    months: int,
    filters: Filters = NO_FILTERS,
    *,
    kind: str | None = None,
) -> list[MonthPoint]:
    """``dataset`` is wanted, suspects or bail; bail needs ``kind`` (bail or rui)."""
    try:
        src = SOURCES[dataset]
    except KeyError:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(SOURCES)}") from None
    if (src is BAIL) != (kind is not None):
        raise ValueError("kind (bail or rui) is required for the bail series and only for it")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    windows = last_months(as_of, months)
    shape, values = filter_values(src, force.slug, as_of, filters, kind=kind)
    values |= flow_values(as_of)
    state = usable_state(session, src, force.slug, shape, None)
    if state is not None and (len(windows) == 1 or flows_current(session, force.slug, src.dataset)):
        points = _from_counts(session, src, force, as_of, shape, values, state, windows, filters, kind)
    else:
        points = _from_rows(session, src, force, as_of, shape, values, windows, filters, kind)
    return _as_known_points(session, src, force, as_of, shape, values, windows, filters, kind, points)


def _from_counts(
    session: Session,
    src: Source,
    force: Force,
    as_of: dt.date,
    shape: Shape,
    values: dict[str, Any],
    state: CountStateRow,
    windows: list[tuple[dt.date, dt.date]],
    filters: Filters,
    kind: str | None,
) -> list[MonthPoint]:
    """Each month end's open (and lapsed) count from the day counts' checkpoints, the earlier months' flows from
    the month flows and the current month's from the day counts: a few rows per group and month."""
    ends = [min(last, as_of) for _first, last in windows]
    at_ends = open_and_flag_at(session, src, shape, values, state, ends)
    current = month_start(as_of)
    past: dict[dt.date, tuple[int, int]] = {}
    if len(windows) > 1:
        past = window_flows(session, src, force.slug, as_of, windows[0][0], current, filters, kind=kind)
    points = []
    for (first, _last), end in zip(windows, ends, strict=True):
        o, c = events_in(session, src, shape, values, first, as_of) if first == current else past.get(first, (0, 0))
        n_open, n_flag = at_ends[end]
        gone = n_flag if kind == "bail" else 0
        points.append(MonthPoint(first.strftime("%Y-%m"), n_open - gone, o, c, gone))
    return points


def _from_rows(
    session: Session,
    src: Source,
    force: Force,
    as_of: dt.date,
    shape: Shape,
    values: dict[str, Any],
    windows: list[tuple[dt.date, dt.date]],
    filters: Filters,
    kind: str | None,
) -> list[MonthPoint]:
    """The current month from the case rows, the earlier ones walked back with the month flows."""
    cube, flow = _statements(src, shape)
    conn = session.connection()

    # The current month, up to as_of: open now (and opened since the 1st) from the open rows, plus the rows
    # closed since the 1st (and how many of those opened since).
    open_now = opened = 0
    for n, opened_first in conn.execute(cube, values):
        open_now += n
        opened += opened_first
    closed, opened_closed = conn.execute(flow, values).one()
    opened += opened_closed

    current = month_start(as_of)
    past: dict[dt.date, tuple[int, int]] = {}
    if len(windows) > 1:
        from_rows = filters.older_than_days is not None or not flows_current(session, force.slug, src.dataset)
        past = window_flows(
            session, src, force.slug, as_of, windows[0][0], current, filters, kind=kind, from_rows=from_rows
        )

    # Lapsed bail is open but not active: counted at each month end and taken out of that end's open count.
    ends = [min(last, as_of) for _first, last in windows]
    gone = lapsed_counts(session, force, as_of, ends, filters) if kind == "bail" else {}

    points: list[MonthPoint] = []
    open_at_end = open_now
    for (first, _last), end in zip(reversed(windows), reversed(ends), strict=True):
        o, c = (opened, closed) if first == current else past.get(first, (0, 0))
        n_gone = gone.get(end, 0)
        points.append(MonthPoint(first.strftime("%Y-%m"), open_at_end - n_gone, o, c, n_gone))
        open_at_end = open_at_end - o + c
    points.reverse()
    return points


def _as_known_points(
    session: Session,
    src: Source,
    force: Force,
    as_of: dt.date,
    shape: Shape,
    values: dict[str, Any],
    windows: list[tuple[dt.date, dt.date]],
    filters: Filters,
    kind: str | None,
    points: list[MonthPoint],
) -> list[MonthPoint]:
    ends = [min(last, as_of) for _first, last in windows]

    # Each month as it was known at its end (bot/figures/history.py): a month ending before an import revised
    # rows gets, on top of today's rows, the signed corrections — less the rows revised since its end, plus the
    # versions valid then. They read the revisions only, so no point of the series rests on later data and the
    # series costs what it did plus a few short index ranges per month.
    until = revised_until(session, force.slug, src.dataset)
    if until is not None and ends[0] < until and usable(session, src, force.slug, shape, None):
        # What the imports after each month end changed, for every month end at once (bot/figures/revisions.py).
        fixes = series_corrections(session, src, shape, values, windows, ends)
        points = [
            MonthPoint(p.month, p.open_at_end - o + lp, p.opened - op, p.closed - cl, p.lapsed_at_end - lp)
            for p, (o, lp, op, cl) in zip(points, fixes, strict=True)
        ]
    elif until is not None:
        points = [
            _as_known(session, src, force, as_of, p, end, filters, kind) if end < until else p
            for p, end in zip(points, ends, strict=True)
        ]
    return points


@cache
def _correction(dataset: str, shape: Shape, lapsing: bool) -> Any:
    """One row: for the rows revised after ``:at`` and then for the versions valid at ``:at`` — open at ``:at``,
    of those lapsed (bail; else 0), opened from ``:first`` (open or closed since), and closed from ``:first``.
    One statement per month end, each part a few short index ranges over the revisions."""
    cols = []
    for part in (revised_source(dataset), versions_source(dataset)):
        conds = bound_conditions(part, shape)
        at = date_param("at")
        extra = [lapsed(at, part.model)] if lapsing else []
        cube = open_cube(part, conds, [], extra, since_ago=False).subquery()
        flow = flows(part, conds, since_ago=False).subquery()
        c, f = list(cube.c), list(flow.c)
        cols += [
            select(func.coalesce(func.sum(c[0]), 0)).scalar_subquery(),
            select(func.coalesce(func.sum(c[1]), 0)).scalar_subquery() if lapsing else literal(0),
            select(func.coalesce(func.sum(c[-1]), 0)).scalar_subquery(),
            select(f[1]).scalar_subquery(),
            select(f[0]).scalar_subquery(),
        ]
    return select(*cols)


def _as_known(
    session: Session,
    src: Source,
    force: Force,
    as_of: dt.date,
    point: MonthPoint,
    end: dt.date,
    filters: Filters,
    kind: str | None,
) -> MonthPoint:
    """``point`` (counted from today's rows) corrected to the rows as known at ``end``: less the rows revised
    since, plus the versions valid then (bot/figures/history.py)."""
    shape, values = filter_values(src, force.slug, as_of, filters, kind=kind)
    values |= flow_values(end)
    r = [int(x) for x in session.connection().execute(_correction(src.dataset, shape, kind == "bail"), values).one()]
    # Open (active + lapsed), lapsed, opened and closed: today's rows at ``end``, then the two signed parts.
    open_at = point.open_at_end + point.lapsed_at_end - r[0] + r[5]
    gone = point.lapsed_at_end - r[1] + r[6]
    opened = point.opened - r[2] - r[3] + r[7] + r[8]
    closed = point.closed - r[4] + r[9]
    return MonthPoint(point.month, open_at - gone, opened, closed, gone)
