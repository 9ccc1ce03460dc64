"""Bail and RUI counts the monthly summary needs for every district at once and at two dates, cheaper than
:func:`bot.figures.bail.bail_figures` per district and date (which also lists the bail ending soon). Each is
built from the figures service's own definitions (``open_rows``, ``length_band_ranges``) and equals what
``bail_figures`` reports for the same question (tests/bot/summary/test_monthly.py checks it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from bot.config import Force
from bot.figures.bail import length_band_ranges
from bot.figures.history import source_at
from bot.figures.lapsed import not_lapsed
from bot.figures.source import BAIL, count_open_where, open_rows, row_conditions
from bot.figures.types import KINDS, LENGTH_BANDS, Filters

# kind -> district slug -> length band -> count
BandsByDistrict = dict[str, dict[str, dict[str, int]]]


def length_bands_by_district(session: Session, force: Force, at: dt.date, filters: Filters) -> BandsByDistrict:
    """kind -> district -> length band -> bail/RUI periods active at ``at``: ``bail_figures``'s ``length_bands``
    under a filter on each district, in one GROUP BY over the active rows with one conditional sum per band.
    Every configured district (or the filter's one) is present, zeros included; districts no longer configured
    (older data) are present when they have rows."""
    src = source_at(session, BAIL, force.slug, at)  # as known at ``at`` (bot/figures/history.py)
    m = src.model
    # Lapsed bail is not active: it is in no length band (RUI has no bail end date, so it always passes).
    conds = [*row_conditions(src, force.slug, at, filters), m.kind.in_(KINDS), not_lapsed(at, m)]
    rows = open_rows(src, at, conds, m.kind, m.district, m.started_on)
    sums = []
    for after, upto in length_band_ranges(at):
        cond = (
            rows.c.started_on <= upto if after is None else and_(rows.c.started_on <= upto, rows.c.started_on > after)
        )
        sums.append(func.coalesce(func.sum(case((cond, 1), else_=0)), 0))
    out: BandsByDistrict = {k: {} for k in KINDS}
    stmt = select(rows.c.kind, rows.c.district, *sums).group_by(rows.c.kind, rows.c.district)
    for r in session.execute(stmt, {"at": at}):
        out[r[0]][r[1]] = {band: int(n) for band, n in zip(LENGTH_BANDS, r[2:], strict=True)}
    districts = (filters.district,) if filters.district else force.district_slugs()
    for k in KINDS:
        for d in districts:
            out[k].setdefault(d, dict.fromkeys(LENGTH_BANDS, 0))
    return out


def rui_over_12m_count(session: Session, force: Force, at: dt.date, filters: Filters) -> int:
    """RUI active at ``at`` that started at least 12 months before (``bail_figures``'s over-12m band)."""
    src = source_at(session, BAIL, force.slug, at)
    m = src.model
    _, upto = length_band_ranges(at)[-1]
    conds = [*row_conditions(src, force.slug, at, filters), m.kind == "rui"]
    stmt = select(*count_open_where(src, at, conds, m.started_on <= upto))
    return sum(int(x) for x in session.execute(stmt, {"at": at}).one())


def bail_ending_soon_count(session: Session, force: Force, at: dt.date, filters: Filters, within_days: int) -> int:
    """Active pre-charge bail whose bail end date falls in [at, at + within_days] — ``bail_figures``'s
    ``bail_ending_soon_total``, as two index-range counts instead of a listing."""
    src = source_at(session, BAIL, force.slug, at)
    m = src.model
    conds = [*row_conditions(src, force.slug, at, filters), m.kind == "bail"]
    window = [m.bail_end_on >= at, m.bail_end_on <= at + dt.timedelta(days=within_days)]
    stmt = select(*count_open_where(src, at, conds, *window))
    return sum(int(x) for x in session.execute(stmt, {"at": at}).one())
