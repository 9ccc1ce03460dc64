"""Bolt listeners for the action log's interactivity: the per-item controls (overflow menus and buttons, every
``action_id`` starting ``mo_act_``), the three modals (add, edit, note) and the "Turn into action" message
shortcut.

Each listener acks inside Slack's 3 seconds and does the database work inline (milliseconds), so a modal can
answer with inline errors (``response_action: errors``) or show a refused change in place. What only tells Slack
about a change already committed — updating the bot's earlier messages, the thread note, App Home — runs in a
lazy listener; the ack function hands it what to do through Bolt's context (``context["mo_after"]``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.access import Refused, Requester, resolve
from bot.action_log import queries, reminders, service
from bot.action_log.types import NOTE_REQUIRED, ActionChange, ActionView, Actor, ChangeResult, NewAction, Refusal
from bot.audit import AuditEntry, record_separately
from bot.clock import today_in
from bot.config import Force
from bot.runtime import Runtime
from bot.slack import action_log_sync
from bot.slack.render_actions import (
    ACTION_PREFIX,
    CB_ADD,
    CB_EDIT,
    CB_NOTE,
    SHORTCUT,
    add_modal,
    edit_modal,
    note_modal,
    parse_value,
    refresh_blocks,
    render_action_card,
    render_action_list,
    render_refusal,
    render_reminder,
)
from commands.app import UserGroups
from commands.mo.action_log import filters_from_json, filters_json, heading_for
from commands.mo.parser import normalise

log = logging.getLogger("mo_bot.actions")

# Which modal input block shows a refusal about which field.
FIELD_BLOCKS = {"title": "title", "pillar": "pillar", "owner": "owner", "due_on": "due_on", "status": "status"}


def register(app: App, rt: Runtime) -> None:
    groups = UserGroups.for_runtime(rt)

    def who(body: dict[str, Any], client: WebClient) -> tuple[Force, Actor] | Refusal:
        """The user's force and role. Interactions happen on the bot's own messages and views, so the channel
        rule of slash commands does not apply; the workspace and roles do."""
        user = (body.get("user") or {}).get("id") or ""
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        req = Requester(user_id=user, team_id=team, channel_id=None, user_groups=groups.groups_of(client, user))
        try:
            access = resolve(rt.config, req)
        except Refused as r:
            record_separately(
                rt.sessions,
                AuditEntry(actor=user, action="interaction", outcome="refused", detail=r.reason[:500], team_id=team),
                at=rt.clock.now(),
            )
            return Refusal("not_allowed", r.reason)
        return access.force, Actor(user, access.role, team, channel)

    # --- buttons and menus ------------------------------------------------------------------------------------------
    def on_action(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        act = (body.get("actions") or [{}])[0]
        raw = (act.get("selected_option") or {}).get("value") or act.get("value") or ""
        ident = who(body, client)
        if isinstance(ident, Refusal):
            context["mo_after"] = {"reply": _reply_refusal(ident, dt.UTC)}
            return
        force, actor = ident
        if act.get("action_id", "").startswith(f"{ACTION_PREFIX}page_"):
            context["mo_after"] = _page(force, actor, raw)
            return
        try:
            op, ref, version = parse_value(raw)
        except ValueError:
            log.warning("mo-bot: unreadable action value %r", raw[:100])
            return
        meta = _origin(body)
        if op == "add":
            client.views_open(trigger_id=body["trigger_id"], view=add_modal({**meta, "channel": None}, owner=actor.id))
            return
        today = today_in(rt.clock, force.timezone)
        with rt.sessions() as s:
            current = queries.find_view(s, force, ref, today)
        if current is None:
            context["mo_after"] = {"reply": _reply_refusal(Refusal("not_found", f"there is no action {ref}"), dt.UTC)}
            return
        if op == "view":
            with rt.sessions() as s:
                detail = queries.get_action(s, force, actor, ref, today, rt.clock.now())
                s.commit()
            assert detail is not None
            _open(client, body, _card_modal(detail.action, detail.history, force))
            return
        if op == "note":
            _open(client, body, note_modal(current, meta))
            return
        if op == "edit":
            _open(client, body, edit_modal(current, meta))
            return
        if op.startswith("status:") and op[7:] in NOTE_REQUIRED:
            _open(client, body, note_modal(current, meta, status=op[7:]))
            return
        if op == "snooze":
            with rt.sessions() as s:
                refusal = reminders.snooze(s, force, actor, ref, rt.clock.now())
                s.commit()
            if refusal is not None:
                context["mo_after"] = {"reply": _reply_refusal(refusal, force.timezone)}
            else:
                context["mo_after"] = {"snoozed": ref, "force": force.slug}
            return
        if op.startswith("status:"):
            with rt.sessions() as s:
                result = service.change_action(s, force, actor, ActionChange(ref, version, status=op[7:]), rt.clock)
                s.commit()
            context["mo_after"] = _after(result, force, actor, current, body)
            return
        log.warning("mo-bot: unknown action op %r", op)

    def after_action(body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond) -> None:
        todo = context.get("mo_after")
        if not todo:
            return
        force = rt.config.forces.get(todo.get("force", ""), None)
        if "reply" in todo:
            _tell(client, body, respond, todo["reply"])
            return
        if "page" in todo:
            respond(replace_original=True, text=todo["page"][0], blocks=todo["page"][1])
            return
        if "snoozed" in todo:
            _refresh_message(rt, client, body, respond, force, {}, snoozed=todo["snoozed"])
            return
        if force is None:
            return
        ref = todo["ref"]
        _refresh_message(rt, client, body, respond, force, {ref: todo.get("views", {}).get(ref)})
        action_log_sync.after_change(rt, client, force, ref, todo["written"], also_refresh=todo["refresh"])

    def _page(force: Force, actor: Actor, raw: str) -> dict[str, Any]:
        try:
            f, page_no = filters_from_json(raw)
        except (ValueError, KeyError, TypeError):
            return {}
        today = today_in(rt.clock, force.timezone)
        with rt.sessions() as s:
            page = queries.list_actions(s, force, actor, f, today, rt.clock.now(), page=page_no)
            s.commit()
        return {"page": render_action_list(page, heading_for(f, actor.id), page_value=filters_json(f))}

    app.action(re.compile(f"^{ACTION_PREFIX}"))(ack=on_action, lazy=[after_action])

    # --- modals ---------------------------------------------------------------------------------------------------
    def on_submit(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        view = body["view"]
        meta = _meta(view)
        values = _values(view)
        ident = who(body, client)
        if isinstance(ident, Refusal):
            ack(response_action="update", view=_message_modal("Not allowed", render_refusal(ident)[1]))
            return
        force, actor = ident
        cb = view.get("callback_id")
        if cb == CB_ADD:
            new = NewAction(
                title=values.get("title") or "",
                pillar=values.get("pillar") or "",
                owner_user_id=values.get("owner"),
                due_on=_date(values.get("due_on")),
                detail=values.get("detail"),
                source=values.get("source"),
            )
            if values.get("due_on") and new.due_on is None:
                ack(response_action="errors", errors={"due_on": "That is not a date; pick one from the calendar."})
                return
            with rt.sessions() as s:
                result = service.create_action(s, force, actor, new, rt.clock)
                s.commit()
            if not result.ok:
                _ack_refusal(ack, result.refusal, force)
                return
            ack()
            assert result.action is not None
            context["mo_after"] = {
                "force": force.slug,
                "created": result.action.reference,
                "channel": meta.get("channel"),
                "thread_ts": meta.get("thread_ts"),
                "refresh": [actor.id],
            }
            return
        ref, version = str(meta.get("ref")), int(meta.get("version") or 0)
        today = today_in(rt.clock, force.timezone)
        with rt.sessions() as s:
            current = queries.find_view(s, force, ref, today)
        if current is None:
            ack(response_action="errors", errors={"note" if cb == CB_NOTE else "title": f"There is no action {ref}."})
            return
        if cb == CB_NOTE:
            status = meta.get("status")
            change = ActionChange(ref, version, status=status, note=values.get("note") or "")
            if not status and not (values.get("note") or "").strip():
                ack(response_action="errors", errors={"note": "Write the note, or cancel."})
                return
        else:
            if values.get("due_on") and _date(values.get("due_on")) is None:
                ack(response_action="errors", errors={"due_on": "That is not a date; pick one from the calendar."})
                return
            status = values.get("status")
            change = ActionChange(
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
        with rt.sessions() as s:
            result = service.change_action(s, force, actor, change, rt.clock)
            s.commit()
        if not result.ok:
            _ack_refusal(ack, result.refusal, force)
            return
        ack()
        context["mo_after"] = _after(result, force, actor, current, None) | {"message": meta.get("msg")}

    def after_submit(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        todo = context.get("mo_after")
        if not todo:
            return
        force = rt.config.forces.get(todo["force"])
        if force is None:
            return
        if "created" in todo:
            ref = todo["created"]
            if todo.get("channel"):
                action_log_sync.post_card(rt, client, force, ref, todo["channel"], thread_ts=todo.get("thread_ts"))
            action_log_sync.after_change(rt, client, force, ref, (), also_refresh=todo["refresh"])
            return
        msg = todo.get("message")
        if msg:
            _refresh_reminder(rt, client, force, msg)
        action_log_sync.after_change(rt, client, force, todo["ref"], todo["written"], also_refresh=todo["refresh"])

    for cb in (CB_ADD, CB_EDIT, CB_NOTE):
        app.view(cb)(ack=on_submit, lazy=[after_submit])

    # --- "Turn into action" message shortcut ----------------------------------------------------------------------
    def on_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        ident = who(body, client)
        if isinstance(ident, Refusal):
            _open(client, body, _message_modal("Not allowed", render_refusal(ident)[1]))
            return
        _force, actor = ident
        channel = (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        ts = message.get("ts") or body.get("message_ts")
        link = None
        try:
            link = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except SlackApiError as e:
            log.info("mo-bot: no permalink for %s/%s: %s", channel, ts, e.response.get("error"))
        title = _title_from(message.get("text") or "")
        post_in = channel if channel in rt.config.slack.channels else None
        meta = {"channel": post_in, "thread_ts": ts if post_in else None}
        _open(client, body, add_modal(meta, title=title, owner=actor.id, source=link))

    app.shortcut(SHORTCUT)(on_shortcut)


# --- helpers ------------------------------------------------------------------------------------------------------
def _after(
    result: ChangeResult, force: Force, actor: Actor, before: ActionView, body: dict[str, Any] | None
) -> dict[str, Any]:
    if not result.ok:
        assert result.refusal is not None
        return {"reply": _reply_refusal(result.refusal, force.timezone), "force": force.slug}
    assert result.action is not None
    return {
        "force": force.slug,
        "ref": result.action.reference,
        "written": list(result.written),
        "refresh": [actor.id, before.owner_user_id],
        "views": {result.action.reference: result.action},
    }


def _reply_refusal(refusal: Refusal, tz: Any) -> tuple[str, list[dict[str, Any]]]:
    return render_refusal(refusal, tz)


def _tell(client: WebClient, body: dict[str, Any], respond: Respond, reply: tuple[str, list[dict[str, Any]]]) -> None:
    """Show ``reply`` to the person who clicked: in the conversation (ephemeral) or, from App Home, in a modal."""
    text, blocks = reply
    if body.get("response_url"):
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
    elif body.get("trigger_id"):
        try:
            client.views_open(trigger_id=body["trigger_id"], view=_message_modal("Not changed", blocks))
        except SlackApiError as e:
            log.warning("mo-bot: could not show a refusal: %s", e.response.get("error"))


def _open(client: WebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as e:
        log.warning("mo-bot: could not open a modal: %s", e.response.get("error"))


def _message_modal(title: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks[:100],
    }


def _card_modal(a: ActionView, history: Any, force: Force) -> dict[str, Any]:
    _, blocks = render_action_card(a, history, force.timezone, interactive=False)
    return _message_modal(a.reference, blocks)


def _ack_refusal(ack: Ack, refusal: Refusal | None, force: Force) -> None:
    assert refusal is not None
    if refusal.code == "unchanged" and refusal.field is None:
        ack()  # the form was saved as it was: nothing to do, just close it
        return
    block = FIELD_BLOCKS.get(refusal.field or "")
    if refusal.field == "note":
        block = "note"
    if block and refusal.code in ("invalid", "transition", "unchanged"):
        ack(response_action="errors", errors={block: refusal.reason[:150].capitalize()})
        return
    # Not allowed, or someone else changed it meanwhile: show why and where it stands now, in place of the form.
    ack(response_action="update", view=_message_modal("Not changed", render_refusal(refusal, force.timezone)[1]))


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


def _title_from(text: str) -> str:
    """A title from a message: Slack's markup undone by the one /mo normaliser, first line, cut to fit."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    plain = normalise(first)
    return plain if len(plain) <= 200 else plain[:199] + "…"


def _refresh_message(
    rt: Runtime,
    client: WebClient,
    body: dict[str, Any],
    respond: Respond,
    force: Force | None,
    views: dict[str, ActionView | None],
    snoozed: str | None = None,
) -> None:
    """Redraw the clicked message with the current state of its items (new versions in their controls).

    A channel card the bot tracks is redrawn by ``after_change``; an ephemeral card is re-rendered whole; a list
    page or a reminder DM has its changed items redrawn in place."""
    message = body.get("message") or {}
    container = body.get("container") or {}
    blocks = message.get("blocks")
    if not blocks or container.get("type") != "message":
        return
    if force is None:
        team = (body.get("team") or {}).get("id")
        force = rt.config.force_for_team(team) if team else None
        if force is None:
            return
    today = today_in(rt.clock, force.timezone)
    ephemeral = bool(container.get("is_ephemeral"))
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
