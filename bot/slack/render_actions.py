"""Block Kit for the action log: list pages with per-item controls, one action with its history, modals, the
reminder DM, the overdue digest, App Home and short thread notes.

All text from people or imports (titles, notes, sources, initials) goes through :func:`bot.slack.escape.esc`
before it is put in mrkdwn, so a title like ``<!channel> please`` shows as typed and pings nobody. Every
interactive element's ``action_id`` starts with ``mo_act_`` (one Bolt listener takes them all) and its value is
``op|force|reference|version`` (:class:`Control`): what it refers to — the force as well as the reference, since
every force numbers its actions from A-1 and a message can reach someone of another force — and the version the
person was looking at, so a stale click is detected, not applied. A modal's ``private_metadata`` names its force
too. The listeners refuse a control or form whose force is not the clicker's before reading anything.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.action_log.completion import completion_text
from bot.action_log.rules import TRANSITIONS, is_user_id
from bot.action_log.types import (
    PILLARS,
    STATUSES,
    TITLE_MAX,
    ActionPage,
    ActionView,
    HistoryEntry,
    Overview,
    OwnerReminder,
    PillarGroup,
    Refusal,
)
from bot.slack.blocks import (
    MAX_BLOCKS,
    MAX_BUTTON_VALUE,
    MAX_FALLBACK,
    MAX_INPUT_TEXT,
    MAX_OVERFLOW_OPTIONS,
    MAX_PRIVATE_METADATA,
    MAX_SECTION_TEXT,
    MAX_VIEW_BLOCKS,
    MAX_VIEW_TITLE,
    Blk,
    Rendered,
    actions_block,
    button,
    clip,
    context_block,
    divider_block,
    fallback_text,
    fields_block,
    fit_blocks,
    fmt_int,
    header_block,
    option,
    section_block,
)
from bot.slack.escape import esc

ACTION_PREFIX = "mo_act_"
CB_ADD = "mo_action_add"
CB_EDIT = "mo_action_edit"
CB_NOTE = "mo_action_note"
SHORTCUT = "turn_into_action"
HISTORY_SHOWN = 12
# Actions listed in one reminder DM (two blocks each, within the 50-block message limit).
REMINDER_MAX = 15

STATUS_EMOJI = {
    "open": ":white_circle:",
    "ongoing": ":large_blue_circle:",
    "held": ":double_vertical_bar:",
    "complete": ":white_check_mark:",
    "cancelled": ":heavy_multiplication_x:",
}
STATUS_VERB = {
    "open": "Reopen as open",
    "ongoing": "Mark ongoing",
    "held": "Put on hold…",
    "complete": "Mark complete",
    "cancelled": "Cancel…",
}
FIELD_LABEL = {
    "status": "status",
    "owner": "owner",
    "due_on": "due date",
    "title": "title",
    "detail": "detail",
    "pillar": "pillar",
    "source": "source",
    "evidence": "evidence",
    "completed_on": "completed",
    "note": "note",
    "created": "created",
}
_URL = re.compile(r"^https://[^\s<>|]+$")


# --- small pieces -------------------------------------------------------------------------------------------------
def fmt_date(d: dt.date | None) -> str:
    return f"{d.day} {d:%b %Y}" if d else "no due date"


def owner_mrkdwn(a: ActionView) -> str:
    if len(a.owners) > 1:  # joint owners, each as a mention or, until mapped, their initials
        return " &amp; ".join(
            f"<@{o.user_id}>" if o.user_id else f"{esc(o.label)} _(not on Slack yet)_" for o in a.owners
        )
    if a.owner_user_id:
        return f"<@{a.owner_user_id}>"
    if a.owner_initials:
        return f"{esc(a.owner_initials)} _(not on Slack yet)_"
    return "_unassigned_"


def due_mrkdwn(a: ActionView) -> str:
    if a.due_on is None:
        return "no due date"
    if a.overdue:
        days = a.days_overdue
        return f":warning: *overdue* {days} day{'s' if days != 1 else ''} (due {fmt_date(a.due_on)})"
    return f"due {fmt_date(a.due_on)}"


def source_mrkdwn(source: str | None) -> str:
    if not source:
        return "—"
    if _URL.match(source):
        return f"<{source}|the Slack message>" if "/archives/" in source else f"<{source}|{esc(source)}>"
    return esc(source)


def action_line(a: ActionView) -> str:
    status = f"{STATUS_EMOJI.get(a.status, '')} {a.status}"
    return f"*{esc(a.reference)}* {esc(clip(a.title, 300))}\n{owner_mrkdwn(a)} · {status} · {due_mrkdwn(a)}"


@dataclass(frozen=True)
class Control:
    """What a clicked control asks: ``op`` on action ``reference`` of ``force``, seen at ``version``. ``force`` is
    None for a value from before values named their force (``op|reference|version``): such a value must never be
    resolved against the clicker's own force."""

    op: str
    force: str | None
    reference: str
    version: int


