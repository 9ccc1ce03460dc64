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

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bot.config import Force
from bot.figures.caseload import by_count, district_counts
from bot.figures.dates import add_months, latest_start_reaching, month_start
from bot.figures.source import (
    BAIL,
    NO_FILTERS,
    closed_after_sums,
    count_closed_between,
    count_never_closed,
    count_opened_between,
    open_groups,
    row_conditions,
)
from bot.figures.types import KINDS, LENGTH_BANDS, BailEnding, BailFigures, Filters
from bot.freshness import data_as_of
from bot.models import BailPeriod

LENGTH_BAND_MONTHS = (3, 6, 9, 12)
ENDING_SOON_CAP = 500


def length_band_ranges(as_of: dt.date) -> list[tuple[dt.date | None, dt.date]]:
    """(after, up to) started_on of each length band at ``as_of``; None = no lower limit.

    A period is at least n months old when start + n months <= as_of, i.e. start <= T_n (the latest such
    start); so 0-3m is (T_3, as_of], 3-6m (T_6, T_3], …, over-12m (−∞, T_12]."""
    t = [as_of] + [latest_start_reaching(as_of, n) for n in LENGTH_BAND_MONTHS]
    return [(t[i + 1], t[i]) for i in range(len(LENGTH_BAND_MONTHS))] + [(None, t[-1])]


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

    # 1. Active rows of both kinds, grouped (kind IN lets the (force, kind, ended_on, …) index seek per kind).
    active = dict.fromkeys(KINDS, 0)
    districts: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    offences: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    for r in session.execute(open_groups(BAIL, as_of, [*conds, m.kind.in_(KINDS)], m.kind, m.district, m.offence)):
        n = int(r[-1])
        active[r.kind] += n
        districts[r.kind][r.district] = districts[r.kind].get(r.district, 0) + n
        offences[r.kind][r.offence] = offences[r.kind].get(r.offence, 0) + n

    # 2. One row of scalars, per kind: each length band is a range of started_on (see length_band_ranges),
    # counted as an index range over the never-ended half and by conditional sums over the ended-after-D
    # half; then the month flows.
    first = month_start(as_of)
    cols = []
    tail_exprs = []
    for k in KINDS:
        kc = [*conds, m.kind == k]
        ranges = [
            [m.started_on <= upto] + ([m.started_on > after] if after is not None else [])
            for after, upto in length_band_ranges(as_of)
        ]
        cols += [count_never_closed(BAIL, as_of, kc, *r) for r in ranges]
        cols += [count_opened_between(BAIL, first, as_of, kc), count_closed_between(BAIL, first, as_of, kc)]
        tail_exprs += [and_(m.kind == k, *r) for r in ranges]
    tail = closed_after_sums(BAIL, as_of, [*conds, m.kind.in_(KINDS)], tail_exprs)
    v = [int(x) for x in session.execute(select(*cols, *tail.c)).one()]
    nb = len(LENGTH_BANDS)
    per_kind = nb + 2
    bands: dict[str, dict[str, int]] = {}
    opened_in_month: dict[str, int] = {}
    closed_in_month: dict[str, int] = {}
    for i, k in enumerate(KINDS):
        kv = v[i * per_kind : (i + 1) * per_kind]
        after = v[len(KINDS) * per_kind + i * nb : len(KINDS) * per_kind + (i + 1) * nb]
        bands[k] = {band: kv[j] + after[j] for j, band in enumerate(LENGTH_BANDS)}
        opened_in_month[k], closed_in_month[k] = kv[nb], kv[nb + 1]

    # 3. Bail ending soon: the only row-level query, small by nature and capped. It seeks the
    # (force, kind, bail_end_on) index on the look-ahead window, then checks "active" on those rows only.
    soon = (
        select(
            m.reference,
            m.district,
            m.offence,
            m.started_on,
            m.bail_end_on,
            func.count().over().label("total"),
        )
        .where(
            *conds,
            m.kind == "bail",
            m.bail_end_on >= as_of,
            m.bail_end_on <= as_of + dt.timedelta(days=ending_within_days),
            m.started_on <= as_of,
            or_(m.ended_on.is_(None), m.ended_on > as_of),
        )
        .order_by(m.bail_end_on, m.reference)
        .limit(ending_soon_cap)
    )
    ending: list[BailEnding] = []
    total = 0
    for r in session.execute(soon):
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
        opened_in_month=opened_in_month,
        closed_in_month=closed_in_month,
        length_bands=bands,
        by_district={k: district_counts(force, filters, districts[k]) for k in KINDS},
        by_offence={k: by_count(offences[k]) for k in KINDS},
        bail_ending_soon=ending,
        bail_ending_within_days=ending_within_days,
        bail_ending_soon_total=total,
    )
