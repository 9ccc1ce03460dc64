"""`/mo wanted`, `suspects`, `bail`, `rui` and `status`: thin handlers — arguments → figures service → Block Kit.

Figures come through :mod:`bot.figures.cache` (they only change when data is imported); case lists and dataset
freshness (which depends on the clock) are always read fresh.

(`/mo help` is answered by the pipeline itself from the registry.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.coverage import covered_from
from bot.dates import a_month_before
from bot.disclosures import record_disclosures
from bot.figures import Filters, cache
from bot.figures.cases import bail_ending_soon, offence_groups, open_cases
from bot.figures.month_ago import active_known_then, with_month_ago_known_then
from bot.figures.trend import trend
from bot.figures.types import WANTED_REASONS
from bot.freshness import dataset_freshness, freshness, latest_import, rebuilt_from, revised_up_to
from bot.slack.render_figures import (
    Frame,
    Rendered,
    filter_lines,
    render_bail,
    render_case_list,
    render_no_data,
    render_not_covered,
    render_rui,
    render_status,
    render_suspects,
    render_wanted,
)
from bot.slack.render_trend import render_trend
from commands.mo import values as t
from commands.mo.args import ParsedArgs
from commands.mo.reply import AnswerContext, Reply
from commands.mo.specs import CommandSpec, FlagSpec, Registry, common

REASON = FlagSpec(
    "--reason",
    t.choice(
        *WANTED_REASONS,
        aliases={"never-arrested": "never_arrested", "ftab": "failed_to_answer_bail", "breach": "bail_breach"},
        metavar="REASON",
    ),
    "why the person is wanted",
)
TREND = FlagSpec(
    "--trend",
    t.SWITCH,
    "month by month over the last 12 months: the count at each month's end, and opened and closed in it",
    conflicts=(
        ("--list", "a trend counts cases, a list names them: ask for one"),
        ("--older-than", "a case's age changes from one month end to the next; filter by district, offence or reason"),
        ("--expiring", "bail ending soon is counted for one day; ask `/mo bail --expiring` on its own"),
    ),
)
EXPIRING = FlagSpec(
    "--expiring",
    t.DURATION,
    "bail ending within this long (default: 14 days, unless the bot is configured otherwise)",
    metavar="PERIOD",
)


def register_commands(reg: Registry) -> None:
    base = (common.DISTRICT, common.OFFENCE, common.AS_OF, common.OLDER_THAN, TREND)
    reg.add(
        CommandSpec(
            name="wanted",
            summary="Wanted persons: open circulations, change on a month ago, reviews overdue",
            handler=handle_wanted,
            flags=(*base, REASON, common.LIST, common.SHARE),
            examples=(
                "wanted --district ipswich",
                "wanted --reason never-arrested --older-than 90d",
                "wanted --trend --district lowestoft",
                "wanted --list",
            ),
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
            examples=("rui --district ipswich", "rui --trend", "rui --older-than 12m --list"),
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
    older: t.Duration | None = args.get("older_than")
    return filter_lines(args.get("offence"), args.get("reason"), older.words() if older else None)


def _frame(ctx: AnswerContext, args: ParsedArgs, as_of: dt.date, dataset: str) -> Frame:
    imported_at, file_as_of = _latest_import(ctx, dataset)
    rests_on = first = None
    if file_as_of is not None and as_of < file_as_of:  # a past date (today's answers skip the cache lookups)
        rests_on = cache.cached(
            ctx.db, ctx.force.slug, dataset, ("revised_up_to", as_of),
            lambda: revised_up_to(ctx.session, ctx.force.slug, dataset, as_of, file_as_of),
        )  # fmt: skip
        first = cache.cached(
            ctx.db, ctx.force.slug, dataset, ("rebuilt_from", as_of),
            lambda: rebuilt_from(ctx.session, ctx.force.slug, dataset, as_of),
        )  # fmt: skip
    return Frame(
        force=ctx.force,
        district=args.get("district"),
        as_of=as_of,
        freshness=freshness(ctx.config, dataset, imported_at, ctx.now, file_as_of, tz=ctx.force.timezone),
        filters=_descriptions(args),
        covered_from=_covered_from(ctx, dataset),
        rests_on=rests_on,
        first_export=first,
        opened_before=_filters(args, as_of).opened_before(as_of),
        reason=args.get("reason"),
    )


def _latest_import(ctx: AnswerContext, dataset: str) -> tuple[dt.datetime | None, dt.date | None]:
    """When the latest import ran and its file's as-of date (freshness follows the data's own date), kept per
    import — so an answer's frame, and hence its rendered key, is known before any figure is computed."""

    def read() -> tuple[dt.datetime | None, dt.date | None]:
        batch = latest_import(ctx.session, ctx.force.slug, dataset)
        return (batch.imported_at, batch.as_of) if batch is not None else (None, None)

    return cache.cached(ctx.db, ctx.force.slug, dataset, ("latest_import",), read)


