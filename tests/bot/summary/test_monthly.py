"""The monthly summary's content: every headline equals the figures services at the month's end and the
previous month's end; action counts equal a count over the rows; a month with no data says so."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.action_log import service
from bot.action_log.types import LIVE_STATUSES, ActionChange, Actor
from bot.clock import FixedClock
from bot.dates import add_months, day_month_year, last_complete_month, month_end
from bot.demo.load import load_demo
from bot.figures.arrests import arrest_split, arrests_text
from bot.figures.bail import bail_figures
from bot.figures.outcomes import with_outcomes
from bot.figures.series import monthly_series
from bot.figures.suspects import suspect_figures
from bot.figures.types import Filters
from bot.figures.wanted import wanted_figures
from bot.freshness import dataset_freshness
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import Action, ImportBatch
from bot.runtime import Runtime
from bot.slack.render_summary import render_summary
from bot.summary import charts
from bot.summary.monthly import MonthlySummary, build_summary, make_summary, parse_month, summary_text

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture
def demo(runtime: Runtime, tmp_path: Path) -> Runtime:
    load_demo(runtime, rows=400, workdir=tmp_path / "demo")
    return runtime


def _overdue_and_done(session: Session, force: str, first: dt.date, last: dt.date) -> tuple[int, int]:
    rows = session.scalars(select(Action).where(Action.force == force)).all()
    overdue = sum(
        1
        for a in rows
        if a.due_on is not None
        and a.due_on < last
        and (a.status in LIVE_STATUSES or (a.status == "complete" and a.completed_on and a.completed_on > last))
    )
    done = sum(1 for a in rows if a.status == "complete" and a.completed_on and first <= a.completed_on <= last)
    return overdue, done


def test_headlines_equal_the_figures_services(demo: Runtime) -> None:
    cfg, force = demo.config, demo.config.force("suffolk")
    with demo.sessions() as s:
        summary = build_summary(s, cfg, force, "2026-10", TODAY, NOW)
        end, prev = dt.date(2026, 10, 31), dt.date(2026, 9, 30)
        assert (summary.as_of, summary.previous_as_of) == (end, prev)
        for d, attr in ((end, "now"), (prev, "before")):
            w, su = wanted_figures(s, force, d), suspect_figures(s, force, d)
            b = bail_figures(s, force, d, ending_within_days=cfg.bail_ending_soon_days)
            assert getattr(summary.headline("wanted"), attr) == w.open
            assert getattr(summary.headline("suspects"), attr) == su.open
            assert getattr(summary.headline("active_bail"), attr) == b.active_bail
            assert getattr(summary.headline("active_rui"), attr) == b.active_rui
            assert getattr(summary.headline("rui_over_12m"), attr) == b.length_bands["rui"]["over-12m"]
            if attr == "now":  # how long RUI runs by offence type: the month end's, adding up to the headline
                assert summary.rui_over_12m_by_offence == b.over_12m_by_offence["rui"]
                assert sum(b.over_12m_by_offence["rui"].values()) == b.length_bands["rui"]["over-12m"] > 0
        # Counted by bail end dates: the demo's one export (as of today) is the first, so October's and September's
        # end dates are known only as extended since: no figure (a floor would read as fact), no comparison.
        for key in ("lapsed_bail", "bail_ending_soon"):
            h = summary.headline(key)
            assert (h.now, h.before) == (None, None)
            assert h.no_figure == "bail end dates are known only from the first bail export, as of 23 Nov 2026"
        # The month that holds the first export has the figure, as the service counts it at that date.
        current = build_summary(s, cfg, force, "2026-11", TODAY, NOW)
        b = bail_figures(s, force, current.as_of, ending_within_days=cfg.bail_ending_soon_days)
        assert current.as_of == TODAY
        assert current.headline("lapsed_bail").now == b.lapsed_bail
        assert current.headline("bail_ending_soon").now == b.bail_ending_soon_total > 0
        assert current.headline("bail_ending_soon").before is None  # 31 Oct: before the first export
        first_line = next(iter(summary.rui_over_12m_by_offence.items()))
        assert f"  - by offence group: {first_line[0]} {first_line[1]:,} · " in summary_text(summary)
        assert "RUI over 12 months by offence group: " in str(render_summary(summary, charts=4))
        overdue, done = _overdue_and_done(s, "suffolk", dt.date(2026, 10, 1), end)
        assert (summary.headline("actions_overdue").now, summary.headline("actions_completed").now) == (overdue, done)
        # The demo's live actions have no due date: "0 overdue" says it counts only those that have one.
        undated = sum(1 for a in s.scalars(select(Action).where(Action.force == "suffolk", Action.kind != "hmic"))
                      if a.due_on is None and a.status in LIVE_STATUSES)  # fmt: skip
        assert undated > 0
        assert summary.headline("actions_overdue").note == f"of those with a due date; {undated} live with none"
        assert f"Actions overdue (of those with a due date; {undated} live with none): " in summary_text(summary)
        assert summary.headline("wanted").now > 0 and summary.headline("active_rui").now > 0
        # The chart series are the figures service's series, 13 months ending with October.
        assert list(summary.wanted_series) == monthly_series(s, "wanted", force, end, 13)
        assert list(summary.rui_series) == monthly_series(s, "bail", force, end, 13, kind="rui")
        assert summary.wanted_series[0].month == "2025-10" and len(summary.wanted_series) == 13
        # Length bands by district equal the service under a district filter.
        for d in force.district_slugs():
            fd = bail_figures(s, force, end, Filters(district=d), ending_within_days=cfg.bail_ending_soon_days)
            assert summary.length_bands_by_district["rui"][d] == fd.length_bands["rui"]
            assert summary.length_bands_by_district["bail"][d] == fd.length_bands["bail"]
        status = dataset_freshness(s, cfg, force, NOW)
    assert summary.has_data
    assert summary.data_as_of["wanted"] is not None
    # Stale exactly as `/mo status` says: the exports are fresh; the demo's seed action log is the July 2022
    # paper (its file's as-of date), years older than the log's refresh interval.
    assert summary.stale == tuple(f.dataset for f in status if f.stale) == ("actions",)


def test_an_action_log_kept_in_slack_is_not_reported_overdue(demo: Runtime, clock: FixedClock) -> None:
    """The demo's log is the July 2022 file, and the summary says it is overdue. Once an owner adds a note in Slack
    the log is as of that change: the data line names it, nothing is overdue and the actions chart is dated by it.
    Norfolk keeps no log: "none kept", not "never imported"."""
    force = demo.config.force("suffolk")
    assert "actions" in make_summary(demo, force, "2026-10").stale
    clock.advance(dt.timedelta(hours=2))
    with demo.sessions() as s:
        ref = s.scalars(select(Action.reference).where(Action.force == "suffolk").order_by(Action.id)).first()
        assert ref is not None
        seen = service.load_action(s, force, ref)
        change = ActionChange(ref, seen.version, note="Update for the November meeting")
        assert service.change_action(s, force, Actor("UOWNER01", role="admin"), change, clock).ok
        s.commit()
    summary = make_summary(demo, force, "2026-10")
    assert summary.stale == ()
    assert summary.log_updated_in_bot == clock.now()
    text = summary_text(summary)
    assert "actions 23 Nov 2026 (last updated in Slack 23 Nov 2026 12:00 GMT)" in text
    assert "(stale)" not in text and "31 Jul 2022" not in text
    rendered = str(render_summary(summary, charts=4))
    assert "Overdue for refresh" not in rendered
    assert "actions 23 Nov 2026 (last updated in Slack 23 Nov 2026 12:00 GMT)" in rendered
    assert "Data as of 23 Nov 2026 · current state of the log" in charts.actions_chart(summary).alt_text

    norfolk = make_summary(demo, demo.config.force("norfolk"), "2026-10")
    assert (norfolk.log_kept, norfolk.stale) == (False, ())
    assert "actions none kept" in summary_text(norfolk)


def test_actions_overdue_and_completed_follow_the_month(demo: Runtime) -> None:
    force = demo.config.force("suffolk")
    with demo.sessions() as s:
        a = s.scalars(select(Action).where(Action.force == "suffolk").order_by(Action.id)).first()
        assert a is not None
        # Due in September, completed on 12 October: overdue at the end of September, completed in October.
        a.status, a.due_on, a.completed_on = "complete", dt.date(2026, 9, 15), dt.date(2026, 10, 12)
        b = s.scalars(select(Action).where(Action.force == "suffolk").order_by(Action.id).offset(1)).first()
        assert b is not None
        b.status, b.due_on, b.completed_on = "ongoing", dt.date(2026, 10, 20), None
        s.commit()
        sep = build_summary(s, demo.config, force, "2026-09", TODAY, NOW)
        oct_ = build_summary(s, demo.config, force, "2026-10", TODAY, NOW)
        exp_sep = _overdue_and_done(s, "suffolk", dt.date(2026, 9, 1), dt.date(2026, 9, 30))
        exp_oct = _overdue_and_done(s, "suffolk", dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert (sep.headline("actions_overdue").now, sep.headline("actions_completed").now) == exp_sep
    assert (oct_.headline("actions_overdue").now, oct_.headline("actions_completed").now) == exp_oct
    assert oct_.headline("actions_completed").now >= 1 and sep.headline("actions_overdue").now >= 1
    assert oct_.headline("actions_overdue").before == sep.headline("actions_overdue").now


def test_a_past_months_action_figures_are_the_log_as_it_stood_then(demo: Runtime, clock: FixedClock) -> None:
    """October's "Actions overdue" is what the log said on 31 October. Three actions overdue then — one has its due
    date moved to December, one is cancelled and one completed, each in November — were still overdue that day:
    the October summary made after those changes says so, as it did before them. November, as of today, counts
    the log as it is, and its completion."""
    force = demo.config.force("suffolk")
    admin = Actor("UCHAIR01", role="admin")
    with demo.sessions() as s:
        rows = s.scalars(
            select(Action).where(Action.force == "suffolk", Action.kind == "action").order_by(Action.id).limit(3)
        ).all()
        for a in rows:  # as the imported log had them: due in October, being worked on
            a.status, a.due_on, a.completed_on = "ongoing", dt.date(2026, 10, 15), None
        s.commit()
        moved, cancelled, completed = (a.reference for a in rows)
        before = build_summary(s, demo.config, force, "2026-10", TODAY, NOW)
        nov_before = build_summary(s, demo.config, force, "2026-11", TODAY, NOW)
    assert before.headline("actions_overdue").now == _overdue_and_done_at(demo, dt.date(2026, 10, 31))[0] >= 3

    changes = (
        (moved, {"due_on": dt.date(2026, 12, 20)}, dt.date(2026, 11, 5)),
        (cancelled, {"status": "cancelled"}, dt.date(2026, 11, 6)),
        (completed, {"status": "complete"}, dt.date(2026, 11, 7)),
    )
    for ref, fields, on in changes:
        with demo.sessions() as s:
            seen = service.load_action(s, force, ref)
            assert seen is not None
            change = ActionChange(ref, seen.version, on=on, note="at the November meeting", **fields)  # type: ignore[arg-type]
            assert service.change_action(s, force, admin, change, clock).ok
            s.commit()

    with demo.sessions() as s:
        after = build_summary(s, demo.config, force, "2026-10", TODAY, NOW)
        nov = build_summary(s, demo.config, force, "2026-11", TODAY, NOW)
        now_overdue, now_done = _overdue_and_done(s, "suffolk", dt.date(2026, 11, 1), TODAY)
    assert after.headline("actions_overdue").now == before.headline("actions_overdue").now
    assert after.headline("actions_completed").now == before.headline("actions_completed").now
    # November, as of today: the log as it is now; none of the three is overdue, one was completed in the month.
    assert (nov.headline("actions_overdue").now, nov.headline("actions_completed").now) == (now_overdue, now_done)
    assert nov.headline("actions_overdue").now == nov_before.headline("actions_overdue").now - 3
    assert nov.headline("actions_completed").now == nov_before.headline("actions_completed").now + 1
    assert nov.headline("actions_overdue").before == after.headline("actions_overdue").now


def _overdue_and_done_at(rt: Runtime, last: dt.date) -> tuple[int, int]:
    with rt.sessions() as s:
        return _overdue_and_done(s, "suffolk", last.replace(day=1), last)


def test_current_month_is_summarised_up_to_today_and_future_months_are_refused(demo: Runtime) -> None:
    force = demo.config.force("suffolk")
    with demo.sessions() as s:
        cur = build_summary(s, demo.config, force, "2026-11", TODAY, NOW)
        assert cur.as_of == TODAY and cur.previous_as_of == dt.date(2026, 10, 31)
        assert cur.headline("wanted").now == wanted_figures(s, force, TODAY).open
        with pytest.raises(ValueError, match="not started"):
            build_summary(s, demo.config, force, "2026-12", TODAY, NOW)
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month("2026-13")
    assert last_complete_month(dt.date(2026, 1, 5)) == "2025-12"


def test_a_district_summary_is_narrowed_and_other_forces_are_not_mixed_in(demo: Runtime) -> None:
    cfg, force = demo.config, demo.config.force("suffolk")
    with demo.sessions() as s:
        ips = build_summary(s, cfg, force, "2026-10", TODAY, NOW, Filters(district="ipswich"))
        whole = build_summary(s, cfg, force, "2026-10", TODAY, NOW)
        norfolk = build_summary(s, cfg, cfg.force("norfolk"), "2026-10", TODAY, NOW)
        end = dt.date(2026, 10, 31)
        assert ips.headline("wanted").now == wanted_figures(s, force, end, Filters(district="ipswich")).open
        assert norfolk.headline("wanted").now == wanted_figures(s, cfg.force("norfolk"), end).open
    assert list(ips.length_bands_by_district["bail"]) == ["ipswich"]
    assert ips.scope_label == "Suffolk Constabulary — Ipswich"
    assert ips.headline("wanted").now < whole.headline("wanted").now
    assert set(norfolk.district_labels) == set(cfg.force("norfolk").district_slugs())


def test_no_data_month_says_so(runtime: Runtime) -> None:
    force = runtime.config.force("suffolk")
    with runtime.sessions() as s:
        empty = build_summary(s, runtime.config, force, "2026-10", TODAY, NOW)
    assert not empty.has_data
    # No dataset was ever imported: no figure at all rather than zeros nobody counted; the action log's are its own.
    actions = {"actions_overdue", "actions_completed"}
    assert all(h.now is None and h.before is None for h in empty.headlines if h.key not in actions)
    assert all(h.now == 0 and h.before == 0 for h in empty.headlines if h.key in actions)
    text = summary_text(empty)
    assert "No data for October 2026: no wanted, suspects or bail data has been imported" in text
    assert "never imported" in text


def test_summary_text_has_every_headline_and_the_data_time(demo: Runtime, clock: FixedClock) -> None:
    with demo.sessions() as s:
        summary = build_summary(s, demo.config, demo.config.force("suffolk"), "2026-10", TODAY, NOW)
    text = summary_text(summary)
    for h in summary.headlines:
        if h.key in ("lapsed_bail", "bail_ending_soon"):  # the demo's first bail export is as of today
            assert f"{h.label}: no figure: bail end dates are known only from the first bail export, as of" in text
            continue
        assert f"{h.label}" in text and f": {h.now:,} (previous month {h.before:,}" in text
    # The export's date first (the demo's exports are as of today), then when it was imported.
    now = clock.now()  # November: London is on GMT, the same clock as UTC
    assert f"wanted {now.day} {now:%b %Y} (imported {now.day} {now:%b %Y %H:%M} GMT)" in text
    # Stale data is flagged: 40 days later the wanted export (7-day interval) is overdue.
    with demo.sessions() as s:
        later = build_summary(
            s, demo.config, demo.config.force("suffolk"), "2026-10", TODAY, NOW + dt.timedelta(days=40)
        )
    assert "wanted" in later.stale and "(stale)" in summary_text(later)
    assert month_end(dt.date(2026, 2, 1)) == dt.date(2026, 2, 28)


def test_staleness_follows_the_files_own_as_of_date_as_status_does(
    runtime: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    """An export whose data is 40 days old, imported today, is stale in the summary as in `/mo status`; one
    imported 40 days ago whose data was then a day old is stale too (by its import), and fresh data is not."""
    force = runtime.config.force("suffolk")
    today = clock.now().date()
    header = "reference,offence,district,reason,circulated_on,closed_on,status\n"
    files = {
        # wanted (7-day interval): exported 40 days ago, imported now.
        "wanted": (header + "W1,burglary,ipswich,never_arrested,2026-09-01,,open\n", today - dt.timedelta(days=40)),
        # suspects (35-day interval): exported 10 days ago, imported now.
        "suspects": (
            "reference,offence,district,identified_on,closed_on,status\nS1,theft,ipswich,2026-09-01,,open\n",
            today - dt.timedelta(days=10),
        ),
    }
    with runtime.sessions() as s:
        for dataset, (text, as_of) in files.items():
            path = tmp_path / f"{dataset}.csv"
            path.write_text(text)
            request = ImportRequest(dataset=dataset, path=path, force="suffolk", as_of=as_of)
            assert import_file(s, runtime.config, request, clock.now()).ok
            s.commit()

    summary = make_summary(runtime, force, "2026-10")
    with runtime.sessions() as s:
        status = {f.dataset: f for f in dataset_freshness(s, runtime.config, force, clock.now())}
    assert summary.data_as_of["wanted"] == clock.now()  # imported a moment ago …
    assert status["wanted"].stale and status["wanted"].age_days == 0.0
    assert summary.stale == ("wanted",)  # … yet stale by its data, as status says; suspects fresh
    assert not status["suspects"].stale
    text = summary_text(summary)
    # The data's own date, not the import's: an export of 40 days ago imported today reads as 40 days old.
    now = clock.now()
    imported = f"(imported {now.day} {now:%b %Y %H:%M} GMT)"
    w, su = files["wanted"][1], files["suspects"][1]
    assert f"wanted {w.day} {w:%b %Y} {imported} (stale)" in text
    assert f"suspects {su.day} {su:%b %Y} {imported};" in text
    assert summary.oldest_export() == files["wanted"][1]

    # Thirty days on, the suspects export (now 40 days old) is stale too; the summary follows the clock.
    clock.advance(dt.timedelta(days=30))
    later = make_summary(runtime, force, "2026-10")
    assert later.stale == ("wanted", "suspects")


def test_comparisons_with_a_month_before_coverage_are_left_out(runtime: Runtime, tmp_path: Path) -> None:
    # Enough rows that the first covered week (the demo's coverage starts part-way through its first month) holds
    # cases: with too few, that month has no data at all, and the summary rightly says only that.
    demo = runtime
    load_demo(demo, rows=3000, workdir=tmp_path / "demo")
    force = demo.config.force("suffolk")
    with demo.sessions() as s:
        start = s.scalars(select(ImportBatch.covers_from).where(ImportBatch.dataset == "wanted")).first()
        assert start is not None  # the demo declares its 24 months
        first_month = start.strftime("%Y-%m")
        summary = build_summary(s, demo.config, force, first_month, TODAY, NOW)
        assert summary.has_data
        later = build_summary(s, demo.config, force, add_months(start, 1).strftime("%Y-%m"), TODAY, NOW)
    text = summary_text(summary)
    for key in ("wanted", "suspects", "active_bail", "active_rui"):
        h = summary.headline(key)
        assert h.before is None and h.change is None and h.covered_from == start
        assert f"{h.label}: {h.now:,} (no comparison: no data before {day_month_year(start)})" in text
        assert later.headline(key).before is not None  # the month after: its previous month end is covered
    for key in ("lapsed_bail", "bail_ending_soon"):
        # Covered, but counted by end dates known only from the first bail export (as of today): no figure.
        h = summary.headline(key)
        assert h.now is None and h.before is None and h.no_figure
        assert f"{h.label}: no figure: {h.no_figure}" in text
        assert later.headline(key).now is None and later.headline(key).no_figure
    # The action log is not an export with coverage: compared as before.
    assert summary.headline("actions_overdue").before is not None
    assert "no comparison" in str(render_summary(summary)[1])


def test_outcomes_line_equals_the_figures_services(demo: Runtime) -> None:
    force = demo.config.force("suffolk")
    with demo.sessions() as s:
        summary = build_summary(s, demo.config, force, "2026-10", TODAY, NOW)
        end = summary.as_of
        wanted = with_outcomes(s, wanted_figures(s, force, end), force, Filters())
        suspects = with_outcomes(s, suspect_figures(s, force, end), force, Filters())
        b = with_outcomes(s, bail_figures(s, force, end, ending_within_days=14), force, Filters())
    assert summary.outcomes["wanted"] == wanted.closed_by_outcome
    assert (
        summary.outcomes["bail"] == b.closed_by_outcome["bail"]
        and summary.outcomes["rui"] == b.closed_by_outcome["rui"]
    )
    assert sum(summary.outcomes["bail"].values()) == b.closed_in_month["bail"] > 0
    text = summary_text(summary)
    # The demo's wanted exports say how most circulations closed in their status ("arrested", "located",
    # "cancelled"); those closed as plain "closed" have no outcome, counted apart from those without arrest.
    by = wanted.closed_by_outcome
    arrested, unknown = by["arrested"], by.get("not_recorded", 0)
    without = wanted.closed_in_month - arrested - unknown
    assert arrested > 0 and without > 0
    unknown_part = f", {unknown:,} outcome not recorded" if unknown else ""
    assert (
        f"wanted closed {wanted.closed_in_month:,} ({arrested:,} arrested, {without:,} without arrest{unknown_part})"
    ) in text
    # The demo's suspects statuses say how most were dealt with (arrested, voluntary attendance, NFA); the rest
    # were only "Closed". The line is the figures service's split.
    assert summary.outcomes["suspects"] == suspects.closed_by_outcome
    split = arrests_text(arrest_split(suspects.closed_by_outcome or {}))
    assert "arrested" in split and "without arrest" in split
    assert f"suspects dealt with {suspects.closed_in_month:,} ({split})" in text
    assert f"bail ended {b.closed_in_month['bail']:,} (" in text


def test_import_times_are_given_in_the_forces_timezone(runtime: Runtime, clock: FixedClock, tmp_path: Path) -> None:
    """The summary gives an import's time as the `/mo` answers do, in the force's timezone: an import at 23:30 UTC on
    7 July ran at 00:30 BST on 8 July, and the post says so rather than "7 Jul … UTC"."""
    force = runtime.config.force("suffolk")
    clock.set(dt.datetime(2026, 7, 7, 23, 30, tzinfo=dt.UTC))
    path = tmp_path / "wanted.csv"
    path.write_text(
        "reference,offence,district,reason,circulated_on,closed_on,status\n"
        "W1,burglary,ipswich,never_arrested,2026-06-01,,open\n"
    )
    with runtime.sessions() as s:
        request = ImportRequest(dataset="wanted", path=path, force="suffolk", as_of=dt.date(2026, 7, 7))
        assert import_file(s, runtime.config, request, clock.now()).ok
        s.commit()
    summary = make_summary(runtime, force, "2026-07")
    assert summary.data_when("wanted") == "7 Jul 2026 (imported 8 Jul 2026 00:30 BST)"
    assert "wanted 7 Jul 2026 (imported 8 Jul 2026 00:30 BST)" in summary_text(summary)
    assert "UTC" not in summary_text(summary)


def test_bail_counted_by_end_date_is_counted_and_compared_only_from_the_first_bail_export(
    runtime: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    """Bail B1 was due to end on 5 Nov: at 31 Oct it was ending within 14 days. On 20 Nov it was extended to 5 Feb.
    Suffolk imported an export as of 31 Oct and one as of 30 Nov, so its November summary knows the 31 Oct end date
    and compares 0 with 1. Norfolk's first export is the one of 30 Nov, declared to hold every case since 1 Sep (so
    31 Oct is covered), but it gives only the extended date: 31 Oct's count from it would be 0 where it was 1, so no
    comparison is made rather than a misleading one."""
    clock.set(dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC))
    header = "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome\n"
    due = {"suffolk": "ipswich", "norfolk": "norwich"}

    def export(force: str, end: str, as_of: dt.date) -> None:
        path = tmp_path / f"bail-{force}-{as_of}.csv"
        path.write_text(header + f"B1,burglary,{due[force]},bail,2026-09-01,{end},,\n")
        with runtime.sessions() as s:
            since = dt.date(2026, 9, 1)
            request = ImportRequest(dataset="bail", path=path, force=force, as_of=as_of, covers_from=since)
            assert import_file(s, runtime.config, request, clock.now()).ok
            s.commit()

    export("suffolk", "2026-11-05", dt.date(2026, 10, 31))
    export("suffolk", "2027-02-05", dt.date(2026, 11, 30))
    export("norfolk", "2027-02-05", dt.date(2026, 11, 30))

    suffolk = make_summary(runtime, runtime.config.force("suffolk"), "2026-11").headline("bail_ending_soon")
    assert (suffolk.now, suffolk.before, suffolk.change) == (0, 1, -1)
    norfolk_summary = make_summary(runtime, runtime.config.force("norfolk"), "2026-11")
    norfolk = norfolk_summary.headline("bail_ending_soon")
    assert (norfolk.now, norfolk.before, norfolk.change) == (0, None, None)
    assert (
        "Bail ending within 14 days: 0 (no comparison: bail end dates are known only from the first bail export, "
        "as of 30 Nov 2026)"
    ) in summary_text(norfolk_summary)
    # Counts that do not rest on end dates are compared as ever: B1 was active on both days.
    active = norfolk_summary.headline("active_bail")
    assert (active.now, active.before) == (1, 1)
    # October's summaries: Suffolk's export of 31 Oct knew B1 was ending within 14 days; Norfolk's data for 31 Oct
    # is its export of 30 Nov, with the extended date, which would say 0: no figure rather than a false 0.
    october = make_summary(runtime, runtime.config.force("suffolk"), "2026-10").headline("bail_ending_soon")
    assert october.now == 1
    norfolk_october = make_summary(runtime, runtime.config.force("norfolk"), "2026-10")
    assert norfolk_october.headline("bail_ending_soon").now is None
    assert (
        "Bail ending within 14 days: no figure: bail end dates are known only from the first bail export, as of "
        "30 Nov 2026"
    ) in summary_text(norfolk_october)
    assert norfolk_october.headline("active_bail").now == 1


def test_a_month_the_data_does_not_cover_has_no_figure_however_many_rows_the_imports_hold(
    runtime: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    """Wanted is complete from 10 Sep 2026, suspects only from 1 Nov: an export holds the cases still open when its
    coverage begins, so rows dated earlier are there — but a count of them at an earlier month end is not what was
    open then. October: wanted has its figure, suspects none; September: wanted's closures in the month are not
    counted (the data begins on the 10th); August: no data at all."""
    clock.set(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
    wanted = tmp_path / "wanted.csv"
    wanted.write_text(
        "reference,offence,district,reason,circulated_on,closed_on,status\n"
        "W1,theft,ipswich,never_arrested,2026-03-01,,open\n"  # open throughout
        "W2,theft,ipswich,never_arrested,2026-06-01,2026-09-20,arrested\n"
        "W3,theft,ipswich,never_arrested,2026-10-02,,open\n"
    )
    suspects = tmp_path / "suspects.csv"
    suspects.write_text(
        "reference,offence,district,identified_on,closed_on,status\n"
        "S1,theft,ipswich,2026-02-01,,open\n"  # open since February: in the export, yet October is not covered
        "S2,theft,ipswich,2026-11-03,,open\n"
    )
    _import_covering(runtime, clock, "wanted", wanted, dt.date(2026, 9, 10))
    _import_covering(runtime, clock, "suspects", suspects, dt.date(2026, 11, 1))
    october, september, august = _summaries(runtime, clock, "2026-10", "2026-09", "2026-08")
    with runtime.sessions() as s:
        force = runtime.config.force("suffolk")
        assert monthly_series(s, "suspects", force, dt.date(2026, 10, 31), 1)[0].open_at_end == 1  # the row is there

    assert (october.headline("wanted").now, october.headline("wanted").before) == (2, 1)
    assert (october.headline("suspects").now, october.headline("suspects").before) == (None, None)
    assert october.headline("suspects").change is None
    text = summary_text(october)
    assert "- Wanted circulations open: 2 (previous month 1; +1)" in text
    assert "- Outstanding suspects: no figure: no data before 1 Nov 2026" in text
    assert "wanted closed 0 (none); suspects dealt with not counted (the data is complete only from 1 Nov 2026)" in text
    _, blocks = render_summary(october)
    fields = [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert "*Outstanding suspects*\nno figure: no data before 1 Nov 2026" in fields

    assert september.headline("wanted").now == 1 and september.headline("wanted").before is None
    assert "wanted closed not counted (the data is complete only from 10 Sep 2026)" in summary_text(september)

    assert not august.has_data
    assert "No data for August 2026: the imported data is complete only from 10 Sep 2026." in summary_text(august)
    assert "the imported data is complete only from 10 Sep 2026, so there are no charts" in render_summary(august)[0]
    assert charts.render_all(august) == []


def test_rui_over_12_months_by_offence_only_for_a_month_end_the_bail_data_covers(
    runtime: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    """The bail export covers from 1 Nov 2026 and holds an RUI open since 2025: November has its offence line (the
    headline's 1, by offence), October none — the row is there, but what ran over 12 months then is not known."""
    clock.set(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
    bail = tmp_path / "bail.csv"
    bail.write_text(
        "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome\n"
        "R1,theft,ipswich,rui,2025-06-01,,,\n"
        "R2,burglary,lowestoft,rui,2026-08-01,,,\n"
    )
    _import_covering(runtime, clock, "bail", bail, dt.date(2026, 11, 1))
    november, october = _summaries(runtime, clock, "2026-11", "2026-10")
    assert november.headline("rui_over_12m").now == 1 and november.rui_over_12m_by_offence == {"theft": 1}
    assert "  - by offence group: theft 1\n" in summary_text(november)
    assert october.headline("rui_over_12m").now is None and october.rui_over_12m_by_offence == {}
    assert "by offence group" not in summary_text(october) and "by offence group" not in str(render_summary(october))


def _import_covering(runtime: Runtime, clock: FixedClock, dataset: str, path: Path, since: dt.date) -> None:
    """Import ``path`` as of 19 Nov 2026, declared to hold every case open since ``since``."""
    with runtime.sessions() as s:
        request = ImportRequest(
            dataset=dataset, path=path, force="suffolk", as_of=dt.date(2026, 11, 19), covers_from=since
        )
        assert import_file(s, runtime.config, request, clock.now()).ok
        s.commit()


def _summaries(runtime: Runtime, clock: FixedClock, *months: str) -> list[MonthlySummary]:
    """Suffolk's summaries of ``months`` on 20 Nov 2026."""
    force = runtime.config.force("suffolk")
    with runtime.sessions() as s:
        return [build_summary(s, runtime.config, force, m, dt.date(2026, 11, 20), clock.now()) for m in months]


def test_rui_over_12_months_by_offence_stays_within_a_slack_section(demo: Runtime) -> None:
    """A force with 200 offence groups (64 characters each, the column's width) over 12 months: the line names the
    first ten and sums the rest, within Slack's 3,000 characters for a section — not cut off mid-list."""
    force = demo.config.force("suffolk")
    with demo.sessions() as s:
        summary = build_summary(s, demo.config, force, "2026-10", TODAY, NOW)
    many = {f"{i:03d} " + "x" * 60: 200 - i for i in range(200)}
    wide = replace(summary, rui_over_12m_by_offence=many)
    _, blocks = render_summary(wide, charts=4)
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    [line] = [t for t in texts if t.startswith("RUI over 12 months by offence group: ")]
    assert line.endswith(f" · and {sum(range(1, 191)):,} in 190 more groups")
    assert line.count(" · ") == 10 and all(len(t) <= 3000 for t in texts)
