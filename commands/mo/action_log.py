"""`/mo actions`, `/mo action …` and `/mo achievements`: the strategy action log through the one `/mo` parser.

Thin handlers: parsed arguments → the action services (bot.action_log) → Block Kit (bot.slack.render_actions).
Changes are committed before Slack is told (cards updated in place, thread note, App Home), so a Slack hiccup
never loses a change. Reads are audited by the pipeline's command event; changes by the services too.

A new owner (``--owner @someone``) must be one of the force's people: the handler asks Slack which workspaces they
are in (``bot.slack.action_log_sync.owner_teams``) and the rules refuse anyone from elsewhere. A change is made
once per slash command: its ``trigger_id`` is claimed with the change, so the same request arriving again (a
replay) adds no second action and no second note.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import replace
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.action_log import export, paper, paper_docx, queries, rules, service
from bot.action_log.service import normalise_reference
from bot.action_log.types import (
    PILLARS,
    STATUSES,
    ActionChange,
    ActionFilters,
    ActionPage,
    Actor,
    ChangeResult,
    NewAction,
)
from bot.dates import day_month_year
from bot.slack import action_log_sync
from bot.slack.escape import esc
from bot.slack.render_actions import (
    FIELD_LABEL,
    add_modal,
    render_achievements,
    render_action_card,
    render_action_list,
    render_digest,
    render_refusal,
)
from commands.mo import values as t
from commands.mo.args import ParsedArgs
from commands.mo.reply import AnswerContext, Reply
from commands.mo.specs import CommandSpec, FlagSpec, PositionalSpec, Registry

log = logging.getLogger("mo_bot.actions")

DIGEST_MAX = 1000
EXPORT_FORMATS = ("xlsx", "csv")


# --- value types of the action flags --------------------------------------------------------------------------------
def _owner(raw: str, ctx: t.ParseContext) -> str:
    v = raw.strip()
    if re.fullmatch(r"[A-Za-z]{2,4}", v) and v.lower() != "me":
        return v.upper()  # initials from the imported log, e.g. HH
    return t.USER_OR_ME.convert(raw, ctx)


def _pillar(raw: str, _ctx: t.ParseContext) -> str:
    slug = rules.resolve_pillar(raw)
    if slug is None:
        close = t.did_you_mean(raw.strip().lower(), ["detect", "divert", "deliver", "demonstrate"])
        guess = f"did you mean `{close[0]}`? " if close else ""
        raise t.BadValue(f"{raw!r} is not a pillar", f"{guess}pillars: {rules.pillar_choices()}")
    return slug


def _page(raw: str, _ctx: t.ParseContext) -> int:
    if not raw.strip().isdigit() or int(raw) < 1 or int(raw) > 10_000:
        raise t.BadValue(f"{raw!r} is not a page number", "expected a whole number from 1, e.g. --page 2")
    return int(raw)


def _long_text(raw: str, _ctx: t.ParseContext) -> str:
    v = raw.strip()
    if not v:
        raise t.BadValue("is empty")
    if len(v) > 2000:
        raise t.BadValue("is longer than 2,000 characters")
    return v


OWNER_T = t.ValueType("owner", "@USER|me|INITIALS", "a Slack @mention, me, or an owner's initials", _owner)
PILLAR_T = t.ValueType("pillar", "PILLAR", "detect, divert, deliver or demonstrate (or the pillar's name)", _pillar)
PAGE_T = t.ValueType("page", "N", "a page number from 1", _page)
LONG_TEXT = t.ValueType("text", "TEXT", "words (quotes optional)", _long_text)
STATUS_T = t.choice(
    *STATUSES,
    "all",
    aliases={
        "done": "complete",
        "completed": "complete",
        "hold": "held",
        "on-hold": "held",
        "in-progress": "ongoing",
        "canceled": "cancelled",
    },
    metavar="STATUS",
)
CHANGE_STATUS_T = t.choice(
    *STATUSES,
    aliases={"done": "complete", "completed": "complete", "hold": "held", "on-hold": "held", "canceled": "cancelled"},
    metavar="STATUS",
)

PILLAR = FlagSpec("--pillar", PILLAR_T, "one pillar of the strategy", greedy=True)
OWNER = FlagSpec("--owner", OWNER_T, "whose actions: @user, me, or initials such as HH")
SHARE_DIGEST = FlagSpec(
    "--share",
    t.SWITCH,
    "post to the channel (with --overdue: the digest of every overdue action) — the chair and admins",
    min_role="admin",
    conflicts=(("--export", "the export is sent to you only"), ("--paper", "the paper is sent to you only")),
)
CHANGE_FLAGS = (
    "--status",
    "--owner",
    "--add-owner",
    "--remove-owner",
    "--due",
    "--note",
    "--pillar",
    "--source",
    "--evidence",
    "--detail",
    "--title",
    "--on",
)
KIND_T = t.choice(
    "action", "achievement", "hmic", "all",
    aliases={"actions": "action", "achievements": "achievement", "hmicfrs": "hmic", "recommendation": "hmic"},
    metavar="KIND",
)  # fmt: skip
KIND = FlagSpec("--kind", KIND_T, "action (default), achievement, hmic (HMIC recommendations) or all")
PAPER_FORMATS = ("docx", "xlsx", "csv")


def register_commands(reg: Registry) -> None:
    reg.add(
        CommandSpec(
            name="actions",
            summary="The strategy action log, grouped by pillar, with controls to update each action",
            handler=handle_actions,
            flags=(
                OWNER,
                FlagSpec("--status", STATUS_T, "only actions with this status (default: open, ongoing and held)"),
                PILLAR,
                FlagSpec("--overdue", t.SWITCH, "only actions past their due date"),
                FlagSpec("--due-within", t.DURATION, "only actions due within this long, e.g. 14d", metavar="PERIOD"),
                FlagSpec("--page", PAGE_T, "another page of a long list"),
                SHARE_DIGEST,
                KIND,
                FlagSpec("--export", t.SWITCH, "send me the log as a spreadsheet by DM (as the papers show it)"),
                FlagSpec(
                    "--paper",
                    t.SWITCH,
                    "send me the paper for the meeting by DM: Actions, Achievements and HMIC Recommendations",
                    conflicts=(("--export", "the paper and the export are two different files: ask for one"),),
                ),
                FlagSpec(
                    "--format",
                    t.choice(*PAPER_FORMATS),
                    "with --export: xlsx (default) or csv; with --paper: docx (default), xlsx or csv",
                ),
            ),
            examples=(
                "actions --owner me",
                "actions --kind hmic",
                "actions --paper",
                "actions --pillar divert --status held",
                "actions --due-within 14d",
                "actions --overdue --share",
                "actions --export",
            ),
            deferred_flags=("--export", "--paper"),
        )
    )
    reg.add(
        CommandSpec(
            name="hmic",
            summary="The HMIC recommendations by pillar (tracked apart from the actions)",
            handler=handle_hmic,
            flags=(
                OWNER,
                FlagSpec("--status", STATUS_T, "only recommendations with this status (default: open, ongoing, held)"),
                PILLAR,
                FlagSpec("--page", PAGE_T, "another page of a long list"),
            ),
            examples=("hmic", "hmic --status all"),
        )
    )
    reg.add(
        CommandSpec(
            name="action",
            summary="One action: show it with its history, add one, or change it",
            handler=handle_action,
            positionals=(
                PositionalSpec("ref", "an action reference such as A-12, or `add`", required=True),
                PositionalSpec("title", "with `add`: the new action's title (in quotes)", rest=True),
            ),
            flags=(
                FlagSpec("--status", CHANGE_STATUS_T, "new status (held and cancelled need --note)"),
                FlagSpec("--note", LONG_TEXT, "a note for the history: why, what happened", greedy=True),
                FlagSpec("--owner", t.USER_OR_ME, "new owner: @user or me (the only owner from then on)"),
                FlagSpec("--add-owner", t.USER_OR_ME, "a further owner: @user or me (the others stay)"),
                FlagSpec("--remove-owner", OWNER_T, "take one owner off a joint action: @user, me or initials"),
                FlagSpec("--due", t.DATE, "new due date"),
                FlagSpec("--on", t.DATE, "the day the change took effect, when recorded later (not in the future)"),
                PILLAR,
                FlagSpec("--title", LONG_TEXT, "new title", greedy=True),
                FlagSpec("--detail", LONG_TEXT, "new detail", greedy=True),
                FlagSpec("--source", LONG_TEXT, "where it came from, e.g. an HMICFRS recommendation", greedy=True),
                FlagSpec("--evidence", LONG_TEXT, "what shows an HMIC recommendation is met", greedy=True),
                FlagSpec("--post", t.SWITCH, "post the action in this channel and keep that message up to date"),
            ),
            examples=(
                "action A-12",
                'action add "Deep dive into OOCD breaches" --pillar divert --owner @someone --due 2026-12-31',
                "action add",
                'action A-12 --status complete --note "Report to the October meeting"',
                'action A-12 --status held --note "awaiting MOJ data"',
                "action A-12 --status complete --on 2026-11-17",
                "action A-12 --owner @someone --due 2027-01-31",
                "action A-6 --add-owner @someone",
                "action A-6 --remove-owner JG",
            ),
            deferred_flags=(*CHANGE_FLAGS, "--post"),
        )
    )
    reg.add(
        CommandSpec(
            name="achievements",
            summary="Completed actions by pillar (the log's Achievements)",
            handler=handle_achievements,
            flags=(
                FlagSpec("--since", t.DATE, "completed on or after this date"),
                FlagSpec("--share", t.SWITCH, "post the list in the channel"),
            ),
            examples=("achievements", "achievements --since 2026-04-01"),
        )
    )


# --- shared steps -------------------------------------------------------------------------------------------------
def actor_of(ctx: AnswerContext) -> Actor:
    return Actor(ctx.who.user_id, ctx.role, ctx.who.team_id, ctx.who.channel_id)


def filters_from(ctx: AnswerContext, args: ParsedArgs) -> ActionFilters:
    owner = args.get("owner")
    if owner == "me":
        owner = ctx.who.user_id
    status = args.get("status")
    statuses: tuple[str, ...] = ()
    if status == "all":
        statuses = STATUSES
    elif status:
        statuses = (status,)
    within: t.Duration | None = args.get("due_within")
    return ActionFilters(
        owner=owner,
        statuses=statuses,
        pillar=args.get("pillar"),
        overdue=bool(args.get("overdue")),
        due_within_days=within.days(ctx.today) if within else None,
        kind=args.get("kind") or "action",
    )


def filters_json(f: ActionFilters, force: str) -> str:
    """What a page button carries: the list's force (slug) and filters."""
    data: dict[str, Any] = {
        "f": force, "o": f.owner, "s": list(f.statuses), "p": f.pillar, "od": f.overdue, "dw": f.due_within_days,
    }  # fmt: skip
    if f.kind != "action":
        data["k"] = f.kind
    return json.dumps(data, separators=(",", ":"))


