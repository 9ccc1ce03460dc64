"""Figures as they were known: a sequence of imports revises end dates, reviews, closures, districts, offence
groups and reasons, and the figures at any date D — wanted, suspects and bail, under district, offence and reason
filters, the case lists, and each month end of the monthly series — must equal a brute force that replays the
imports: each case as the latest import of it with an as-of date on or before D gave it (its first import's
values before that). Every import goes through the real import path (so the merge's history is what is tested);
an unchanged re-import changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Config, Force
from bot.figures import bail_figures, monthly_series, suspect_figures, wanted_figures
from bot.figures.cases import open_cases
from bot.figures.history import revised_until
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import BailHistory, BailPeriod, WantedCirculation, WantedHistory
from tests.bot.figures.test_property import (
    FORCE_DISTRICTS,
    PROPERTY,
    REASONS,
    Row,
    bail,
    caseload,
    days_in_month,
    is_active,
    is_lapsed,
    is_open,
    selected,
    to_filters,
)

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
DISTRICTS = FORCE_DISTRICTS["suffolk"]
START = dt.date(2024, 1, 20)
NO_FILTER = {"force": "suffolk", "district": None, "offence": None, "reason": None, "older_than_days": None}


OFFENCES = ["burglary", "Burglary", "robbery", "drugs"]  # a revision may change the group, or only its case
GAPS = (0, 1, 13, 30, 31, 45)
MONTHLY_GAPS = (17, 28, 31, 33, 45)  # about one import a month: revisions land between month ends


@dataclass(frozen=True)
class Version:
    district: str
    opened: dt.date
    closed: dt.date | None
    offence: str = "burglary"
    reason: str | None = None  # wanted
    reviewed: dt.date | None = None  # wanted
    bail_end: dt.date | None = None  # bail


def maybe_date(draw: st.DrawFn, opened: dt.date, as_of: dt.date) -> dt.date | None:
    """None, or a date from ``opened`` to ``as_of`` (an export holds no date after its own)."""
    if draw(st.booleans()):
        return None
    return min(as_of, opened + dt.timedelta(days=draw(st.integers(0, 90))))


@st.composite
def imports(
    draw: st.DrawFn, dataset: str, *, most: int = 4, gaps: tuple[int, ...] = GAPS
) -> tuple[list[dt.date], list[dict[str, Version]], dict[str, str]]:
    """As-of dates (ascending, some on the same day) and, per import, the version of each case it holds: every
    value but the opening date may change from one import to the next (district, offence group, reason,
    review, bail end date, closure — and a closure may be withdrawn)."""
    k = draw(st.integers(1, most))
    steps = draw(st.lists(st.sampled_from(gaps), min_size=k - 1, max_size=k - 1))
    as_ofs = [START]
    for g in steps:
        as_ofs.append(as_ofs[-1] + dt.timedelta(days=g))
    n = draw(st.integers(0, 12))
    kinds = {f"R{i}": draw(st.sampled_from(["bail", "rui"])) if dataset == "bail" else "" for i in range(n)}
    files: list[dict[str, Version]] = []
    opened: dict[str, dt.date] = {}
    for a in as_ofs:
        held: dict[str, Version] = {}
        for ref, kind in kinds.items():
            if not draw(st.booleans()) and files:
                continue  # absent from this (partial) export: left as it was
            o = opened.setdefault(ref, a - dt.timedelta(days=draw(st.integers(0, 120))))
            closed = maybe_date(draw, o, a)
            reason = reviewed = bail_end = None
            if dataset == "wanted":
                reason = draw(st.sampled_from(REASONS))
                reviewed = maybe_date(draw, o, a)
            elif kind == "bail":
                bail_end = o + dt.timedelta(days=draw(st.integers(0, 150)))
            district, offence = draw(st.sampled_from(DISTRICTS)), draw(st.sampled_from(OFFENCES))
            held[ref] = Version(district, o, closed, offence, reason, reviewed, bail_end)
        files.append(held)
    return as_ofs, files, kinds


@st.composite
def filters(draw: st.DrawFn, dataset: str) -> dict:
    """No filter half the time each; else a district, an offence group (in any case) or, for wanted, a reason —
    each read from the values as known at the date asked about."""
    return {
        "force": "suffolk",
        "district": draw(st.one_of(st.none(), st.sampled_from(DISTRICTS))),
        "offence": draw(st.one_of(st.none(), st.sampled_from(["burglary", "ROBBERY", "drugs"]))),
        "reason": draw(st.one_of(st.none(), st.sampled_from(REASONS))) if dataset == "wanted" else None,
        "older_than_days": draw(st.one_of(st.none(), st.none(), st.integers(0, 120))),
    }


HEADERS = {
    "wanted": "reference,offence,district,reason,circulated_on,last_reviewed_on,closed_on,status",
    "suspects": "reference,offence,district,identified_on,closed_on,status",
    "bail": "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome",
}


def write(tmp: Path, dataset: str, i: int, held: dict[str, Version], kinds: dict[str, str]) -> Path:
    lines = [HEADERS[dataset]]
    for ref, v in held.items():
        status = "closed" if v.closed else "open"
        if dataset == "wanted":
            line = f"{v.reason},{v.opened},{v.reviewed or ''},{v.closed or ''},{status}"
        elif dataset == "suspects":
            line = f"{v.opened},{v.closed or ''},{status}"
        else:
            line = f"{kinds[ref]},{v.opened},{v.bail_end or ''},{v.closed or ''},{'charged' if v.closed else ''}"
        lines.append(f"{ref},{v.offence},{v.district},{line}")
    p = tmp / f"{dataset}-{i}.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


def state_at(d: dt.date, as_ofs: list[dt.date], files: list[dict[str, Version]], kinds: dict[str, str]) -> list[Row]:
    """Replay: each case as the latest import holding it with as-of <= d gave it, else as its first import did."""
    out = []
    for ref, kind in kinds.items():
        held = [(a, f[ref]) for a, f in zip(as_ofs, files, strict=True) if ref in f]
        if not held:
            continue
        known = [v for a, v in held if a <= d]
        v = known[-1] if known else held[0][1]
        out.append(
            Row(
                force="suffolk",
                reference=ref,
                district=v.district,
                offence=v.offence,
                opened=v.opened,
                closed=v.closed,
                reason=v.reason,
                last_reviewed=v.reviewed,
                kind=kind or None,
                bail_end=v.bail_end,
            )
        )
    return out


def series_as_known(as_of, months, as_ofs, files, kinds, filt=NO_FILTER, kind=None) -> list[tuple]:
    """Each month of the series counted over the state at its end (the current month: at as_of), under filters
    whose older-than cutoff is fixed by as_of, as the figures' is."""
    out = []
    year, month = as_of.year, as_of.month
    for _ in range(months):
        first = dt.date(year, month, 1)
        end = min(dt.date(year, month, days_in_month(year, month)), as_of)
        rows = [
            r
            for r in state_at(end, as_ofs, files, kinds)
            if (kind is None or r.kind == kind) and selected(r, as_of=as_of, **filt)
        ]
        out.append(
            (
                f"{year:04d}-{month:02d}",
                sum(1 for r in rows if is_active(r, end)),
                sum(1 for r in rows if first <= r.opened <= end),
                sum(1 for r in rows if r.closed is not None and first <= r.closed <= end),
                sum(1 for r in rows if is_lapsed(r, end)),
            )
        )
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    out.reverse()
    return out


