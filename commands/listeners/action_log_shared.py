"""What the action log's listeners share: who may act, on which force's log, the follow-ups an ack function hands to
its lazy listener, and small modal helpers.

Every control and form names the force whose log it is about (``bot.slack.render_actions``: control values and
modal metadata). :func:`same_force` compares it with the clicker's force (from their workspace) before anything is
read or changed: a control of another force's log — a message that reached someone of another force — or an old
one that names no force is refused and audited, never resolved against the clicker's own log, where the same
reference names a different action.

Each listener acks inside Slack's 3 seconds and does the database work inline (milliseconds), so a modal can
answer with inline errors (``response_action: errors``) or show a refused change in place. What only tells Slack
about a change already committed — updating the bot's earlier messages, the thread note, App Home — runs in a
lazy listener; the ack function hands it one :data:`FollowUp` through Bolt's context (:func:`hand_over`, read
back with :func:`follow_up`). Bolt deep-copies the context for the lazy listener, so a follow-up holds plain
immutable data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeAlias

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.action_log.types import ActionView, Actor, HistoryEntry, Refusal
from bot.audit import AuditEntry, record_separately
from bot.config import Force
from commands.middleware import Asked

log = logging.getLogger("mo_bot.actions")

FOLLOW_UP = "mo_follow_up"


@dataclass(frozen=True)
class ShowRefusal:
    """Tell the person who clicked why nothing changed (ephemeral in the conversation; from App Home, a modal)."""

    text: str
    blocks: list[dict[str, Any]]


@dataclass(frozen=True)
class ShowPage:
    """Replace the clicked list with another page of it."""

    text: str
    blocks: list[dict[str, Any]]


@dataclass(frozen=True)
class Snoozed:
    """An item's reminders were snoozed: redraw the clicked message, which shows it."""

    force: Force
    reference: str


@dataclass(frozen=True)
class Changed:
    """An action changed: redraw where the change was made from, then keep the bot's other messages about it, the
    thread note and App Home in step."""

    force: Force
    action: ActionView  # as it stands after the change
    written: tuple[HistoryEntry, ...]
    refresh: tuple[str | None, ...]  # App Homes to refresh besides the owner's: who changed it, the owner before
    origin: dict[str, Any] | None = None  # a modal's message of origin (a reminder DM is redrawn)


@dataclass(frozen=True)
class Created:
    """An action was added from a modal: post its card where asked, and refresh App Home."""

    force: Force
    reference: str
    channel: str | None  # post the card here (in ``thread_ts``'s thread, if given)
    thread_ts: str | None
    refresh: tuple[str, ...]


@dataclass(frozen=True)
class OpenModal:
    """Open this modal with the click's ``trigger_id``: the first thing after the ack, so that neither the ack
    waits for views.open nor the trigger (good for 3 seconds from the click) waits for anything else."""

    view: dict[str, Any]


FollowUp: TypeAlias = ShowRefusal | ShowPage | Snoozed | Changed | Created | OpenModal


def hand_over(context: BoltContext, todo: FollowUp) -> None:
    """Give the request's lazy listener ``todo``."""
    context[FOLLOW_UP] = todo


def follow_up(context: BoltContext) -> FollowUp | None:
    """What the ack function handed over, or None (nothing to do)."""
    todo = context.get(FOLLOW_UP)
    return todo if isinstance(todo, FollowUp) else None


def acting(who: Asked) -> tuple[Force, Actor] | Refusal:
    """The force and the acting person of an interaction, or why they may not act (audited). Interactions happen
    on the bot's own messages and views, so the channel rule of slash commands does not apply; the workspace and
    roles do."""
    asker = who.asker
    if asker.refusal is not None:
        who.audit_refusal("interaction", asker.refusal)
        return Refusal("not_allowed", asker.refusal)
    assert asker.force is not None  # identify() refuses whenever it finds no force
    return asker.force, Actor(who.user_id, asker.role, who.team_id, asker.requester.channel_id)


OTHER_FORCE = "This belongs to another force's action log, so I can't act on it here. Nothing was read or changed."
NO_FORCE = (
    "This is from a message or form made before an update, and I can't tell which force's log it is about, so I "
    "haven't acted on it. Nothing was changed: use `/mo actions` or `/mo action A-n` for fresh controls."
)


def same_force(who: Asked, force: Force, actor: Actor, named: object, what: str) -> Refusal | None:
    """None if ``named`` (the force a control or form names) is the clicker's ``force``; otherwise the refusal to
    show, after auditing it (``what`` says which control, for the audit; nothing from the other force is read)."""
    if named == force.slug:
        return None
    reason = OTHER_FORCE if isinstance(named, str) and named else NO_FORCE
    shown = repr(named)[:60]  # repr: whatever it holds, one line
    detail = f"{what}: names force {shown}, the clicker's is {force.slug!r}" if named else f"{what}: names no force"
    entry = AuditEntry(
        actor=actor.id,
        action="interaction",
        outcome="refused",
        detail=detail[:500],
        force=force.slug,
        team_id=actor.team_id,
        channel_id=actor.channel_id,
    )
    record_separately(who.rt.sessions, entry, at=who.rt.clock.now())
    log.warning("mo-bot: refused %s from %s (force %s): it names %s", what, actor.id, force.slug, shown)
    return Refusal("not_allowed", reason)


def open_modal(client: WebClient, body: dict[str, Any], view: dict[str, Any]) -> dict[str, Any] | None:
    """Open ``view`` with the request's trigger_id; the opened view (its ``id`` and ``hash``), or None."""
    try:
        opened = client.views_open(trigger_id=body["trigger_id"], view=view).get("view")
    except SlackApiError as e:
        log.warning("mo-bot: could not open a modal: %s", e.response.get("error"))
        return None
    return opened if isinstance(opened, dict) else None


def message_modal(title: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks[:100],
    }
