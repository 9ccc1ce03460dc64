"""Questions typed to the bot in a direct message (a ``message`` event with no subtype in an ``im``): answered by
the same `/mo` pipeline — in the asker's own words too ("how many wanted in ipswich") — with the answer posted in
the DM, off the ack (Bolt's lazy listener).

Only what `/mo` answers inside its ack is answered here: counts, help, status. A message in a DM stays in its
history, while `/mo` answers are ephemeral, so whatever `/mo` defers — case lists, exports, changes, summaries — is
pointed back to `/mo` rather than answered (the refusal is audited). Messages from bots, the bot's own among them,
and edits or other subtypes are not questions.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.bot_dms import shared_bot_dms
from bot.slack.escape import esc
from commands.middleware import asked
from commands.mo.pipeline import answer, plan
from commands.mo.reply import SlackContext

log = logging.getLogger("mo_bot.dm")


def register(app: App) -> None:
    app.event({"type": "message", "subtype": None})(ack=_ack, lazy=[on_dm_message])


def _ack(ack: Ack) -> None:
    ack()


def question_of(text: str) -> str:
    """The question as `/mo` reads it: a leading ``/mo`` typed out of habit is dropped."""
    stripped = text.strip()
    return stripped[3:].lstrip() if stripped.lower().startswith("/mo ") or stripped.lower() == "/mo" else stripped


def on_dm_message(event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    bots = {a.get("user_id") for a in body.get("authorizations") or [] if isinstance(a, dict) and a.get("is_bot")}
    if event.get("bot_id") or event.get("user") in bots or event.get("channel_type") != "im":
        return
    channel = str(event.get("channel") or "")
    if not channel.startswith("D"):
        return
    who = asked(context)
    user = event.get("user")
    if isinstance(user, str):
        # This DM is the user's conversation with the bot: remembered for `--share` (bot.slack.bot_dms).
        shared_bot_dms(who.rt).learn(user, channel)
    text = question_of(str(event.get("text") or ""))
    if plan(text).deferred:
        why = f"For `/mo {esc(text)}` please use the `/mo` command itself: its answer is shown only to you."
        who.audit_refusal("command", f"dm: {text}: answered only through /mo")
        reply_text, blocks = why, [{"type": "section", "text": {"type": "mrkdwn", "text": why}}]
    else:
        reply = answer(who.rt, who.asker, text, slack=SlackContext(client=client))
        reply_text, blocks = reply.text, reply.blocks
    try:
        client.chat_postMessage(channel=channel, text=reply_text, blocks=blocks)
    except SlackApiError:
        log.warning("mo-bot: could not answer a question in a DM", exc_info=True)
