"""`mo-bot jobs list|run|run-scheduler`: the scheduled jobs (see docs/architecture.md)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from bot.clock import today_in
from bot.config import WEEKDAYS, JobSpec
from bot.dates import last_complete_month
from bot.runtime import Runtime
from bot.settings import read_environment
from commands.cli import logfmt
from commands.cli.common import open_runtime

if TYPE_CHECKING:
    from slack_sdk import WebClient

# The jobs, their runner and the Slack client are imported by the handlers that use them: every other `mo-bot`
# command (an import, a figure) would otherwise load them all at start-up.


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("jobs", help="scheduled jobs: list them with their next run, run one now, or run the scheduler")
    jsub = p.add_subparsers(dest="jobs_action", metavar="ACTION", required=True)
    ls = jsub.add_parser("list", help="every job, its schedule, targets and next run (London time)")
    ls.add_argument("--runs", type=int, default=0, metavar="N", help="also show the last N recorded runs")
    ls.set_defaults(func=run_list)
    r = jsub.add_parser("run", help="run one job now, through the same exactly-once claims as the scheduler")
    r.add_argument("name", help="job name (see `mo-bot jobs list`)")
    r.add_argument(
        "--period",
        help="YYYY-MM (monthly_summary; default last month), YYYY-Www (reminders), batch-<id> (watches; default the "
        "latest import of each force), else a date",
    )
    r.add_argument("--force", dest="force_slug", help="only this force's targets")
    r.set_defaults(func=run_one)
    s = jsub.add_parser("run-scheduler", help="run the scheduler in the foreground (the Procfile's scheduler process)")
    s.set_defaults(func=run_scheduler)


def slack_client_from_env() -> WebClient | None:
    """A WebClient when SLACK_BOT_TOKEN is set (SLACK_API_URL may point at a proxy or a test fake), else None."""
    from bot.slack.client import make_client

    env = read_environment()
    if env.bot_token is None:
        return None
    return make_client(env.bot_token, env.api_url)


def run_list(args: argparse.Namespace) -> int:
    from jobs.catalog import JOBS
    from jobs.timetable import next_run

    rt = open_runtime(args)
    cfg = rt.config
    tz = cfg.timezone
    now = rt.clock.now()
    print(
        f"Jobs (times in {tz.key}; catch-up grace {cfg.jobs.grace_days} days, lease {cfg.jobs.lease_seconds}s, "
        f"up to {cfg.jobs.max_attempts} attempts)"
    )
    for name, job in JOBS.items():
        spec = cfg.jobs.specs[name]
        nxt = next_run(spec, tz, now)
        when = f"{nxt.astimezone(tz):%a %d %b %Y %H:%M %Z}" if nxt else "disabled"
        keys = job.keys(rt, spec)
        targets = ", ".join(f"{s}→{c}" for s, c in keys if c != "-") or "—"
        if not keys:
            targets = "no channel configured (nothing will be posted)"
        print(f"  {name:<16} next {when:<28} {_schedule_text(spec)}")
        print(f"  {'':<16} {job.description}; targets: {targets}")
    if args.runs:
        _print_runs(rt, args.runs)
    return 0


def _schedule_text(spec: JobSpec) -> str:
    at = f"{spec.hour:02d}:{spec.minute:02d}"
    if spec.day_of_month == "first-weekday":
        return f"first working day of the month at {at}"
    if spec.day_of_month:
        return f"day {spec.day_of_month} of the month at {at}"
    days = "daily" if len(spec.days) == 7 else ",".join(WEEKDAYS[d] for d in spec.days)
    return f"{days} at {at}"


def _print_runs(rt: Runtime, n: int) -> None:
    from jobs.claims import ClaimStore

    runs = ClaimStore(rt.sessions, rt.clock).runs()[-n:]
    print(f"\nLast {len(runs)} runs:")
    for r in runs:
        late = " late" if r.late else ""
        err = f" — {r.last_error}" if r.last_error else ""
        print(
            f"  {r.job:<16} {r.period:<10} {r.scope:<16} {r.channel:<12} {r.status}{late} (attempts {r.attempts}){err}"
        )


def run_one(args: argparse.Namespace) -> int:
    from jobs import watches
    from jobs.catalog import JOBS
    from jobs.runner import JobRunner
    from jobs.timetable import parse_period

    names = [*JOBS, watches.NAME]
    if args.name not in names:
        print(f"mo-bot: unknown job {args.name!r}; jobs: {', '.join(names)}", file=sys.stderr)
        return 2
    rt = open_runtime(args)
    # The watches run per import batch: `--period batch-<id>`, by default the latest batch of each force.
    period: str | None = args.period
    if args.name != watches.NAME:
        try:
            period = parse_period(args.name, args.period or _default_period(rt, args.name))
        except ValueError as e:
            print(f"mo-bot: {e}", file=sys.stderr)
            return 2
    if args.force_slug:
        rt.config.force(args.force_slug)  # ConfigError names the forces
    runner = JobRunner(rt, slack_client_from_env())
    try:
        results = runner.run_now(args.name, period, scope=args.force_slug)
    except ValueError as e:
        print(f"mo-bot: {e}", file=sys.stderr)
        return 2
    if not results:
        if args.name == watches.NAME:
            print(f"{args.name}: no import batch to check yet (import an export first)")
            return 1
        print(f"{args.name} {period}: no targets configured (see `mo-bot jobs list`)")
        return 1
    failed = 0
    for r in results:
        print(f"{r.key.job} {r.key.period} {r.key.scope} {r.key.channel}: {r.outcome} — {r.detail}")
        failed += r.outcome in ("failed", "abandoned", "lost", "uncertain")
    return 1 if failed else 0


def _default_period(rt: Runtime, job: str) -> str:
    today = today_in(rt.clock, rt.config.timezone)
    if job == "monthly_summary":
        return last_complete_month(today)
    if job == "reminders":
        y, w, _ = today.isocalendar()
        return f"{y}-W{w:02d}"
    return today.isoformat()


def run_scheduler(args: argparse.Namespace) -> int:
    from jobs.runner import JobRunner
    from jobs.triggers import build_scheduler

    logfmt.configure("INFO")
    rt = open_runtime(args)
    client = slack_client_from_env()
    if client is None:
        logging.getLogger("mo_bot.scheduler").warning("SLACK_BOT_TOKEN not set: jobs that post will fail and retry")
    runner = JobRunner(rt, client)
    logging.getLogger("mo_bot.scheduler").info("scheduler starting as %s", runner.claims.holder)
    build_scheduler(runner, blocking=True).start()
    return 0
