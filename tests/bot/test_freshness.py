"""Data freshness: the latest import per force and dataset, and staleness against refresh_days, on an
injected FixedClock."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import update

from bot.action_log import recurring, service, update_round
from bot.action_log.types import ActionChange, Actor, NewAction
from bot.clock import FixedClock
from bot.freshness import ACTION_LOG, action_log_freshness, dataset_freshness, freshness, latest_import
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import Action, ImportBatch
from bot.slack.render_figures import render_status


def batch(session, force: str, dataset: str, at: dt.datetime, as_of: dt.date | None = None) -> ImportBatch:
    b = ImportBatch(
        force=force,
        dataset=dataset,
        file_name=f"{dataset}.csv",
        file_sha256="0" * 64,
        as_of=as_of or at.date(),
        imported_at=at,
    )
    session.add(b)
    session.flush()
    return b


def test_latest_import_is_per_force_and_dataset(session) -> None:
    t = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    batch(session, "suffolk", "wanted", t)
    newest = batch(session, "suffolk", "wanted", t + dt.timedelta(days=7), dt.date(2026, 11, 7))
    batch(session, "norfolk", "wanted", t + dt.timedelta(days=9))
    batch(session, "suffolk", "bail", t + dt.timedelta(days=10))
    got = latest_import(session, "suffolk", "wanted")
    assert got is not None and got.id == newest.id and got.as_of == dt.date(2026, 11, 7)
    assert latest_import(session, "suffolk", "suspects") is None
    assert latest_import(session, "essex", "wanted") is None


def test_staleness_follows_refresh_days_on_the_clock(session, config, clock: FixedClock) -> None:
    suffolk = config.force("suffolk")
    now = clock.now()
    expected = config.refresh_days["wanted"]
    batch(session, "suffolk", "wanted", now - dt.timedelta(days=expected))  # exactly the interval: fresh
    batch(session, "suffolk", "bail", now - dt.timedelta(days=config.refresh_days["bail"], seconds=1))  # just over
    batch(session, "norfolk", "suspects", now)  # another force's import never freshens Suffolk's data
    fresh = {f.dataset: f for f in dataset_freshness(session, config, suffolk, now)}
    assert list(fresh) == ["wanted", "suspects", "bail", "actions"]
    w = fresh["wanted"]
    assert (w.stale, w.expected_days, w.age_days) == (False, expected, float(expected))
    assert w.imported_at == now - dt.timedelta(days=expected) and w.file_as_of == w.imported_at.date()
    assert fresh["bail"].stale is True
    assert (fresh["suspects"].stale, fresh["suspects"].imported_at, fresh["suspects"].age_days) == (True, None, None)
    # Suffolk keeps no action log here (none imported, none added in Slack): nothing is overdue.
    assert (fresh["actions"].stale, fresh["actions"].kept) == (False, False)
    # A minute later the wanted import is older than its interval.
    clock.advance(dt.timedelta(minutes=1))
    later = {f.dataset: f for f in dataset_freshness(session, config, suffolk, clock.now())}
    assert later["wanted"].stale is True


def test_freshness_from_an_import_time_is_the_rule_dataset_freshness_applies(session, config, clock) -> None:
    """The /mo answers build freshness from the import time their figures carry (no query); the result is the
    one dataset_freshness gives, but for the file's as-of date they do not know."""
    suffolk = config.force("suffolk")
    now = clock.now()
    batch(session, "suffolk", "wanted", now - dt.timedelta(days=3))
    batch(session, "suffolk", "bail", now - dt.timedelta(days=config.refresh_days["bail"], seconds=1))
    for f in dataset_freshness(session, config, suffolk, now):
        if f.dataset == ACTION_LOG:
            continue  # as fresh as its last update, imported or made in Slack: below
        built = freshness(config, f.dataset, f.imported_at, now, f.file_as_of, tz=suffolk.timezone)
        assert built == f
        if f.imported_at is not None:
            # Without the file's date: the import time only.
            alone = freshness(config, f.dataset, f.imported_at, now, tz=suffolk.timezone)
            assert alone == dataclasses.replace(f, file_as_of=None, data_age_days=None)
    assert freshness(config, "suspects", None, now, tz=suffolk.timezone).stale is True
    with pytest.raises(ValueError, match="timezone-aware"):
        freshness(config, "wanted", now, now.replace(tzinfo=None), tz=suffolk.timezone)