def _covered_from(ctx: AnswerContext, dataset: str) -> dt.date | None:
    return cache.cached(
        ctx.db, ctx.force.slug, dataset, ("covered_from",), lambda: covered_from(ctx.session, ctx.force.slug, dataset)
    )


NOT_COVERED_TITLES = {
    "wanted": "Wanted",
    "suspects": "Outstanding suspects",
    "bail": "Pre-charge bail",
    "rui": "Released under investigation",
}


def _not_covered(ctx: AnswerContext, args: ParsedArgs, command: str) -> Reply | None:
    """A date before the data's coverage gets "no <dataset> data before <date>", not a confident zero."""
    dataset = "bail" if command == "rui" else command
    as_of = _as_of(ctx, args)
    start = _covered_from(ctx, dataset)
    if start is None:
        if _latest_import(ctx, dataset)[1] is not None:
            return None
        # Nothing imported at all: every date is before the data, and a zero would be a figure nobody counted.
        frame = _frame(ctx, args, as_of, dataset)
        text, blocks = render_no_data(NOT_COVERED_TITLES[command], dataset, frame)
        return ctx.ok(text, blocks)
    if as_of >= start:
        return None
    frame = _frame(ctx, args, as_of, dataset)
    text, blocks = render_not_covered(NOT_COVERED_TITLES[command], dataset, frame)
    return ctx.ok(text, blocks)


def _unknown_offence(ctx: AnswerContext, args: ParsedArgs, dataset: str) -> Reply | None:
    """An ``--offence`` naming no offence group in the data gets a did-you-mean, not a page of zeros."""
    wanted: str | None = args.get("offence")
    if not wanted:
        return None
    source = "bail" if dataset in ("bail", "rui") else dataset
    groups = cache.cached(
        ctx.db, ctx.force.slug, source, ("offence_groups",), lambda: offence_groups(ctx.session, source, ctx.force)
    )
    by_key = {g.strip().lower(): g for g in groups}
    if not groups or wanted.strip().lower() in by_key:
        return None
    close = t.did_you_mean(wanted.strip().lower(), list(by_key))
    guess = f"did you mean `{by_key[close[0]]}`? " if close else ""
    return ctx.invalid(
        f"`--offence`: no offence group {wanted!r} in the {ctx.force.name} data",
        f"{guess}offence groups: {', '.join(groups)}",
    )


