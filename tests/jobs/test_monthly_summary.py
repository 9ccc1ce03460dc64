"""The monthly summary job end to end against the local fake of Slack: posted once per force and channel,
charts uploaded into the message's thread with alt text, and exactly once through crashes, rate limits,
missing channels, missed runs and several replicas."""

from __future__ import annotations

import datetime as dt
import struct
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.clock import FixedClock
from bot.config import DEFAULTS, Config, _merge, build_config
from bot.db import make_engine
from bot.demo.load import load_demo
from bot.models import AuditEvent, JobRun
from bot.runtime import Runtime
from bot.slack.client import make_client
from bot.summary.monthly import build_summary, figure_text
from jobs.runner import JobRunner
from tests.support.database import IS_PG
from tests.support.fakeslack import FakeSlack, fake_slack  # noqa: F401 - the fixture

CHANNEL = "C0SUMMARY"
ADMIN = "UADMIN001"
# Tue 1 Dec 2026, 09:00 London (GMT) — the first working day of December: the November summary is due.
DUE = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def clock_of(rt: Runtime) -> FixedClock:
    """The test runtime's clock, which the tests move by hand."""
    assert isinstance(rt.clock, FixedClock)
    return rt.clock


def job_config(db_url: str, **jobs: Any) -> Config:
    raw = _merge(
        DEFAULTS,
        {
            "slack": {"roles": {"admin": [ADMIN]}, "summary_channels": {"suffolk": [CHANNEL]}},
            # Only the monthly summary runs here; the other jobs have their own tests.
            "jobs": {
                "lease_seconds": 600,
                "retry_minutes": 15,
                "max_attempts": 3,
                **{j: {"enabled": False} for j in ("bail_digest", "reminders", "freshness_check", "retention")},
                **jobs,
            },
        },
    )
    return build_config(raw, "test", database_url=db_url)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DUE - dt.timedelta(hours=1))


@pytest.fixture
def rt(db_url: str, engine: Engine, clock: FixedClock, tmp_path: Path) -> Runtime:
    runtime = Runtime.create(job_config(db_url), clock=clock, engine=engine)
    load_demo(runtime, rows=300, workdir=tmp_path / "demo")
    clock.set(DUE)
    return runtime


@pytest.fixture
def slack(fake_slack: FakeSlack) -> FakeSlack:  # noqa: F811
    fake_slack.add_channel(CHANNEL, name="mo-subgroup")
    fake_slack.users[ADMIN] = {"id": ADMIN, "name": "chair"}
    return fake_slack


