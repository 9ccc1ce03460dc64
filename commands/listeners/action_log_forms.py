"""The action log's modals submitted: add an action, edit one, add a note (or the reason for a status).

The change is written in the ack function, so a refusal shows in the modal itself: next to the field at fault
(``response_action: errors``), or in place of the form when it is not allowed or someone changed the action
meanwhile. What only tells Slack about a committed change runs in the lazy listener
(:mod:`commands.listeners.action_log_shared`).

A form names the force it was opened for (its ``private_metadata``); one submitted by someone of another force,
or naming none, is refused and audited before anything is read. An owner picked in the form must be one of the
force's people (Slack is asked which workspaces they are in). A submission is carried out once: the view's id is
claimed with the change, so the same submission arriving again (a replay) creates or notes nothing more and just
closes; a submission refused with errors claims nothing, so the corrected form can still be saved.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.action_log import queries, service
from bot.action_log.types import ActionChange, ActionView, Actor, NewAction, Refusal
from bot.clock import today_in
from bot.config import Force
from bot.runtime import Runtime
from bot.slack import action_log_sync
from bot.slack.render_actions import CB_ADD, CB_EDIT, CB_NOTE, render_refusal, render_reminder
from commands.listeners.action_log_shared import (
    Changed,
    Created,
    acting,
    follow_up,
    hand_over,
    message_modal,
    same_force,
)
from commands.middleware import asked

log = logging.getLogger("mo_bot.actions")

# Which modal input block shows a refusal about which field.
FIELD_BLOCKS = {
    "title": "title",
    "detail": "detail",
    "pillar": "pillar",
    "owner": "owner",
    "due_on": "due_on",
    "status": "status",
    "source": "source",
}
NOT_A_DATE = "That is not a date; pick one from the calendar."


def register(app: App) -> None:
    for cb in (CB_ADD, CB_EDIT, CB_NOTE):
        app.view(cb)(ack=on_submit, lazy=[after_submit])


def on_submit(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    view = body["view"]
    who = asked(context)
    ident = acting(who)
    if isinstance(ident, Refusal):
        ack(response_action="update", view=message_modal("Not allowed", render_refusal(ident)[1]))
        return
    force, actor = ident
    meta = _meta(view)
    refusal = same_force(who, force, actor, meta.get("force"), f"form {str(view.get('callback_id'))!r:.40}")
    if refusal is not None:
        ack(response_action="update", view=message_modal("Not allowed", render_refusal(refusal)[1]))
        return
    client = context.client
    if view.get("callback_id") == CB_ADD:
        _submit_add(ack, context, who.rt, client, force, actor, view, _values(view))
    else:
        _submit_change(ack, context, who.rt, client, force, actor, view, _values(view))


def after_submit(client: WebClient, context: BoltContext) -> None:
    todo = follow_up(context)
    rt = asked(context).rt
    if isinstance(todo, Created):
        if todo.channel:
            action_log_sync.post_card(rt, client, todo.force, todo.reference, todo.channel, thread_ts=todo.thread_ts)
        action_log_sync.after_change(rt, client, todo.force, todo.reference, (), also_refresh=todo.refresh)
    elif isinstance(todo, Changed):
        if todo.origin:
            _refresh_reminder(rt, client, todo.force, todo.origin)
        ref = todo.action.reference
        action_log_sync.after_change(rt, client, todo.force, ref, todo.written, also_refresh=todo.refresh)


def _once(view: dict[str, Any]) -> str | None:
    """The key of one modal: its view id (kept through error answers, new for every modal opened)."""
    return f"view:{view['id']}" if view.get("id") else None


def _submit_add(
    ack: Ack,
    context: BoltContext,
    rt: Runtime,
    client: WebClient | None,
    force: Force,
    actor: Actor,
    view: dict[str, Any],
    values: dict[str, Any],
) -> None:
    meta = _meta(view)
    if values.get("due_on") and _date(values.get("due_on")) is None:
        ack(response_action="errors", errors={"due_on": NOT_A_DATE})
        return
    owner = values.get("owner")
    new = NewAction(
        title=values.get("title") or "",
        pillar=values.get("pillar") or "",
        owner_user_id=owner,
        due_on=_date(values.get("due_on")),
        detail=values.get("detail"),
        source=values.get("source"),
        owner_teams=action_log_sync.owner_teams(client, force, owner, actor.id),
        once=_once(view),
    )
    with rt.sessions() as s:
        result = service.create_action(s, force, actor, new, rt.clock)
        s.commit()
    if not result.ok:
        _ack_refusal(ack, result.refusal, force)
        return
    ack()
    assert result.action is not None
    channel, thread_ts = meta.get("channel"), meta.get("thread_ts")
    hand_over(context, Created(force, result.action.reference, channel, thread_ts, refresh=(actor.id,)))


def _submit_change(
    ack: Ack,
    context: BoltContext,
    rt: Runtime,
    client: WebClient | None,
    force: Force,
    actor: Actor,
    view: dict[str, Any],
    values: dict[str, Any],
) -> None:
    """The edit and note modals: both change an existing action (``private_metadata`` names it and its version)."""
    meta = _meta(view)
    note_form = view.get("callback_id") == CB_NOTE
    ref, version = str(meta.get("ref")), int(meta.get("version") or 0)
    with rt.sessions() as s:
        current = queries.find_view(s, force, ref, today_in(rt.clock, force.timezone))
    if current is None:
        ack(response_action="errors", errors={"note" if note_form else "title": f"There is no action {ref}."})
        return
    change = _note_change(ref, version, meta, values) if note_form else _edit_change(current, ref, version, values)
    if isinstance(change, dict):
        ack(response_action="errors", errors=change)
        return
    teams = action_log_sync.owner_teams(client, force, change.owner_user_id, actor.id)
    change = replace(change, owner_teams=teams, once=_once(view))
    with rt.sessions() as s:
        result = service.change_action(s, force, actor, change, rt.clock)
        s.commit()
    if not result.ok:
        _ack_refusal(ack, result.refusal, force)
        return
    ack()
    assert result.action is not None
    origin = meta.get("msg")
    hand_over(
        context,
        Changed(
            force,
            result.action,
            result.written,
            refresh=(actor.id, current.owner_user_id),
            origin=origin if isinstance(origin, dict) else None,
        ),
    )


def _note_change(ref: str, version: int, meta: dict[str, Any], values: dict[str, Any]) -> ActionChange | dict[str, str]:
    """The note modal's change (a note, or a status with its reason), or the inline errors to show."""
    status = meta.get("status")
    if not status and not (values.get("note") or "").strip():
        return {"note": "Write the note, or cancel."}
    return ActionChange(ref, version, status=status, note=values.get("note") or "")


