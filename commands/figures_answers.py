"""`/mo wanted`, `suspects`, `bail`, `rui` and `status`: thin handlers — arguments → figures service → Block Kit.

Figures come through :mod:`bot.figures.cache` (they only change when data is imported); case lists and dataset
freshness (which depends on the clock) are always read fresh.

(`/mo help` is answered by the pipeline itself from the registry.)
"""

from __future__ import annotations

import datetime as dt

from bot.conversation import AnswerContext, Reply
from bot.figures import Filters, cache
from bot.figures.cases import active_by_kind_at, open_cases
from bot.figures.dates import a_month_before
from bot.figures.types import WANTED_REASONS
from bot.freshness import Freshness, dataset_freshness
from bot.slack.render_figures import (
    REASON_LABELS,
    Frame,
    render_bail,
    render_case_list,
    render_rui,
    render_status,
    render_suspects,
    render_wanted,
)
from commands import types as t
from commands.parser import ParsedArgs
from commands.registry import CommandSpec, FlagSpec, Registry, common

REASON = FlagSpec(
    "--reason",
    t.choice(
        *WANTED_REASONS,
        aliases={"never-arrested": "never_arrested", "ftab": "failed_to_answer_bail", "breach": "bail_breach"},
        metavar="REASON",
    ),
    "why the person is wanted",
)
EXPIRING = FlagSpec(
    "--expiring", t.DURATION, "bail ending within this long (default: 14d, from the config)", metavar="PERIOD"
)


def register_commands(reg: Registry) -> None:
    base = (common.DISTRICT, common.OFFENCE, common.AS_OF, common.OLDER_THAN)
    reg.add(
        CommandSpec(
            name="wanted",
            summary="Wanted persons: open circulations, change on a month ago, reviews overdue",
            handler=handle_wanted,
            flags=(*base, REASON, common.LIST, common.SHARE),
            examples=("wanted --district ipswich", "wanted --reason never-arrested --older-than 90d", "wanted --list"),
        )
    )
    reg.add(
        CommandSpec(
            name="suspects",
            summary="Outstanding suspects: identified, not yet arrested or dealt with",
            handler=handle_suspects,
            flags=(*base, common.LIST, common.SHARE),
            aliases=("suspect",),
            examples=("suspects --district lowestoft", "suspects --offence burglary --older-than 6m"),
        )
    )
    reg.add(
        CommandSpec(
            name="bail",
            summary="Pre-charge bail: active, length, bail ending soon and who must extend it",
            handler=handle_bail,
            flags=(*base, EXPIRING, common.LIST, common.SHARE),
            examples=("bail --expiring 14d", "bail --district bury --list --expiring 7d"),
        )
    )
    reg.add(
        CommandSpec(
            name="rui",
            summary="Released under investigation: active RUI and how long it has run",
            handler=handle_rui,
            flags=(*base, common.LIST, common.SHARE),
            examples=("rui --district ipswich", "rui --older-than 12m --list"),
        )
    )
    reg.add(
        CommandSpec(
            name="status",
            summary="When each dataset was last imported, and whether it is stale",
            handler=handle_status,
            flags=(common.SHARE,),
            examples=("status",),
        )
    )


# --- shared steps -------------------------------------------------------------------------------------------------
def _as_of(ctx: AnswerContext, args: ParsedArgs) -> dt.date:
    value: dt.date | None = args.get("as_of")
    return value or ctx.today


def _filters(args: ParsedArgs, as_of: dt.date) -> Filters:
    older: t.Duration | None = args.get("older_than")
    return Filters(
        district=args.get("district"),
        offence=args.get("offence"),
        reason=args.get("reason"),
        older_than_days=older.days(as_of) if older else None,
    )


def _descriptions(args: ParsedArgs) -> list[str]:
    out = []
    if args.has("offence"):
        out.append(f"offence: {args.get('offence')}")
    if args.has("reason"):
        out.append(f"reason: {REASON_LABELS.get(args.get('reason'), args.get('reason'))}")
    if args.has("older_than"):
        out.append(f"opened over {args.get('older_than')} ago")
    return out