class Sleeps(list):
    """The client's retry sleeps, recorded instead of slept (Retry-After is honoured, the test does not wait)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(fake: FakeSlack, sleeps: Sleeps | None = None) -> Any:
    return make_client(fake.token, fake.base_url, sleep=sleeps if sleeps is not None else Sleeps())


def headers_in(fake: FakeSlack, channel: str = CHANNEL) -> list:
    return [c for c in fake.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def runs(rt: Runtime) -> list[JobRun]:
    with rt.sessions() as s:
        return list(s.scalars(select(JobRun).where(JobRun.job == "monthly_summary").order_by(JobRun.id)))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC
    return struct.unpack(">II", data[16:24])


def admin_dms(fake: FakeSlack) -> list[str]:
    return [
        str(c.params.get("text")) for c in fake.calls_to("chat.postMessage") if str(c.params["channel"]).startswith("D")
    ]


def test_posts_once_with_four_charts_in_the_thread(rt: Runtime, slack: FakeSlack) -> None:
    runner = JobRunner(rt, client_for(slack))
    results = [r for r in runner.tick() if r.key.job == "monthly_summary"]
    assert [(r.key.period, r.key.channel, r.outcome, r.late) for r in results] == [("2026-11", CHANNEL, "done", False)]

    (header,) = headers_in(slack)
    ts = header.response["ts"]
    # The headline figures are in the message text (searchable) and equal the summary service's.
    force = rt.config.force("suffolk")
    with rt.sessions() as s:
        expected = build_summary(s, rt.config, force, "2026-11", DUE.date(), DUE)
    text = header.params["text"]
    assert "November 2026" in text and "Suffolk Constabulary" in text
    for h in expected.headlines:
        assert h.label in text and figure_text(h) in text
    assert any(b["type"] == "header" for b in header.params["blocks"])

    # files_upload_v2: getUploadURLExternal (with alt text) → the upload → completeUploadExternal in the thread.
    methods = [m for m in slack.methods() if m.startswith("files.")]
    assert methods == ["files.getUploadURLExternal"] * 4 + ["files.completeUploadExternal"]
    urls = slack.calls_to("files.getUploadURLExternal")
    assert all(len(str(c.params["alt_txt"])) > 40 for c in urls)
    (done,) = slack.calls_to("files.completeUploadExternal")
    assert done.params["channel_id"] == CHANNEL and done.params["thread_ts"] == ts
    assert [f["alt_txt"] for f in done.response["files"]] == [c.params["alt_txt"] for c in urls]
    assert len(slack.uploads) == 4
    assert all(png_size(b) == (1200, 700) for b in slack.uploads.values())
    # The alt text carries the numbers: the November wanted figure is in the first chart's description.
    assert f"{expected.headline('wanted').now:,}" in str(urls[0].params["alt_txt"])

    # Later ticks (this replica or another) post nothing more.
    clock_of(rt).advance(dt.timedelta(minutes=5))
    assert [r for r in JobRunner(rt, client_for(slack)).tick() if r.key.job == "monthly_summary"] == []
    runner.tick()
    assert len(headers_in(slack)) == 1 and len(slack.calls_to("files.completeUploadExternal")) == 1
    (row,) = runs(rt)
    assert (row.status, row.posted_ts, row.steps_done, row.attempts, row.late) == ("posted", ts, 2, 1, False)
    with rt.sessions() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.actor == "job:monthly_summary")).all()
    assert [(a.action, a.channel_id, a.force) for a in audit] == [("post", CHANNEL, "suffolk")]


class CrashingClient:
    """A client whose process 'dies' at one call: SystemExit is not an Exception, so the runner does not
    record anything — exactly what a killed replica leaves behind."""

    def __init__(self, inner: Any, crash_on: str) -> None:
        self.inner, self.crash_on = inner, crash_on

    def __getattr__(self, name: str) -> Any:
        if name == self.crash_on:

            def crash(**_kw: Any) -> Any:
                raise SystemExit(f"replica killed during {name}")

            return crash
        return getattr(self.inner, name)


def test_crash_between_claim_and_post_gives_one_post_after_the_lease(rt: Runtime, slack: FakeSlack) -> None:
    dying = JobRunner(rt, CrashingClient(client_for(slack), "chat_postMessage"))
    with pytest.raises(SystemExit):
        dying.tick()
    assert headers_in(slack) == []
    (row,) = runs(rt)
    assert (row.status, row.holder) == ("claimed", dying.claims.holder)

    survivor = JobRunner(rt, client_for(slack))
    clock_of(rt).advance(dt.timedelta(minutes=5))
    assert [r.outcome for r in survivor.tick() if r.key.job == "monthly_summary"] == []  # lease still live
    clock_of(rt).advance(dt.timedelta(minutes=6))
    results = [r for r in survivor.tick() if r.key.job == "monthly_summary"]
    assert [r.outcome for r in results] == ["done"]
    assert len(headers_in(slack)) == 1
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    (row,) = runs(rt)
    assert (row.status, row.holder, row.attempts) == ("posted", survivor.claims.holder, 2)


def test_crash_after_the_header_resumes_the_thread_without_reposting(rt: Runtime, slack: FakeSlack) -> None:
    dying = JobRunner(rt, CrashingClient(client_for(slack), "files_upload_v2"))
    with pytest.raises(SystemExit):
        dying.tick()
    (header,) = headers_in(slack)
    clock_of(rt).advance(dt.timedelta(minutes=11))
    JobRunner(rt, client_for(slack)).tick()
    assert len(headers_in(slack)) == 1  # the header was not posted again…
    (done,) = slack.calls_to("files.completeUploadExternal")
    assert done.params["thread_ts"] == header.response["ts"]  # …and the charts went into its thread
    (row,) = runs(rt)
    assert row.status == "posted" and row.steps_done == 2


def test_429_with_retry_after_then_success_posts_once(rt: Runtime, slack: FakeSlack) -> None:
    sleeps = Sleeps()
    slack.fail_next("chat.postMessage", status=429, retry_after=7)
    results = [r for r in JobRunner(rt, client_for(slack, sleeps)).tick() if r.key.job == "monthly_summary"]
    assert [r.outcome for r in results] == ["done"]
    assert len(sleeps) == 1 and 7 <= sleeps[0] < 8  # Retry-After honoured (plus a little jitter)
    attempts = [c for c in slack.calls if c.method == "chat.postMessage"]
    assert [c.status for c in attempts] == [429, 200]
    assert len(headers_in(slack)) == 1
    (row,) = runs(rt)
    assert (row.status, row.attempts) == ("posted", 1)


def test_rate_limited_beyond_the_client_retries_is_failed_then_retried_once(rt: Runtime, slack: FakeSlack) -> None:
    # The client retries a 429 three times; four in a row exhaust it (the admin DM afterwards goes through).
    slack.fail_next("chat.postMessage", status=429, retry_after=1, times=4)
    runner = JobRunner(rt, client_for(slack))
    (r,) = [r for r in runner.tick() if r.key.job == "monthly_summary"]
    assert r.outcome == "failed" and "ratelimited" in r.detail
    (row,) = runs(rt)
    assert row.status == "failed" and row.next_attempt_at == DUE + dt.timedelta(minutes=15)
    assert any("ratelimited" in t for t in admin_dms(slack))
    assert headers_in(slack) == []
    clock_of(rt).advance(dt.timedelta(minutes=15))
    (r2,) = [r for r in runner.tick() if r.key.job == "monthly_summary"]
    assert r2.outcome == "done"
    assert len(headers_in(slack)) == 1
    (row,) = runs(rt)
    assert (row.status, row.attempts) == ("posted", 2)


def test_not_in_channel_is_recorded_retried_and_admins_are_told(rt: Runtime, slack: FakeSlack) -> None:
    slack.add_channel(CHANNEL, member=False)
    runner = JobRunner(rt, client_for(slack))
    (r,) = [r for r in runner.tick() if r.key.job == "monthly_summary"]
    assert (r.outcome, r.detail) == ("failed", "not_in_channel")
    (row,) = runs(rt)
    assert (row.status, row.last_error, row.attempts) == ("failed", "not_in_channel", 1)
    (dm,) = admin_dms(slack)
    assert "not_in_channel" in dm and "/invite" in dm and "try again" in dm
    assert slack.calls_to("files.completeUploadExternal") == []

    # Not yet: the retry waits 15 minutes.
    clock_of(rt).advance(dt.timedelta(minutes=10))
    assert [r for r in runner.tick() if r.key.job == "monthly_summary"] == []
    # Someone invites the bot; the retry posts exactly once.
    slack.add_channel(CHANNEL, member=True)
    clock_of(rt).advance(dt.timedelta(minutes=5))
    (r2,) = [r for r in runner.tick() if r.key.job == "monthly_summary"]
    assert r2.outcome == "done"
    assert len(headers_in(slack)) == 1 and len(slack.calls_to("files.completeUploadExternal")) == 1
    (row,) = runs(rt)
    assert (row.status, row.attempts, row.last_error) == ("posted", 2, None)


def test_channel_not_found_gives_up_after_max_attempts_and_says_so(rt: Runtime, slack: FakeSlack) -> None:
    slack.channels.pop(CHANNEL)
    runner = JobRunner(rt, client_for(slack))
    outcomes = []
    for _ in range(4):
        outcomes += [r.outcome for r in runner.tick() if r.key.job == "monthly_summary"]
        clock_of(rt).advance(dt.timedelta(hours=2))
    assert outcomes == ["failed", "failed", "abandoned"]  # max_attempts = 3
    (row,) = runs(rt)
    assert (row.status, row.attempts, row.last_error) == ("abandoned", 3, "channel_not_found")
    dms = admin_dms(slack)
    assert len(dms) == 3 and all("channel_not_found" in d for d in dms) and "stopped retrying" in dms[-1]


def test_missed_run_is_caught_up_late_at_start_up(rt: Runtime, slack: FakeSlack) -> None:
    # Every replica was down on 1 Dec; one starts on the 3rd (within the 3-day grace).
    clock_of(rt).set(dt.datetime(2026, 12, 3, 14, 0, tzinfo=dt.UTC))
    (r,) = [r for r in JobRunner(rt, client_for(slack)).tick() if r.key.job == "monthly_summary"]
    assert (r.key.period, r.outcome, r.late) == ("2026-11", "done", True)
    (row,) = runs(rt)
    assert row.late is True and row.scheduled_at == DUE
    assert len(headers_in(slack)) == 1


def test_missed_run_beyond_the_grace_is_not_posted(rt: Runtime, slack: FakeSlack) -> None:
    clock_of(rt).set(dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC))
    assert [r for r in JobRunner(rt, client_for(slack)).tick() if r.key.job == "monthly_summary"] == []
    assert headers_in(slack) == [] and runs(rt) == []


def test_run_missed_beyond_the_grace_after_a_posted_one_is_recorded_admins_told_once_and_postable(
    rt: Runtime, slack: FakeSlack
) -> None:
    # The October summary went out on Mon 2 Nov; then every replica was down until Fri 4 Dec 09:30, past the
    # 3-day grace of the 1 Dec run.
    clock_of(rt).set(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC))
    (oct_run,) = [r for r in JobRunner(rt, client_for(slack)).tick() if r.key.job == "monthly_summary"]
    assert (oct_run.key.period, oct_run.outcome) == ("2026-10", "done")
    clock_of(rt).set(dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC))
    runner = JobRunner(rt, client_for(slack))
    (r,) = [r for r in runner.tick() if r.key.job == "monthly_summary"]
    assert (r.key.period, r.key.channel, r.outcome, r.late) == ("2026-11", CHANNEL, "missed", True)
    assert "Tue 01 Dec 2026 09:00" in r.detail and "3-day catch-up grace" in r.detail
    assert len(headers_in(slack)) == 1  # only October's: nothing posted for November
    october, november = runs(rt)
    assert (october.period, october.status) == ("2026-10", "posted")
    assert (november.period, november.status, november.attempts, november.scheduled_at) == (
        "2026-11",
        "missed",
        0,
        DUE,
    )
    (dm,) = admin_dms(slack)
    assert "*monthly_summary* was due for 2026-11" in dm and "mo-bot jobs run monthly_summary --period 2026-11" in dm

    # Later ticks, by this replica or another, neither record it again nor tell the admins again.
    clock_of(rt).advance(dt.timedelta(minutes=5))
    assert [r for r in JobRunner(rt, client_for(slack)).tick() if r.key.job == "monthly_summary"] == []
    assert len(admin_dms(slack)) == 1 and len(runs(rt)) == 2

    # What the admins were told to do posts it, once.
    (posted,) = JobRunner(rt, client_for(slack)).run_now("monthly_summary", "2026-11")
    assert (posted.outcome, posted.late) == ("done", True)
    assert len(headers_in(slack)) == 2 and "November 2026" in headers_in(slack)[-1].params["text"]
    (again,) = JobRunner(rt, client_for(slack)).run_now("monthly_summary", "2026-11")
    assert again.outcome == "skipped" and "already done" in again.detail
    assert [(x.period, x.status, x.attempts) for x in runs(rt)] == [("2026-10", "posted", 1), ("2026-11", "posted", 1)]


def test_daily_runs_superseded_by_a_caught_up_one_are_not_reported_missed(rt: Runtime, slack: FakeSlack) -> None:
    # Down a week with the digest enabled: today's digest is caught up and the older ones are stale news, not
    # misses; nobody is told about them.
    cfg = job_config(
        rt.config.database_url, bail_digest={"enabled": True, "posts": [{"force": "suffolk", "channel": CHANNEL}]}
    )
    daily = Runtime(config=cfg, engine=rt.engine, sessions=rt.sessions, clock=rt.clock)
    clock_of(rt).set(dt.datetime(2026, 11, 20, 8, 30, tzinfo=dt.UTC))
    assert [r.outcome for r in JobRunner(daily, client_for(slack)).tick() if r.key.job == "bail_digest"] == ["done"]
    clock_of(rt).set(dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC))
    results = [r for r in JobRunner(daily, client_for(slack)).tick() if r.key.job == "bail_digest"]
    assert [(r.key.period, r.outcome) for r in results] == [("2026-11-27", "done")]
    assert admin_dms(slack) == []


def test_month_with_no_data_says_so_and_uploads_no_charts(rt: Runtime, slack: FakeSlack) -> None:
    # The demo's history starts in late 2024: January 2023 has nothing open or recorded.
    (r,) = JobRunner(rt, client_for(slack)).run_now("monthly_summary", "2023-01")
    assert (r.outcome, r.detail) == ("done", "no data for 2023-01")
    (header,) = headers_in(slack)
    assert "no data for January 2023" in header.params["text"]
    assert not any(m.startswith("files.") for m in slack.methods())
    # Run again: same claim, nothing posted twice.
    (again,) = JobRunner(rt, client_for(slack)).run_now("monthly_summary", "2023-01")
    assert again.outcome == "skipped" and "already done" in again.detail
    assert len(headers_in(slack)) == 1


def test_a_month_not_over_is_never_posted_and_claims_nothing(rt: Runtime, slack: FakeSlack) -> None:
    """An admin's `--post` or `mo-bot jobs run` for the current month: its "in the month" counts would be part of a
    month, posted once and for good under the month's name."""
    today = clock_of(rt).now().date()
    current = today.strftime("%Y-%m")
    with pytest.raises(ValueError, match=f"{today:%B %Y} is not over yet"):
        JobRunner(rt, client_for(slack)).run_now("monthly_summary", current)
    assert headers_in(slack) == [] and [r for r in runs(rt) if r.period == current] == []


