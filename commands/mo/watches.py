"""`/mo watch` and `/mo watches`: lines on a count that DM their owner when an import crosses them
(:mod:`bot.watches`; fired by :mod:`jobs.watches` after each import)."""

from __future__ import annotations

import re

from bot.slack.render_watches import render_watch_added, render_watch_list
from bot.watches import FIGURES, WATCH_ROLE, TooManyWatches, WatchSpec, add_watch, holds, user_watches
from commands.mo import values as t
from commands.mo.args import ParsedArgs
from commands.mo.figures import REASON
from commands.mo.reply import AnswerContext, Reply
from commands.mo.specs import CommandSpec, FlagSpec, PositionalSpec, Registry, common


def _count(raw: str, _ctx: t.ParseContext) -> int:
    v = raw.strip().replace(",", "")
    if not v.isdigit() or len(v) > 9:
        raise t.BadValue(f"{raw!r} is not a count", "expected a whole number, e.g. 50")
    return int(v)


_PERCENT = re.compile(r"^(\d{1,4})\s*%?$")


def _percent(raw: str, _ctx: t.ParseContext) -> int:
    m = _PERCENT.match(raw.strip())
    if not m or int(m[1]) == 0:
        raise t.BadValue(f"{raw!r} is not a percentage", "expected e.g. 10%")
    return int(m[1])


COUNT = t.ValueType("count", "N", "a whole number, e.g. 50", _count, help_format=False)
PERCENT = t.ValueType("percent", "P%", "a percentage, e.g. 10%", _percent, help_format=False)
LINES = ("--above", "--below", "--change-above")


def register_commands(reg: Registry) -> None:
    reg.add(
        CommandSpec(
            name="watch",
            summary="DM me when an import takes a figure over (or under) a line",
            handler=handle_watch,
            positionals=(PositionalSpec("figure", "wanted, suspects, bail or rui", required=True),),
            flags=(
                common.DISTRICT,
                common.OFFENCE,
                REASON,
                common.OLDER_THAN,
                FlagSpec("--above", COUNT, "tell me when the figure goes above N"),
                FlagSpec("--below", COUNT, "tell me when the figure goes below N"),
                FlagSpec("--change-above", PERCENT, "tell me when an import moves the figure by more than P%"),
            ),
            examples=("watch rui --district ipswich --older-than 12m --above 50", "watch wanted --change-above 10%"),
            deferred=True,  # it writes: answered off the ack, written down first like every change
            min_role=WATCH_ROLE,
        )
    )
    reg.add(
        CommandSpec(
            name="watches",
            summary="Your watches, with a remove button each",
            handler=handle_watches,
            examples=("watches",),
            min_role=WATCH_ROLE,
        )
    )


def handle_watch(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    figure = args.positionals.get("figure", "").lower()
    if figure not in FIGURES:
        return ctx.invalid(f"`{figure}` is not a figure I can watch", f"figures: {', '.join(FIGURES)}")
    lines = [f for f in LINES if args.has(f)]
    if len(lines) != 1:
        return ctx.invalid("a watch needs exactly one line", "give one of --above N, --below N, --change-above P%")
    if args.has("reason") and figure != "wanted":
        return ctx.invalid("`--reason` applies to wanted only", "drop --reason, or watch wanted")
    line = lines[0]
    older = args.get("older_than")
    spec = WatchSpec(
        figure=figure,
        kind=line.lstrip("-").replace("-", "_"),
        threshold=int(args.get(line)),
        district=args.get("district"),
        offence=args.get("offence"),
        reason=args.get("reason"),
        older_than=str(older) if older else None,
    )
    try:
        _, value = add_watch(
            ctx.session, ctx.config, ctx.force, ctx.who.user_id, ctx.who.team_id, spec, ctx.today, ctx.now
        )
    except TooManyWatches as e:
        return ctx.refused(str(e))
    text, blocks = render_watch_added(spec.command(), value, holds(spec.kind, spec.threshold, value, None))
    return ctx.ok(text, blocks)


def handle_watches(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    text, blocks = render_watch_list(user_watches(ctx.session, ctx.force, ctx.who.user_id))
    return ctx.ok(text, blocks)
