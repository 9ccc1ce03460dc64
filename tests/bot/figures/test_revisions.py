"""The per-day changes each import's revisions made (bot/figures/revisions.py) stand in for the revised rows: every
figure at every date, under filters, read through them equals the same figure read from the rows (the union of
today's rows and their versions, which tests/bot/figures/test_history.py proves against a brute force). Imports
arrive out of date order here too (an export older than one already in is refused and changes nothing), some
as snapshots, and the retention purge runs between them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.config import Config
from bot.figures import Filters, bail_figures, monthly_series, suspect_figures, wanted_figures
from bot.figures.bail import LENGTH_BAND_MONTHS
from bot.figures.caseload import AGE_BAND_DAYS
from bot.figures.cases import active_by_kind_at
from bot.figures.day_counts import current_state, rebuild_day_counts
from bot.figures.history import revised_until
from bot.figures.month_flow import rebuild_month_flows
from bot.figures.revisions import AGE_EDGES, LENGTH_MONTHS, deltas_current, rebuild_revision_deltas
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import (
    CountCheckpoint,
    CountDay,
    CountState,
    MonthFlow,
    RevisionCheckpoint,
    RevisionDelta,
    RevisionDeltaState,
)
from bot.retention import purge_force
from tests.bot.figures.test_history import DISTRICTS, NOW, imports, write
from tests.bot.figures.test_property import PROPERTY


def test_the_measures_follow_the_figures_bands() -> None:
    assert tuple(lo for lo, _hi in AGE_BAND_DAYS[1:]) == AGE_EDGES
    assert LENGTH_MONTHS == LENGTH_BAND_MONTHS


def _suspects_file(tmp: Path, i: int, wanted: Path) -> Path:
    """The wanted file's cases as outstanding suspects (same dates and districts)."""
    rows = wanted.read_text().splitlines()[1:]
    lines = ["reference,offence,district,identified_on,closed_on,status"]
    for r in rows:
        ref, offence, district, _reason, opened, _reviewed, closed, status = r.split(",")
        lines.append(f"{ref},{offence},{district},{opened},{closed},{status}")
    p = tmp / f"suspects-{i}.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


def _answers(session: Session, config: Config, dataset: str, days: list[dt.date], filters: list[Filters]) -> list[Any]:
    force = config.force("suffolk")
    out: list[Any] = []
    for d in days:
        for f in filters:
            if dataset == "wanted":
                out.append(wanted_figures(session, force, d, f, review_days=config.wanted_review_days))
                out.append(monthly_series(session, "wanted", force, d, 4, f))
                out.append(suspect_figures(session, force, d, Filters(district=f.district)))
                out.append(monthly_series(session, "suspects", force, d, 4, Filters(district=f.district)))
            else:
                out.append(bail_figures(session, force, d, f, ending_within_days=14))
                for kind in ("bail", "rui"):
                    out.append(monthly_series(session, "bail", force, d, 4, f, kind=kind))
    return out


def _kept_counts(session: Session) -> tuple[list[Any], ...]:
    """The day counts' non-zero rows, their checkpoints, the month flows, the revision changes (summed per key)
    and their checkpoints, sorted."""
    days = [tuple(r) for r in session.execute(select(CountDay.__table__)) if any(r[7:])]
    points = [tuple(r) for r in session.execute(select(CountCheckpoint.__table__))]
    flows = [tuple(r) for r in session.execute(select(MonthFlow.__table__))]
    changes = Counter()
    for r in session.execute(select(RevisionDelta.__table__)):
        changes[tuple(r)[1:-1]] += r.delta  # without the id; a key may come in more than one row
    marks = [tuple(r) for r in session.execute(select(RevisionCheckpoint.__table__))]
    return sorted(days), sorted(points), sorted(flows), sorted((k, v) for k, v in changes.items() if v), sorted(marks)


