"""Run the installed `mo-bot` console script as its own process, as an analyst does, under a memory limit, and
measure it: wall time and the child's own peak RSS (from ``wait4``, not the test process's)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Action, AuditEvent, BailPeriod, ImportBatch, OutstandingSuspect, WantedCirculation

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


# Runs the command in a grandchild forked from this small interpreter, not from the test process: a child forked
# from pytest starts with pytest's resident pages to its name, and the kernel's peak-RSS figure keeps them across
# exec. The grandchild gets the address-space limit; its exit status and peak RSS are written to a file.
_MEASURE = """
import json, os, resource, sys
limit, report = int(sys.argv[1]), sys.argv[2]
pid = os.fork()
if pid == 0:
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.execv(sys.argv[3], sys.argv[3:])
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as f:
    json.dump({"exit": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss}, f)
"""


def run_mo_bot(
    args: list[str],
    db_url: str,
    *,
    memory_limit: int | None = MEMORY_LIMIT,
    timeout: float = 120.0,
    env: dict[str, str] | None = None,
) -> Finished:
    """Run ``mo-bot ARGS`` against ``db_url`` (with ``env`` added to its environment); killed (and reported with
    return code -9) after ``timeout`` s."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as d:
        report = Path(d) / "exit.json"
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", _MEASURE, str(memory_limit or 0), str(report), MO_BOT, *args],
            env={**mo_bot_env(db_url), **(env or {})},
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        seconds = time.monotonic() - start
        measured = json.loads(report.read_text()) if report.exists() else {"exit": -9, "maxrss_kib": 0}
        out.seek(0)
        err.seek(0)
        return Finished(
            measured["exit"],
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            measured["maxrss_kib"] / 1024,  # Linux reports KiB
        )


# A refusal must cost no more than opening the file: well under the minutes and gigabytes the hostile files cost
# before, with room for a machine busy with other tests (a legitimate one-row import then takes a few seconds).
REFUSED_WITHIN_S = 30.0
REFUSED_WITHIN_RSS_MB = 250.0


def import_refused(
    db_url: str, sessions: sessionmaker[Session], dataset: str, path: Path, *expected: str, timeout: float = 90.0
) -> Finished:
    """`mo-bot import DATASET PATH` as its own process, under the memory limit: it must refuse the whole file fast
    and cheaply — exit status 2, a REFUSED report holding each of ``expected``, no traceback, nothing imported —
    and leave exactly one audit row saying so."""
    r = run_mo_bot(["import", dataset, str(path)], db_url, timeout=timeout)
    assert r.returncode == 2, f"exit {r.returncode} after {r.seconds:.1f} s, peak {r.peak_rss_mb:.0f} MB:\n{r.output}"
    assert r.stdout.startswith(f"REFUSED {dataset} export {path.name}: "), r.output
    for text in expected:
        assert text in r.stdout, r.output
    assert "Traceback" not in r.stderr, r.stderr
    assert r.seconds < REFUSED_WITHIN_S, f"refused after {r.seconds:.1f} s"
    assert r.peak_rss_mb < REFUSED_WITHIN_RSS_MB, f"peak RSS {r.peak_rss_mb:.0f} MB"
    with sessions() as s:
        events = s.execute(select(AuditEvent.action, AuditEvent.outcome, AuditEvent.detail)).all()
        assert [(a, o) for a, o, _ in events] == [("import", "refused")], events
        assert events[0][2].startswith(f"import {dataset} {path.name}: nothing imported: "), events
        assert s.scalar(select(func.count()).select_from(ImportBatch)) == 0
        for model in (WantedCirculation, OutstandingSuspect, BailPeriod, Action):
            assert s.scalar(select(func.count()).select_from(model)) == 0
    return r
