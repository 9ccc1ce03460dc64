"""Pre-charge bail and RUI at a date (issue 2, item 5).

Definitions, pinned by tests/test_figures_*.py:
- active at D: ``started_on <= D AND (ended_on IS NULL OR ended_on > D)``; active_bail / active_rui per kind;
- opened_in_month / closed_in_month per kind: started_on / ended_on from the 1st of D's month to D inclusive;
- length_bands per kind, in calendar months since start: 0-3m when start + 3 months > D, 3-6m, 6-9m, 9-12m,
  over-12m when start + 12 months <= D ("start + n months" clamps the day to the month's end). Each
  "start + n months <= D" is evaluated as ``started_on <= T_n`` with T_n from
  :func:`bot.figures.dates.latest_start_reaching`, so the SQL only compares dates;
- by_district (config order, zeros included) and by_offence (count descending, then name) per kind, active at D;
- bail_ending_soon: active bail (kind bail) with D <= bail_end_on <= D + N, ordered by bail_end_on then
  reference, each with days_left and who authorises the next extension under PCSCA 2022: bail_end_on within
  start + 3 months → "inspector" (to 6 months), within start + 6 months → "superintendent" (to 9 months),
  else "magistrates' court". Capped at ``ending_soon_cap`` rows; ``bail_ending_soon_total`` has the full count.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.config import Force
from bot.figures.caseload import by_count, district_counts
from bot.figures.dates import add_months, latest_start_reaching, month_start
from bot.figures.source import BAIL, NO_FILTERS, count_closed_between, count_opened_between, open_rows, row_conditions
from bot.figures.types import KINDS, LENGTH_BANDS, BailEnding, BailFigures, Filters
from bot.freshness import data_as_of
from bot.models import BailPeriod

LENGTH_BAND_MONTHS = (3, 6, 9, 12)
ENDING_SOON_CAP = 500


def next_authority(started_on: dt.date, bail_end_on: dt.date) -> str:
    """Who must authorise the extension beyond ``bail_end_on`` (PCSCA 2022: custody officer to 3 months,
    inspector to 6, superintendent to 9, a magistrates' court beyond)."""
    if bail_end_on <= add_months(started_on, 3):
        return "inspector"
    if bail_end_on <= add_months(started_on, 6):
        return "superintendent"
    return "magistrates' court"


def bail_figures(
    session: Session,
    force: Force,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    *,
    ending_within_days: int = 14,
    ending_soon_cap: int = ENDING_SOON_CAP,
) -> BailFigures:
    m = BailPeriod
    conds = row_conditions(BAIL, force.slug, as_of, filters)

    # 1. Active rows of both kinds, grouped; the kind IN list lets the (force, kind, ended_on, …) index seek.
    rows = open_rows(BAIL, as_of, [*conds, m.kind.in_(KINDS)], m.kind, m.district, m.offence, m.started_on)
    cum = [
        func.sum(case((rows.c.started_on <= latest_start_reaching(as_of, n), 1), else_=0)) for n in LENGTH_BAND_MONTHS
    ]
    group = [rows.c.kind, rows.c.district, rows.c.offence]
    active = dict.fromkeys(KINDS, 0)
    districts: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    offences: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    bands = {k: dict.fromkeys(LENGTH_BANDS, 0) for k in KINDS}
    for r in session.execute(select(*group, func.count(), *cum).group_by(*group)):
        n = int(r[3])
        reached = [int(x or 0) for x in r[4:]]  # rows at least 3, 6, 9, 12 months old
        active[r.kind] += n
        districts[r.kind][r.district] = districts[r.kind].get(r.district, 0) + n
        offences[r.kind][r.offence] = offences[r.kind].get(r.offence, 0) + n
        edges = [n, *reached, 0]
        for i, band in enumerate(LENGTH_BANDS):
            bands[r.kind][band] += edges[i] - edges[i + 1]

    # 2. Month flows per kind, one row of scalar counts.
    first = month_start(as_of)
    flow_cols = []
    for k in KINDS:
        kc = [*conds, m.kind == k]
        flow_cols += [count_opened_between(BAIL, first, as_of, kc), count_closed_between(BAIL, first, as_of, kc)]
    flows = session.execute(select(*flow_cols)).one()

    # 3. Bail ending soon: the only row-level query, small by nature and capped.
    soon = open_rows(
        BAIL,
        as_of,
        [
            *conds,
            m.kind == "bail",
            m.bail_end_on >= as_of,
            m.bail_end_on <= as_of + dt.timedelta(days=ending_within_days),
        ],
        m.reference,
        m.district,
        m.offence,
        m.started_on,
        m.bail_end_on,
    )
    ending: list[BailEnding] = []
    total = 0
    for r in session.execute(
        select(soon, func.count().over().label("total"))
        .order_by(soon.c.bail_end_on, soon.c.reference)
        .limit(ending_soon_cap)
    ):
        total = int(r.total)
        ending.append(
            BailEnding(
                reference=r.reference,
                district=r.district,
                offence=r.offence,
                started_on=r.started_on,
                bail_end_on=r.bail_end_on,
                days_left=(r.bail_end_on - as_of).days,
                next_authority=next_authority(r.started_on, r.bail_end_on),
            )
        )

    return BailFigures(
        force=force.slug,
        district=filters.district,
        as_of=as_of,
        data_as_of=data_as_of(session, force.slug, BAIL.dataset),
        active_bail=active["bail"],
        active_rui=active["rui"],
        opened_in_month={k: int(flows[2 * i]) for i, k in enumerate(KINDS)},
        closed_in_month={k: int(flows[2 * i + 1]) for i, k in enumerate(KINDS)},
        length_bands=bands,
        by_district={k: district_counts(force, filters, districts[k]) for k in KINDS},
        by_offence={k: by_count(offences[k]) for k in KINDS},
        bail_ending_soon=ending,
        bail_ending_within_days=ending_within_days,
        bail_ending_soon_total=total,
    )
