"""The Bolt app's own global middleware: retried and replayed deliveries dropped, and who is asking resolved once
per request.

Both are :class:`slack_bolt.middleware.Middleware` subclasses rather than functions given to ``app.use``: Bolt
inspects a function middleware's signature to build its arguments on every request.

Who is asking
-------------
:class:`Identify` reads the asker from the request body (team → force, user and their user groups → role, channel
and whether it is a DM, by :func:`bot.access.identify`) and puts one :class:`Asked` into the Bolt context, with the
Runtime. Listeners take it with :func:`asked` (``context`` is a listener argument Bolt fills); none resolves the
requester itself, and each applies the refusals that concern it (a slash command both, an interaction on the bot's
own messages and App Home only the workspace's). It adds no database round trip and no Slack call to any request:
the user groups a role names come from the process's cache, which a background thread keeps
(:mod:`bot.slack.user_groups`; before its first read the role is *unconfirmed*, and a request needing more than
the user's own role is told to try again), and whether a ``D…`` channel is the asker's DM with the bot from
:mod:`bot.slack.bot_dms` (an unknown one is looked up in the background).

Retries and replays
-------------------
Slack re-sends an Events API delivery (``X-Slack-Retry-Num``) it thinks failed. Every event's ``event_id`` is
claimed in the ``slack_delivery`` table (one INSERT; shared by all workers and replicas, which an in-process cache
would not be); a retry whose key is already claimed is acknowledged and nothing runs. A claim is kept only by an
attempt that succeeded: when the handler fails (an exception, which Bolt answers with a 500) the claim is deleted
again by :func:`on_listener_error`, so Slack's next retry runs it. A retry that arrives while the first attempt is
still running finds the key claimed and is acknowledged; if that attempt then fails, a later retry runs it. A retry
is a new request with a new timestamp, hence a new signature, so the event id is what makes it the same delivery; a
copied event sent again has the same event id too. Slash commands and interactions are never retried by Slack (the
user sees an error instead), and a copy of one that carries a retry header is acknowledged without running.

A signed request copied and sent again within the 5 minutes its timestamp is accepted passes the signature check.
:class:`Dedupe` claims the request's ``X-Slack-Signature`` (``sig:…``, an HMAC of the timestamp and the whole body,
so it names exactly one request) after the signature was checked — a forged request never reaches the table — and
a request whose signature is already claimed is acknowledged with an empty 200, logged and audited (its row
batched with other requests' by ``GroupCommit``), and nothing runs. The claim is one INSERT, made for every request
that can change something or reach anyone: every interaction (button, menu, modal submission, shortcut) and the
``/mo`` questions answered through ``response_url`` (``plan(text).deferred``: every change, ``--post``,
``--export``, lists, the summary). The ``/mo`` questions answered inside the ack — the read-only counts of the hot
path — make no claim: SQLite's one writer is shared with their audit rows, so a claim each would cost the load
test (bench/bench_slack.py) its throughput, while a copy of one is only answered to its sender again and audited
again, which discloses nothing the request had not. Behind this check each change is still made once per
interaction (``bot.deliveries.claim_in``), so a copy that got past it would change nothing twice.
Socket Mode requests are not signed (the WebSocket is authenticated): nothing to replay from outside.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from sqlalchemy.exc import OperationalError

from bot import deliveries
from bot.access import Asker, Requester, identify
from bot.audit import AuditEntry, group_commit, record_separately
from bot.runtime import Runtime
from bot.slack.bot_dms import BotDms
from bot.slack.user_groups import UserGroups
from commands.mo.pipeline import audit_detail, plan

log = logging.getLogger("mo_bot.app")

ASKED = "mo_asked"


@dataclass(frozen=True)
class Asked:
    """What every listener knows about its request: the process's Runtime and who is asking."""

    rt: Runtime
    asker: Asker

    def __deepcopy__(self, memo: dict[int, Any]) -> Asked:
        # Bolt deep-copies the context for lazy listeners. This holder is immutable and its Runtime (engine,
        # session factory, clock) must stay the process's one, so the copy is the holder itself.
        return self

    @property
    def user_id(self) -> str:
        return self.asker.requester.user_id

    @property
    def team_id(self) -> str | None:
        return self.asker.requester.team_id

    def audit_refusal(self, action: str, detail: str) -> None:
        """Record a request refused before any work (its own transaction: nothing else is written)."""
        entry = AuditEntry(
            actor=self.user_id, action=action, outcome="refused", detail=detail[:500], team_id=self.team_id
        )
        record_separately(self.rt.sessions, entry, at=self.rt.clock.now())


def asked(context: BoltContext) -> Asked:
    """The request's :class:`Asked`, put there by :class:`Identify` (an app built without it is a bug)."""
    found = context.get(ASKED)
    if not isinstance(found, Asked):
        raise LookupError("no asker in the Bolt context: build the app with commands.app.build_app")
    return found


