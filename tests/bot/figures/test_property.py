"""Property-based proof of the figures: random rows (dates clustered around month ends, 29 Feb 2024,
31st-of-month starts and year ends; closures including same-day; both forces) are inserted straight into the
tables, and every figure of wanted, suspects and bail, and the monthly series, must equal an independent,
deliberately plain brute-force computation over the same rows (below: it reuses none of bot.figures' code).
Each example runs in a transaction that is rolled back, so it starts from empty tables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from bot.figures import Filters, bail_figures, monthly_series, suspect_figures, wanted_figures
from bot.figures.cases import active_by_kind_at, bail_ending_soon
from bot.figures.day_counts import current_state, rebuild_day_counts
from bot.figures.month_flow import flows_current, rebuild_month_flows
from bot.figures.outcomes import with_outcomes
from bot.models import BailPeriod, ImportBatch, OutstandingSuspect, WantedCirculation

REASONS = ["never_arrested", "failed_to_answer_bail", "bail_breach", "rui_fresh_evidence"]
AGE_BANDS = ["0-27d", "28-90d", "91-180d", "181-365d", "over-365d"]
LENGTHS = ["0-3m", "3-6m", "6-9m", "9-12m", "over-12m"]
AUTHORITIES = ["inspector", "superintendent", "magistrates' court"]
CLOSURE_OUTCOMES = ["arrested", "located", "cancelled", "voluntary_attendance"]
KINDS = ("bail", "rui")
BAIL_OUTCOMES = ["charged", "nfa", "converted_to_rui", "out_of_court_disposal"]


@dataclass
class Row:
    force: str
    reference: str
    district: str
    offence: str
    opened: dt.date
    closed: dt.date | None
    reason: str | None = None  # wanted
    last_reviewed: dt.date | None = None  # wanted
    kind: str | None = None  # bail
    bail_end: dt.date | None = None  # bail
    outcome: str | None = None  # how it closed (None: not recorded)
    person: str | None = None  # person_ref


def days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.date(year, month, 1)).days


def plus_months(d: dt.date, n: int) -> dt.date:
    year = d.year
    month = d.month + n
    while month > 12:
        month -= 12
        year += 1
    while month < 1:
        month += 12
        year -= 1
    day = d.day
    if day > days_in_month(year, month):
        day = days_in_month(year, month)
    return dt.date(year, month, day)


def is_open(r: Row, d: dt.date) -> bool:
    return r.opened <= d and (r.closed is None or r.closed > d)


def is_lapsed(r: Row, d: dt.date) -> bool:
    """Bail still open on d whose bail end date is an earlier day."""
    return r.kind == "bail" and is_open(r, d) and r.bail_end is not None and r.bail_end < d


def is_active(r: Row, d: dt.date) -> bool:
    return is_open(r, d) and not is_lapsed(r, d)


def selected(r: Row, force: str, as_of: dt.date, district, offence, reason, older_than_days) -> bool:
    if r.force != force:
        return False
    if district is not None and r.district != district:
        return False
    if offence is not None and r.offence.lower() != offence.lower():
        return False
    if reason is not None and r.reason != reason:
        return False
    return not (older_than_days is not None and not (as_of - r.opened).days > older_than_days)


def names_people(rows: list[Row], force: str) -> bool:
    """Whether any of the force's rows still open in the table (no closed date at all) names a person."""
    return any(r.force == force and r.closed is None and r.person is not None for r in rows)


