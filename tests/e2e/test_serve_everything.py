"""One process that deploys everything: `mo-bot serve` runs the scheduler beside the app unless told not to,
``/healthz`` and ``serve --check`` report it, ``--check`` writes nothing, a normal start is quiet, and `mo-bot demo`
says in one line what it needs from the shipped example config. Runs the installed console script."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import make_url

from tests.e2e.test_serve import MO_BOT, _config_file, _free_port, _wait_healthy, serve_env
from tests.support import fakeslack
from tests.support.database import IS_PG
from tests.support.fakeslack import FakeSlack
from tests.support.paths import REPO_ROOT
from tests.support.slackutil import get

fake_slack = fakeslack.fake_slack


def _healthz_until(url: str, pred: str, timeout: float = 40) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    body: dict[str, str] = {}
    while time.monotonic() < deadline:
        body = get(url, timeout=2).json()
        if pred in str(body.get("scheduler", "")):
            return body
        time.sleep(0.25)
    raise AssertionError(f"/healthz never said the scheduler is {pred!r}: {body}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_runs_the_scheduler_reports_it_and_starts_quietly(
    db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    port = _free_port()
    env = serve_env(fake_slack, db_url, _config_file(tmp_path / "mo.toml", fake_slack.team_id, "C0MOBOT01"), port)
    env["LOG_LEVEL"] = "info"  # what a normal start logs
    own_tmp = tmp_path / "tmp"
    own_tmp.mkdir()
    env["TMPDIR"] = str(own_tmp)  # where serve keeps the scheduler's heartbeat
    proc = subprocess.Popen([MO_BOT, "serve"], env=env, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base + "/healthz", proc, timeout=60)
        body = _healthz_until(base + "/healthz", "running")
        assert body["status"] == "ok" and body["scheduler"].startswith("running (next job 20")
        scheduler_pids = _scheduler_pids(proc.pid)
        assert len(scheduler_pids) == 1, "serve runs exactly one scheduler process"
        assert [p.name for p in own_tmp.iterdir() if p.name.startswith("mo-bot-serve-")], "the heartbeat's directory"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode == 0
    deadline = time.monotonic() + 10
    while _alive(scheduler_pids[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(scheduler_pids[0]), "the scheduler outlived serve"
    leftovers = [p.name for p in own_tmp.iterdir() if p.name.startswith("mo-bot-serve-")]
    assert leftovers == [], f"a stopped serve left {leftovers} in its temporary directory"
    # A normal start says what runs, not what the libraries do inside.
    assert "scheduler started beside the web process" in log
    for noise in ("alembic", "will be unused", "will be ignored", "Adding job tentatively"):
        assert noise not in log, f"{noise!r} in a normal start's log:\n{log}"


def test_serve_without_the_scheduler_says_where_it_runs(db_url: str, fake_slack: FakeSlack, tmp_path: Path) -> None:
    port = _free_port()
    env = serve_env(fake_slack, db_url, _config_file(tmp_path / "mo.toml", fake_slack.team_id, "C0MOBOT01"), port)
    proc = subprocess.Popen([MO_BOT, "serve", "--no-scheduler"], env=env, stderr=subprocess.PIPE)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc, timeout=60)
        body = get(f"http://127.0.0.1:{port}/healthz").json()
        assert body["status"] == "ok" and "--no-scheduler" in body["scheduler"]
        assert _scheduler_pids(proc.pid) == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_serve_check_reports_the_scheduler_and_writes_nothing(
    db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    config = _config_file(tmp_path / "mo.toml", fake_slack.team_id, "C0MOBOT01")
    # On SQLite a database that does not exist yet stays that way.
    target = db_url if IS_PG else f"sqlite:///{tmp_path / 'not-yet.db'}"
    env = serve_env(fake_slack, target, config, 3000)
    r = subprocess.run([MO_BOT, "serve", "--check"], env=env, capture_output=True, timeout=60)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    assert "would run HTTP on port 3000" in out and "scheduler: would run beside the app; next: monthly_summary" in out
    if not IS_PG:
        assert not (tmp_path / "not-yet.db").exists() and "is made and migrated" in out
        # An existing database: not a byte changed, no file added beside it.
        path = Path(make_url(db_url).database or "")
        before = (hashlib.sha256(path.read_bytes()).hexdigest(), sorted(p.name for p in path.parent.iterdir()))
        env = serve_env(fake_slack, db_url, config, 3000)
        r = subprocess.run([MO_BOT, "serve", "--check", "--no-scheduler"], env=env, capture_output=True, timeout=60)
        assert r.returncode == 0 and "(current)" in r.stdout.decode() and "--no-scheduler" in r.stdout.decode()
        after = (hashlib.sha256(path.read_bytes()).hexdigest(), sorted(p.name for p in path.parent.iterdir()))
        assert after == before


def test_demo_with_the_shipped_example_config_says_in_one_line_what_it_needs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MO_CONFIG")}
    env.update(MO_CONFIG=str(REPO_ROOT / "docs" / "mo-bot.example.toml"), DATABASE_URL=f"sqlite:///{tmp_path}/d.db")
    r = subprocess.run([MO_BOT, "demo", "--rows", "50"], env=env, capture_output=True, timeout=120, cwd=tmp_path)
    said = r.stderr.decode().strip().splitlines()
    assert r.returncode == 2 and len(said) == 1, r.stderr.decode()
    assert "norfolk" in said[0] and "MO_CONFIG" in said[0]


def _scheduler_pids(serve_pid: int) -> list[int]:
    """The scheduler processes serve started (its children running commands.cli.scheduler_process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == serve_pid and "commands.cli.scheduler_process" in cmdline:
            found.append(int(entry.name))
    return found