def _list(ctx: AnswerContext, args: ParsedArgs, dataset: str, *, ending_within_days: int | None = None) -> Reply:
    as_of = _as_of(ctx, args)
    cap = ctx.config.slack.list_cap
    cases = open_cases(
        ctx.session,
        dataset,
        ctx.force,
        as_of,
        _filters(args, as_of),
        cap,
        ending_within_days=ending_within_days,
        review_days=ctx.config.wanted_review_days,
    )
    if dataset != "bail":
        order = "the oldest first"
    elif ending_within_days is None:
        order = "lapsed first, then the soonest bail end dates"
    else:
        order = "the soonest bail end dates first"  # lapsed bail is not ending within a window: it has ended
    source = "bail" if dataset == "rui" else dataset
    frame = _frame(ctx, args, as_of, source)
    text, blocks, shown = render_case_list(dataset, cases, frame, cap, order, ending_within_days=ending_within_days)
    # Which references were shown, so a data subject's consultations can be listed (bot.disclosures).
    record_disclosures(
        ctx.session,
        force=ctx.force.slug,
        dataset=dataset,
        actor=ctx.who.user_id,
        team_id=ctx.who.team_id,
        channel_id=ctx.who.channel_id,
        command=args.text,
        references=[c.reference for c in cases.rows[:shown]],
        at=ctx.now,
    )
    return ctx.ok(text, blocks, records_disclosed=shown)


def _trend(ctx: AnswerContext, args: ParsedArgs, dataset: str) -> Reply:
    """The last 12 months and the current one, each month end as known then (the answer is cached per import)."""
    as_of = _as_of(ctx, args)
    source = "bail" if dataset == "rui" else dataset
    frame = _frame(ctx, args, as_of, source)
    filters = _filters(args, as_of)
    return _rendered(
        ctx,
        args,
        source,
        as_of,
        frame,
        lambda: render_trend(trend(ctx.session, dataset, ctx.force, as_of, filters), frame),
    )


def _ending_days(ctx: AnswerContext, args: ParsedArgs, as_of: dt.date) -> int:
    """The bail-ending-soon window this request asks for: ``--expiring``, else the config's."""
    expiring: t.Duration | None = args.get("expiring")
    return ctx.config.bail_window(expiring.days(as_of) if expiring else None)


def _active_a_month_ago(ctx: AnswerContext, args: ParsedArgs, month_ago: dt.date) -> dict[str, int]:
    """Active bail and RUI a month back, as known that day (bot/figures/month_ago.py)."""
    then = _filters(args, month_ago)
    return cache.cached(
        ctx.db,
        ctx.force.slug,
        "bail",
        ("active_known_then", month_ago, then),
        lambda: active_known_then(ctx.session, ctx.force, month_ago, then),
    )


def _rendered(
    ctx: AnswerContext, args: ParsedArgs, dataset: str, as_of: dt.date, frame: Frame, render: Callable[[], Rendered]
) -> Reply:
    """The rendered answer, reused until the dataset's next import: rendering through slack_sdk (which validates
    every block) costs more than reading the cached figures. The key holds everything the layout depends on —
    the typed arguments (hence filters and their descriptions), the date and whether the data is stale."""
    stale = frame.freshness.stale if frame.freshness else True
    values = tuple(sorted((k, v) for k, v in args.values.items() if k != "share"))
    key = ("rendered", args.command, values, as_of, stale)
    text, blocks = cache.cached(ctx.db, ctx.force.slug, dataset, key, render)
    return ctx.ok(text, list(blocks))


