"""Which ``D…`` conversation is a user's direct message with the bot.

Slack gives every direct message an id starting with ``D`` and names it ``directmessage`` in a slash command,
whether it is the user's DM with the bot or a DM between two people (the bot answers ``/mo`` in both, the app
being installed in the workspace). Only the first is private to the asker and the bot; ``--share`` in the second
would post figures to another person. The bot's DM with a user is what ``conversations.open`` (``im:write``)
answers for that user, and it is also the ``channel`` of every ``app_home_opened`` and ``message.im`` event that
user causes; both are remembered here (ids only, never content), one cache per process, for the process's life
(the id of a user's DM with the bot never changes).

A request never waits for Slack here: a ``D…`` channel not known yet is looked up on a background thread
(:meth:`BotDms.look_up_later`) and, until then, :meth:`BotDms.is_bot_dm` answers None (unknown).
"""

from __future__ import annotations

import logging
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger("mo_bot.app")

MAX_USERS = 100_000  # a bound on memory however many users write to the bot (ids: ~30 bytes each)


class BotDms:
    def __init__(self) -> None:
        self._dm: dict[str, str] = {}
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def learn(self, user_id: str, channel_id: str) -> None:
        """``channel_id`` is ``user_id``'s DM with the bot (from an event about it, or conversations.open)."""
        if not (user_id and isinstance(channel_id, str) and channel_id.startswith("D")):
            return
        with self._lock:
            if len(self._dm) >= MAX_USERS and user_id not in self._dm:
                self._dm.clear()
            self._dm[user_id] = channel_id

    def is_bot_dm(self, user_id: str, channel_id: str) -> bool | None:
        """True if ``channel_id`` is ``user_id``'s DM with the bot, False if it is another conversation, None if
        not known yet (a ``D…`` channel whose user has not been looked up)."""
        if not channel_id.startswith("D"):
            return False
        known = self._dm.get(user_id)
        return None if known is None else known == channel_id

    def resolve(self, client: WebClient, user_id: str) -> str | None:
        """The DM's id, asking Slack if needed (off the ack path only); None if Slack would not say."""
        known = self._dm.get(user_id)
        if known is not None:
            return known
        try:
            channel = client.conversations_open(users=user_id)["channel"]["id"]
        except (SlackApiError, SlackClientError, OSError, KeyError, TypeError) as e:
            log.warning("mo-bot: could not find the bot's DM with a user: %s", type(e).__name__)
            return None
        self.learn(user_id, channel)
        return channel if isinstance(channel, str) else None

    def look_up_later(self, client: WebClient, user_id: str) -> None:
        """Find ``user_id``'s DM with the bot on a background thread (at most one lookup per user at a time)."""
        with self._lock:
            if user_id in self._dm or user_id in self._pending:
                return
            self._pending.add(user_id)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mo-bot-dm-lookup")
            pool = self._pool
        pool.submit(self._look_up, client, user_id)

    def _look_up(self, client: WebClient, user_id: str) -> None:
        try:
            self.resolve(client, user_id)
        finally:
            with self._lock:
                self._pending.discard(user_id)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


_shared: dict[int, BotDms] = {}
_shared_lock = threading.Lock()


def shared_bot_dms(owner: Any) -> BotDms:
    """The process's :class:`BotDms` for ``owner`` (its Runtime), dropped when ``owner`` is collected."""
    key = id(owner)
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = _shared[key] = BotDms()
            weakref.finalize(owner, _forget, key, found)
    return found


def _forget(key: int, dms: BotDms) -> None:
    dms.close()
    with _shared_lock:
        if _shared.get(key) is dms:
            del _shared[key]
