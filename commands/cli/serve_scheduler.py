"""The scheduler `mo-bot serve` runs beside the Slack app, so that one process deploys everything: the monthly
summary, reminders, the bail digest, the freshness check and the retention purge run where only ``web`` is started
(a Heroku-style platform starts the Procfile's ``web`` and nothing else unless told).

Why a process of its own, started and watched by serve, and not a thread in the web workers: gunicorn runs
``WEB_CONCURRENCY`` worker processes, and a scheduler in each would wake once per worker (the claims in
``job_run`` keep that correct, but every copy would query and contend for nothing); the monthly summary renders
charts (matplotlib, ~40 MB, a second of CPU) that must not share a worker with ``/mo`` answers; and a thread in
gunicorn's master would be copied, half-alive, into every worker it forks. So serve starts one scheduler process
(``python -m commands.cli.scheduler_process``, the same :class:`jobs.runner.JobRunner` and APScheduler triggers as
``mo-bot jobs run-scheduler``), restarts it if it dies, and stops it when serve stops. Several replicas of serve
each run one: every run is claimed in the database first, so nothing is posted twice.

The scheduler process writes a heartbeat (:mod:`commands.heartbeat`) that ``/healthz`` and ``serve --check``
report. ``mo-bot serve --no-scheduler`` runs none, for deployments that run ``mo-bot jobs run-scheduler`` as a
process of its own (docs/slack-setup.md).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from commands import heartbeat

log = logging.getLogger("mo_bot.serve")

RESTART_AFTER_S = 30.0  # a scheduler process that died is started again after this long


class SchedulerBeside:
    """Starts, watches and stops the scheduler process of one `mo-bot serve` (only in the process that made it:
    gunicorn's workers are forked from serve and inherit this object, and must not touch the process)."""

    def __init__(self, heartbeat_path: Path, config_path: str | None, *, owns_directory: bool = False) -> None:
        self.heartbeat_path = heartbeat_path
        self.config_path = config_path
        self.owns_directory = owns_directory
        self._owner = os.getpid()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> SchedulerBeside:
        heartbeat.write(self.heartbeat_path, "starting")
        self._spawn()
        threading.Thread(target=self._watch, name="mo-bot-scheduler-watch", daemon=True).start()
        return self

    def _spawn(self) -> None:
        cmd = [sys.executable, "-m", "commands.cli.scheduler_process", "--heartbeat", str(self.heartbeat_path)]
        cmd += ["--parent", str(os.getpid())]
        if self.config_path:
            cmd += ["--config", self.config_path]
        with self._lock:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        log.info("mo-bot: scheduler started beside the web process (pid %d)", self._proc.pid)

    def _watch(self) -> None:
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None:
                return
            code = proc.wait()
            if self._stopping.is_set():
                return
            log.error("mo-bot: the scheduler process exited (%s); starting it again in %.0fs", code, RESTART_AFTER_S)
            heartbeat.write(self.heartbeat_path, f"restarting (exited with {code})")
            if self._stopping.wait(RESTART_AFTER_S):
                return
            self._spawn()

    def stop(self) -> None:
        if os.getpid() != self._owner:
            return  # a forked worker: the scheduler is its parent's to stop
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.owns_directory:
            # The heartbeat's directory was made for this serve alone; a stopped serve leaves nothing in /tmp.
            shutil.rmtree(self.heartbeat_path.parent, ignore_errors=True)
