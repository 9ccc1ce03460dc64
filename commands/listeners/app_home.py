"""App Home: when someone opens the bot's Home tab, publish "My actions" (their open actions, overdue first,
with controls) and an overview of the log by pillar and status. The same view is re-published after each change
to an action (``bot.slack.action_log_sync.after_change``), so the tab is current whenever it is looked at. A publish
that fails makes the delivery fail (a 500), so Slack's retry publishes it (``commands.middleware.Dedupe``)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.audit import AuditEntry, record_separately
from bot.slack.action_log_sync import publish_home
from bot.slack.bot_dms import shared_bot_dms
from commands.middleware import asked


class HomeNotPublished(RuntimeError):
    """App Home could not be published: the delivery fails, and Slack's retry publishes it again."""


def register(app: App) -> None:
    app.event("app_home_opened")(on_home_opened)


def on_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    who = asked(context)
    user, channel = event.get("user"), event.get("channel")
    if isinstance(user, str) and isinstance(channel, str):
        # Either tab's event names the user's DM with the bot (bot.slack.bot_dms: where `--share` may post).
        shared_bot_dms(who.rt).learn(user, channel)
    if event.get("tab") != "home":
        return
    asker = who.asker
    if asker.refusal is not None:
        # A workspace that is not set up sees no data; the attempt is audited like any refused request.
        who.audit_refusal("view", f"app home: {asker.refusal}")
        return
    assert asker.force is not None  # identify() refuses whenever it finds no force
    if publish_home(who.rt, client, asker.force, who.user_id):
        entry = AuditEntry(
            actor=who.user_id,
            action="view",
            outcome="ok",
            detail="app home",
            force=asker.force.slug,
            team_id=who.team_id,
        )
        record_separately(who.rt.sessions, entry, at=who.rt.clock.now())
    else:
        raise HomeNotPublished("App Home could not be published; Slack's retry will try again")