def list_as_known(rows: list[Row], dataset: str, d: dt.date, filt: dict) -> tuple[list[tuple], int]:
    """The case list at d: the open rows (bail: active and lapsed) under the filters, in the list's order
    (bail by end date then reference, the others by opening date then reference), and how many have lapsed."""
    kind = dataset if dataset in ("bail", "rui") else None
    mine = [r for r in rows if selected(r, as_of=d, **filt) and r.kind == kind and is_open(r, d)]
    if kind == "bail":
        mine.sort(key=lambda r: (r.bail_end is None, r.bail_end or dt.date.max, r.reference))
    else:
        mine.sort(key=lambda r: (r.opened, r.reference))
    return [(r.reference, r.district, r.offence, r.opened, r.bail_end) for r in mine], sum(
        1 for r in mine if is_lapsed(r, d)
    )


def assert_list(session: Session, force: Force, dataset: str, d: dt.date, filt: dict, rows: list[Row]) -> None:
    got = open_cases(session, dataset, force, d, to_filters(filt), 100)
    want, lapsed = list_as_known(rows, dataset, d, filt)
    assert [(r.reference, r.district, r.offence, r.opened_on, r.bail_end_on) for r in got.rows] == want
    assert (got.total, got.lapsed) == (len(want), lapsed)