# --- handlers ------------------------------------------------------------------------------------------------------
def handle_wanted(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    if bad := _unknown_offence(ctx, args, "wanted"):
        return bad
    if early := _not_covered(ctx, args, "wanted"):
        return early
    if args.has("trend"):
        return _trend(ctx, args, "wanted")
    if args.has("list"):
        return _list(ctx, args, "wanted")
    as_of = _as_of(ctx, args)
    review_days = ctx.config.wanted_review_days
    frame = _frame(ctx, args, as_of, "wanted")
    filters = _filters(args, as_of)
    month_ago = a_month_before(as_of)

    def render() -> Rendered:
        # The "N on <a month ago>": the same question asked that day (bot/figures/month_ago.py).
        fig = with_month_ago_known_then(
            cache.wanted(ctx.db, ctx.force, as_of, filters, review_days=review_days), month_ago, frame.covered_from,
            lambda: cache.wanted(ctx.db, ctx.force, month_ago, _filters(args, month_ago), review_days=review_days),
        )  # fmt: skip
        # Outcomes and people read the table (not the covering indexes): once per import, with the rendering.
        full = cache.with_outcomes(ctx.db, ctx.force, fig, filters)
        return render_wanted(full, frame, month_ago, review_days)

    return _rendered(ctx, args, "wanted", as_of, frame, render)


def handle_suspects(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    if bad := _unknown_offence(ctx, args, "suspects"):
        return bad
    if early := _not_covered(ctx, args, "suspects"):
        return early
    if args.has("trend"):
        return _trend(ctx, args, "suspects")
    if args.has("list"):
        return _list(ctx, args, "suspects")
    as_of = _as_of(ctx, args)
    frame = _frame(ctx, args, as_of, "suspects")
    filters = _filters(args, as_of)
    month_ago = a_month_before(as_of)

    def render() -> Rendered:
        fig = with_month_ago_known_then(
            cache.suspects(ctx.db, ctx.force, as_of, filters), month_ago, frame.covered_from,
            lambda: cache.suspects(ctx.db, ctx.force, month_ago, _filters(args, month_ago)),
        )  # fmt: skip
        full = cache.with_outcomes(ctx.db, ctx.force, fig, filters)
        return render_suspects(full, frame, month_ago)

    return _rendered(ctx, args, "suspects", as_of, frame, render)


def handle_bail(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    if bad := _unknown_offence(ctx, args, "bail"):
        return bad
    if early := _not_covered(ctx, args, "bail"):
        return early
    if args.has("trend"):
        return _trend(ctx, args, "bail")
    as_of = _as_of(ctx, args)
    days = _ending_days(ctx, args, as_of)
    if args.has("list"):
        return _list(ctx, args, "bail", ending_within_days=days if args.has("expiring") else None)
    filters = _filters(args, as_of)
    frame = _frame(ctx, args, as_of, "bail")
    month_ago = a_month_before(as_of)

    def render() -> Rendered:
        # Ending-soon is counted in full by bail_ending_soon; the figures' capped row list is not needed here.
        fig = cache.bail(ctx.db, ctx.force, as_of, filters, ending_within_days=days, ending_soon_cap=1)
        before = _active_a_month_ago(ctx, args, month_ago)
        soon = bail_ending_soon(ctx.session, ctx.force, as_of, filters, days)
        full = cache.with_outcomes(ctx.db, ctx.force, fig, filters)
        return render_bail(full, frame, month_ago, before, soon, window=args.has("expiring"))

    return _rendered(ctx, args, "bail", as_of, frame, render)


def handle_rui(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    if bad := _unknown_offence(ctx, args, "rui"):
        return bad
    if early := _not_covered(ctx, args, "rui"):
        return early
    if args.has("trend"):
        return _trend(ctx, args, "rui")
    if args.has("list"):
        return _list(ctx, args, "rui")
    as_of = _as_of(ctx, args)
    filters = _filters(args, as_of)
    # The RUI view shows no ending-soon part, but asks with `/mo bail`'s default options (`rui` takes no
    # --expiring) so that the two views of the same filters share one cached computation of the bail figures.
    days = _ending_days(ctx, args, as_of)
    frame = _frame(ctx, args, as_of, "bail")
    month_ago = a_month_before(as_of)

    def render() -> Rendered:
        fig = cache.bail(ctx.db, ctx.force, as_of, filters, ending_within_days=days, ending_soon_cap=1)
        full = cache.with_outcomes(ctx.db, ctx.force, fig, filters)
        before = _active_a_month_ago(ctx, args, month_ago)
        return render_rui(full, frame, month_ago, before)

    return _rendered(ctx, args, "bail", as_of, frame, render)


def handle_status(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    entries = dataset_freshness(ctx.session, ctx.config, ctx.force, ctx.now)
    text, blocks = render_status(ctx.force, entries)
    return ctx.ok(text, blocks)
