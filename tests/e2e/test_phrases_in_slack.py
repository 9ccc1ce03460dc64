"""A question in the asker's own words through `/mo`, as Slack sends it: answered in the ack like the command it
means, with that command shown. SQLite and PostgreSQL."""

from __future__ import annotations

from tests.e2e.test_slash_command import Bot, bot, demo_dir, fake_slack  # noqa: F401 - fixtures
from tests.support.slackutil import blocks_text


def test_how_many_wanted_in_ipswich_is_answered_as_the_command(bot: Bot) -> None:  # noqa: F811
    short, _ = bot.command("wanted --district ipswich")
    asked, response_url = bot.command("how many wanted in Ipswich?")
    assert asked.status == 200
    body = asked.json()
    assert blocks_text(body["blocks"]) == blocks_text(short.json()["blocks"]) + "\nas `/mo wanted --district ipswich`"
    assert bot.fake.posts_to(response_url) == []  # answered inside the ack, like the counts it stands for
    last = bot.audit()[-1]
    assert (last.outcome, last.detail) == ("ok", "how many wanted in Ipswich? (as wanted --district ipswich)")


def test_a_typo_in_a_question_gets_did_you_mean(bot: Bot) -> None:  # noqa: F811
    r, _ = bot.command("how many wantd in ipswich")
    shown = blocks_text(r.json()["blocks"])
    assert "did you mean `/mo wanted --district ipswich`?" in shown
    assert bot.audit()[-1].outcome == "invalid"
