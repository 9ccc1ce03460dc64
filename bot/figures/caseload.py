"""The open caseload of wanted circulations and outstanding suspects at a date: the shared engine behind
``wanted_figures`` and ``suspect_figures``.

Two statements answer everything, both dialect-neutral with every date boundary bound from Python, both built
once per filter shape (values bound per call, run through Core):
1. one pass over the open rows (:func:`bot.figures.source.open_cube`): per district, offence (and reason), the
   count and FILTER counts of "opened on or before each age-band edge" and "review overdue", streamed in the
   order of a covering index — a few hundred group rows, folded into every breakdown in Python (a band is the
   difference of two cumulative counts);
2. the month flows (:func:`bot.figures.source.flows`): the rows closed from the 1st of D's month or since a
   month before D, one short index range; the rows opened in that time are those of them plus the open ones
   the first pass counted. Open a month before D follows without another pass over the open rows:
   ``open(D − 1 month) = open(D) − opened since + closed since`` (a row never closes before it opens).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from bot.config import Force
from bot.dates import a_month_before, month_start
from bot.figures.day_counts import counts_at, take_away, usable_state
from bot.figures.history import needs_history, parts_at
from bot.figures.revisions import (
    AGE_EDGES,
    CLOSED,
    OPEN,
    OPENED,
    OVERDUE,
    Correction,
    age_measure,
    snapshot_correction,
    usable,
)
from bot.figures.source import (
    WANTED,
    Shape,
    Source,
    bound_conditions,
    date_param,
    filter_values,
    flows,
    open_cube,
    val,
)
from bot.figures.types import WANTED_AGE_BANDS, Filters

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


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    """A group whose signed parts cancel out has no rows: not a breakdown line."""
    return {k: v for k, v in counts.items() if v}


def by_count(counts: dict[str, int], keys: tuple[str, ...] = ()) -> dict[str, int]:
    """All ``keys`` (zeros included) and any others, by count descending, then name."""
    merged = {k: 0 for k in keys} | counts
    return dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])))


def by_offence(counts: dict[str, int]) -> dict[str, int]:
    """Offence groups by count (:func:`by_count`), spellings that differ only in case as one group named by its most
    used spelling: an export's "Burglary", "BURGLARY" and "burglary" are one offence group, as ``--offence burglary``
    counts them."""
    groups: dict[str, dict[str, int]] = {}
    for name, n in counts.items():
        spellings = groups.setdefault(name.lower(), {})  # as the filter matches: lower(offence) = lower(asked)
        spellings[name] = spellings.get(name, 0) + n
    out: dict[str, int] = {}
    for spellings in groups.values():
        # The most used spelling; on a tie, one in mixed case ("Burglary") before "BURGLARY" and "burglary".
        out[min(spellings, key=lambda k: (-spellings[k], k.isupper(), k.islower(), k))] = sum(spellings.values())
    return by_count(out)


@cache
def _statements(src: Source, shape: Shape, is_wanted: bool) -> tuple[Any, Any]:
    m = src.model
    conds = bound_conditions(src, shape)
    keys = [m.district, *([m.reason] if is_wanted else []), m.offence]
    # Cumulative band edges: opened on or before as_of − (fewest days of band k), k = 1..4.
    thresholds = [val(src.opened) <= date_param(f"edge{k}") for k in range(1, len(AGE_BAND_DAYS))]
    if is_wanted:
        # Overdue: as_of − coalesce(last_reviewed_on, circulated_on) > review_days.
        thresholds.append(func.coalesce(val(m.last_reviewed_on), val(src.opened)) < date_param("overdue_before"))
    return open_cube(src, conds, keys, thresholds), flows(src, conds)


def flow_values(as_of: dt.date) -> dict[str, dt.date]:
    """Bound dates of :func:`bot.figures.source.flows` at ``as_of``."""
    first, ago = month_start(as_of), a_month_before(as_of)
    return {"at": as_of, "first": first, "ago": ago, "lo": min(first, ago + dt.timedelta(days=1))}


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
    is_wanted = src is WANTED
    shape, values = filter_values(src, force.slug, as_of, filters)
    values |= flow_values(as_of)
    for k in range(1, len(AGE_BAND_DAYS)):
        values[f"edge{k}"] = as_of - dt.timedelta(days=AGE_BAND_DAYS[k][0])
    if is_wanted:
        assert review_days is not None
        values["overdue_before"] = as_of - dt.timedelta(days=review_days)
    conn = session.connection()

    # 1. One pass over the open rows.
    nk = 3 if is_wanted else 2
    nb = len(AGE_BAND_DAYS)
    nt = nb - 1 + (1 if is_wanted else 0)  # thresholds: band edges (and review overdue)
    districts: dict[str, int] = {}
    offences: dict[str, int] = {}
    reason_counts: dict[str, int] = {}
    cum = [0] * nb  # cum[0]: all open; cum[k]: open and opened on or before edge k
    overdue = opened_in_month = opened_since = 0
    closed_in_month = closed_since = 0
    # A past date that a later import revised counts the rows as they were known then: today's rows, less the
    # ones revised since, plus the versions valid then (bot/figures/history.py). Every count here is a sum over
    # rows, so the signed parts add up; for today there is one part, the statements as ever.
    # A past date that a later import revised counts the rows as they were known then: today's rows less what
    # the imports after it changed (bot/figures/revisions.py), a short range of per-group changes.
    fix = None
    history = needs_history(session, force.slug, src.dataset, as_of)
    if history and usable(session, src, force.slug, shape, review_days if is_wanted else None):
        fix = snapshot_correction(session, src, shape, values)
    # Today's rows' counts from the day counts (bot/figures/day_counts.py): a row per group, whatever the caseload.
    state = usable_state(session, src, force.slug, shape, review_days if is_wanted else None)
    if state is not None and (fix is not None or not history):
        counts = counts_at(session, src, shape, values, state)
        return _from_counts(take_away(counts, fix) if fix is not None else counts, force, filters, is_wanted, reasons)
    parts = [(src, 1)] if fix is not None else parts_at(session, src, force.slug, as_of)
    for part, sign in parts:
        cube, flow = _statements(part, shape, is_wanted)
        for r in conn.execute(cube, values):
            n = sign * r[nk]
            districts[r[0]] = districts.get(r[0], 0) + n
            offences[r[nk - 1]] = offences.get(r[nk - 1], 0) + n
            if is_wanted:
                reason_counts[r[1]] = reason_counts.get(r[1], 0) + n
                overdue += sign * r[nk + nb]
            for k in range(nb):
                cum[k] += sign * r[nk + k]
            opened_in_month += sign * r[nk + 1 + nt]
            opened_since += sign * r[nk + 2 + nt]

        # 2. The rows closed in the month or since a month ago (and how many of those opened in that time).
        c_month, c_since, o_c_month, o_c_since = conn.execute(flow, values).one()
        closed_in_month += sign * c_month
        closed_since += sign * c_since
        opened_in_month += sign * o_c_month
        opened_since += sign * o_c_since
    if fix is not None:
        for (_kind, district, reason, offence), n in fix.groups(OPEN):
            districts[district] = districts.get(district, 0) - n
            offences[offence] = offences.get(offence, 0) - n
            if is_wanted:
                reason_counts[reason] = reason_counts.get(reason, 0) - n
        cum[0] -= fix.of(OPEN)
        for k, days in enumerate(AGE_EDGES, start=1):
            cum[k] -= fix.of(age_measure(days))
        overdue -= fix.of(OVERDUE)
        opened_in_month -= fix.month[(OPENED, "")]
        opened_since -= fix.since[(OPENED, "")]
        closed_in_month -= fix.month[(CLOSED, "")]
        closed_since -= fix.since[(CLOSED, "")]
    bands = [cum[k] - cum[k + 1] for k in range(nb - 1)] + [cum[-1]]
    districts, offences, reason_counts = nonzero(districts), nonzero(offences), nonzero(reason_counts)

    return Caseload(
        open=cum[0],
        by_district=district_counts(force, filters, districts),
        by_age_band=dict(zip(WANTED_AGE_BANDS, bands, strict=True)),
        by_offence=by_offence(offences),
        by_reason=by_count(reason_counts, reasons),
        review_overdue=overdue if is_wanted else 0,
        opened_in_month=opened_in_month,
        closed_in_month=closed_in_month,
        open_a_month_ago=cum[0] - opened_since + closed_since,
    )


def _from_counts(c: Correction, force: Force, filters: Filters, is_wanted: bool, reasons: tuple[str, ...]) -> Caseload:
    """The caseload from per-group counts (today's rows' day counts, less any later revisions)."""
    districts: dict[str, int] = {}
    offences: dict[str, int] = {}
    reason_counts: dict[str, int] = {}
    for (_kind, district, reason, offence), n in c.groups(OPEN):
        districts[district] = districts.get(district, 0) + n
        offences[offence] = offences.get(offence, 0) + n
        if is_wanted:
            reason_counts[reason] = reason_counts.get(reason, 0) + n
    cum = [c.of(OPEN)] + [c.of(age_measure(days)) for days in AGE_EDGES]
    bands = [cum[k] - cum[k + 1] for k in range(len(cum) - 1)] + [cum[-1]]
    opened_since, closed_since = c.since[(OPENED, "")], c.since[(CLOSED, "")]
    return Caseload(
        open=cum[0],
        by_district=district_counts(force, filters, nonzero(districts)),
        by_age_band=dict(zip(WANTED_AGE_BANDS, bands, strict=True)),
        by_offence=by_offence(nonzero(offences)),
        by_reason=by_count(nonzero(reason_counts), reasons),
        review_overdue=c.of(OVERDUE) if is_wanted else 0,
        opened_in_month=c.month[(OPENED, "")],
        closed_in_month=c.month[(CLOSED, "")],
        open_a_month_ago=cum[0] - opened_since + closed_since,
    )
