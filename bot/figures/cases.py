"""Case-level queries for `/mo … --list` (analysts only), and two counts the figures results lack.

A list carries case references and where/what/when only — reference, district, offence group, the date opened;
for wanted, the reason and the last review (whether it is overdue, as the figures count it); for bail, the bail
end date, the days left (or how long ago it lapsed), who authorises the next extension
and the officer in the case (whom the bail sergeant must chase) — never a person reference (data
minimisation). A bail list holds the lapsed periods too (first: the soonest end dates lead), counted apart in
``lapsed``, so the list's ``total`` is active bail plus lapsed bail. The rows are exactly those the figures
count under the same filters ("open at D", :mod:`bot.figures.source`), with the values they had as known at D
(:mod:`bot.figures.history`), so a list's ``total`` equals the headline figure of the same question at D.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from bot.config import Force
from bot.figures.bail import by_authority_order, length_band_ranges, next_authority
from bot.figures.caseload import by_offence, district_counts
from bot.figures.day_counts import measure_names, state_counts_at, usable_state
from bot.figures.history import needs_history, source_at
from bot.figures.lapsed import not_lapsed
from bot.figures.month_flow import flows_current
from bot.figures.source import (
    BAIL,
    SOURCES,
    count_open,
    count_open_where,
    filter_values,
    open_rows,
    row_conditions,
)
from bot.figures.types import KINDS, LENGTH_BANDS, Filters
from bot.models import MonthFlow

LIST_DATASETS: tuple[str, ...] = ("wanted", "suspects", "bail", "rui")


@dataclass(frozen=True)
class CaseRow:
    reference: str
    district: str
    offence: str
    opened_on: dt.date
    bail_end_on: dt.date | None = None
    # Bail lists only: days from as_of to the bail end date (negative: lapsed that many days ago), who must
    # authorise the next extension (None once lapsed) and the officer in the case.
    days_left: int | None = None
    next_authority: str | None = None
    oic: str | None = None
    # Wanted lists only: why the person is wanted, the last review recorded (None: never reviewed) and whether the
    # review is overdue at as_of (neither reviewed nor circulated within the review interval, as the figures count).
    reason: str | None = None
    last_reviewed_on: dt.date | None = None
    review_overdue: bool = False

    @property
    def lapsed_days(self) -> int | None:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else None


@dataclass(frozen=True)
class CaseList:
    total: int  # every matching case; rows holds at most `limit` of them
    rows: list[CaseRow]
    lapsed: int = 0  # bail lists: how many of total have lapsed
    review_overdue: int = 0  # wanted lists: how many of total are overdue for review


def open_cases(
    session: Session,
    dataset: str,
    force: Force,
    as_of: dt.date,
    filters: Filters,
    limit: int,
    *,
    ending_within_days: int | None = None,
    review_days: int = 28,
) -> CaseList:
    """Cases of ``dataset`` (wanted, suspects, bail or rui) open at ``as_of``: oldest first, except bail, which
    is ordered by the soonest bail end date. ``ending_within_days`` (bail only) keeps bail ending from
    ``as_of`` to ``as_of + N`` days, as the figures' "bail ending soon" does. ``review_days`` (wanted): the review
    interval (the config's ``wanted_review_days``), past which a circulation is overdue for review."""
    if dataset not in LIST_DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(LIST_DATASETS)}")
    if limit < 1:
        raise ValueError("limit must be at least 1")
    kind = dataset if dataset in KINDS else None
    # As known at as_of (bot/figures/history.py): at a date a later import revised, each case as the latest
    # import up to as_of gave it — the rows the figures of the same question count there.
    src = source_at(session, BAIL if kind else SOURCES[dataset], force.slug, as_of)
    m = src.model
    conds = row_conditions(src, force.slug, as_of, filters, kind=kind)
    if ending_within_days is not None:
        if kind != "bail":
            raise ValueError("ending_within_days applies to bail only")
        conds += [m.bail_end_on >= as_of, m.bail_end_on <= as_of + dt.timedelta(days=ending_within_days)]
    cols = [m.reference, m.district, m.offence, src.opened.label("opened_on")]
    if kind is not None:
        cols.append(m.bail_end_on)
    if kind == "bail":
        cols.append(m.oic)
    if dataset == "wanted":
        cols += [m.reason, m.last_reviewed_on]
    sub = open_rows(src, as_of, conds, *cols)
    if kind == "bail":
        order = [sub.c.bail_end_on.asc().nulls_last(), sub.c.reference]
    else:
        order = [sub.c.opened_on, sub.c.reference]
    # Overdue for review: neither reviewed nor circulated in the last review_days days (bot/figures/wanted.py).
    due_after = as_of - dt.timedelta(days=review_days)
    if kind == "bail":
        gone = func.sum(case((sub.c.bail_end_on < as_of, 1), else_=0)).over()
    elif dataset == "wanted":
        gone = func.sum(case((func.coalesce(sub.c.last_reviewed_on, sub.c.opened_on) < due_after, 1), else_=0)).over()
    else:
        gone = func.sum(literal(0)).over()
    rows: list[CaseRow] = []
    total = n_flagged = 0
    query = select(sub, func.count().over().label("total"), gone.label("flagged")).order_by(*order).limit(limit)
    for r in session.execute(query, {"at": as_of}):
        total, n_flagged = int(r.total), int(r.flagged or 0)
        end = r.bail_end_on if kind is not None else None
        days_left = authority = None
        if kind == "bail" and end is not None:
            days_left = (end - as_of).days
            authority = next_authority(r.opened_on, end) if days_left >= 0 else None
        rows.append(
            CaseRow(
                reference=r.reference,
                district=r.district,
                offence=r.offence,
                opened_on=r.opened_on,
                bail_end_on=end,
                days_left=days_left,
                next_authority=authority,
                oic=r.oic if kind == "bail" else None,
                reason=r.reason if dataset == "wanted" else None,
                last_reviewed_on=r.last_reviewed_on if dataset == "wanted" else None,
                review_overdue=dataset == "wanted" and (r.last_reviewed_on or r.opened_on) < due_after,
            )
        )
    if dataset == "wanted":
        return CaseList(total=total, rows=rows, review_overdue=n_flagged)
    return CaseList(total=total, rows=rows, lapsed=n_flagged)


