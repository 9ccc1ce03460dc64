"""Members of the user groups (``S…``) that ``slack.roles`` names, so a role given to a group applies to its
members (bot.access reads the groups a user is in; this module is where they come from)."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Config

log = logging.getLogger("mo_bot.app")

USERGROUP_TTL_S = 300.0


class UserGroups:
    """Fetched with ``usergroups.users.list`` and kept for ``ttl`` seconds (roles change rarely; a removed member
    keeps the group's role for at most that long). Nothing is fetched when no role names a group."""

    def __init__(self, group_ids: tuple[str, ...], ttl: float = USERGROUP_TTL_S) -> None:
        self.group_ids = tuple(dict.fromkeys(g for g in group_ids if g.startswith("S")))
        self.ttl = ttl
        self._members: dict[str, frozenset[str]] = {}
        self._fetched = float("-inf")
        self._lock = threading.Lock()

    @classmethod
    def for_config(cls, config: Config) -> UserGroups:
        return cls(tuple(g for ids in config.slack.roles.values() for g in ids))

    def groups_of(self, client: WebClient, user_id: str) -> tuple[str, ...]:
        if not self.group_ids:
            return ()
        with self._lock:
            if time.monotonic() - self._fetched > self.ttl:
                self._refresh(client)
            return tuple(g for g in self.group_ids if user_id in self._members.get(g, ()))

    def _refresh(self, client: WebClient) -> None:
        fresh: dict[str, frozenset[str]] = {}
        for gid in self.group_ids:
            try:
                fresh[gid] = frozenset(client.usergroups_users_list(usergroup=gid).get("users", []))
            except SlackApiError as e:
                # Least privilege: an unreadable group grants nothing (its members stay viewers) until it reads.
                log.warning("mo-bot: could not read user group %s: %s", gid, e.response.get("error"))
                fresh[gid] = self._members.get(gid, frozenset())
        self._members = fresh
        self._fetched = time.monotonic()