def _freshness(ctx: AnswerContext, dataset: str) -> Freshness | None:
    for f in dataset_freshness(ctx.session, ctx.config, ctx.force, ctx.now):
        if f.dataset == dataset:
            return f
    return None


def _frame(ctx: AnswerContext, args: ParsedArgs, as_of: dt.date, dataset: str) -> Frame:
    return Frame(
        force=ctx.force,
        district=args.get("district"),
        as_of=as_of,
        freshness=_freshness(ctx, dataset),
        filters=_descriptions(args),
    )


def _list(ctx: AnswerContext, args: ParsedArgs, dataset: str, *, ending_within_days: int | None = None) -> Reply:
    as_of = _as_of(ctx, args)
    cap = ctx.config.slack.list_cap
    cases = open_cases(
        ctx.session, dataset, ctx.force, as_of, _filters(args, as_of), cap, ending_within_days=ending_within_days
    )
    order = "the soonest bail end dates first" if dataset == "bail" else "the oldest first"
    frame = _frame(ctx, args, as_of, "bail" if dataset == "rui" else dataset)
    text, blocks, shown = render_case_list(dataset, cases, frame, cap, order)
    return ctx.ok(text, blocks, records_disclosed=shown)


def _ending_days(ctx: AnswerContext, args: ParsedArgs, as_of: dt.date) -> int:
    expiring: t.Duration | None = args.get("expiring")
    return expiring.days(as_of) if expiring else ctx.config.bail_ending_soon_days


def _active_a_month_ago(ctx: AnswerContext, as_of: dt.date, month_ago: dt.date, filters: Filters) -> dict[str, int]:
    return cache.cached(
        ctx.session,
        ctx.force.slug,
        "bail",
        ("active_by_kind_at", as_of, month_ago, filters),
        lambda: active_by_kind_at(ctx.session, ctx.force, as_of, month_ago, filters),
    )


# --- handlers ------------------------------------------------------------------------------------------------------
def handle_wanted(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    if args.has("list"):
        return _list(ctx, args, "wanted")
    as_of = _as_of(ctx, args)
    fig = cache.wanted(ctx.session, ctx.force, as_of, _filters(args, as_of), review_days=ctx.config.wanted_review_days)
    text, blocks = render_wanted(
        fig, _frame(ctx, args, as_of, "wanted"), a_month_before(as_of), ctx.config.wanted_review_days
    )
    return ctx.ok(text, blocks)


def handle_suspects(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    if args.has("list"):
        return _list(ctx, args, "suspects")
    as_of = _as_of(ctx, args)
    fig = cache.suspects(ctx.session, ctx.force, as_of, _filters(args, as_of))
    text, blocks = render_suspects(fig, _frame(ctx, args, as_of, "suspects"), a_month_before(as_of))
    return ctx.ok(text, blocks)


def handle_bail(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    as_of = _as_of(ctx, args)
    days = _ending_days(ctx, args, as_of)
    if args.has("list"):
        return _list(ctx, args, "bail", ending_within_days=days if args.has("expiring") else None)
    filters = _filters(args, as_of)
    fig = cache.bail(ctx.session, ctx.force, as_of, filters, ending_within_days=days)
    month_ago = a_month_before(as_of)
    before = _active_a_month_ago(ctx, as_of, month_ago, filters)
    text, blocks = render_bail(fig, _frame(ctx, args, as_of, "bail"), month_ago, before)
    return ctx.ok(text, blocks)


def handle_rui(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    if args.has("list"):
        return _list(ctx, args, "rui")
    as_of = _as_of(ctx, args)
    filters = _filters(args, as_of)
    # The ending-soon part of the bail figures is not shown in the RUI view; keep that query minimal.
    fig = cache.bail(ctx.session, ctx.force, as_of, filters, ending_within_days=0, ending_soon_cap=1)
    month_ago = a_month_before(as_of)
    before = _active_a_month_ago(ctx, as_of, month_ago, filters)
    text, blocks = render_rui(fig, _frame(ctx, args, as_of, "bail"), month_ago, before)
    return ctx.ok(text, blocks)


def handle_status(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    entries = dataset_freshness(ctx.session, ctx.config, ctx.force, ctx.now)
    text, blocks = render_status(ctx.force, entries)
    return ctx.ok(text, blocks)