def active_by_kind_at(session: Session, force: Force, as_of: dt.date, at: dt.date, filters: Filters) -> dict[str, int]:
    """Active bail and RUI at ``at`` (e.g. a month before ``as_of``) under the filters of a question asked at
    ``as_of`` — the ``older_than`` cutoff is the one ``filters`` fix at ``as_of`` (the answers pass filters counted
    back from ``at``: :meth:`bot.figures.types.Filters.counted_back_from`) —
    counted in the rows as known at ``as_of``: both ends of a comparison with the same knowledge, so the change
    shown is movement, not revision (as the figures' open_a_month_ago). When the rows as known at ``as_of`` are
    today's and the day counts hold them, from those (a row per group); else from the rows."""
    shape, values = filter_values(BAIL, force.slug, as_of, filters)
    state = usable_state(session, BAIL, force.slug, shape, None)
    if state is not None and not needs_history(session, force.slug, BAIL.dataset, as_of):
        counts = state_counts_at(session, BAIL, shape, values, state, at)
        names = measure_names(BAIL.dataset)
        out = dict.fromkeys(KINDS, 0)
        for measure, sign in ((names["open"], 1), (names["flag"], -1)):  # active = open − lapsed
            for (kind, _d, _r, _o), n in counts.get(measure, {}).items():
                out[kind] += sign * n
        return out
    src = source_at(session, BAIL, force.slug, as_of)
    cols = []
    for k in KINDS:
        conds = row_conditions(src, force.slug, as_of, filters, kind=k)
        if k == "bail":
            cols += count_open_where(src, at, conds, not_lapsed(at, src.model))
        else:
            cols += count_open(src, at, conds)
    r = [int(x) for x in session.execute(select(*cols), {"at": as_of}).one()]
    return {k: r[2 * i] + r[2 * i + 1] for i, k in enumerate(KINDS)}


@dataclass(frozen=True)
class EndingSoon:
    """Active bail ending from ``as_of`` to ``as_of + within_days``, counted in full (the figures' own list of
    ending-soon rows is capped): how many, how many within a week, by who must authorise the extension, and —
    for `/mo bail --expiring`, whose breakdowns are of these periods — by length, district and offence group."""

    within_days: int
    total: int
    within_7_days: int
    by_authority: dict[str, int]  # "inspector" | "superintendent" | "magistrates' court" -> count, most first
    length_bands: dict[str, int] = field(default_factory=dict)  # band -> count, band order
    by_district: dict[str, int] = field(default_factory=dict)  # config order, zeros included
    by_offence: dict[str, int] = field(default_factory=dict)  # most first