def points(ps) -> list[tuple]:
    return [(p.month, p.open_at_end, p.opened, p.closed, p.lapsed_at_end) for p in ps]


def load(session: Session, config: Config, tmp: Path, dataset: str, as_ofs, files, kinds) -> None:
    for i, (a, held) in enumerate(zip(as_ofs, files, strict=True)):
        if not held:
            continue
        path = write(tmp, dataset, i, held, kinds)
        report = import_file(session, config, ImportRequest(dataset=dataset, path=path, force="suffolk", as_of=a), NOW)
        assert report.ok, (report.refused, report.errors)


query_days = st.one_of(
    st.builds(lambda k: START + dt.timedelta(days=k), st.integers(-40, 200)),
    st.sampled_from([dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31), dt.date(2024, 4, 30)]),
)


def asked_day(as_ofs: list[dt.date]) -> st.SearchStrategy[dt.date]:
    """Any day, or — as often — the day before, of or after an import: where a revision starts to count."""
    near = st.builds(lambda a, k: a + dt.timedelta(days=k), st.sampled_from(as_ofs), st.integers(-1, 1))
    return st.one_of(query_days, near)


@pytest.mark.parametrize("dataset", ["wanted", "suspects"])
@PROPERTY
@given(data=st.data())
def test_caseload_figures_at_past_dates_are_as_known_then(
    session, config, tmp_path, dataset: str, data: st.DataObject
) -> None:
    wanted = dataset == "wanted"
    as_ofs, files, kinds = data.draw(imports(dataset), label="imports")
    d = data.draw(asked_day(as_ofs), label="date")
    filt = data.draw(filters(dataset), label="filters")
    months = data.draw(st.integers(1, 5), label="months")
    force = config.force("suffolk")
    try:
        load(session, config, tmp_path, dataset, as_ofs, files, kinds)
        if wanted:
            got = wanted_figures(session, force, d, to_filters(filt), review_days=28)
        else:
            got = suspect_figures(session, force, d, to_filters(filt))
        got_series = points(monthly_series(session, dataset, force, d, months, to_filters(filt)))
        known = state_at(d, as_ofs, files, kinds)
        assert_list(session, force, dataset, d, filt, known)
    finally:
        session.rollback()
    want = caseload(known, DISTRICTS, d, filt, wanted=wanted, review_days=28)
    assert got.open == want["open"]
    assert list(got.by_district.items()) == want["by_district"]
    assert list(got.by_offence.items()) == want["by_offence"]
    assert list(got.by_age_band.items()) == want["by_age_band"]
    assert (got.opened_in_month, got.closed_in_month) == (want["opened_in_month"], want["closed_in_month"])
    assert got.open_a_month_ago == want["open_a_month_ago"]
    if wanted:
        assert got.review_overdue == want["review_overdue"]
        assert list(got.by_reason.items()) == want["by_reason"]
    assert got_series == series_as_known(d, months, as_ofs, files, kinds, filt)


@PROPERTY
@given(data=st.data())
def test_bail_figures_at_past_dates_are_as_known_then(session, config, tmp_path, data: st.DataObject) -> None:
    as_ofs, files, kinds = data.draw(imports("bail"), label="imports")
    d = data.draw(asked_day(as_ofs), label="date")
    filt = data.draw(filters("bail"), label="filters")
    months = data.draw(st.integers(1, 5), label="months")
    force = config.force("suffolk")
    try:
        load(session, config, tmp_path, "bail", as_ofs, files, kinds)
        got = bail_figures(session, force, d, to_filters(filt), ending_within_days=14)
        got_series = {
            k: points(monthly_series(session, "bail", force, d, months, to_filters(filt), kind=k))
            for k in ("bail", "rui")
        }
        known = state_at(d, as_ofs, files, kinds)
        for listed in ("bail", "rui"):
            assert_list(session, force, listed, d, filt, known)
    finally:
        session.rollback()
    want = bail(known, DISTRICTS, d, filt, 14)
    assert (got.active_bail, got.active_rui, got.lapsed_bail) == (
        want["active_bail"],
        want["active_rui"],
        want["lapsed_bail"],
    )
    assert list(got.lapsed_bail_by_district.items()) == want["lapsed_bail_by_district"]
    assert got.opened_in_month == want["opened_in_month"] and got.closed_in_month == want["closed_in_month"]
    for kind in ("bail", "rui"):
        assert list(got.length_bands[kind].items()) == want["length_bands"][kind]
        assert list(got.by_district[kind].items()) == want["by_district"][kind]
        assert list(got.by_offence[kind].items()) == want["by_offence"][kind]
        assert got.over_12m_by_district[kind] == want["over_12m_by_district"][kind]
        assert got.over_12m_by_offence[kind] == want["over_12m_by_offence"][kind]
        assert got_series[kind] == series_as_known(d, months, as_ofs, files, kinds, filt, kind)
    assert [(e.reference, e.bail_end_on, e.days_left) for e in got.bail_ending_soon] == [
        (w[0], w[4], w[5]) for w in want["bail_ending_soon"]
    ]


