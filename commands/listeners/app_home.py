"""App Home: when someone opens the bot's Home tab, publish "My actions" (their open actions, overdue first,
with controls) and an overview of the log by pillar and status. The same view is re-published after each change
to an action (``bot.slack.action_log_sync.after_change``), so the tab is current whenever it is looked at."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.access import Refused, Requester, resolve
from bot.audit import AuditEntry, record_separately
from bot.runtime import Runtime
from bot.slack.action_log_sync import publish_home
from commands.app import UserGroups

log = logging.getLogger("mo_bot.home")


def register(app: App, rt: Runtime) -> None:
    groups = UserGroups.for_runtime(rt)

    def on_home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        user = event.get("user") or ""
        team = body.get("team_id")
        req = Requester(user_id=user, team_id=team, channel_id=None, user_groups=groups.groups_of(client, user))
        try:
            access = resolve(rt.config, req)
        except Refused as r:
            # A workspace that is not set up sees no data; the attempt is audited like any refused request.
            record_separately(
                rt.sessions,
                AuditEntry(
                    actor=user, action="view", outcome="refused", detail=f"app home: {r.reason}"[:500], team_id=team
                ),
                at=rt.clock.now(),
            )
            return
        if publish_home(rt, client, access.force, user):
            record_separately(
                rt.sessions,
                AuditEntry(
                    actor=user, action="view", outcome="ok", detail="app home", force=access.force.slug, team_id=team
                ),
                at=rt.clock.now(),
            )

    app.event("app_home_opened")(on_home_opened)
