"""Pre-charge bail and RUI at a date.

Definitions, pinned by tests/bot/figures/:
- open at D: ``started_on <= D AND (ended_on IS NULL OR ended_on > D)``;
- lapsed at D (kind bail only): open at D with ``bail_end_on < D`` — the bail end date has passed and no end
  (outcome) is recorded, so the person is neither on bail nor released under investigation until the lapse is
  assessed (court extension or revert to RUI). Bail is still live on its end date itself;
- active at D: open at D and not lapsed; active_bail / active_rui per kind, lapsed_bail beside them;
- opened_in_month / closed_in_month per kind: started_on / ended_on from the 1st of D's month to D inclusive;
- length_bands, by_district and by_offence count the active periods (lapsed bail is not active);
  lapsed_bail_by_district the lapsed ones (config order, zeros included);
- length_bands per kind, in calendar months since start: 0-3m when start + 3 months > D, 3-6m, 6-9m, 9-12m,
  over-12m when start + 12 months <= D ("start + n months" clamps the day to the month's end). Each
  "start + n months <= D" is evaluated as ``started_on <= T_n`` with T_n from
  :func:`bot.dates.latest_start_reaching`, so the SQL only compares dates;
- by_district (config order, zeros included) and by_offence (count descending, then name) per kind, active at D;
- over_12m_by_district and over_12m_by_offence per kind: the active periods in the over-12m band, by district
  (config order) and by offence group (count descending, then name), non-zero only — how long RUI runs "by
  offence type and district", as the subgroup asked;
- bail_ending_soon: active bail (kind bail) with D <= bail_end_on <= D + N (N: ``ending_within_days``, which
  callers take from ``Config.bail_ending_soon_days`` unless the question names another window), ordered by
  bail_end_on then reference, each with days_left and who authorises the next extension under PCSCA 2022:
  bail_end_on within start + 3 months → "inspector" (to 6 months), within start + 6 months → "superintendent"
  (to 9 months), else "magistrates' court". Capped at ``ending_soon_cap`` rows; ``bail_ending_soon_total`` has
  the full count.
"""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from bot.config import Force
from bot.coverage import covered_from
from bot.dates import add_months, latest_start_reaching
from bot.figures.caseload import by_offence, district_counts, flow_values, nonzero
from bot.figures.day_counts import counts_at, usable_state
from bot.figures.history import needs_history, parts_at, source_at
from bot.figures.lapsed import lapsed, not_lapsed
from bot.figures.revisions import CLOSED, LAPSED, OPEN, OPENED, Correction, length_measure, snapshot_correction, usable
from bot.figures.source import (
    BAIL,
    NO_FILTERS,
    Shape,
    Source,
    bound_conditions,
    date_param,
    filter_values,
    flows,
    open_cube_parts,
    val,
)
from bot.figures.types import KINDS, LENGTH_BANDS, BailEnding, BailFigures, Filters
from bot.freshness import data_as_of

LENGTH_BAND_MONTHS = (3, 6, 9, 12)
LONG_MONTHS = LENGTH_BAND_MONTHS[-1]  # "running over 12 months", the band by which the subgroup watches RUI
ENDING_SOON_CAP = 500


@cache
def _statements(src: Source, shape: Shape) -> tuple[Any, Any]:
    m = src.model
    base = bound_conditions(src, shape)
    # The open rows: one pass per kind, kind an equality, so that the open index streams each kind's groups in
    # order (with an IN list PostgreSQL hashed them; on a million rows: 43 → 31 ms). The closed rows: one range
    # of the closed-rows index, which leads with the end date, counted per kind.
    is_kind = [m.kind == bindparam(f"kind_{k}", k) for k in KINDS]
    groups = [m.kind, m.district, m.offence]
    parts = []
    for kind, is_k in zip(KINDS, is_kind, strict=True):
        # Per group: the open count, the active ones started on or before each T_n, and the lapsed ones (last
        # threshold). bail_end_on is in both open indexes, so lapsing costs no table read. RUI never lapses.
        if kind == "bail":
            active = not_lapsed(date_param("at"), m)
            thresholds = [and_(val(m.started_on) <= date_param(f"t{n}"), active) for n in LENGTH_BAND_MONTHS]
            thresholds.append(lapsed(date_param("at"), m))
        else:
            thresholds = [val(m.started_on) <= date_param(f"t{n}") for n in LENGTH_BAND_MONTHS]
            thresholds.append(literal(False))
        # No open_a_month_ago in the bail answer: the cube and the flows leave out the "since :ago" counts.
        parts += open_cube_parts(src, [*base, is_k], groups, thresholds, since_ago=False)
    return union_all(*parts), flows(src, base, split=is_kind, since_ago=False)


