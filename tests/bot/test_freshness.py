"""Data freshness: the latest import per force and dataset, and staleness against refresh_days, on an
injected FixedClock."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.clock import FixedClock
from bot.freshness import dataset_freshness, freshness, latest_import
from bot.models import ImportBatch
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
    assert fresh["actions"].stale is True
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
    assert "(0.0 days ago)" in text and "*stale*" in text


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