def test_freshness_follows_the_datas_own_as_of_date(session, config, clock) -> None:
    """An old export imported a minute ago is old data: stale by its as-of date, and status says both dates."""
    suffolk = config.force("suffolk")
    now = clock.now()
    batch(session, "suffolk", "wanted", now - dt.timedelta(minutes=1), dt.date(2022, 7, 31))
    w = next(f for f in dataset_freshness(session, config, suffolk, now) if f.dataset == "wanted")
    assert w.stale is True and w.age_days == 0.0
    assert w.data_age_days == (now.astimezone(suffolk.timezone).date() - dt.date(2022, 7, 31)).days
    text = str(render_status(suffolk, [w])[1])
    assert f"data as of 31 Jul 2022 ({w.data_age_days:,} days old), imported" in text
    assert "(under an hour ago)" in text and "*stale*" in text


def test_the_datas_age_is_counted_in_the_forces_calendar(session, config) -> None:
    """An export's as-of date is a date in the force's calendar. At 00:30 BST on 8 July it is 23:30 UTC on 7 July: an
    export as of 1 July is 7 days old there, not 6, and with a 6-day refresh interval it is already stale."""
    suffolk = config.force("suffolk")
    now = dt.datetime(2026, 7, 7, 23, 30, tzinfo=dt.UTC)
    assert now.astimezone(suffolk.timezone).date() == dt.date(2026, 7, 8)
    config = dataclasses.replace(config, refresh_days={**config.refresh_days, "wanted": 6})
    f = freshness(config, "wanted", now - dt.timedelta(hours=1), now, dt.date(2026, 7, 1), tz=suffolk.timezone)
    assert (f.data_age_days, f.stale) == (7, True)
    # A day earlier in the force's calendar it is within the interval.
    earlier = freshness(config, "wanted", now - dt.timedelta(hours=1), now, dt.date(2026, 7, 2), tz=suffolk.timezone)
    assert (earlier.data_age_days, earlier.stale) == (6, False)


def _log_file(tmp_path, status: str = "ongoing"):
    path = tmp_path / "log.csv"
    path.write_text(f"reference,pillar,title,owner,status\nA-1,divert,Warrants data,HH,{status}\n", encoding="utf-8")
    return path


def test_the_action_log_is_as_fresh_as_its_last_change_in_slack(session, config, clock, tmp_path) -> None:
    """The log lives in the bot: imported once (the July 2022 log), then kept by its owners in Slack. An owner's note
    a week ago makes it fresh, however old its file; the bot's own jobs do not; 45 days without a change is stale."""
    suffolk = config.force("suffolk")
    request = ImportRequest(ACTION_LOG, _log_file(tmp_path), force="suffolk", as_of=dt.date(2022, 7, 31))
    assert import_file(session, config, request, clock.now()).ok
    session.commit()
    imported = action_log_freshness(session, config, suffolk, clock.now())
    assert (imported.stale, imported.kept, imported.updated_in_bot) == (True, True, None)
    assert imported.data_date == dt.date(2022, 7, 31)
    assert "data as of 31 Jul 2022" in str(render_status(suffolk, [imported])[1])
    # A later file changes the action through the importer: its history rows are the import's, not Slack's.
    revised = ImportRequest(ACTION_LOG, _log_file(tmp_path, "held"), force="suffolk", as_of=dt.date(2022, 8, 31))
    assert import_file(session, config, revised, clock.now()).ok
    session.commit()
    imported = action_log_freshness(session, config, suffolk, clock.now())
    assert (imported.stale, imported.updated_in_bot, imported.data_date) == (True, None, dt.date(2022, 8, 31))

    clock.advance(dt.timedelta(days=1))
    changed_at = clock.now()
    row = service.load_action(session, suffolk, "A-1")
    change = ActionChange("A-1", row.version, note="Chased the data team")
    assert service.change_action(session, suffolk, Actor("UOWNER1", role="admin"), change, clock).ok
    session.commit()
    clock.advance(dt.timedelta(days=7))
    f = action_log_freshness(session, config, suffolk, clock.now())
    assert (f.stale, f.updated_in_bot, f.updated_since_import) == (False, changed_at, True)
    assert (f.updated_at, f.data_date, f.data_age_days, f.age_days) == (changed_at, changed_at.date(), 7, 7.0)
    assert (f.imported_at, f.file_as_of) == (imported.imported_at, dt.date(2022, 8, 31))  # still named
    assert next(x for x in dataset_freshness(session, config, suffolk, clock.now()) if x.dataset == ACTION_LOG) == f
    text = str(render_status(suffolk, [f])[1])
    assert "last updated in Slack 24 Nov 2026 10:00 GMT (7 days ago); log file as of 31 Aug 2022" in text
    assert "stale" not in text and "white_check_mark" in text

    # A recurring action reopening itself is the bot's job, not someone working the log.
    session.execute(update(Action).where(Action.force == "suffolk").values(recur_months=6))
    completed_at = clock.now()
    seen = service.load_action(session, suffolk, "A-1").version
    done = ActionChange("A-1", seen, status="complete", note="done for this half-year")
    assert service.change_action(session, suffolk, Actor("UOWNER1", role="admin"), done, clock).ok
    session.commit()
    clock.advance(dt.timedelta(days=200))
    assert [v.reference for v in recurring.reopen_due(session, suffolk, clock.now())] == ["A-1"]
    session.commit()
    late = action_log_freshness(session, config, suffolk, clock.now())
    assert (late.updated_in_bot, late.stale) == (completed_at, True)
    assert "*stale*" in str(render_status(suffolk, [late])[1])

    # Another force's log never freshens Suffolk's, and Norfolk, which keeps none, is not overdue.
    norfolk = action_log_freshness(session, config, config.force("norfolk"), clock.now())
    assert (norfolk.stale, norfolk.kept, norfolk.updated_at) == (False, False, None)
    assert "none kept for Norfolk Constabulary" in str(render_status(config.force("norfolk"), [norfolk])[1])