@cache
def _ending_soon(src: Source, shape: Shape) -> Any:
    """Active bail ending from ``:at`` to ``:soon_last``, first ``:cap`` by (bail_end_on, reference), with the
    full count. The ending-soon index (force, kind, bail_end_on, reference, …) yields the window in that order
    with "active" checked and the listed columns read in the index, so the table is not read; the count is a
    separate scalar subquery over the same index range (a window count would read every row)."""
    m = src.model
    at = date_param("at")
    where = [
        *bound_conditions(src, shape),
        m.kind == "bail",
        m.bail_end_on >= at,
        m.bail_end_on <= date_param("soon_last"),
        val(m.started_on) <= at,
        or_(m.ended_on.is_(None), val(m.ended_on) > at),
    ]
    total = select(func.count()).select_from(m).where(*where).scalar_subquery()
    return (
        select(m.reference, m.district, m.offence, m.started_on, m.bail_end_on, total.label("total"))
        .where(*where)
        .order_by(m.bail_end_on, m.reference)
        .limit(bindparam("cap"))
    )


def _summed(counts: dict[tuple[str, str], int], part: int) -> dict[str, int]:
    """Per district (``part`` 0) or offence (1), the non-zero sums of (district, offence) counts."""
    out: dict[str, int] = {}
    for key, n in counts.items():
        out[key[part]] = out.get(key[part], 0) + n
    return nonzero(out)


def length_band_ranges(as_of: dt.date) -> list[tuple[dt.date | None, dt.date]]:
    """(after, up to) started_on of each length band at ``as_of``; None = no lower limit.

    A period is at least n months old when start + n months <= as_of, i.e. start <= T_n (the latest such
    start); so 0-3m is (T_3, as_of], 3-6m (T_6, T_3], …, over-12m (−∞, T_12]."""
    t = [as_of] + [latest_start_reaching(as_of, n) for n in LENGTH_BAND_MONTHS]
    return [(t[i + 1], t[i]) for i in range(len(LENGTH_BAND_MONTHS))] + [(None, t[-1])]


# Bail that began before the Police, Crime, Sentencing and Courts Act 2022 came into force follows the Policing
# and Crime Act 2017 ladder: 28 days, a superintendent to 3 months, a magistrates' court beyond.
PCSCA_2022_FROM = dt.date(2022, 10, 28)
AUTHORITY_ORDER: tuple[str, ...] = ("inspector", "superintendent", "magistrates' court")


def next_authority(started_on: dt.date, bail_end_on: dt.date) -> str:
    """Who must authorise the extension beyond ``bail_end_on``: under PCSCA 2022 (bail begun on or after 28 Oct
    2022) custody officer to 3 months, inspector to 6, superintendent to 9, a magistrates' court beyond; under
    the PCA 2017 ladder (begun earlier) 28 days, superintendent to 3 months, a magistrates' court beyond."""
    if started_on < PCSCA_2022_FROM:
        return "superintendent" if bail_end_on <= started_on + dt.timedelta(days=28) else "magistrates' court"
    to_inspector, to_superintendent = _authority_limits(started_on)
    if bail_end_on <= to_inspector:
        return "inspector"
    if bail_end_on <= to_superintendent:
        return "superintendent"
    return "magistrates' court"


def by_authority_order(counts: dict[str, int]) -> dict[str, int]:
    """Most first; a tie in the order of the ladder (inspector, superintendent, court)."""
    rank = {a: i for i, a in enumerate(AUTHORITY_ORDER)}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], rank.get(kv[0], len(rank)), kv[0])))


@lru_cache(maxsize=4096)
def _authority_limits(started_on: dt.date) -> tuple[dt.date, dt.date]:
    # Hundreds of listed periods share a few hundred start dates; the calendar arithmetic is done once each.
    return add_months(started_on, 3), add_months(started_on, 6)


