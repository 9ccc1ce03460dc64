"""The open caseload of wanted circulations and outstanding suspects at a date: the shared engine behind
``wanted_figures`` and ``suspect_figures``.

Two statements answer everything:
1. over the rows open at D (two covering-index ranges, UNION ALL), one GROUP BY district, offence (and reason)
   with conditional sums for the age bands and the overdue reviews — a few hundred group rows at most, folded
   into the breakdowns in Python;
2. one row of scalar counts: opened and closed in D's month, and open a month before D.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.config import Force
from bot.figures.dates import a_month_before, month_start
from bot.figures.source import (
    WANTED,
    Source,
    count_closed_between,
    count_open,
    count_opened_between,
    open_rows,
    row_conditions,
)
from bot.figures.types import WANTED_AGE_BANDS, Filters

# Lower edge (days since opened) of each age band after the first; band i holds ages in [edge[i-1], edge[i]).
AGE_BAND_EDGES = (28, 91, 181, 366)


@dataclass(frozen=True)
class Caseload:
    open: int
    by_district: dict[str, int]
    by_age_band: dict[str, int]
    by_offence: dict[str, int]
    by_reason: dict[str, int]
    review_overdue: int
    opened_in_month: int
    closed_in_month: int
    open_a_month_ago: int


def district_counts(force: Force, filters: Filters, counts: dict[str, int]) -> dict[str, int]:
    """Config order with zeros; under a district filter only that district; districts no longer configured
    (older data) after them so the breakdown still adds up to the total."""
    keys = (filters.district,) if filters.district else force.district_slugs()
    out = {k: counts.get(k, 0) for k in keys}
    out.update(sorted((k, v) for k, v in counts.items() if k not in out))
    return out


def by_count(counts: dict[str, int], keys: tuple[str, ...] = ()) -> dict[str, int]:
    merged = {k: 0 for k in keys} | counts
    return dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])))


def caseload(
    session: Session,
    src: Source,
    force: Force,
    as_of: dt.date,
    filters: Filters,
    *,
    review_days: int | None = None,
    reasons: tuple[str, ...] = (),
) -> Caseload:
    m = src.model
    conds = row_conditions(src, force.slug, as_of, filters)
    is_wanted = src is WANTED

    cols = [m.district, m.offence, src.opened]
    if is_wanted:
        cols += [m.reason, m.last_reviewed_on]
    rows = open_rows(src, as_of, conds, *cols)
    opened = rows.c[src.opened.key]
    # Cumulative: rows opened on or after as_of − edge; the bands are the differences.
    band_sums = [func.sum(case((opened > as_of - dt.timedelta(days=e), 1), else_=0)) for e in AGE_BAND_EDGES]
    group_cols = [rows.c.district, rows.c.offence] + ([rows.c.reason] if is_wanted else [])
    extra = []
    if is_wanted:
        assert review_days is not None
        # Overdue: as_of − coalesce(last_reviewed_on, circulated_on) > review_days.
        last = func.coalesce(rows.c.last_reviewed_on, opened)
        extra = [func.sum(case((last < as_of - dt.timedelta(days=review_days), 1), else_=0))]
    stmt = select(*group_cols, func.count(), *band_sums, *extra).group_by(*group_cols)

    total = overdue = 0
    districts: dict[str, int] = {}
    offences: dict[str, int] = {}
    reason_counts: dict[str, int] = {}
    bands = [0] * len(WANTED_AGE_BANDS)
    for r in session.execute(stmt):
        n = int(r[len(group_cols)])
        cum = [int(x or 0) for x in r[len(group_cols) + 1 : len(group_cols) + 1 + len(AGE_BAND_EDGES)]]
        total += n
        districts[r.district] = districts.get(r.district, 0) + n
        offences[r.offence] = offences.get(r.offence, 0) + n
        if is_wanted:
            reason_counts[r.reason] = reason_counts.get(r.reason, 0) + n
            overdue += int(r[-1] or 0)
        prev = 0
        for i, c in enumerate([*cum, n]):
            bands[i] += c - prev
            prev = c

    month_ago = a_month_before(as_of)
    flows = session.execute(
        select(
            count_opened_between(src, month_start(as_of), as_of, conds),
            count_closed_between(src, month_start(as_of), as_of, conds),
            *count_open(src, month_ago, conds),
        )
    ).one()
    return Caseload(
        open=total,
        by_district=district_counts(force, filters, districts),
        by_age_band=dict(zip(WANTED_AGE_BANDS, bands, strict=True)),
        by_offence=by_count(offences),
        by_reason=by_count(reason_counts, reasons),
        review_overdue=overdue,
        opened_in_month=int(flows[0]),
        closed_in_month=int(flows[1]),
        open_a_month_ago=int(flows[2]) + int(flows[3]),
    )
