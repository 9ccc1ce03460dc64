"""What the bot says when someone writes to it in its Messages tab: how to ask it (it answers the `/mo` command,
here or in the channels it serves), never silence."""

from __future__ import annotations

from bot.slack.blocks import MessageBuilder
from bot.slack.render_replies import Rendered


def render_messages_tab_reply(channel_rule: str) -> Rendered:
    """``channel_rule`` is our own wording (bot.access.channel_rule: it may link channels)."""
    return (
        MessageBuilder()
        .section(
            ":wave: I answer the `/mo` command rather than messages. Type `/mo help` here to see what I can tell "
            "you, for example `/mo wanted --district ipswich` or `/mo status`."
        )
        .context(channel_rule + " Answers are only visible to you unless you add `--share`.")
        .build()
    )