def count_desc(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def tally(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def tally_offences(values) -> dict[str, int]:
    """Offence groups as the answers give them: spellings equal but for case are one group, named by the most used
    spelling (on a tie: mixed case, then upper, then lower, then the first in order)."""
    spellings: dict[str, dict[str, int]] = {}
    for v in values:
        spellings.setdefault(v.lower(), {})
        spellings[v.lower()][v] = spellings[v.lower()].get(v, 0) + 1
    out: dict[str, int] = {}
    for names in spellings.values():
        out[sorted(names, key=lambda k: (-names[k], k.isupper(), k.islower(), k))[0]] = sum(names.values())
    return out


def district_list(config_districts: list[str], chosen: str | None, counts: dict[str, int]) -> list[tuple[str, int]]:
    keys = [chosen] if chosen else list(config_districts)
    out = [(k, counts.get(k, 0)) for k in keys]
    out += sorted((k, v) for k, v in counts.items() if k not in keys)
    return out


def month_ago(d: dt.date) -> dt.date:
    year, month = (d.year - 1, 12) if d.month == 1 else (d.year, d.month - 1)
    return dt.date(year, month, min(d.day, days_in_month(year, month)))


def caseload(rows: list[Row], districts: list[str], as_of: dt.date, filt: dict, *, wanted: bool, review_days=28):
    mine = [r for r in rows if selected(r, as_of=as_of, **filt)]
    live = [r for r in mine if is_open(r, as_of)]
    bands = dict.fromkeys(AGE_BANDS, 0)
    for r in live:
        age = (as_of - r.opened).days
        if age <= 27:
            bands["0-27d"] += 1
        elif age <= 90:
            bands["28-90d"] += 1
        elif age <= 180:
            bands["91-180d"] += 1
        elif age <= 365:
            bands["181-365d"] += 1
        else:
            bands["over-365d"] += 1
    first = dt.date(as_of.year, as_of.month, 1)
    ago = month_ago(as_of)
    out = {
        "open": len(live),
        "by_district": district_list(districts, filt["district"], tally(r.district for r in live)),
        "by_age_band": list(bands.items()),
        "by_offence": count_desc(tally_offences(r.offence for r in live)),
        "opened_in_month": sum(1 for r in mine if first <= r.opened <= as_of),
        "closed_in_month": sum(1 for r in mine if r.closed is not None and first <= r.closed <= as_of),
        "open_a_month_ago": sum(1 for r in mine if is_open(r, ago)),
        "closed_by_outcome": outcomes_closed(mine, first, as_of),
        "people": len({r.person for r in live if r.person is not None}),
        "named_rows": sum(1 for r in live if r.person is not None),
    }
    if wanted:
        reasons = dict.fromkeys(REASONS, 0)
        for r in live:
            reasons[r.reason] += 1
        out["by_reason"] = count_desc(reasons)
        out["review_overdue"] = sum(
            1 for r in live if (as_of - (r.last_reviewed if r.last_reviewed else r.opened)).days > review_days
        )
    return out


def outcomes_closed(rows: list[Row], first: dt.date, last: dt.date) -> list[tuple[str, int]]:
    closed = [r for r in rows if r.closed is not None and first <= r.closed <= last]
    return count_desc(tally(r.outcome or "not_recorded" for r in closed))


def length_band(start: dt.date, as_of: dt.date) -> str:
    if plus_months(start, 12) <= as_of:
        return "over-12m"
    if plus_months(start, 9) <= as_of:
        return "9-12m"
    if plus_months(start, 6) <= as_of:
        return "6-9m"
    if plus_months(start, 3) <= as_of:
        return "3-6m"
    return "0-3m"


def authority(start: dt.date, end: dt.date) -> str:
    if start < dt.date(2022, 10, 28):  # the Policing and Crime Act 2017 ladder
        return "superintendent" if (end - start).days <= 28 else "magistrates' court"
    if end <= plus_months(start, 3):
        return "inspector"
    if end <= plus_months(start, 6):
        return "superintendent"
    return "magistrates' court"


def bail(rows: list[Row], districts: list[str], as_of: dt.date, filt: dict, within: int):
    mine = [r for r in rows if selected(r, as_of=as_of, **filt)]
    first = dt.date(as_of.year, as_of.month, 1)
    out: dict = {"length_bands": {}, "by_district": {}, "by_offence": {}, "opened_in_month": {}, "closed_in_month": {}}
    gone = [r for r in mine if is_lapsed(r, as_of)]
    out["lapsed_bail"] = len(gone)
    out["lapsed_bail_by_district"] = district_list(districts, filt["district"], tally(r.district for r in gone))
    for kind in ("bail", "rui"):
        live = [r for r in mine if r.kind == kind and is_active(r, as_of)]
        out["active_" + kind] = len(live)
        bands = dict.fromkeys(LENGTHS, 0)
        for r in live:
            bands[length_band(r.opened, as_of)] += 1
        out["length_bands"][kind] = list(bands.items())
        out["by_district"][kind] = district_list(districts, filt["district"], tally(r.district for r in live))
        out["by_offence"][kind] = count_desc(tally_offences(r.offence for r in live))
        long = [r for r in live if length_band(r.opened, as_of) == "over-12m"]
        out.setdefault("over_12m_by_district", {})[kind] = tally(r.district for r in long)
        out.setdefault("over_12m_by_offence", {})[kind] = tally_offences(r.offence for r in long)
        out["opened_in_month"][kind] = sum(1 for r in mine if r.kind == kind and first <= r.opened <= as_of)
        out["closed_in_month"][kind] = sum(
            1 for r in mine if r.kind == kind and r.closed is not None and first <= r.closed <= as_of
        )
        out.setdefault("closed_by_outcome", {})[kind] = outcomes_closed(
            [r for r in mine if r.kind == kind], first, as_of
        )
        out.setdefault("people", {})[kind] = len({r.person for r in live if r.person is not None})
        out.setdefault("named_rows", {})[kind] = sum(1 for r in live if r.person is not None)
    soon = [
        r
        for r in mine
        if r.kind == "bail"
        and is_open(r, as_of)
        and r.bail_end is not None
        and as_of <= r.bail_end <= as_of + dt.timedelta(days=within)
    ]
    soon.sort(key=lambda r: (r.bail_end, r.reference))
    out["bail_ending_soon"] = [
        (
            r.reference,
            r.district,
            r.offence,
            r.opened,
            r.bail_end,
            (r.bail_end - as_of).days,
            authority(r.opened, r.bail_end),
        )
        for r in soon
    ]
    return out


def series(rows: list[Row], as_of: dt.date, months: int, filt: dict, kind: str | None = None):
    mine = [r for r in rows if selected(r, as_of=as_of, **filt) and (kind is None or r.kind == kind)]
    out = []
    year, month = as_of.year, as_of.month
    for _ in range(months):
        first = dt.date(year, month, 1)
        last = dt.date(year, month, days_in_month(year, month))
        end = min(last, as_of)
        out.append(
            (
                f"{year:04d}-{month:02d}",
                sum(1 for r in mine if is_active(r, end)),
                sum(1 for r in mine if first <= r.opened <= end),
                sum(1 for r in mine if r.closed is not None and first <= r.closed <= end),
                sum(1 for r in mine if is_lapsed(r, end)),
            )
        )
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    out.reverse()
    return out


# ---------------------------------------------------------------- strategies

FORCE_DISTRICTS = {
    "suffolk": ["ipswich", "bury-st-edmunds", "lowestoft"],
    "norfolk": ["norwich", "kings-lynn", "great-yarmouth"],
}
OFFENCES = ["burglary", "Burglary", "robbery", "assault", "drugs", "theft"]
LO, HI = dt.date(2022, 9, 1), dt.date(2025, 12, 31)  # from before 28 Oct 2022: both extension ladders


def _anchors() -> list[dt.date]:
    out = [dt.date(2024, 2, 29), dt.date(2024, 2, 28), dt.date(2024, 3, 1), dt.date(2023, 2, 28)]
    for y in (2023, 2024, 2025):
        for m in range(1, 13):
            out.append(dt.date(y, m, days_in_month(y, m)))  # month ends (31st where there is one)
            out.append(dt.date(y, m, 1))
    return sorted(set(out))


ANCHORS = _anchors()
near_anchor = st.builds(
    lambda a, k: a + dt.timedelta(days=k), st.sampled_from(ANCHORS), st.integers(min_value=-2, max_value=2)
)
dates = st.one_of(near_anchor, near_anchor, st.dates(LO, HI))
month_ends = st.sampled_from([a for a in ANCHORS if a.day >= 28])
as_of_dates = st.one_of(near_anchor, month_ends, st.dates(dt.date(2023, 3, 1), dt.date(2026, 1, 31)))


def around(as_of: dt.date, review_days: int = 28) -> st.SearchStrategy[dt.date]:
    """Dates on and next to every boundary the figures draw relative to as_of: the age bands, the review
    intervals, the calendar-month bands, the month start and the day a month ago."""
    days_back = st.sampled_from(
        [0, 1, 27, 28, 29, 89, 90, 91, 92, 180, 181, 364, 365, 366, 367, review_days - 1, review_days, review_days + 1]
    )
    months_back = st.builds(
        lambda n, k: plus_months(as_of, -n) + dt.timedelta(days=k),
        st.sampled_from([1, 3, 6, 9, 12]),
        st.integers(-1, 3),  # +1..+3: the clamped starts (31 Mar + 3 months = 30 Jun)
    )
    month_edges = st.builds(lambda k: dt.date(as_of.year, as_of.month, 1) + dt.timedelta(days=k), st.integers(-1, 1))
    return st.one_of(st.builds(lambda k: as_of - dt.timedelta(days=k), days_back), months_back, month_edges)


def any_date(as_of: dt.date, review_days: int = 28) -> st.SearchStrategy[dt.date]:
    near_as_of = around(as_of, review_days)
    return st.one_of(near_anchor, st.dates(LO, HI), near_as_of, near_as_of, near_as_of)


@st.composite
def closing(draw: st.DrawFn, opened: dt.date, as_of: dt.date) -> dt.date | None:
    how = draw(st.sampled_from(["open", "open", "same-day", "soon", "later", "anchor", "as_of"]))
    if how == "open":
        return None
    if how == "same-day":
        return opened
    if how == "soon":
        return opened + dt.timedelta(days=draw(st.integers(0, 40)))
    if how == "later":
        return opened + dt.timedelta(days=draw(st.integers(0, 500)))
    if how == "as_of":
        return max(opened, draw(around(as_of)))
    return max(opened, draw(near_anchor))


@st.composite
def row(draw: st.DrawFn, dataset: str, i: int, as_of: dt.date, review_days: int) -> Row:
    force = draw(st.sampled_from(["suffolk", "suffolk", "norfolk"]))
    opened = draw(any_date(as_of, review_days))
    r = Row(
        force=force,
        reference=f"R{i}",
        district=draw(st.sampled_from(FORCE_DISTRICTS[force])),
        offence=draw(st.sampled_from(OFFENCES)),
        opened=opened,
        closed=draw(closing(opened, as_of)),
        person=draw(st.sampled_from([None, "P1", "P2", "P3", "P4", "P5", "P6"])),
    )
    if r.closed is not None:
        vocab = BAIL_OUTCOMES if dataset == "bail" else CLOSURE_OUTCOMES
        r.outcome = draw(st.one_of(st.none(), st.sampled_from(vocab)))
    if dataset == "wanted":
        r.reason = draw(st.sampled_from(REASONS))
        r.last_reviewed = draw(
            st.one_of(
                st.none(),
                st.builds(lambda k: opened + dt.timedelta(days=k), st.integers(0, 400)),
                st.builds(lambda k: max(opened, as_of - dt.timedelta(days=review_days + k)), st.integers(-1, 1)),
            )
        )
    if dataset == "bail":
        r.kind = draw(st.sampled_from(["bail", "rui"]))
        if r.kind == "bail":
            # Bail end dates on the 3/6/9-month ladder (the authority boundaries), near it, near as_of (before
            # it: lapsed; on it: the last day of bail), or near a month end (the series' lapse boundaries).
            step = draw(st.sampled_from([3, 6, 9, 12]))
            ladder = plus_months(opened, step) + dt.timedelta(days=draw(st.sampled_from([0, 0, -1, 1, -5, 7])))
            near = as_of + dt.timedelta(days=draw(st.one_of(st.integers(-1, 31), st.integers(-90, 0))))
            r.bail_end = draw(st.sampled_from([ladder, max(opened, near), max(opened, draw(near_anchor))]))
    return r


@st.composite
def rows(draw: st.DrawFn, dataset: str, as_of: dt.date, review_days: int = 28) -> list[Row]:
    n = draw(st.integers(0, 40))
    return [draw(row(dataset, i, as_of, review_days)) for i in range(n)]


@st.composite
def filters(draw: st.DrawFn, force: str, wanted: bool) -> dict:
    return {
        "force": force,
        "district": draw(st.one_of(st.none(), st.none(), st.sampled_from(FORCE_DISTRICTS[force]))),
        "offence": draw(st.one_of(st.none(), st.none(), st.sampled_from(["burglary", "BURGLARY", "drugs"]))),
        "reason": draw(st.one_of(st.none(), st.sampled_from(REASONS))) if wanted else None,
        "older_than_days": draw(st.one_of(st.none(), st.none(), st.integers(0, 400))),
    }


def to_filters(f: dict) -> Filters:
    return Filters(
        district=f["district"], offence=f["offence"], reason=f["reason"], older_than_days=f["older_than_days"]
    )


def load(session, dataset: str, data: list[Row], *, with_flows: bool = False, review_days: int = 28) -> None:
    """Insert the rows; ``with_flows`` then also builds the month flows and the day counts as an import would (one
    batch per force, both stamped with it), so the figures and the series read them instead of counting the case
    rows (without it they count the rows: both ways are checked against the brute force)."""
    _insert(session, dataset, data)
    if with_flows:
        for force in ("suffolk", "norfolk"):
            session.add(
                ImportBatch(
                    force=force, dataset=dataset, file_name="t.csv", file_sha256="0" * 64, as_of=dt.date.today()
                )
            )
            session.flush()
            rebuild_month_flows(session, dataset, force)
            assert flows_current(session, force, dataset)
            rebuild_day_counts(session, dataset, force, review_days=review_days)
            assert current_state(session, force, dataset, review_days) is not None


def _insert(session, dataset: str, data: list[Row]) -> None:
    if not data:
        return
    base = [
        dict(
            force=r.force,
            reference=r.reference,
            district=r.district,
            offence=r.offence,
            person_ref=r.person,
            outcome=r.outcome,
        )
        for r in data
    ]
    if dataset == "wanted":
        session.execute(
            insert(WantedCirculation),
            [
                b
                | dict(
                    reason=r.reason,
                    circulated_on=r.opened,
                    closed_on=r.closed,
                    last_reviewed_on=r.last_reviewed,
                    status="closed" if r.closed else "open",
                )
                for b, r in zip(base, data, strict=True)
            ],
        )
    elif dataset == "suspects":
        session.execute(
            insert(OutstandingSuspect),
            [
                b | dict(identified_on=r.opened, closed_on=r.closed, status="closed" if r.closed else "open")
                for b, r in zip(base, data, strict=True)
            ],
        )
    else:
        session.execute(
            insert(BailPeriod),
            [
                b | dict(kind=r.kind, started_on=r.opened, ended_on=r.closed, bail_end_on=r.bail_end)
                for b, r in zip(base, data, strict=True)
            ],
        )


def series_tuples(points) -> list[tuple]:
    return [(p.month, p.open_at_end, p.opened, p.closed, p.lapsed_at_end) for p in points]


PROPERTY = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("dataset", ["wanted", "suspects"])
@PROPERTY
@given(data=st.data())
def test_caseload_figures_match_brute_force(session, config, dataset: str, data: st.DataObject) -> None:
    wanted = dataset == "wanted"
    force_slug = data.draw(st.sampled_from(["suffolk", "suffolk", "norfolk"]), label="force")
    as_of = data.draw(as_of_dates, label="as_of")
    review_days = data.draw(st.sampled_from([28, 7, 90]), label="review_days")
    table = data.draw(rows(dataset, as_of, review_days), label="rows")
    filt = data.draw(filters(force_slug, wanted), label="filters")
    months = data.draw(st.integers(1, 14), label="months")
    with_flows = data.draw(st.booleans(), label="month flows")
    force = config.force(force_slug)
    try:
        load(session, dataset, table, with_flows=with_flows, review_days=review_days)
        if wanted:
            got = wanted_figures(session, force, as_of, to_filters(filt), review_days=review_days)
        else:
            got = suspect_figures(session, force, as_of, to_filters(filt))
        got_outcomes = with_outcomes(session, got, force, to_filters(filt))
        got_series = series_tuples(monthly_series(session, dataset, force, as_of, months, to_filters(filt)))
    finally:
        session.rollback()

    want = caseload(table, FORCE_DISTRICTS[force_slug], as_of, filt, wanted=wanted, review_days=review_days)
    assert got.open == want["open"]
    assert list(got.by_district.items()) == want["by_district"]
    assert list(got.by_age_band.items()) == want["by_age_band"]
    assert list(got.by_offence.items()) == want["by_offence"]
    assert got.opened_in_month == want["opened_in_month"]
    assert got.closed_in_month == want["closed_in_month"]
    assert got.open_a_month_ago == want["open_a_month_ago"]
    assert list(got_outcomes.closed_by_outcome.items()) == want["closed_by_outcome"]
    # No people at all when none of the force's rows open in the table names a person (the export has no person
    # references): "0 people" beside a caseload would be a count nobody made.
    assert got_outcomes.people == (want["people"] if names_people(table, force_slug) else None)
    # ... and with them the rows they were counted from: the rest name nobody.
    assert got_outcomes.named_rows == (want["named_rows"] if names_people(table, force_slug) else None)
    if wanted:
        assert list(got.by_reason.items()) == want["by_reason"]
        assert got.review_overdue == want["review_overdue"]
    assert (got.force, got.district, got.as_of) == (force_slug, filt["district"], as_of)
    assert got_series == series(table, as_of, months, filt)


@PROPERTY
@given(data=st.data())
def test_bail_figures_match_brute_force(session, config, data: st.DataObject) -> None:
    force_slug = data.draw(st.sampled_from(["suffolk", "suffolk", "norfolk"]), label="force")
    as_of = data.draw(as_of_dates, label="as_of")
    table = data.draw(rows("bail", as_of), label="rows")
    filt = data.draw(filters(force_slug, False), label="filters")
    within = data.draw(st.sampled_from([14, 0, 30, 120]), label="within")
    months = data.draw(st.integers(1, 14), label="months")
    with_flows = data.draw(st.booleans(), label="month flows")
    force = config.force(force_slug)
    try:
        load(session, "bail", table, with_flows=with_flows)
        got = bail_figures(session, force, as_of, to_filters(filt), ending_within_days=within)
        got_outcomes = with_outcomes(session, got, force, to_filters(filt))
        got_series = {
            k: series_tuples(monthly_series(session, "bail", force, as_of, months, to_filters(filt), kind=k))
            for k in ("bail", "rui")
        }
        got_month_ago = active_by_kind_at(session, force, as_of, month_ago(as_of), to_filters(filt))
        got_soon = bail_ending_soon(session, force, as_of, to_filters(filt), within)
    finally:
        session.rollback()

    want = bail(table, FORCE_DISTRICTS[force_slug], as_of, filt, within)
    assert (got.active_bail, got.active_rui) == (want["active_bail"], want["active_rui"])
    assert got.lapsed_bail == want["lapsed_bail"]
    assert list(got.lapsed_bail_by_district.items()) == want["lapsed_bail_by_district"]
    assert got.opened_in_month == want["opened_in_month"]
    assert got.closed_in_month == want["closed_in_month"]
    for kind in ("bail", "rui"):
        assert list(got.length_bands[kind].items()) == want["length_bands"][kind]
        assert list(got.by_district[kind].items()) == want["by_district"][kind]
        assert list(got.by_offence[kind].items()) == want["by_offence"][kind]
        assert got.over_12m_by_district[kind] == want["over_12m_by_district"][kind]
        assert got.over_12m_by_offence[kind] == want["over_12m_by_offence"][kind]
        assert got_series[kind] == series(table, as_of, months, filt, kind)
        assert list(got_outcomes.closed_by_outcome[kind].items()) == want["closed_by_outcome"][kind]
        people = got_outcomes.people[kind] if got_outcomes.people is not None else None
        assert people == (want["people"][kind] if names_people(table, force_slug) else None)
        named = got_outcomes.named_rows[kind] if got_outcomes.named_rows is not None else None
        assert named == (want["named_rows"][kind] if names_people(table, force_slug) else None)
    assert [
        (e.reference, e.district, e.offence, e.started_on, e.bail_end_on, e.days_left, e.next_authority)
        for e in got.bail_ending_soon
    ] == want["bail_ending_soon"]
    assert got.bail_ending_soon_total == len(want["bail_ending_soon"])
    # The ending-soon summary of the bail answer, counted in SQL by groups: the same rows, tallied here one by one.
    soon = want["bail_ending_soon"]
    assert (got_soon.within_days, got_soon.total) == (within, len(soon))
    assert got_soon.within_7_days == sum(1 for e in soon if e[5] <= 7)
    assert got_soon.by_authority == dict(
        sorted(tally(e[6] for e in soon).items(), key=lambda kv: (-kv[1], AUTHORITIES.index(kv[0])))
    )
    bands = [(b, sum(length_band(e[3], as_of) == b for e in soon)) for b in LENGTHS]
    assert list(got_soon.length_bands.items()) == bands
    districts = district_list(FORCE_DISTRICTS[force_slug], filt["district"], tally(e[1] for e in soon))
    assert list(got_soon.by_district.items()) == districts
    assert list(got_soon.by_offence.items()) == count_desc(tally_offences(e[2] for e in soon))
    mine = [r for r in table if selected(r, force_slug, as_of, filt["district"], filt["offence"], None,
                                         filt["older_than_days"])]  # fmt: skip
    assert got_month_ago == {k: sum(1 for r in mine if r.kind == k and is_active(r, month_ago(as_of))) for k in KINDS}