def _add_counts(
    sign: int,
    c: Correction,
    active: dict[str, int],
    lapsed: dict[str, int],
    districts: dict[str, dict[str, int]],
    offences: dict[str, dict[str, int]],
    cum: dict[str, list[int]],
    opened_in_month: dict[str, int],
    closed_in_month: dict[str, int],
    long: dict[str, dict[tuple[str, str], int]],
) -> None:
    """Add ``sign`` × per-group counts to the figures (active = open − lapsed): ``+1`` with today's rows' counts
    (from zero), ``-1`` with what the imports after a past date changed (the counts as known then)."""
    for measure, active_sign in ((length_measure(LONG_MONTHS), 1), (length_measure(LONG_MONTHS, lapsed=True), -1)):
        for (kind, district, _reason, offence), n in c.groups(measure):
            key = (district, offence)
            long[kind][key] = long[kind].get(key, 0) + sign * active_sign * n
    gone: dict[tuple[str, str, str], int] = {}
    for (kind, district, _reason, offence), n in c.groups(LAPSED):
        lapsed[district] = lapsed.get(district, 0) + sign * n
        gone[(kind, district, offence)] = gone.get((kind, district, offence), 0) + n
    for (kind, district, _reason, offence), n in c.groups(OPEN):
        a = sign * (n - gone.pop((kind, district, offence), 0))
        active[kind] += a
        districts[kind][district] = districts[kind].get(district, 0) + a
        offences[kind][offence] = offences[kind].get(offence, 0) + a
    for (kind, district, offence), n in gone.items():  # lapsed in a group with no open count (a change: can be)
        active[kind] -= sign * n
        districts[kind][district] = districts[kind].get(district, 0) - sign * n
        offences[kind][offence] = offences[kind].get(offence, 0) - sign * n
    for kind in KINDS:
        row = cum[kind]
        row[0] = active[kind]
        for j, n in enumerate(LENGTH_BAND_MONTHS, start=1):
            row[j] += sign * (c.of(length_measure(n), kind) - c.of(length_measure(n, lapsed=True), kind))
        opened_in_month[kind] += sign * c.month[(OPENED, kind)]
        closed_in_month[kind] += sign * c.month[(CLOSED, kind)]


