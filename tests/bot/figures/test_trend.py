"""`/mo … --trend`'s figures: each month end and month's flows as the monthly series gives them, counted here
again from the rows; no figure for a month the data does not cover; a change only between covered month ends;
RUI and bail apart, lapsed bail not active."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from random import Random

import pytest
from sqlalchemy.orm import Session

from bot.config import Config
from bot.dates import last_months
from bot.figures import Filters, monthly_series
from bot.figures.trend import trend
from bot.importing.service import import_file
from bot.importing.types import ImportRequest

D = dt.date
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
AS_OF = D(2026, 11, 20)
COVERS_FROM = D(2026, 6, 15)  # part-way through June: June's end is covered, its flows are not


def _import(session: Session, config: Config, path: Path, dataset: str, covers_from: dt.date = COVERS_FROM) -> None:
    request = ImportRequest(dataset=dataset, path=path, force="suffolk", as_of=AS_OF, covers_from=covers_from)
    report = import_file(session, config, request, NOW)
    assert report.ok, report.refused or report.errors
    session.commit()


def _wanted_rows(seed: int = 5) -> list[tuple[str, str, D, D | None]]:
    """(reference, district, circulated, closed): opened over the 15 months to AS_OF, about a third still open."""
    rnd = Random(seed)
    rows = []
    start = D(2025, 8, 1)
    span = (AS_OF - start).days
    for i in range(120):
        opened = start + dt.timedelta(days=rnd.randrange(span + 1))
        closed = opened + dt.timedelta(days=rnd.randrange(200)) if rnd.random() < 0.65 else None
        rows.append(
            (f"W{i:04d}", rnd.choice(["ipswich", "lowestoft"]), opened, None if closed and closed > AS_OF else closed)
        )
    return rows


def _open_at(rows: list[tuple[str, str, D, D | None]], day: D) -> int:
    return sum(1 for _r, _d, o, c in rows if o <= day and (c is None or c > day))


def test_each_month_is_counted_from_the_rows_and_none_before_the_data(
    session: Session, config: Config, tmp_path: Path
) -> None:
    rows = _wanted_rows()
    path = tmp_path / "wanted.csv"
    lines = ["reference,offence,district,reason,circulated_on,closed_on,status"]
    for ref, district, opened, closed in rows:
        status = "closed" if closed else "open"
        lines.append(f"{ref},burglary,{district},never_arrested,{opened},{closed or ''},{status}")
    path.write_text("\n".join(lines) + "\n")
    _import(session, config, path, "wanted")
    force = config.force("suffolk")

    t = trend(session, "wanted", force, AS_OF, Filters())
    assert [m.first for m in t.months] == [first for first, _last in last_months(AS_OF, 13)]
    assert t.covered_from == COVERS_FROM and t.first_export == AS_OF
    by_month = {m.first: m for m in t.months}
    for first, last in last_months(AS_OF, 13):
        m = by_month[first]
        assert m.end == last
        if last < COVERS_FROM:  # Nov 2025 – May 2026: no figure at all, not a zero
            assert (m.open_at_end, m.opened, m.closed, m.change) == (None, None, None, None)
            continue
        assert m.open_at_end == _open_at(rows, last)
        if first < COVERS_FROM:  # June: its end is covered, its first fortnight is not
            assert (m.opened, m.closed, m.change) == (None, None, None)
            continue
        assert m.opened == sum(1 for r in rows if first <= r[2] <= last)
        assert m.closed == sum(1 for r in rows if r[3] is not None and first <= r[3] <= last)
        assert m.change == _open_at(rows, last) - _open_at(rows, first - dt.timedelta(days=1))
    assert t.months[-1].end == AS_OF
    assert [m.first for m in t.covered] == [first for first, last in last_months(AS_OF, 13) if last >= COVERS_FROM]
    assert t.rebuilt == t.covered[:-1]  # every month end before the first (and only) export

    # The numbers are the series the summary's charts draw: one place computes them.
    series = monthly_series(session, "wanted", force, AS_OF, 13)
    assert [m.open_at_end for m in t.covered] == [p.open_at_end for p in series[-len(t.covered) :]]

    # Filters narrow every month the same way.
    east = trend(session, "wanted", force, AS_OF, Filters(district="lowestoft"))
    east_rows = [r for r in rows if r[1] == "lowestoft"]
    assert [m.open_at_end for m in east.covered] == [_open_at(east_rows, m.end) for m in east.covered]


def test_bail_and_rui_apart_and_lapsed_bail_not_active(session: Session, config: Config, tmp_path: Path) -> None:
    path = tmp_path / "bail.csv"
    path.write_text(
        "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome\n"
        "B1,burglary,ipswich,bail,2026-07-01,2026-12-31,,\n"  # active at every month end from July
        "B2,burglary,ipswich,bail,2026-07-10,2026-09-15,,\n"  # lapsed from 16 Sep: not active at Sep's end
        "B3,theft,ipswich,bail,2026-08-01,2026-11-01,2026-10-05,charged\n"  # ended in October
        "R1,theft,lowestoft,rui,2026-08-20,,,\n"
        "R2,theft,lowestoft,rui,2026-10-02,,2026-11-03,nfa\n"
    )
    _import(session, config, path, "bail", covers_from=D(2026, 6, 1))
    force = config.force("suffolk")

    bail = {m.first: m for m in trend(session, "bail", force, AS_OF, Filters()).months}
    # The one export is as of 20 Nov: the month ends before it have no lapsed count (their end dates are known only
    # after the extensions since); B2, lapsed from 16 Sep, is still not active at those ends.
    assert [(bail[D(2026, k, 1)].open_at_end, bail[D(2026, k, 1)].lapsed_at_end) for k in (6, 7, 8, 9, 10, 11)] == [
        (0, None), (2, None), (3, None), (2, None), (1, None), (1, 1)
    ]  # fmt: skip
    assert (bail[D(2026, 7, 1)].opened, bail[D(2026, 10, 1)].closed) == (2, 1)
    assert bail[D(2026, 9, 1)].change == -1  # B2 lapsed: no longer active

    rui = {m.first: m for m in trend(session, "rui", force, AS_OF, Filters()).months}
    assert [rui[D(2026, k, 1)].open_at_end for k in (7, 8, 9, 10, 11)] == [0, 1, 1, 2, 1]
    assert (rui[D(2026, 10, 1)].opened, rui[D(2026, 11, 1)].closed) == (1, 1)
    assert all(m.lapsed_at_end in (0, None) for m in rui.values())


def test_a_trend_refuses_an_age_filter_and_unknown_datasets(session: Session, config: Config) -> None:
    force = config.force("suffolk")
    with pytest.raises(ValueError, match="older_than_days"):
        trend(session, "wanted", force, AS_OF, Filters(older_than_days=90))
    with pytest.raises(ValueError, match="unknown dataset 'actions'"):
        trend(session, "actions", force, AS_OF, Filters())


def test_never_imported_has_no_month_with_a_figure(session: Session, config: Config) -> None:
    t = trend(session, "suspects", config.force("suffolk"), AS_OF, Filters())
    assert t.covered == () and t.covered_from is None and t.first_export is None


def test_lapsed_bail_is_counted_from_the_first_bail_export_on(session: Session, config: Config, tmp_path: Path) -> None:
    """B1's bail ended on 15 Sep and lapsed; by 20 Nov a court had extended it to 15 Feb. With only November's export,
    September's end would count 0 lapsed where 1 had: no count instead (the next test has September's export)."""
    header = "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome\n"
    force = config.force("suffolk")

    def export(name: str, end: str, as_of: dt.date) -> None:
        path = tmp_path / name
        path.write_text(header + f"B1,burglary,ipswich,bail,2026-06-20,{end},,\n")
        request = ImportRequest(dataset="bail", path=path, force="suffolk", as_of=as_of, covers_from=D(2026, 6, 1))
        assert import_file(session, config, request, NOW).ok
        session.commit()

    export("nov.csv", "2027-02-15", AS_OF)
    only_nov = {m.first: m.lapsed_at_end for m in trend(session, "bail", force, AS_OF, Filters()).months}
    assert (only_nov[D(2026, 9, 1)], only_nov[D(2026, 11, 1)]) == (None, 0)


def test_lapsed_bail_at_a_month_end_from_an_export_of_that_time(
    session: Session, config: Config, tmp_path: Path
) -> None:
    header = "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome\n"
    force = config.force("suffolk")
    for name, end, as_of in (("sep.csv", "2026-09-15", D(2026, 9, 30)), ("nov.csv", "2027-02-15", AS_OF)):
        path = tmp_path / name
        path.write_text(header + f"B1,burglary,ipswich,bail,2026-06-20,{end},,\n")
        request = ImportRequest(dataset="bail", path=path, force="suffolk", as_of=as_of, covers_from=D(2026, 6, 1))
        assert import_file(session, config, request, NOW).ok
        session.commit()
    months = {m.first: m for m in trend(session, "bail", force, AS_OF, Filters()).months}
    sep, nov = months[D(2026, 9, 1)], months[D(2026, 11, 1)]
    assert (sep.open_at_end, sep.lapsed_at_end) == (0, 1)  # lapsed on 30 Sep, as the September export knew it
    assert (nov.open_at_end, nov.lapsed_at_end) == (1, 0)  # extended since: active again
    assert (months[D(2026, 8, 1)].open_at_end, months[D(2026, 8, 1)].lapsed_at_end) == (1, None)  # before Sep's export
