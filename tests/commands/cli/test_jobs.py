"""`mo-bot jobs list|run` and `mo-bot summary --month --out`, through the real CLI entry point; and the
APScheduler wiring (which triggers exist and that a failing tick does not kill the scheduler)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.demo.load import load_demo
from bot.models import AuditEvent, JobRun
from bot.runtime import Runtime
from commands.cli import main
from jobs.context import RunResult
from jobs.runner import JobRunner
from jobs.triggers import _safe_tick, build_scheduler
from tests.support.fakeslack import FakeSlack, fake_slack  # noqa: F401 - the fixture


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("MO_CONFIG", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    return db_url


def test_jobs_list_shows_every_job_with_its_next_run_in_london_time(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jobs", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("monthly_summary", "bail_digest", "reminders", "freshness_check", "retention"):
        assert name in out
    assert "Europe/London" in out and "first working day of the month at 09:00" in out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("monthly_summary"))
    nxt = dt.datetime.strptime(line.split("next ")[1][:21], "%a %d %b %Y %H:%M")
    assert nxt.hour == 9 and nxt.minute == 0 and nxt.day <= 5 and nxt.weekday() < 5
    assert "no channel configured" in out  # the defaults name no summary channel


def test_jobs_run_goes_through_the_claims_once(env: str, capsys: pytest.CaptureFixture[str], runtime: Runtime) -> None:
    assert main(["jobs", "run", "retention", "--period", "2026-11-20"]) == 0
    assert "retention 2026-11-20 - -: done" in capsys.readouterr().out
    assert main(["jobs", "run", "retention", "--period", "2026-11-20"]) == 0
    assert "skipped — already done" in capsys.readouterr().out
    with runtime.sessions() as s:
        (row,) = s.scalars(select(JobRun)).all()
        purges = s.scalars(select(AuditEvent).where(AuditEvent.action == "purge")).all()
    assert (row.job, row.period, row.status) == ("retention", "2026-11-20", "posted")
    assert len(purges) == 2  # one per force, from the one run
    assert main(["jobs", "list", "--runs", "5"]) == 0
    assert "retention        2026-11-20" in capsys.readouterr().out


def test_jobs_run_rejects_a_bad_period_and_an_unknown_job(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "run", "monthly_summary", "--period", "2026-11-01"]) == 2
    assert "expected YYYY-MM" in capsys.readouterr().err
    assert main(["jobs", "run", "nightly"]) == 2
    assert "unknown job 'nightly'" in capsys.readouterr().err
    # No channel configured: nothing to post, and it says so.
    assert main(["jobs", "run", "monthly_summary", "--period", "2026-10"]) == 1
    assert "no targets configured" in capsys.readouterr().out


def test_summary_writes_four_pngs_and_markdown(
    env: str, runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load_demo(runtime, rows=300, workdir=tmp_path / "demo")
    out = tmp_path / "papers"
    assert main(["summary", "--month", "2026-10", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    stem = "summary-suffolk-2026-10"
    assert names == sorted(
        [f"{stem}.md", *(f"{stem}-{c}.png" for c in ("caseload", "bail-flow", "length-bands", "actions"))]
    )
    for p in out.glob("*.png"):
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (1200, 700)
    md = (out / f"{stem}.md").read_text()
    assert md.startswith("# Suffolk Constabulary: monthly summary, October 2026")
    assert f"![Wanted and outstanding suspects open at month end]({stem}-caseload.png)" in md
    assert "Wanted circulations open: " in capsys.readouterr().out
    with runtime.sessions() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [e.detail for e in ev][-1] == "mo-bot summary --month 2026-10: 4 charts written"
    # A district, and errors that name the fix.
    assert main(["summary", "--month", "2026-10", "--district", "bury", "--out", str(out)]) == 0
    assert (out / "summary-suffolk-bury-st-edmunds-2026-10-length-bands.png").exists()
    assert main(["summary", "--month", "2026-10", "--district", "mars", "--out", str(out)]) == 2
    assert main(["summary", "--month", "10/2026", "--out", str(out)]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
    assert main(["summary", "--month", "2099-01", "--out", str(out)]) == 2  # the CLI's own clock: any month ahead
    assert "--month 2099-01: January 2099 has not started yet; the last complete month is" in capsys.readouterr().err


def test_scheduler_has_a_trigger_per_enabled_job_and_a_start_up_sweep(runtime: Runtime) -> None:
    sched = build_scheduler(JobRunner(runtime, None))
    ids = {j.id for j in sched.get_jobs()}
    assert ids == {f"mo:{n}" for n in runtime.config.jobs.specs} | {"mo:sweep"}
    sweep = sched.get_job("mo:sweep")
    assert sweep.next_run_time is not None  # runs at start-up: the catch-up
    monthly = sched.get_job("mo:monthly_summary")
    fire = monthly.trigger.get_next_fire_time(None, dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC))
    assert fire == dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    assert str(monthly.trigger.timezone) == "Europe/London"


def test_a_failing_tick_is_logged_not_raised(
    runtime: Runtime, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = JobRunner(runtime, None)

    def broken() -> list[RunResult]:
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(runner, "tick", broken)
    with caplog.at_level(logging.ERROR, logger="mo_bot.scheduler"):
        _safe_tick(runner)
    assert "scheduler tick failed" in caplog.text


def test_run_scheduler_writes_one_line_per_record_as_serve_does(env: str, tmp_path: Path) -> None:
    """The scheduler's log carries text from outside (Slack's errors, exceptions on imported data): it uses the
    formatter that writes each record on one line, controls escaped (``commands.cli.logfmt``)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from commands.cli import main; raise SystemExit(main(['jobs', 'run-scheduler']))"],
        env={**os.environ, "DATABASE_URL": env},
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if "scheduler starting" in line:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert any("scheduler starting" in ln for ln in lines), lines
    record = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+ \S")
    for ln in lines:
        assert record.match(ln) or ln.startswith("    "), ln


def test_jobs_run_watches_checks_the_latest_import_of_each_force(
    env: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_slack: FakeSlack,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert main(["jobs", "run", "watches"]) == 1
    assert "no import batch to check yet" in capsys.readouterr().out
    export = tmp_path / "bail.csv"
    export.write_text("reference,offence,district,kind,started_on\nR1,theft,ipswich,rui,2025-01-02\n", encoding="utf-8")
    assert main(["import", "bail", str(export), "--force", "suffolk"]) == 0
    capsys.readouterr()
    assert main(["jobs", "run", "watches", "--period", "2026-11-20"]) == 2
    assert "expected batch-<import batch id>" in capsys.readouterr().err
    assert main(["jobs", "run", "watches", "--period", "batch-2"]) == 2
    assert "there is no import batch 2" in capsys.readouterr().err
    monkeypatch.setenv("SLACK_BOT_TOKEN", fake_slack.token)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.base_url)
    assert main(["jobs", "run", "watches", "--period", "batch-1", "--force", "suffolk"]) == 0
    assert "watches batch-1 suffolk -: done — 0 watches, 0 crossed and told, 0 not told" in capsys.readouterr().out
    assert main(["jobs", "run", "watches"]) == 0
    assert "skipped — already done" in capsys.readouterr().out
