"""`/mo summary` end to end through the Bolt app and the fake Slack: a DM preview with the charts, and
`--post` (admins only) to the summary channel through the same exactly-once claims as the scheduler."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from slack_bolt import App
from sqlalchemy import select

from bot.config import JobTarget
from bot.demo.load import load_demo
from bot.models import AuditEvent, JobRun
from bot.runtime import Runtime
from bot.summary.monthly import build_summary
from commands.web import WebApp, database_check
from tests.support import fakeslack
from tests.support.bolt import app_for
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import LocalServer, blocks_text, post_signed, slash_command

fake_slack = fakeslack.fake_slack

CHANNEL = "C0MOBOT01"
SUMMARY_CHANNEL = "C0SUMMARY"
VIEWER = "U0VIEWER1"
ADMIN = "U0CHAIR01"


@dataclass
class Bot:
    rt: Runtime
    app: App
    fake: FakeSlack
    url: str

    def command(self, text: str, *, user: str = VIEWER) -> tuple[object, str]:
        response_url = self.fake.new_response_url()
        form = slash_command(
            text, user_id=user, team_id=self.fake.team_id, channel_id=CHANNEL, response_url=response_url
        )
        return post_signed(self.url, form), response_url

    def answer(self, response_url: str) -> dict:
        assert self.fake.wait_for(lambda f: len(f.posts_to(response_url)) >= 1, timeout=30)
        (post,) = self.fake.posts_to(response_url)
        return post.payload

    def audit(self) -> list[AuditEvent]:
        with self.rt.sessions() as s:
            return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "command").order_by(AuditEvent.id)))


def _runtime(runtime: Runtime, team_id: str) -> Runtime:
    cfg = runtime.config
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(team_id,))
    slack = replace(
        cfg.slack, channels=(CHANNEL,), roles={"admin": (ADMIN,)}, summary_channels={"suffolk": (SUMMARY_CHANNEL,)}
    )
    specs = dict(cfg.jobs.specs)
    specs["monthly_summary"] = replace(specs["monthly_summary"], targets=(JobTarget("suffolk", SUMMARY_CHANNEL),))
    cfg = replace(cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=slack, jobs=replace(cfg.jobs, specs=specs))
    return Runtime(config=cfg, engine=runtime.engine, sessions=runtime.sessions, clock=runtime.clock)


@pytest.fixture
def bot(runtime: Runtime, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    rt = _runtime(runtime, fake_slack.team_id)
    load_demo(rt, rows=400, workdir=tmp_path)
    fake_slack.add_channel(CHANNEL)
    fake_slack.add_channel(SUMMARY_CHANNEL)
    for u in (VIEWER, ADMIN):
        fake_slack.users[u] = {"id": u}
    app = app_for(rt, fake_slack)
    with LocalServer(WebApp(app, [database_check(rt.engine)], mode="http")) as srv:
        yield Bot(rt, app, fake_slack, srv.url + "/slack/events")


def test_summary_preview_is_sent_by_dm_with_charts(bot: Bot) -> None:
    r, response_url = bot.command("summary --month 2026-10")
    assert r.status == 200 and r.body == b""  # acked at once, showing nothing; charts are drawn afterwards
    answer = bot.answer(response_url)
    assert "sent you a preview of the October 2026 summary by DM with 4 charts" in blocks_text(answer["blocks"])
    dm = "D" + VIEWER[1:]
    (header,) = [c for c in bot.fake.calls_to("chat.postMessage") if c.params["channel"] == dm]
    force = bot.rt.config.force("suffolk")
    with bot.rt.sessions() as s:
        expected = build_summary(s, bot.rt.config, force, "2026-10", bot.rt.clock.now().date(), bot.rt.clock.now())
    assert "Preview: Monthly summary — October 2026" in header.params["text"]
    assert f"{expected.headline('wanted').now:,}" in header.params["text"]
    (done,) = bot.fake.calls_to("files.completeUploadExternal")
    assert done.params["channel_id"] == dm and done.params["thread_ts"] == header.response["ts"]
    assert all(c.params.get("alt_txt") for c in bot.fake.calls_to("files.getUploadURLExternal"))
    # Nothing went to the summary channel, and no job claim was made by a preview.
    assert not [c for c in bot.fake.calls_to("chat.postMessage") if c.params["channel"] == SUMMARY_CHANNEL]
    with bot.rt.sessions() as s:
        assert s.scalars(select(JobRun)).all() == []
    assert [(e.actor, e.outcome, e.detail) for e in bot.audit()][-1] == (VIEWER, "ok", "summary --month 2026-10")


def test_post_is_for_admins_only(bot: Bot) -> None:
    r, response_url = bot.command("summary --post")
    assert r.status == 200
    body = r.json() if r.body else {}  # a refusal may be answered inside the ack or through response_url
    text = blocks_text(body["blocks"]) if body.get("blocks") else blocks_text(bot.answer(response_url)["blocks"])
    assert "`--post` is for admins" in text
    assert not [c for c in bot.fake.calls_to("chat.postMessage") if c.params["channel"] == SUMMARY_CHANNEL]
    assert bot.audit()[-1].outcome == "refused"


def test_admin_post_goes_to_the_channel_once(bot: Bot) -> None:
    _, url1 = bot.command("summary --post --month 2026-10", user=ADMIN)
    assert "Posted the 2026-10 summary to <#C0SUMMARY>" in blocks_text(bot.answer(url1)["blocks"])
    _, url2 = bot.command("summary --post --month 2026-10", user=ADMIN)
    assert "Not posted again to <#C0SUMMARY>: already done" in blocks_text(bot.answer(url2)["blocks"])
    posts = [c for c in bot.fake.calls_to("chat.postMessage") if c.params["channel"] == SUMMARY_CHANNEL]
    assert len(posts) == 1 and "Monthly summary — October 2026" in posts[0].params["text"]
    assert len(bot.fake.calls_to("files.completeUploadExternal")) == 1
    with bot.rt.sessions() as s:
        (row,) = s.scalars(select(JobRun)).all()
    assert (row.job, row.period, row.channel, row.status) == ("monthly_summary", "2026-10", SUMMARY_CHANNEL, "posted")


def test_a_future_month_is_refused_kindly(bot: Bot) -> None:
    _, url = bot.command("summary --month 2027-01")
    assert "`--month 2027-01`: January 2027 has not started yet" in blocks_text(bot.answer(url)["blocks"])
    assert bot.fake.calls_to("files.completeUploadExternal") == []
