"""The action log's controls on the bot's messages and App Home: overflow menus, buttons and list pages (every
``action_id`` starting ``mo_act_``).

A click that opens a modal (add, view, edit, note, a status that needs a reason) has the modal built in the ack
function (a database read) and opened by the lazy listener as its first call, right after the ack went: the ack
never waits for views.open, and the ``trigger_id`` (good for 3 seconds) is used at once. A click that changes
something (a status, a snooze) is written in the ack function; the lazy listener then redraws the clicked message
and keeps Slack in step (:mod:`commands.listeners.action_log_shared`).

Redrawing: a message in a channel or DM comes back with the click (``message``) and has its items redrawn in place.
An ephemeral message (every `/mo actions` list and `/mo action A-n` card) does not — Slack sends only
``container.is_ephemeral`` and a ``response_url`` — so it is drawn again whole from what the click names: a list
item's menu carries its list's filters and page (``bot.slack.render_actions.list_of``), a card's buttons their
action; and it replaces the original through the ``response_url``.

A control names the force whose log it is about; one that is not the clicker's force (or names none) is refused
and audited before anything is read (:func:`commands.listeners.action_log_shared.same_force`). A change is made
once per click: the click's ``trigger_id`` is claimed with it, so the same click arriving again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.action_log import queries, reminders, service
from bot.action_log.types import NOTE_REQUIRED, ActionChange, ActionView, Actor, HistoryEntry, Refusal
from bot.clock import today_in
from bot.config import Force
from bot.runtime import Runtime
from bot.slack import action_log_sync
from bot.slack.render_actions import (
    ACTION_PREFIX,
    Control,
    add_modal,
    edit_modal,
    list_of,
    note_modal,
    parse_value,
    refresh_blocks,
    render_action_card,
    render_action_list,
    render_refusal,
)
from commands.listeners.action_log_shared import (
    Changed,
    FollowUp,
    OpenModal,
    ShowPage,
    ShowRefusal,
    Snoozed,
    acting,
    follow_up,
    hand_over,
    message_modal,
    open_modal,
    same_force,
)
from commands.middleware import Asked, asked
from commands.mo.action_log import filters_from_json, filters_json, heading_for

log = logging.getLogger("mo_bot.actions")

# The buttons of an action's card (bot.slack.render_actions.render_action_card): an ephemeral card is redrawn whole.
CARD_BUTTONS = frozenset({f"{ACTION_PREFIX}done", f"{ACTION_PREFIX}note", f"{ACTION_PREFIX}edit"})


def register(app: App) -> None:
    app.action(re.compile(f"^{ACTION_PREFIX}"))(ack=on_action, lazy=[after_action])


def on_action(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    act = (body.get("actions") or [{}])[0]
    raw = (act.get("selected_option") or {}).get("value") or act.get("value") or ""
    who = asked(context)
    ident = acting(who)
    if isinstance(ident, Refusal):
        hand_over(context, _show_refusal(ident, dt.UTC))
        return
    force, actor = ident
    if str(act.get("action_id", "")).startswith(f"{ACTION_PREFIX}page_"):
        page = _page(who, force, actor, raw)
        if page is not None:
            hand_over(context, page)
        return
    try:
        control = parse_value(raw)
    except ValueError:
        log.warning("mo-bot: unreadable action value %r", raw[:100])
        return
    what = f"control {control.op!r:.40} on {control.reference!r:.24}"
    refusal = same_force(who, force, actor, control.force, what)
    if refusal is not None:
        hand_over(context, _show_refusal(refusal, force.timezone))
        return
    todo = _operate(who.rt, client, body, force, actor, control)
    if todo is not None:
        hand_over(context, todo)


def after_action(body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond) -> None:
    todo = follow_up(context)
    who = asked(context)
    rt = who.rt
    if isinstance(todo, OpenModal):
        open_modal(client, body, todo.view)
    elif isinstance(todo, ShowRefusal):
        _tell(client, body, respond, todo)
    elif isinstance(todo, ShowPage):
        respond(replace_original=True, text=todo.text, blocks=todo.blocks)
    elif isinstance(todo, Snoozed):
        _refresh_message(rt, client, body, respond, todo.force, {}, snoozed=todo.reference, who=who)
    elif isinstance(todo, Changed):
        ref = todo.action.reference
        _refresh_message(rt, client, body, respond, todo.force, {ref: todo.action}, who=who)
        action_log_sync.after_change(rt, client, todo.force, ref, todo.written, also_refresh=todo.refresh)


def _operate(
    rt: Runtime, client: WebClient, body: dict[str, Any], force: Force, actor: Actor, control: Control
) -> FollowUp | None:
    """Do what the clicked ``control`` (of ``force``'s log, checked) asks; what is left for the lazy listener."""
    op, ref, version = control.op, control.reference, control.version
    meta = _origin(body)
    once = f"click:{body['trigger_id']}" if body.get("trigger_id") else None
    if op == "add":
        return OpenModal(add_modal(force.slug, {**meta, "channel": None}, owner=actor.id))
    today = today_in(rt.clock, force.timezone)
    with rt.sessions() as s:
        current = queries.find_view(s, force, ref, today)
    if current is None:
        return _show_refusal(Refusal("not_found", f"there is no action {ref}"), dt.UTC)
    if op == "view":
        with rt.sessions() as s:
            detail = queries.get_action(s, force, actor, ref, today, rt.clock.now())
            s.commit()
        assert detail is not None
        return OpenModal(_card_modal(detail.action, detail.history, force))
    elif op == "note":
        return OpenModal(note_modal(current, meta))
    elif op == "edit":
        return OpenModal(edit_modal(current, meta))
    elif op.startswith("status:") and op[7:] in NOTE_REQUIRED:
        return OpenModal(note_modal(current, meta, status=op[7:]))
    elif op == "snooze":
        with rt.sessions() as s:
            refusal = reminders.snooze(s, force, actor, ref, rt.clock.now(), once=once)
            s.commit()
        return _show_refusal(refusal, force.timezone) if refusal is not None else Snoozed(force, ref)
    elif op.startswith("status:"):
        with rt.sessions() as s:
            change = ActionChange(ref, version, status=op[7:], once=once)
            result = service.change_action(s, force, actor, change, rt.clock)
            s.commit()
        if not result.ok:
            assert result.refusal is not None
            return _show_refusal(result.refusal, force.timezone)
        assert result.action is not None
        return Changed(force, result.action, result.written, (actor.id, current.owner_user_id))
    else:
        log.warning("mo-bot: unknown action op %r", op)
    return None


def _page(who: Asked, force: Force, actor: Actor, raw: str) -> ShowPage | ShowRefusal | None:
    """Another page of a list (the button names the list's force and filters)."""
    try:
        named, f, page_no = filters_from_json(raw)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    refusal = same_force(who, force, actor, named, "page button")
    if refusal is not None:
        return _show_refusal(refusal, force.timezone)
    rt = who.rt
    today = today_in(rt.clock, force.timezone)
    with rt.sessions() as s:
        page = queries.list_actions(s, force, actor, f, today, rt.clock.now(), page=page_no)
        s.commit()
    text, blocks = render_action_list(page, heading_for(f, actor.id), page_value=filters_json(f, force.slug))
    return ShowPage(text, blocks)


def _show_refusal(refusal: Refusal, tz: dt.tzinfo) -> ShowRefusal:
    text, blocks = render_refusal(refusal, tz)
    return ShowRefusal(text, blocks)


def _tell(client: WebClient, body: dict[str, Any], respond: Respond, refusal: ShowRefusal) -> None:
    """Show ``refusal`` to the person who clicked: in the conversation (ephemeral) or, from App Home, in a modal."""
    if body.get("response_url"):
        respond(text=refusal.text, blocks=refusal.blocks, response_type="ephemeral", replace_original=False)
    elif body.get("trigger_id"):
        try:
            client.views_open(trigger_id=body["trigger_id"], view=message_modal("Not changed", refusal.blocks))
        except SlackApiError as e:
            log.warning("mo-bot: could not show a refusal: %s", e.response.get("error"))


def _card_modal(a: ActionView, history: tuple[HistoryEntry, ...], force: Force) -> dict[str, Any]:
    _, blocks = render_action_card(a, history, force.timezone, interactive=False)
    return message_modal(a.reference, blocks)


def _origin(body: dict[str, Any]) -> dict[str, Any]:
    """Where the click came from, carried in a modal's metadata so the message can be refreshed after submit."""
    c = body.get("container") or {}
    if c.get("type") == "message" and c.get("channel_id") and c.get("message_ts"):
        msg: dict[str, Any] = {"ch": c["channel_id"], "ts": c["message_ts"], "eph": bool(c.get("is_ephemeral"))}
        blocks = (body.get("message") or {}).get("blocks") or []
        if str(c["channel_id"]).startswith("D"):
            # A reminder DM: remember its items so it can be redrawn after the modal is submitted.
            msg["refs"] = [b["block_id"][4:] for b in blocks if str(b.get("block_id", "")).startswith("act:")][:20]
        return {"msg": msg}
    return {}


def _refresh_message(
    rt: Runtime,
    client: WebClient,
    body: dict[str, Any],
    respond: Respond,
    force: Force,
    views: dict[str, ActionView],
    snoozed: str | None = None,
    who: Asked | None = None,
) -> None:
    """Redraw the clicked message with the current state of its items (new versions in their controls).

    A channel card the bot tracks is redrawn by ``after_change``; an ephemeral card is re-rendered whole; a list
    page or a reminder DM has its changed items redrawn in place."""
    message = body.get("message") or {}
    container = body.get("container") or {}
    blocks = message.get("blocks")
    if container.get("type") != "message":
        return
    ephemeral = bool(container.get("is_ephemeral"))
    if not blocks:
        if ephemeral and body.get("response_url") and who is not None:
            _redraw_ephemeral(who, body, respond, force)
        return
    today = today_in(rt.clock, force.timezone)
    is_card = any(str(b.get("block_id", "")).startswith("card:") for b in blocks)
    refs = [b["block_id"][4:] for b in blocks if str(b.get("block_id", "")).startswith("act:")]
    if is_card:
        if not ephemeral or not refs:
            return
        with rt.sessions() as s:
            detail = queries.get_action(
                s, force, Actor("job:slack-sync", "admin"), refs[0], today, rt.clock.now(), False
            )
        if detail is not None:
            text, new = render_action_card(detail.action, detail.history, force.timezone)
            respond(replace_original=True, text=text, blocks=new)
        return
    current: dict[str, ActionView] = {}
    with rt.sessions() as s:
        for r in refs:
            v = views.get(r) or queries.find_view(s, force, r, today)
            if v is not None:
                current[r] = v
    new_blocks = refresh_blocks(blocks, current, snoozed=snoozed)
    text = message.get("text") or "Action log"
    if ephemeral:
        respond(replace_original=True, text=text, blocks=new_blocks)
        return
    try:
        client.chat_update(channel=container["channel_id"], ts=container["message_ts"], text=text, blocks=new_blocks)
    except SlackApiError as e:
        log.info("mo-bot: could not refresh the clicked message: %s", e.response.get("error"))


def _redraw_ephemeral(who: Asked, body: dict[str, Any], respond: Respond, force: Force) -> None:
    """Draw a clicked ephemeral list or card again whole, from what the click names, over the original."""
    rt = who.rt
    act = (body.get("actions") or [{}])[0]
    on_list = list_of(str(act.get("action_id", "")))
    ident = acting(who)
    if isinstance(ident, Refusal):
        return
    if on_list is not None:
        page = _page(who, force, ident[1], on_list)
        if isinstance(page, ShowPage):
            respond(replace_original=True, text=page.text, blocks=page.blocks)
        return
    if act.get("action_id") not in CARD_BUTTONS:
        return  # not a list item nor a card's button: what the message was is not known, so it is left as it is
    raw = (act.get("selected_option") or {}).get("value") or act.get("value") or ""
    try:
        control = parse_value(raw)
    except ValueError:
        return
    if control.force != force.slug:
        return
    today = today_in(rt.clock, force.timezone)
    with rt.sessions() as s:
        detail = queries.get_action(
            s, force, Actor("job:slack-sync", "admin"), control.reference, today, rt.clock.now(), False
        )
    if detail is not None:
        text, blocks = render_action_card(detail.action, detail.history, force.timezone)
        respond(replace_original=True, text=text, blocks=blocks)