def value(op: str, a: ActionView) -> str:
    return f"{op}|{a.force}|{a.reference}|{a.version}"


def parse_value(raw: str) -> Control:
    """The :class:`Control` of a value made by :func:`value` (or its older three-part form); ValueError if it is
    neither."""
    parts = raw.split("|")
    if len(parts) == 4:
        op, force, ref, version = parts
        return Control(op, force, ref, int(version))
    if len(parts) == 3:
        op, ref, version = parts
        return Control(op, None, ref, int(version))
    raise ValueError(f"not an action control value: {raw[:40]!r}")


def _opt(text: str, val: str) -> Option:
    return Option(text=PlainTextObject(text=text), value=val)


def item_menu(a: ActionView, n: int = 0) -> Blk:
    """At most five options (Slack's limit for an overflow menu): the usual next statuses, add a note, edit."""
    options: list[Blk] = []
    if a.status in ("complete", "cancelled"):
        options.append(option("Reopen…", value("edit", a)))
        options.append(option("View history", value("view", a)))
    else:
        for s in ("ongoing", "complete", "held"):
            if s in TRANSITIONS[a.status]:
                options.append(option(STATUS_VERB[s], value(f"status:{s}", a)))
        options.append(option("Add a note…", value("note", a)))
        options.append(option("Edit…", value("edit", a)))
        options = options[:MAX_OVERFLOW_OPTIONS]
    return {"type": "overflow", "action_id": f"{ACTION_PREFIX}menu_{n}", "options": options}


# --- lists --------------------------------------------------------------------------------------------------------
_KIND_NOUNS = {"action": ("action", "actions"), "achievement": ("achievement", "achievements"),
               "hmic": ("HMIC recommendation", "HMIC recommendations")}  # fmt: skip


def _elsewhere(counts: dict[str, int]) -> str:
    """Where the items are when none of the asked kind match: " The same filters match 4 achievements and 2 HMIC
    recommendations — `--kind all` lists every kind." (nothing when no other kind matches either)."""
    if not counts:
        return ""
    parts = [f"{fmt_int(n)} {_KIND_NOUNS[k][0 if n == 1 else 1]}" for k, n in counts.items()]
    said = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f" The same filters match {said} — `/mo actions --kind all` with them lists every kind."


