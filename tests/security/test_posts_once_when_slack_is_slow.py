"""A scheduled post is never made twice when Slack is slow.

The attack (a fault, here): Slack takes longer to answer ``chat.postMessage`` than the client waits. Slack has
already posted the message; the client, seeing only a timeout, used to send it again — two summaries in the
channel, one recorded. The promise: a call that is not safe to repeat is never re-sent once it may have reached
Slack; the run is recorded as ``uncertain``, the possible post is audited, the admins are asked to look, and the
scheduler never posts it again on its own — only an admin's explicit `mo-bot jobs run` does, resuming after the
steps that surely happened. Calls that are safe to repeat (reads), refused connections, 429s and 5xx answers are
still retried.

The fake Slack (``delay_next``) does the call's work first and answers late, as Slack does.
"""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path
from typing import Any
from urllib.error import URLError

import pytest
from sqlalchemy import Engine, select

from bot.clock import FixedClock
from bot.config import DEFAULTS, Config, _merge, build_config
from bot.demo.load import load_demo
from bot.models import AuditEvent, JobRun
from bot.runtime import Runtime
from bot.slack.client import SlackOutcomeUnknown, make_client
from jobs.runner import JobRunner
from tests.support.fakeslack import FakeSlack, fake_slack  # noqa: F401 - the fixture

CHANNEL = "C0SUMMARY"
ADMIN = "UADMIN001"
# Tue 1 Dec 2026, 09:00 London: the November summary is due.
DUE = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
TIMEOUT_S = 1  # the client's timeout in these tests; Slack answers SLOW_S late
SLOW_S = 1.6