def requester_from(body: dict[str, Any], user_groups: Callable[[str], tuple[str, ...]]) -> Requester:
    """The asker of a slash command (``user_id``, ``team_id``, ``channel_id``), an interaction (``user``, ``team``,
    ``channel`` or ``container``) or an event (``event.user``, ``team_id``, ``event.channel``).

    The team is the asker's own workspace (``team_id``, then ``team.id``, then ``user.team_id``), not Bolt's
    ``context.team_id``, which prefers the workspace the app is installed in (``view.app_installed_team_id``,
    ``authorizations``): the force is always the asker's workspace's."""
    user_obj, event = _dict(body, "user"), _dict(body, "event")
    event_user, event_channel = event.get("user"), event.get("channel")
    user = body.get("user_id") or user_obj.get("id") or (event_user if isinstance(event_user, str) else "") or ""
    team = body.get("team_id") or _dict(body, "team").get("id") or user_obj.get("team_id")
    channel = (
        body.get("channel_id")
        or _dict(body, "channel").get("id")
        or _dict(body, "container").get("channel_id")
        or (event_channel if isinstance(event_channel, str) else None)
    )
    return Requester(
        user_id=user,
        team_id=team,
        channel_id=channel,
        channel_is_dm=bool(channel and channel.startswith("D")) or body.get("channel_name") == "directmessage",
        user_groups=user_groups(user) if user else (),
    )


def _dict(body: dict[str, Any], key: str) -> dict[str, Any]:
    found = body.get(key)
    return found if isinstance(found, dict) else {}


class Identify(Middleware):
    """Who is asking, resolved once per request (see the module docstring)."""

    def __init__(self, rt: Runtime, groups: UserGroups, dms: BotDms) -> None:
        self.rt = rt
        self.groups = groups
        self.dms = dms

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        body = req.body if isinstance(req.body, dict) else {}
        membership = self.groups.membership
        who = requester_from(body, lambda user: membership(user).groups)
        if who.user_id:
            who = replace(who, groups_confirmed=membership(who.user_id).confirmed)
        if who.channel_is_dm and who.user_id and who.channel_id:
            bot_dm = self.dms.is_bot_dm(who.user_id, who.channel_id)
            if bot_dm is None and req.context.client is not None:
                self.dms.look_up_later(req.context.client, who.user_id)
            who = replace(who, bot_dm=bot_dm)
        req.context[ASKED] = Asked(self.rt, identify(self.rt.config, who))
        return next()


