"""Figures as they were known: a sequence of imports revises end dates, reviews, closures and districts, and the
figures at any date D must equal a brute force that replays the imports — each case as the latest import of it
with an as-of date on or before D gave it (its first import's values before that). Every import goes through the
real import path (so the merge's history is what is tested); an unchanged re-import changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Config
from bot.figures import Filters, bail_figures, monthly_series, wanted_figures
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
)

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
DISTRICTS = FORCE_DISTRICTS["suffolk"]
START = dt.date(2024, 1, 20)
NO_FILTER = {"force": "suffolk", "district": None, "offence": None, "reason": None, "older_than_days": None}


@dataclass(frozen=True)
class Version:
    district: str
    opened: dt.date
    closed: dt.date | None
    reviewed: dt.date | None = None  # wanted
    bail_end: dt.date | None = None  # bail


def maybe_date(draw: st.DrawFn, opened: dt.date, as_of: dt.date) -> dt.date | None:
    """None, or a date from ``opened`` to ``as_of`` (an export holds no date after its own)."""
    if draw(st.booleans()):
        return None
    return min(as_of, opened + dt.timedelta(days=draw(st.integers(0, 90))))


@st.composite
def imports(draw: st.DrawFn, dataset: str) -> tuple[list[dt.date], list[dict[str, Version]], dict[str, str]]:
    """As-of dates (ascending, some on the same day) and, per import, the version of each case it holds."""
    k = draw(st.integers(1, 4))
    gaps = draw(st.lists(st.sampled_from([0, 1, 13, 30, 31, 45]), min_size=k - 1, max_size=k - 1))
    as_ofs = [START]
    for g in gaps:
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
            reviewed = None
            bail_end = None
            if dataset == "wanted":
                reviewed = maybe_date(draw, o, a)
            elif kind == "bail":
                bail_end = o + dt.timedelta(days=draw(st.integers(0, 150)))
            held[ref] = Version(draw(st.sampled_from(DISTRICTS)), o, closed, reviewed, bail_end)
        files.append(held)
    return as_ofs, files, kinds


def write(tmp: Path, dataset: str, i: int, held: dict[str, Version], kinds: dict[str, str]) -> Path:
    if dataset == "wanted":
        lines = ["reference,offence,district,reason,circulated_on,last_reviewed_on,closed_on,status"]
        for ref, v in held.items():
            lines.append(
                f"{ref},burglary,{v.district},{REASONS[int(ref[1:]) % 4]},{v.opened},{v.reviewed or ''},"
                f"{v.closed or ''},{'closed' if v.closed else 'open'}"
            )
    else:
        lines = ["reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome"]
        for ref, v in held.items():
            lines.append(
                f"{ref},theft,{v.district},{kinds[ref]},{v.opened},{v.bail_end or ''},{v.closed or ''},"
                f"{'charged' if v.closed else ''}"
            )
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
                offence="burglary" if not kind else "theft",
                opened=v.opened,
                closed=v.closed,
                reason=REASONS[int(ref[1:]) % 4] if not kind else None,
                last_reviewed=v.reviewed,
                kind=kind or None,
                bail_end=v.bail_end,
            )
        )
    return out


def series_as_known(as_of, months, as_ofs, files, kinds, kind=None) -> list[tuple]:
    out = []
    year, month = as_of.year, as_of.month
    for _ in range(months):
        first = dt.date(year, month, 1)
        end = min(dt.date(year, month, days_in_month(year, month)), as_of)
        rows = [r for r in state_at(end, as_ofs, files, kinds) if kind is None or r.kind == kind]
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


@PROPERTY
@given(data=st.data())
def test_wanted_figures_at_past_dates_are_as_known_then(session, config, tmp_path, data: st.DataObject) -> None:
    as_ofs, files, kinds = data.draw(imports("wanted"), label="imports")
    d = data.draw(query_days, label="date")
    months = data.draw(st.integers(1, 5), label="months")
    force = config.force("suffolk")
    try:
        load(session, config, tmp_path, "wanted", as_ofs, files, kinds)
        got = wanted_figures(session, force, d, Filters(), review_days=28)
        got_series = points(monthly_series(session, "wanted", force, d, months))
    finally:
        session.rollback()
    want = caseload(state_at(d, as_ofs, files, kinds), DISTRICTS, d, NO_FILTER, wanted=True, review_days=28)
    assert got.open == want["open"]
    assert list(got.by_district.items()) == want["by_district"]
    assert list(got.by_age_band.items()) == want["by_age_band"]
    assert got.review_overdue == want["review_overdue"]
    assert (got.opened_in_month, got.closed_in_month) == (want["opened_in_month"], want["closed_in_month"])
    assert got.open_a_month_ago == want["open_a_month_ago"]
    assert got_series == series_as_known(d, months, as_ofs, files, kinds)


@PROPERTY
@given(data=st.data())
def test_bail_figures_at_past_dates_are_as_known_then(session, config, tmp_path, data: st.DataObject) -> None:
    as_ofs, files, kinds = data.draw(imports("bail"), label="imports")
    d = data.draw(query_days, label="date")
    months = data.draw(st.integers(1, 5), label="months")
    force = config.force("suffolk")
    try:
        load(session, config, tmp_path, "bail", as_ofs, files, kinds)
        got = bail_figures(session, force, d, Filters(), ending_within_days=14)
        got_series = {k: points(monthly_series(session, "bail", force, d, months, kind=k)) for k in ("bail", "rui")}
    finally:
        session.rollback()
    want = bail(state_at(d, as_ofs, files, kinds), DISTRICTS, d, NO_FILTER, 14)
    assert (got.active_bail, got.active_rui, got.lapsed_bail) == (
        want["active_bail"],
        want["active_rui"],
        want["lapsed_bail"],
    )
    assert got.opened_in_month == want["opened_in_month"] and got.closed_in_month == want["closed_in_month"]
    for kind in ("bail", "rui"):
        assert list(got.length_bands[kind].items()) == want["length_bands"][kind]
        assert list(got.by_district[kind].items()) == want["by_district"][kind]
        assert got_series[kind] == series_as_known(d, months, as_ofs, files, kinds, kind)
    assert [(e.reference, e.bail_end_on, e.days_left) for e in got.bail_ending_soon] == [
        (w[0], w[4], w[5]) for w in want["bail_ending_soon"]
    ]


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
