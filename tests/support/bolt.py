"""The Bolt app as the Slack tests build it: the real ``commands.app.build_app`` around a test Runtime, talking to a
fake Slack (:mod:`tests.support.fakeslack`) and signed with the tests' secret (:mod:`tests.support.slackutil`)."""

from __future__ import annotations

from slack_bolt import App

from bot.runtime import Runtime
from bot.settings import Settings
from bot.slack.client import make_client
from commands.app import build_app
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import SIGNING_SECRET


def settings_for(fake: FakeSlack, *, app_token: str | None = None) -> Settings:
    """What ``mo-bot serve`` would read from the environment, pointed at ``fake``; ``app_token`` for Socket Mode."""
    return Settings(
        bot_token=fake.token,
        signing_secret=SIGNING_SECRET,
        app_token=app_token,
        api_url=fake.base_url,
        database_url=None,
        config_path=None,
        port=3000,
        web_concurrency=1,
        threads=4,
    )


def app_for(rt: Runtime, fake: FakeSlack, settings: Settings | None = None) -> App:
    """The real Bolt app for ``rt``, its Web API calls going to ``fake``."""
    return build_app(rt, client=make_client(fake.token, fake.base_url), settings=settings or settings_for(fake))
