"""`/mo summary [--month YYYY-MM] [--post]`: the monthly summary on demand.

Without ``--post`` the requester gets a preview by DM — the same message and charts the channel would get.
With ``--post`` (admins) it goes to the force's configured channel(s) now, through the scheduler's exactly-once
claims: if this month's summary is already there, it is not posted again. Both are deferred (ack first, answer
through response_url): the charts need matplotlib, which never loads on the ack path.
"""

from __future__ import annotations

from bot.dates import last_complete_month
from bot.slack.blocks import MessageBuilder
from bot.slack.escape import esc
from bot.slack.summary_post import chart_uploads, post_header, upload_charts
from bot.summary.monthly import make_summary, month_refusal, summary_text
from commands.mo import values as t
from commands.mo.args import ParsedArgs
from commands.mo.reply import AnswerContext, Reply
from commands.mo.specs import CommandSpec, FlagSpec, Registry
from jobs.runner import JobRunner

MONTH = FlagSpec("--month", t.MONTH, "which month, once it is over (default: the last complete month)")
POST = FlagSpec("--post", t.SWITCH, "post it to the summary channel now (admins; never twice)", min_role="admin")


def register_commands(reg: Registry) -> None:
    reg.add(
        CommandSpec(
            name="summary",
            summary="The monthly summary with charts: a preview by DM, or (admins) post it to the channel",
            handler=handle_summary,
            flags=(MONTH, POST),
            examples=("summary", "summary --month 2026-10", "summary --post"),
            deferred=True,
        )
    )


def handle_summary(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    month = args.get("month") or last_complete_month(ctx.today)
    refusal = month_refusal(month, ctx.today)
    if refusal is not None:
        return ctx.invalid(f"`--month {month}`: {refusal}", "pick a month that has ended, e.g. `--month "
                           f"{last_complete_month(ctx.today)}`")  # fmt: skip
    if args.has("post"):
        return _post(ctx, month)
    return _preview(ctx, month)


def _preview(ctx: AnswerContext, month: str) -> Reply:
    summary = make_summary(ctx.rt, ctx.force, month)
    client = ctx.slack.client if ctx.slack else None
    if client is None:
        # The terminal (`mo-bot ask`): the figures as text; the PNGs come from `mo-bot summary --out DIR`.
        text = summary_text(summary)
        if summary.has_data:  # a month with no data has no charts to write
            text += f"\nCharts: mo-bot summary --month {month} --out DIR\n"
        b = MessageBuilder().header(f"Monthly summary — {summary.month_label}")
        b.section(esc(text))
        return ctx.ok(*b.build())
    dm = client.conversations_open(users=ctx.who.user_id)["channel"]["id"]
    uploads = chart_uploads(summary)
    ts = post_header(client, dm, summary, len(uploads), preview=True)
    upload_charts(client, dm, ts, uploads)
    what = f"with {len(uploads)} charts" if uploads else "(no data for that month, so no charts)"
    b = MessageBuilder().section(
        f":envelope: I've sent you a preview of the {summary.month_label} summary by DM {what}."
    )
    b.context(f"Admins can post it to the channel with `/mo summary --post --month {month}`.")
    return ctx.ok(*b.build())


def _post(ctx: AnswerContext, month: str) -> Reply:
    client = ctx.slack.client if ctx.slack else None
    spec = ctx.config.jobs.specs["monthly_summary"]
    if not any(tg.force == ctx.force.slug for tg in spec.targets):
        return ctx.invalid(
            f"no summary channel is configured for {ctx.force.name}",
            "set slack.summary_channels (or jobs.monthly_summary.posts) in the config",
        )
    results = JobRunner(ctx.rt, client).run_now("monthly_summary", month, scope=ctx.force.slug)
    lines = []
    for r in results:
        where = f"<#{r.key.channel}>"
        if r.outcome == "done":
            lines.append(f":white_check_mark: Posted the {month} summary to {where}.")
        elif r.outcome == "skipped":
            lines.append(f":information_source: Not posted again to {where}: {esc(r.detail)}.")
        elif r.outcome == "uncertain":
            lines.append(
                f":warning: Slack did not answer, so the summary may or may not be in {where}; it will not be posted "
                "again automatically. Look there, and post it again only if it is missing."
            )
        else:
            lines.append(
                f":warning: Could not post to {where}: `{esc(r.detail)}` — admins were told; it will be retried."
            )
    b = MessageBuilder().section("\n".join(lines))
    return ctx.ok(*b.build())
