"""APScheduler 3 wiring: triggers only. Each enabled job gets a cron trigger at its local time in the config's
timezone (Europe/London: the same wall-clock time in GMT and BST), plus a sweep every few minutes that also
runs once at start-up — catching up runs missed while every replica was down (within the grace, marked late),
retrying failed posts and taking over claims whose holder died. Every trigger calls the same
:meth:`jobs.runner.JobRunner.tick`, which decides from the clock what is due and claims it in the database;
so a trigger firing twice, or on several replicas, never posts twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.config import WEEKDAYS, JobSpec
from jobs.runner import JobRunner

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler
    from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger("mo_bot.scheduler")

SWEEP_MINUTES = 5


def cron_trigger(spec: JobSpec, tz: ZoneInfo) -> CronTrigger:
    """The trigger that wakes the runner at the job's local time. "First working day of the month" is not a cron
    expression: the trigger fires on weekdays 1–5 of the month (the first working day is the 5th at the latest) and
    :func:`jobs.timetable.fires_on` decides."""
    from apscheduler.triggers.cron import CronTrigger

    if spec.day_of_month == "first-weekday":
        return CronTrigger(day="1-5", day_of_week="mon-fri", hour=spec.hour, minute=spec.minute, timezone=tz)
    if spec.day_of_month is not None:
        return CronTrigger(day=int(spec.day_of_month), hour=spec.hour, minute=spec.minute, timezone=tz)
    days = ",".join(WEEKDAYS[d] for d in spec.days)
    return CronTrigger(day_of_week=days, hour=spec.hour, minute=spec.minute, timezone=tz)


def build_scheduler(runner: JobRunner, *, blocking: bool = False) -> BaseScheduler:
    """A Background (in-process) or Blocking (own process) scheduler, not yet started."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    cfg = runner.rt.config
    tz = cfg.timezone
    cls = BlockingScheduler if blocking else BackgroundScheduler
    # coalesce: a backlog of the same trigger collapses to one call; max_instances=1: never overlap with itself.
    sched = cls(timezone=tz, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 15 * 60})
    for spec in cfg.jobs.specs.values():
        if spec.enabled:
            sched.add_job(_safe_tick, cron_trigger(spec, tz), args=[runner], id=f"mo:{spec.name}", name=spec.name)
    sched.add_job(
        _safe_tick,
        IntervalTrigger(minutes=SWEEP_MINUTES, timezone=tz),
        args=[runner],
        id="mo:sweep",
        name="catch-up, retries and takeovers",
        next_run_time=dt.datetime.now(tz),  # at start-up: catch up what was missed while down
    )
    return sched


def _safe_tick(runner: JobRunner) -> None:
    try:
        for r in runner.tick():
            log.info("mo-bot job %s %s: %s%s", r.key, r.outcome, r.detail, " (late)" if r.late else "")
    except Exception:
        # A database outage must not kill the scheduler thread; the next trigger tries again.
        log.exception("mo-bot scheduler tick failed")
