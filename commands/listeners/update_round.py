"""The update round's controls in an owner's DM (every ``action_id`` starting ``mo_round_``) and its update modal.

*No change* and *Done* are recorded in the ack function (the answer, and for *Done* the completion, in one
transaction); *Update* opens the modal while the ``trigger_id`` is fresh, and its submission records the change
and the answer, or shows the refusal next to the field. The lazy listener then redraws the DM (``chat.update``):
each answered action shows what was answered and when instead of its buttons; a refusal is told ephemerally. A
control naming another force than the clicker's is refused and audited before anything is read.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.action_log import queries, update_round
from bot.action_log.types import ActionChange, Refusal
from bot.clock import today_in
from bot.config import Force
from bot.slack.render_actions import render_refusal
from bot.slack.render_round import CB_ROUND_UPDATE, ROUND_PREFIX, parse_round_value, render_round_dm, round_modal
from commands.listeners.action_log_shared import (
    ShowRefusal,
    acting,
    follow_up,
    hand_over,
    message_modal,
    open_modal,
    same_force,
)
from commands.middleware import asked

log = logging.getLogger("mo_bot.actions")
ANSWER_OF = {"same": "no_change", "done": "done"}
REDRAW = "mo_round_redraw"


@dataclass(frozen=True)
class RedrawDM:
    """An answer was recorded: redraw the round DM it came from (the lazy listener's ``chat.update``)."""

    force: Force
    user_id: str
    channel: str
    ts: str


def register(app: App) -> None:
    app.action(re.compile(f"^{ROUND_PREFIX}"))(ack=on_click, lazy=[after_click])
    app.view(CB_ROUND_UPDATE)(ack=on_submit, lazy=[after_submit])


def _dm_of(body: dict[str, Any]) -> tuple[str, str] | None:
    """The round DM a click came from: (channel, ts), from the payload's message container."""
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    return (str(channel), str(ts)) if channel and ts and container.get("type") == "message" else None


def on_click(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    act = (body.get("actions") or [{}])[0]
    op = str(act.get("action_id", ""))[len(ROUND_PREFIX) :]
    who = asked(context)
    ident = acting(who)
    if isinstance(ident, Refusal):
        hand_over(context, ShowRefusal(*render_refusal(ident)))
        return
    force, actor = ident
    try:
        value = parse_round_value(str(act.get("value") or ""))
    except ValueError:
        log.warning("mo-bot: unreadable round value %r", str(act.get("value"))[:100])
        return
    refusal = same_force(who, force, actor, value.get("f"), f"round control {op!r:.20}")
    if refusal is not None:
        hand_over(context, ShowRefusal(*render_refusal(refusal)))
        return
    rt = who.rt
    meeting = dt.date.fromisoformat(value["m"])
    if op == "update":
        today = today_in(rt.clock, force.timezone)
        with rt.sessions() as s:
            current = queries.find_view(s, force, value["r"], today)
        if current is not None:
            open_modal(client, body, round_modal(force.slug, meeting, current, today, _dm_of(body)))
        return
    what = ANSWER_OF.get(op)
    if what is None:
        return
    with rt.sessions() as s:
        result = update_round.answer(s, force, actor, meeting, value["r"], what, rt.clock)
        s.commit()
    if result.refusal is not None:
        hand_over(context, ShowRefusal(*render_refusal(result.refusal)))
        return
    where = _dm_of(body)
    if where is not None:
        context[REDRAW] = RedrawDM(force, actor.id, *where)


def _redraw(context: BoltContext, client: WebClient) -> None:
    todo = context.get(REDRAW)
    if not isinstance(todo, RedrawDM):
        return
    rt = asked(context).rt
    force = todo.force
    with rt.sessions() as s:
        state = update_round.round_dm(s, force, todo.user_id, todo.ts, rt.clock.now())
    if state is None:  # not a round DM of theirs (e.g. an old message): nothing to redraw
        return
    text, blocks = render_round_dm(force.slug, force.name, state.meeting, state.actions, state.nudge, state.answers,
                                   force.timezone)  # fmt: skip
    try:
        client.chat_update(channel=todo.channel, ts=todo.ts, text=text, blocks=blocks)
    except SlackApiError as e:
        log.warning("mo-bot: could not redraw the round DM: %s", e.response.get("error"))


def after_click(body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond) -> None:
    todo = follow_up(context)
    if isinstance(todo, ShowRefusal):
        respond(replace_original=False, text=todo.text, blocks=todo.blocks)
    _redraw(context, client)


def after_submit(client: WebClient, context: BoltContext) -> None:
    _redraw(context, client)


def _values(view: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for bid, fields in (view.get("state") or {}).get("values", {}).items():
        for v in fields.values():
            out[bid] = (
                (v.get("selected_option") or {}).get("value") if v.get("type") == "static_select"
                else v.get("selected_date") if v.get("type") == "datepicker" else v.get("value")
            )  # fmt: skip
    return out


def on_submit(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    view = body["view"]
    who = asked(context)
    ident = acting(who)
    if isinstance(ident, Refusal):
        ack(response_action="update", view=message_modal("Not allowed", render_refusal(ident)[1]))
        return
    force, actor = ident
    try:
        meta = parse_round_value(str(view.get("private_metadata") or ""))
    except ValueError:
        unreadable = Refusal("invalid", "this form can't be read; use the buttons in a new DM or `/mo action`")
        ack(response_action="update", view=message_modal("Not allowed", render_refusal(unreadable)[1]))
        return
    refusal = same_force(who, force, actor, meta.get("f"), "form 'mo_round_update'")
    if refusal is not None:
        ack(response_action="update", view=message_modal("Not allowed", render_refusal(refusal)[1]))
        return
    values = _values(view)
    rt = who.rt
    today = today_in(rt.clock, force.timezone)
    try:
        on = dt.date.fromisoformat(values["on"]) if values.get("on") else None
    except ValueError:
        ack(response_action="errors", errors={"on": "not a date"})
        return
    status = values.get("status")
    ref = str(meta["r"])
    with rt.sessions() as s:
        current = queries.find_view(s, force, ref, today)
        change = ActionChange(
            reference=ref,
            seen_version=int(meta.get("v") or 0),
            status=status if current is not None and status != current.status else None,
            note=values.get("note"),
            on=on if on is not None and on != today else None,
            once=f"view:{view['id']}" if view.get("id") else None,
        )
        what = "done" if change.status == "complete" else "update"
        result = update_round.answer(s, force, actor, dt.date.fromisoformat(meta["m"]), ref, what, rt.clock, change)
        if result.refusal is not None and result.refusal.code != "unchanged":
            s.commit()  # the refusal's audit row; nothing else was written
            field = result.refusal.field if result.refusal.field in ("status", "note", "on") else "note"
            ack(response_action="errors", errors={field: result.refusal.reason[:150]})
            return
        if result.refusal is not None:  # nothing to change: recorded as "no change"
            s.commit()
            result = update_round.answer(s, force, actor, dt.date.fromisoformat(meta["m"]), ref, "no_change", rt.clock)
        s.commit()
    if isinstance(meta.get("c"), str) and isinstance(meta.get("t"), str):
        context[REDRAW] = RedrawDM(force, actor.id, meta["c"], meta["t"])
    ack()