def test_an_action_log_started_in_slack_has_no_file_to_name(session, config, clock) -> None:
    suffolk = config.force("suffolk")
    new = NewAction(title="Deep dive into OOCD breaches", pillar="divert")
    assert service.create_action(session, suffolk, Actor("UCHAIR", role="admin"), new, clock).ok
    session.commit()
    f = action_log_freshness(session, config, suffolk, clock.now())
    assert (f.stale, f.kept, f.imported_at, f.file_as_of, f.updated_in_bot) == (False, True, None, None, clock.now())
    text = str(render_status(suffolk, [f])[1])
    assert "last updated in Slack 23 Nov 2026 10:00 GMT (under an hour ago) (expected every 45 days)" in text
    assert "never imported" not in text and "log file" not in text


def test_a_no_change_in_the_update_round_keeps_the_log_fresh(session, config, clock, tmp_path) -> None:
    """An owner who answers "No change" before the meeting changes nothing, yet says the action stands as it is:
    the log is up to date as of that answer."""
    suffolk = config.force("suffolk")
    request = ImportRequest(ACTION_LOG, _log_file(tmp_path), force="suffolk", as_of=dt.date(2026, 9, 1))
    assert import_file(session, config, request, clock.now()).ok
    session.commit()
    clock.advance(dt.timedelta(days=60))
    assert action_log_freshness(session, config, suffolk, clock.now()).stale is True
    owner = Actor("UCHAIR", role="admin")
    assert update_round.answer(session, suffolk, owner, clock.now().date(), "A-1", "no_change", clock).ok
    session.commit()
    f = action_log_freshness(session, config, suffolk, clock.now())
    assert (f.stale, f.updated_in_bot, f.data_date) == (False, clock.now(), clock.now().date())
    assert service.load_action(session, suffolk, "A-1").version == 1  # the action itself is as it was


@pytest.mark.parametrize(
    ("import_age", "data_days", "said"),
    [
        (
            dt.timedelta(minutes=20),
            0,
            "data as of 23 Nov 2026 (today), imported 23 Nov 2026 09:40 GMT (under an hour ago)",
        ),
        (dt.timedelta(hours=1), 1, "data as of 22 Nov 2026 (1 day old), imported 23 Nov 2026 09:00 GMT (1 hour ago)"),
        (dt.timedelta(hours=5), 2, "(2 days old), imported 23 Nov 2026 05:00 GMT (5 hours ago)"),
        (dt.timedelta(days=1, hours=3), 2, "imported 22 Nov 2026 07:00 GMT (1 day ago)"),
        (dt.timedelta(days=9, hours=20), 10, "(10 days old), imported 13 Nov 2026 14:00 GMT (9 days ago)"),
    ],
)
def test_status_says_how_old_the_data_is_as_a_person_would(session, config, clock, import_age, data_days, said) -> None:
    """ "(today)", "(1 hour ago)", "(9 days ago)": not "(0 days old)" and "(0.0 days ago)"."""
    suffolk = config.force("suffolk")
    now = clock.now()
    batch(session, "suffolk", "wanted", now - import_age, now.date() - dt.timedelta(days=data_days))
    w = next(f for f in dataset_freshness(session, config, suffolk, now) if f.dataset == "wanted")
    assert said in str(render_status(suffolk, [w])[1])
