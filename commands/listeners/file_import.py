"""Exports sent to the bot: a file shared in a direct message with the bot (a ``message`` event of subtype
``file_share``) is imported by :mod:`bot.file_imports.service`, and the Confirm / Cancel / dataset buttons of its
replies (``action_id`` starting ``mo_fimp_``) decide what waits.

The event and the click are acknowledged at once; everything else — ``files.info``, the download, the import, the
reply in the file's thread — runs on Bolt's lazy listener, never on the ack path. Slack's retry of the event is not
run again (:class:`commands.middleware.Dedupe` claims its ``event_id``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.file_imports.service import decide, offer_file, pending
from bot.file_imports.types import (
    BeforeCommit,
    Decided,
    FetchFailed,
    FileOffer,
    ImportOptions,
    Outcome,
    Place,
    Refused,
    Sender,
)
from bot.slack.file_download import downloader, file_info, offer_of
from bot.slack.render_file_import import (
    ACTION_PREFIX,
    AUTO,
    CANCEL,
    CONFIRM,
    DATASET,
    FORM,
    FORM_FILE_BLOCK,
    Reply,
    render,
)
from commands.import_text import ImportTextError, parse_import_text
from commands.middleware import Asked, asked

log = logging.getLogger("mo_bot.file_import")

MAX_FILES = 5  # files in one message that are imported (Slack allows 10); the rest are told to come one by one


def register(app: App, *, before_commit: BeforeCommit | None = None) -> None:
    """``before_commit``: run in each import's transaction just before it commits (the app passes the standard
    answers' computation, commands/mo/warm.py, unless MO_WARM_ANSWERS=0)."""

    def file_share(event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        on_file_share(event, body, client, context, before_commit)

    def button(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        on_button(body, client, context, before_commit)

    def form(view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        on_form(view, client, context, before_commit)

    app.event({"type": "message", "subtype": "file_share"})(ack=_ack, lazy=[file_share])
    app.action(re.compile(f"^{ACTION_PREFIX}"))(ack=_ack, lazy=[button])
    app.view(FORM)(ack=on_form_ack, lazy=[form])


def _ack(ack: Ack) -> None:
    ack()


def sender_of(who: Asked, channel_id: str) -> Sender:
    a = who.asker
    return Sender(
        user_id=who.user_id,
        team_id=who.team_id,
        force=a.force,
        role=a.role,
        channel_id=channel_id,
        channel_is_dm=a.requester.channel_is_dm,
        refusal=a.refusal,
    )


def _from_the_bot(body: dict[str, Any], event: dict[str, Any]) -> bool:
    if event.get("bot_id"):
        return True
    bot_users = {a.get("user_id") for a in body.get("authorizations") or [] if isinstance(a, dict) and a.get("is_bot")}
    return event.get("user") in bot_users


def on_file_share(
    event: dict[str, Any],
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    before_commit: BeforeCommit | None = None,
) -> None:
    if _from_the_bot(body, event):
        return  # the bot's own uploads (a report in a thread) are not exports
    who = asked(context)
    channel, ts = str(event.get("channel") or ""), str(event.get("ts") or "")
    files = [f for f in event.get("files") or [] if isinstance(f, dict)]
    if not channel or not ts or not files:
        return
    place = Place(channel, ts)
    sender = sender_of(who, channel)
    try:
        options: Any = parse_import_text(str(event.get("text") or ""))
    except ImportTextError as e:
        options = str(e)
    for f in files[:MAX_FILES]:
        outcome = _offer(who, sender, client, offer_of(f), options, place, before_commit)
        _post(client, place, render(outcome))
    if len(files) > MAX_FILES:
        text = f"I import at most {MAX_FILES} files from one message; send the others in another message."
        _post(client, place, Reply(text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]))


def _offer(
    who: Asked,
    sender: Sender,
    client: WebClient,
    seen: FileOffer,
    options: Any,
    place: Place,
    before_commit: BeforeCommit | None,
) -> Outcome:
    try:
        # Slack's own description now (files.info), not only the event's: the size and address it will serve.
        offer = file_info(client, seen.file_id) if seen.file_id else seen
    except FetchFailed as e:
        return offer_file(who.rt, sender, seen, str(e), place, downloader(client, ""))
    return offer_file(who.rt, sender, offer, options, place, downloader(client, offer.url), before_commit)


def on_button(
    body: dict[str, Any], client: WebClient, context: BoltContext, before_commit: BeforeCommit | None = None
) -> None:
    who = asked(context)
    act = (body.get("actions") or [{}])[0]
    action_id, token = str(act.get("action_id") or ""), str(act.get("value") or "")
    if action_id == CONFIRM:
        choice = "confirm"
    elif action_id == CANCEL:
        choice = "cancel"
    elif action_id.startswith(DATASET):
        choice = action_id[len(DATASET) :]
    else:
        return
    found = pending(who.rt, token)
    channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")
    sender = sender_of(who, channel)
    if found is None:
        outcome: Outcome = Decided("That request is no longer known. Nothing was imported; send the file again.")
        place = Place(channel, str((body.get("message") or {}).get("thread_ts") or ""))
    else:
        place = Place(found.channel_id, found.thread_ts)
        outcome = decide(who.rt, sender, token, choice, downloader(client, found.file_url), before_commit)
    taken = not isinstance(outcome, Refused) and not (isinstance(outcome, Decided) and not outcome.taken)
    message = body.get("message") or {}
    if taken and message.get("ts") and channel:
        verb = {"confirm": "Confirmed", "cancel": "Cancelled"}.get(choice, f"Chosen: {choice}")
        text = f"{verb} by <@{who.user_id}>."
        try:
            client.chat_update(
                channel=channel,
                ts=str(message["ts"]),
                text=text,
                blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            )
        except SlackApiError:
            log.warning("mo-bot: could not take the buttons off a decided import prompt", exc_info=True)
    _post(client, place, render(outcome))


def _post(client: WebClient, place: Place, reply: Reply) -> None:
    thread = place.thread_ts or None
    try:
        client.chat_postMessage(channel=place.channel_id, thread_ts=thread, text=reply.text, blocks=reply.blocks)
        if reply.report_csv is not None:
            client.files_upload_v2(
                channel=place.channel_id,
                thread_ts=thread,
                content=reply.report_csv,
                filename="import-report.csv",
                title="Import report: every problem found",
            )
    except SlackApiError:
        log.warning("mo-bot: could not reply to an export in its thread", exc_info=True)


def _form_values(view: dict[str, Any]) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    out: dict[str, Any] = {}
    for block in values.values():
        for action_id, v in block.items():
            out[action_id] = v
    return out


def _form_file(view: dict[str, Any]) -> dict[str, Any] | None:
    files = (_form_values(view).get("file") or {}).get("files") or []
    return files[0] if files and isinstance(files[0], dict) else None


def on_form_ack(ack: Ack, view: dict[str, Any]) -> None:
    if _form_file(view) is None:
        ack(response_action="errors", errors={FORM_FILE_BLOCK: "Choose the export to import."})
        return
    ack()


def on_form(
    view: dict[str, Any], client: WebClient, context: BoltContext, before_commit: BeforeCommit | None = None
) -> None:
    """The form's file, imported like a file sent to the DM; the replies go in the sender's DM with the bot, in the
    thread of a first message naming the file."""
    who = asked(context)
    file = _form_file(view)
    if file is None:
        return
    values = _form_values(view)
    dataset = ((values.get("dataset") or {}).get("selected_option") or {}).get("value")
    snapshot = bool((values.get("snapshot") or {}).get("selected_options"))
    day = (values.get("as_of") or {}).get("selected_date")
    since = (values.get("covers_from") or {}).get("selected_date")
    options = ImportOptions(
        dataset=None if dataset in (None, AUTO) else str(dataset),
        as_of=dt.date.fromisoformat(day) if day else None,
        snapshot=snapshot,
        covers_from=dt.date.fromisoformat(since) if since else None,
    )
    seen = offer_of(file)
    try:
        dm = client.conversations_open(users=who.user_id)["channel"]["id"]
        anchor = client.chat_postMessage(channel=dm, text=f"Importing `{seen.name}` from the import form…")
    except SlackApiError:
        log.warning("mo-bot: could not open a DM for an import form", exc_info=True)
        return
    place = Place(dm, str(anchor["ts"]))
    # The form is private to its sender, as a DM is: its file was never shown in a channel.
    sender = replace(sender_of(who, dm), channel_is_dm=True)
    _post(client, place, render(_offer(who, sender, client, seen, options, place, before_commit)))