SERIES = settings(PROPERTY, max_examples=30)


@pytest.mark.parametrize("dataset", ["wanted", "suspects", "bail"])
@SERIES
@given(data=st.data())
def test_each_month_end_of_the_series_is_as_known_then(
    session, config, tmp_path, dataset: str, data: st.DataObject
) -> None:
    """About one import a month for up to six months, each revising cases: every month of the series (from the
    month before the first import to the one asked about) counts the state at its own month end."""
    as_ofs, files, kinds = data.draw(imports(dataset, most=6, gaps=MONTHLY_GAPS), label="imports")
    d = as_ofs[-1] + dt.timedelta(days=data.draw(st.sampled_from([0, 1, 10, 40]), label="days after the last"))
    filt = data.draw(filters(dataset), label="filters")
    months = (d.year - START.year) * 12 + d.month - START.month + 2
    force = config.force("suffolk")
    kinds_asked = ("bail", "rui") if dataset == "bail" else (None,)
    try:
        load(session, config, tmp_path, dataset, as_ofs, files, kinds)
        got = {
            k: points(monthly_series(session, dataset, force, d, months, to_filters(filt), kind=k)) for k in kinds_asked
        }
    finally:
        session.rollback()
    for k in kinds_asked:
        want = series_as_known(d, months, as_ofs, files, kinds, filt, k)
        assert got[k] == want


def test_a_revision_keeps_the_old_version_and_an_unchanged_reimport_changes_nothing(
    session: Session, config: Config, tmp_path: Path
) -> None:
    header = "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome\n"
    first = tmp_path / "a.csv"
    first.write_text(header + "B1,theft,ipswich,bail,2024-01-02,2024-04-01,,\nB2,theft,ipswich,rui,2024-01-05,,,\n")
    second = tmp_path / "b.csv"
    second.write_text(header + "B1,theft,ipswich,bail,2024-01-02,2024-07-01,,\nB2,theft,ipswich,rui,2024-01-05,,,\n")

    def run(path: Path, as_of: dt.date) -> None:
        report = import_file(session, config, ImportRequest(dataset="bail", path=path, as_of=as_of), NOW)
        assert report.ok
        session.commit()

    run(first, dt.date(2024, 3, 1))
    assert revised_until(session, "suffolk", "bail") is None
    run(second, dt.date(2024, 3, 25))  # the end date is extended on 25 March
    hist = session.execute(select(BailHistory.reference, BailHistory.bail_end_on, BailHistory.valid_to)).all()
    assert hist == [("B1", dt.date(2024, 4, 1), dt.date(2024, 3, 25))]
    assert session.scalar(select(BailPeriod.valid_from).where(BailPeriod.reference == "B1")) == dt.date(2024, 3, 25)
    force = config.force("suffolk")
    # On 20 March the bail was known to end on 1 April (ending within 14 days); today it ends in July.
    then = bail_figures(session, force, dt.date(2024, 3, 20), ending_within_days=14)
    assert [e.bail_end_on for e in then.bail_ending_soon] == [dt.date(2024, 4, 1)]
    later = bail_figures(session, force, dt.date(2024, 3, 26), ending_within_days=14)
    assert later.bail_ending_soon == []
    before = {t: session.scalar(select(func.count()).select_from(t)) for t in (BailPeriod, BailHistory)}
    run(second, dt.date(2024, 4, 30))  # the same file again: nothing changes, no version is added
    after = {t: session.scalar(select(func.count()).select_from(t)) for t in (BailPeriod, BailHistory)}
    assert before == after
    assert session.scalar(select(BailPeriod.valid_from).where(BailPeriod.reference == "B1")) == dt.date(2024, 3, 25)
    assert session.scalar(select(func.count()).select_from(WantedHistory)) == 0
    assert session.scalar(select(func.count()).select_from(WantedCirculation)) == 0
