"""`/mo` end to end, as Slack drives it: signed form posts over real HTTP into the WSGI app, the bot's Web API
calls and response_url posts landing on the fake Slack. Runs on SQLite and PostgreSQL (MO_TEST_DATABASE_URL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from slack_bolt import App
from sqlalchemy import select

from bot.access import Requester, identify
from bot.clock import today_in
from bot.demo.load import load_demo
from bot.figures import Filters, wanted_figures
from bot.figures.trend import trend
from bot.models import AuditEvent, SlackDelivery
from bot.runtime import Runtime
from bot.slack.user_groups import shared_user_groups
from commands.listeners.slash_mo import is_deferred
from commands.mo.catalog import default_registry
from commands.mo.pipeline import answer, plan
from commands.web import WebApp, database_check
from tests.support import fakeslack
from tests.support.bolt import app_for
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import LocalServer, blocks_text, post_signed, slash_command

fake_slack = fakeslack.fake_slack

CHANNEL = "C0MOBOT01"
VIEWER = "U0VIEWER1"
ANALYST = "U0ANALYST"
GROUP_MEMBER = "U0GROUPIE"
ANALYST_GROUP = "S0ANALYSTS"


@dataclass
class Bot:
    rt: Runtime
    app: App
    fake: FakeSlack
    url: str  # .../slack/events

    def command(self, text: str, *, user: str = VIEWER, channel: str = CHANNEL, **kw: object):  # type: ignore[no-untyped-def]
        response_url = self.fake.new_response_url()
        form = slash_command(
            text, user_id=user, team_id=self.fake.team_id, channel_id=channel, response_url=response_url
        )
        return post_signed(self.url, form, **kw), response_url  # type: ignore[arg-type]

    def audit(self) -> list[AuditEvent]:
        with self.rt.sessions() as s:
            return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def slack_runtime(runtime: Runtime, team_id: str) -> Runtime:
    """The test runtime with the fake workspace mapped to Suffolk, one allowed channel, an analyst by user ID and
    one by user group."""
    cfg = runtime.config
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(team_id,))
    slack = replace(cfg.slack, channels=(CHANNEL,), roles={"analyst": (ANALYST, ANALYST_GROUP)})
    cfg = replace(cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=slack)
    return Runtime(config=cfg, engine=runtime.engine, sessions=runtime.sessions, clock=runtime.clock)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture
def bot(runtime: Runtime, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    rt = slack_runtime(runtime, fake_slack.team_id)
    load_demo(rt, rows=800, workdir=tmp_path)
    fake_slack.usergroups[ANALYST_GROUP] = [GROUP_MEMBER]
    app = app_for(rt, fake_slack)
    # The app reads the user groups on a thread of its own as it starts; the tests begin once it has, with the
    # fake's record of calls empty.
    assert shared_user_groups(rt, rt.config).wait_confirmed(5)
    assert [c.params["usergroup"] for c in fake_slack.calls_to("usergroups.users.list")] == [ANALYST_GROUP]
    fake_slack.reset()
    with LocalServer(WebApp(app, [database_check(rt.engine)], mode="http")) as srv:
        yield Bot(rt, app, fake_slack, srv.url + "/slack/events")


def test_wanted_by_district_is_answered_in_the_ack_with_the_services_figures(bot: Bot) -> None:
    r, response_url = bot.command("wanted --district ipswich")
    assert r.status == 200
    body = r.json()
    assert body["response_type"] == "ephemeral"
    force = bot.rt.config.force("suffolk")
    with bot.rt.sessions() as s:
        fig = wanted_figures(
            s,
            force,
            today_in(bot.rt.clock, force.timezone),
            Filters(district="ipswich"),
            review_days=bot.rt.config.wanted_review_days,
        )
    assert fig.open > 0  # the demo has Ipswich circulations, so the check below is not vacuous
    shown = blocks_text(body["blocks"])
    assert f"*{fig.open:,}* open wanted circulations" in shown
    assert f"{fig.open_a_month_ago:,}" in shown and f"*{fig.review_overdue:,}*" in shown
    assert "Ipswich" in shown and f"*{fig.open:,}*" in body["text"]
    # One audited consultation; nothing else went to Slack (the answer travelled in the HTTP response).
    events = bot.audit()
    assert [(e.actor, e.outcome, e.detail, e.channel_id) for e in events][-1] == (
        VIEWER,
        "ok",
        "wanted --district ipswich",
        CHANNEL,
    )
    assert bot.fake.posts_to(response_url) == []
    assert "auth.test" not in bot.fake.methods()  # authorize() gives the token; Bolt never calls auth.test


def test_bad_signature_is_401_without_side_effects(bot: Bot) -> None:
    before = len(bot.audit())
    r, _ = bot.command("wanted --district ipswich", bad_signature=True)
    assert r.status == 401
    assert len(bot.audit()) == before
    assert bot.fake.calls == [] and bot.fake.response_posts == []


def test_signature_with_another_secret_is_401(bot: Bot) -> None:
    before = len(bot.audit())
    r, _ = bot.command("wanted", secret="0" * 32)
    assert r.status == 401
    assert len(bot.audit()) == before and bot.fake.calls == []


def test_timestamp_older_than_five_minutes_is_401_without_side_effects(bot: Bot) -> None:
    before = len(bot.audit())
    r, response_url = bot.command("wanted --district ipswich", timestamp=int(time.time()) - 6 * 60)
    assert r.status == 401
    assert len(bot.audit()) == before
    assert bot.fake.calls == [] and bot.fake.posts_to(response_url) == []
    # …while a fresh timestamp on the same request is fine (the signature covers the timestamp).
    ok, _ = bot.command("wanted --district ipswich", timestamp=int(time.time()) - 30)
    assert ok.status == 200 and len(bot.audit()) == before + 1


def test_slash_command_copy_with_retry_header_does_no_work(bot: Bot) -> None:
    first, _ = bot.command("wanted --district ipswich")
    assert first.status == 200 and first.json()["blocks"]
    n, calls = len(bot.audit()), len(bot.fake.calls)
    again, response_url = bot.command("wanted --district ipswich", retry_num=1)
    assert again.status == 200 and again.body == b""
    assert len(bot.audit()) == n
    assert bot.fake.posts_to(response_url) == [] and len(bot.fake.calls) == calls


def test_retried_event_delivery_is_acknowledged_without_running_again(bot: Bot) -> None:
    seen: list[str] = []
    # An event no listener module subscribes to, so the test's listener is the only one that runs.
    bot.app.event("member_joined_channel")(lambda event: seen.append(event["user"]))
    event = {
        "token": "x",
        "team_id": bot.fake.team_id,
        "api_app_id": "A0MOBOT01",
        "type": "event_callback",
        "event_id": "Ev0TEST0001",
        "event_time": int(time.time()),
        "event": {"type": "member_joined_channel", "user": VIEWER, "channel": CHANNEL, "channel_type": "C"},
    }
    assert post_signed(bot.url, json_body=event).status == 200
    for attempt in (1, 2, 3):
        assert post_signed(bot.url, json_body=event, retry_num=attempt).status == 200
    assert seen == [VIEWER]
    # A different event is new work.
    assert post_signed(bot.url, json_body={**event, "event_id": "Ev0TEST0002"}, retry_num=1).status == 200
    assert seen == [VIEWER, VIEWER]
    with bot.rt.sessions() as s:
        keys = set(s.scalars(select(SlackDelivery.key)))
    assert keys == {"event:Ev0TEST0001", "event:Ev0TEST0002"}


def test_deferred_list_acks_at_once_then_posts_once_to_response_url(bot: Bot) -> None:
    before = len(bot.audit())
    r, response_url = bot.command("wanted --list --district ipswich", user=ANALYST)
    assert r.status == 200
    assert r.body == b""  # nothing shown yet: the answer through response_url is the one message
    assert bot.fake.wait_for(lambda f: len(f.posts_to(response_url)) >= 1, timeout=10)
    # The lazy listener audits before it responds, so once the post is seen the work is complete.
    posts = bot.fake.posts_to(response_url)
    assert len(posts) == 1
    payload = posts[0].payload
    assert payload["response_type"] == "ephemeral" and "replace_original" not in payload
    assert payload["blocks"] and payload["text"]
    # Each circulation says why the person is wanted and where its review stands.
    texts = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section" and "text" in b]
    rows = [ln for t in texts for ln in t.splitlines() if " · circulated " in ln]
    assert rows and all(("last reviewed " in ln or "never reviewed" in ln) for ln in rows), rows
    reasons = ("never arrested", "failed to answer bail", "breach of bail", "RUI")
    assert all(any(r in ln for r in reasons) for ln in rows), rows
    # Two audit rows: the request accepted (before the ack), then the answer with the records it showed.
    events = bot.audit()[before:]
    assert [(e.action, e.outcome, e.detail) for e in events] == [
        ("accept", "ok", "wanted --list --district ipswich"),
        ("command", "ok", "wanted --list --district ipswich"),
    ]
    assert events[0].records_disclosed == 0 and events[1].records_disclosed > 0
    # A list goes only to the asker, never through the Web API (only the role lookup was called).
    assert set(bot.fake.methods()) <= {"usergroups.users.list"}


def test_role_from_user_group_is_read_from_slack(bot: Bot) -> None:
    r, response_url = bot.command("suspects --list", user=GROUP_MEMBER)
    assert r.body == b""
    assert bot.fake.wait_for(lambda f: len(f.posts_to(response_url)) == 1, timeout=10)
    assert bot.audit()[-1].outcome == "ok" and bot.audit()[-1].records_disclosed > 0
    # The group was read once as the app started (the fixture checks), not for this request.
    assert bot.fake.calls_to("usergroups.users.list") == []
    # A viewer asking for a list is refused (the refusal is also deferred, through the same path).
    r, response_url = bot.command("suspects --list", user=VIEWER)
    assert bot.fake.wait_for(lambda f: len(f.posts_to(response_url)) == 1, timeout=10)
    assert bot.audit()[-1].outcome == "refused" and bot.audit()[-1].records_disclosed == 0
    assert bot.fake.calls_to("usergroups.users.list") == []  # cached, not fetched per request


def test_share_is_posted_in_channel(bot: Bot) -> None:
    r, _ = bot.command("bail --share")
    body = r.json()
    assert r.status == 200 and body["response_type"] == "in_channel" and body["blocks"]
    assert bot.audit()[-1].outcome == "ok"


def test_a_shared_trend_is_posted_in_channel_in_the_ack_and_audited(bot: Bot) -> None:
    r, response_url = bot.command("rui --trend --district east --share")
    body = r.json()
    assert r.status == 200 and body["response_type"] == "in_channel"
    force = bot.rt.config.force("suffolk")
    with bot.rt.sessions() as s:
        t = trend(s, "rui", force, today_in(bot.rt.clock, force.timezone), Filters(district="lowestoft"))
    assert t.covered and t.months[-1].open_at_end  # the demo has RUI in Lowestoft, so the check is not vacuous
    shown = blocks_text(body["blocks"])
    assert f"*{t.months[-1].open_at_end:,}* active RUI on " in shown and "```" in shown
    assert body["blocks"][0]["text"]["text"] == "Released under investigation, month by month — Lowestoft"
    assert bot.audit()[-1].detail == "rui --trend --district east --share" and bot.audit()[-1].outcome == "ok"
    assert bot.fake.posts_to(response_url) == []  # answered in the ack: a handful of month counts


def test_errors_and_refusals_stay_ephemeral_and_are_audited(bot: Bot) -> None:
    before = len(bot.audit())
    bad, _ = bot.command("wantd --district ipswich")
    elsewhere, _ = bot.command("wanted", channel="C0ELSEWHERE")
    assert bad.status == elsewhere.status == 200
    assert bad.json()["response_type"] == elsewhere.json()["response_type"] == "ephemeral"
    assert "wanted" in bad.json()["text"]  # "did you mean" names the real sub-command
    assert [e.outcome for e in bot.audit()[before:]] == ["invalid", "refused"]


def test_direct_message_is_answered(bot: Bot) -> None:
    r, _ = bot.command("status", channel="D0VIEWER1")
    assert r.status == 200 and r.json()["blocks"]
    assert bot.audit()[-1].outcome == "ok" and bot.audit()[-1].channel_id == "D0VIEWER1"


def test_ack_is_fast_when_the_answer_is_deferred(bot: Bot) -> None:
    r, response_url = bot.command("bail --list", user=ANALYST)
    assert r.status == 200 and r.body == b""
    assert r.seconds < 1.0  # far inside Slack's 3 s, whatever the lazy part costs
    assert bot.fake.wait_for(lambda f: len(f.posts_to(response_url)) == 1, timeout=10)


def test_same_numbers_for_cli_and_slack(bot: Bot) -> None:
    text = "suspects --district lowestoft --older-than 90d"
    r, _ = bot.command(text)
    cli = answer(bot.rt, identify(bot.rt.config, Requester(user_id="cli:test", team_id=None, channel_id=None)), text)
    assert cli.outcome == "ok"
    assert blocks_text(r.json()["blocks"]) == blocks_text(cli.blocks)
    with bot.rt.sessions() as s:
        asked = s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "command").order_by(AuditEvent.id))
        assert list(asked) == [VIEWER, "cli:test"]


def test_fast_deferral_check_agrees_with_the_parser() -> None:
    texts = ["", "help", "wanted", "wanted --district ipswich", "wanted — list", "WANTED --LIST", "bail --list --share"]
    for spec in default_registry():
        texts += [spec.name, f"{spec.name} --help", *(f"{spec.name} {f} x" for f in spec.deferred_flags)]
        texts += [f"{a} {f}" for a in spec.aliases for f in spec.deferred_flags]
    assert any(plan(t).deferred for t in texts) and not all(plan(t).deferred for t in texts)
    for t in texts:
        assert is_deferred(t) == plan(t).deferred, t
