"""What a real workspace sends and does that the fake used to let pass: each test drives the bot with signed HTTP
requests shaped as Slack's own samples (tests/support/payloads.py) against the fake Slack, which now behaves as
Slack does where it matters here (trigger_ids expire after 3 s, a slash command's response_url cannot replace
the ack's message, an ephemeral click comes without its message). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy import select

from bot.action_log import service
from bot.action_log.types import Actor, NewAction
from bot.demo.load import load_demo
from bot.models import Action, AuditEvent
from bot.runtime import Runtime
from commands.web import WebApp, database_check
from tests.support import fakeslack, payloads
from tests.support.bolt import app_for
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import LocalServer, Reply, blocks_text, post_signed

fake_slack = fakeslack.fake_slack

CHANNEL = "C0MOBOT01"
OWNER = "U0OWNER01"
ANALYST = "U0ANALYST"
CHAIR = "U0CHAIR03"
GROUP = "S0CHAIRS"
GROUPIE = "U0GROUPIE"


@dataclass
class Bot:
    rt: Runtime
    fake: FakeSlack
    url: str

    def command(self, text: str, *, user: str = OWNER, channel: str = CHANNEL, **kw: Any) -> tuple[Reply, str]:
        form, response_url = payloads.slash_command(self.fake, text, user=user, channel=channel)
        return payloads.send_command(self.url, self.fake, form, **kw), response_url

    def interact(self, body: dict[str, Any], **kw: Any) -> Reply:
        return payloads.send_interaction(self.url, body, **kw)

    def event(self, envelope: dict[str, Any], **kw: Any) -> Reply:
        return post_signed(self.url, json_body=envelope, **kw)

    def audit(self) -> list[AuditEvent]:
        with self.rt.sessions() as s:
            return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))

    def version(self, ref: str) -> int:
        with self.rt.sessions() as s:
            return s.scalars(select(Action.version).where(Action.reference == ref)).one()


def slack_runtime(runtime: Runtime, fake: FakeSlack, roles: dict[str, tuple[str, ...]]) -> Runtime:
    cfg = runtime.config
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(fake.team_id,))
    slack = replace(cfg.slack, channels=(CHANNEL,), roles=roles)
    cfg = replace(cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=slack)
    for u in (OWNER, ANALYST, CHAIR, GROUPIE):
        fake.users[u] = {"name": u.lower()}
    return Runtime(config=cfg, engine=runtime.engine, sessions=runtime.sessions, clock=runtime.clock)


@contextlib.contextmanager
def serving(rt: Runtime, fake: FakeSlack) -> Iterator[Bot]:
    app = app_for(rt, fake)
    with LocalServer(WebApp(app, [database_check(rt.engine)], mode="http")) as srv:
        yield Bot(rt, fake, srv.url + "/slack/events")


@pytest.fixture
def bot(runtime: Runtime, fake_slack: FakeSlack) -> Iterator[Bot]:
    rt = slack_runtime(runtime, fake_slack, {"admin": (CHAIR,), "analyst": (ANALYST,)})
    with serving(rt, fake_slack) as b:
        yield b


def create_action(bot: Bot, title: str, owner: str = OWNER) -> str:
    with bot.rt.sessions() as s:
        new = NewAction(title, "divert", owner, owner_teams=(bot.fake.team_id,))
        res = service.create_action(s, bot.rt.config.force("suffolk"), Actor(CHAIR, "admin"), new, bot.rt.clock)
        s.commit()
    assert res.ok, res.refusal
    return res.action.reference


def item_menu(blocks: list[dict[str, Any]], ref: str) -> dict[str, Any]:
    [block] = [b for b in blocks if b.get("block_id") == f"act:{ref}"]
    return block["accessory"]


def option(menu: dict[str, Any], op: str) -> str:
    return next(o["value"] for o in menu["options"] if o["value"].startswith(op + "|"))


# ------------------------------------------------------------------------------- 1. buttons on an ephemeral message
def test_a_click_on_an_ephemeral_list_redraws_it_and_the_next_click_is_not_a_conflict(bot: Bot) -> None:
    ref = create_action(bot, "Review RUI over 12 months")
    other = create_action(bot, "Bail lapses assessed")
    ack, _ = bot.command("actions")
    listed = ack.json()
    assert listed["response_type"] == "ephemeral"
    menu = item_menu(listed["blocks"], ref)
    shown = {"ts": "1700000000.000100", "text": listed["text"], "blocks": listed["blocks"]}

    # Real Slack: an ephemeral message's click carries no `message`, only container.is_ephemeral and a response_url.
    action = payloads.overflow_action(menu["action_id"], option(menu, "status:ongoing"), block_id=f"act:{ref}")
    body, url = payloads.block_actions(bot.fake, action, user=OWNER, channel=CHANNEL, message=shown, ephemeral=True)
    assert "message" not in body and body["container"]["is_ephemeral"] is True
    assert bot.interact(body).status == 200
    assert url is not None
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)), timeout=5), "the clicked list was never redrawn"
    post = bot.fake.posts_to(url)[-1].payload
    assert post["replace_original"] is True
    # The one message the user sees is the list, redrawn with the change and the new version in its controls.
    [now_seen] = bot.fake.visible(url)
    now_seen["ts"] = shown["ts"]
    assert f"*{ref}*" in blocks_text(now_seen["blocks"]) and f"*{other}*" in blocks_text(now_seen["blocks"])
    new_menu = item_menu(now_seen["blocks"], ref)
    assert option(new_menu, "status:complete").endswith(f"|{bot.version(ref)}")
    assert bot.version(ref) == 2

    # The user's next click on the redrawn list changes the action.
    action = payloads.overflow_action(new_menu["action_id"], option(new_menu, "status:complete"), block_id=f"act:{ref}")
    body, url2 = payloads.block_actions(bot.fake, action, user=OWNER, channel=CHANNEL, message=now_seen, ephemeral=True)
    assert bot.interact(body).status == 200
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url2)), timeout=5)
    assert bot.version(ref) == 3

    # Two quick clicks on the same item of the list as first shown (the second before the redraw arrived): the
    # second is not refused as someone else's edit — everything since the version it shows was the user's own.
    menu = item_menu(listed["blocks"], other)
    for op in ("status:ongoing", "status:complete"):
        action = payloads.overflow_action(menu["action_id"], option(menu, op), block_id=f"act:{other}")
        body, url3 = payloads.block_actions(
            bot.fake, action, user=OWNER, channel=CHANNEL, message=shown, ephemeral=True
        )
        assert bot.interact(body).status == 200
        assert url3 is not None
        assert bot.fake.wait_for(lambda f, u=url3: bool(f.posts_to(u)), timeout=5)
    said = "\n".join(
        blocks_text(p.payload.get("blocks") or []) + p.payload.get("text", "") for p in bot.fake.response_posts
    )
    assert "changed by" not in said and "you saw version" not in said
    assert bot.version(other) == 3


# ---------------------------------------------------------------------------------- 2. one answer per slash command
def test_a_deferred_answer_is_the_only_message_the_user_sees(bot: Bot, tmp_path: Any) -> None:
    load_demo(bot.rt, rows=300, workdir=tmp_path)
    ack, url = bot.command("wanted --list --district ipswich", user=ANALYST)
    assert ack.status == 200
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)), timeout=10)
    # Slack shows the ack's message (if any) and then every post to the command's response_url as a new message,
    # whatever replace_original says: exactly one message is the answer.
    [seen] = bot.fake.visible(url)
    assert seen["response_type"] == "ephemeral" and "Ipswich" in blocks_text(seen["blocks"])


# ------------------------------------------------------------------------------------- 3. nothing slow on the ack path
def test_acks_stay_fast_and_modals_open_while_slack_is_slow_to_give_the_user_groups(
    runtime: Runtime, fake_slack: FakeSlack
) -> None:
    rt = slack_runtime(runtime, fake_slack, {"admin": (GROUP, CHAIR)})
    fake_slack.usergroups[GROUP] = [GROUPIE]
    # Tier 2 at its worst: a 429 asking for 30 s, and every answer 10 s late.
    fake_slack.fail_next("usergroups.users.list", status=429, retry_after=30)
    fake_slack.delay_next("usergroups.users.list", seconds=10, times=50)
    with serving(rt, fake_slack) as bot:
        ref = create_action(bot, "Deep dive into breaches")
        card = {"ts": "1700000000.000300", "text": "card", "blocks": []}
        fake_slack.messages[(CHANNEL, card["ts"])] = {**card, "user": fake_slack.bot_user_id}
        acks: list[float] = []
        for _ in range(3):
            r, _ = bot.command("wanted", user=OWNER)
            assert r.status == 200 and r.json()["blocks"]
            acks.append(r.seconds)
            value = f"edit|suffolk|{ref}|{bot.version(ref)}"
            body, _ = payloads.block_actions(
                fake_slack, payloads.button_action("mo_act_edit", value), user=OWNER, channel=CHANNEL, message=card
            )
            click = bot.interact(body)
            assert click.status == 200
            acks.append(click.seconds)
        assert max(acks) < 2.5, acks
        assert fake_slack.wait_for(lambda f: len(f.calls_to("views.open")) == 3, timeout=5), fake_slack.methods()
        failed = [c.response.get("error") for c in fake_slack.calls_to("views.open", include_failed=True) if not c.ok]
        assert failed == []
        # A role that rests on the group cannot be confirmed yet: said so, not refused as if the user had none.
        r, url = bot.command("wanted --list", user=GROUPIE)
        assert r.status == 200 and r.seconds < 2.5
        assert fake_slack.wait_for(lambda f: bool(f.posts_to(url)), timeout=15)
        said = fake_slack.posts_to(url)[0].payload
        assert "can't confirm your role yet" in said["text"] and "you are a viewer" not in said["text"]


# ------------------------------------------------------------------------------------ 4. a failed event is retried
def test_a_failed_event_delivery_runs_again_on_slacks_retry_and_a_succeeded_one_never(bot: Bot) -> None:
    create_action(bot, "Weekly bail review")
    envelope = payloads.app_home_opened(bot.fake, OWNER)
    # Slack is down for the first attempt (every call of it, the client's own retry included).
    bot.fake.fail_next("views.publish", status=503, times=100)
    first = bot.event(envelope)
    assert first.status >= 500
    bot.fake.heal()
    assert bot.fake.calls_to("views.publish") == []
    retry = bot.event(envelope, retry_num=1)
    assert retry.status == 200
    assert len(bot.fake.calls_to("views.publish")) == 1, "Slack's retry of a failed delivery was dropped"
    again = bot.event(envelope, retry_num=2)
    assert again.status == 200 and len(bot.fake.calls_to("views.publish")) == 1


# ------------------------------------------------------------------------------------------- 5. direct messages
def test_share_in_a_dm_between_people_is_refused_and_works_in_the_bots_dm(bot: Bot) -> None:
    posts_before = len(bot.audit())
    between_people = "D0PEOPLE1"
    r, _ = bot.command("wanted --share", channel=between_people)
    said = r.json()
    assert said["response_type"] == "ephemeral", "figures were posted into a DM between two people"
    assert "direct message" in said["text"] and "--share" in said["text"]
    assert bot.audit()[-1].outcome == "refused" and len(bot.audit()) == posts_before + 1
    # The bot's own DM with the user: Slack names it in the user's app_home_opened (Messages tab) event.
    assert bot.event(payloads.app_home_opened(bot.fake, OWNER, tab="messages")).status == 200
    r, _ = bot.command("wanted --share", channel=payloads.bot_dm(bot.fake, OWNER))
    assert r.json()["response_type"] == "in_channel"


def test_share_in_an_unknown_dm_is_held_until_the_bot_has_asked_slack(bot: Bot) -> None:
    dm = payloads.bot_dm(bot.fake, ANALYST)
    r, _ = bot.command("wanted --share", user=ANALYST, channel=dm)
    assert r.json()["response_type"] == "ephemeral" and "try again" in r.json()["text"].lower()
    # The bot asked Slack which DM is its own with the user (conversations.open), off the ack path.
    assert bot.fake.wait_for(lambda f: bool(f.calls_to("conversations.open")), timeout=5)
    time.sleep(0.2)
    r, _ = bot.command("wanted --share", user=ANALYST, channel=dm)
    assert r.json()["response_type"] == "in_channel"


# --------------------------------------------------------------------------------------------------------- 6. logs
def test_nothing_personal_is_logged_at_info(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    secret_text = "wanted --district ipswich --older-than 90d"
    with caplog.at_level(logging.INFO):
        r, _ = bot.command(secret_text, user="U0PRIVATE9", bad_signature=True)
        assert r.status == 401
        r, _ = bot.command(secret_text, user="U0PRIVATE9")
        assert r.status == 200
    infos = [rec.getMessage() for rec in caplog.records if rec.levelno <= logging.INFO]
    assert any("signature does not match" in m for m in infos)
    for m in infos:
        assert "U0PRIVATE9" not in m and "older-than" not in m and "ipswich" not in m, m


# -------------------------------------------------------------------------------------------- 7. messages tab
def test_a_message_to_the_bot_is_answered_never_silence(bot: Bot) -> None:
    """Whatever someone writes in the bot's Messages tab gets an answer in that DM: a question it understands is
    answered (commands/listeners/dm_questions.py), anything else is told what it can ask — never silence."""
    envelope = payloads.message_im(bot.fake, OWNER, "how many wanted in ipswich?")
    assert bot.event(envelope).status == 200
    assert bot.fake.wait_for(lambda f: bool(f.calls_to("chat.postMessage")), timeout=5)
    [post] = bot.fake.calls_to("chat.postMessage")
    assert post.params["channel"] == payloads.bot_dm(bot.fake, OWNER)
    assert "/mo wanted --district ipswich" in blocks_text(post.params["blocks"])
    chatter = payloads.message_im(bot.fake, OWNER, "hello there")
    assert bot.event(chatter).status == 200
    assert bot.fake.wait_for(lambda f: len(f.calls_to("chat.postMessage")) == 2, timeout=5)
    told = blocks_text(bot.fake.calls_to("chat.postMessage")[1].params["blocks"]) or ""
    assert "/mo help" in told or "did you mean" in told.lower(), told
    # The bot's own reply comes back as an event too: not answered (no loop).
    mine = payloads.message_im(bot.fake, OWNER, "reply")
    mine["event"] |= {"bot_id": "BFAKE0001", "user": bot.fake.bot_user_id}
    assert bot.event(mine).status == 200
    time.sleep(0.3)
    assert len(bot.fake.calls_to("chat.postMessage")) == 2
    # The DM it was written in is the bot's own with that user: `--share` works there.
    r, _ = bot.command("wanted --share", channel=payloads.bot_dm(bot.fake, OWNER))
    assert r.json()["response_type"] == "in_channel"


def test_concurrent_clicks_on_an_ephemeral_list_all_ack(bot: Bot) -> None:
    refs = [create_action(bot, f"Action {n}") for n in range(4)]
    ack, _ = bot.command("actions")
    listed = ack.json()
    shown = {"ts": "1700000000.000400", "text": listed["text"], "blocks": listed["blocks"]}

    def click(ref: str) -> int:
        menu = item_menu(listed["blocks"], ref)
        action = payloads.overflow_action(menu["action_id"], option(menu, "status:ongoing"), block_id=f"act:{ref}")
        body, _ = payloads.block_actions(bot.fake, action, user=OWNER, channel=CHANNEL, message=shown, ephemeral=True)
        return bot.interact(body).status

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(click, refs)) == [200] * 4
    assert [bot.version(r) for r in refs] == [2] * 4


def test_a_form_asked_for_by_mo_opens_after_the_ack_however_slow_slack_is(
    runtime: Runtime, fake_slack: FakeSlack
) -> None:
    """`/mo action add` (no title) and `/mo import` answer at once and open their form right after: a views.open
    that takes Slack 5 s no longer holds the ack past Slack's 3 s."""
    rt = slack_runtime(runtime, fake_slack, {"admin": (CHAIR,)})
    fake_slack.delay_next("views.open", seconds=5, times=2)
    with serving(rt, fake_slack) as bot:
        for text in ("action add", "import"):
            r, _ = bot.command(text, user=CHAIR)
            assert r.status == 200 and r.seconds < 2.5, (text, r.seconds)
            assert "Opening" in r.json()["text"]
        assert fake_slack.wait_for(lambda f: len(f.calls_to("views.open")) == 2, timeout=15), fake_slack.methods()
        opened = [c for c in fake_slack.calls_to("views.open", include_failed=True)]
        assert [c.ok for c in opened] == [True, True]
        callbacks = sorted(json.loads(c.params["view"])["callback_id"] if isinstance(c.params["view"], str)
                           else c.params["view"]["callback_id"] for c in opened)  # fmt: skip
        assert len(callbacks) == 2 and all(callbacks)
