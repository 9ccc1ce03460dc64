"""The "Turn into action" message shortcut: a message's first line becomes the title of a new action, in the add
modal (with a link back to the message); the card is posted in the message's thread when it is in one of the bot's
channels.

The ack goes back at once (an empty ack function) and the lazy listener builds and opens the modal: the permalink
(``chat.getPermalink``) is a Web API call, never made while Slack waits for the ack."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.action_log.types import Refusal
from bot.slack.render_actions import SHORTCUT, add_modal, render_refusal
from commands.listeners.action_log_shared import acting, message_modal, open_modal
from commands.middleware import asked
from commands.mo.parser import normalise

log = logging.getLogger("mo_bot.actions")


def register(app: App) -> None:
    app.shortcut(SHORTCUT)(ack=ack_shortcut, lazy=[on_shortcut])


def ack_shortcut(ack: Ack) -> None:
    ack()


def on_shortcut(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    who = asked(context)
    ident = acting(who)
    if isinstance(ident, Refusal):
        open_modal(client, body, message_modal("Not allowed", render_refusal(ident)[1]))
        return
    force, actor = ident
    channel = (body.get("channel") or {}).get("id")
    message = body.get("message") or {}
    ts = message.get("ts") or body.get("message_ts")
    title = title_from(message.get("text") or "")
    post_in = channel if channel in who.rt.config.slack.channels else None
    meta = {"channel": post_in, "thread_ts": ts if post_in else None}
    # The form first (its trigger_id lasts 3 s), then the message's link, filled in by an update of the open form
    # (the hash makes Slack refuse it if the form changed meanwhile).
    opened = open_modal(client, body, add_modal(force.slug, meta, title=title, owner=actor.id))
    link = _permalink(client, channel, ts) if opened and channel and ts else None
    if opened is None or link is None:
        return
    view = add_modal(force.slug, meta, title=title, owner=actor.id, source=link)
    try:
        client.views_update(view_id=opened.get("id"), hash=opened.get("hash"), view=view)
    except SlackApiError as e:
        log.info("mo-bot: the action form's source link was not filled in: %s", e.response.get("error"))


def _permalink(client: WebClient, channel: str, ts: str) -> str | None:
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as e:
        log.info("mo-bot: no permalink for %s/%s: %s", channel, ts, e.response.get("error"))
        return None


def title_from(text: str) -> str:
    """A title from a message: Slack's markup undone by the one /mo normaliser, first line, cut to fit."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    plain = normalise(first)
    return plain if len(plain) <= 200 else plain[:199] + "…"