def filters_from_json(raw: str) -> tuple[str | None, ActionFilters, int]:
    """The force (None on a button from before buttons named it), filters and page a page button carries (built by
    :func:`filters_json`); unknown values are dropped."""
    d: dict[str, Any] = json.loads(raw)
    pillar = d.get("p")
    force = d.get("f")
    return (
        force if isinstance(force, str) else None,
        ActionFilters(
            owner=str(d["o"]) if d.get("o") else None,
            statuses=tuple(s for s in d.get("s") or () if s in STATUSES),
            pillar=rules.resolve_pillar(str(pillar)) if pillar else None,
            overdue=bool(d.get("od")),
            due_within_days=int(d["dw"]) if d.get("dw") is not None else None,
            kind=d["k"] if d.get("k") in ("achievement", "hmic", "all") else "action",
        ),
        max(1, int(d.get("page") or 1)),
    )


def heading_for(f: ActionFilters, me: str | None = None) -> str:
    title = {"hmic": "HMIC recommendations", "achievement": "Achievements", "all": "Action log, every kind"}
    parts = []
    if f.owner:
        parts.append(
            "yours" if f.owner == me else f"owner {f.owner}" if not f.owner.startswith(("U", "W")) else "one owner's"
        )
    if f.overdue:
        parts.append("overdue")
    if f.due_within_days is not None:
        parts.append(f"due within {f.due_within_days} days")
    if f.statuses and set(f.statuses) != set(STATUSES):
        parts.append(", ".join(f.statuses))
    elif f.statuses:
        parts.append("every status")
    if f.pillar:
        parts.append(PILLARS.get(f.pillar, f.pillar))  # the pillar's name, as the log and the paper give it
    return title.get(f.kind, "Action log") + (" — " + "; ".join(parts) if parts else "")