class Sleeps(list[float]):
    """The client's retry waits, recorded instead of slept."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def config(db_url: str) -> Config:
    raw = _merge(
        DEFAULTS,
        {
            "slack": {"roles": {"admin": [ADMIN]}, "summary_channels": {"suffolk": [CHANNEL]}},
            "jobs": {
                "lease_seconds": 600,
                "retry_minutes": 15,
                "max_attempts": 3,
                **{j: {"enabled": False} for j in ("bail_digest", "reminders", "freshness_check", "retention")},
            },
        },
    )
    return build_config(raw, "test", database_url=db_url)


@pytest.fixture
def rt(db_url: str, engine: Engine, tmp_path: Path) -> Runtime:
    clock = FixedClock(DUE - dt.timedelta(hours=1))
    runtime = Runtime.create(config(db_url), clock=clock, engine=engine)
    load_demo(runtime, rows=300, workdir=tmp_path / "demo")
    clock.set(DUE)
    return runtime


@pytest.fixture
def slack(fake_slack: FakeSlack) -> FakeSlack:  # noqa: F811
    fake_slack.add_channel(CHANNEL, name="mo-subgroup")
    fake_slack.users[ADMIN] = {"id": ADMIN, "name": "chair"}
    return fake_slack


def client_for(fake: FakeSlack, sleeps: Sleeps | None = None, base_url: str | None = None) -> Any:
    return make_client(
        fake.token, base_url or fake.base_url, timeout=TIMEOUT_S, sleep=sleeps if sleeps is not None else Sleeps()
    )


def channel_messages(fake: FakeSlack, channel: str = CHANNEL) -> list[dict[str, Any]]:
    """What people in the channel see: every top-level message the fake holds there."""
    return [m for (ch, _ts), m in fake.messages.items() if ch == channel and "thread_ts" not in m]


def admin_dms(fake: FakeSlack) -> list[str]:
    return [str(m["text"]) for (ch, _ts), m in fake.messages.items() if ch.startswith("D")]


def summary_runs(rt: Runtime) -> list[JobRun]:
    with rt.sessions() as s:
        return list(s.scalars(select(JobRun).where(JobRun.job == "monthly_summary")))


def summary_results(runner: JobRunner) -> list[Any]:
    return [r for r in runner.tick() if r.key.job == "monthly_summary"]


def clock_of(rt: Runtime) -> FixedClock:
    assert isinstance(rt.clock, FixedClock)
    return rt.clock


# --------------------------------------------------------------------------------------------------- the client


def test_a_post_answered_after_the_timeout_is_not_sent_again(slack: FakeSlack) -> None:
    sleeps = Sleeps()
    slack.delay_next("chat.postMessage", seconds=SLOW_S)
    with pytest.raises(SlackOutcomeUnknown) as raised:
        client_for(slack, sleeps).chat_postMessage(channel=CHANNEL, text="monthly figures")
    assert raised.value.method == "chat.postMessage"
    assert isinstance(raised.value.cause, TimeoutError)
    # Slack posted it once, and was asked once.
    assert [m["text"] for m in channel_messages(slack)] == ["monthly figures"]
    assert len(slack.calls_to("chat.postMessage", include_failed=True)) == 1
    assert sleeps == []


def test_a_read_answered_after_the_timeout_is_asked_again(slack: FakeSlack) -> None:
    sleeps = Sleeps()
    # A read the bot's scopes allow (users:read; the fake refuses a method whose scope manifest.yml lacks).
    slack.users["U0READER1"] = {"name": "reader"}
    slack.delay_next("users.info", seconds=SLOW_S)
    info = client_for(slack, sleeps).users_info(user="U0READER1")
    assert info["user"]["id"] == "U0READER1"
    assert len(slack.calls_to("users.info")) == 2 and len(sleeps) == 1


def test_a_refused_connection_is_still_retried(slack: FakeSlack) -> None:
    # Nothing listens on this port: Slack cannot have acted, so trying again is safe (and then gives up).
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    sleeps = Sleeps()
    with pytest.raises(URLError):
        client_for(slack, sleeps, base_url=dead).chat_postMessage(channel=CHANNEL, text="x")
    assert len(sleeps) == 2


def test_a_server_error_answer_is_still_retried(slack: FakeSlack) -> None:
    sleeps = Sleeps()
    slack.fail_next("chat.postMessage", status=503)
    client_for(slack, sleeps).chat_postMessage(channel=CHANNEL, text="after a 503")
    assert [m["text"] for m in channel_messages(slack)] == ["after a 503"] and len(sleeps) == 1


# --------------------------------------------------------------------------------------------------- the job


def test_a_slow_summary_post_appears_once_and_waits_for_an_admin(rt: Runtime, slack: FakeSlack) -> None:
    slack.delay_next("chat.postMessage", seconds=SLOW_S)
    runner = JobRunner(rt, client_for(slack))
    (r,) = summary_results(runner)
    assert r.outcome == "uncertain" and "chat.postMessage" in r.detail
    assert len(channel_messages(slack)) == 1  # the header Slack did post…
    assert slack.calls_to("files.completeUploadExternal") == []  # …and nothing after it
    (row,) = summary_runs(rt)
    assert (row.status, row.steps_done, row.posted_ts) == ("uncertain", 0, None)

    # The admins are asked to look, told why it is not posted again and what to run if it is missing.
    (dm,) = admin_dms(slack)
    assert "may or may not have been posted" in dm and f"<#{CHANNEL}>" in dm
    assert "mo-bot jobs run monthly_summary --period 2026-11" in dm
    # The possible post is in the audit log.
    with rt.sessions() as s:
        (ev,) = s.scalars(select(AuditEvent).where(AuditEvent.actor == "job:monthly_summary")).all()
    assert (ev.action, ev.outcome, ev.channel_id, ev.force) == ("post", "error", CHANNEL, "suffolk")
    assert "may have been posted" in ev.detail

    # Later ticks — the sweep, the next days' triggers, another replica — never post it again or nag again.
    for later in (dt.timedelta(minutes=20), dt.timedelta(hours=2), dt.timedelta(days=1), dt.timedelta(days=2)):
        clock_of(rt).set(DUE + later)
        assert summary_results(JobRunner(rt, client_for(slack))) == []
    assert len(channel_messages(slack)) == 1 and len(admin_dms(slack)) == 1
    (row,) = summary_runs(rt)
    assert row.status == "uncertain"

    # An admin who finds it missing runs it explicitly: that posts (the admin, not the bot, decided).
    (again,) = runner.run_now("monthly_summary", "2026-11")
    assert again.outcome == "done"
    assert len(channel_messages(slack)) == 2
    (row,) = summary_runs(rt)
    assert (row.status, row.steps_done) == ("posted", 2)


def test_slow_charts_after_the_header_are_uncertain_and_resume_in_its_thread(rt: Runtime, slack: FakeSlack) -> None:
    slack.delay_next("files.completeUploadExternal", seconds=SLOW_S)
    runner = JobRunner(rt, client_for(slack))
    (r,) = summary_results(runner)
    assert r.outcome == "uncertain"
    (header,) = channel_messages(slack)
    assert len(slack.calls_to("files.completeUploadExternal", include_failed=True)) == 1
    (row,) = summary_runs(rt)
    assert (row.status, row.steps_done, row.posted_ts) == ("uncertain", 1, header["ts"])
    (dm,) = admin_dms(slack)
    assert "its charts may or may not have been posted" in dm

    clock_of(rt).set(DUE + dt.timedelta(days=1))
    assert summary_results(runner) == []
    # The explicit run does not post the header again: it uploads the charts into its thread.
    (again,) = runner.run_now("monthly_summary", "2026-11")
    assert again.outcome == "done"
    assert len(channel_messages(slack)) == 1
    done = slack.calls_to("files.completeUploadExternal")
    assert len(done) == 2 and done[-1].params["thread_ts"] == header["ts"]
