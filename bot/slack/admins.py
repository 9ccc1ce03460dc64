"""Telling the bot's admins by DM when something needs a person (a job failed, data is overdue)."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.runtime import Runtime
from bot.slack.client import slack_error_reason

log = logging.getLogger("mo_bot.jobs")


def admin_user_ids(rt: Runtime, client: WebClient | None = None) -> list[str]:
    """Who is told when a job needs a person: the admins named by user ID in ``slack.roles.admin`` and, with a
    ``client``, the members of the user groups (``S…``) named there, read with ``usergroups.users.list`` each
    time (these messages are rare, and a stale member list would tell someone who has left the group). An
    unreadable group is logged and skipped. In order, each once."""
    named = rt.config.slack.roles.get("admin", ())
    users = [u for u in named if u.startswith(("U", "W"))]
    if client is not None:
        for gid in (g for g in named if g.startswith("S")):
            try:
                members: list[object] = client.usergroups_users_list(usergroup=gid).get("users", [])
                users += [u for u in members if isinstance(u, str)]
            except Exception as e:
                log.warning("mo-bot: could not read admin user group %s: %s", gid, slack_error_reason(e) or e)
    return list(dict.fromkeys(users))


def has_admins(rt: Runtime) -> bool:
    """Whether ``slack.roles.admin`` names anyone to tell (a user or a user group)."""
    return any(u.startswith(("U", "W", "S")) for u in rt.config.slack.roles.get("admin", ()))


def notify_admins(rt: Runtime, client: WebClient | None, text: str) -> int:
    """DM every admin; returns how many were told. Failures are logged, never raised (this is the fallback)."""
    if client is None:
        log.warning("mo-bot: no Slack client to tell admins: %s", text)
        return 0
    told = 0
    for user in admin_user_ids(rt, client):
        try:
            im = client.conversations_open(users=user)
            client.chat_postMessage(channel=im["channel"]["id"], text=text, unfurl_links=False)
            told += 1
        except Exception as e:
            log.error("mo-bot: could not DM admin %s (%s): %s", user, slack_error_reason(e) or type(e).__name__, text)
    return told