def bail_figures(
    session: Session,
    force: Force,
    as_of: dt.date,
    filters: Filters = NO_FILTERS,
    *,
    ending_within_days: int,
    ending_soon_cap: int = ENDING_SOON_CAP,
) -> BailFigures:
    shape, values = filter_values(BAIL, force.slug, as_of, filters)
    values |= flow_values(as_of)
    for n, (_, upto) in zip(LENGTH_BAND_MONTHS, length_band_ranges(as_of)[1:], strict=True):
        values[f"t{n}"] = upto
    conn = session.connection()

    # 1. One pass over the active rows of both kinds: per kind, district and offence, the count and how many
    # started on or before each T_n (see length_band_ranges); a band is the difference of two of these.
    nb = len(LENGTH_BANDS)
    active = dict.fromkeys(KINDS, 0)
    cum: dict[str, list[int]] = {k: [0] * nb for k in KINDS}
    districts: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    offences: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    opened_in_month = dict.fromkeys(KINDS, 0)
    lapsed: dict[str, int] = {}
    closed_in_month = dict.fromkeys(KINDS, 0)
    # kind -> (district, offence) -> active and running over 12 months: the over-12-months band by place and offence.
    long: dict[str, dict[tuple[str, str], int]] = {k: {} for k in KINDS}
    # A past date that a later import revised counts the rows as they were known then: today's rows, less the
    # ones revised since, plus the versions valid then (bot/figures/history.py); each count is a sum over rows.
    # A past date that a later import revised: today's rows less what the imports after it changed
    # (bot/figures/revisions.py), a short range of per-group changes.
    fix = None
    history = needs_history(session, force.slug, BAIL.dataset, as_of)
    if history and usable(session, BAIL, force.slug, shape, None):
        fix = snapshot_correction(session, BAIL, shape, values)
    # Today's rows' counts from the day counts (bot/figures/day_counts.py): a row per group, whatever the caseload.
    state = usable_state(session, BAIL, force.slug, shape, None)
    from_counts = state is not None and (fix is not None or not history)
    if from_counts:
        assert state is not None
        per_group = counts_at(session, BAIL, shape, values, state, since_ago=False)
        _add_counts(1, per_group, active, lapsed, districts, offences, cum, opened_in_month, closed_in_month, long)
        if fix is not None:
            _add_counts(-1, fix, active, lapsed, districts, offences, cum, opened_in_month, closed_in_month, long)
    parts = [] if from_counts else [(BAIL, 1)] if fix is not None else parts_at(session, BAIL, force.slug, as_of)
    for part, sign in parts:
        cube, flow = _statements(part, shape)
        for r in conn.execute(cube, values):
            kind, district, offence, gone = r[0], r[1], r[2], sign * r[3 + nb]
            n = sign * r[3] - gone
            active[kind] += n
            lapsed[district] = lapsed.get(district, 0) + gone
            districts[kind][district] = districts[kind].get(district, 0) + n
            offences[kind][offence] = offences[kind].get(offence, 0) + n
            c = cum[kind]
            c[0] += n
            for j in range(1, nb):
                c[j] += sign * r[3 + j]
            long[kind][(district, offence)] = long[kind].get((district, offence), 0) + sign * r[3 + nb - 1]
            opened_in_month[kind] += sign * r[4 + nb]

        # 2. Ended in the month, per kind; started in the month = still active (counted above) + ended since.
        counts = conn.execute(flow, values).one()
        for i, kind in enumerate(KINDS):
            closed, opened = counts[2 * i : 2 * i + 2]
            closed_in_month[kind] += sign * closed
            opened_in_month[kind] += sign * opened
    if fix is not None and not from_counts:
        _add_counts(-1, fix, active, lapsed, districts, offences, cum, opened_in_month, closed_in_month, long)
    lapsed = nonzero(lapsed)
    districts = {k: nonzero(v) for k, v in districts.items()}
    offences = {k: nonzero(v) for k, v in offences.items()}
    bands = {
        k: dict(zip(LENGTH_BANDS, [c[j] - c[j + 1] for j in range(nb - 1)] + [c[-1]], strict=True))
        for k, c in cum.items()
    }

    # 3. Bail ending soon: the only row-level query, small by nature and capped. It reads the ending-soon index
    # alone: the look-ahead window is one range of it, and "active" and the listed columns are in it.
    values |= {"soon_last": as_of + dt.timedelta(days=ending_within_days), "cap": ending_soon_cap}
    # The list is not a sum: at a revised past date it reads the rows as known then (one union, see history).
    soon = _ending_soon(source_at(session, BAIL, force.slug, as_of), shape)
    rows = conn.execute(soon, values).all()
    ending: list[BailEnding] = []
    for reference, district, offence, started_on, bail_end_on, _total in rows:
        ending.append(
            BailEnding(
                reference=reference,
                district=district,
                offence=offence,
                started_on=started_on,
                bail_end_on=bail_end_on,
                days_left=(bail_end_on - as_of).days,
                next_authority=next_authority(started_on, bail_end_on),
            )
        )
    total = int(rows[0][-1]) if rows else 0

    return BailFigures(
        force=force.slug,
        district=filters.district,
        as_of=as_of,
        data_as_of=data_as_of(session, force.slug, BAIL.dataset),
        covered_from=covered_from(session, force.slug, BAIL.dataset),
        active_bail=active["bail"],
        active_rui=active["rui"],
        lapsed_bail=sum(lapsed.values()),
        lapsed_bail_by_district=district_counts(force, filters, lapsed),
        opened_in_month=opened_in_month,
        closed_in_month=closed_in_month,
        length_bands=bands,
        by_district={k: district_counts(force, filters, districts[k]) for k in KINDS},
        by_offence={k: by_offence(offences[k]) for k in KINDS},
        over_12m_by_district={k: nonzero(district_counts(force, filters, _summed(long[k], 0))) for k in KINDS},
        over_12m_by_offence={k: by_offence(_summed(long[k], 1)) for k in KINDS},
        bail_ending_soon=ending,
        bail_ending_within_days=ending_within_days,
        bail_ending_soon_total=total,
    )
