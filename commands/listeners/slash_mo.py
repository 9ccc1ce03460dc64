"""The ``/mo`` slash command: a thin listener over ``commands.mo.pipeline``.

Fast answers (counts, help, errors) are computed inside the ack, so the user gets them in one round trip.
Answers the `/mo` pipeline marks as deferred (``plan(text).deferred``: case lists, anything slow) are acked at
once with an empty body — Slack shows nothing for it — and finished on Bolt's listener executor, which posts the
one answer to the command's ``response_url``. A "working on it" note in the ack would stay on screen beside the
answer: a slash command's response_url cannot replace the ack's message (Slack ignores ``replace_original`` there:
bolt-python#1268, bolt-js#2287), so the user would see two messages for one question. ``plan`` only parses — no
database, no matplotlib, no import work on the ack path.

A deferred request is written down before it is acknowledged (:mod:`bot.accepted_work`: the request and its
audit row, one transaction) and marked done when answered; :class:`Resumer` — started by `mo-bot serve` in every
process — keeps the leases of what this process is answering and answers what a stopped process left, while Slack
still takes an answer at its ``response_url``, or records it expired. A request that cannot be written down is not
acknowledged as accepted: the user is told to try again, and nothing was done.

``--share`` answers carry ``response_type="in_channel"``: Slack accepts that in the ack of a slash command (and
through ``response_url``), and shows the answer to the channel with the command that asked for it.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from bot.accepted_work import RENEW_EVERY, TAKE_AT_ONCE, Accepted, AcceptedWork, NewRequest
from bot.access import Requester, identify
from bot.audit import AuditEntry, group_commit
from bot.db import one_per_engine
from bot.runtime import Runtime
from bot.settings import Settings
from bot.slack.bot_dms import shared_bot_dms
from bot.slack.client import make_client
from bot.slack.user_groups import shared_user_groups
from bot.withheld import withhold_reference
from commands.middleware import BUSY, Asked, asked
from commands.mo.catalog import default_registry
from commands.mo.parser import ParseError, check_text, normalise
from commands.mo.pipeline import answer, plan
from commands.mo.reply import SlackContext

log = logging.getLogger("mo_bot.commands.mo")

COMMAND = "/mo"
MAX_ACCEPT_DETAIL = 1000  # as the answer's audit row keeps it
GROUPS_WAIT_S = 5.0  # how long a deferred answer waits for the process's first read of the user groups
RESUME_GROUPS_WAIT_S = 20.0  # the same for one the Resumer takes up (its own threads, and it waits anyway)
DEFERRED_THREADS = 8  # deferred answers answered at once by one process; more wait their turn (30 min to answer)
NOT_TAKEN = BUSY  # the same words whichever write could not be made in time


@functools.cache
def _deferral_words() -> tuple[frozenset[str], tuple[str, ...]]:
    """Sub-command names (and aliases) that are always deferred, and every flag that defers its sub-command."""
    reg = default_registry()
    commands = frozenset(n.lower() for spec in reg if spec.deferred for n in (spec.name, *spec.aliases))
    flags = tuple(sorted({f.lower() for spec in reg for f in spec.deferred_flags}))
    return commands, flags


def is_deferred(text: str) -> bool:
    """``plan(text).deferred``, without parsing the text twice on the common path: a question that names no
    deferred sub-command and no deferring flag (after Slack's dashes and quotes are normalised) is answered in the
    ack, so only the few that might defer pay a full parse here (the answer parses once more either way). Text the
    pipeline refuses unread (too long, control characters) is answered in the ack, before any normalising."""
    try:
        check_text(text)
    except ParseError:
        return False
    commands, flags = _deferral_words()
    norm = normalise(text).lower()
    if norm.split(" ", 1)[0] not in commands and not any(f in norm for f in flags):
        return False
    return plan(text).deferred


def register(app: App) -> None:
    plan("help")  # build the parser and registry now, not on a user's first request
    app.command(COMMAND)(on_mo)


def on_mo(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    text = command.get("text") or ""
    who = asked(context)
    if is_deferred(text):
        work = accepted_work(who.rt)
        try:
            accepted = work.accept(_new_request(who, command, text), _acceptance(who, text))
        except (OperationalError, sqlite3.OperationalError):
            log.warning("mo-bot: a deferred /mo request could not be written down; not accepted", exc_info=True)
            _audit_not_taken(who, text)
            ack(text=NOT_TAKEN, response_type="ephemeral")
            return
        # Nothing shown now: the answer, posted to the response_url, is the one message the user sees.
        ack()
        # Deferred answers run on a pool of their own, started here rather than by a lazy listener: Bolt starts a
        # lazy listener on every request its listener matches (a deep copy of the request and a thread hand-off,
        # ~1 ms), which the answers given in the ack must not pay, and a second listener to route them would make
        # Bolt build its arguments twice per request. Not on Bolt's listener executor (5 threads): a few slow answers
        # (charts, a case list) there would make the lazy listeners that open modals wait past their trigger_id's
        # 3 seconds (bench/bench_slow_slack.py measured 14 of 80 modals lost that way).
        deferred_pool().submit(finish_mo, who, command, client, respond, accepted, work)
        return
    reply = answer(who.rt, who.asker, text, slack=_slack_context(command, client))
    ack(text=reply.text, blocks=reply.blocks, response_type=reply.response_type)
    if reply.open_view is not None:
        _open_after_the_ack(client, command.get("trigger_id"), reply.open_view)


def _open_after_the_ack(client: WebClient, trigger_id: object, view: dict[str, Any]) -> None:
    """Open a form the answer asked for, first thing after the ack (its trigger_id lasts 3 s). With
    ``process_before_response`` Bolt sends the ack when this listener returns, so the call goes on a thread that
    waits for nothing but Slack."""
    if not isinstance(trigger_id, str):
        return

    def open_it() -> None:
        try:
            client.views_open(trigger_id=trigger_id, view=view)
        except Exception:
            log.warning("mo-bot: a /mo form could not be opened", exc_info=True)

    threading.Thread(target=open_it, name="mo-bot-open-form", daemon=True).start()


def finish_mo(
    who: Asked, command: dict[str, Any], client: WebClient, respond: Respond, accepted: Accepted, work: AcceptedWork
) -> None:
    """A deferred answer, posted to the command's ``response_url``; the accepted request is then marked done."""
    outcome = "undelivered"
    try:
        text = command.get("text") or ""
        asker = who.asker
        if asker.role_unconfirmed:
            # Off the ack, a role that rests on a user group can wait for the process's first read of the groups.
            groups = shared_user_groups(who.rt, who.rt.config)
            if groups.wait_confirmed(GROUPS_WAIT_S):
                r = asker.requester
                member = groups.membership(r.user_id)
                asker = identify(who.rt.config, replace(r, user_groups=member.groups, groups_confirmed=True))
        reply = answer(who.rt, asker, text, slack=_slack_context(command, client), deferred=True)
        resp = respond(text=reply.text, blocks=reply.blocks, response_type=reply.response_type)
        if resp.status_code == 200:
            outcome = reply.outcome
        else:
            log.error("mo-bot: response_url refused the answer: HTTP %s", resp.status_code)
    except Exception:  # answer() never raises; this is the response_url post (network)
        log.exception("mo-bot: a deferred /mo answer could not be delivered")
    try:
        if not work.finish(accepted, outcome):
            log.warning("mo-bot: deferred /mo request %s was taken over before it was marked done", accepted.id)
    except Exception:  # answered; the row's lease lapses and another process answers it again
        log.exception("mo-bot: deferred /mo request %s answered but not marked done", accepted.id)


_deferred: ThreadPoolExecutor | None = None
_deferred_lock = threading.Lock()


def deferred_pool() -> ThreadPoolExecutor:
    """The process's pool for deferred /mo answers (made on first use)."""
    global _deferred
    with _deferred_lock:
        if _deferred is None:
            _deferred = ThreadPoolExecutor(max_workers=DEFERRED_THREADS, thread_name_prefix="mo-bot-deferred")
        return _deferred


def accepted_work(rt: Runtime) -> AcceptedWork:
    """This process's :class:`AcceptedWork` for ``rt``'s database (one holder per process and database)."""
    return one_per_engine(_works, rt.engine, lambda _engine: AcceptedWork(rt.sessions, rt.clock))


_works: weakref.WeakKeyDictionary[Engine, AcceptedWork] = weakref.WeakKeyDictionary()


def _new_request(who: Asked, command: dict[str, Any], text: str) -> NewRequest:
    r = who.asker.requester
    trigger = command.get("trigger_id")
    return NewRequest(
        trigger_id=trigger if isinstance(trigger, str) and trigger else None,
        user_id=r.user_id,
        team_id=r.team_id,
        channel_id=r.channel_id,
        channel_is_dm=r.channel_is_dm,
        text=text,
        response_url=command.get("response_url") or "",
        force=who.asker.force.slug if who.asker.force else None,
    )


def _acceptance(who: Asked, text: str) -> AuditEntry:
    r = who.asker.requester
    return AuditEntry(
        actor=r.user_id,
        action="accept",
        outcome="ok",
        detail=_audit_text(text),
        force=who.asker.force.slug if who.asker.force else None,
        team_id=r.team_id,
        channel_id=r.channel_id,
    )


def _audit_text(text: str) -> str:
    """The request's text as the answer's audit row keeps it: normalised (Slack's dashes and quotes), a
    ``--reference`` value withheld (the answer's own row holds its HMAC), cut short."""
    norm = withhold_reference(normalise(text) or "help")
    return norm if len(norm) <= MAX_ACCEPT_DETAIL else norm[: MAX_ACCEPT_DETAIL - 1] + "…"


def _audit_not_taken(who: Asked, text: str) -> None:
    entry = _acceptance(who, text)
    entry = replace(entry, outcome="refused", detail=f"not accepted (database busy): {entry.detail}")
    try:
        group_commit(who.rt.engine).append(entry, at=who.rt.clock.now())
    except Exception:
        log.exception("mo-bot: could not audit a deferred /mo request that was not accepted")


class Resumer:
    """Keeps the leases of the deferred requests this process is answering, and answers those a stopped process
    left (:meth:`bot.accepted_work.AcceptedWork.take_unfinished`) or records them expired — every few seconds, on a
    daemon thread of each `mo-bot serve` process (one for every worker and replica: the claims decide which process
    answers a request). What it takes up is answered on a few threads of its own, so that the leases are renewed
    on time however long the answers take."""

    def __init__(
        self, rt: Runtime, client: WebClient, *, every: float = RENEW_EVERY.total_seconds(), workers: int = 4
    ) -> None:
        self.rt = rt
        self.client = client
        self.work = accepted_work(rt)
        self.groups = shared_user_groups(rt, rt.config)
        self.every = every
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mo-bot-resume")
        self._in_flight: set[Future[None]] = set()
        self._stop = threading.Event()
        self._rounds = 0

    def run_once(self, *, wait: bool = True) -> list[Accepted]:
        """One round: renew the leases, expire, take up what a stopped process left (no more than the threads can
        start on soon) and answer it — waiting for those answers unless ``wait`` is False (the loop does not)."""
        self.work.renew()
        for gone in self.work.expire_stale():
            log.warning("mo-bot: deferred /mo request %s expired unanswered (its process stopped)", gone.id)
        self._in_flight = {f for f in self._in_flight if not f.done()}
        # Taken ones waiting for a thread keep their leases (renewed here every round); a bound on them leaves the
        # rest to other processes.
        room = TAKE_AT_ONCE - len(self._in_flight)
        taken = self.work.take_unfinished(limit=room) if room > 0 else []
        started = []
        for acc in taken:
            log.warning("mo-bot: answering deferred /mo request %s left by a stopped process", acc.id)
            started.append(self._pool.submit(self._answer, acc))
        self._in_flight.update(started)
        if wait:
            futures_wait(started)
        self._rounds += 1
        if self._rounds % 720 == 1:  # about hourly
            self.work.purge()
        return taken

    def _answer(self, acc: Accepted) -> None:
        req = acc.request
        # A thread of the Resumer's own: it may wait for the groups and ask Slack which DM is the bot's.
        self.groups.start(self.client)
        member = self.groups.membership(req.user_id)
        if not member.confirmed and self.groups.wait_confirmed(RESUME_GROUPS_WAIT_S):
            member = self.groups.membership(req.user_id)
        bot_dm = None
        if req.channel_is_dm and req.user_id and req.channel_id:
            bot_dm = shared_bot_dms(self.rt).resolve(self.client, req.user_id) == req.channel_id
        requester = Requester(
            user_id=req.user_id,
            team_id=req.team_id,
            channel_id=req.channel_id,
            channel_is_dm=req.channel_is_dm,
            user_groups=member.groups,
            groups_confirmed=member.confirmed,
            bot_dm=bot_dm,
        )
        who = Asked(self.rt, identify(self.rt.config, requester))
        command = {
            "text": req.text,
            "response_url": req.response_url,
            # The invocation's own trigger_id: a change it already made is not made again (bot.deliveries).
            "trigger_id": req.trigger_id,
            "user_id": req.user_id,
            "team_id": req.team_id,
            "channel_id": req.channel_id,
        }
        finish_mo(who, command, self.client, Respond(response_url=req.response_url), acc, self.work)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._loop, name="mo-bot-resumer", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once(wait=False)
            except Exception:  # a database blip: the next round tries again
                log.exception("mo-bot: resuming deferred /mo requests failed; trying again")
            self._stop.wait(self.every)


def start_resuming(rt: Runtime, settings: Settings) -> Resumer:
    """Start this process's :class:`Resumer` (`mo-bot serve`, in each worker, and in Socket Mode)."""
    resumer = Resumer(rt, make_client(settings.bot_token, settings.api_url))
    resumer.start()
    return resumer


def _slack_context(command: dict[str, Any], client: WebClient) -> SlackContext:
    return SlackContext(client=client, trigger_id=command.get("trigger_id"), response_url=command.get("response_url"))
