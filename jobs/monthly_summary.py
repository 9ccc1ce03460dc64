"""The monthly summary job: one message per force and channel — the month's headline figures as text — then
the four charts uploaded into that message's thread (``files_upload_v2``: files.getUploadURLExternal, the
upload, files.completeUploadExternal), each with alt text. A month with no data says so and uploads nothing.

Steps are recorded on the claim (1 = message posted, with its ts; 2 = charts uploaded), so a replica taking
over after a crash continues the thread instead of posting the header a second time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.audit import AuditEntry, record_separately
from bot.clock import today_in
from bot.config import Force
from bot.figures.types import Filters
from bot.runtime import Runtime
from bot.summary.monthly import MonthlySummary, build_summary
from jobs.runner import JobContext, JobFailed


def make_summary(rt: Runtime, force: Force, month: str, district: str | None = None) -> MonthlySummary:
    today = today_in(rt.clock, force.timezone)
    with rt.sessions() as session:
        return build_summary(session, rt.config, force, month, today, rt.clock.now(), Filters(district=district))


def chart_uploads(summary: MonthlySummary) -> list[dict[str, Any]]:
    """The four charts as ``files_upload_v2`` items (none for a month with no data). matplotlib loads here."""
    from bot.summary.charts import render_all

    return [
        {
            "content": c.png,
            "filename": c.filename(summary),
            "title": f"{c.title} — {summary.month_label}",
            "alt_txt": c.alt_text,
        }
        for c in render_all(summary)
    ]


def post_header(client: Any, channel: str, summary: MonthlySummary, charts: int, *, preview: bool = False) -> str:
    from bot.slack.render_summary import render_summary

    text, blocks = render_summary(summary, charts=charts, preview=preview)
    resp = client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
    return str(resp["ts"])


def upload_charts(client: Any, channel: str, thread_ts: str, uploads: list[dict[str, Any]]) -> None:
    if uploads:
        client.files_upload_v2(file_uploads=uploads, channel=channel, thread_ts=thread_ts)


def run(ctx: JobContext) -> str:
    target = ctx.target
    if target is None:
        raise JobFailed("monthly_summary needs a force and channel")
    rt = ctx.rt
    force = rt.config.force(target.force)
    client = ctx.slack()
    summary = make_summary(rt, force, ctx.period, target.district)
    charts = 4 if summary.has_data else 0
    ts = ctx.claim.posted_ts
    if ctx.claim.steps_done < 1 or ts is None:
        # The text first: the figures reach the channel even if rendering fails, and a channel the bot cannot
        # post in fails fast, before any chart is drawn. A retry resumes with the charts in this thread.
        ts = post_header(client, target.channel, summary, charts)
        ctx.step(1, posted_ts=ts)
    if ctx.claim.steps_done < 2 and charts:
        upload_charts(client, target.channel, ts, chart_uploads(summary))
        ctx.step(2)
    detail = f"summary {ctx.period} posted (ts {ts}), {charts} charts" if charts else f"no data for {ctx.period}"
    record_separately(
        rt.sessions,
        AuditEntry(
            actor="job:monthly_summary",
            action="post",
            outcome="ok",
            force=force.slug,
            channel_id=target.channel,
            detail=f"monthly summary {ctx.period}{' ' + target.district if target.district else ''}: {detail}",
        ),
        at=rt.clock.now(),
    )
    return detail


def default_month(rt: Runtime, force: Force) -> str:
    """The last complete month where the force is."""
    today = today_in(rt.clock, force.timezone)
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