def render_action_list(page: ActionPage, heading: str, *, interactive: bool = True, page_value: str = "") -> Rendered:
    """One page of the log, grouped by pillar. ``page_value`` (the filters, JSON) rides on the page buttons."""
    blocks: list[Blk] = [header_block(heading)]
    lines = [heading]
    if page.total == 0:
        noun = _KIND_NOUNS.get(page.filters.kind, ("item", "items"))[1]
        empty = f"No {noun} match." + _elsewhere(page.elsewhere)
        blocks.append(section_block(empty))
        lines.append(empty)
    n = 0
    # Each item's menu names the list it is on (after a "~" in its action_id): a click on an ephemeral list comes
    # without the message (Slack does not send back what only one person saw), and the list is redrawn from this.
    here = _page_value(page_value, page.page) if page_value else ""
    for group in page.groups:
        blocks.append(section_block(f"*{esc(group.label)}*"))
        lines.append(group.label)
        for a in group.items:
            menu = item_menu(a, n) if interactive else None
            if menu is not None and here and len(menu["action_id"]) + 1 + len(here) <= MAX_ACTION_ID:
                menu["action_id"] += LIST_MARK + here
            blocks.append(section_block(action_line(a), menu, block_id=f"act:{a.reference}"))
            lines.append(f"{a.reference} {a.title} · {a.owner_label} · {a.status} · {fmt_date(a.due_on)}")
            n += 1
    if page.pages > 1 and interactive:
        buttons = []
        if page.page > 1:
            buttons.append(button("◀ Previous", f"{ACTION_PREFIX}page_prev", _page_value(page_value, page.page - 1)))
        if page.page < page.pages:
            buttons.append(button("Next ▶", f"{ACTION_PREFIX}page_next", _page_value(page_value, page.page + 1)))
        blocks.append(actions_block(buttons, "pages"))
    noun = _KIND_NOUNS.get(page.filters.kind, ("item", "items"))[0 if page.total == 1 else 1]
    footer = f"Page {page.page} of {page.pages} · {fmt_int(page.total)} {noun}"
    if page.pages > 1 and not interactive:
        footer += " · add `--page N` for more"
    blocks.append(context_block(footer))
    lines.append(footer)
    return fallback_text("\n".join(esc(x) for x in lines)), fit_blocks(blocks)


LIST_MARK = "~"  # separates an item menu's action_id from the list it is on
MAX_ACTION_ID = 255  # Block Kit's limit


def list_of(action_id: str) -> str | None:
    """The list (filters and page, as a page button carries them) an item menu's ``action_id`` names, if any."""
    _, mark, rest = action_id.partition(LIST_MARK)
    return rest if mark and rest else None


def _page_value(filters_json: str, page: int) -> str:
    data = json.loads(filters_json) if filters_json else {}
    data["page"] = page
    return clip(json.dumps(data, separators=(",", ":")), MAX_BUTTON_VALUE)


def render_digest(groups: Sequence[PillarGroup], total: int, force_name: str, today: dt.date) -> Rendered:
    """The chair's digest of every overdue action, for the channel: no controls, cut to fit one message."""
    heading = f"Overdue actions — {total}"
    blocks: list[Blk] = [header_block(heading)]
    fallback = [heading]
    shown = 0
    for g in groups:
        lines = [f"• {action_line(a).replace(chr(10), ' — ')}" for a in g.items]
        text = f"*{esc(g.label)}*\n" + "\n".join(lines)
        if len(blocks) >= MAX_BLOCKS - 2:
            break
        if len(text) > MAX_SECTION_TEXT:
            keep: list[str] = []
            for line in lines:
                if len("\n".join([*keep, line])) > MAX_SECTION_TEXT - 300:
                    break
                keep.append(line)
            text = f"*{esc(g.label)}*\n" + "\n".join(keep) + f"\n_…and {len(lines) - len(keep)} more_"
            shown += len(keep)
        else:
            shown += len(lines)
        blocks.append(section_block(text))
        fallback.append(f"{g.label}: {len(g.items)}")
    if total == 0:
        blocks.append(section_block("Nothing is overdue. :tada:"))
    more = f" · {total - shown} more not shown" if shown < total else ""
    blocks.append(
        context_block(f"{esc(force_name)} · as of {fmt_date(today)}{more} · `/mo actions --overdue` for controls")
    )
    return fallback_text("\n".join(esc(x) for x in fallback)), fit_blocks(blocks)