@PROPERTY
@given(data=st.data())
def test_figures_through_the_changes_equal_figures_from_the_rows(
    session: Session, config: Config, tmp_path: Path, data: st.DataObject
) -> None:
    dataset = data.draw(st.sampled_from(["wanted", "bail"]), label="dataset")
    as_ofs, files, kinds = data.draw(imports(dataset), label="imports")
    order = data.draw(st.permutations(range(len(as_ofs))), label="order")  # files may come out of date order
    snapshots = data.draw(st.lists(st.booleans(), min_size=len(as_ofs), max_size=len(as_ofs)), label="snapshots")
    purge_after = data.draw(st.sampled_from([None, *range(len(as_ofs))]), label="purge after")
    days = data.draw(
        st.lists(st.builds(lambda k: as_ofs[0] + dt.timedelta(days=k), st.integers(-10, 150)), min_size=1, max_size=3),
        label="days",
    )
    filters = [Filters(), Filters(district=data.draw(st.sampled_from(DISTRICTS), label="district"))]
    if dataset == "wanted":
        filters.append(Filters(reason=data.draw(st.sampled_from(["never_arrested", "bail_breach"]), label="reason")))
    latest: dt.date | None = None
    try:
        for step, i in enumerate(order):
            if not files[i]:
                continue
            path = write(tmp_path, dataset, i, files[i], kinds)
            runs = [(dataset, path)]
            if dataset == "wanted":
                runs.append(("suspects", _suspects_file(tmp_path, i, path)))
            for ds, p in runs:
                request = ImportRequest(dataset=ds, path=p, force="suffolk", as_of=as_ofs[i], snapshot=snapshots[i])
                before = _kept_counts(session)
                report = import_file(session, config, request, NOW)
                if latest is not None and as_ofs[i] < latest:
                    # An export older than one already in would make older values current again: refused.
                    # Refused before the file is read (the force is given): nothing to roll back.
                    assert report.refused and f"later one: {ds}-" in report.refused, report
                    assert _kept_counts(session) == before
                else:
                    assert report.ok, (report.refused, report.errors)
            latest = max(as_ofs[i], latest or as_ofs[i])
            if purge_after == step:
                purge_force(session, "suffolk", as_ofs[0] - dt.timedelta(days=30), "test", NOW)
        datasets = ["wanted", "suspects"] if dataset == "wanted" else ["bail"]
        if any(files):  # every import keeps the changes current (none: nothing to keep)
            for ds in datasets:
                assert deltas_current(session, "suffolk", ds, config.wanted_review_days)
        through_changes = _answers(session, config, dataset, days, filters)
        # What each import added to the day counts and the month flows (the rows it wrote less those it replaced)
        # is what counting the force's rows whole gives.
        kept = _kept_counts(session)
        for ds in datasets:
            if any(files):
                assert current_state(session, "suffolk", ds, config.wanted_review_days) is not None
            rebuild_day_counts(session, ds, "suffolk", review_days=config.wanted_review_days)
            rebuild_month_flows(session, ds, "suffolk")
            rebuild_revision_deltas(session, ds, "suffolk", review_days=config.wanted_review_days)
        assert _kept_counts(session) == kept
        # The same questions from the rows: the changes no longer trusted (as after a write that did not keep them).
        session.execute(delete(RevisionDeltaState))
        session.execute(delete(RevisionDelta))
        session.execute(delete(CountState))
        assert not deltas_current(session, "suffolk", datasets[0], config.wanted_review_days)
        from_rows = _answers(session, config, dataset, days, filters)
        revised = revised_until(session, "suffolk", datasets[0])
    finally:
        session.rollback()
    assert through_changes == from_rows, (revised, days)


def test_a_bail_extension_is_two_changes_and_the_past_keeps_the_lapse(
    session: Session, config: Config, tmp_path: Path
) -> None:
    header = "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome\n"
    first = tmp_path / "a.csv"
    first.write_text(header + "B1,theft,ipswich,bail,2024-01-02,2024-03-01,,\nB2,theft,ipswich,rui,2024-01-05,,,\n")
    second = tmp_path / "b.csv"
    second.write_text(header + "B1,theft,ipswich,bail,2024-01-02,2024-06-01,,\nB2,theft,ipswich,rui,2024-01-05,,,\n")
    for path, as_of in ((first, dt.date(2024, 3, 10)), (second, dt.date(2024, 3, 20))):
        report = import_file(session, config, ImportRequest(dataset="bail", path=path, as_of=as_of), NOW)
        assert report.ok
    changes = session.execute(select(RevisionDelta.measure, RevisionDelta.day, RevisionDelta.delta)).all()
    # The extension moved the lapse (and the lapse of each length band reached by then) from 2 March to 2 June:
    # the new version's start less the old one's. Nothing else about the case changed, so nothing else is kept.
    lapsed = sorted((day, delta) for measure, day, delta in changes if measure == "lapsed")
    assert lapsed == [(dt.date(2024, 3, 2), -1), (dt.date(2024, 6, 2), 1)]
    assert {m for m, _d, _n in changes} <= {"lapsed", "lapsed_len3", "lapsed_len6", "lapsed_len9", "lapsed_len12"}
    force = config.force("suffolk")
    assert deltas_current(session, "suffolk", "bail", config.wanted_review_days)
    # Known on 15 March: lapsed since 2 March. Known now: on bail until June.
    assert bail_figures(session, force, dt.date(2024, 3, 15), ending_within_days=14).lapsed_bail == 1
    assert bail_figures(session, force, dt.date(2024, 3, 25), ending_within_days=14).lapsed_bail == 0
    points = monthly_series(session, "bail", force, dt.date(2024, 3, 25), 2, kind="bail")
    assert [(p.month, p.open_at_end, p.lapsed_at_end) for p in points] == [("2024-02", 1, 0), ("2024-03", 1, 0)]


def test_the_month_ago_line_of_bail_counts_the_rows_as_known_at_the_question_s_date(
    session: Session, config: Config, tmp_path: Path
) -> None:
    header = "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome\n"
    first = tmp_path / "a.csv"
    first.write_text(header + "B1,theft,ipswich,bail,2024-01-02,2024-03-01,,\n")
    second = tmp_path / "b.csv"
    second.write_text(header + "B1,theft,ipswich,bail,2024-01-02,2024-06-01,,\n")
    for path, as_of in ((first, dt.date(2024, 3, 10)), (second, dt.date(2024, 3, 20))):
        assert import_file(session, config, ImportRequest(dataset="bail", path=path, as_of=as_of), NOW).ok
    force = config.force("suffolk")
    # Asked on 15 March, a month-ago line for 5 March: known then, the bail had lapsed on 2 March (not active);
    # only the import of 20 March extended it.
    assert active_by_kind_at(session, force, dt.date(2024, 3, 15), dt.date(2024, 3, 5), Filters()) == {
        "bail": 0,
        "rui": 0,
    }
    assert active_by_kind_at(session, force, dt.date(2024, 3, 25), dt.date(2024, 3, 5), Filters())["bail"] == 1
