"""The day counts (bot/figures/day_counts.py): the grouped statements that count a set of rows' moves agree with
the per-row definition of every step (bot/figures/revisions.py ``version_deltas``, which the revision tests
prove), the anchors are every Sunday and month end, and a figure read through them reads no case row."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.config import Config
from bot.dates import month_end
from bot.figures import bail_figures, monthly_series, wanted_figures
from bot.figures.day_counts import (
    COLUMNS,
    CountStateRow,
    anchor_before,
    anchors,
    current_state,
    measure_names,
    row_moves,
)
from bot.figures.revisions import version_deltas
from bot.figures.source import SOURCES
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import BailPeriod, WantedCirculation
from tests.bot.figures.test_property import PROPERTY, _insert, as_of_dates, rows

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _as_measures(dataset: str, moves: dict) -> Counter:
    names = measure_names(dataset) | {"opened": "opened", "closed": "closed"}
    out: Counter = Counter()
    for ((kind, district, reason, offence), day), v in moves.items():
        for col, n in zip(COLUMNS, v, strict=True):
            if col in names and n:
                out[(names[col], kind, district, reason, offence, day)] += n
    return Counter({k: v for k, v in out.items() if v})


@PROPERTY
@given(data=st.data())
def test_the_grouped_moves_equal_each_row_s_steps(session: Session, data: st.DataObject) -> None:
    dataset = data.draw(st.sampled_from(["wanted", "suspects", "bail"]), label="dataset")
    as_of = data.draw(as_of_dates, label="as_of")
    review_days = data.draw(st.sampled_from([28, 7, 90]), label="review_days")
    table = data.draw(rows(dataset, as_of, review_days), label="rows")
    t = dt.date(2000, 1, 1)
    try:
        _insert(session, dataset, table)
        m = SOURCES[dataset].model
        got = _as_measures(dataset, row_moves(session, dataset, [m.force == "suffolk"], review_days))
        want: Counter = Counter()
        for r in session.scalars(select(m).where(m.force == "suffolk")):
            version_deltas(dataset, r, 1, t, review_days, want)
    finally:
        session.rollback()
    # version_deltas keys: (t, measure, kind, district, reason, offence, day)
    want = Counter({k[1:]: v for k, v in want.items() if v})
    assert got == want


def test_the_anchors_are_every_sunday_and_month_end_and_the_last_day() -> None:
    first, last = dt.date(2026, 1, 27), dt.date(2026, 3, 11)
    got = anchors(first, last)
    sundays = [d for d in (first + dt.timedelta(days=i) for i in range((last - first).days + 1)) if d.weekday() == 6]
    ends = [dt.date(2026, 1, 31), dt.date(2026, 2, 28)]
    assert got == sorted({*sundays, *ends, last})
    state = CountStateRow(1, 28, first, last)
    # Every day: the last anchor on or before it (none before the first anchor; the last one from then on).
    for i in range(-3, 60):
        x = first + dt.timedelta(days=i)
        before = [a for a in got if a <= x]
        assert anchor_before(state, x) == (before[-1] if before else None), x
    assert anchor_before(state, last + dt.timedelta(days=400)) == last
    assert month_end(dt.date(2026, 2, 3)) in got


def _export(tmp: Path) -> Path:
    lines = ["reference,offence,district,reason,circulated_on,last_reviewed_on,closed_on,status"]
    for i in range(40):
        opened = dt.date(2025, 6, 1) + dt.timedelta(days=6 * i)
        closed = opened + dt.timedelta(days=30) if i % 3 == 0 else None
        lines.append(
            f"W{i},{'burglary' if i % 2 else 'drugs'},{'ipswich' if i % 4 else 'lowestoft'},never_arrested,"
            f"{opened},,{closed or ''},{'closed' if closed else 'open'}"
        )
    p = tmp / "wanted.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_today_s_figures_read_the_day_counts_not_the_rows(session: Session, config: Config, tmp_path: Path) -> None:
    as_of = dt.date(2026, 2, 27)
    request = ImportRequest(dataset="wanted", path=_export(tmp_path), force="suffolk", as_of=as_of)
    assert import_file(session, config, request, NOW).ok
    force = config.force("suffolk")
    assert current_state(session, "suffolk", "wanted", config.wanted_review_days) is not None
    days = [as_of, as_of + dt.timedelta(days=3), dt.date(2025, 12, 31), dt.date(2025, 9, 17)]
    before = [wanted_figures(session, force, d, review_days=config.wanted_review_days) for d in days]
    series = monthly_series(session, "wanted", force, as_of, 13)
    assert before[0].open > 0 and any(p.open_at_end for p in series)
    # The case rows gone behind the day counts' back: the figures do not change, so they did not read them.
    session.execute(delete(WantedCirculation))
    after = [wanted_figures(session, force, d, review_days=config.wanted_review_days) for d in days]
    assert [(f.open, f.by_age_band, f.by_offence, f.review_overdue, f.opened_in_month, f.open_a_month_ago)
            for f in after] == [(f.open, f.by_age_band, f.by_offence, f.review_overdue, f.opened_in_month,
                                 f.open_a_month_ago) for f in before]  # fmt: skip
    assert monthly_series(session, "wanted", force, as_of, 13) == series
    session.rollback()


def test_bail_counts_come_from_the_day_counts_too(session: Session, config: Config, tmp_path: Path) -> None:
    lines = ["reference,person_ref,kind,offence,district,started_on,bail_end_on,ended_on,outcome"]
    for i in range(30):
        start = dt.date(2025, 3, 1) + dt.timedelta(days=11 * i)
        kind = "bail" if i % 2 else "rui"
        end = start + dt.timedelta(days=90) if kind == "bail" else None
        lines.append(f"B{i},P{i},{kind},burglary,ipswich,{start},{end or ''},,")
    lines += ["L1,PL1,rui,theft,lowestoft,2024-11-15,,,", "L2,PL2,rui,burglary,ipswich,2025-01-10,,,"]  # over a year
    p = tmp_path / "bail.csv"
    p.write_text("\n".join(lines) + "\n")
    as_of = dt.date(2026, 2, 27)
    assert import_file(session, config, ImportRequest(dataset="bail", path=p, force="suffolk", as_of=as_of), NOW).ok
    force = config.force("suffolk")
    before = bail_figures(session, force, as_of, ending_within_days=0)
    assert before.lapsed_bail > 0 and before.active_rui > 0
    session.execute(delete(BailPeriod))
    after = bail_figures(session, force, as_of, ending_within_days=0)
    assert (after.active_bail, after.active_rui, after.lapsed_bail, after.length_bands, after.by_district) == (
        before.active_bail,
        before.active_rui,
        before.lapsed_bail,
        before.length_bands,
        before.by_district,
    )
    assert before.over_12m_by_offence["rui"] == {"burglary": 1, "theft": 1} == after.over_12m_by_offence["rui"]
    assert before.over_12m_by_district["rui"] == {"ipswich": 1, "lowestoft": 1} == after.over_12m_by_district["rui"]
    session.rollback()
