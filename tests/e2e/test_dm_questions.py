"""Questions typed to the bot in its DM, as Slack delivers them: a signed Events API ``message`` event in an ``im``
(shape as slackapi/java-slack-sdk json-logs/samples/events/MessagePayload.json, with ``channel_type: im``), the
answer posted in the DM by chat.postMessage. SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from typing import Any

from tests.e2e.test_slash_command import VIEWER, Bot, bot, demo_dir, fake_slack  # noqa: F401 - fixtures
from tests.support.slackutil import blocks_text, post_signed

DM = "D0VIEWER1"
_seq = itertools.count(1)


def dm_event(bot: Bot, text: str, *, user: str = VIEWER, **extra: Any) -> dict[str, Any]:  # noqa: F811
    n = next(_seq)
    ts = f"1790001{n:03d}.000100"
    return {
        "token": "legacy-verification-token-unused",
        "team_id": bot.fake.team_id,
        "api_app_id": "A0MOBOT01",
        "event": {
            "client_msg_id": f"00000000-0000-4000-8000-{n:012d}",
            "type": "message",
            "text": text,
            "user": user,
            "ts": ts,
            "team": bot.fake.team_id,
            "channel": DM,
            "event_ts": ts,
            "channel_type": "im",
            **extra,
        },
        "type": "event_callback",
        "event_id": f"EvDM{n:08d}",
        "event_time": 1_790_001_000 + n,
        "authorizations": [
            {"enterprise_id": None, "team_id": bot.fake.team_id, "user_id": bot.fake.bot_user_id, "is_bot": True}
        ],
        "is_ext_shared_channel": False,
    }


def dm_replies(bot: Bot) -> list[str]:  # noqa: F811
    return [
        blocks_text(c.params.get("blocks") or [])
        for c in bot.fake.calls_to("chat.postMessage")
        if c.params["channel"] == DM
    ]


def test_a_question_in_the_dm_is_answered_there_as_the_command_it_means(bot: Bot) -> None:  # noqa: F811
    bot.fake.add_channel(DM, is_im=True)
    short, _ = bot.command("wanted --district ipswich")
    r = post_signed(bot.url, json_body=dm_event(bot, "how many wanted in ipswich?"))
    assert r.status == 200
    assert bot.fake.wait_for(lambda f: bool(dm_replies(bot)), timeout=10)
    [shown] = dm_replies(bot)
    assert shown == blocks_text(short.json()["blocks"]) + "\nas `/mo wanted --district ipswich`"
    last = bot.audit()[-1]
    assert (last.actor, last.channel_id, last.outcome) == (VIEWER, DM, "ok")


def test_a_case_list_asked_in_the_dm_is_pointed_back_to_mo(bot: Bot) -> None:  # noqa: F811
    bot.fake.add_channel(DM, is_im=True)
    post_signed(bot.url, json_body=dm_event(bot, "/mo wanted --list"))
    assert bot.fake.wait_for(lambda f: bool(dm_replies(bot)), timeout=10)
    [shown] = dm_replies(bot)
    assert "please use the `/mo` command itself" in shown
    assert bot.audit()[-1].outcome == "refused"


def test_the_bots_own_messages_are_not_questions(bot: Bot) -> None:  # noqa: F811
    bot.fake.add_channel(DM, is_im=True)
    post_signed(bot.url, json_body=dm_event(bot, "wanted", user=bot.fake.bot_user_id, bot_id="BFAKE0001"))
    post_signed(bot.url, json_body=dm_event(bot, "status"))
    assert bot.fake.wait_for(lambda f: bool(dm_replies(bot)), timeout=10)
    assert len(dm_replies(bot)) == 1  # only the person's question was answered
