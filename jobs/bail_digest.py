"""The daily bail-deadline digest for the bail management channel: how many active pre-charge bail periods
end within the configured window, by who must authorise the next extension and by district. Counts only —
case references stay with `/mo bail --list` (analysts, ephemeral)."""

from __future__ import annotations

import datetime as dt

from bot.audit import AuditEntry, record
from bot.figures.bail import bail_figures
from bot.figures.types import Filters
from bot.freshness import Freshness, freshness, latest_import
from bot.slack.render_summary import render_bail_digest
from jobs.context import JobContext, JobFailed

# Enough rows to count every deadline in the window (the figures service caps its list for answers).
DIGEST_CAP = 100_000


def run(ctx: JobContext) -> str:
    target = ctx.target
    if target is None:
        raise JobFailed("bail_digest needs a force and channel")
    rt = ctx.rt
    force = rt.config.force(target.force)
    day = dt.date.fromisoformat(ctx.period)
    with rt.sessions() as session:
        fig = bail_figures(
            session,
            force,
            day,
            Filters(district=target.district),
            ending_within_days=rt.config.bail_ending_soon_days,
            ending_soon_cap=DIGEST_CAP,
        )
        batch = latest_import(session, force.slug, "bail")
        fresh: Freshness = freshness(
            rt.config,
            "bail",
            batch.imported_at if batch else None,
            rt.clock.now(),
            batch.as_of if batch else None,
            tz=force.timezone,
        )
    label = force.district_label(target.district) if target.district else None
    labels = {d: force.district_label(d) for d in fig.lapsed_bail_by_district}
    text, blocks = render_bail_digest(fig, force, label, day, fresh, labels)
    resp = ctx.slack().chat_postMessage(channel=target.channel, text=text, blocks=blocks, unfurl_links=False)
    ctx.step(1, posted_ts=str(resp["ts"]))
    with rt.sessions() as session:
        record(
            session,
            AuditEntry(
                actor="job:bail_digest",
                action="post",
                outcome="ok",
                force=force.slug,
                channel_id=target.channel,
                detail=f"bail digest {ctx.period}: {fig.lapsed_bail} lapsed, {fig.bail_ending_soon_total} ending "
                f"within {fig.bail_ending_within_days} days",
            ),
            at=rt.clock.now(),
        )
        session.commit()
    return (
        f"{fig.lapsed_bail} bail periods lapsed, {fig.bail_ending_soon_total} ending within "
        f"{fig.bail_ending_within_days} days"
    )