def render_achievements(groups: Sequence[PillarGroup], since: dt.date | None) -> Rendered:
    heading = "Achievements" + (f" since {fmt_date(since)}" if since else "")
    blocks: list[Blk] = [header_block(heading)]
    total = sum(len(g.items) for g in groups)
    for g in groups:
        if len(blocks) >= MAX_BLOCKS - 2:
            break
        lines = [
            f"• *{esc(a.reference)}* {esc(clip(a.title, 300))}"
            + (f" — completed {completion_text(a)}" if a.completed_on else "")
            for a in g.items
        ]
        keep: list[str] = []
        for line in lines:
            if len("\n".join([*keep, line])) > MAX_SECTION_TEXT - 300:
                break
            keep.append(line)
        more = f"\n_…and {len(lines) - len(keep)} more_" if len(keep) < len(lines) else ""
        blocks.append(section_block(f"*{esc(g.label)}*\n" + "\n".join(keep) + more))
    if total == 0:
        blocks.append(section_block("No completed actions" + (f" since {fmt_date(since)}." if since else " yet.")))
    blocks.append(context_block(f"{total} completed action{'s' if total != 1 else ''}"))
    return fallback_text(f"{heading}: {total}"), fit_blocks(blocks)


# --- one action ---------------------------------------------------------------------------------------------------
def _owners_text(value: str | None) -> str:
    """An owner change's side as the history keeps it — initials and Slack users joined by " & " ("JM & U0JG") —
    with each Slack user as a mention and initials as written."""
    if not value:
        return "—"
    return " & ".join(f"<@{p}>" if is_user_id(p) else esc(p) for p in value.split(" & "))


def history_line(h: HistoryEntry, tz: dt.tzinfo) -> str:
    when = h.changed_at.astimezone(tz)
    who = f"<@{h.changed_by}>" if is_user_id(h.changed_by) else esc(h.changed_by)
    label = FIELD_LABEL.get(h.field, h.field)
    if h.field == "created":
        what = f"created ({esc(h.new_value or '')})"
    elif h.field == "note":
        what = "note"
    elif h.field == "owner":
        what = f"owner {_owners_text(h.old_value)} → {_owners_text(h.new_value)}"
    elif h.field == "title":
        what = f"title “{esc(clip(h.old_value or '', 80))}” → “{esc(clip(h.new_value or '', 80))}”"
    elif h.field in ("detail", "source", "evidence"):
        what = f"{label} changed"
    else:
        what = f"{label} {esc(h.old_value or '—')} → {esc(h.new_value or '—')}"
    if h.effective_on is not None and h.effective_on != when.date():
        what += f" (as of {h.effective_on.day} {h.effective_on:%b %Y})"  # recorded later than it happened
    note = f" — _{esc(clip(h.note, 300))}_" if h.note else ""
    return f"• {when.day} {when:%b %Y %H:%M} {who}: {what}{note}"


def render_action_card(
    a: ActionView, history: Sequence[HistoryEntry] = (), tz: dt.tzinfo = dt.UTC, *, interactive: bool = True
) -> Rendered:
    """One action: its fields, controls, and (newest first) its history. This is also the message the bot keeps
    in step in the channel when the action changes."""
    blocks: list[Blk] = [
        header_block(f"{a.reference} · {a.title}"),
        section_block(
            f"*{esc(a.reference)}* {esc(clip(a.title, 2000))}",
            item_menu(a) if interactive else None,
            block_id=f"act:{a.reference}",
        ),
        fields_block(
            [
                f"*Pillar*\n{esc(a.pillar_label)}",
                f"*Owner*\n{owner_mrkdwn(a)}",
                f"*Status*\n{STATUS_EMOJI.get(a.status, '')} {a.status}",
                f"*Due*\n{due_mrkdwn(a)}" + (f"\n*Completed* {completion_text(a)}" if a.completed_on else ""),
                f"*Source*\n{source_mrkdwn(a.source)}",
            ],
            block_id=f"card:{a.reference}",
        ),
    ]
    if a.detail:
        blocks.append(section_block(esc(clip(a.detail, MAX_SECTION_TEXT - 100))))
    if a.notes and not any(h.note == a.notes for h in history):
        # A note no history row carries: the log's own (a cancellation's reason, a transcription's caveat).
        blocks.append(context_block(f"Note: {esc(clip(a.notes, 1500))}"))
    if interactive and a.status not in ("complete", "cancelled"):
        buttons = []
        if "complete" in TRANSITIONS[a.status]:
            buttons.append(button("Done", f"{ACTION_PREFIX}done", value("status:complete", a), "primary"))
        buttons.append(button("Add a note", f"{ACTION_PREFIX}note", value("note", a)))
        buttons.append(button("Edit", f"{ACTION_PREFIX}edit", value("edit", a)))
        blocks.append(actions_block(buttons, f"ctl:{a.reference}"))
    if history:
        newest = list(reversed(history))
        lines = [history_line(h, tz) for h in newest[:HISTORY_SHOWN]]
        more = len(newest) - len(lines)
        text = "*History*\n" + "\n".join(lines) + (f"\n_…and {more} earlier_" if more else "")
        blocks.append(section_block(clip(text, MAX_SECTION_TEXT)))
    blocks.append(context_block(f"version {a.version} · updated {fmt_date(a.updated_at.astimezone(tz).date())}"))
    fallback = f"{a.reference} {a.title} · {a.owner_label} · {a.status} · {fmt_date(a.due_on)}"
    return esc(clip(fallback, MAX_FALLBACK)), fit_blocks(blocks)