def _edit_change(current: ActionView, ref: str, version: int, values: dict[str, Any]) -> ActionChange | dict[str, str]:
    """The edit modal's change (only the fields that differ from ``current``), or the inline errors to show."""
    if values.get("due_on") and _date(values.get("due_on")) is None:
        return {"due_on": NOT_A_DATE}
    status = values.get("status")
    return ActionChange(
        ref,
        version,
        status=status if status and status != current.status else None,
        owner_user_id=values.get("owner") if values.get("owner") != current.owner_user_id else None,
        due_on=_date(values.get("due_on")),
        clear_due=not values.get("due_on") and current.due_on is not None,
        title=values.get("title"),
        detail=values.get("detail") or ("" if current.detail else None),
        pillar=values.get("pillar"),
        source=values.get("source") or ("" if current.source else None),
        note=values.get("note"),
    )


def _ack_refusal(ack: Ack, refusal: Refusal | None, force: Force) -> None:
    assert refusal is not None
    if (refusal.code == "unchanged" and refusal.field is None) or refusal.code == "done":
        # Saved as it was, or this very submission was already carried out: nothing to do, just close it.
        ack()
        return
    block = FIELD_BLOCKS.get(refusal.field or "")
    if refusal.field == "note":
        block = "note"
    inline = refusal.code in ("invalid", "transition", "unchanged") or (
        refusal.code == "not_allowed" and refusal.field == "owner"  # someone of another force: pick another
    )
    if block and inline:
        # First letter up, the rest as written: a user ID or a force's name keeps its case.
        ack(response_action="errors", errors={block: (refusal.reason[:1].upper() + refusal.reason[1:])[:150]})
        return
    # Not allowed, or someone else changed it meanwhile: show why and where it stands now, in place of the form.
    ack(response_action="update", view=message_modal("Not changed", render_refusal(refusal, force.timezone)[1]))


def _meta(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _values(view: dict[str, Any]) -> dict[str, Any]:
    """``view.state.values`` flattened to {action_id: value} for the input types the modals use."""
    out: dict[str, Any] = {}
    for block in ((view.get("state") or {}).get("values") or {}).values():
        for action_id, v in block.items():
            kind = v.get("type")
            if kind == "plain_text_input":
                out[action_id] = v.get("value")
            elif kind == "static_select":
                out[action_id] = (v.get("selected_option") or {}).get("value")
            elif kind == "users_select":
                out[action_id] = v.get("selected_user")
            elif kind == "datepicker":
                out[action_id] = v.get("selected_date")
    return out


def _date(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def _refresh_reminder(rt: Runtime, client: WebClient, force: Force, msg: dict[str, Any]) -> None:
    """After a modal opened from a reminder DM: redraw that DM with its items' current state."""
    refs = msg.get("refs") or []
    if not refs or msg.get("eph"):
        return
    today = today_in(rt.clock, force.timezone)
    with rt.sessions() as s:
        current = [v for r in refs if (v := queries.find_view(s, force, r, today)) is not None]
    text, blocks = render_reminder(current, force.name)
    try:
        client.chat_update(channel=msg["ch"], ts=msg["ts"], text=text, blocks=blocks)
    except SlackApiError as e:
        log.info("mo-bot: could not refresh the reminder: %s", e.response.get("error"))
