"""Block Kit for the update round before a meeting: the owner's DM (each action with No change / Update / Done),
the update modal (status, note, the date it happened) and the chair's digest. Every user or data text is escaped.

Buttons carry ``{"f": force, "m": meeting, "r": reference, "v": version}`` in their value; the listener checks the
force against the clicker's before acting (``commands/listeners/update_round.py``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.action_log.types import STATUSES, ActionView
from bot.action_log.update_round import Answered, RoundDigest
from bot.slack.escape import esc

ROUND_PREFIX = "mo_round_"
CB_ROUND_UPDATE = "mo_round_update"
ROUND_MAX = 20  # actions in one DM: two blocks each, within Slack's 50 blocks per message


def fmt(d: dt.date | None) -> str:
    return f"{d.day} {d:%b %Y}" if d else "no due date"


def round_value(force: str, meeting: dt.date, a: ActionView) -> str:
    return json.dumps({"f": force, "m": meeting.isoformat(), "r": a.reference, "v": a.version}, separators=(",", ":"))


def parse_round_value(raw: str) -> dict[str, Any]:
    """The fields a round button or modal carries; raises ValueError when unreadable."""
    d = json.loads(raw)
    if not isinstance(d, dict) or not isinstance(d.get("r"), str) or not isinstance(d.get("m"), str):
        raise ValueError("not a round value")
    dt.date.fromisoformat(d["m"])
    return d


def _button(text: str, action: str, value: str, style: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action,
                         "value": value}  # fmt: skip
    if style:
        b["style"] = style
    return b


ANSWER_SAID = {"no_change": ":white_check_mark: No change", "update": ":pencil2: Updated", "done": ":tada: Done"}


def answered_line(answered: Answered, tz: dt.tzinfo) -> str:
    at = answered.at.astimezone(tz)
    return f"{ANSWER_SAID.get(answered.answer, answered.answer)} — answered {at.day} {at:%b %Y at %H:%M}"


def render_round_dm(
    force: str,
    force_name: str,
    meeting: dt.date,
    actions: tuple[ActionView, ...],
    nudge: bool = False,
    answers: dict[str, Answered] | None = None,
    tz: dt.tzinfo = dt.UTC,
) -> tuple[str, list[dict[str, Any]]]:
    """The DM; with ``answers`` (redrawn after an answer) each answered action shows what was answered and when
    in place of its buttons, so it cannot be answered twice from the DM."""
    answers = answers or {}
    shown = actions[:ROUND_MAX]
    lead = "A reminder: the" if nudge else "The"
    intro = (
        f"{lead} {esc(force_name)} Managing Offenders meeting is on *{fmt(meeting)}*. Please update your "
        f"action{'s' if len(actions) != 1 else ''} before it: *No change*, *Update* (status, note, date) or *Done*."
    )
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": intro}}]
    for a in shown:
        due = f" · due {fmt(a.due_on)}" + (" · *overdue*" if a.overdue else "") if a.due_on else ""
        line = f"*{esc(a.reference)}* {esc(a.title)}\n_{esc(a.status)}{due} · {esc(a.pillar_label)}_"
        value = round_value(force, meeting, a)
        blocks.append({"type": "section", "block_id": f"round:{a.reference}", "text": {"type": "mrkdwn", "text": line}})
        if a.reference in answers:
            said = answered_line(answers[a.reference], tz)
            blocks.append({"type": "context", "block_id": f"roundans:{a.reference}",
                           "elements": [{"type": "mrkdwn", "text": said}]})  # fmt: skip
            continue
        blocks.append(
            {
                "type": "actions",
                "block_id": f"roundctl:{a.reference}",
                "elements": [
                    _button("No change", f"{ROUND_PREFIX}same", value),
                    _button("Update", f"{ROUND_PREFIX}update", value),
                    _button("Done", f"{ROUND_PREFIX}done", value, style="primary"),
                ],
            }
        )
    if len(actions) > len(shown):
        more = len(actions) - len(shown)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text":
                       f"and {more} more: `/mo actions --owner me`"}]})  # fmt: skip
    text = f"{'Reminder: update' if nudge else 'Update'} your {len(actions)} action(s) before the meeting on " + fmt(
        meeting
    )
    if answers:
        text += f" ({sum(1 for a in shown if a.reference in answers)} answered)"
    return text, blocks


def round_modal(
    force: str, meeting: dt.date, a: ActionView, today: dt.date, dm: tuple[str, str] | None = None
) -> dict[str, Any]:
    """The update form; ``dm`` (channel, ts) is the round DM it was opened from, redrawn once it is saved."""
    options = [{"text": {"type": "plain_text", "text": s}, "value": s} for s in STATUSES]
    current = next(o for o in options if o["value"] == a.status)
    meta = json.loads(round_value(force, meeting, a))
    if dm is not None:
        meta |= {"c": dm[0], "t": dm[1]}
    return {
        "type": "modal",
        "callback_id": CB_ROUND_UPDATE,
        "private_metadata": json.dumps(meta, separators=(",", ":")),
        "title": {"type": "plain_text", "text": f"Update {a.reference}"[:24]},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{esc(a.reference)}* {esc(a.title)}"}},
            {"type": "input", "block_id": "status", "label": {"type": "plain_text", "text": "Status"},
             "element": {"type": "static_select", "action_id": "status", "options": options,
                         "initial_option": current}},
            {"type": "input", "block_id": "note", "optional": True,
             "label": {"type": "plain_text", "text": "Note (what happened; needed for held or cancelled)"},
             "element": {"type": "plain_text_input", "action_id": "note", "multiline": True, "max_length": 2000}},
            {"type": "input", "block_id": "on", "optional": True,
             "label": {"type": "plain_text", "text": "Date it happened (if not today)"},
             "element": {"type": "datepicker", "action_id": "on", "initial_date": today.isoformat()}},
        ],
    }  # fmt: skip


def render_round_digest(force_name: str, d: RoundDigest) -> tuple[str, list[dict[str, Any]]]:
    def lines(items: list[str], empty: str) -> str:
        return "\n".join(items) if items else f"_{empty}_"

    changed = [
        f"• *{esc(c.reference)}* {esc(c.title[:80])} — {esc(c.text)}" + (f" (<@{c.by}>)" if c.by else "")
        for c in d.changed
    ]
    overdue = [f"• *{esc(a.reference)}* {esc(a.title[:80])} — {esc(a.owner_label)}, due {fmt(a.due_on)}"
               for a in d.overdue]  # fmt: skip
    silent = [f"• <@{u}>" for u in d.no_reply]
    unmapped = [f"• *{esc(a.reference)}* {esc(a.title[:80])} — {esc(', '.join(a.unmapped_owners) or 'no owner')}"
                for a in d.unmapped]  # fmt: skip
    sections = [
        (f":clipboard: *{esc(force_name)} — the update round for today's meeting ({fmt(d.meeting)})*", None),
        ("*What changed*", lines(changed, "nothing changed")),
        ("*Overdue*", lines(overdue, "nothing overdue")),
        ("*Did not reply*", lines(silent, "everyone asked replied")),
        ("*Could not be asked* (owner not on Slack yet, or no owner)", lines(unmapped, "none")),
    ]
    blocks: list[dict[str, Any]] = []
    for head, body in sections:
        text = head if body is None else f"{head}\n{body}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}})
    text = (
        f"Update round for the meeting on {fmt(d.meeting)}: {len(d.changed)} change(s), {len(d.overdue)} overdue, "
        f"{len(d.no_reply)} did not reply, {len(d.unmapped)} could not be asked"
    )
    return text, blocks
