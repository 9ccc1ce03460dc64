"""The ``/mo`` slash command: a thin listener over ``commands.mo.pipeline``.

Fast answers (counts, help, errors) are computed inside the ack, so the user gets them in one round trip.
Answers the `/mo` pipeline marks as deferred (``plan(text).deferred``: case lists, anything slow) are acked at
once with a short "working on it" note and finished on Bolt's listener executor, which posts to the command's
``response_url``. ``plan`` only parses — no database, no matplotlib, no import work on the ack path.

``--share`` answers carry ``response_type="in_channel"``: Slack accepts that in the ack of a slash command (and
through ``response_url``), and shows the answer to the channel with the command that asked for it.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from commands.middleware import Asked, asked
from commands.mo.catalog import default_registry
from commands.mo.parser import ParseError, check_text, normalise
from commands.mo.pipeline import answer, plan
from commands.mo.reply import SlackContext

log = logging.getLogger("mo_bot.commands.mo")

COMMAND = "/mo"
WORKING = ":hourglass_flowing_sand: Working on it — the answer will appear here in a moment."


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
        ack(text=WORKING, response_type="ephemeral")
        # Deferred answers run on Bolt's own listener executor (the pool its lazy listeners use), started here
        # rather than by a lazy listener: Bolt starts a lazy listener on every request its listener matches (a deep
        # copy of the request and a thread hand-off, ~1 ms), which the answers given in the ack must not pay, and a
        # second listener to route them would make Bolt build its arguments twice per request.
        context.listener_runner.listener_executor.submit(finish_mo, who, command, client, respond)
        return
    reply = answer(who.rt, who.asker, text, slack=_slack_context(command, client))
    ack(text=reply.text, blocks=reply.blocks, response_type=reply.response_type)


def finish_mo(who: Asked, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
    """A deferred answer, posted to the command's ``response_url``."""
    try:
        text = command.get("text") or ""
        reply = answer(who.rt, who.asker, text, slack=_slack_context(command, client), deferred=True)
        # An ephemeral answer replaces the "working on it" note; a shared one is posted to the channel as new.
        resp = respond(
            text=reply.text,
            blocks=reply.blocks,
            response_type=reply.response_type,
            replace_original=reply.response_type == "ephemeral",
        )
        if resp.status_code != 200:
            log.error("mo-bot: response_url refused the answer: HTTP %s %s", resp.status_code, resp.body)
    except Exception:  # answer() never raises; this is the response_url post (network)
        log.exception("mo-bot: a deferred /mo answer could not be delivered")


def _slack_context(command: dict[str, Any], client: WebClient) -> SlackContext:
    return SlackContext(client=client, trigger_id=command.get("trigger_id"), response_url=command.get("response_url"))