@pytest.mark.postgres_only
@pytest.mark.skipif(not IS_PG, reason="two scheduler replicas sharing one database needs PostgreSQL")
def test_two_scheduler_replicas_on_one_postgresql_database_post_once(
    db_url: str, rt: Runtime, slack: FakeSlack
) -> None:
    second = "C0SECOND1"
    slack.add_channel(second)
    cfg = job_config(db_url, monthly_summary={"posts": [{"force": "suffolk", "channel": c} for c in (CHANNEL, second)]})
    engines = [make_engine(db_url), make_engine(db_url)]
    runners = [JobRunner(Runtime.create(cfg, clock=rt.clock, engine=e), client_for(slack)) for e in engines]
    barrier = threading.Barrier(2)
    outcomes: list[list[str]] = [[], []]
    errors: list[BaseException] = []

    def replica(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(3):  # the cron trigger and the sweep may both fire
                outcomes[i] += [r.outcome for r in runners[i].tick() if r.key.job == "monthly_summary"]
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=replica, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for e in engines:
        e.dispose()
    assert not errors, errors
    assert sorted(o for out in outcomes for o in out if o == "done") == ["done", "done"]  # one per channel
    for ch in (CHANNEL, second):
        assert len(headers_in(slack, ch)) == 1
    assert sorted(c.params["channel_id"] for c in slack.calls_to("files.completeUploadExternal")) == sorted(
        [CHANNEL, second]
    )
    assert {r.status for r in runs(rt)} == {"posted"} and len(runs(rt)) == 2
