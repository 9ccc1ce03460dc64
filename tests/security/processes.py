"""Run the installed `mo-bot` console script as its own process, as an analyst does, under a memory limit, and
measure it: wall time and the child's own peak RSS (from ``wait4``, not the test process's)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MO_BOT = str(Path(sys.executable).parent / "mo-bot")
# Address space allowed to a `mo-bot` process: a small import fits in a quarter of it; a file that made it
# allocate gigabytes fails here instead of exhausting the machine.
MEMORY_LIMIT = 1 << 30


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def mo_bot_env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MO_"))}
    env["DATABASE_URL"] = db_url
    return env


def run_mo_bot(
    args: list[str], db_url: str, *, memory_limit: int | None = MEMORY_LIMIT, timeout: float = 120.0
) -> Finished:
    """Run ``mo-bot ARGS`` against ``db_url``; killed (and reported with return code -9) after ``timeout`` s."""

    def limit() -> None:
        if memory_limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen([MO_BOT, *args], env=mo_bot_env(db_url), stdout=out, stderr=err, preexec_fn=limit)
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
        out.seek(0)
        err.seek(0)
        return Finished(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            usage.ru_maxrss / 1024,  # Linux reports KiB
        )