def bail_ending_soon(session: Session, force: Force, as_of: dt.date, filters: Filters, within_days: int) -> EndingSoon:
    """Counted in SQL per (start, end date) pair and per district and offence, not row by row: the window holds
    tens of thousands of rows at the design point's scale but only as many pairs as start days × end days. The
    authority rule needs calendar-month arithmetic, which is :func:`bot.figures.bail.next_authority`'s, not
    SQL's: it runs once per pair."""
    src = source_at(session, BAIL, force.slug, as_of)  # as known at as_of (bot/figures/history.py)
    m = src.model
    conds = [
        *row_conditions(src, force.slug, as_of, filters, kind="bail"),
        m.bail_end_on >= as_of,
        m.bail_end_on <= as_of + dt.timedelta(days=within_days),
    ]
    sub = open_rows(src, as_of, conds, m.started_on, m.bail_end_on, m.district, m.offence)
    n = func.count().label("n")
    pairs = select(sub.c.started_on, sub.c.bail_end_on, n).group_by(sub.c.started_on, sub.c.bail_end_on)
    places = select(literal("d").label("by"), sub.c.district.label("name"), n).group_by(sub.c.district)
    groups = select(literal("o").label("by"), sub.c.offence.label("name"), n).group_by(sub.c.offence)
    total = week = 0
    by: dict[str, int] = {}
    bands = dict.fromkeys(LENGTH_BANDS, 0)
    ranges = length_band_ranges(as_of)
    for started_on, bail_end_on, k in session.execute(pairs, {"at": as_of}):
        total += k
        week += k if (bail_end_on - as_of).days <= 7 else 0
        a = next_authority(started_on, bail_end_on)
        by[a] = by.get(a, 0) + k
        for band, (after, upto) in zip(LENGTH_BANDS, ranges, strict=True):
            if started_on <= upto and (after is None or started_on > after):
                bands[band] += k
                break
    districts: dict[str, int] = {}
    offences: dict[str, int] = {}
    for kind, name, k in session.execute(places.union_all(groups), {"at": as_of}):
        (districts if kind == "d" else offences)[name] = k
    return EndingSoon(
        within_days=within_days,
        total=total,
        within_7_days=week,
        by_authority=by_authority_order(by),
        length_bands=bands,
        by_district=district_counts(force, filters, districts),
        by_offence=by_offence(offences),
    )


def offence_groups(session: Session, dataset: str, force: Force) -> list[str]:
    """The offence groups present in a force's ``dataset`` (wanted, suspects or bail), sorted — so a filter on
    a group that does not exist is reported instead of answered with zeros. From the month flows while they are
    current (every row is counted there in the month it opened: a few thousand rows, not a scan of the force's
    cases, which took 0.5–0.7 s on a million), else from the case rows."""
    src = SOURCES["bail" if dataset in KINDS else dataset]
    if flows_current(session, force.slug, src.dataset):
        series = KINDS if src is BAIL else (src.dataset,)
        q = select(MonthFlow.offence).where(MonthFlow.force == force.slug, MonthFlow.series.in_(series))
        return sorted(session.scalars(q.distinct()))
    m = src.model
    return sorted(session.scalars(select(m.offence).where(m.force == force.slug).distinct()))


def common_offences(session: Session, dataset: str, force: Force, n: int) -> list[str]:
    """The ``n`` offence groups with the most cases in a force's ``dataset`` (most first): from the month flows
    while they are current (a few thousand rows), else from the case rows."""
    src = SOURCES["bail" if dataset in KINDS else dataset]
    if flows_current(session, force.slug, src.dataset):
        series = KINDS if src is BAIL else (src.dataset,)
        total = func.sum(MonthFlow.opened)
        q = (
            select(MonthFlow.offence)
            .where(MonthFlow.force == force.slug, MonthFlow.series.in_(series))
            .group_by(MonthFlow.offence)
            .order_by(total.desc(), MonthFlow.offence)
            .limit(n)
        )
        return list(session.scalars(q))
    m = src.model
    q = select(m.offence).where(m.force == force.slug).group_by(m.offence).order_by(func.count().desc(), m.offence)
    return list(session.scalars(q.limit(n)))
