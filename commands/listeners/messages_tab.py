"""The bot's Messages tab (``message.im``): someone who writes to the bot is told how to ask it, never met with
silence. The bot keeps no message text: the audit row says a message was answered, not what it said.

Only a person's own new message is answered: edits, deletions and other subtypes, and messages from bots (the
bot's own replies come back as events too) are not. The reply is posted in the event's handler, so a post that
fails makes the delivery fail and Slack's retry posts it (``commands.middleware.Dedupe`` gives the claim back)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.access import channel_rule
from bot.audit import AuditEntry, record_separately
from bot.slack.bot_dms import shared_bot_dms
from bot.slack.render_messages_tab import render_messages_tab_reply
from commands.middleware import asked


def register(app: App) -> None:
    app.event("message")(on_message)


def on_message(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return
    user, channel = event.get("user"), event.get("channel")
    if not isinstance(user, str) or not isinstance(channel, str) or not channel.startswith("D"):
        return
    who = asked(context)
    # This DM is the user's conversation with the bot: remembered for `--share` (bot.slack.bot_dms).
    shared_bot_dms(who.rt).learn(user, channel)
    if who.asker.refusal is not None:
        who.audit_refusal("message", f"messages tab: {who.asker.refusal}")
        text, blocks = who.asker.refusal, None
    else:
        text, blocks = render_messages_tab_reply(channel_rule(who.rt.config))
    client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    if who.asker.refusal is None:
        entry = AuditEntry(
            actor=user,
            action="message",
            outcome="ok",
            detail="messages tab: told how to ask (/mo help)",
            force=who.asker.force.slug if who.asker.force else None,
            team_id=who.team_id,
            channel_id=channel,
        )
        record_separately(who.rt.sessions, entry, at=who.rt.clock.now())