def refusal_reply(result: ChangeResult, tz: Any) -> Reply:
    assert result.refusal is not None
    text, blocks = render_refusal(result.refusal, tz)
    outcome = "invalid" if result.refusal.code in ("invalid", "unchanged", "not_found") else "refused"
    return Reply(text=text, blocks=blocks, outcome=outcome)


def _once(ctx: AnswerContext) -> str | None:
    """The key of this slash command (Slack's ``trigger_id``, one per invocation): its change is made once."""
    trigger = ctx.slack.trigger_id if ctx.slack else None
    return f"cmd:{trigger}" if trigger else None


def _channel_for_posts(ctx: AnswerContext) -> str | None:
    """Where a card about a new action goes: the channel the command came from, if the bot answers there."""
    ch = ctx.who.channel_id
    if ch and ch in ctx.config.slack.channels:
        return ch
    return None


# --- /mo actions --------------------------------------------------------------------------------------------------
def handle_actions(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    f = filters_from(ctx, args)
    actor = actor_of(ctx)
    if args.has("paper"):
        return _paper(ctx, args, actor)
    if args.has("export"):
        if (args.get("format") or "xlsx") not in EXPORT_FORMATS:
            return ctx.invalid(f"`--format {args.get('format')}` goes with `--paper`", "the export is xlsx or csv")
        return _export(ctx, args, f, actor)
    if args.has("format"):
        return ctx.invalid("`--format` goes with `--export` or `--paper`", "e.g. `/mo actions --export --format csv`")
    if args.has("share") and f.overdue:
        page = queries.list_actions(
            ctx.session, ctx.force, actor, f, ctx.today, ctx.now, page=1, page_size=DIGEST_MAX, audit=False
        )
        text, blocks = render_digest(page.groups, page.total, ctx.force.name, ctx.today)
        return ctx.ok(text, blocks)
    page = queries.list_actions(
        ctx.session, ctx.force, actor, f, ctx.today, ctx.now, page=args.get("page") or 1, audit=False
    )
    if unknown := _unknown_owner(ctx, f, page):
        return unknown
    if past := _past_the_end(ctx, args, page):
        return past
    text, blocks = render_action_list(
        page,
        heading_for(f, ctx.who.user_id),
        interactive=not args.has("share"),
        page_value=filters_json(f, ctx.force.slug),
    )
    return ctx.ok(text, blocks)


def _export(ctx: AnswerContext, args: ParsedArgs, f: ActionFilters, actor: Actor) -> Reply:
    fmt = args.get("format") or "xlsx"
    rows = export.export_rows(ctx.session, ctx.force, actor, ctx.now, pillar=f.pillar, statuses=f.statuses)
    name = f"actions-{ctx.force.slug}-{ctx.today.isoformat()}.{fmt}"
    data = export.xlsx_bytes(rows) if fmt == "xlsx" else export.csv_bytes(rows)
    client = ctx.slack.client if ctx.slack else None
    if client is None:
        return ctx.invalid(
            "the export is sent by Slack DM", f"in the terminal use `mo-bot actions export --format {fmt} --out FILE`"
        )
    try:
        dm = client.conversations_open(users=ctx.who.user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=dm,
            file=data,
            filename=name,
            title=f"{ctx.force.name} action log, {ctx.today.isoformat()}",
            initial_comment=f"The action log as the papers show it: {len(rows)} actions.",
        )
    except SlackApiError as e:
        log.warning("mo-bot: could not send the export to %s: %s", ctx.who.user_id, e.response.get("error"))
        return ctx.refused("I couldn't send you the file by DM. Open a DM with me and try again.")
    return ctx.ok(
        f"Sent you {name} by DM ({len(rows)} actions).",
        [{"type": "section", "text": {"type": "mrkdwn", "text": f":page_facing_up: Sent you *{esc(name)}* by DM "
          f"({len(rows)} action{'s' if len(rows) != 1 else ''})."}}],
    )  # fmt: skip


def _paper(ctx: AnswerContext, args: ParsedArgs, actor: Actor) -> Reply:
    fmt = args.get("format") or "docx"
    client = ctx.slack.client if ctx.slack else None
    if client is None:
        return ctx.invalid(
            "the paper is sent by Slack DM", f"in the terminal use `mo-bot actions paper --format {fmt} --out FILE`"
        )
    doc = paper.build_paper(ctx.session, ctx.force, actor, ctx.today, ctx.now)
    data = {"docx": paper_docx.docx_bytes, "xlsx": paper.xlsx_bytes, "csv": paper.csv_bytes}[fmt](doc)
    name = f"action-log-paper-{ctx.force.slug}-{ctx.today.isoformat()}.{fmt}"
    counts = ", ".join(f"{s.count} {s.title}" for s in doc.sections)
    try:
        dm = client.conversations_open(users=ctx.who.user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=dm,
            file=data,
            filename=name,
            title=f"{ctx.force.name} action log paper, {ctx.today.isoformat()}",
            initial_comment=f"The paper for the meeting: {counts}.",
        )
    except SlackApiError as e:
        log.warning("mo-bot: could not send the paper to %s: %s", ctx.who.user_id, e.response.get("error"))
        return ctx.refused("I couldn't send you the file by DM. Open a DM with me and try again.")
    return ctx.ok(
        f"Sent you {name} by DM ({counts}).",
        _note_blocks(f":page_facing_up: Sent you *{esc(name)}* by DM ({esc(counts)})."),
    )


def handle_hmic(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    f = replace(filters_from(ctx, args), kind="hmic")
    page = queries.list_actions(
        ctx.session, ctx.force, actor_of(ctx), f, ctx.today, ctx.now, page=args.get("page") or 1, audit=False
    )
    if past := _past_the_end(ctx, args, page):
        return past
    text, blocks = render_action_list(
        page, heading_for(f, ctx.who.user_id), interactive=True, page_value=filters_json(f, ctx.force.slug)
    )
    return ctx.ok(text, blocks)


def _unknown_owner(ctx: AnswerContext, f: ActionFilters, page: ActionPage) -> Reply | None:
    """``--owner XX`` naming nobody in the log: said, with the initials that are, rather than "No actions match"."""
    if page.total or page.elsewhere or not f.owner or f.owner == ctx.who.user_id or rules.is_user_id(f.owner):
        return None
    known = queries.owner_initials(ctx.session, ctx.force)
    if f.owner.strip().upper() in known:
        return None
    return ctx.invalid(
        f"`--owner {f.owner}`: nobody of that name owns an item in the log",
        f"owners: {', '.join(known) or 'none yet'} (or a person, e.g. `--owner @name`, or `--owner me`)",
    )


def _past_the_end(ctx: AnswerContext, args: ParsedArgs, page: ActionPage) -> Reply | None:
    """A ``--page`` after the last: said, rather than the last page shown under the number asked for."""
    asked = args.get("page") or 1
    if asked <= page.pages or page.total == 0:
        return None
    pages = "is 1 page" if page.pages == 1 else f"are {page.pages} pages"
    return ctx.invalid(f"`--page {asked}`: there {pages} of these", f"pages go from 1 to {page.pages}")


# --- /mo action ---------------------------------------------------------------------------------------------------
def handle_action(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    what = args.positionals.get("ref", "")
    title = args.positionals.get("title", "")
    if what.lower() == "add":
        return _add(ctx, args, title)
    if title:
        return ctx.invalid(
            f"`/mo action {what}` does not take {title!r}",
            'to change an action use flags, e.g. `--status complete --note "…"`; to add one: `/mo action add "title"`',
        )
    ref = normalise_reference(what)
    if not re.fullmatch(r"A-\d+", ref):
        return ctx.invalid(f"{what!r} is not an action reference", "references look like A-12; or `/mo action add`")
    if any(args.has(f) for f in CHANGE_FLAGS):
        return _change(ctx, args, ref)
    detail = queries.get_action(ctx.session, ctx.force, actor_of(ctx), ref, ctx.today, ctx.now, audit=False)
    if detail is None:
        return ctx.invalid(f"there is no action {ref}", "`/mo actions` lists them")
    if args.has("post"):
        return _post(ctx, ref)
    text, blocks = render_action_card(detail.action, detail.history, ctx.force.timezone)
    return ctx.ok(text, blocks)


def _post(ctx: AnswerContext, ref: str) -> Reply:
    channel = _channel_for_posts(ctx)
    client = ctx.slack.client if ctx.slack else None
    if channel is None or client is None:
        return ctx.invalid("`--post` works in a channel where I answer", "use it in the subgroup's channel")
    ts = action_log_sync.post_card(ctx.rt, client, ctx.force, ref, channel)
    if ts is None:
        return ctx.refused("I couldn't post in this channel; is the bot a member?")
    return ctx.ok(f"Posted {ref} in the channel.", _note_blocks(f"Posted *{ref}* here; I'll keep it up to date."))


def _note_blocks(mrkdwn: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}]


def _add(ctx: AnswerContext, args: ParsedArgs, title: str) -> Reply:
    client = ctx.slack.client if ctx.slack else None
    if not title:
        if client is None or not (ctx.slack and ctx.slack.trigger_id):
            return ctx.invalid(
                "the form to add an action opens in Slack",
                'here give the title and pillar: `action add "title" --pillar divert`',
            )
        metadata = {"channel": _channel_for_posts(ctx)}
        view = add_modal(ctx.force.slug, metadata, owner=ctx.who.user_id)
        return ctx.opening("Opening the form to add an action…", view)
    if not args.has("pillar"):
        return ctx.invalid("a new action needs a pillar", f"add `--pillar P`: {rules.pillar_choices()}")
    owner = args.get("owner")
    owner = ctx.who.user_id if owner in (None, "me") and ctx.who.user_id[:1] in "UW" else owner
    owner = owner if owner and owner != "me" else None
    result = service.create_action(
        ctx.session,
        ctx.force,
        actor_of(ctx),
        NewAction(
            title=title,
            pillar=args.get("pillar"),
            owner_user_id=owner,
            due_on=args.get("due"),
            detail=args.get("detail"),
            source=args.get("source"),
            status=args.get("status") or "open",
            note=args.get("note"),
            owner_teams=action_log_sync.owner_teams(client, ctx.force, owner, ctx.who.user_id),
            once=_once(ctx),
        ),
        ctx.rt.clock,
    )
    if not result.ok:
        return refusal_reply(result, ctx.force.timezone)
    assert result.action is not None
    ctx.session.commit()
    a = result.action
    if client is not None:
        channel = _channel_for_posts(ctx)
        if channel:
            action_log_sync.post_card(ctx.rt, client, ctx.force, a.reference, channel)
        action_log_sync.after_change(ctx.rt, client, ctx.force, a.reference, (), also_refresh=(ctx.who.user_id,))
    text, blocks = render_action_card(a, result.written, ctx.force.timezone)
    return ctx.ok(f"Added {a.reference}. " + text, blocks)


def _change(ctx: AnswerContext, args: ParsedArgs, ref: str) -> Reply:
    row = queries.find_view(ctx.session, ctx.force, ref, ctx.today)
    if row is None:
        return ctx.invalid(f"there is no action {ref}", "`/mo actions` lists them")
    given = [f for f in ("owner", "add_owner", "remove_owner") if args.get(f)]
    if len(given) > 1:
        named = " and ".join("--" + f.replace("_", "-") for f in given)
        return ctx.invalid(f"{named} can't be used together", "one owner change at a time")
    me = ctx.who.user_id
    owner = args.get("owner") or args.get("add_owner")
    if owner == "me":
        owner = me
    removed = args.get("remove_owner")
    client = ctx.slack.client if ctx.slack else None
    change = ActionChange(
        reference=ref,
        seen_version=row.version,  # typed against what is there now; the write itself is still conditional
        status=args.get("status"),
        owner_user_id=owner,
        add_owner=bool(args.get("add_owner")),
        remove_owner=me if removed == "me" else removed,
        due_on=args.get("due"),
        title=args.get("title"),
        detail=args.get("detail"),
        pillar=args.get("pillar"),
        source=args.get("source"),
        evidence=args.get("evidence"),
        note=args.get("note"),
        owner_teams=action_log_sync.owner_teams(client, ctx.force, owner, ctx.who.user_id),
        once=_once(ctx),
        on=args.get("on"),
    )
    result = service.change_action(ctx.session, ctx.force, actor_of(ctx), change, ctx.rt.clock)
    if not result.ok:
        return refusal_reply(result, ctx.force.timezone)
    assert result.action is not None
    ctx.session.commit()
    if client is not None:
        action_log_sync.after_change(
            ctx.rt, client, ctx.force, ref, result.written, also_refresh=(ctx.who.user_id, *row.owner_ids)
        )
    text, blocks = render_action_card(result.action, (), ctx.force.timezone)
    changed = ", ".join(sorted({FIELD_LABEL.get(h.field, h.field) for h in result.written}))
    dated = f", dated {day_month_year(result.written[0].effective_on)}" if result.written[0].effective_on else ""
    warned = "".join(f"\n:warning: {esc(w)}" for w in result.warnings)
    return ctx.ok(
        f"Updated {ref} ({changed}{dated}). " + " ".join(result.warnings) + text,
        _note_blocks(f":white_check_mark: Updated *{ref}* ({esc(changed)}{dated}).{warned}") + blocks,
    )


# --- /mo achievements ---------------------------------------------------------------------------------------------
def handle_achievements(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    since: dt.date | None = args.get("since")
    groups = queries.achievements(ctx.session, ctx.force, actor_of(ctx), since, ctx.today, ctx.now, audit=False)
    text, blocks = render_achievements(groups, since)
    return ctx.ok(text, blocks)
