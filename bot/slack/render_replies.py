"""Replies that are not figures: generated help, refusals, invalid requests and unexpected errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.config import Force
from bot.slack.blocks import MessageBuilder
from bot.slack.escape import esc

if TYPE_CHECKING:
    from commands.mo.parser import HelpPage

Rendered = tuple[str, list[dict[str, Any]]]


def render_help(page: HelpPage, force: Force | None = None) -> Rendered:
    m = MessageBuilder().header(page.title).section(esc(page.intro))
    for heading, lines in page.sections:
        m.lines(heading, [esc(line) for line in lines])
    if force is not None:
        from commands.mo.values import district_choices

        m.context(esc(f"{force.name} · districts: {district_choices(force)}"))
    return m.build()


def render_refused(reason_mrkdwn: str) -> Rendered:
    """``reason_mrkdwn`` is our own wording (it may link channels); any user or data text in it is escaped."""
    return MessageBuilder().section(f":no_entry: {reason_mrkdwn}").build()


def render_invalid(message: str, hint: str = "", command: str | None = None) -> Rendered:
    """A request we could not understand. ``message`` and ``hint`` echo what was typed, so both are escaped."""
    m = MessageBuilder().section(f":warning: {esc(message)}")
    if hint:
        m.section(esc(hint))
    more = f"`/mo {esc(command)} --help`" if command else "`/mo help`"
    m.context(f"Nothing was changed. {more} shows what I understand.")
    return m.build()


def render_error(reference: str) -> Rendered:
    return (
        MessageBuilder()
        .section(
            f":x: Sorry, something went wrong on my side and I couldn't answer. "
            f"If it keeps happening, tell an admin this reference: `{esc(reference)}`."
        )
        .build()
    )
