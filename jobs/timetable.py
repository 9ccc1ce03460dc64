"""When each job is due: pure functions of the config, the force timezone and "now".

All calendar logic lives here, not in APScheduler triggers, so it is tested with plain datetimes (no waiting)
and handles what a cron expression cannot say, such as "the first working day of the month". Local times are
built with zoneinfo in the force's timezone, so 09:00 means 09:00 in London in GMT and in BST alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.config import JobSpec, JobsSettings
from bot.dates import is_working_day, last_complete_month

# A run started this long after its scheduled time counts as late (caught up rather than on time).
ON_TIME_TOLERANCE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Occurrence:
    job: str
    period: str  # what the run covers: "2026-10" (monthly summary of October), "2026-11-23", "2026-W48"
    scheduled_at: dt.datetime  # UTC
    late: bool = False


def first_working_day(year: int, month: int) -> dt.date:
    """The month's first weekday that is not a bank holiday in England and Wales (:func:`bot.dates.bank_holidays`):
    the summary of December goes out on Monday 4 January 2027, not on New Year's Day. At the latest the 5th (Good
    Friday on the 1st, Easter Monday on the 4th)."""
    d = dt.date(year, month, 1)
    while not is_working_day(d):
        d += dt.timedelta(days=1)
    return d


def fires_on(spec: JobSpec, day: dt.date) -> bool:
    if spec.day_of_month == "first-weekday":
        return day == first_working_day(day.year, day.month)
    if spec.day_of_month is not None:
        return day.day == int(spec.day_of_month)
    return day.weekday() in spec.days


def period_for(spec: JobSpec, day: dt.date) -> str:
    """The period a run on local ``day`` covers."""
    if spec.name == "monthly_summary":
        return last_complete_month(day)  # the run on 1 December summarises November
    if spec.name == "reminders":
        y, w, _ = day.isocalendar()
        return f"{y}-W{w:02d}"
    return day.isoformat()


def scheduled_time(spec: JobSpec, day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, spec.hour, spec.minute, tzinfo=tz).astimezone(dt.UTC)


def occurrences(spec: JobSpec, tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
    """Scheduled runs of ``spec`` with start <= scheduled_at <= end (UTC bounds)."""
    out: list[Occurrence] = []
    day = start.astimezone(tz).date() - dt.timedelta(days=1)
    last = end.astimezone(tz).date() + dt.timedelta(days=1)
    while day <= last:
        if fires_on(spec, day):
            at = scheduled_time(spec, day, tz)
            if start <= at <= end:
                out.append(Occurrence(spec.name, period_for(spec, day), at))
        day += dt.timedelta(days=1)
    return out


def due_runs(settings: JobsSettings, tz: ZoneInfo, now: dt.datetime) -> list[Occurrence]:
    """For each job, its latest run that should have started by ``now``, if still within the catch-up grace.

    The caller claims each one; runs already claimed or posted are skipped by the claim, so calling this on
    every tick and at start-up is safe. Runs older than the grace are not returned (they are left missed), and
    neither is an earlier run superseded by a later one inside the grace: after two days down, yesterday's
    bail digest is stale news, today's is the one to post."""
    window = max(dt.timedelta(days=settings.grace_days), ON_TIME_TOLERANCE)
    out: list[Occurrence] = []
    for spec in settings.specs.values():
        if not spec.enabled:
            continue
        found = occurrences(spec, tz, now - window, now)
        if found:
            o = found[-1]
            out.append(Occurrence(o.job, o.period, o.scheduled_at, late=now - o.scheduled_at > ON_TIME_TOLERANCE))
    return sorted(out, key=lambda o: (o.scheduled_at, o.job))


# How far back a missed run is still looked for (beyond that a gap is an outage to explain, not a run to list).
MISSED_LOOKBACK = dt.timedelta(days=92)


def missed_runs(
    settings: JobsSettings, tz: ZoneInfo, now: dt.datetime, last_known: dict[str, dt.datetime]
) -> list[Occurrence]:
    """Runs that nobody started and that are now past the catch-up grace, so will never be posted by the
    scheduler: for each enabled job, its occurrences after ``last_known[job]`` (the latest run recorded for
    it, in any state) and older than the grace. A job with no recorded run yet has nothing missed: before its
    first run the bot was not deployed, which is not a miss. Every run after a known one is either recorded
    (posted, failed, …, or skipped as superseded by a later recorded run, which is then the latest known) or
    missed, so nothing is counted twice."""
    window = max(dt.timedelta(days=settings.grace_days), ON_TIME_TOLERANCE)
    out: list[Occurrence] = []
    for spec in settings.specs.values():
        since = last_known.get(spec.name)
        if not spec.enabled or since is None:
            continue
        start = max(since + dt.timedelta(microseconds=1), now - MISSED_LOOKBACK)
        end = now - window - dt.timedelta(microseconds=1)
        if start <= end:
            out += [o for o in occurrences(spec, tz, start, end) if o.scheduled_at > since]
    return sorted(out, key=lambda o: (o.scheduled_at, o.job))


def next_run(spec: JobSpec, tz: ZoneInfo, after: dt.datetime) -> dt.datetime | None:
    """The first scheduled time strictly after ``after`` (within ~two months), or None if disabled."""
    if not spec.enabled:
        return None
    found = occurrences(spec, tz, after + dt.timedelta(microseconds=1), after + dt.timedelta(days=62))
    return found[0].scheduled_at if found else None


def parse_period(job: str, value: str) -> str:
    """Validate a ``--period`` for ``job``: YYYY-MM for the monthly summary, YYYY-Www for reminders, else a date."""
    try:
        if job == "monthly_summary":
            dt.datetime.strptime(value, "%Y-%m")
        elif job == "reminders":
            y, w = value.split("-W")
            dt.date.fromisocalendar(int(y), int(w), 1)
        else:
            dt.date.fromisoformat(value)
    except ValueError:
        shape = {"monthly_summary": "YYYY-MM", "reminders": "YYYY-Www (ISO week)"}.get(job, "YYYY-MM-DD")
        raise ValueError(f"period {value!r} for {job}: expected {shape}") from None
    return value
