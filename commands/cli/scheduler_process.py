"""The scheduler process `mo-bot serve` starts beside the Slack app (:mod:`commands.cli.serve_scheduler` says why):
the same :class:`jobs.runner.JobRunner` and APScheduler triggers as ``mo-bot jobs run-scheduler``, plus a heartbeat
file for serve's ``/healthz``. It stops on SIGTERM, and by itself when serve is gone.

Run as ``python -m commands.cli.scheduler_process --heartbeat PATH --parent PID [--config FILE]``; settings come
from the environment, as serve's do."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from bot.settings import DEFAULT_LOG_LEVEL, read_environment
from commands import heartbeat
from commands.cli import logfmt
from commands.cli.common import open_runtime
from commands.cli.jobs_cmd import slack_client_from_env
from jobs.runner import JobRunner
from jobs.triggers import build_scheduler

log = logging.getLogger("mo_bot.scheduler")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="mo-bot serve (scheduler)")
    p.add_argument("--heartbeat", type=Path, required=True)
    p.add_argument("--parent", type=int, required=True)
    p.add_argument("--config")
    args = p.parse_args(argv)
    logfmt.configure(read_environment().log_level or DEFAULT_LOG_LEVEL)
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    rt = open_runtime(args)
    client = slack_client_from_env()
    if client is None:
        log.warning("mo-bot: SLACK_BOT_TOKEN not set: scheduled jobs that post will fail and be retried")
    runner = JobRunner(rt, client)
    sched = build_scheduler(runner, blocking=False)
    sched.start()
    log.info("mo-bot: scheduler running as %s", runner.claims.holder)
    try:
        while not stop.is_set():
            if os.getppid() != args.parent:
                log.warning("mo-bot: serve is gone; the scheduler stops")
                break
            upcoming = [j.next_run_time for j in sched.get_jobs() if j.id != "mo:sweep" and j.next_run_time]
            nxt = min(upcoming).astimezone(dt.UTC).isoformat(timespec="minutes") if upcoming else None
            heartbeat.write(args.heartbeat, "running", next_run=nxt)
            stop.wait(heartbeat.EVERY_S)
    finally:
        sched.shutdown(wait=False)
        heartbeat.write(args.heartbeat, "stopped")
        rt.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
