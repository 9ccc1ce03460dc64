"""`/mo meeting [DATE]`: the subgroup's meeting dates. With a date (the chair, an admin) it adds a meeting, before
which the update round runs (``jobs.update_round``); without, it lists the meetings to come and when the round's
DMs go out."""

from __future__ import annotations

import datetime as dt

from bot.action_log import update_round
from bot.action_log.types import Actor
from bot.slack.escape import esc
from commands.mo import values as t
from commands.mo.args import ParsedArgs
from commands.mo.reply import AnswerContext, Reply
from commands.mo.specs import CommandSpec, PositionalSpec, Registry


def register_commands(reg: Registry) -> None:
    reg.add(
        CommandSpec(
            name="meeting",
            summary="The subgroup's meetings: list them, or (the chair) add one; owners are asked to update first",
            handler=handle_meeting,
            positionals=(PositionalSpec("date", "with a date: add the meeting on that day (admins)"),),
            aliases=("meetings",),
            examples=("meeting", "meeting 2026-12-15"),
        )
    )


def _fmt(d: dt.date) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}"


def _schedule_line(ctx: AnswerContext, meeting: dt.date) -> str:
    first, nudge = update_round.round_dates(ctx.force, meeting)
    if first < ctx.today and not update_round.round_started(ctx.session, ctx.force, meeting):
        # A meeting set (or a round not run) after its round's first day: the round's next run asks the owners
        # then, not on a day already gone.
        return (
            f"• *{_fmt(meeting)}* — owners asked to update at the round's next run: its first day, {_fmt(first)}, "
            "has passed"
        )
    nudged = f", nudged on {_fmt(nudge)}" if nudge > first else " (no nudge: the round is that short)"
    return f"• *{_fmt(meeting)}* — owners asked to update on {_fmt(first)}{nudged}"


def handle_meeting(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    raw = args.positionals.get("date", "")
    if raw:
        try:
            day = t.DATE.convert(raw, t.ParseContext(ctx.force, ctx.today))
        except t.BadValue as e:
            return ctx.invalid(f"{raw!r} is not a date", e.hint or t.DATE_FORMATS)
        actor = Actor(ctx.who.user_id, ctx.role, ctx.who.team_id, ctx.who.channel_id)
        already = day in update_round.meetings(ctx.session, ctx.force)
        refusal = update_round.set_meeting(ctx.session, ctx.force, actor, day, ctx.rt.clock)
        if refusal is not None:
            return ctx.refused(refusal.reason) if refusal.code == "not_allowed" else ctx.invalid(refusal.reason)
    coming = [m for m in update_round.meetings(ctx.session, ctx.force) if m >= ctx.today]
    if not coming:
        text = "No meeting is set. The chair can add one: `/mo meeting 2026-12-15`."
    else:
        lines = [_schedule_line(ctx, m) for m in coming[:10]]
        added = "" if not raw else f"The meeting on {_fmt(day)} was already set.\n" if already else (
            f"Added the meeting on {_fmt(day)}.\n"
        )  # fmt: skip
        text = f"{added}*{esc(ctx.force.name)} meetings to come*\n" + "\n".join(lines)
    return ctx.ok(text.replace("*", ""), [{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