def render_change_note(a: ActionView, written: Sequence[HistoryEntry], tz: dt.tzinfo) -> str:
    """The short thread reply under the bot's message about an action: what changed, by whom, why."""
    parts = [history_line(h, tz).lstrip("• ") for h in written if h.field != "completed_on"]
    return clip(f"{esc(a.reference)} updated: " + "; ".join(parts), MAX_FALLBACK)


def render_refusal(refusal: Refusal, tz: dt.tzinfo = dt.UTC) -> Rendered:
    """A refused change: why, and for a stale version what changed since and the current state."""
    blocks: list[Blk] = [section_block(f":no_entry: {esc(refusal.reason)}")]
    if refusal.code == "stale" and refusal.changes_since:
        lines = [history_line(h, tz) for h in refusal.changes_since[-HISTORY_SHOWN:]]
        blocks.append(section_block(clip("*Changed since you looked*\n" + "\n".join(lines), MAX_SECTION_TEXT)))
    if refusal.current is not None:
        a = refusal.current
        blocks.append(section_block(f"*Now:* {action_line(a)}", item_menu(a), f"act:{a.reference}"))
    blocks.append(context_block("Nothing was changed."))
    return esc(refusal.reason), fit_blocks(blocks)


def refresh_blocks(
    blocks: Sequence[dict[str, Any]], current: dict[str, ActionView], snoozed: str | None = None
) -> list[dict[str, Any]]:
    """``blocks`` of a list page or reminder with each item (``act:REF``) and its controls (``ctl:REF``) redrawn
    from ``current``: the new status and the new version in every control's value."""
    out: list[dict[str, Any]] = []
    for n, b in enumerate(blocks):
        bid = str(b.get("block_id", ""))
        ref = bid[4:]
        a = current.get(ref)
        if a is None or not bid.startswith(("act:", "ctl:")):
            out.append(dict(b))
            continue
        if bid.startswith("act:"):
            menu = item_menu(a, n) if b.get("accessory") else None
            if menu is not None:
                menu["action_id"] = (b.get("accessory") or {}).get("action_id") or menu["action_id"]
            out.append(section_block(action_line(a), menu, block_id=bid))
        elif snoozed == ref:
            out.append(context_block(f":zzz: I'll remind you about {esc(ref)} again in a week.") | {"block_id": bid})
        elif not a.is_live:
            out.append(context_block(f"{STATUS_EMOJI.get(a.status, '')} {esc(ref)} is {a.status}.") | {"block_id": bid})
        else:
            elements = []
            for el in b.get("elements") or []:
                el = dict(el)
                try:
                    op = parse_value(str(el.get("value", ""))).op
                except ValueError:
                    op = None
                if op is not None:
                    if op == "status:complete" and "complete" not in TRANSITIONS[a.status]:
                        continue
                    el["value"] = value(op, a)
                elements.append(el)
            out.append({**b, "elements": elements})
    return out


