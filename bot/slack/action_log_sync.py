"""What happens in Slack after the action log changes, shared by the slash command, the buttons and modals, and
the reminders job: keep the bot's earlier messages about the action in step (``chat.update``), add a short
note in the thread of the latest one, post a new card where asked, and refresh the App Home of the people
concerned. A Slack failure here never undoes the change (it is already committed); it is logged.

Who belongs to a force, as Slack says: :func:`workspaces_of` reads a user's workspaces (``users.info``: the
user's ``team_id``, and on Enterprise Grid the workspaces of ``enterprise_user.teams``), and :func:`belongs_to`
says whether a user is one of a force's people (mapped in its ``owners`` config, or in one of its
``slack_team_ids``). An owner is checked when set (the rules refuse one from another force), and again before a
force's actions are put in front of them — App Home here, reminder DMs in ``jobs.reminders`` — so an owner
recorded before that check, or moved to another workspace since, is never shown another force's log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, TypeGuard

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.action_log import messages, queries
from bot.action_log.types import Actor, HistoryEntry
from bot.clock import today_in
from bot.config import Force
from bot.runtime import Runtime
from bot.slack.render_actions import render_action_card, render_change_note, render_home

log = logging.getLogger("mo_bot.actions")


def _is_user(user_id: str | None) -> TypeGuard[str]:
    """A Slack user ID (``U…``/``W…``), not an owner's initials, a job or the terminal."""
    return user_id is not None and user_id[:1] in ("U", "W") and user_id.isalnum()


def workspaces_of(client: WebClient, user_id: str) -> tuple[str, ...]:
    """The Slack workspaces ``user_id`` is a member of, from ``users.info``; none for a deactivated user or when
    Slack will not say (unknown user, missing scope, an error — the caller then treats them as no one's)."""
    if not _is_user(user_id):
        return ()
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except SlackApiError as e:
        log.warning("mo-bot: could not look up the workspace of %s: %s", user_id, e.response.get("error"))
        return ()
    if not isinstance(user, dict) or user.get("deleted"):
        return ()
    teams = [user.get("team_id")]
    enterprise = user.get("enterprise_user")
    if isinstance(enterprise, dict) and isinstance(enterprise.get("teams"), list):
        teams.extend(enterprise["teams"])
    return tuple(dict.fromkeys(t for t in teams if isinstance(t, str) and t))


def belongs_to(client: WebClient, force: Force, user_id: str) -> bool:
    """Whether ``user_id`` is one of ``force``'s people: mapped in its ``owners`` config (no Slack call), or a
    member of one of its workspaces."""
    if user_id in force.owners.values():
        return True
    return any(t in force.slack_team_ids for t in workspaces_of(client, user_id))


def owner_teams(client: WebClient | None, force: Force, owner: str | None, asker: str) -> tuple[str, ...]:
    """What the action-log rules need to accept ``owner`` for ``force``: nothing when there is no owner, the owner
    is the person asking (their workspace made them one of the force's people) or is mapped in the force's
    ``owners`` config; otherwise the owner's workspaces as Slack reports them (none without a client)."""
    if owner is None or owner == asker or owner in force.owners.values() or client is None:
        return ()
    return workspaces_of(client, owner)


def post_card(
    rt: Runtime, client: WebClient, force: Force, reference: str, channel: str, thread_ts: str | None = None
) -> str | None:
    """Post the action's card in ``channel`` (in ``thread_ts``'s thread if given) and remember it, so later changes
    update it in place. Returns the ts."""
    today = today_in(rt.clock, force.timezone)
    with rt.sessions() as s:
        view = queries.find_view(s, force, reference, today)
        if view is None:
            return None
        text, blocks = render_action_card(view, tz=force.timezone)
        try:
            resp = client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts, unfurl_links=False
            )
        except SlackApiError as e:
            log.warning("mo-bot: could not post %s in %s: %s", reference, channel, e.response.get("error"))
            return None
        ts = str(resp["ts"])
        messages.remember_message(s, view.id, str(resp.get("channel") or channel), ts, rt.clock.now())
        s.commit()
        return ts


def after_change(
    rt: Runtime,
    client: WebClient,
    force: Force,
    reference: str,
    written: Sequence[HistoryEntry],
    also_refresh: Iterable[str | None] = (),
) -> None:
    """Update every tracked message about the action in place, note the change in the latest one's thread, and
    refresh App Home for its owner and ``also_refresh`` (the person who changed it, a previous owner)."""
    today = today_in(rt.clock, force.timezone)
    with rt.sessions() as s:
        detail = queries.get_action(s, force, _job_actor(), reference, today, rt.clock.now(), audit=False)
        if detail is None:
            return
        view = detail.action
        posted = messages.messages_for(s, view.id)
        text, blocks = render_action_card(view, detail.history, force.timezone)
        for i, m in enumerate(posted):
            try:
                client.chat_update(channel=m.channel_id, ts=m.ts, text=text, blocks=blocks)
            except SlackApiError as e:
                err = e.response.get("error")
                log.warning("mo-bot: could not update %s message %s/%s: %s", reference, m.channel_id, m.ts, err)
                if err in ("message_not_found", "channel_not_found", "cant_update_message"):
                    messages.forget_message(s, m.channel_id, m.ts)
                continue
            if i == 0 and written:
                try:
                    client.chat_postMessage(
                        channel=m.channel_id,
                        thread_ts=m.ts,
                        text=render_change_note(view, written, force.timezone),
                        unfurl_links=False,
                    )
                except SlackApiError as e:
                    log.warning("mo-bot: could not reply in the thread of %s: %s", reference, e.response.get("error"))
        s.commit()
    # Every owner's App Home lists the action (joint owners each have it under "My actions").
    users = {u for u in (view.owner_user_id, *view.owner_ids, *also_refresh) if _is_user(u)}
    for user in sorted(users):
        if belongs_to(client, force, user):
            publish_home(rt, client, force, user)
        else:
            log.warning("mo-bot: %s is not one of %s's people; their App Home was not given its log", user, force.slug)


def publish_home(rt: Runtime, client: WebClient, force: Force, user_id: str) -> bool:
    """App Home for ``user_id``, one of ``force``'s people (the caller knows: the person who opened it, whose
    workspace is the force's, or a user :func:`belongs_to` accepted): their open actions (overdue first, with
    controls) and the log by pillar."""
    today = today_in(rt.clock, force.timezone)
    with rt.sessions() as s:
        mine = queries.my_actions(s, force, user_id, today)
        overview = queries.overview(s, force, today)
    view = render_home(mine, overview, force.name, today, force=force.slug)
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as e:
        log.warning("mo-bot: could not publish App Home for %s: %s", user_id, e.response.get("error"))
        return False
    return True


def dm(
    client: WebClient, user_id: str, text: str, blocks: list[dict[str, Any]] | None = None
) -> tuple[str, str] | None:
    """Open (or reuse) the DM with ``user_id`` and post there; returns (channel, ts)."""
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        resp = client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
    except SlackApiError as e:
        log.warning("mo-bot: could not DM %s: %s", user_id, e.response.get("error"))
        return None
    return str(channel), str(resp["ts"])


def _job_actor() -> Actor:
    # Keeping Slack in step is not a consultation by a person, so these reads are not audited.
    return Actor("job:slack-sync", role="admin")