def delivery_key(body: dict[str, Any]) -> str | None:
    """The claim key of an Events API delivery (``event_id``), or None for anything else."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    return None


# A longer text is claimed rather than parsed here: parsing it is the listener's (which refuses what is too long).
_PLAN_MAX_CHARS = 4000
# Whether a question is deferred depends on its text alone, and the same few hundred questions are asked all day:
# short ones are remembered, so the hot path does not parse each one twice (here and in the listener).
_REMEMBER_MAX_CHARS = 500
# Interactive payloads (``payload.type``): each can change something or open a view, so each is claimed.
_INTERACTIONS = frozenset(
    {"block_actions", "view_submission", "view_closed", "shortcut", "message_action", "interactive_message",
     "dialog_submission"}
)  # fmt: skip


@functools.lru_cache(maxsize=4096)
def _deferred(text: str) -> bool:
    return plan(text).deferred


def replay_key(req: BoltRequest) -> str | None:
    """The claim key of a signed request that can change something or reach anyone (``sig:`` + its signature), or
    None: events (claimed by event id), read-only ``/mo`` questions answered in the ack, Socket Mode."""
    body = req.body if isinstance(req.body, dict) else {}
    signatures = req.headers.get("x-slack-signature") or ()
    if req.mode == "socket_mode" or not signatures:
        return None
    if "command" in body:
        text = body.get("text")
        text = text if isinstance(text, str) else ""
        if len(text) <= _REMEMBER_MAX_CHARS:
            if not _deferred(text):
                return None
        elif len(text) <= _PLAN_MAX_CHARS and not plan(text).deferred:
            return None
    elif body.get("type") not in _INTERACTIONS:
        return None  # events (claimed by event id), options loads as someone types: read-only
    return f"sig:{signatures[0]}"


DEAD_ATTEMPT_S = 30  # an event claim this old, with no answer, was made by an attempt that died
CLAIM_WAIT_MS = 1000  # a claim on the ack path waits at most this for a lock: Slack gives up after 3 s
BUSY = (
    ":warning: I couldn't take this request just now (the database is busy — an import may be being written). "
    "Nothing was done; please try again in a minute."
)


class Dedupe(Middleware):
    """Retried and replayed deliveries acknowledged without running again (see the module docstring)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        retries = req.headers.get("x-slack-retry-num") or ()
        retry = retries[0] if retries else None
        key = delivery_key(req.body) if isinstance(req.body, dict) else None
        if key is None:
            if retry is not None:
                log.warning("mo-bot: ignored a retried delivery Slack does not retry (retry %r)", retry[:20])
                return BoltResponse(status=200, body="")
            replay = replay_key(req)
            if replay is None:
                return next()
            try:
                first = deliveries.claim(self.rt.sessions, replay, self.rt.clock.now(), wait_ms=CLAIM_WAIT_MS)
            except OperationalError:
                return self._busy(req, next)
            if not first:
                self._replayed(req)
                return BoltResponse(status=200, body="")
            return next()
        try:
            first = deliveries.claim(self.rt.sessions, key, self.rt.clock.now(), wait_ms=CLAIM_WAIT_MS)
        except OperationalError:
            # Not run, not claimed: a non-2xx makes Slack deliver the event again later.
            log.warning("mo-bot: %s not claimed (the database is busy); Slack will retry it", key)
            return BoltResponse(status=503, body="")
        if not first and retry is not None and self._dead_attempt(key):
            log.warning("mo-bot: %s was claimed by an attempt that never finished; Slack's retry runs it", key)
            return next()
        if not first:
            log.info("mo-bot: %s already handled; acknowledged retry %r without redoing it", key, (retry or "")[:20])
            return BoltResponse(status=200, body="")
        return next()

    def _dead_attempt(self, key: str) -> bool:
        """Whether the claim on ``key`` belongs to an attempt that died before answering (its process killed):
        Slack retries only a delivery it got no 2xx for, and an attempt acks within 3 s or never, so a claim older
        than :data:`DEAD_ATTEMPT_S` is taken over (once: a conditional UPDATE). A failed attempt that lived gave
        its claim back itself (:func:`on_listener_error`)."""
        now = self.rt.clock.now()
        try:
            return deliveries.take_over(self.rt.sessions, key, now, now - dt.timedelta(seconds=DEAD_ATTEMPT_S))
        except OperationalError:
            return False

    def _busy(self, req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """The replay claim could not be written within :data:`CLAIM_WAIT_MS` (an import holds SQLite's write lock):
        a slash command is told to try again, nothing done, in the ack; a click or form is run without its
        signature claimed — the change it asks for is still made once (it claims its interaction in its own
        transaction, ``bot.deliveries.claim_in``) — rather than lost while the user waits."""
        body = req.body if isinstance(req.body, dict) else {}
        if "command" in body:
            log.warning("mo-bot: a /mo request could not be claimed (the database is busy); not taken")
            who = requester_from(body, lambda _user: ())
            text = body.get("text")
            entry = AuditEntry(
                actor=str(who.user_id)[:64] or "?",
                action="accept",
                outcome="refused",
                detail=f"not accepted (database busy): {audit_detail(text if isinstance(text, str) else '')}",
                team_id=who.team_id[:32] if isinstance(who.team_id, str) else None,
                channel_id=who.channel_id[:32] if isinstance(who.channel_id, str) else None,
            )
            group_commit(self.rt.engine).append(entry, at=self.rt.clock.now())
            reply = json.dumps({"response_type": "ephemeral", "text": BUSY})
            return BoltResponse(status=200, body=reply, headers={"content-type": "application/json;charset=utf-8"})
        log.warning("mo-bot: an interaction's replay claim could not be written (the database is busy); run anyway")
        return next()

    def _replayed(self, req: BoltRequest) -> None:
        """Log and audit a replay (nothing of its content: who, which workspace, what kind of request)."""
        body = req.body if isinstance(req.body, dict) else {}
        who = requester_from(body, lambda _user: ())
        kind = "command" if "command" in body else "interaction"
        log.warning("mo-bot: a replayed %s (signature already seen) was acknowledged without running", kind)
        entry = AuditEntry(
            actor=str(who.user_id)[:64] or "?",
            action=kind,
            outcome="refused",
            detail="replay: the same signed request was already received; not run again",
            team_id=who.team_id[:32] if isinstance(who.team_id, str) else None,
            channel_id=who.channel_id[:32] if isinstance(who.channel_id, str) else None,
        )
        # With the other requests' audit rows (one multi-row INSERT): a burst of copies costs little.
        group_commit(self.rt.engine).append(entry, at=self.rt.clock.now())


def on_listener_error(rt: Runtime) -> Callable[[Exception, BoltRequest], None]:
    """The app's listener error handler (``app.error``): a listener that raised is logged — its error, never the
    request's content — and, for an Events API delivery, the delivery's claim is given back so that Slack's retry
    (Bolt answers the failed attempt with a 500) runs it again. Bolt runs listeners after every middleware, so this
    is where a failure is known, not in :class:`Dedupe`."""

    def handle(error: Exception, request: BoltRequest) -> None:
        log.error("mo-bot: a Slack listener failed: %s", type(error).__name__, exc_info=error)
        key = delivery_key(request.body) if isinstance(request.body, dict) else None
        if key is None:
            return
        try:
            deliveries.release(rt.sessions, key)
        except Exception:  # the retry is then acknowledged without running, as before: say so
            log.exception("mo-bot: could not release %s after a failed attempt; Slack's retry will be dropped", key)
            return
        log.warning("mo-bot: %s failed; released so that Slack's retry runs it again", key)

    return handle
