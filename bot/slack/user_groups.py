"""Members of the user groups (``S…``) that ``slack.roles`` names, so a role given to a group applies to its
members (bot.access reads the groups a user is in; this module is where they come from).

Reading a group is a Web API call (``usergroups.users.list``, Tier 2: about 20 a minute) that Slack may answer
slowly or with ``429 Retry-After``. None of that may happen while Slack waits for an ack (3 seconds, after which
it shows the user an error and the request's ``trigger_id`` is dead), so every process keeps **one** cache of the
groups' members, filled and refreshed by a background thread, and a request only looks in it:

- **Staleness.** The members are re-read every :data:`USERGROUP_TTL_S` (5 minutes); while Slack refuses or is
  slow the previous members stay in use, so a change to a group reaches the bot within 5 minutes plus however
  long Slack keeps refusing. A member removed from a group keeps its role that long (roles change rarely).
- **Before the first read** (a process just started) a user's groups are *unconfirmed*: :class:`Membership`
  says so, and a request that needs more than the user's own role is told to try again in a minute instead of
  being refused as if they had no role (``bot.access``). Work done off the ack path can wait for the first read
  (:meth:`UserGroups.wait_confirmed`).
- A group Slack will never show (``no_such_subteam``, ``missing_scope``, ``plan_upgrade_required`` on a free
  workspace) grants nothing and is logged; it does not keep everyone unconfirmed.

Nothing is read, and no thread started, when no role names a group.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import Config

log = logging.getLogger("mo_bot.app")

USERGROUP_TTL_S = 300.0
RETRY_S = 15.0  # after a read that failed for a reason that passes (429 after the client's own wait, 5xx, network)
# Errors that reading again will not cure: the group is taken as empty until the next scheduled refresh.
LASTING_ERRORS = frozenset(
    {"no_such_subteam", "subteam_not_found", "missing_scope", "plan_upgrade_required", "not_allowed_token_type",
     "invalid_auth", "account_inactive", "token_revoked", "not_authed"}
)  # fmt: skip


@dataclass(frozen=True)
class Membership:
    """The groups (of those ``slack.roles`` names) a user is in, and whether they have been read from Slack yet."""

    groups: tuple[str, ...]
    confirmed: bool


class UserGroups:
    """One process's cache of the members of ``group_ids`` (see the module docstring)."""

    def __init__(self, group_ids: tuple[str, ...], ttl: float = USERGROUP_TTL_S, retry: float = RETRY_S) -> None:
        self.group_ids = tuple(dict.fromkeys(g for g in group_ids if g.startswith("S")))
        self.ttl = ttl
        self.retry = retry
        self._members: dict[str, frozenset[str]] = {}
        self._read: set[str] = set()  # groups read (or found unreadable for good) at least once
        self._lock = threading.Lock()
        self._confirmed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if not self.group_ids:
            self._confirmed.set()

    @classmethod
    def for_config(cls, config: Config) -> UserGroups:
        return cls(tuple(g for ids in config.slack.roles.values() for g in ids))

    # ------------------------------------------------------------------------------------------------ reading
    def membership(self, user_id: str) -> Membership:
        """What is known now; never calls Slack."""
        if not self.group_ids:
            return Membership((), True)
        members = self._members
        groups = tuple(g for g in self.group_ids if user_id in members.get(g, ()))
        return Membership(groups, self._confirmed.is_set())

    def wait_confirmed(self, timeout: float) -> bool:
        """Wait (off the ack path only) until every group was read once; False if ``timeout`` passed first."""
        return self._confirmed.wait(timeout)

    # ------------------------------------------------------------------------------------------------ refreshing
    def start(self, client: WebClient) -> None:
        """Start the refresher thread (once; later calls do nothing)."""
        if not self.group_ids:
            return
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, args=(client,), name="mo-bot-user-groups", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def refresh(self, client: WebClient) -> bool:
        """Read every group once; True if all were read (or are unreadable for good)."""
        fresh = dict(self._members)
        complete = True
        for gid in self.group_ids:
            if self._stop.is_set():
                return False
            try:
                fresh[gid] = frozenset(client.usergroups_users_list(usergroup=gid).get("users", []))
                self._read.add(gid)
            except SlackApiError as e:
                error = str(e.response.get("error") or "")
                if error in LASTING_ERRORS:
                    # Least privilege: an unreadable group grants nothing (its members stay viewers).
                    log.warning("mo-bot: user group %s cannot be read: %s; it grants no role", gid, error)
                    fresh[gid] = frozenset()
                    self._read.add(gid)
                else:
                    log.warning("mo-bot: could not read user group %s yet: %s", gid, error or e.response.status_code)
                    complete = False
            except (SlackClientError, OSError) as e:
                log.warning("mo-bot: could not reach Slack to read user group %s: %s", gid, type(e).__name__)
                complete = False
            self._members = dict(fresh)  # each group as soon as it is read
        if len(self._read) == len(self.group_ids):
            self._confirmed.set()
        return complete

    def _loop(self, client: WebClient) -> None:
        while not self._stop.is_set():
            try:
                ok = self.refresh(client)
            except Exception:  # never let the thread die: the next round tries again
                log.exception("mo-bot: reading user groups failed")
                ok = False
            self._stop.wait(self.ttl if ok else self.retry)


# One cache per process and Runtime: the Bolt app's middleware and the Resumer share it.
_shared: dict[int, UserGroups] = {}
_shared_lock = threading.Lock()


def shared_user_groups(owner: Any, config: Config) -> UserGroups:
    """The process's :class:`UserGroups` for ``owner`` (the Runtime: each process has one), made on first use and
    stopped when ``owner`` is collected."""
    key = id(owner)
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = _shared[key] = UserGroups.for_config(config)
            weakref.finalize(owner, _forget, key, found)
    return found


def _forget(key: int, groups: UserGroups) -> None:
    groups.stop()
    with _shared_lock:
        if _shared.get(key) is groups:
            del _shared[key]
