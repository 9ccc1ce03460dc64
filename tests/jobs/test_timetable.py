"""When jobs are due: 09:00 London in GMT and BST, the first working day of the month, catch-up within the grace,
the APScheduler triggers that wake the runner, and the [jobs] config. Pure time logic: no database, no waiting."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.config import DEFAULTS as CONFIG_DEFAULTS
from bot.config import Config, ConfigError, build_config, load_config
from jobs.timetable import due_runs, first_working_day, missed_runs, next_run, occurrences, parse_period
from jobs.triggers import cron_trigger

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC


def _cfg(jobs: dict[str, object] | None = None, **top: object) -> Config:
    raw = {**CONFIG_DEFAULTS, **top}
    if jobs is not None:
        raw["jobs"] = jobs
    return build_config(raw, "test")


def _monthly(now: dt.datetime, jobs: dict | None = None) -> list:
    cfg = _cfg(jobs)
    return [o for o in due_runs(cfg.jobs, LONDON, now) if o.job == "monthly_summary"]


def test_monthly_summary_fires_at_nine_london_in_winter_gmt() -> None:
    # Tue 1 Dec 2026: GMT, so 09:00 London is 09:00 UTC.
    assert _monthly(dt.datetime(2026, 12, 1, 8, 59, 59, tzinfo=UTC)) == []
    (o,) = _monthly(dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert o.period == "2026-11"
    assert o.scheduled_at == dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert o.late is False


def test_monthly_summary_fires_at_nine_london_in_summer_bst() -> None:
    # Mon 1 Jun 2026: BST, so 09:00 London is 08:00 UTC — an hour earlier in UTC than in winter.
    assert _monthly(dt.datetime(2026, 6, 1, 7, 59, 59, tzinfo=UTC)) == []
    (o,) = _monthly(dt.datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    assert o.period == "2026-05"
    assert o.scheduled_at.astimezone(LONDON).hour == 9
    assert o.scheduled_at == dt.datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def test_month_starting_on_saturday_posts_on_monday_the_third() -> None:
    assert dt.date(2026, 8, 1).weekday() == 5  # Saturday
    assert first_working_day(2026, 8) == dt.date(2026, 8, 3)
    # Nothing on the Saturday or the Sunday…
    for day in (1, 2):
        assert _monthly(dt.datetime(2026, 8, day, 12, 0, tzinfo=UTC), {"grace_days": 0}) == []
    # …and at 09:00 BST on Monday the 3rd, the July summary.
    (o,) = _monthly(dt.datetime(2026, 8, 3, 8, 0, tzinfo=UTC))
    assert (o.period, o.scheduled_at) == ("2026-07", dt.datetime(2026, 8, 3, 8, 0, tzinfo=UTC))
    # A month starting on Sunday (Nov 2026) → Monday the 2nd, in GMT.
    assert first_working_day(2026, 11) == dt.date(2026, 11, 2)
    spec = _cfg().jobs.specs["monthly_summary"]
    year = occurrences(spec, LONDON, dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2027, 1, 1, tzinfo=UTC))
    assert [o.scheduled_at.astimezone(LONDON).date() for o in year] == [
        first_working_day(2026, m) for m in range(1, 13)
    ]
    assert all(o.scheduled_at.astimezone(LONDON).time() == dt.time(9, 0) for o in year)


def test_the_summary_skips_a_bank_holiday_at_the_start_of_a_month() -> None:
    """New Year's Day 2027 is a Friday: the December summary goes out on Monday 4 January, and the trigger wakes for
    it. Good Friday on 1 April 2067, then the weekend and Easter Monday: Tuesday the 5th, the latest a first working
    day falls. A plain weekday 1st (1 Dec 2026) is unchanged."""
    assert first_working_day(2027, 1) == dt.date(2027, 1, 4)
    assert first_working_day(2067, 4) == dt.date(2067, 4, 5)
    assert first_working_day(2026, 12) == dt.date(2026, 12, 1)
    assert _monthly(dt.datetime(2027, 1, 1, 12, 0, tzinfo=UTC), {"grace_days": 0}) == []
    (o,) = _monthly(dt.datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    assert (o.period, o.scheduled_at) == ("2026-12", dt.datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    trigger = cron_trigger(_cfg().jobs.specs["monthly_summary"], LONDON)
    for month_start in (dt.datetime(2027, 1, 1, tzinfo=LONDON), dt.datetime(2067, 4, 1, tzinfo=LONDON)):
        wakes, t = [], month_start - dt.timedelta(seconds=1)
        while (t := trigger.get_next_fire_time(None, t + dt.timedelta(seconds=1))).month == month_start.month:
            wakes.append(t.date())
        assert first_working_day(month_start.year, month_start.month) in wakes
    assert max(first_working_day(y, m).day for y in range(2000, 2101) for m in range(1, 13)) == 5


def test_one_run_per_day_across_both_clock_changes() -> None:
    spec = _cfg().jobs.specs["retention"]  # daily at 03:15 local
    for start in (dt.datetime(2026, 3, 27, tzinfo=UTC), dt.datetime(2026, 10, 23, tzinfo=UTC)):
        runs = occurrences(spec, LONDON, start, start + dt.timedelta(days=5))
        days = [o.scheduled_at.astimezone(LONDON).date() for o in runs]
        assert days == [start.date() + dt.timedelta(days=i) for i in range(5)]
        assert {o.scheduled_at.astimezone(LONDON).time() for o in runs} == {dt.time(3, 15)}
    # Sun 29 Mar 2026 (BST starts): 03:15 BST = 02:15 UTC; Sun 25 Oct 2026 (GMT again): 03:15 UTC.
    (mar,) = occurrences(spec, LONDON, dt.datetime(2026, 3, 29, tzinfo=UTC), dt.datetime(2026, 3, 29, 23, tzinfo=UTC))
    (oct_,) = occurrences(
        spec, LONDON, dt.datetime(2026, 10, 25, tzinfo=UTC), dt.datetime(2026, 10, 25, 23, tzinfo=UTC)
    )
    assert mar.scheduled_at == dt.datetime(2026, 3, 29, 2, 15, tzinfo=UTC)
    assert oct_.scheduled_at == dt.datetime(2026, 10, 25, 3, 15, tzinfo=UTC)


def test_missed_run_is_caught_up_late_within_the_grace_and_not_beyond() -> None:
    # Every replica was down over the 1 Dec 09:00 run; one comes back on the 3rd, within the 3-day grace.
    (o,) = _monthly(dt.datetime(2026, 12, 3, 10, 0, tzinfo=UTC))
    assert (o.period, o.late) == ("2026-11", True)
    assert o.scheduled_at == dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    # Back only on the 4th at 09:01: more than 3 days late, so it is not run.
    assert _monthly(dt.datetime(2026, 12, 4, 9, 1, tzinfo=UTC)) == []
    # A longer configured grace still catches it.
    (o2,) = _monthly(dt.datetime(2026, 12, 4, 9, 1, tzinfo=UTC), {"grace_days": 5})
    assert o2.late and o2.period == "2026-11"
    # On time (within the tolerance) is not late.
    (o3,) = _monthly(dt.datetime(2026, 12, 1, 9, 10, tzinfo=UTC))
    assert o3.late is False


def test_only_the_latest_missed_run_of_a_job_is_caught_up() -> None:
    # Down from Friday 20 Nov to Monday 23 Nov 08:10 UTC: three daily digests were missed; only today's runs.
    cfg = _cfg()
    (o,) = [
        o for o in due_runs(cfg.jobs, LONDON, dt.datetime(2026, 11, 23, 8, 10, tzinfo=UTC)) if o.job == "bail_digest"
    ]
    assert (o.period, o.late) == ("2026-11-23", False)
    (r,) = [o for o in due_runs(cfg.jobs, LONDON, dt.datetime(2026, 11, 23, 8, 10, tzinfo=UTC)) if o.job == "retention"]
    assert (r.period, r.late) == ("2026-11-23", True)


def test_runs_past_the_grace_after_a_known_run_are_missed_and_nothing_before_the_first() -> None:
    cfg = _cfg()
    oct_run = dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # the October summary, posted on Mon 2 Nov
    now = dt.datetime(2026, 12, 4, 9, 1, tzinfo=UTC)  # back 3 days and a minute after the 1 Dec run
    monthly = [
        o for o in missed_runs(cfg.jobs, LONDON, now, {"monthly_summary": oct_run}) if o.job == "monthly_summary"
    ]
    assert [(o.period, o.scheduled_at, o.late) for o in monthly] == [
        ("2026-11", dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC), False)
    ]
    # Still inside the grace, the run is due (caught up), not missed.
    inside = dt.datetime(2026, 12, 4, 8, 59, tzinfo=UTC)
    assert [o for o in missed_runs(cfg.jobs, LONDON, inside, {"monthly_summary": oct_run})] == []
    # No run recorded yet for a job: nothing is missed (the bot was not deployed), whatever the date.
    assert missed_runs(cfg.jobs, LONDON, now, {}) == []
    # Once recorded (the missed row is the latest known), it is not found again.
    dec_1 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert [o for o in missed_runs(cfg.jobs, LONDON, now, {"monthly_summary": dec_1})] == []
    # Daily, at 08:00 London: last known run Fri 20 Nov; on Fri 27 Nov at 09:00 UTC the runs of the 21st to the
    # 24th are more than 3 days old. (The runner first catches up today's run, which then is the latest known and
    # supersedes them all: a week-old digest is stale news, see the runner test.)
    last = {"bail_digest": dt.datetime(2026, 11, 20, 8, 0, tzinfo=UTC)}
    digest = missed_runs(cfg.jobs, LONDON, dt.datetime(2026, 11, 27, 9, 0, tzinfo=UTC), last)
    assert [o.period for o in digest] == ["2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"]
    # A disabled job is never missed.
    off = _cfg({"monthly_summary": {"enabled": False}})
    assert [o for o in missed_runs(off.jobs, LONDON, now, {"monthly_summary": oct_run})] == []


def test_periods_of_each_job() -> None:
    cfg = _cfg()
    now = dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
    by_job = {o.job: o for o in due_runs(cfg.jobs, LONDON, now) if o.scheduled_at.date() == now.date()}
    assert by_job["reminders"].period == "2026-W48"
    assert by_job["freshness_check"].period == "2026-11-23"
    assert by_job["bail_digest"].period == "2026-11-23"
    assert by_job["retention"].period == "2026-11-23"
    assert parse_period("monthly_summary", "2026-10") == "2026-10"
    assert parse_period("reminders", "2026-W48") == "2026-W48"
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_period("monthly_summary", "October")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_period("retention", "2026-13-01")


def test_next_run_for_jobs_list() -> None:
    cfg = _cfg()
    spec = cfg.jobs.specs["monthly_summary"]
    assert next_run(spec, LONDON, dt.datetime(2026, 11, 23, 10, tzinfo=UTC)) == dt.datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert next_run(spec, LONDON, dt.datetime(2026, 7, 15, tzinfo=UTC)) == dt.datetime(2026, 8, 3, 8, tzinfo=UTC)
    off = _cfg({"bail_digest": {"enabled": False}}).jobs.specs["bail_digest"]
    assert next_run(off, LONDON, dt.datetime(2026, 7, 15, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Winter: next is Tue 1 Dec 09:00 GMT.
        (dt.datetime(2026, 11, 23, 10, tzinfo=UTC), dt.datetime(2026, 12, 1, 9, tzinfo=UTC)),
        # Summer, month starting on Saturday: the trigger wakes on Mon 3 Aug 09:00 BST (08:00 UTC).
        (dt.datetime(2026, 7, 31, 12, tzinfo=UTC), dt.datetime(2026, 8, 3, 8, tzinfo=UTC)),
    ],
)
def test_apscheduler_trigger_wakes_at_nine_london(after: dt.datetime, expected: dt.datetime) -> None:
    spec = _cfg().jobs.specs["monthly_summary"]
    trigger = cron_trigger(spec, LONDON)
    fire = trigger.get_next_fire_time(None, after.astimezone(LONDON))
    assert fire == expected
    assert fire.astimezone(LONDON).hour == 9
    # Every wake-up the trigger gives in a year is one the schedule accepts or a later weekday of days 1–5,
    # and every first working day is among them.
    wakes, t = [], dt.datetime(2026, 1, 1, tzinfo=LONDON)
    while (t := trigger.get_next_fire_time(None, t + dt.timedelta(seconds=1))) < dt.datetime(2027, 1, 1, tzinfo=LONDON):
        wakes.append(t.date())
    assert {first_working_day(2026, m) for m in range(1, 13)} <= set(wakes)


def test_weekly_trigger_uses_configured_day_and_time() -> None:
    spec = _cfg({"reminders": {"at": "10:45", "days": ["thu"]}}).jobs.specs["reminders"]
    fire = cron_trigger(spec, LONDON).get_next_fire_time(None, dt.datetime(2026, 6, 1, tzinfo=LONDON))
    assert fire == dt.datetime(2026, 6, 4, 10, 45, tzinfo=LONDON)


def test_jobs_config_defaults_and_targets() -> None:
    cfg = _cfg(
        {
            "grace_days": 2,
            "monthly_summary": {"posts": [{"force": "suffolk", "channel": "C0SUMMARY", "district": "bury"}]},
            "bail_digest": {"at": "07:30", "posts": [{"force": "norfolk", "channel": "C0BAIL"}]},
        }
    )
    assert cfg.jobs.grace_days == 2 and cfg.jobs.lease_seconds == 600 and cfg.jobs.max_attempts == 5
    (t,) = cfg.jobs.specs["monthly_summary"].targets
    assert (t.force, t.channel, t.district, t.scope) == (
        "suffolk",
        "C0SUMMARY",
        "bury-st-edmunds",
        "suffolk:bury-st-edmunds",
    )
    assert (cfg.jobs.specs["bail_digest"].hour, cfg.jobs.specs["bail_digest"].minute) == (7, 30)
    # Without posts, the summary goes to [slack] summary_channels.
    cfg2 = _cfg(slack={"summary_channels": {"suffolk": ["C0AAA", "C0BBB"]}})
    assert [x.channel for x in cfg2.jobs.specs["monthly_summary"].targets] == ["C0AAA", "C0BBB"]
    assert load_config().jobs.specs["monthly_summary"].day_of_month == "first-weekday"


@pytest.mark.parametrize(
    ("jobs", "key"),
    [
        ({"monthly_summary": {"at": "9am"}}, "jobs.monthly_summary.at"),
        ({"bail_digest": {"days": ["monday"]}}, "jobs.bail_digest.days"),
        ({"nightly": {}}, "jobs.nightly"),
        ({"grace_days": -1}, "jobs.grace_days"),
        ({"lease_seconds": 0}, "jobs.lease_seconds"),
        ({"monthly_summary": {"day_of_month": 31}}, "jobs.monthly_summary.day_of_month"),
        ({"bail_digest": {"posts": [{"force": "kent", "channel": "C1"}]}}, "jobs.bail_digest.posts[0].force"),
        ({"bail_digest": {"posts": [{"force": "suffolk", "channel": "general"}]}}, "jobs.bail_digest.posts[0].channel"),
        ({"bail_digest": {"posts": [{"force": "suffolk", "channel": "C1", "district": "mars"}]}}, "posts[0].district"),
        ({"retention": {"enabled": "yes"}}, "jobs.retention.enabled"),
        ({"retention": {"day_of_month": 1}}, "jobs.retention.day_of_month"),
        ({"reminders": {"posts": [{"force": "suffolk", "channel": "C1"}]}}, "jobs.reminders.posts"),
    ],
)
def test_jobs_config_errors_name_the_key(jobs: dict, key: str) -> None:
    with pytest.raises(ConfigError) as e:
        _cfg(jobs)
    assert key in str(e.value)
