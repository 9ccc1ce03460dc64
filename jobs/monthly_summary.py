"""The monthly summary job: one message per force and channel — the month's headline figures as text — then
the four charts uploaded into that message's thread (``files_upload_v2``: files.getUploadURLExternal, the
upload, files.completeUploadExternal), each with alt text. A month with no data says so and uploads nothing.

Steps are recorded on the claim (1 = message posted, with its ts; 2 = charts uploaded), so a replica taking
over after a crash continues the thread instead of posting the header a second time.
"""

from __future__ import annotations

from bot.audit import AuditEntry, record_separately
from bot.slack.summary_post import chart_uploads, post_header, upload_charts
from bot.summary.monthly import make_summary
from jobs.context import JobContext, JobFailed


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
