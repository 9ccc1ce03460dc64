"""Replies that are not figures: generated help, refusals, invalid requests and unexpected errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import Force
from bot.slack.blocks import MessageBuilder
from bot.slack.escape import esc

Rendered = tuple[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class HelpPage:
    """Help as data (generated from the `/mo` specs): Block Kit here, Markdown in docs/commands.md."""

    title: str
    intro: str
    sections: list[tuple[str, list[str]]]  # (heading, lines); lines use `code` spans only


def render_help(page: HelpPage, force: Force | None = None) -> Rendered:
    m = MessageBuilder().header(page.title).section(esc(page.intro))
    for heading, lines in page.sections:
        m.lines(heading, [esc(line) for line in lines])
    if force is not None:
        m.context(esc(f"{force.name} · districts: {force.district_choices()}"))
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