# --- modals -------------------------------------------------------------------------------------------------------
def _pillar_select(initial: str | None) -> StaticSelectElement:
    options = [_opt(label, slug) for slug, label in PILLARS.items()]
    init = next((o for o in options if o.value == initial), None)
    return StaticSelectElement(action_id="pillar", options=options, initial_option=init, placeholder="Choose a pillar")


def _text_input(
    action_id: str, initial: str | None, multiline: bool = False, max_length: int = MAX_INPUT_TEXT
) -> PlainTextInputElement:
    return PlainTextInputElement(
        action_id=action_id,
        initial_value=clip(initial, max_length) if initial else None,
        multiline=multiline,
        max_length=max_length,
    )


def action_form_blocks(
    *,
    title: str | None = None,
    detail: str | None = None,
    pillar: str | None = None,
    owner: str | None = None,
    due: dt.date | None = None,
    source: str | None = None,
) -> list[Block]:
    return [
        InputBlock(block_id="title", label="Title", element=_text_input("title", title, max_length=TITLE_MAX)),
        InputBlock(
            block_id="detail", label="Detail", optional=True, element=_text_input("detail", detail, multiline=True)
        ),
        InputBlock(block_id="pillar", label="Pillar", element=_pillar_select(pillar)),
        InputBlock(
            block_id="owner",
            label="Owner",
            optional=True,
            element=UserSelectElement(action_id="owner", initial_user=owner, placeholder="Who owns it?"),
        ),
        InputBlock(
            block_id="due_on",
            label="Due date",
            optional=True,
            element=DatePickerElement(action_id="due_on", initial_date=due.isoformat() if due else None),
        ),
        InputBlock(
            block_id="source",
            label="Source",
            hint="e.g. an HMICFRS recommendation, a meeting, or a link",
            optional=True,
            element=_text_input("source", source, max_length=500),
        ),
    ]


def add_modal(
    force: str,
    metadata: dict[str, Any],
    *,
    title: str | None = None,
    owner: str | None = None,
    source: str | None = None,
) -> dict:
    """The form to add an action to ``force``'s log (its slug rides in the metadata, checked on submit)."""
    view = View(
        type="modal",
        callback_id=CB_ADD,
        title="New action",
        submit="Add",
        close="Cancel",
        private_metadata=json.dumps({**metadata, "force": force})[:MAX_PRIVATE_METADATA],
        blocks=action_form_blocks(title=title, owner=owner, source=source),
    )
    return view.to_dict()


def edit_modal(a: ActionView, metadata: dict[str, Any]) -> dict:
    statuses = [a.status, *sorted(TRANSITIONS[a.status], key=STATUSES.index)]
    status_options = [_opt(s.capitalize(), s) for s in statuses]
    blocks: list[Blk | Block] = [
        section_block(f"*{esc(a.reference)}* · version {a.version}"),
        *action_form_blocks(
            title=a.title, detail=a.detail, pillar=a.pillar, owner=a.owner_user_id, due=a.due_on, source=a.source
        ),
        InputBlock(
            block_id="status",
            label="Status",
            element=StaticSelectElement(action_id="status", options=status_options, initial_option=status_options[0]),
        ),
        InputBlock(
            block_id="note",
            label="Note",
            hint="Required when putting the action on hold or cancelling it",
            optional=True,
            element=_text_input("note", None, multiline=True, max_length=2000),
        ),
    ]
    view = View(
        type="modal",
        callback_id=CB_EDIT,
        title=clip(f"Edit {a.reference}", MAX_VIEW_TITLE),
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({**metadata, "force": a.force, "ref": a.reference, "version": a.version})[
            :MAX_PRIVATE_METADATA
        ],
        blocks=blocks,
    )
    return view.to_dict()


