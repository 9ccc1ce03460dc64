"""The Bolt app: signing secret, authorisation, retry de-duplication and the listener modules.

Listener modules
----------------
``LISTENER_MODULES`` names the modules that add listeners. Each exposes::

    def register(app: slack_bolt.App, rt: bot.runtime.Runtime) -> None

``rt`` is passed explicitly (rather than hidden in Bolt's context) so a listener's dependencies are visible in
its signature and tests can build an app around any runtime. Listeners stay thin: build a ``Requester`` with
:func:`requester_from` and call the domain/conversation layer; no SQL in listeners.

Choices that matter (see /work/shared/FLOORS.md):

- ``process_before_response=True``: the listener runs inline on the request thread (~0.13 ms dispatch) instead of
  on a pool the request thread polls every 10 ms (~11 ms per request). Work that may exceed Slack's 3-second ack
  goes to a lazy listener (``app.command(...)(ack=…, lazy=[…])``), which Bolt runs on its executor.
- ``authorize``: returns the bot token without calling ``auth.test`` (a plain ``token=`` makes Bolt call
  ``auth.test`` on the first request — a network round trip, and a call to real Slack from tests).
- Retries: Slack re-sends an Events API delivery (``X-Slack-Retry-Num``) it thinks failed. Every event's
  ``event_id`` is claimed in the ``slack_delivery`` table (one INSERT; shared by all workers and replicas, which an
  in-process cache would not be); a retry whose key is already claimed is acknowledged and nothing runs. Slash
  commands and interactions are never retried by Slack (the user sees an error instead), so their first
  deliveries cost no claim, and a copy of one that does carry a retry header is acknowledged without running.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import deliveries
from bot.runtime import Runtime
from bot.settings import Settings, load_settings
from bot.slack.client import make_client

log = logging.getLogger("mo_bot.app")

# Modules whose ``register(app, rt)`` adds listeners; later issues append theirs (actions, home, summary).
LISTENER_MODULES: tuple[str, ...] = (
    "commands.listeners.slash_mo",
    "commands.listeners.action_log_controls",
    "commands.listeners.app_home",
)

USERGROUP_TTL_S = 300.0


def build_app(
    rt: Runtime,
    *,
    client: WebClient | None = None,
    settings: Settings | None = None,
    listener_modules: tuple[str, ...] = LISTENER_MODULES,
) -> App:
    """The Bolt app for ``rt``. ``client`` (tests: pointed at the fake Slack) supplies the Web API base URL and
    retry handlers; the bot token always comes from ``settings`` (default: the environment)."""
    settings = settings or load_settings()
    base = client or make_client(None, settings.api_url)
    # Bolt makes a per-request client from this one (copying base_url and retry handlers) and gives it the token
    # from authorize(); the shared one carries no token so nothing can use it unauthorised.
    app_client = WebClient(
        token=None,
        base_url=base.base_url,
        timeout=base.timeout,
        retry_handlers=list(base.retry_handlers) if base.retry_handlers else None,
        logger=base.logger,
    )
    bot_token = settings.bot_token

    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        # One installation: the same bot token for every request. Which workspaces may USE the bot is decided
        # by the access rules (config: forces.*.slack_team_ids), which refuse and audit an unknown workspace.
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=bot_token)

    app = App(
        signing_secret=settings.signing_secret,
        client=app_client,
        authorize=authorize,
        process_before_response=True,
        # Bolt's own "unhandled request" warning would spam the log for events we do not subscribe to.
        raise_error_for_unhandled_request=False,
    )
    app.use(_Dedupe(rt))
    for name in listener_modules:
        importlib.import_module(name).register(app, rt)
    return app


def delivery_key(body: dict[str, Any]) -> str | None:
    """The claim key of an Events API delivery (``event_id``), or None for anything else."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    return None


class _Dedupe(Middleware):
    """The retry rule of the module docstring. A :class:`Middleware` subclass rather than a function given to
    ``app.use``: Bolt inspects a function middleware's signature to build its arguments on every request."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        retry = (req.headers.get("x-slack-retry-num") or [None])[0]
        key = delivery_key(req.body) if isinstance(req.body, dict) else None
        if key is None:
            if retry is not None:
                log.warning("mo-bot: ignored a retried delivery Slack does not retry (retry %s)", retry)
                return BoltResponse(status=200, body="")
            return next()
        if not deliveries.claim(self.rt.sessions, key, self.rt.clock.now()):
            log.info("mo-bot: %s already handled; acknowledged retry %s without redoing it", key, retry)
            return BoltResponse(status=200, body="")
        return next()


class UserGroups:
    """Members of the user groups (``S…``) that ``slack.roles`` names, so a role given to a group applies to its
    members. Fetched with ``usergroups.users.list`` and kept for ``ttl`` seconds (roles change rarely; a removed
    member keeps the group's role for at most that long). Nothing is fetched when no role names a group."""

    def __init__(self, group_ids: tuple[str, ...], ttl: float = USERGROUP_TTL_S) -> None:
        self.group_ids = tuple(dict.fromkeys(g for g in group_ids if g.startswith("S")))
        self.ttl = ttl
        self._members: dict[str, frozenset[str]] = {}
        self._fetched = float("-inf")
        self._lock = threading.Lock()

    @classmethod
    def for_runtime(cls, rt: Runtime) -> UserGroups:
        return cls(tuple(g for ids in rt.config.slack.roles.values() for g in ids))

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


def requester_from(payload: dict[str, Any], client: WebClient, groups: UserGroups) -> Any:
    """A ``commands.mo.pipeline.Requester`` from a slash-command payload (or an interaction's user/team/channel)."""
    from bot.access import Requester

    user = payload.get("user_id") or (payload.get("user") or {}).get("id") or ""
    team = payload.get("team_id") or (payload.get("team") or {}).get("id") or (payload.get("user") or {}).get("team_id")
    channel = payload.get("channel_id") or (payload.get("channel") or {}).get("id")
    is_dm = bool(channel and channel.startswith("D")) or payload.get("channel_name") == "directmessage"
    return Requester(
        user_id=user,
        team_id=team,
        channel_id=channel,
        channel_is_dm=is_dm,
        user_groups=groups.groups_of(client, user) if user else (),
    )
