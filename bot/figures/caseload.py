"""The open caseload of wanted circulations and outstanding suspects at a date: the shared engine behind
``wanted_figures`` and ``suspect_figures``.

Two statements answer everything, both dialect-neutral with every date boundary bound from Python:
1. the open rows grouped by district, offence (and reason), streamed in the order of a covering index — a few
   hundred group rows at most, folded into the breakdowns in Python;
2. one row of scalar index-range counts: each age band is a range of the opened date within the open rows
   (no per-row CASE), the overdue reviews, opened and closed in D's month, and open a month before D.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bot.config import Force
from bot.figures.dates import a_month_before, month_start
from bot.figures.source import (
    WANTED,
    Source,
    closed_after_sums,
    count_closed_between,
    count_never_closed,
    count_open,
    count_opened_between,
    open_groups,
    row_conditions,
)
from bot.figures.types import WANTED_AGE_BANDS, Filters

# Days since opened covered by each age band: (fewest, most); None = no upper limit.
AGE_BAND_DAYS: tuple[tuple[int, int | None], ...] = ((0, 27), (28, 90), (91, 180), (181, 365), (366, None))


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
    """All ``keys`` (zeros included) and any others, by count descending, then name."""
    merged = {k: 0 for k in keys} | counts
    return dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])))


def age_band_ranges(as_of: dt.date) -> list[tuple[dt.date | None, dt.date]]:
    """(earliest, latest) opened date of each age band at ``as_of``; None = no lower limit."""
    return [
        (None if most is None else as_of - dt.timedelta(days=most), as_of - dt.timedelta(days=fewest))
        for fewest, most in AGE_BAND_DAYS
    ]


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

    # 1. Breakdowns.
    keys = [m.district, *([m.reason] if is_wanted else []), m.offence]
    districts: dict[str, int] = {}
    offences: dict[str, int] = {}
    reason_counts: dict[str, int] = {}
    for r in session.execute(open_groups(src, as_of, conds, *keys)):
        n = int(r[-1])
        districts[r.district] = districts.get(r.district, 0) + n
        offences[r.offence] = offences.get(r.offence, 0) + n
        if is_wanted:
            reason_counts[r.reason] = reason_counts.get(r.reason, 0) + n

    # 2. Scalars: the never-closed half as index-range counts (an age band is a range of the opened date),
    # the closed-after-D half as conditional sums, and the month flows.
    band_ranges = []
    for earliest, latest in age_band_ranges(as_of):
        band_ranges.append([src.opened <= latest] + ([src.opened >= earliest] if earliest is not None else []))
    figures = [and_(*r) for r in band_ranges]
    cols = [count_never_closed(src, as_of, conds, *r) for r in band_ranges]
    if is_wanted:
        assert review_days is not None
        # Overdue: as_of − coalesce(last_reviewed_on, circulated_on) > review_days.
        overdue = func.coalesce(m.last_reviewed_on, src.opened) < as_of - dt.timedelta(days=review_days)
        figures.append(overdue)
        cols.append(count_never_closed(src, as_of, conds, overdue))
    first = month_start(as_of)
    cols += [count_opened_between(src, first, as_of, conds), count_closed_between(src, first, as_of, conds)]
    cols += count_open(src, a_month_before(as_of), conds)
    after = closed_after_sums(src, as_of, conds, figures)
    v = [int(x) for x in session.execute(select(*cols, *after.c)).one()]
    n = len(figures)
    totals = [a + b for a, b in zip(v[:n], v[-n:], strict=True)]
    opened_in_month, closed_in_month, ago_a, ago_b = v[n : n + 4]

    return Caseload(
        open=sum(totals[: len(AGE_BAND_DAYS)]),
        by_district=district_counts(force, filters, districts),
        by_age_band=dict(zip(WANTED_AGE_BANDS, totals[: len(AGE_BAND_DAYS)], strict=True)),
        by_offence=by_count(offences),
        by_reason=by_count(reason_counts, reasons),
        review_overdue=totals[-1] if is_wanted else 0,
        opened_in_month=opened_in_month,
        closed_in_month=closed_in_month,
        open_a_month_ago=ago_a + ago_b,
    )