def note_modal(a: ActionView, metadata: dict[str, Any], status: str | None = None) -> dict:
    label = "Why is it on hold?" if status == "held" else "Why is it cancelled?" if status == "cancelled" else "Note"
    title = {"held": "Put on hold", "cancelled": "Cancel action"}.get(status or "", "Add a note")
    view = View(
        type="modal",
        callback_id=CB_NOTE,
        title=clip(f"{title} {a.reference}", MAX_VIEW_TITLE),
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps(
            {**metadata, "force": a.force, "ref": a.reference, "version": a.version, "status": status}
        )[:MAX_PRIVATE_METADATA],
        blocks=[
            section_block(action_line(a)),
            InputBlock(
                block_id="note", label=label, element=_text_input("note", None, multiline=True, max_length=2000)
            ),
        ],
    )
    return view.to_dict()


# --- reminders and home -------------------------------------------------------------------------------------------
def render_reminder(r: OwnerReminder | Sequence[ActionView], force_name: str, more: int = 0) -> Rendered:
    """The weekly DM to one owner: each action with "Done", "Update" and "Remind me next week"."""
    actions = r.actions if isinstance(r, OwnerReminder) else tuple(r)
    overdue = [a for a in actions if a.overdue]
    blocks: list[Blk] = [
        section_block(
            f":wave: Your actions in the {esc(force_name)} Managing Offenders log that need a look: "
            f"{len(overdue)} overdue, {len(actions) - len(overdue)} due within 7 days."
        )
    ]
    for a in actions[:REMINDER_MAX]:
        blocks.append(section_block(action_line(a), block_id=f"act:{a.reference}"))
        if a.is_live:
            blocks.append(
                actions_block(
                    [
                        button("Done", f"{ACTION_PREFIX}done", value("status:complete", a), "primary"),
                        button("Update", f"{ACTION_PREFIX}edit", value("edit", a)),
                        button("Remind me next week", f"{ACTION_PREFIX}snooze", value("snooze", a)),
                    ],
                    f"ctl:{a.reference}",
                )
            )
    left = len(actions) - REMINDER_MAX + more if len(actions) > REMINDER_MAX else more
    if left > 0:
        blocks.append(context_block(f"…and {left} more: `/mo actions --owner me`"))
    blocks.append(
        context_block("You get this at most once a week per action. `/mo actions --owner me` lists them all.")
    )
    fallback = f"{len(overdue)} overdue and {len(actions) - len(overdue)} due-soon actions: " + ", ".join(
        a.reference for a in actions
    )
    return esc(fallback), fit_blocks(blocks)


def render_home(mine: Sequence[ActionView], overview: Overview, force_name: str, today: dt.date, *, force: str) -> dict:
    """App Home of a person of ``force`` (the slug, named by the "Add an action" button like every control)."""
    blocks: list[Blk] = [
        header_block("My actions"),
        actions_block([button("Add an action", f"{ACTION_PREFIX}add", f"add|{force}|-|0")], "home_add"),
    ]
    if not mine:
        blocks.append(section_block("You have no open actions. :tada:"))
    for n, a in enumerate(mine[:40]):
        blocks.append(section_block(action_line(a), item_menu(a, n), block_id=f"act:{a.reference}"))
    blocks.append(divider_block())
    blocks.append(header_block("The log by pillar"))
    for slug, label in PILLARS.items():
        counts = overview.counts.get(slug, {})
        parts = [f"{STATUS_EMOJI[s]} {s} {counts[s]}" for s in STATUSES if counts.get(s)]
        over = overview.overdue.get(slug, 0)
        if over:
            parts.append(f":warning: {over} overdue")
        blocks.append(section_block(f"*{esc(label)}*\n" + (" · ".join(parts) or "no actions")))
    blocks.append(context_block(f"{esc(force_name)} · as of {fmt_date(today)} · `/mo actions` for the full log"))
    return {"type": "home", "blocks": fit_blocks(blocks, MAX_VIEW_BLOCKS)}
